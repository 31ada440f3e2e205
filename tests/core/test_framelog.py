"""stomp_core._framelog: the frame-log text every driver writes."""

from __future__ import annotations

from stomp_core import Ack, Connect, Frame, FrameLog, Send, frame_log


def test_a_frame_event_is_shown_with_its_headers_and_body() -> None:
    text = frame_log.format(Send(destination="/queue/a", body=b"hello"), sent=True)
    assert text.startswith("sent SEND destination='/queue/a'")
    assert text.endswith("body=b'hello'")


def test_passcodes_and_authorization_headers_are_masked() -> None:
    connect = Connect(
        host="/",
        login="guest",
        passcode="s3cret",
        headers=(("Authorization", "Bearer abc"), ("x-api-key", "k"), ("client-id", "c")),
    )
    text = frame_log.format(connect, sent=True)
    assert "s3cret" not in text
    assert "Bearer" not in text
    assert "'k'" not in text
    assert "passcode='********'" in text
    assert "Authorization='********'" in text
    assert "login='guest'" in text
    assert "client-id='c'" in text


def test_bodies_are_shortened_to_the_configured_length() -> None:
    log = FrameLog(max_body=4)
    text = log.format(Frame("MESSAGE", (("destination", "/q"),), b"0123456789"), sent=False)
    assert text == "received MESSAGE destination='/q' body=b'0123'...(+6 bytes)"
    assert FrameLog(max_body=0).format_parts("SEND", (), "abc", sent=True) == (
        "sent SEND body=(3 bytes)"
    )
    assert (
        log.format_parts("SEND", {"a": 1}.items(), "ab", sent=True) == "sent SEND a='1' body=b'ab'"
    )


def test_the_version_names_the_headers_of_an_event() -> None:
    assert "id='a-1'" in frame_log.format(Ack(id="a-1"), sent=True, version="1.2")
    assert "message-id='a-1'" in frame_log.format(Ack(id="a-1"), sent=True, version="1.1")


def test_a_heartbeat_has_a_line_of_its_own() -> None:
    assert frame_log.format_parts("heartbeat", (), None, sent=False) == "received heart-beat"


def test_masked_parts_can_be_changed() -> None:
    log = FrameLog(masked_parts=("Login",))
    assert log.is_secret("login")
    assert not log.is_secret("passcode")

"""stomp_core._framelog: the frame-log text every driver writes."""

from __future__ import annotations

from stomp_core import (
    CLIENT,
    SERVER,
    Ack,
    Config,
    Connect,
    Connected,
    Connection,
    Frame,
    FrameLog,
    IncompleteMessage,
    LoggedConnection,
    Send,
    frame_log,
)

from .helpers import drain


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


def test_a_logged_connection_reports_every_frame_both_ways() -> None:
    lines: list[str] = []
    client = LoggedConnection(CLIENT, Config(accept_incomplete_messages=True), write=lines.append)
    server = Connection(SERVER)
    client.send(Connect(host="/", passcode="s3cret", heart_beat=(0, 1000)), now=0.0)
    server.receive_data(client.data_to_send(now=0.0), now=0.0)
    drain(server)
    server.send(Connected(version="1.2", heart_beat=(1000, 0)), now=0.0)
    client.receive_data(server.data_to_send(now=0.0), now=0.0)
    # A MESSAGE without its subscription header (delivered as IncompleteMessage), then
    # a heart-beat.
    client.receive_data(b"MESSAGE\ndestination:/q\nmessage-id:1\n\nhi\x00", now=0.5)
    events = drain(client)
    client.receive_data(b"\n", now=0.5)
    drain(client)
    assert any(isinstance(event, IncompleteMessage) for event in events)
    assert lines[0].startswith("sent CONNECT ")
    assert "s3cret" not in lines[0]
    assert lines[1:] == [
        "received CONNECTED version='1.2' heart-beat='1000,0'",
        "received MESSAGE destination='/q' message-id='1' body=b'hi'",
        "received heart-beat",
    ]

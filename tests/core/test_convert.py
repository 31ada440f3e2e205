"""Event <-> frame mapping and the headers each version requires."""

from __future__ import annotations

import pytest

from stomp_core import (
    CLIENT,
    Ack,
    Connection,
    LocalProtocolError,
    Message,
    RemoteProtocolError,
    Send,
)
from stomp_core._convert import event_headers, event_to_frame, frame_to_event
from stomp_core._frame import Frame
from stomp_core._versions import rules_for

from .helpers import ConnectionPair


def test_repeated_standard_header_goes_to_extras() -> None:
    """conformance 42-43: first occurrence is the field, later ones stay in headers."""
    frame = Frame("SEND", (("destination", "/a"), ("destination", "/b"), ("x", "1")), b"")
    event = frame_to_event(frame, rules_for("1.2"))
    assert isinstance(event, Send)
    assert event.destination == "/a"
    assert event.headers == (("destination", "/b"), ("x", "1"))


def test_send_content_length_opt_out() -> None:
    """conformance 34: content-length is added unless the user opts out."""
    rules = rules_for("1.2")
    with_length = event_to_frame(Send(destination="/q", body=b"abc"), rules)
    assert with_length.get("content-length") == "3"
    without = event_to_frame(Send(destination="/q", body=b"abc", content_length=False), rules)
    assert without.get("content-length") is None


def test_ack_header_per_version() -> None:
    """conformance 78."""
    ack = Ack(id="m1", subscription="s")
    assert event_to_frame(ack, rules_for("1.2")).headers[0] == ("id", "m1")
    assert event_to_frame(ack, rules_for("1.1")).headers[0] == ("message-id", "m1")
    assert event_to_frame(ack, None).headers[0] == ("message-id", "m1")


def test_ack_needs_subscription_in_11() -> None:
    pair = ConnectionPair()
    pair.connect("1.1")
    with pytest.raises(LocalProtocolError, match="'subscription'"):
        pair.client.send(Ack(id="m1"), now=0)


def test_message_needs_subscription_in_12() -> None:
    """conformance 87 / decision 94: strict."""
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(b"MESSAGE\ndestination:/q\nmessage-id:1\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="'subscription'"):
        pair.client.next_event()


def test_message_without_message_id_is_fatal() -> None:
    pair = ConnectionPair()
    pair.connect("1.1")
    pair.client.receive_data(b"MESSAGE\ndestination:/q\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="'message-id'"):
        pair.client.next_event()


def test_ack_without_id_is_fatal_for_the_server() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.server.receive_data(b"ACK\nmessage-id:1\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="'id'"):
        pair.server.next_event()


def test_unsubscribe_without_id_or_destination_is_fatal() -> None:
    pair = ConnectionPair()
    pair.connect("1.0")
    pair.server.receive_data(b"UNSUBSCRIBE\nx:y\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="UNSUBSCRIBE"):
        pair.server.next_event()


def test_subscribe_ack_defaults_to_auto() -> None:
    """Spec 1.2 "SUBSCRIBE": a missing ack header means auto."""
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.server.receive_data(b"SUBSCRIBE\ndestination:/q\nid:0\n\n\x00", now=0)
    event = pair.server.next_event()
    assert getattr(event, "ack", None) == "auto"


def test_message_round_trip_keeps_extras() -> None:
    rules = rules_for("1.2")
    message = Message(
        destination="/q",
        message_id="1",
        subscription="0",
        body=b"x",
        content_type="text/plain",
        headers=(("priority", "4"),),
    )
    assert frame_to_event(event_to_frame(message, rules), rules) == message


def test_resume_without_heartbeats_is_harmless() -> None:
    client = Connection(CLIENT)
    client.pause_receive_timeout(now=0)
    client.resume_receive_timeout(now=1)
    assert client.get_timer() is None


def test_event_headers_is_the_wire_view() -> None:
    message = Message(
        destination="/q",
        message_id="1",
        subscription="0",
        body=b"abc",
        headers=(("x", "1"), ("x", "2"), ("destination", "/later")),
    )
    assert event_headers(message) == {
        "destination": "/q",
        "message-id": "1",
        "subscription": "0",
        "content-length": "3",
        "x": "1",
    }
    assert event_headers(Ack(id="a", subscription="s"), "1.2")["id"] == "a"
    assert event_headers(Ack(id="a", subscription="s"))["message-id"] == "a"

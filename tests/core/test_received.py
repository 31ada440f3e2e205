"""The read-only message view shared by the async drivers."""

from __future__ import annotations

import pytest

from stomp_core import Message
from stomp_core.client import ReceivedMessage


def test_view_of_a_message() -> None:
    event = Message(
        destination="/q",
        message_id="m1",
        subscription="0",
        body="h\u00e9".encode("latin-1"),
        content_type="text/plain;charset=latin-1",
        headers=(("x", "1"), ("x", "2")),
    )
    view = ReceivedMessage(event)
    assert view.event is event
    assert view.body == b"h\xe9"
    assert view.text == "h\u00e9"
    assert view.destination == "/q"
    assert view.message_id == "m1"
    assert view.content_type == "text/plain;charset=latin-1"
    assert view.headers["x"] == "1"
    assert view.headers is view.headers  # built once
    with pytest.raises(TypeError):
        view.headers["x"] = "3"  # type: ignore[index]

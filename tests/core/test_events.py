"""Events: validation at construction, the parsed fast path, header lookups."""

from __future__ import annotations

import dataclasses

import pytest

from stomp_core import (
    Ack,
    Connect,
    Connected,
    Error,
    LocalProtocolError,
    Message,
    Nack,
    Send,
    Subscribe,
    Unsubscribe,
)
from stomp_core._events import FRAME_EVENTS
from stomp_core._versions import ALL_COMMANDS, RULES


def test_events_are_frozen_slotted_keyword_only() -> None:
    send = Send(destination="/q", body=b"x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        send.destination = "/other"  # type: ignore[misc]
    assert not hasattr(send, "__dict__")
    with pytest.raises(TypeError):
        Send("/q")  # type: ignore[misc]


def test_events_compare_hash_and_repr_like_dataclasses() -> None:
    """Equality, hashing and repr are written once on Event (issue 13: import time), and
    must behave as the dataclass-generated ones did."""
    a = Send(destination="/q", body=b"x", headers=(("k", "v"),))
    b = Send(destination="/q", body=b"x", headers=(("k", "v"),))
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != Send(destination="/q", body=b"y")
    assert repr(a) == (
        "Send(headers=(('k', 'v'),), destination='/q', body=b'x', content_type=None,"
        " transaction=None, receipt=None, content_length=True)"
    )
    assert hash(a) == hash(tuple(getattr(a, f.name) for f in dataclasses.fields(a)))
    # Another class never compares equal, even with the same fields (a Nack is no Ack).
    assert Ack(id="1") != Nack(id="1")
    assert Ack(id="1").__eq__(object()) is NotImplemented
    # compare=False and repr=False fields are left out, as the dataclass would.
    seen = Connected(version="1.2", received_headers=(("version", "1.2"),))
    assert seen == Connected(version="1.2")
    assert hash(seen) == hash(Connected(version="1.2"))
    assert "received_headers" not in repr(seen)
    assert dataclasses.replace(a, destination="/r") == Send(
        destination="/r", body=b"x", headers=(("k", "v"),)
    )


def test_passcode_is_not_in_repr() -> None:
    """conformance 52: the passcode never shows up in logs."""
    connect = Connect(login="guest", passcode="s3cret")
    assert "s3cret" not in repr(connect)
    assert connect.passcode == "s3cret"


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: Send(destination=""), "must not be empty"),
        (lambda: Send(destination=3), "must be a str"),  # type: ignore[arg-type]
        (lambda: Send(destination="/q", body="text"), "must be bytes"),  # type: ignore[arg-type]
        (lambda: Send(destination="/q", headers=[("a",)]), "pair"),  # type: ignore[list-item]
        (lambda: Send(destination="/q", headers={"a": 1}), "must be str"),  # type: ignore[dict-item]
        (lambda: Unsubscribe(), "needs an id"),
        (lambda: Ack(id=""), "must not be empty"),
        (lambda: Connect(heart_beat=(1, -1)), "ints from 0 to"),
        (lambda: Connect(heart_beat=(True, 0)), "ints from 0 to"),
        (lambda: Connect(heart_beat=(2**31, 0)), "ints from 0 to 2147483647"),
        (lambda: Connected(heart_beat=(0, 10**400)), "ints from 0 to 2147483647"),
        (lambda: Connect(accept_version="1.2"), "tuple of str"),  # type: ignore[arg-type]
        (lambda: Connect(accept_version=()), "non-empty"),
        (lambda: Connected(version=None), "must be a str"),  # type: ignore[arg-type]
        (lambda: Connected(heart_beat=(1,)), "pair"),  # type: ignore[arg-type]
    ],
)
def test_validation(factory: object, match: str) -> None:
    with pytest.raises(LocalProtocolError, match=match):
        factory()  # type: ignore[operator]


def test_body_accepts_bytes_like() -> None:
    assert Send(destination="/q", body=bytearray(b"ab")).body == b"ab"
    assert Error(body=memoryview(b"cd")).body == b"cd"


def test_get_prefers_typed_fields_then_first_extra() -> None:
    """conformance 42: the first occurrence is the value."""
    message = Message(
        destination="/q",
        message_id="7",
        headers=(("x", "1"), ("x", "2"), ("content-type", "ignored")),
        content_type="text/plain",
    )
    assert message.get("destination") == "/q"
    assert message.get("x") == "1"
    assert message.get("content-type") == "text/plain"
    assert message.get("missing", "d") == "d"
    assert Subscribe(destination="/q").get("id") is None


def test_ack_id_per_version() -> None:
    message = Message(destination="/q", message_id="m1", ack="a1")
    assert message.ack_id("1.2") == "a1"
    assert message.ack_id("1.1") == "m1"
    assert Message(destination="/q", message_id="m1").ack_id("1.2") == "m1"


def test_connect_accepts_version_list() -> None:
    assert Connect(accept_version=["1.1", "1.2"]).accept_version == ("1.1", "1.2")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: Connect(headers={"heart-beat": ""}), "heart_beat field"),
        (lambda: Connect(headers={"accept-version": "1.2"}), "accept_version field"),
        (lambda: Connected(headers={"version": "1.2"}), "version field"),
        (lambda: Connected(headers={"heart-beat": "0,0"}), "heart_beat field"),
    ],
)
def test_headers_written_from_fields_are_refused_as_extras(factory: object, match: str) -> None:
    """Fuzz finding 3: an extra 'heart-beat:' went out empty and our reader refused it."""
    with pytest.raises(LocalProtocolError, match=match):
        factory()  # type: ignore[operator]


def test_every_command_has_its_event_class() -> None:
    # The command list is written once (_versions.COMMANDS); the event registry and
    # every version's command sets agree with it.
    assert set(FRAME_EVENTS) == ALL_COMMANDS
    for rules in RULES.values():
        assert rules.client_commands | rules.server_commands <= ALL_COMMANDS
    assert "NACK" not in RULES["1.0"].client_commands
    assert "STOMP" not in RULES["1.0"].client_commands
    assert Message(destination="/q", message_id="m1", ack="a1").ack_id("2.0") == "m1"

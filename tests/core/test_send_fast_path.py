"""The client's SEND hot path: ``Send.__init__``, ``serialize_send`` and the shortcut in
``Connection.send`` must behave exactly like the general path they bypass."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stomp_core import (
    Begin,
    Commit,
    Config,
    Limits,
    LocalProtocolError,
    Send,
)
from stomp_core._convert import event_to_frame
from stomp_core._versions import rules_for
from stomp_core._writer import serialize_frame, serialize_send

from .helpers import ConnectionPair, drain
from .strategies import bodies

VERSIONS = ("1.0", "1.1", "1.2")

# Text with the characters that need escaping or refusing, surrogates (not UTF-8
# encodable), and plain ASCII, all drawn often.
_tricky_text = st.text(
    st.one_of(
        st.characters(),
        st.sampled_from("\\:\n\r\x00"),
        st.sampled_from("abc/-_."),
    ),
    max_size=12,
)
_plain_text = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789/-_.é€"), max_size=12)
_special_names = st.sampled_from(["receipt", "x", ""])


@st.composite
def sends(draw: st.DrawFn, text: st.SearchStrategy[str] = _tricky_text) -> Send:
    optional = st.one_of(st.none(), text)
    return Send(
        destination=draw(text.filter(bool)),
        body=draw(bodies()),
        content_type=draw(optional),
        transaction=draw(optional),
        receipt=draw(optional),
        content_length=draw(st.booleans()),
        headers=draw(st.lists(st.tuples(st.one_of(text, _special_names), text), max_size=4)),
    )


def _general(send: Send, version: str) -> bytes | LocalProtocolError:
    rules = rules_for(version)
    try:
        return serialize_frame(event_to_frame(send, rules), rules)
    except LocalProtocolError as exc:
        return exc


@given(sends())
def test_serialize_send_equals_the_general_path_or_declines(send: Send) -> None:
    data = serialize_send(send)
    if data is not None:
        for version in VERSIONS:
            assert _general(send, version) == data


@given(sends(_plain_text))
def test_plain_sends_take_the_fast_path(send: Send) -> None:
    # Without this the equivalence test above would pass with a path that always declines.
    expected = _general(send, "1.2")
    data = serialize_send(send)
    if b"\x00" in send.body and not send.content_length:
        assert data is None
    elif all(name for name, _ in send.headers):
        assert data == expected
        assert data == _general(send, "1.0") == _general(send, "1.1")


@pytest.mark.parametrize(
    "send",
    [
        Send(destination="/q", body=b"a\x00b", content_length=False),  # conformance 35
        Send(destination="/q\ud800"),  # a surrogate: not UTF-8
        Send(destination="/q", headers=(("", "v"),)),
        Send(destination="a:b"),
        Send(destination="/q", content_type="a\\b"),
        Send(destination="/q", transaction="a\rb"),
        Send(destination="/q", receipt="a\nb"),
        Send(destination="/q", headers=(("k", "a\x00b"),)),
    ],
)
def test_serialize_send_declines_what_needs_the_general_path(send: Send) -> None:
    assert serialize_send(send) is None


def test_serialize_send_layout() -> None:
    send = Send(
        destination="/q",
        body=b"hi",
        content_type="text/plain",
        transaction="t",
        receipt="r",
        headers=(("x", "1"), ("x", "2")),
    )
    assert serialize_send(send) == (
        b"SEND\ndestination:/q\ncontent-type:text/plain\ntransaction:t\nreceipt:r\n"
        b"content-length:2\nx:1\nx:2\n\nhi\x00"
    )


@pytest.mark.parametrize("version", VERSIONS)
@given(send=sends())
def test_connection_send_matches_the_general_path(version: str, send: Send) -> None:
    pair = ConnectionPair(client_config=Config(limits=Limits(max_pending_receipts=10)))
    pair.connect(version)
    expected = _general(send, version)
    if send.transaction is not None:
        try:
            pair.client.send(Begin(transaction=send.transaction), now=0)
        except LocalProtocolError as exc:
            # An id BEGIN cannot carry (empty, or not encodable): the SEND then names a
            # transaction that is not open, and is refused.
            expected = exc
        pair.to_server()
    if isinstance(expected, LocalProtocolError):
        with pytest.raises(LocalProtocolError):
            pair.client.send(send, now=0)
        assert pair.client.data_to_send(now=0) == b""
        return
    pair.client.send(send, now=0)
    assert pair.client.data_to_send(now=0) == expected
    receipt = send.receipt or send.get("receipt")
    assert pair.client.pending_receipts == ((receipt,) if receipt is not None else ())


def test_fast_path_keeps_the_connection_rules() -> None:
    pair = ConnectionPair(client_config=Config(limits=Limits(max_pending_receipts=1)))
    pair.connect("1.2")
    # An unknown transaction is refused, an open one accepted (conformance 81).
    with pytest.raises(LocalProtocolError, match="not open"):
        pair.client.send(Send(destination="/q", transaction="t"), now=0)
    pair.client.send(Begin(transaction="t"), now=0)
    pair.client.send(Send(destination="/q", transaction="t"), now=0)
    assert drain_sends(pair) == 1
    pair.client.send(Commit(transaction="t"), now=0)
    with pytest.raises(LocalProtocolError, match="not open"):
        pair.client.send(Send(destination="/q", transaction="t"), now=0)
    # Receipts, typed or as an extra header, are awaited and bounded.
    pair.client.send(Send(destination="/q", headers=(("receipt", "r1"),)), now=0)
    assert pair.client.pending_receipts == ("r1",)
    with pytest.raises(LocalProtocolError, match="too many receipts"):
        pair.client.send(Send(destination="/q", receipt="r2"), now=0)
    # A server never sends SEND.
    with pytest.raises(LocalProtocolError, match="cannot send SEND"):
        pair.server.send(Send(destination="/q"), now=0)


def drain_sends(pair: ConnectionPair) -> int:
    return sum(isinstance(event, Send) for event in pair.to_server())


def test_fast_path_counts_as_activity_for_heart_beats() -> None:
    pair = ConnectionPair()
    pair.connect("1.2", client_heart_beat=(1000, 0), server_heart_beat=(0, 1000))
    first = pair.client.get_timer()
    assert first is not None
    pair.client.send(Send(destination="/q", body=b"x"), now=0.5)
    pair.client.data_to_send(now=0.5)
    later = pair.client.get_timer()
    assert later is not None
    assert later > first
    assert drain(pair.server) == []


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"body": bytearray(b"ab")}, "body", b"ab"),
        ({"body": memoryview(b"cd")}, "body", b"cd"),
        ({"headers": [("a", "1")]}, "headers", (("a", "1"),)),
        ({"headers": {"a": "1"}}, "headers", (("a", "1"),)),
        ({"headers": (("a", "1"),)}, "headers", (("a", "1"),)),
        ({"headers": (["a", "1"],)}, "headers", (("a", "1"),)),
    ],
)
def test_send_init_normalises_like_every_event(
    changes: dict[str, object], field: str, expected: object
) -> None:
    send = Send(destination="/q", **changes)  # type: ignore[arg-type]
    assert getattr(send, field) == expected
    assert type(getattr(send, field)) is type(expected)


@pytest.mark.parametrize(
    "changes",
    [
        {"destination": ""},
        {"destination": None},
        {"destination": b"/q"},
        {"content_type": 1},
        {"transaction": 2},
        {"receipt": b"r"},
        {"body": "text"},
        {"headers": (("a", 1),)},
        {"headers": (("a", "1"), (2, "b"))},
        {"headers": (("a", "1"), ("content-length", "0"))},  # fuzz finding 5
        {"headers": (("a",),)},
    ],
)
def test_send_init_refuses_what_every_event_refuses(changes: dict[str, object]) -> None:
    arguments: dict[str, object] = {"destination": "/q", **changes}
    with pytest.raises(LocalProtocolError):
        Send(**arguments)  # type: ignore[arg-type]


def test_send_init_keeps_dataclass_behaviour() -> None:
    send = Send(destination="/q", body=b"x", receipt="r")
    assert send == Send(destination="/q", body=b"x", receipt="r")
    assert hash(send) == hash(Send(destination="/q", body=b"x", receipt="r"))
    assert dataclasses.replace(send, receipt=None) == Send(destination="/q", body=b"x")
    assert "destination='/q'" in repr(send)
    with pytest.raises(dataclasses.FrozenInstanceError):
        send.body = b"y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Send("/q")  # type: ignore[misc]

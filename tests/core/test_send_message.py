"""``Connection.send_message``: a client's plain SEND in one call, which must behave
exactly like ``send(Send(...))`` followed by ``data_to_send()`` in every case."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stomp_core import (
    CLIENT,
    SERVER,
    Connect,
    Connected,
    Connection,
    LocalProtocolError,
    Send,
    State,
)
from stomp_core._framelog import LoggedConnection

from .helpers import ConnectionPair
from .strategies import bodies

VERSIONS = ("1.0", "1.1", "1.2")

# Characters to escape or refuse, surrogates (not UTF-8), and plain text, all often.
_tricky_text = st.text(
    st.one_of(st.characters(), st.sampled_from("\\:\n\r\x00"), st.sampled_from("abc/-_.")),
    max_size=12,
)
_plain_text = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789/-_.é€"), max_size=12)


def _connected(version: str, heart_beat: int = 0) -> Connection:
    pair = ConnectionPair()
    pair.connect(version, client_heart_beat=(heart_beat, 0), server_heart_beat=(0, heart_beat))
    return pair.client


def _general(conn: Connection, now: float = 0.0, **fields: Any) -> bytes:
    conn.send(Send(**fields), now=now)
    return conn.data_to_send(now=now)


def _outcome(call: Any, *args: Any, **kwargs: Any) -> bytes | tuple[str, str]:
    try:
        data: bytes = call(*args, **kwargs)
    except LocalProtocolError as exc:
        return ("refused", exc.message)
    return data


def _state(conn: Connection) -> tuple[object, ...]:
    metrics = conn.metrics
    return (conn.state, metrics.messages_sent, metrics.bytes_sent, conn.get_timer())


@pytest.mark.parametrize("version", VERSIONS)
@given(
    destination=_tricky_text,
    body=bodies(),
    content_type=st.one_of(st.none(), _tricky_text),
    content_length=st.booleans(),
)
def test_send_message_equals_send_then_data_to_send(
    version: str, destination: str, body: bytes, content_type: str | None, content_length: bool
) -> None:
    fields = {
        "destination": destination,
        "body": body,
        "content_type": content_type,
        "content_length": content_length,
    }
    # Heart-beats on: the next EOL is due one interval after the last write.
    fast, general = _connected(version, 1000), _connected(version, 1000)
    # Twice: the second time the head is the one checked and kept the first time.
    for now in (5.0, 6.0):
        got = _outcome(fast.send_message, destination, body, **_keywords(fields), now=now)
        assert got == _outcome(_general, general, now=now, **fields)
        assert _state(fast) == _state(general)


def _keywords(fields: dict[str, Any]) -> dict[str, Any]:
    return {"content_type": fields["content_type"], "content_length": fields["content_length"]}


@pytest.mark.parametrize("version", VERSIONS)
@given(
    destination=_plain_text.filter(bool),
    body=bodies(),
    content_type=st.one_of(st.none(), _plain_text),
    content_length=st.booleans(),
)
def test_plain_messages_take_the_fast_path(
    version: str, destination: str, body: bytes, content_type: str | None, content_length: bool
) -> None:
    # Without this the test above would pass with a method that always declines.
    conn = _connected(version)
    expected = _general(
        _connected(version),
        destination=destination,
        body=body,
        content_type=content_type,
        content_length=content_length,
    )
    conn.send = _refuse  # type: ignore[method-assign]
    if b"\x00" in body and not content_length:
        # Conformance 35: the general path adds content-length; it decides.
        with pytest.raises(AssertionError, match="general path"):
            conn.send_message(
                destination, body, content_type=content_type, content_length=False, now=0
            )
        return
    data = conn.send_message(
        destination, body, content_type=content_type, content_length=content_length, now=0
    )
    assert data == expected


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("the general path was taken")


def test_layout() -> None:
    conn = _connected("1.2")
    data = conn.send_message("/q", b"hi", content_type="text/plain", now=0)
    assert data == b"SEND\ndestination:/q\ncontent-type:text/plain\ncontent-length:2\n\nhi\x00"
    assert conn.send_message("/q", b"hi", content_length=False, now=0) == (
        b"SEND\ndestination:/q\n\nhi\x00"
    )
    assert conn.metrics.messages_sent == 2


@pytest.mark.parametrize(
    ("version", "destination", "body", "content_type", "message"),
    [
        ("1.2", "", b"", None, "destination"),
        ("1.0", "a\nb", b"", None, None),  # 1.0 cannot escape a LF
        ("1.2", "/q\ud800", b"", None, None),
        ("1.2", 1, b"", None, None),
        ("1.2", "/q", "text", None, None),
        ("1.2", "/q", b"", 5, None),
        ("1.2", "/q", b"", "a\x00b", None),
        ("1.2", "/q", b"", ["unhashable"], None),
    ],
)
def test_refused_like_the_general_path(
    version: str, destination: Any, body: Any, content_type: Any, message: str | None
) -> None:
    conn, general = _connected(version), _connected(version)
    with pytest.raises(LocalProtocolError) as fast_error:
        conn.send_message(destination, body, content_type=content_type, now=0)
    with pytest.raises(LocalProtocolError) as general_error:
        _general(general, destination=destination, body=body, content_type=content_type)
    assert fast_error.value.message == general_error.value.message
    if message is not None:
        assert message in fast_error.value.message
    # Nothing was queued, nothing counted.
    assert conn.data_to_send(now=0) == b""
    assert conn.metrics.messages_sent == 0


def test_what_needs_escaping_is_escaped() -> None:
    # Spec 1.2 "Value Encoding": the general path escapes; the result is the same.
    conn = _connected("1.2")
    assert conn.send_message("a\nb:c", b"", content_type="x\\y", now=0) == (
        b"SEND\ndestination:a\\nb\\cc\ncontent-type:x\\\\y\ncontent-length:0\n\n\x00"
    )


def test_heads_are_kept_per_destination_and_content_type() -> None:
    conn, general = _connected("1.2"), _connected("1.2")
    # More destinations than are kept: the heads are forgotten and checked again.
    cases = [(f"/q/{n}", None) for n in range(300)]
    cases += [("/q/0", None), ("/q/0", ""), ("/q/0", "text/plain"), ("/q/299", "a")]
    cases += cases[::-1]
    for destination, content_type in cases:
        assert conn.send_message(destination, b"b", content_type=content_type, now=0) == _general(
            general, destination=destination, body=b"b", content_type=content_type
        )


def test_before_connected_it_is_refused_as_send_is() -> None:
    conn = Connection(CLIENT)
    with pytest.raises(LocalProtocolError):
        conn.send_message("/q", b"x", now=0)
    conn.send(Connect(accept_version=("1.2",), host="/"), now=0)
    conn.data_to_send(now=0)
    assert conn.state is State.CONNECTING
    with pytest.raises(LocalProtocolError):
        conn.send_message("/q", b"x", now=0)


def test_a_server_takes_the_general_path() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    # A server may not SEND; the state table says so, in send()'s words.
    with pytest.raises(LocalProtocolError):
        pair.server.send_message("/q", b"x", now=0)


def test_bytes_already_queued_come_first() -> None:
    conn = _connected("1.1")
    before = conn.metrics.bytes_sent
    conn.send(Send(destination="/a", body=b"1"), now=0)
    data = conn.send_message("/b", b"2", now=0)
    assert data == (
        b"SEND\ndestination:/a\ncontent-length:1\n\n1\x00"
        b"SEND\ndestination:/b\ncontent-length:1\n\n2\x00"
    )
    assert conn.metrics.messages_sent == 2
    assert conn.metrics.bytes_sent - before == len(data)


def test_a_large_body_takes_the_general_path() -> None:
    body = b"x" * (64 * 1024)
    conn = _connected("1.2")
    data = conn.send_message("/q", body, now=0)
    assert data == _general(_connected("1.2"), destination="/q", body=body)


def test_the_heart_beat_clock_restarts_with_each_message() -> None:
    # Spec 1.2 "Heart-beating": an EOL is only due after a quiet interval.
    conn = _connected("1.2", heart_beat=1000)
    conn.send_message("/q", b"x", now=0.9)
    assert conn.get_timer() == pytest.approx(1.9, abs=0.2)


def test_a_logged_connection_reports_the_frame() -> None:
    lines: list[str] = []
    conn = LoggedConnection(CLIENT, write=lines.append)
    server = Connection(SERVER)
    conn.send(Connect(accept_version=("1.2",), host="/"), now=0)
    server.receive_data(conn.data_to_send(now=0), now=0)
    server.next_event()
    server.send(Connected(version="1.2", session="s"), now=0)
    conn.receive_data(server.data_to_send(now=0), now=0)
    conn.next_event()
    data = conn.send_message("/q", b"hi", content_type="text/plain", now=0)
    assert data == b"SEND\ndestination:/q\ncontent-type:text/plain\ncontent-length:2\n\nhi\x00"
    assert lines[-1] == (
        "sent SEND destination='/q' content-type='text/plain' content-length='2' body=b'hi'"
    )

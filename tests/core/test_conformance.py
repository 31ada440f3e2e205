"""Conformance checklist items that no other core test checks yet.

``tests/CONFORMANCE.md`` traces every item of ``reference/conformance.md`` Part 1 to the
tests that check it; this module holds the core-level ones that were missing.  Each test
docstring starts with ``conformance N:`` so that the table and the tests can be matched
with ``grep``.  Most tests drive a client and a server core through the public API
(:class:`~tests.core.helpers.ConnectionPair`), so they check what a driver would see.

Tests marked ``xfail(strict=True)`` demonstrate a gap in the core; the fix removes the
marker (strictness makes the fix visible).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

import stomp_core._reader as reader_module
from stomp_core import (
    CLIENT,
    NEED_DATA,
    SERVER,
    Abort,
    Ack,
    Begin,
    Commit,
    Config,
    Connect,
    Connected,
    Connection,
    ConnectionClosed,
    Disconnect,
    Error,
    FrameEvent,
    HeartbeatReceived,
    HeartbeatTimeout,
    Limits,
    LocalProtocolError,
    Message,
    Nack,
    Receipt,
    RemoteProtocolError,
    Send,
    State,
    Subscribe,
    Unsubscribe,
)
from stomp_core._frame import Frame
from stomp_core._reader import HEARTBEAT, FrameReader
from stomp_core._versions import rules_for
from stomp_core._writer import serialize_frame
from stomp_core.client import decode_text, encode_body

from .helpers import ConnectionPair, drain

VERSIONS = ["1.0", "1.1", "1.2"]
MODERN = ["1.1", "1.2"]


def connected(
    version: str,
    *,
    client_heart_beat: tuple[int, int] = (0, 0),
    server_heart_beat: tuple[int, int] = (0, 0),
    client_config: Config | None = None,
    server_config: Config | None = None,
) -> ConnectionPair:
    """A pair that has negotiated ``version``."""
    pair = ConnectionPair(
        client_config=client_config or Config(), server_config=server_config or Config()
    )
    pair.connect(version, client_heart_beat=client_heart_beat, server_heart_beat=server_heart_beat)
    return pair


def message_bytes(version: str, *, extra: bytes = b"", body: bytes = b"x") -> bytes:
    """A well-formed MESSAGE for subscription "0" under ``version``."""
    ack = b"ack:a1\n" if version == "1.2" else b""
    return (
        b"MESSAGE\ndestination:/q\nmessage-id:m1\nsubscription:0\n"
        + ack
        + extra
        + b"\n"
        + body
        + b"\x00"
    )


# =========================================================================== A. grammar


@pytest.mark.parametrize("version", MODERN)
def test_crlf_frame_per_version(version: str) -> None:
    """conformance 2: a CR LF frame is read in 1.2; from a 1.1 peer it fails loudly.

    Decision: no lenient CR-stripping switch for 1.0/1.1.  The 1.1 grammar makes a CR
    value data, so the CR LF blank line becomes a header line made of a lone CR, which
    is a protocol error: a CR LF speaking 1.0/1.1 peer is refused at its first frame
    instead of having CRs silently appended to every value.
    """
    pair = connected(version)
    data = b"MESSAGE\r\ndestination:/q\r\nmessage-id:m1\r\nsubscription:0\r\nack:a\r\n\r\nhi\x00"
    pair.client.receive_data(data, now=0)
    if version == "1.2":
        [message] = drain(pair.client)
        assert isinstance(message, Message)
        assert (message.destination, message.message_id, message.body) == ("/q", "m1", b"hi")
    else:
        with pytest.raises(RemoteProtocolError, match="lone CR"):
            pair.client.next_event()
        assert pair.client.state is State.ERROR


@pytest.mark.parametrize("version", MODERN)
def test_heartbeat_eol_is_a_single_lf(version: str) -> None:
    """conformance 3 and 65: the heart-beat we send is one LF (the only 1.1 form)."""
    pair = connected(version, client_heart_beat=(1000, 0), server_heart_beat=(0, 1000))
    pair.client.data_to_send(now=0)
    pair.client.handle_timer(now=0.8)
    assert pair.client.data_to_send(now=0.8) == b"\n"
    pair.server.handle_timer(now=1.4)
    assert pair.server.data_to_send(now=1.4) == b""  # the server only receives


@pytest.mark.parametrize("version", MODERN)
@pytest.mark.parametrize("eols", [b"\n", b"\n\n", b"\r\n", b"\r\n\r\n", b"\n\r\n\n"])
def test_eol_runs_in_the_same_read_as_a_frame(version: str, eols: bytes) -> None:
    """conformance 5 and 70: EOLs before a frame in one read never lose the frame and
    reach the application only as ``HeartbeatReceived``, never as a frame.  The EOLs
    after the MESSAGE's NUL, in the same read, are its padding (spec 1.2 "Frames"): no
    event.  Those before it come after CONNECTED was taken: a heart-beat."""
    pair = connected(version)
    pair.client.receive_data(eols + message_bytes(version) + eols, now=0)
    events = drain(pair.client)
    expected = [HeartbeatReceived, Message]
    assert [type(e) for e in events] == expected


@pytest.mark.parametrize("command", [b"message", b"Message", b"RECEIPTS", b"CONNECTED"])
def test_unknown_or_miscased_server_commands_are_fatal(command: bytes) -> None:
    """conformance 6 and 8: commands are case-sensitive; only MESSAGE, RECEIPT and
    ERROR may follow CONNECTED."""
    pair = connected("1.2")
    pair.client.receive_data(command + b"\nreceipt-id:1\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="unexpected"):
        pair.client.next_event()
    assert pair.client.state is State.ERROR


def test_miscased_client_command_gets_an_error_frame() -> None:
    """conformance 6: a server refuses ``send`` (not SEND) with ERROR."""
    pair = connected("1.2")
    pair.server.receive_data(b"send\ndestination:/q\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="unexpected 'send'"):
        pair.server.next_event()
    [error] = pair.to_client()
    assert isinstance(error, Error)
    assert "'send'" in (error.message or "")


@pytest.mark.parametrize("version", VERSIONS)
def test_empty_header_values_in_every_version(version: str) -> None:
    """conformance 12: empty values are legal (1.0 leniently too), both directions."""
    rules = rules_for(version)
    reader = FrameReader(Limits())
    reader.rules = rules
    reader.feed(b"MESSAGE\nempty:\nk:v\n\n\x00")
    assert reader.next_frame() == Frame("MESSAGE", (("empty", ""), ("k", "v")))
    pair = connected(version)
    pair.client.send(Send(destination="/q", headers={"empty": ""}), now=0)
    [send] = pair.to_server()
    assert isinstance(send, Send)
    assert send.headers == (("empty", ""),)


@pytest.mark.parametrize("version", VERSIONS)
def test_names_and_values_are_never_trimmed(version: str) -> None:
    """conformance 13: spaces around names and values survive both ways, in every
    version.  Decision: 1.0 is not trimmed either (no opt-in strip)."""
    pair = connected(version)
    headers = ((" padded ", " value "), ("k", "  "))
    pair.client.send(Send(destination=" /q ", headers=headers), now=0)
    [send] = pair.to_server()
    assert isinstance(send, Send)
    assert send.destination == " /q "
    assert send.headers == headers


# -- conformance 18: linear parsing, measured as bytes examined (never wall-clock) ------


class _Counter:
    scanned = 0


class CountingBuffer(bytearray):
    """A bytearray that adds the bytes each search examines to ``_Counter.scanned``."""

    @staticmethod
    def _bounds(buf: bytearray, args: tuple[Any, ...]) -> tuple[int, int]:
        start = args[0] if args and args[0] is not None else 0
        end = args[1] if len(args) > 1 and args[1] is not None else len(buf)
        return start, min(end, len(buf))

    def find(self, sub: Any, *args: Any) -> int:
        start, end = self._bounds(self, args)
        found = super().find(sub, *args)
        _Counter.scanned += (found + len(sub) if found >= 0 else end) - start
        return found

    def rfind(self, sub: Any, *args: Any) -> int:
        start, end = self._bounds(self, args)
        found = super().rfind(sub, *args)
        _Counter.scanned += end - (found if found >= 0 else start)
        return found

    def count(self, sub: Any, *args: Any) -> int:
        start, end = self._bounds(self, args)
        _Counter.scanned += end - start
        return super().count(sub, *args)


class CountingPattern:
    """Wraps a compiled pattern; ``search`` adds the bytes it examined."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self._pattern = pattern

    def search(self, string: bytes | bytearray, pos: int = 0) -> re.Match[bytes] | None:
        match = self._pattern.search(string, pos)
        _Counter.scanned += (match.end() if match else len(string)) - pos
        return match

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pattern, name)


@pytest.fixture
def counting_reader(monkeypatch: pytest.MonkeyPatch) -> FrameReader:
    monkeypatch.setattr(reader_module, "_HEAD_END", CountingPattern(reader_module._HEAD_END))
    _Counter.scanned = 0
    reader = FrameReader(Limits(max_header_count=100_000, max_header_line=100_000))
    reader.rules = rules_for("1.2")
    # The counting only works while the reader keeps its bytes in ``_buf``.
    assert isinstance(reader._buf, bytearray)
    reader._buf = CountingBuffer()
    return reader


def _feed_all(reader: FrameReader, chunks: list[bytes]) -> list[Frame]:
    out: list[Frame] = []
    for chunk in chunks:
        reader.feed(chunk)
        while (item := reader.next_frame()) is not None:
            if item is not HEARTBEAT:
                assert isinstance(item, Frame)
                out.append(item)
    return out


def test_large_nul_body_in_small_chunks_is_scanned_once(counting_reader: FrameReader) -> None:
    """conformance 18: one big NUL-terminated frame over many chunks is linear."""
    data = b"SEND\ndestination:/q\n\n" + b"b" * 1_000_000 + b"\x00"
    chunks = [data[i : i + 1024] for i in range(0, len(data), 1024)]
    [frame] = _feed_all(counting_reader, chunks)
    assert len(frame.body) == 1_000_000
    # A rescan per chunk would examine ~500 MB; linear is a small multiple of 1 MB.
    assert _Counter.scanned <= 3 * len(data)


def test_huge_head_byte_by_byte_is_scanned_once(counting_reader: FrameReader) -> None:
    """conformance 18: a head that arrives one byte at a time is scanned linearly."""
    head = b"SEND\n" + b"".join(b"h%d:v\n" % i for i in range(3000)) + b"\n"
    data = head + b"\x00"
    [frame] = _feed_all(counting_reader, [data[i : i + 1] for i in range(len(data))])
    assert len(frame.headers) == 3000
    assert _Counter.scanned <= 10 * len(data)  # quadratic would be ~len(data)**2 / 2


def test_many_frames_in_one_chunk_are_scanned_once(counting_reader: FrameReader) -> None:
    """conformance 18: many frames per chunk: no prefix rescanned per frame."""
    one = b"MESSAGE\ndestination:/q\nmessage-id:1\nsubscription:0\n\nhello\x00\n"
    data = one * 10_000
    frames = _feed_all(counting_reader, [data])
    assert len(frames) == 10_000
    assert _Counter.scanned <= 2 * len(data)


def test_large_counted_body_is_not_searched(counting_reader: FrameReader) -> None:
    """conformance 18: a counted body is never searched, whatever the chunking."""
    body = b"\x00" * 2_000_000
    data = b"SEND\ncontent-length:%d\n\n" % len(body) + body + b"\x00"
    chunks = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    [frame] = _feed_all(counting_reader, chunks)
    assert frame.body == body
    assert 0 < _Counter.scanned <= 1000


# --------------------------------------------------------------------- item 19 and 20


@pytest.mark.parametrize("version", MODERN)
def test_raw_frame_body_on_bodiless_command_is_refused(version: str) -> None:
    """conformance 19: a body on SUBSCRIBE (or RECEIPT) is impossible on send in 1.1+:
    refused, not silently dropped."""
    pair = connected(version)
    with pytest.raises(LocalProtocolError, match="body"):
        pair.client.send(Frame("SUBSCRIBE", (("destination", "/q"), ("id", "0")), b"x"), now=0)
    assert pair.client.data_to_send(now=0) == b""
    assert pair.client.subscriptions == {}


@pytest.mark.parametrize(
    ("version", "headers"),
    [
        ("1.0", {"k": "line\nbreak"}),
        ("1.0", {"a:b": "v"}),
        ("1.1", {"k": "carriage\rreturn"}),
        ("1.2", {"k": "nul\x00"}),
        ("1.2", {"": "empty name"}),
    ],
)
def test_unencodable_header_is_refused_and_nothing_changes(
    version: str, headers: dict[str, str]
) -> None:
    """conformance 20: a header the version cannot encode raises LocalProtocolError;
    nothing is queued and no receipt is registered."""
    pair = connected(version)
    with pytest.raises(LocalProtocolError):
        pair.client.send(Send(destination="/q", receipt="r1", headers=headers), now=0)
    assert pair.client.data_to_send(now=0) == b""
    assert pair.client.pending_receipts == ()
    assert pair.client.state is State.CONNECTED


# ================================================================ B. value encoding


def test_utf8_headers_in_10() -> None:
    """conformance 21: 1.0 headers are read and written as UTF-8, not ASCII only."""
    pair = connected("1.0")
    pair.client.send(Send(destination="/caf\u00e9", headers={"cl\u00e9": "\u2603"}), now=0)
    data = pair.client.data_to_send(now=0)
    assert "\ndestination:/caf\u00e9\n".encode() in data
    assert "\ncl\u00e9:\u2603\n".encode() in data
    pair.server.receive_data(data, now=0)
    [send] = drain(pair.server)
    assert isinstance(send, Send)
    assert send.destination == "/caf\u00e9"
    assert send.headers == (("cl\u00e9", "\u2603"),)


@pytest.mark.parametrize("version", VERSIONS)
def test_invalid_utf8_is_a_visible_protocol_error(version: str) -> None:
    """conformance 22: invalid UTF-8 in a header is a RemoteProtocolError in every
    version (decision: always strict); sticky, and a server answers with ERROR."""
    pair = connected(version)
    pair.client.receive_data(message_bytes(version, extra=b"k:\xff\xfe\n"), now=0)
    with pytest.raises(RemoteProtocolError, match="invalid UTF-8"):
        pair.client.next_event()
    with pytest.raises(RemoteProtocolError, match="invalid UTF-8"):
        pair.client.next_event()
    assert pair.client.state is State.ERROR
    pair.server.receive_data(b"SEND\ndestination:/\xc3\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="invalid UTF-8") as info:
        pair.server.next_event()
    assert info.value.error_frame is not None
    assert pair.server.data_to_send(now=0).startswith(b"ERROR\n")


@pytest.mark.parametrize("version", VERSIONS)
def test_connect_goes_raw_at_the_connection(version: str) -> None:
    """conformance 26: a passcode with ':' and '\\' goes raw and arrives intact; a
    CONNECT header with CR or LF is refused."""
    client = Connection(CLIENT)
    with pytest.raises(LocalProtocolError, match="'login' cannot contain LF in its value"):
        client.send(Connect(accept_version=(version,), host="/", login="a\nb"), now=0)
    assert client.state is State.IDLE
    pair = ConnectionPair()
    pair.client.send(
        Connect(accept_version=(version,), host="/", login="u", passcode="pa:ss\\c"), now=0
    )
    data = pair.client.data_to_send(now=0)
    assert b"\npasscode:pa:ss\\c\n" in data
    pair.server.receive_data(data, now=0)
    [connect] = drain(pair.server)
    assert isinstance(connect, Connect)
    assert connect.passcode == "pa:ss\\c"


@pytest.mark.parametrize(
    ("version", "wire"),
    [("1.0", b"\nk:a:b\\\n"), ("1.1", b"\nk:a\\cb\\\\\n"), ("1.2", b"\nk:a\\cb\\\\\n")],
)
def test_escaping_follows_the_negotiated_version(version: str, wire: bytes) -> None:
    """conformance 32 and 59: frames after CONNECTED are escaped per the negotiated
    version (a 1.0 session never escapes) and arrive unchanged."""
    pair = connected(version)
    pair.client.send(Send(destination="/q", headers={"k": "a:b\\"}), now=0)
    data = pair.client.data_to_send(now=0)
    assert wire in data
    pair.server.receive_data(data, now=0)
    [send] = drain(pair.server)
    assert isinstance(send, Send)
    assert send.headers == (("k", "a:b\\"),)


def test_error_frames_are_unescaped() -> None:
    """conformance 31: ERROR is unescaped like every server frame except CONNECTED."""
    pair = connected("1.2")
    pair.client.receive_data(b"ERROR\nmessage:bad\\cthing\\nhere\n\n\x00", now=0)
    [error] = drain(pair.client)
    assert isinstance(error, Error)
    assert error.message == "bad:thing\nhere"


# ================================================================ C. standard headers


def test_content_length_counts_encoded_octets() -> None:
    """conformance 34: content-length is the number of octets of the encoded body."""
    body, content_type = encode_body("\u00e9\u2603", None)
    pair = connected("1.2")
    pair.client.send(Send(destination="/q", body=body, content_type=content_type), now=0)
    assert b"\ncontent-length:5\n" in pair.client.data_to_send(now=0)


def test_nul_in_body_forces_content_length_despite_opt_out() -> None:
    """conformance 35: a body holding NUL gets content-length even when opted out."""
    pair = connected("1.2")
    pair.client.send(Send(destination="/q", body=b"a\x00b", content_length=False), now=0)
    data = pair.client.data_to_send(now=0)
    assert b"\ncontent-length:3\n" in data
    pair.server.receive_data(data, now=0)
    [send] = drain(pair.server)
    assert isinstance(send, Send)
    assert send.body == b"a\x00b"
    pair.client.send(Send(destination="/q", body=b"abc", content_length=False), now=0)
    assert b"content-length" not in pair.client.data_to_send(now=0)


def test_disagreeing_content_length_is_refused_at_the_connection() -> None:
    """conformance 36: an event cannot carry its own content-length header (the
    ``content_length`` field writes it from the body: fuzz finding 5), a raw frame's is
    corrected to the body's length, and the writer refuses a frame whose content-length
    disagrees with its body."""
    pair = connected("1.2")
    for content_length in (True, False):
        with pytest.raises(LocalProtocolError, match="not a 'content-length' header"):
            Send(
                destination="/q",
                body=b"abc",
                content_length=content_length,
                headers={"content-length": "9"},
            )
    pair.client.send(Frame("SEND", (("destination", "/q"), ("content-length", "9")), b"abc"), now=0)
    assert pair.client.data_to_send(now=0) == b"SEND\ndestination:/q\ncontent-length:3\n\nabc\x00"
    with pytest.raises(LocalProtocolError, match="does not match the body"):
        serialize_frame(Frame("SEND", (("content-length", "9"),), b"abc"), rules_for("1.2"))


def test_str_body_defaults_to_text_plain_utf8() -> None:
    """conformance 37 (decision): a str body is UTF-8 labelled text/plain;charset=utf-8;
    an explicit content type's charset is used; bytes keep what the caller gave."""
    assert encode_body("caf\u00e9", None) == (b"caf\xc3\xa9", "text/plain;charset=utf-8")
    assert encode_body("caf\u00e9", "text/plain;charset=iso-8859-1") == (
        b"caf\xe9",
        "text/plain;charset=iso-8859-1",
    )
    assert encode_body("{}", "application/json") == (b"{}", "application/json")
    assert encode_body(b"\x00\x01", None) == (b"\x00\x01", None)
    with pytest.raises(ValueError, match="unknown charset"):
        encode_body("x", "text/plain;charset=no-such-charset")
    with pytest.raises(TypeError):
        encode_body(3, None)  # type: ignore[arg-type]


def test_received_text_charset_rules() -> None:
    """conformance 38: text/* without charset is UTF-8; an explicit charset is
    honoured; bodies stay bytes in the core (decoding is asked for, never implied)."""
    assert decode_text("caf\u00e9".encode(), "text/plain") == "caf\u00e9"
    assert decode_text(b"caf\xe9", 'text/plain; Charset="ISO-8859-1"') == "caf\u00e9"
    assert decode_text(b"caf\xe9", None, errors="replace") == "caf\ufffd"
    with pytest.raises(ValueError, match="unknown charset"):
        decode_text(b"x", "text/plain;charset=no-such-charset")
    pair = connected("1.2")
    pair.client.receive_data(message_bytes("1.2", body=b"\xff"), now=0)
    [message] = drain(pair.client)
    assert isinstance(message, Message)
    assert message.body == b"\xff"  # bytes, not decoded
    assert message.content_type is None


CLIENT_FRAMES_WITH_RECEIPT: list[FrameEvent] = [
    Send(destination="/q", receipt="r"),
    Subscribe(destination="/q", id="9", ack="client", receipt="r"),
    Unsubscribe(id="0", receipt="r"),
    Ack(id="m1", subscription="0", receipt="r"),
    Nack(id="m1", subscription="0", receipt="r"),
    Begin(transaction="t9", receipt="r"),
    Commit(transaction="t0", receipt="r"),
    Abort(transaction="t0", receipt="r"),
    Disconnect(receipt="r"),
]


@pytest.mark.parametrize("event", CLIENT_FRAMES_WITH_RECEIPT, ids=lambda e: e.command)
def test_receipt_allowed_on_every_client_frame_but_connect(event: FrameEvent) -> None:
    """conformance 39: every client frame may ask for a receipt, CONNECT/STOMP may not."""
    for stomp_command in (False, True):
        with pytest.raises(LocalProtocolError, match="CONNECT cannot carry a receipt"):
            Connection(CLIENT).send(
                Connect(host="/", stomp_command=stomp_command, headers={"receipt": "r"}), now=0
            )
    pair = connected("1.2")
    pair.client.send(Subscribe(destination="/q", id="0", ack="client"), now=0)
    pair.client.send(Begin(transaction="t0"), now=0)
    pair.client.send(event, now=0)
    assert pair.client.pending_receipts == ("r",)
    *_, received = pair.to_server()
    assert received.get("receipt") == "r"


@pytest.mark.parametrize("version", VERSIONS)
def test_user_headers_on_send_pass_through(version: str) -> None:
    """conformance 41 and 44: extra SEND headers arrive untouched, repeats and order
    included (ours first, then the user's)."""
    pair = connected(version)
    extra = (("priority", "9"), ("persistent", "true"), ("x-note", "a:b"), ("priority", "1"))
    pair.client.send(Send(destination="/q", body=b"b", headers=extra), now=0)
    [send] = pair.to_server()
    assert isinstance(send, Send)
    assert send.headers == extra
    assert send.get("priority") == "9"


# ========================================================= D. repeated headers, limits


def test_limit_breach_is_fatal_and_the_server_says_why() -> None:
    """conformance 45 and 47: a frame over a server's limit ends the connection with an
    ERROR naming the limit; the client's receipt stays listed as unresolved, so its
    driver fails that operation with the ERROR."""
    pair = connected("1.2", server_config=Config(limits=Limits(max_frame_size=200)))
    pair.client.send(Send(destination="/q", body=b"x" * 500, receipt="r1"), now=0)
    with pytest.raises(RemoteProtocolError, match="max_frame_size=200") as info:
        pair.to_server()
    assert info.value.error_frame is not None
    assert pair.server.state is State.ERROR
    [error] = pair.to_client()
    assert isinstance(error, Error)
    assert "max_frame_size=200" in (error.message or "")
    assert pair.client.state is State.CLOSED
    assert pair.client.pending_receipts == ("r1",)


def test_limit_breach_on_the_client_is_fatal_and_sends_nothing() -> None:
    """conformance 45: the client side refuses an oversized frame; it sends no ERROR."""
    pair = connected("1.2", client_config=Config(limits=Limits(max_header_count=3)))
    pair.client.receive_data(message_bytes("1.2", extra=b"a:1\nb:2\n"), now=0)
    with pytest.raises(RemoteProtocolError, match="max_header_count=3"):
        pair.client.next_event()
    assert pair.client.state is State.ERROR
    assert pair.client.data_to_send(now=0) == b""


# ================================================================ E. negotiation


def test_accept_version_from_config_is_increasing() -> None:
    """conformance 49: the offered list is comma separated and increasing (default
    1.0,1.1,1.2; Config narrows it whatever the order given)."""
    client = Connection(CLIENT)
    client.send(Connect(host="/"), now=0)
    assert b"\naccept-version:1.0,1.1,1.2\n" in client.data_to_send(now=0)
    client = Connection(CLIENT, Config(versions=("1.2", "1.1")))
    client.send(Connect(host="/"), now=0)
    assert b"\naccept-version:1.1,1.2\n" in client.data_to_send(now=0)


def test_explicit_accept_version_is_sent_increasing() -> None:
    """conformance 49: an explicit accept_version out of order is sorted (or refused)."""
    client = Connection(CLIENT)
    try:
        client.send(Connect(accept_version=("1.2", "1.1"), host="/"), now=0)
    except LocalProtocolError:
        return  # refusing it is a fix too
    assert b"\naccept-version:1.1,1.2\n" in client.data_to_send(now=0)


def test_connected_without_version_means_10() -> None:
    """conformance 54 and 86: no version header means 1.0, accepted only if offered."""
    client = Connection(CLIENT)
    client.send(Connect(host="/"), now=0)
    client.receive_data(b"CONNECTED\nsession:s\n\n\x00", now=0)
    [event] = drain(client)
    assert isinstance(event, Connected)
    assert client.version == "1.0"
    client = Connection(CLIENT)
    client.send(Connect(accept_version=("1.1", "1.2"), host="/"), now=0)
    client.receive_data(b"CONNECTED\nsession:s\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="did not offer"):
        client.next_event()


def test_error_in_reply_to_connect_keeps_message_and_body() -> None:
    """conformance 56: the ERROR answering CONNECT carries message and body to the
    driver, which fails connect with them; the connection is over."""
    client = Connection(CLIENT)
    client.send(Connect(host="/"), now=0)
    client.receive_data(
        b"ERROR\nmessage:Supported protocol versions are 1.2\ncontent-type:text/plain\n"
        b"\nversion mismatch\x00",
        now=0,
    )
    [error] = drain(client)
    assert isinstance(error, Error)
    assert error.message == "Supported protocol versions are 1.2"
    assert error.body == b"version mismatch"
    assert client.state is State.CLOSED
    assert client.get_timer() is None  # the connect wait is over too


# ================================================================ F. heart-beating


def test_heart_beat_headers_are_written_without_spaces() -> None:
    """conformance 60: ``heart-beat:cx,cy`` without spaces (read leniently: see
    tests/core/test_heartbeat.py)."""
    pair = ConnectionPair()
    pair.client.send(Connect(accept_version=("1.2",), host="/", heart_beat=(1000, 2500)), now=0)
    data = pair.client.data_to_send(now=0)
    assert b"\nheart-beat:1000,2500\n" in data
    pair.server.receive_data(data, now=0)
    drain(pair.server)
    pair.server.send(Connected(version="1.2", heart_beat=(0, 300)), now=0)
    assert b"\nheart-beat:0,300\n" in pair.server.data_to_send(now=0)


def test_missing_heart_beat_in_connected_means_none() -> None:
    """conformance 61: no heart-beat header in CONNECTED means 0,0: no timers."""
    client = Connection(CLIENT, Config(connect_timeout=None))
    client.send(Connect(accept_version=("1.2",), host="/", heart_beat=(1000, 1000)), now=0)
    client.receive_data(b"CONNECTED\nversion:1.2\n\n\x00", now=0)
    drain(client)
    assert client.heartbeat == (0, 0)
    assert client.get_timer() is None


@pytest.mark.parametrize("value", [b"abc", b"1000", b"-1,0", b"1,2,3", b"1000;1000"])
def test_malformed_heart_beat_is_a_protocol_error(value: bytes) -> None:
    """conformance 62 (decision): a malformed heart-beat header in CONNECTED (client)
    or CONNECT (server, which answers with ERROR) is a protocol error."""
    client = Connection(CLIENT)
    client.send(Connect(accept_version=("1.2",), host="/"), now=0)
    client.receive_data(b"CONNECTED\nversion:1.2\nheart-beat:" + value + b"\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="malformed heart-beat"):
        client.next_event()
    assert client.state is State.ERROR
    server = Connection(SERVER)
    server.receive_data(
        b"CONNECT\naccept-version:1.2\nhost:/\nheart-beat:" + value + b"\n\n\x00", now=0
    )
    with pytest.raises(RemoteProtocolError, match="malformed heart-beat"):
        server.next_event()
    assert server.data_to_send(now=0).startswith(b"ERROR\n")


def test_every_written_frame_resets_the_send_timer() -> None:
    """conformance 65: an EOL is sent only after a whole period without writes."""
    pair = connected("1.2", client_heart_beat=(1000, 0), server_heart_beat=(0, 1000))
    pair.client.data_to_send(now=0)
    assert pair.client.get_timer() == pytest.approx(0.8)
    pair.client.send(Send(destination="/q"), now=0.7)
    pair.client.data_to_send(now=0.7)
    assert pair.client.get_timer() == pytest.approx(1.5)
    pair.client.handle_timer(now=0.8)
    assert pair.client.data_to_send(now=0.8) == b""
    pair.client.handle_timer(now=1.5)
    assert pair.client.data_to_send(now=1.5) == b"\n"
    assert pair.client.get_timer() == pytest.approx(2.3)


def test_send_factor_is_configurable() -> None:
    """conformance 66: beats go out at interval x heartbeat_send_factor (default 0.8)."""
    config = Config(heartbeat_send_factor=0.5)
    pair = connected(
        "1.2", client_heart_beat=(2000, 0), server_heart_beat=(0, 2000), client_config=config
    )
    pair.client.data_to_send(now=0)
    assert pair.client.get_timer() == pytest.approx(1.0)


def test_receive_tolerance_is_configurable() -> None:
    """conformance 68: dead only after interval x (1 + heartbeat_tolerance) (default 1.5,
    never below 1: see tests/core/test_config.py)."""
    config = Config(heartbeat_tolerance=3.0)
    pair = connected(
        "1.2", client_heart_beat=(0, 1000), server_heart_beat=(1000, 0), client_config=config
    )
    assert pair.client.get_timer() == pytest.approx(4.0)
    pair.client.handle_timer(now=3.99)
    assert pair.client.next_event() is NEED_DATA
    pair.client.handle_timer(now=4.0)
    assert drain(pair.client) == [HeartbeatTimeout()]


def test_clock_jump_gives_one_timeout() -> None:
    """conformance 71: after a suspend, one HeartbeatTimeout, no storm of events or EOLs."""
    pair = connected("1.2", client_heart_beat=(1000, 1000), server_heart_beat=(1000, 1000))
    pair.client.send(Send(destination="/q", receipt="r1"), now=0)
    pair.client.data_to_send(now=0)
    pair.client.handle_timer(now=10_000.0)
    pair.client.handle_timer(now=10_000.0)
    assert drain(pair.client) == [HeartbeatTimeout(pending_receipts=("r1",))]
    assert pair.client.data_to_send(now=10_000.0) == b""
    assert pair.client.get_timer() is None


def test_clock_jump_gives_one_heartbeat() -> None:
    """conformance 71: a late timer sends one EOL and re-arms from now, not a backlog."""
    pair = connected("1.2", client_heart_beat=(1000, 0), server_heart_beat=(0, 1000))
    pair.client.data_to_send(now=0)
    pair.client.handle_timer(now=500.0)
    assert pair.client.data_to_send(now=500.0) == b"\n"
    assert pair.client.get_timer() == pytest.approx(500.8)


@pytest.mark.parametrize("ending", ["eof", "error", "send_failed"])
def test_heartbeats_stop_when_the_connection_ends(ending: str) -> None:
    """conformance 73 (and 92): no timers once the connection dropped or ERROR came."""
    pair = connected("1.2", client_heart_beat=(1000, 1000), server_heart_beat=(1000, 1000))
    assert pair.client.get_timer() is not None
    if ending == "eof":
        pair.client.receive_eof(now=0.1)
        assert drain(pair.client) == [ConnectionClosed(clean=False)]
    elif ending == "error":
        pair.client.receive_data(b"ERROR\nmessage:bye\n\n\x00", now=0.1)
        drain(pair.client)
    else:
        pair.client.send_failed()
    assert pair.client.get_timer() is None
    pair.client.handle_timer(now=100.0)
    assert pair.client.next_event() is NEED_DATA
    assert pair.client.data_to_send(now=100.0) == b""


# ================================================================ G. client frames


def test_send_needs_a_destination_both_ways() -> None:
    """conformance 74: SEND without destination is refused locally and remotely."""
    with pytest.raises(LocalProtocolError, match="destination"):
        Send(destination=None)  # type: ignore[arg-type]
    pair = connected("1.2")
    with pytest.raises(LocalProtocolError, match="destination"):
        pair.client.send(Frame("SEND", (("k", "v"),), b"x"), now=0)
    pair.server.receive_data(b"SEND\nk:v\n\nx\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="'destination'"):
        pair.server.next_event()


@pytest.mark.parametrize("version", VERSIONS)
def test_subscribe_rules_per_version(version: str) -> None:
    """conformance 75: id required in 1.1+ (optional in 1.0); ack defaults to auto;
    ack values per version; anything else refused."""
    pair = connected(version)
    if version == "1.0":
        pair.client.send(Subscribe(destination="/q"), now=0)
        assert pair.client.subscriptions == {"/q": "auto"}
    else:
        with pytest.raises(LocalProtocolError, match="'id'"):
            pair.client.send(Subscribe(destination="/q"), now=0)
    with pytest.raises(LocalProtocolError, match="ack mode 'individual'"):
        pair.client.send(Subscribe(destination="/r", id="1", ack="individual"), now=0)
    modes = ["auto", "client"] + (["client-individual"] if version != "1.0" else [])
    for n, mode in enumerate(modes):
        pair.client.send(Subscribe(destination="/r", id=f"s{n}", ack=mode), now=0)
    assert [e.ack for e in pair.to_server() if isinstance(e, Subscribe)][-len(modes) :] == modes


def test_duplicate_subscription_id_is_refused_by_the_server_too() -> None:
    """conformance 76: a duplicate id is a LocalProtocolError when we send it and a
    RemoteProtocolError (ERROR) when a client sends it to our server."""
    pair = connected("1.2")
    pair.client.send(Subscribe(destination="/q", id="0"), now=0)
    pair.to_server()
    pair.server.receive_data(b"SUBSCRIBE\ndestination:/r\nid:0\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="already in use"):
        pair.server.next_event()


@pytest.mark.parametrize("version", VERSIONS)
def test_unsubscribe_rules_per_version(version: str) -> None:
    """conformance 77: UNSUBSCRIBE by id (1.1+ require it), or by destination in 1.0;
    it must name a live subscription."""
    pair = connected(version)
    if version == "1.0":
        pair.client.send(Subscribe(destination="/q"), now=0)
        pair.client.send(Unsubscribe(destination="/q"), now=0)
    else:
        pair.client.send(Subscribe(destination="/q", id="0"), now=0)
        with pytest.raises(LocalProtocolError, match="'id'"):
            pair.client.send(Unsubscribe(destination="/q"), now=0)
        pair.client.send(Unsubscribe(id="0"), now=0)
    assert pair.client.subscriptions == {}
    with pytest.raises(LocalProtocolError, match="no live subscription"):
        pair.client.send(Unsubscribe(id="0"), now=0)
    assert [type(e) for e in pair.to_server()] == [Subscribe, Unsubscribe]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.1", (("message-id", "m1"), ("subscription", "0"))),
        ("1.2", (("id", "a1"), ("subscription", "0"))),
    ],
)
def test_nack_headers_follow_ack(version: str, expected: tuple[tuple[str, str], ...]) -> None:
    """conformance 78 and 79: NACK carries the same headers as ACK in each version."""
    pair = connected(version)
    pair.client.send(Subscribe(destination="/q", id="0", ack="client"), now=0)
    pair.to_server()
    message = Message(destination="/q", message_id="m1", subscription="0", ack="a1")
    for cls in (Ack, Nack):
        pair.client.send(cls(id=message.ack_id(version), subscription="0"), now=0)
        data = pair.client.data_to_send(now=0)
        assert data == serialize_frame(Frame(cls.command, expected), rules_for(version))


@pytest.mark.parametrize("version", VERSIONS)
def test_ack_on_auto_subscription_is_refused(version: str) -> None:
    """conformance 80: ACK (and NACK, 1.1+) naming an auto subscription is refused."""
    pair = connected(version)
    pair.client.send(Subscribe(destination="/q", id="0"), now=0)
    commands = [Ack] if version == "1.0" else [Ack, Nack]
    for cls in commands:
        with pytest.raises(LocalProtocolError, match="'auto' subscription"):
            pair.client.send(cls(id="m1", subscription="0"), now=0)
    assert pair.client.data_to_send(now=0).startswith(b"SUBSCRIBE")


def test_12_ack_by_id_alone_cannot_be_attributed() -> None:
    """conformance 80 (decision D80): a 1.2 ACK names the message by its ack id only.

    Messages of an ``auto`` subscription carry no ``ack`` header, so attributing an
    ``id`` to its subscription would need an unbounded memory of message ids.  The core
    refuses ACK/NACK on an ``auto`` subscription whenever the event names the
    subscription (always in 1.1; the drivers always pass it, since every MESSAGE names
    its subscription), and sends an ACK by id alone as asked.
    """
    pair = connected("1.2")
    pair.client.send(Subscribe(destination="/q", id="0", ack="auto"), now=0)
    pair.to_server()
    pair.client.receive_data(
        b"MESSAGE\ndestination:/q\nmessage-id:m1\nsubscription:0\n\n\x00", now=0
    )
    [message] = drain(pair.client)
    assert isinstance(message, Message)
    with pytest.raises(LocalProtocolError, match="'auto'"):
        pair.client.send(Ack(id=message.ack_id("1.2"), subscription=message.subscription), now=0)
    pair.client.send(Ack(id=message.ack_id("1.2")), now=0)  # cannot be attributed: sent


def test_transaction_frames() -> None:
    """conformance 81, 82 and 99: BEGIN/COMMIT/ABORT need a transaction id (BEGIN a new
    one, COMMIT/ABORT an open one); SEND, ACK and NACK may join an open one."""
    pair = connected("1.2")
    pair.client.send(Subscribe(destination="/q", id="0", ack="client-individual"), now=0)
    with pytest.raises(LocalProtocolError, match="must not be empty"):
        Begin(transaction="")
    for event in (
        Abort(transaction="t1"),
        Commit(transaction="t1"),
        Send(destination="/q", transaction="t1"),
        Ack(id="a1", subscription="0", transaction="t1"),
        Nack(id="a1", subscription="0", transaction="t1"),
    ):
        with pytest.raises(LocalProtocolError, match="'t1', which is not open"):
            pair.client.send(event, now=0)
    pair.client.send(Begin(transaction="t1"), now=0)
    pair.client.send(Send(destination="/q", transaction="t1"), now=0)
    pair.client.send(Ack(id="a1", subscription="0", transaction="t1"), now=0)
    pair.client.send(Nack(id="a2", subscription="0", transaction="t1"), now=0)
    pair.client.send(Abort(transaction="t1"), now=0)
    with pytest.raises(LocalProtocolError, match="not open"):
        pair.client.send(Commit(transaction="t1"), now=0)
    events = pair.to_server()
    assert [e.get("transaction") for e in events if not isinstance(e, Subscribe)] == ["t1"] * 5
    assert pair.server.transactions == ()
    pair.server.receive_data(b"BEGIN\nreceipt:r\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="'transaction'"):
        pair.server.next_event()


def test_ids_are_unique_while_in_use_and_reusable_after() -> None:
    """conformance 40, 76 and 81 (decision D81): receipt, subscription and transaction ids
    are refused while in use; once resolved or closed they may be used again."""
    pair = connected("1.2")
    pair.client.send(Begin(transaction="t1", receipt="r1"), now=0)
    pair.client.send(Subscribe(destination="/q", id="0"), now=0)
    with pytest.raises(LocalProtocolError, match="already open"):
        pair.client.send(Begin(transaction="t1"), now=0)
    with pytest.raises(LocalProtocolError, match="already in use"):
        pair.client.send(Subscribe(destination="/r", id="0"), now=0)
    with pytest.raises(LocalProtocolError, match="already awaited"):
        pair.client.send(Send(destination="/q", receipt="r1"), now=0)
    pair.client.send(Commit(transaction="t1"), now=0)
    pair.client.send(Unsubscribe(id="0"), now=0)
    pair.to_server()
    pair.server.send(Receipt(receipt_id="r1"), now=0)
    pair.to_client()
    pair.client.send(Begin(transaction="t1", receipt="r1"), now=0)
    pair.client.send(Subscribe(destination="/r", id="0"), now=0)
    assert pair.client.transactions == ("t1",)
    assert pair.client.subscriptions == {"0": "auto"}
    assert pair.client.pending_receipts == ("r1",)


def test_disconnect_eof_before_receipt() -> None:
    """conformance 84: EOF before the DISCONNECT's RECEIPT ends the session, with the
    receipt reported as never received (the driver logs a warning)."""
    pair = connected("1.2")
    pair.client.send(Disconnect(receipt="bye"), now=0)
    pair.to_server()
    pair.client.receive_eof(now=1.0)
    assert drain(pair.client) == [ConnectionClosed(clean=False, pending_receipts=("bye",))]
    assert pair.client.state is State.CLOSED
    assert pair.client.get_timer() is None


# ================================================================ H. server frames


@pytest.mark.parametrize(
    ("data", "missing"),
    [
        (b"MESSAGE\nmessage-id:m1\nsubscription:0\n\n\x00", "destination"),
        (b"MESSAGE\ndestination:/q\nsubscription:0\n\n\x00", "message-id"),
        (b"MESSAGE\ndestination:/q\nmessage-id:m1\n\n\x00", "subscription"),
        (b"RECEIPT\nreceipt:1\n\n\x00", "receipt-id"),
    ],
)
def test_missing_required_server_headers_are_fatal(data: bytes, missing: str) -> None:
    """conformance 87, 89 and 94 (decision: strict): a MESSAGE without destination,
    message-id or (1.2) subscription, a RECEIPT without receipt-id, is a protocol error."""
    pair = connected("1.2")
    pair.client.receive_data(data, now=0)
    with pytest.raises(RemoteProtocolError, match=f"'{missing}'"):
        pair.client.next_event()
    assert pair.client.state is State.ERROR


def test_message_for_an_unknown_subscription_is_delivered() -> None:
    """conformance 88: the core delivers a MESSAGE whatever its subscription; routing
    an unknown id to a hook is the driver's job (never dropped here)."""
    pair = connected("1.2")
    data = message_bytes("1.2").replace(b"subscription:0", b"subscription:z")
    pair.client.receive_data(data, now=0)
    [message] = drain(pair.client)
    assert isinstance(message, Message)
    assert message.subscription == "z"
    assert pair.client.state is State.CONNECTED


def test_receipts_resolve_exactly_and_unknown_ids_are_events() -> None:
    """conformance 89 and 90: a RECEIPT resolves only its own id (not earlier ones: the
    earlier frames were received but maybe not processed); an unknown id is still
    delivered as an event for the driver's hook."""
    pair = connected("1.2")
    for receipt in ("r1", "r2", "r3"):
        pair.client.send(Send(destination="/q", receipt=receipt), now=0)
    pair.to_server()
    pair.server.send(Receipt(receipt_id="r2"), now=0)
    pair.server.send(Receipt(receipt_id="nobody-asked"), now=0)
    assert pair.to_client() == [Receipt(receipt_id="r2"), Receipt(receipt_id="nobody-asked")]
    assert pair.client.pending_receipts == ("r1", "r3")
    assert pair.client.state is State.CONNECTED


def test_error_is_terminal_for_the_client() -> None:
    """conformance 91 and 92: ERROR resolves its receipt-id, stops heart-beats and
    closes; later sends are refused; EOF then reports the other unresolved receipts once."""
    pair = connected("1.2", client_heart_beat=(1000, 1000), server_heart_beat=(1000, 1000))
    pair.client.send(Send(destination="/q", receipt="r1"), now=0)
    pair.client.send(Send(destination="/q", receipt="r2"), now=0)
    pair.to_server()
    pair.server.send(Error(message="quota", receipt_id="r1", body=b"details"), now=0)
    [error] = pair.to_client()
    assert error == Error(message="quota", receipt_id="r1", body=b"details")
    assert pair.client.state is State.CLOSED
    assert pair.client.pending_receipts == ("r2",)
    assert pair.client.get_timer() is None
    with pytest.raises(LocalProtocolError, match="CLOSED"):
        pair.client.send(Send(destination="/q"), now=0)
    pair.client.receive_eof(now=0)
    assert drain(pair.client) == [ConnectionClosed(clean=True, pending_receipts=("r2",))]
    assert pair.client.next_event() is NEED_DATA


def test_error_right_before_eof_is_surfaced() -> None:
    """conformance 93: an ERROR followed at once by EOF still comes out, before the
    close event."""
    pair = connected("1.2")
    pair.client.receive_data(b"ERROR\nmessage:going away\n\nbye\x00", now=0)
    pair.client.receive_eof(now=0)
    error, closed = drain(pair.client)
    assert isinstance(error, Error)
    assert (error.message, error.body) == ("going away", b"bye")
    assert closed == ConnectionClosed(clean=True)


# ================================================================ I. acknowledgment


@pytest.mark.parametrize("ack", ["auto", "client", "client-individual"])
def test_core_never_acknowledges_by_itself(ack: str) -> None:
    """conformance 95: receiving a MESSAGE queues nothing, whatever the ack mode."""
    pair = connected("1.2")
    pair.client.send(Subscribe(destination="/q", id="0", ack=ack), now=0)
    pair.to_server()
    pair.client.receive_data(message_bytes("1.2"), now=0)
    assert [type(e) for e in drain(pair.client)] == [Message]
    assert pair.client.data_to_send(now=0) == b""


# ================================================================ J. lifecycle


def test_pending_receipts_are_reported_by_every_ending() -> None:
    """conformance 101: receipt waiters learn that their receipt will never come, on
    heart-beat timeout, disconnect timeout and EOF alike (never left hanging)."""
    pair = connected("1.2", client_heart_beat=(0, 1000), server_heart_beat=(1000, 0))
    pair.client.send(Send(destination="/q", receipt="r1"), now=0)
    pair.client.handle_timer(now=2.5)
    assert drain(pair.client) == [HeartbeatTimeout(pending_receipts=("r1",))]
    pair = connected("1.2", client_config=Config(disconnect_timeout=2.0))
    pair.client.send(Send(destination="/q", receipt="r1"), now=0)
    pair.client.send(Disconnect(receipt="bye"), now=0)
    pair.client.handle_timer(now=2.0)
    [timeout] = drain(pair.client)
    assert timeout.pending_receipts == ("r1", "bye")  # type: ignore[attr-defined]


# ================================================================ the table itself

_TABLE = Path(__file__).resolve().parents[1] / "CONFORMANCE.md"
_ROW = re.compile(r"^\| (\d+) \|(.*)$", re.MULTILINE)
_CORE_REF = re.compile(r"`(tests/core/\w+\.py)::(\w+)`")


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_the_table_traces_every_item_to_existing_core_tests() -> None:
    """conformance 1-104: tests/CONFORMANCE.md has one row per item, every core test it
    cites exists, and every test of this module is cited in the rows it names."""
    rows = {int(number): row for number, row in _ROW.findall(_TABLE.read_text(encoding="utf-8"))}
    assert sorted(rows) == list(range(1, 105))
    root = _TABLE.parents[1]
    for number, row in rows.items():
        for path, name in _CORE_REF.findall(row):
            assert name in _functions(root / path), f"item {number}: {path}::{name} not found"
    here = Path(__file__)
    tree = ast.parse(here.read_text(encoding="utf-8"))
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
            continue
        doc = ast.get_docstring(node) or ""
        assert doc.startswith("conformance "), node.name
        if node.name == "test_the_table_traces_every_item_to_existing_core_tests":
            continue
        cited = doc.split(":", 1)[0]
        numbers = {int(n) for n in re.findall(r"\d+", cited)}
        for number in numbers:
            assert f"test_conformance.py::{node.name}`" in rows[number], (
                f"{node.name} claims item {number}, which does not cite it"
            )

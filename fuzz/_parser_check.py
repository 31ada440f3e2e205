"""The parser invariant, shared by ``fuzz_parser.py`` and the regression tests.

Input layout: ``[mode][k][k big-endian u16 split offsets][stream]``.

* ``mode & 7`` picks what parses ``stream``: 0-2 a bare ``FrameReader`` with the rules of
  STOMP 1.0/1.1/1.2, 3 a ``FrameReader`` before negotiation (``rules = None``), 4 a fresh
  ``Connection`` (the client has sent CONNECT; the server answers any CONNECT it
  receives), 5-7 a ``Connection`` already connected with 1.0/1.1/1.2.
* ``(mode >> 3) & 3`` picks the ``Limits``: small, medium, default, tiny.  Small limits
  make the limit checks reachable with short inputs.
* ``(mode >> 5) & 3`` picks the reader's copy thresholds (large counted bodies collected
  as chunks, big bodies copied through a memoryview): the defaults, or small values
  that short inputs reach.  Results must not depend on them.
* ``k`` (mod 9) split offsets (mod ``len(stream) + 1``) cut the stream into chunks;
  ``k == 255`` feeds its first 160 bytes byte by byte, then the rest.

Invariant (issue 8): the stream fed whole and the stream fed in chunks give the same
frames (heart-beats aside, see below) and then either the same end (need data / EOF
event) or a ``RemoteProtocolError`` at the same place; nothing else escapes; after each
chunk has been parsed as far as it goes, the reader of an open connection holds at most
``max_frame_size + len(chunk)`` bytes, and a closed one (after ERROR, say) reads nothing
more, so what it holds never grows.  A connection in the ERROR state stays there and re-raises; a
server's queued ERROR frame is itself well-formed.

Heart-beats: a run of EOLs split across two reads may honestly be reported as two
heart-beats, and EOLs right after a frame's NUL are frame padding (spec 1.2 "Frames":
``NUL *(EOL)``) or heart-beats depending on when they arrive.  So the comparison drops
heart-beats; what is compared is every frame and the error.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from stomp_core import (
    CLIENT,
    NEED_DATA,
    SERVER,
    SUPPORTED_VERSIONS,
    Config,
    Connect,
    Connected,
    Connection,
    ConnectionClosed,
    Event,
    Frame,
    HeartbeatReceived,
    Limits,
    RemoteProtocolError,
    Role,
    State,
)
from stomp_core import _reader as _reader_module
from stomp_core._reader import HEARTBEAT, FrameReader
from stomp_core._versions import VersionRules, rules_for

__all__ = ["LIMITS", "MODES", "THRESHOLDS", "Outcome", "check_parser", "split_input"]

#: The limit sets ``(mode >> 3) & 3`` picks from.
LIMITS = (
    Limits(max_frame_size=512, max_header_count=8, max_header_line=64),
    Limits(max_frame_size=4096, max_header_count=32, max_header_line=256),
    Limits(),
    Limits(max_frame_size=48, max_header_count=2, max_header_line=24),
)

_BYTEWISE = 160

#: ``(mode >> 5) & 3`` -> the reader's ``(_LARGE_BODY, _VIEW_COPY_THRESHOLD)``.
THRESHOLDS = (
    (_reader_module._LARGE_BODY, _reader_module._VIEW_COPY_THRESHOLD),
    (16, 8),
    (64, 32),
    (1, 1),
)

#: ``mode & 7`` -> (kind, version).
MODES: tuple[tuple[str, str | None], ...] = (
    ("reader", "1.0"),
    ("reader", "1.1"),
    ("reader", "1.2"),
    ("reader", None),
    ("fresh", None),
    ("connected", "1.0"),
    ("connected", "1.1"),
    ("connected", "1.2"),
)

# What a server answers before the stream, per version (CONNECTED carries no escaping).
_CONNECTED_BYTES = {
    "1.0": b"CONNECTED\nsession:fuzz\n\n\x00",
    "1.1": b"CONNECTED\nversion:1.1\n\n\x00",
    "1.2": b"CONNECTED\nversion:1.2\n\n\x00",
}
_CONNECT_BYTES = {
    "1.0": b"CONNECT\nlogin:fuzz\n\n\x00",
    "1.1": b"CONNECT\naccept-version:1.1\nhost:/\n\n\x00",
    "1.2": b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00",
}


@dataclass
class Outcome:
    """What one parse produced."""

    items: list[object] = field(default_factory=list)
    error: bool = False
    end_state: State | None = None

    def frames(self) -> list[object]:
        """The items with heart-beats dropped (see the module docstring)."""
        return [
            i for i in self.items if i is not HEARTBEAT and not isinstance(i, HeartbeatReceived)
        ]


def split_input(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode the input layout into ``(kind index, limits index, chunks)``."""
    mode = data[0] if data else 0
    k = data[1] if len(data) > 1 else 0
    if k == 255:
        # Byte by byte over the first _BYTEWISE bytes, the rest in one chunk: the
        # extreme split, kept cheap so that the harness stays fast.
        stream = data[2:]
        chunks = [stream[i : i + 1] for i in range(min(len(stream), _BYTEWISE))]
        if len(stream) > _BYTEWISE:
            chunks.append(stream[_BYTEWISE:])
        return mode & 7, (mode >> 3) & 3, chunks
    k %= 9
    head = 2 + 2 * k
    stream = data[head:]
    cuts = set()
    for i in range(k):
        raw = data[2 + 2 * i : 4 + 2 * i].rjust(2, b"\x00")
        cuts.add(int.from_bytes(raw, "big") % (len(stream) + 1))
    bounds = [0, *sorted(cuts), len(stream)]
    chunks = [stream[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    return mode & 7, (mode >> 3) & 3, chunks


def _parse_reader(rules: VersionRules | None, limits: Limits, chunks: list[bytes]) -> Outcome:
    reader = FrameReader(limits)
    reader.rules = rules
    out = Outcome()
    for chunk in chunks:
        reader.feed(chunk)
        while True:
            try:
                item = reader.next_frame()
            except RemoteProtocolError:
                out.error = True
                return out
            if item is None:
                break
            assert item is HEARTBEAT or isinstance(item, Frame), f"reader returned {item!r}"
            out.items.append(item)
        assert reader.buffered <= limits.max_frame_size + len(chunk), (
            f"reader buffers {reader.buffered} bytes, limit {limits.max_frame_size}"
        )
    return out


def _connection(role: Role, kind: str, version: str | None, limits: Limits) -> Connection:
    config = Config(limits=limits, connect_timeout=None, disconnect_timeout=None)
    conn = Connection(role, config, now=0.0)
    if role is CLIENT:
        offered = (version,) if version is not None else SUPPORTED_VERSIONS
        conn.send(Connect(accept_version=offered, host="/"), now=0.0)
        if version is not None:
            conn.receive_data(_CONNECTED_BYTES[version], now=0.0)
            assert isinstance(conn.next_event(), Connected)
    elif version is not None:
        conn.receive_data(_CONNECT_BYTES[version], now=0.0)
        assert isinstance(conn.next_event(), Connect)
        conn.send(Connected(version=version), now=0.0)
    conn.data_to_send(now=0.0)
    assert kind == "fresh" or conn.state is State.CONNECTED
    return conn


def _drain(conn: Connection, out: Outcome) -> bool:
    """Pull events until NEED_DATA; False once a RemoteProtocolError was raised."""
    while True:
        try:
            event = conn.next_event()
        except RemoteProtocolError as exc:
            out.error = True
            _check_error_state(conn, exc)
            return False
        if event is NEED_DATA:
            return True
        assert isinstance(event, Event), f"next_event returned {event!r}"
        out.items.append(event)
        if conn.role is SERVER and isinstance(event, Connect):
            # Act as a server driver: answer CONNECT so that later frames get parsed.
            version = conn.proposed_version
            assert version is not None, "a CONNECT with no common version was accepted"
            conn.send(Connected(version=version), now=0.0)
        conn.data_to_send(now=0.0)


def _check_error_state(conn: Connection, exc: RemoteProtocolError) -> None:
    assert conn.state is State.ERROR, f"state {conn.state} after {exc!r}"
    try:
        conn.next_event()
    except RemoteProtocolError:
        pass
    else:
        raise AssertionError("the ERROR state is not sticky")
    if conn.role is SERVER and exc.error_frame is not None:
        # The ERROR we queued for the peer must itself parse as one ERROR frame.
        reader = FrameReader(Limits())
        reader.rules = rules_for(conn.version) if conn.version else None
        reader.feed(conn.data_to_send(now=0.0))
        frame = reader.next_frame()
        assert isinstance(frame, Frame), frame
        assert frame.command == "ERROR", frame
        assert reader.next_frame() is None
        assert not reader.in_frame


def _parse_connection(
    role: Role, kind: str, version: str | None, limits: Limits, chunks: list[bytes]
) -> Outcome:
    conn = _connection(role, kind, version, limits)
    reader = conn._reader  # white box: the memory bound is the point of the check
    out = Outcome()
    held = 0
    for chunk in chunks:
        was_closed = conn.state is State.CLOSED
        conn.receive_data(chunk, now=0.0)
        if not _drain(conn, out):
            out.end_state = conn.state
            return out
        if conn.state is State.CLOSED:
            # A closed connection reads nothing more: what the reader still holds (the
            # bytes after ERROR, say) is dropped with it, and must not grow.
            growth = 0 if was_closed else len(chunk)
            assert reader.buffered <= held + growth, "a closed connection keeps buffering"
        else:
            assert reader.buffered <= limits.max_frame_size + len(chunk), (
                f"connection buffers {reader.buffered} bytes, limit {limits.max_frame_size}"
            )
        held = reader.buffered
    conn.receive_eof(now=0.0)
    if _drain(conn, out):
        # EOF ends the stream with exactly one ConnectionClosed, last.
        closed = [e for e in out.items if isinstance(e, ConnectionClosed)]
        assert len(closed) == 1, f"EOF gave {out.items[-3:]}"
        assert out.items[-1] is closed[0], f"EOF gave {out.items[-3:]}"
    out.end_state = conn.state
    return out


def parse(role: Role, data: bytes, *, whole: bool) -> Outcome:
    """Parse ``data`` (the harness layout) in one chunk, or in the chunks it names."""
    kind_index, limits_index, chunks = split_input(data)
    kind, version = MODES[kind_index]
    limits = LIMITS[limits_index]
    if whole:
        chunks = [b"".join(chunks)] if chunks else []
    large_body, view_copy = THRESHOLDS[(data[0] >> 5) & 3 if data else 0]
    # White box: the reader's size thresholds only pick how bytes are copied, so
    # results must not depend on them; small values make those paths reachable with
    # the short inputs a fuzzer writes.
    _reader_module._LARGE_BODY = large_body
    _reader_module._VIEW_COPY_THRESHOLD = view_copy
    try:
        if kind == "reader":
            return _parse_reader(rules_for(version) if version else None, limits, chunks)
        return _parse_connection(role, kind, version, limits, chunks)
    finally:
        _reader_module._LARGE_BODY, _reader_module._VIEW_COPY_THRESHOLD = THRESHOLDS[0]


def check_parser(role: Role, data: bytes) -> Outcome:
    """Run the invariant on one input; raises AssertionError (or the escaping error)."""
    whole = parse(role, data, whole=True)
    split = parse(role, data, whole=False)
    assert whole.frames() == split.frames(), (
        f"frames differ with the split:\n whole {whole.frames()}\n split {split.frames()}"
    )
    assert whole.error == split.error, (
        f"error whole={whole.error} split={split.error} after {whole.frames()}"
    )
    assert whole.end_state == split.end_state, (whole.end_state, split.end_state)
    return whole

"""The incremental frame parser: bytes in, :class:`Frame` objects (or heart-beats) out.

Grammar (spec 1.2 "Augmented BNF", conformance items 1-20)::

    frame   = command EOL *(header EOL) EOL *OCTET NUL *(EOL)
    EOL     = [CR] LF            ; 1.2 (and before negotiation); LF only in 1.0/1.1

How the buffer works (conformance 17 and 18, the h11 ``_receivebuffer`` idea):

* One ``bytearray`` holds unparsed bytes.  Finished frames are removed with
  ``del buf[:n]``, which CPython implements by advancing the array's start, so
  consuming many small frames from one large read costs O(frame), not O(buffer).
* Every search remembers where it stopped (``_scan``), so bytes are looked at once
  however the input is chunked: the header-block search restarts two bytes before the
  old end (a terminator may straddle chunks), the NUL search restarts at the old end,
  and a counted body is not searched at all: :meth:`FrameReader.next_frame` returns at
  once until ``_need`` bytes are buffered.  A large counted body (256 KiB or more still
  missing) is not even appended to the buffer: its chunks are kept in a list and
  joined once, so each body byte is copied once.
* The header block is decoded once and split into lines once; each line is split at
  its first ``:`` unless the same line was seen before (a small per-reader cache: most
  header lines of a subscription's messages repeat).  Unescaping only runs when the
  block holds a backslash.  A ``content-length`` value already found valid is not
  checked and converted again (another small cache: bodies often have one size).
* Once a version is negotiated, one call parses every complete frame already buffered
  and hands them out one per call (``_ready``, as plain tuples until handed out: a
  compatibility layer takes a run of MESSAGEs as such, without a :class:`Frame` object
  each, :meth:`FrameReader.take_ready`): the per-call overhead is paid once per
  read rather than once per frame.  A bad frame in such a batch is left for the next
  call, so the frames before it are delivered first and the error comes in order.

Receive limits (:class:`~stomp_core._limits.Limits`, conformance 45-46) are checked
while the frame is still incomplete, and a ``content-length`` is only ever compared
with the limit, never used to pre-allocate.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from ._errors import RemoteProtocolError
from ._frame import Frame, Headers
from ._headers import unescape_header
from ._limits import Limits
from ._record import field_names
from ._util import Sentinel
from ._versions import VersionRules

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

__all__ = ["HEARTBEAT", "FrameReader"]


class HEARTBEAT(Sentinel, metaclass=Sentinel):
    """Returned by :meth:`FrameReader.next_frame` for a run of heart-beat EOLs.

    EOLs that arrive together with the frame before them (in the same :meth:`~FrameReader.feed`,
    or before that frame was taken) are that frame's padding instead: no HEARTBEAT.
    """


#: Frames that are never escaped (spec 1.2 "Value Encoding": CONNECT and CONNECTED
#: are excepted "for backward compatibility"; STOMP is the 1.2 alias of CONNECT).
RAW_COMMANDS = frozenset({"CONNECT", "STOMP", "CONNECTED"})

# The patterns below are compiled when the first reader is built: importing re is a
# fifth of ``import stomp_core`` (issue 13: import time).
_EOL_RUN: re.Pattern[bytes]
_ONLY_EOL_BYTES: re.Pattern[bytes]
_HEAD_END: re.Pattern[bytes]
_patterns_compiled = False


def _compile_patterns() -> None:
    global _EOL_RUN, _ONLY_EOL_BYTES, _HEAD_END, _patterns_compiled
    import re

    # A run of heart-beat EOLs.  CR LF is accepted between frames in every version: a
    # CR can never start a command, and peers do send CR LF heart-beats (conformance 5).
    _EOL_RUN = re.compile(rb"(?:\r?\n)+")
    _ONLY_EOL_BYTES = re.compile(rb"[\r\n]*")
    # The blank line that ends the header block.  "\n\r\n" before 1.2 is a header line
    # made of a lone CR, which is an error (a line without ':'), reported as such below.
    _HEAD_END = re.compile(rb"\n\r?\n")
    _patterns_compiled = True


# The per-reader cache of split header lines: at most this many lines of at most
# this many characters (about 100 KB), emptied when full.
_LINE_CACHE_SIZE = 512
_CACHED_LINE_MAX = 128
# Headers whose value differs in every frame: caching their lines only costs.
# ("expires" is not one: brokers send "expires:0" for every message without a TTL.)
_PER_MESSAGE_HEADERS = frozenset(
    {"message-id", "ack", "id", "receipt", "receipt-id", "timestamp", "transaction"}
)

# The per-reader cache of valid content-length values (each at most a header line
# long), emptied when full.
_LENGTH_CACHE_SIZE = 64

_LF = 0x0A
_CR = 0x0D
_TLS_HANDSHAKE = 0x16
# Bodies larger than this are copied out through a memoryview (one copy, not two).
_VIEW_COPY_THRESHOLD = 64 * 1024
# A counted body with at least this much still missing is collected as a list of
# chunks (FrameReader._feed_large_body) rather than in the buffer.
_LARGE_BODY = 256 * 1024
# A _need no buffer reaches.
_NEVER = 1 << 62


def _make_frame_factory() -> Callable[[str, Headers, bytes], Frame]:
    # Parser-built frames skip Frame.__init__ (the h11 "_parsed" idea): the frozen
    # record's __init__ costs about twice as much as filling the three slots directly,
    # which matters at hundreds of thousands of frames per second.  Only done while
    # Frame is exactly what this code expects; else the normal call.  (Not
    # Frame.__dataclass_fields__: reading it imports dataclasses.)
    if field_names(Frame) != ("command", "headers", "body") or hasattr(Frame, "__post_init__"):
        return Frame  # pragma: no cover - Frame changed shape: stay correct, be slower
    new = object.__new__
    slots = vars(Frame)  # the slot descriptors
    set_command = slots["command"].__set__
    set_headers = slots["headers"].__set__
    set_body = slots["body"].__set__

    def new_frame(command: str, headers: Headers, body: bytes) -> Frame:
        frame: Frame = new(Frame)
        set_command(frame, command)
        set_headers(frame, headers)
        set_body(frame, body)
        return frame

    return new_frame


_new_frame = _make_frame_factory()


def _consume_padding(buf: bytearray, pos: int, size: int) -> int:
    """Where the EOLs right after a frame's NUL at ``pos - 1`` end.

    Spec 1.2 "Frames": a frame "MAY be followed by any number of EOLs", and brokers do
    write one (RabbitMQ and ActiveMQ send NUL LF, in the same write as the frame).  The
    EOLs that arrive with the frame are its padding: peer activity (the bytes were
    received), but no heart-beat.  An EOL fed after the frame was taken is a heart-beat,
    whether or not padding came before it: an idle broker's heart-beats follow its last
    frame with nothing in between, and a broker that pads nothing still heart-beats.
    (stomp.py draws the line the same way: an EOL read into an empty buffer is a
    heart-beat.)  So which EOLs count can depend on how the bytes were split; the frames
    never do.
    """
    if buf[pos] == _LF and (pos + 1 == size or buf[pos + 1] not in (_LF, _CR)):
        return pos + 1  # a single LF, what brokers send: no regular expression
    eols = _EOL_RUN.match(buf, pos)
    return pos if eols is None else eols.end()


def _find_head_end(buf: bytearray, start: int) -> tuple[int, int]:
    """Where the first blank line at or after ``start`` starts and ends, or ``(-1, -1)``.

    The blank line is LF LF, or LF CR LF (1.2, and a lone-CR line before it: see
    ``_HEAD_END``).  ``bytearray.find`` looks for LF LF faster than the regular
    expression does; when a CR comes before it (or no LF LF is there) the expression
    decides, so the answer is the expression's in every case.
    """
    end = buf.find(b"\n\n", start)
    if end >= 0 and buf.find(b"\r", start, end) < 0:
        # No CR before it: no LF CR LF can start earlier (its CR would be before end).
        return end, end + 2
    match = _HEAD_END.search(buf, start)
    if match is None:
        return -1, -1
    return match.start(), match.end()


def _bad_header_line(line: str) -> RemoteProtocolError:
    # Conformance 11.
    if ":" not in line:
        return RemoteProtocolError(f"header line without ':': {line!r}")
    return RemoteProtocolError(f"header line with an empty name: {line!r}")


class FrameReader:
    """Turn a byte stream into frames, incrementally.

    Call :meth:`feed` with whatever the transport delivered and :meth:`next_frame`
    until it returns ``None``.  After a :class:`RemoteProtocolError` the reader is
    broken: every later :meth:`next_frame` raises the same error again.

    Args:
        limits: the receive limits to enforce.

    Attributes:
        rules: the negotiated version's rules, or ``None`` before negotiation (then
            CR LF is accepted and nothing is unescaped).  The connection sets it.
    """

    def __init__(self, limits: Limits) -> None:
        if not _patterns_compiled:
            _compile_patterns()
        self._limits = limits
        self._buf = bytearray()
        self._error: RemoteProtocolError | None = None
        # next_frame() returns None at once while fewer than _need bytes are buffered.
        self._need = 0
        # Header-block search state (a frame whose head is still incomplete).
        self._scan = 0  # where the next search for the blank line starts
        self._counted = 0  # bytes already checked for LF count, NUL and line length
        self._line_start = 0  # start of the current (incomplete) line
        self._lines = 0  # LFs seen so far in this head
        # Body state (head parsed, body incomplete); _command is None between heads.
        self._command: str | None = None
        self._headers: Headers = ()
        self._body_start = 0
        self._body_end = -1  # -1 = no content-length: the body ends at the first NUL
        # A large counted body: the chunks received so far and how much is missing.
        self._parts: list[bytes] = []
        self._parts_size = 0
        self._remaining = 0
        # Frames parsed ahead (batching; see _parse_head), as (command, headers, body).
        self._ready: deque[tuple[str, Headers, bytes]] = deque()
        # Header line -> (name, value) for lines already seen (see _parse_head).
        self._line_cache: dict[str, tuple[str, str]] = {}
        # Valid content-length values already seen -> their number (see _parse_head).
        self._lengths: dict[str, int] = {}
        # A frame just ended and nothing was fed since it was taken: EOLs now are its
        # padding, not heart-beats (see _parse_head).
        self._after_nul = False
        self.rules = None

    @property
    def rules(self) -> VersionRules | None:
        """The negotiated version's rules, or ``None`` before negotiation."""
        return self._rules

    @rules.setter
    def rules(self, rules: VersionRules | None) -> None:
        self._rules = rules
        # Derived flags, read on every frame.
        self._crlf = rules is None or rules.crlf
        self._unescape = rules is not None and bool(rules.unescape)
        self._body_only_on = None if rules is None else rules.body_only_on
        # Spec 1.2 BNF: a header octet is anything but CR, LF and ':'; before
        # negotiation (CONNECT, CONNECTED) a raw CR inside a line is kept as data.
        self._raw_cr_is_error = rules is not None and rules.crlf

    @property
    def buffered(self) -> int:
        """How many bytes are held (an incomplete frame, EOLs, or unparsed frames)."""
        return len(self._buf) + self._parts_size

    @property
    def in_frame(self) -> bool:
        """Whether part of a frame (not just heart-beat EOLs) is buffered.

        At end of file this tells a clean close from a truncated frame.
        """
        if self._command is not None:
            return True
        return _ONLY_EOL_BYTES.fullmatch(self._buf) is None

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes received from the peer.  Nothing is parsed until :meth:`next_frame`."""
        remaining = self._remaining
        if remaining > len(data):
            # The middle of a large counted body: keep the chunk as it is (inlined
            # from _feed_large_body: this runs once per read of a large body).
            part = bytes(data)  # no copy when data is already bytes
            self._parts.append(part)
            self._parts_size += len(part)
            self._remaining = remaining - len(part)
        elif remaining:
            self._feed_large_body(data)
        elif self._error is None:
            if not self._buf:
                # New bytes after everything before was taken: a frame that ended
                # earlier did not "just" end, so EOLs here are heart-beats.
                self._after_nul = False
            self._buf += data

    def _feed_large_body(self, data: bytes | bytearray | memoryview) -> None:
        # A large counted body is collected as a list of chunks and joined once, so its
        # bytes are copied once (into the body) instead of twice (into the buffer, then
        # out of it).  This is its last piece (feed() keeps the ones before): what
        # follows the body (its NUL, later frames) goes to the buffer.
        remaining = self._remaining
        with memoryview(data) as view:
            part = view[:remaining].tobytes()
            self._buf += view[remaining:]
        self._remaining = 0
        self._need = 1  # the NUL is the buffer's first byte
        self._parts.append(part)
        self._parts_size += len(part)

    def next_frame(self) -> Frame | type[HEARTBEAT] | None:
        """Parse the next frame.

        Returns:
            A :class:`Frame`; :data:`HEARTBEAT` when a run of EOLs between frames was
            consumed; ``None`` when more data is needed.

        Raises:
            RemoteProtocolError: the input is malformed or exceeds a limit.  Sticky.
        """
        ready = self._ready
        if not ready:
            buf = self._buf
            if len(buf) < self._need:
                return None
            item = self._parse(buf)
            if not ready:
                return item
        command, headers, body = ready.popleft()
        return _new_frame(command, headers, body)

    def _parse(self, buf: bytearray) -> Frame | type[HEARTBEAT] | None:
        """Parse what the buffer starts with: a frame or heart-beat to hand out, or
        ``None`` (more bytes needed, or the frames parsed wait in ``_ready``).  Errors
        are made sticky here."""
        if self._error is not None:
            raise self._error
        try:
            if self._command is None:
                return self._parse_head(buf)
            return self._parse_body(buf)
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise
        except UnicodeDecodeError as exc:
            # Conformance 21-22: commands and headers are UTF-8; invalid is fatal.
            error = RemoteProtocolError(f"invalid UTF-8 in a frame's command or headers: {exc}")
            self._fail(error)
            raise error from None

    def take_ready(self, command: str, *, parse: bool) -> list[tuple[str, Headers, bytes]]:
        """Take the frames already parsed ahead, from the first, while they are ``command``.

        What that many :meth:`next_frame` calls would return, in one call and as
        ``(command, headers, body)`` tuples: a batch of MESSAGEs from one read costs a
        compatibility layer one call instead of one per frame, and no :class:`Frame`
        object each (building one costs about as much as splitting its headers; issue
        13).  Stops at a frame of another command; it and the frames after it stay for
        :meth:`next_frame`.  With ``parse``, when nothing was parsed ahead and the
        buffer starts with a frame's head, every complete frame buffered is parsed
        first (one call per read instead of three); heart-beat EOLs and the rest of a
        body split across reads stay for :meth:`next_frame` (heart-beats never wait in
        line: a batch ends before EOLs that are not a frame's padding).

        Raises:
            RemoteProtocolError: with ``parse``, as :meth:`next_frame`, when the frame
                parsed first is malformed.
        """
        ready = self._ready
        if not ready and parse:
            # Parse now when the buffer starts with a frame's head (anything else,
            # heart-beats and the rest of a body, is next_frame's to hand out).
            buf = self._buf
            if (
                len(buf) < self._need  # an incomplete head: nothing new to parse
                or not buf
                or buf[0] in (_LF, _CR)
                or self._command is not None
            ):
                return []
            # A head comes first: _parse_head returns no frame or heart-beat itself, it
            # queues the frames in _ready (or waits for more bytes, or raises).
            self._parse(buf)
        taken: list[tuple[str, Headers, bytes]] = []
        while ready and ready[0][0] == command:
            taken.append(ready.popleft())
        return taken

    def give_back(self, frames: list[tuple[str, Headers, bytes]]) -> None:
        """Put frames taken by :meth:`take_ready` back in front, in their order: the
        caller stopped part-way (:meth:`next_frame` hands them out next)."""
        self._ready.extendleft(reversed(frames))

    def _fail(self, exc: RemoteProtocolError) -> None:
        self._error = exc
        self._need = 0
        self._buf.clear()
        self._parts = []
        self._parts_size = self._remaining = 0

    # -- the head: command and headers ------------------------------------------------

    def _parse_head(self, buf: bytearray) -> type[HEARTBEAT] | None:
        """Parse the frames at the start of ``buf`` into ``_ready``, as many as are complete
        (once a version is negotiated; else one); ``HEARTBEAT`` for a run of EOLs first,
        ``None`` otherwise (whether or not a frame was parsed)."""
        size = len(buf)
        if not size:
            self._need = 1
            return None
        first = buf[0]
        if first in (_LF, _CR):
            # Heart-beats (spec 1.1 "Heart-beating") and the optional EOLs after a NUL
            # (conformance 4, 5): never a frame.  One HEARTBEAT per run available now.
            # (An empty command line is such an EOL, too.)
            match = _EOL_RUN.match(buf)
            if match is not None and self._after_nul:
                # The rest of the padding after a frame's NUL (one that was fed in
                # pieces): activity, no heart-beat.  See _consume_padding.
                del buf[: match.end()]
                return self._parse_head(buf)
            if match is not None:
                del buf[: match.end()]
                self._need = 0
                return HEARTBEAT
            if size == 1:
                # A lone CR: wait for the LF that should follow.
                self._need = 2
                return None
        elif first == _TLS_HANDSHAKE:
            raise RemoteProtocolError(
                "received byte 0x16 where a STOMP command should start: this looks like a "
                "TLS handshake (is a TLS client talking to a plain STOMP port?)"
            )
        self._after_nul = False

        head_end, body_start = _find_head_end(buf, self._scan)
        if head_end < 0:
            self._check_partial_head(buf, size)
            # A terminator may straddle the chunk boundary: rescan at most two bytes.
            self._scan = max(0, size - 2)
            self._need = size + 1
            return None
        if self._counted:
            # The head arrived in pieces: forget the partial-head bookkeeping.
            self._scan = self._counted = self._line_start = self._lines = 0

        # Batching: once a version is negotiated, every complete frame already buffered
        # is parsed in this one loop (the later ones wait in _ready), which saves the
        # per-call overhead.  The loop stops at anything that is not a complete,
        # well-formed frame, leaving it for the next call to handle at offset 0 (where
        # errors are raised in order, after the frames before them were delivered), and
        # after CONNECT, STOMP or CONNECTED, after which the connection may change rules.
        rules = self._rules
        batch = rules is not None
        # Read once per call, not once per frame.
        limits = self._limits
        max_header_line = limits.max_header_line
        max_header_count = limits.max_header_count
        max_frame_size = limits.max_frame_size
        crlf = self._crlf
        raw_cr_is_error = self._raw_cr_is_error
        unescape = self._unescape
        allowed = self._body_only_on
        cache = self._line_cache
        cache_get = cache.get
        lengths = self._lengths
        lengths_get = lengths.get
        ready = self._ready
        parsed = False
        pos = 0
        # The blank line of a later head was found without looking for a CR before
        # it: the decoded head is looked at instead (see below).
        unchecked = False
        try:
            while True:
                # -- one frame: head at pos, blank line at head_end:body_start -------
                if body_start - head_end == 3 and not crlf:
                    # "\n\r\n" before 1.2: a header line consisting of a lone CR.
                    raise RemoteProtocolError(
                        "header line without ':' (a lone CR: CR LF line endings need STOMP 1.2)"
                    )
                if head_end - pos > max_header_line:
                    self._check_line_lengths(buf, pos, head_end)

                text = buf[pos:head_end].decode()
                if "\r" in text:
                    if unchecked:
                        # An LF CR LF before the LF LF found would be the real blank
                        # line (1.2: EOL = [CR] LF; before 1.2 a lone-CR line, an
                        # error above): search again the thorough way, and parse this
                        # head again.  (Anything raised on the way here for the wrong
                        # range only ends the batch: the next call starts over.)
                        unchecked = False
                        head_end, body_start = _find_head_end(buf, pos)
                        continue
                    if crlf:
                        # Spec 1.2: EOL = [CR] LF; strip one CR before each LF.
                        text = text.replace("\r\n", "\n")
                        if text[-1] == "\r":
                            text = text[:-1]
                        if raw_cr_is_error and "\r" in text:
                            raise RemoteProtocolError(
                                "raw CR inside a command or header line "
                                "(STOMP 1.2 needs the \\r escape)"
                            )
                if "\x00" in text:
                    raise RemoteProtocolError(
                        "NUL inside a command or header line (a frame without its blank line?)"
                    )
                length = None
                headers: Headers
                if "\n" not in text:
                    command = text
                    headers = ()
                else:
                    lines = text.split("\n")
                    command = lines[0]
                    del lines[0]
                    # Conformance 9: split each line at its first raw ':'.  Lines seen before
                    # (destination, subscription, content-type...) come from a small cache;
                    # only valid lines are cached, so a full hit needs no further checks.
                    found = list(map(cache_get, lines))
                    misses = found.count(None)
                    if misses:
                        # Conformance 27-31: unescape names and values after the split on
                        # the raw ':'; CONNECT, STOMP and CONNECTED are never unescaped
                        # (26).  Only lines holding a backslash change, and those are
                        # never cached: a cached pair is the same escaped or not.
                        escaped = unescape and "\\" in text and command not in RAW_COMMANDS
                        # Cache misses: split those lines (conformance 11: a line
                        # without ':' or with an empty name is an error).  Found by
                        # index, in C: most lines are hits, often all but the id.
                        index = -1
                        for _ in range(misses):
                            index = found.index(None, index + 1)
                            line = lines[index]
                            name, colon, value = line.partition(":")
                            if not colon or not name:
                                raise _bad_header_line(line)
                            if "\\" in line:
                                if escaped:
                                    assert rules is not None
                                    # Most names and values hold no backslash (ActiveMQ
                                    # escapes the colons of its message ids only).
                                    if "\\" in name:
                                        name = unescape_header(name, rules)
                                    if "\\" in value:
                                        # unescape_header's first step, inlined
                                        # (ActiveMQ's ids hold \c escapes only: a
                                        # call per id cost 10 %); when a backslash
                                        # is left, the whole function.
                                        decoded = value.replace("\\c", ":")
                                        if "\\" in decoded:
                                            decoded = unescape_header(value, rules)
                                        value = decoded
                                found[index] = (name, value)
                                continue
                            found[index] = pair = (name, value)
                            if len(line) <= _CACHED_LINE_MAX and name not in _PER_MESSAGE_HEADERS:
                                if len(cache) >= _LINE_CACHE_SIZE:
                                    cache.clear()  # crude but bounded
                                cache[line] = pair
                    # Every entry is a pair now (the misses were filled or raised).
                    pairs: list[tuple[str, str]] = found  # type: ignore[assignment]
                    if len(pairs) > max_header_count:
                        raise RemoteProtocolError(
                            f"frame has {len(pairs)} headers, more than max_header_count="
                            f"{max_header_count}"
                        )
                    for name, value in pairs:
                        if name == "content-length":
                            # Values checked before (a subscription's bodies often have
                            # one size) skip the check and the conversion.
                            length = lengths_get(value)
                            if length is None:
                                # Conformance 16: a non-negative decimal integer, or an
                                # error (no silent fall-back to NUL scanning).  isascii()
                                # keeps out other scripts' digits, which isdigit() would
                                # accept.
                                if not (value.isascii() and value.isdigit()):
                                    raise RemoteProtocolError(
                                        f"invalid content-length header {value!r}"
                                    )
                                # More digits than max_frame_size has is too large, and
                                # int() refuses a string of over 4300 digits (a
                                # ValueError, not this parser's error): decided first.
                                significant = value.lstrip("0")
                                if len(significant) > len(str(max_frame_size)):
                                    raise RemoteProtocolError(
                                        f"content-length of {len(significant)} digits "
                                        f"exceeds max_frame_size={max_frame_size}"
                                    )
                                length = int(significant or "0")
                                if len(lengths) >= _LENGTH_CACHE_SIZE:
                                    lengths.clear()  # crude but bounded
                                lengths[value] = length
                            break  # conformance 42: the first occurrence wins
                    headers = tuple(pairs)

                max_end = pos + max_frame_size
                if length is None:
                    end = buf.find(b"\x00", body_start)
                else:
                    end = body_start + length
                    if end > max_end:
                        raise RemoteProtocolError(
                            f"frame of {end - pos} bytes (content-length {length}) exceeds "
                            f"max_frame_size={max_frame_size}"
                        )
                    if end >= size:
                        end = -1
                if end < 0 or end > max_end:
                    # Incomplete (or, for a NUL-ended body, too large): the body code decides,
                    # once the frames before this one were handed out.
                    self._command = command
                    self._headers = headers
                    self._body_start = body_start - pos
                    self._body_end = -1 if length is None else body_start + length - pos
                    self._scan = (size if end < 0 else body_start) - pos
                    break
                if buf[end]:
                    # Conformance 15: "still needs to be terminated with a NULL octet".
                    raise self._missing_nul(end - body_start, buf[end])
                if end > body_start:
                    if allowed is not None and command not in allowed:
                        raise self._body_not_allowed(command)
                    if end - body_start > _VIEW_COPY_THRESHOLD:
                        with memoryview(buf) as view:
                            body = view[body_start:end].tobytes()
                    else:
                        body = bytes(buf[body_start:end])
                else:
                    body = b""
                pos = end + 1
                # -- the frame is complete -----------------------------------------
                ready.append((command, headers, body))
                parsed = True
                if pos < size:
                    byte = buf[pos]
                    if byte == _LF and (pos + 1 == size or buf[pos + 1] not in (_LF, _CR)):
                        pos += 1  # _consume_padding's first case, inlined: brokers' NUL LF
                    elif byte in (_LF, _CR):
                        pos = _consume_padding(buf, pos, size)
                if not batch or pos >= size or command in RAW_COMMANDS:
                    break
                if buf[pos] == _TLS_HANDSHAKE:
                    break
                # _find_head_end, inlined for LF LF, without its search for a CR
                # before it: finding "\r" in the decoded head costs less (above).  A
                # head longer than a line may be is searched the thorough way, so that
                # the line-length check (and the decode) never run past the real head.
                head_end = buf.find(b"\n\n", pos)
                if 0 <= head_end <= pos + max_header_line:
                    body_start = head_end + 2
                    unchecked = True
                else:
                    unchecked = False
                    head_end, body_start = _find_head_end(buf, pos)
                    if head_end < 0:
                        break
        except (RemoteProtocolError, UnicodeDecodeError):
            if not parsed:
                raise
            # A later frame is bad: the next call parses it again and raises.
        if not parsed:
            # The first frame's body is incomplete: wait for it (or fail on limits).
            # It cannot complete here (the loop above found its end missing or past
            # the size limit), so no frame is returned that take_ready would drop.
            frame = self._parse_body(buf)
            assert frame is None
            return None
        self._after_nul = True
        del buf[:pos]
        # Nothing left: the next call returns at once, without coming here.
        self._need = 0 if buf else 1
        return None

    def _check_partial_head(self, buf: bytearray, size: int) -> None:
        # The head is incomplete: check what arrived since the last call, so that an
        # endless line, endless headers or a missing blank line fail early (item 45).
        limits = self._limits
        counted = self._counted
        if buf.find(b"\x00", counted, size) >= 0:
            raise RemoteProtocolError(
                "NUL inside a command or header line (a frame without its blank line?)"
            )
        new_lines = buf.count(b"\n", counted, size)
        if new_lines:
            last = buf.rfind(b"\n", counted, size)
            if last - self._line_start > limits.max_header_line:
                self._check_line_lengths(buf, self._line_start, last)
            self._lines += new_lines
            self._line_start = last + 1
            # The command line ends with the first LF; each later LF ends a header.
            if self._lines - 1 > limits.max_header_count:
                raise RemoteProtocolError(
                    f"frame has more than max_header_count={limits.max_header_count} headers"
                )
        self._counted = size
        # +1: the line may still end in the CR of a CR LF.
        if size - self._line_start > limits.max_header_line + 1:
            raise RemoteProtocolError(
                f"command or header line longer than max_header_line={limits.max_header_line}"
            )
        if size > limits.max_frame_size:
            raise RemoteProtocolError(
                f"frame head longer than max_frame_size={limits.max_frame_size}"
            )

    def _check_line_lengths(self, buf: bytearray, start: int, end: int) -> None:
        limit = self._limits.max_header_line
        for line in buf[start:end].split(b"\n"):
            length = len(line)
            if self._crlf and line.endswith(b"\r"):
                length -= 1  # the CR of a CR LF is part of the EOL
            if length > limit:
                raise RemoteProtocolError(
                    f"command or header line of {length} bytes exceeds max_header_line={limit}"
                )

    # -- the body ---------------------------------------------------------------------

    def _parse_body(self, buf: bytearray) -> Frame | None:
        size = len(buf)
        command = self._command
        assert command is not None
        start = self._body_start
        end = self._body_end
        limits = self._limits
        allowed = self._body_only_on
        body_forbidden = allowed is not None and command not in allowed
        if end < 0:
            # No content-length: the body ends at the first NUL (conformance 14).
            nul = buf.find(b"\x00", self._scan)
            if nul < 0:
                if size > limits.max_frame_size:
                    raise RemoteProtocolError(
                        f"frame larger than max_frame_size={limits.max_frame_size} and still no NUL"
                    )
                if body_forbidden and size > start:
                    raise self._body_not_allowed(command)
                self._scan = size  # conformance 18: never rescan these bytes
                self._need = size + 1
                return None
            if nul > limits.max_frame_size:
                raise RemoteProtocolError(
                    f"frame of {nul} bytes exceeds max_frame_size={limits.max_frame_size}"
                )
            end = nul
        else:
            if size <= end:
                if body_forbidden and end > start:
                    raise self._body_not_allowed(command)
                if end - size >= _LARGE_BODY:
                    self._start_large_body(buf, start, end)
                    return None
                # A counted body is not searched (conformance 15, 18): wait until the
                # body and its NUL are all here.
                self._need = end + 1
                return None
            if buf[end]:
                raise self._missing_nul(end - start + self._parts_size, buf[end])
        if body_forbidden and end > start:
            raise self._body_not_allowed(command)
        if self._parts:
            body = b"".join(self._parts)
            self._parts = []
            self._parts_size = 0
        elif end - start > _VIEW_COPY_THRESHOLD:
            with memoryview(buf) as view:
                body = view[start:end].tobytes()
        else:
            body = bytes(buf[start:end])
        frame = _new_frame(command, self._headers, body)
        self._command = None
        self._headers = ()
        self._scan = 0
        end += 1
        if end < size and buf[end] in (_LF, _CR):
            end = _consume_padding(buf, end, size)
        self._after_nul = True
        del buf[:end]
        self._need = 0
        return frame

    def _start_large_body(self, buf: bytearray, start: int, end: int) -> None:
        # Switch to collecting chunks (see _feed_large_body); the head is dropped.
        with memoryview(buf) as view:
            self._parts = [view[start:].tobytes()]
        self._parts_size = len(buf) - start
        self._remaining = end - len(buf)
        buf.clear()
        # The body is now outside the buffer: its NUL will be the buffer's first byte.
        self._body_start = self._body_end = 0
        self._need = _NEVER  # feed() lowers it when the body is complete

    @staticmethod
    def _missing_nul(length: int, byte: int) -> RemoteProtocolError:
        # Conformance 15: a counted body "still needs to be terminated with a NULL octet".
        return RemoteProtocolError(
            f"frame body of content-length {length} is not followed by NUL (got byte 0x{byte:02x})"
        )

    @staticmethod
    def _body_not_allowed(command: str) -> RemoteProtocolError:
        # Spec 1.2 "Frames": only SEND, MESSAGE and ERROR may have a body (item 19).
        return RemoteProtocolError(f"a {command} frame must not have a body (STOMP 1.1+)")

"""General helpers with stomp.py's names and behaviour.

The blocking driver itself parses and serialises through :mod:`stomp_core`; these helpers
remain for code (and tests) written against stomp.py that call them directly.  They keep
stomp.py's observable behaviour (``convert_frame`` sorts headers, ``parse_headers`` keeps
the first of repeated headers, ...) except where stomp.py had a bug:

* ``clean_lines`` masks ``passcode:secret`` too (stomp.py needed a space after the colon).
* ``convert_frame`` no longer rewrites the caller's ``content-length`` header in place.
* ``Frame`` never shares a default ``headers`` dict between instances.

``from stomp.utils import *`` gives, as in stomp.py, the modules ``re``, ``socket``,
``threading``, ``uuid``, ``os`` and ``copy`` and every name of :mod:`stomp.constants`,
because test suites written for stomp.py rely on it.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized

from . import constants as _constants
from ._masking import MASK, mask_passcodes
from .constants import *  # noqa: F403 - re-exported on purpose (see the module docstring)

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import copy
    import re
    import uuid
    from typing import Any

    from ._pollable import PollableQueue

    #: Every name under which this machine knows itself; used to prefer local brokers.
    LOCALHOST_NAMES: list[str]
    #: A ``key:value`` header line (text).
    HEADER_LINE_RE: re.Pattern[str]
    #: The end of a frame's preamble: a blank line, LF or CR LF (spec 1.2 "Augmented BNF").
    PREAMBLE_END_RE: re.Pattern[bytes]
    #: A line end, LF or CR LF.
    LINE_END_RE: re.Pattern[str]
    #: A passcode in a frame rendered as text: ``passcode:secret`` with or without spaces.
    PASSCODE_RE: re.Pattern[str]


__all__ = [
    # modules stomp.py's star-import exposes
    "copy",
    "os",
    "re",
    "socket",
    "threading",
    "uuid",
    # constants and regular expressions
    "ENC_NEWLINE",
    "ENC_NULL",
    "HEADER_LINE_RE",
    "HEARTBEAT_FRAME",
    "LINE_END_RE",
    "LOCALHOST_NAMES",
    "NULL",
    "PASSCODE_RE",
    "PREAMBLE_END_RE",
    # functions and classes
    "Frame",
    "PollableQueue",
    "calculate_heartbeats",
    "clean_headers",
    "clean_lines",
    "convert_frame",
    "decode",
    "default_create_thread",
    "encode",
    "get_errno",
    "get_uuid",
    "is_eol_default",
    "is_localhost",
    "join",
    "length",
    "merge_headers",
    "pack",
    "parse_frame",
    "parse_headers",
    *_constants.__all__,
]


def _local_names() -> list[str]:
    names = ["localhost", "127.0.0.1"]
    # Setting STOMP_SKIP_HOSTNAME_SCAN avoids name look-ups at import time (slow or
    # impossible on some networks); stomp.py honours the same variable.
    if os.environ.get("STOMP_SKIP_HOSTNAME_SCAN"):
        return names
    lookups: tuple[Callable[[], str], ...] = (
        lambda: socket.gethostbyname(socket.gethostname()),
        socket.gethostname,
        lambda: socket.getfqdn(socket.gethostname()),
    )
    for lookup in lookups:
        try:
            name = lookup()
        except OSError:
            continue
        if name:
            names.append(name)
    return names


# LOCALHOST_NAMES and the *_RE patterns are stomp.py's module attributes, made on first
# use (PEP 562) rather than at import as stomp.py does: the host-name look-ups load the
# IDNA codec and re costs a few milliseconds, together a sixth of ``import stomp``
# (issue 13: import time).  The look-ups are still made once per process; a list the
# user assigned to LOCALHOST_NAMES wins.
_looked_up_names: list[str] | None = None


def _localhost_names() -> list[str]:
    global _looked_up_names
    assigned: list[str] | None = globals().get("LOCALHOST_NAMES")
    if assigned is not None:
        return assigned
    if _looked_up_names is None:
        _looked_up_names = _local_names()
    return _looked_up_names


_PATTERNS: dict[str, str | bytes] = {
    "HEADER_LINE_RE": "(?P<key>[^:]+)[:](?P<value>.*)",
    "PREAMBLE_END_RE": b"\n\n|\r\n\r\n",
    "LINE_END_RE": "\n|\r\n",
    "PASSCODE_RE": r"passcode:\s*[^\s'\"\\,]*",
    "_ESCAPE_RE": r"\\(.)",
}


def _pattern(name: str) -> re.Pattern[Any]:
    compiled: re.Pattern[Any] | None = globals().get(name)
    if compiled is None:
        import re

        compiled = globals()[name] = re.compile(_PATTERNS[name])
    return compiled


def __getattr__(name: str) -> Any:
    if name == "LOCALHOST_NAMES":
        return _localhost_names()
    if name in _PATTERNS:
        return _pattern(name)
    if name == "PollableQueue":
        from ._pollable import PollableQueue

        return PollableQueue
    if name in ("copy", "queue", "re", "uuid"):
        # Modules stomp.py's utils namespace (and its star-import) exposes.
        return __import__(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


NULL = b"\x00"
ENC_NEWLINE = b"\n"
ENC_NULL = b"\x00"


def decode(byte_data: bytes | None, encoding: str = "utf-8") -> str | None:
    """Decode bytes to text, replacing undecodable bytes; ``None`` stays ``None``."""
    if byte_data is None:
        return None
    return byte_data.decode(encoding, errors="replace")


def encode(char_data: str | bytes, encoding: str = "utf-8") -> bytes:
    """Encode text to bytes (replacing unencodable characters); bytes pass unchanged.

    Raises:
        TypeError: ``char_data`` is neither ``str`` nor ``bytes``.
    """
    if isinstance(char_data, str):
        return char_data.encode(encoding, errors="replace")
    if isinstance(char_data, bytes):
        return char_data
    raise TypeError(f"message body must be str or bytes, not {type(char_data).__name__}")


def pack(pieces: Iterable[bytes] = ()) -> bytes:
    """Concatenate byte strings."""
    return b"".join(pieces)


def join(chars: Iterable[bytes] = ()) -> str:
    """Concatenate byte strings and decode them as UTF-8."""
    return b"".join(chars).decode("utf-8", errors="replace")


def is_eol_default(c: bytes) -> bool:
    """Whether ``c`` is a lone LF (stomp.py's heart-beat test; the driver uses the core's)."""
    return c == b"\n"


def default_create_thread(callback: Callable[[], Any]) -> threading.Thread:
    """Start ``callback`` in a new daemon thread and return the thread."""
    thread = threading.Thread(None, callback, daemon=True)
    thread.start()
    return thread


def is_localhost(host_and_port: Sequence[Any]) -> int:
    """Sort key: ``1`` if the host is one of :data:`LOCALHOST_NAMES`, else ``2``."""
    host = host_and_port[0]
    return 1 if host in _localhost_names() else 2


_ESCAPES = {"r": "\r", "n": "\n", "c": ":", "\\": "\\"}


def _unescape(text: str) -> str:
    # One left-to-right pass, so "\\\\n" gives a backslash and an "n" (spec 1.2 "Value
    # Encoding"); unknown escapes are kept literally, as stomp.py does.
    if "\\" not in text:
        return text
    unescaped: str = _pattern("_ESCAPE_RE").sub(
        lambda m: _ESCAPES.get(m.group(1), m.group(0)), text
    )
    return unescaped


def parse_headers(lines: Sequence[str], offset: int = 0) -> dict[str, str]:
    """Parse ``key:value`` lines into a dict.

    The first colon splits name from value; lines without one are ignored; the first
    occurrence of a repeated name wins (spec 1.2 "Repeated Header Entries"); names and
    values are unescaped; spaces are kept.

    Args:
        lines: the header lines.
        offset: index of the first line to look at.

    Returns:
        The headers.
    """
    headers: dict[str, str] = {}
    for line in lines[offset:]:
        match = _pattern("HEADER_LINE_RE").match(line)
        if match is None:
            continue
        key = _unescape(match.group("key"))
        if key not in headers:
            headers[key] = _unescape(match.group("value"))
    return headers


def _copy(headers: Any) -> Any:
    # A shallow copy of headers that are not a dict (copy is imported for this rare
    # case only: issue 13, import time).
    import copy

    return copy.copy(headers)


class Frame:
    """A STOMP frame as stomp.py's listeners receive it.

    Args:
        cmd: the command (``None`` for an outgoing heart-beat).
        headers: the headers; a fresh dict when omitted.
        body: the body: ``str`` after automatic decoding, else ``bytes``.

    Attributes:
        original_headers: a shallow copy of ``headers`` taken at construction, so that a
            listener can see the values as received after another one edited them in
            ``on_before_message``.
    """

    def __init__(
        self,
        cmd: str | None = None,
        headers: dict[str, Any] | None = None,
        body: Any = None,
    ) -> None:
        self.cmd = cmd
        self.headers: dict[str, Any] = {} if headers is None else headers
        self.original_headers: dict[str, Any] = (
            self.headers.copy() if type(self.headers) is dict else _copy(self.headers)
        )
        self.body = body

    def __str__(self) -> str:
        return f"{{cmd={self.cmd},headers=[{clean_headers(self.headers)}],body={self.body}}}"

    def __repr__(self) -> str:
        return (
            f"Frame(cmd={self.cmd!r}, headers={clean_headers(self.headers)!r}, body={self.body!r})"
        )


#: The frame passed to ``on_heartbeat``-style plumbing for an inbound heart-beat.
HEARTBEAT_FRAME = Frame("heartbeat")


def parse_frame(frame: bytes) -> Frame | None:
    """Parse the bytes of one frame (without its NUL) into a :class:`Frame`.

    The preamble ends at the first blank line (LF or CR LF); leading empty lines are
    skipped; the body is returned as bytes, untouched.

    Args:
        frame: the frame's bytes.

    Returns:
        The frame, :data:`HEARTBEAT_FRAME` for a lone EOL, or ``None`` if there is no
        command.
    """
    if frame in (b"\n", b"\r\n"):
        return HEARTBEAT_FRAME
    # EOLs before the command are heart-beats or padding after the previous frame's NUL
    # (spec 1.2 "Augmented BNF"); stomp.py searched for the blank line first and lost
    # such frames (quirk 6).
    frame = frame.lstrip(b"\r\n")
    match = _pattern("PREAMBLE_END_RE").search(frame)
    if match is None:
        preamble, body = frame, b""
    else:
        preamble, body = frame[: match.start()], frame[match.end() :]
    lines = _pattern("LINE_END_RE").split(preamble.decode("utf-8", errors="replace"))
    first = 0
    while first < len(lines) and not lines[first]:
        first += 1
    if first >= len(lines):
        return None
    return Frame(lines[first], parse_headers(lines, first + 1), body)


def merge_headers(header_map_list: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """Merge header dicts into a new dict; later ones win and ``None`` is skipped."""
    headers: dict[str, Any] = {}
    for header_map in header_map_list:
        if header_map is not None:
            headers.update(header_map)
    return headers


def clean_headers(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return ``headers`` with a ``passcode`` masked (a copy; the original if none)."""
    if "passcode" not in headers:
        return headers
    cleaned = dict(headers)
    cleaned["passcode"] = MASK
    return cleaned


def clean_lines(lines: object) -> str:
    """``str(lines)`` with every passcode masked, with or without a space after the colon."""
    return mask_passcodes(str(lines))


def calculate_heartbeats(shb: Iterable[Any], chb: Iterable[Any]) -> tuple[int, int]:
    """Negotiate heart-beats (spec 1.2 "Heart-beating").

    Args:
        shb: the server's ``(sx, sy)`` from CONNECTED (strings or ints).
        chb: the client's ``(cx, cy)``.

    Returns:
        ``(send, receive)`` in milliseconds: how often the client must send, and how
        often it may expect the server to send; ``0`` means never.
    """
    server_x, server_y = shb  # any iterable of two (stomp.py's tests pass a map object)
    client_x, client_y = chb
    sx, sy, cx, cy = int(server_x), int(server_y), int(client_x), int(client_y)
    send = max(cx, sy) if cx != 0 and sy != 0 else 0
    receive = max(cy, sx) if cy != 0 and sx != 0 else 0
    return send, receive


def convert_frame(frame: Frame, encoding: str = "utf-8") -> list[bytes]:
    """Serialise ``frame`` as stomp.py does: the list of byte pieces to send.

    Headers are written sorted by name, a tuple value as one line per element, ``None``
    values omitted; no escaping (the caller escapes).  A ``content-length`` header is
    written as the encoded body's length when the body is not empty; the frame itself
    is left unchanged.  A frame without a command is a heart-beat: a lone LF.

    Args:
        frame: the frame.
        encoding: how a ``str`` body is encoded.

    Returns:
        The pieces; ``b"".join(...)`` gives the wire bytes.
    """
    body = encode(frame.body, encoding) if frame.body else b""
    lines: list[bytes] = []
    if frame.cmd:
        lines.append(frame.cmd.encode())
        lines.append(ENC_NEWLINE)
    for key, values in sorted(frame.headers.items()):
        if values is None:
            continue
        if key == "content-length" and body:
            values = len(body)
        for value in values if isinstance(values, tuple) else (values,):
            # Header lines are always UTF-8 (spec 1.2 "Value Encoding"); only the body
            # follows ``encoding``.
            lines.append(f"{key}:{value}\n".encode())
    lines.append(ENC_NEWLINE)
    if body:
        lines.append(body)
    if frame.cmd:
        lines.append(ENC_NULL)
    return lines


def length(s: Sized | None) -> int:
    """``len(s)``, or ``0`` for ``None``."""
    return 0 if s is None else len(s)


def get_uuid() -> str:
    """A new random UUID as text."""
    import uuid  # on first use (issue 13: import time)

    return str(uuid.uuid4())


def get_errno(e: BaseException) -> Any:
    """The ``errno`` of an exception, else its first argument."""
    errno = getattr(e, "errno", None)
    if errno is not None:
        return errno
    return e.args[0] if e.args else None

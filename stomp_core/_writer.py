"""The frame serializer: :class:`Frame` in, bytes out.

It never emits a frame the peer would misread: anything the target version cannot
encode raises :class:`LocalProtocolError` and nothing is produced (conformance 20).
Output always uses LF line endings (conformance 3).
"""

from __future__ import annotations

from ._errors import LocalProtocolError
from ._events import Send
from ._frame import Frame
from ._headers import escape_header
from ._reader import RAW_COMMANDS
from ._versions import ALL_COMMANDS, VersionRules

__all__ = ["serialize_frame", "serialize_frame_head", "serialize_send", "serialize_send_head"]

# Searched for in extension commands only, with re imported there (issue 13: import
# time).
_CONTROL_CHARACTER = "[\x00-\x1f\x7f]"


def _has_control_character(text: str) -> bool:
    import re

    return re.search(_CONTROL_CHARACTER, text) is not None


_CONTROL_NAMES = {"\n": "LF", "\r": "CR", "\x00": "NUL"}


def _check_raw(name: str, value: str) -> None:
    # CONNECT, STOMP and CONNECTED (and every frame before negotiation or in 1.0) are
    # written without escaping (conformance 25, 26; STOMP 1.2 "Value Encoding": they
    # stay raw "to remain backward compatible with STOMP 1.0"): refuse what would break
    # the line.
    if not name:
        raise LocalProtocolError("a header name cannot be empty")
    if ":" in name:
        raise LocalProtocolError(f"header name {name!r} cannot contain ':' without escaping")
    for part, text in (("name", name), ("value", value)):
        if "\n" in text or "\r" in text or "\x00" in text:
            # Say where, never what: the value may be a passcode read from a file with
            # its trailing newline, and exception texts end up in logs.
            index = min(i for i in (text.find("\n"), text.find("\r"), text.find("\x00")) if i >= 0)
            raise LocalProtocolError(
                f"header {name!r} cannot contain {_CONTROL_NAMES[text[index]]} in its {part} "
                f"(found at index {index}): CONNECT and CONNECTED headers, and every "
                "header in STOMP 1.0, are written without escaping"
            )


def _check_content_length(headers: tuple[tuple[str, str], ...], body: bytes) -> bool:
    # Conformance 36: a content-length that disagrees with the body would make the
    # peer cut the frame in the wrong place; refuse it.  Every occurrence is checked
    # because a last-wins peer (aiostomp) would read a later one.
    found = False
    expected = len(body)
    for name, value in headers:
        if name == "content-length":
            found = True
            # Compared as digits, not through int(): a value of thousands of digits
            # is simply not the body's length (int() would refuse it with ValueError).
            digits = value.lstrip("0") or "0"
            if not (value.isascii() and value.isdigit()) or digits != str(expected):
                raise LocalProtocolError(
                    f"content-length {value!r} does not match the body ({expected} bytes)"
                )
    return found


def serialize_frame(frame: Frame, rules: VersionRules | None) -> bytes:
    """Encode ``frame`` for the wire: :func:`serialize_frame_head`, the body, a NUL.

    Raises:
        LocalProtocolError: as :func:`serialize_frame_head`.
    """
    return b"".join((serialize_frame_head(frame, rules), frame.body, b"\x00"))


def serialize_frame_head(frame: Frame, rules: VersionRules | None) -> bytes:
    """Encode what precedes ``frame``'s body on the wire.

    The frame is this head, then ``frame.body`` unchanged, then a NUL: a caller that
    writes the body as a buffer of its own never copies it (a large body goes from the
    application to the socket as is).

    Args:
        frame: the frame to write; header names and values as the application sees them.
        rules: the negotiated version's rules, or ``None`` before negotiation (the frame
            is then written raw, like CONNECT).

    Returns:
        The command, the headers and the blank line that ends them; LF line endings.

    Raises:
        LocalProtocolError: the frame cannot be written correctly: an empty command or
            one containing a control character (CR, LF, NUL, 0x16...); a header the
            version cannot encode (conformance 20, 24-26); a body on a frame that may not
            carry one (STOMP 1.1+, conformance 19); a ``content-length`` that disagrees
            with the body (conformance 36); text that is not encodable as UTF-8.
    """
    command = frame.command
    if command not in ALL_COMMANDS and (not command or _has_control_character(command)):
        # CR, LF and NUL would break the frame; a leading 0x16 is refused by readers as
        # a TLS handshake; no command uses control characters (fuzz finding 1).
        raise LocalProtocolError(f"invalid command {command!r}")
    body = frame.body
    headers = frame.headers
    if rules is not None and body:
        # STOMP 1.1/1.2 "Body": only SEND, MESSAGE and ERROR may have one (conformance 19).
        allowed = rules.body_only_on
        if allowed is not None and command not in allowed:
            raise LocalProtocolError(
                f"a {command} frame cannot have a body in STOMP {rules.version}"
            )

    lines = [command]
    if rules is None or not rules.escape or command in RAW_COMMANDS:
        for name, value in headers:
            _check_raw(name, value)
            lines.append(f"{name}:{value}")
    else:
        # STOMP 1.1/1.2 "Value Encoding": names and values are escaped by the version's
        # table (1.1 has no CR escape, so a CR is refused; conformance 23-24).
        for name, value in headers:
            if not name:
                raise LocalProtocolError("a header name cannot be empty")
            lines.append(f"{escape_header(name, rules)}:{escape_header(value, rules)}")

    has_length = _check_content_length(headers, body) if headers else False
    if not has_length and b"\x00" in body:
        # Conformance 35: without content-length the NUL would end the frame early.
        lines.append(f"content-length:{len(body)}")
    lines.append("\n")
    try:
        return "\n".join(lines).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(f"frame text is not encodable as UTF-8: {exc}") from None


def serialize_send(send: Send) -> bytes | None:
    """The bytes of a plain SEND in one pass, or ``None`` when it needs the general path
    (:func:`serialize_send_head`, the body, a NUL)."""
    head = serialize_send_head(send)
    return None if head is None else b"".join((head, send.body, b"\x00"))


def serialize_send_head(send: Send) -> bytes | None:
    """The head of a plain SEND in one pass, or ``None`` when it needs the general path.

    A client's hot path (``Connection.send``): no intermediate :class:`Frame`, no
    per-header escaping.  Whenever it returns bytes they, followed by the body and a
    NUL, equal ``serialize_frame(event_to_frame(send, rules), rules)`` under every
    version's rules.  Anything out of the ordinary returns ``None`` so that the general
    path decides, with its checks and error messages: a name or value with a character to
    escape or to refuse (backslash, colon, CR, LF, NUL), an empty header name, a body
    holding NUL without ``content-length`` (conformance 35), text that is not encodable
    as UTF-8.  (A :class:`Send` cannot carry an extra ``content-length``: the event
    refuses one.)
    """
    body = send.body
    parts = ["SEND\ndestination:", send.destination]
    lines = 1
    # The standard headers in event_to_frame's order, then the extra ones.
    if send.content_type is not None:
        parts += ("\ncontent-type:", send.content_type)
        lines += 1
    if send.transaction is not None:
        parts += ("\ntransaction:", send.transaction)
        lines += 1
    if send.receipt is not None:
        parts += ("\nreceipt:", send.receipt)
        lines += 1
    if send.content_length:
        parts += ("\ncontent-length:", str(len(body)))
        lines += 1
    elif b"\x00" in body:
        return None
    for name, value in send.headers:
        if not name:
            return None
        parts += ("\n", name, ":", value)
    lines += len(send.headers)
    parts.append("\n\n")
    head = "".join(parts)
    # Each line holds exactly one colon and ends with one LF only if no name or value
    # holds either; with no backslash, CR or NUL either, nothing needs escaping in any
    # version and the 1.0 raw-header checks pass.
    if (
        head.count(":") != lines
        or head.count("\n") != lines + 2
        or "\\" in head
        or "\r" in head
        or "\x00" in head
    ):
        return None
    try:
        return head.encode("utf-8")
    except UnicodeEncodeError:
        return None

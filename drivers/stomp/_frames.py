"""Conversions between stomp.py-style frames (dict headers) and :mod:`stomp_core` events."""

from __future__ import annotations

import stomp_core
from stomp_core import Connected, FrameEvent, Send, frame_log

from . import logging
from .utils import Frame

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


__all__ = ["core_frame", "frame_from_event", "frames_from_parts"]

#: SEND headers that are typed fields of :class:`stomp_core.Send` (first occurrence).
_SEND_FIELDS = frozenset(
    {"destination", "content-type", "transaction", "receipt", "content-length"}
)


def core_frame(frame: Frame, encoding: str) -> stomp_core.Frame | Send:
    """What to hand to the core for ``frame``: a :class:`Send` event, or a raw frame.

    Header values are written with ``str()`` (``None`` values are left out, a tuple
    value repeats the header), bodies are encoded with ``encoding``.

    Raises:
        TypeError: the body is neither ``str`` nor ``bytes``.
        ValueError: the frame has no command.
    """
    body = frame.body
    if body is None:
        data = b""
    elif isinstance(body, str):
        # "" must stay empty: some codecs (UTF-16) would add a byte-order mark.
        data = body.encode(encoding) if body else b""
    elif isinstance(body, (bytes, bytearray, memoryview)):
        data = bytes(body)
    else:
        raise TypeError(f"a body must be str or bytes, not {type(body).__name__}")
    command = frame.cmd
    if not command:
        raise ValueError("a frame needs a command")
    pairs: list[tuple[str, str]] = []
    # SEND is the hot path: split off its typed fields in the same pass and build the
    # event directly (the core would parse the frame into the same event, slower).
    sending = command == "SEND"
    taken: dict[str, str] = {}
    for name, value in frame.headers.items():
        key = name if type(name) is str else str(name)
        if type(value) is str:
            text = value
        elif value is None:
            continue
        elif isinstance(value, tuple):
            # stomp.py's way to repeat a header: one line per item, the first one counts.
            texts = [str(item) for item in value]
            if texts and sending and key in _SEND_FIELDS and key not in taken:
                taken[key] = texts.pop(0)
            pairs.extend((key, text) for text in texts)
            continue
        else:
            text = str(value)
        if sending and key in _SEND_FIELDS and key not in taken:
            taken[key] = text
        else:
            pairs.append((key, text))
    if sending and taken.get("destination"):
        return Send(
            destination=taken["destination"],
            body=data,
            content_type=taken.get("content-type"),
            transaction=taken.get("transaction"),
            receipt=taken.get("receipt"),
            content_length="content-length" in taken,
            headers=tuple(pairs),
        )
    # Not the fast path: hand the whole frame over, typed fields included.
    pairs = [*taken.items(), *pairs]
    return stomp_core.Frame(command, tuple(pairs), data)


def frame_from_event(event: FrameEvent, *, auto_decode: bool, encoding: str) -> Frame:
    """The stomp.py-style frame listeners get for a received event (headers as a dict)."""
    headers: dict[str, Any] = {}
    if isinstance(event, Connected) and event.received_headers is not None:
        # As the broker wrote them, in its order: the typed fields would lose
        # heart-beat:0,0 (and add a version a 1.0 broker never sent).
        for name, value in event.received_headers:
            headers.setdefault(name, value)  # spec 1.2: the first occurrence wins
    elif isinstance(event, Connected):
        headers["version"] = event.version
        if event.heart_beat != (0, 0):
            headers["heart-beat"] = f"{event.heart_beat[0]},{event.heart_beat[1]}"
    for field_name, header in event.header_fields:
        value = getattr(event, field_name)
        if value is not None:
            headers[header] = value
    body: Any = getattr(event, "body", b"")
    if event.has_body and getattr(event, "content_length", False):
        headers["content-length"] = str(len(body))
    for name, value in event.headers:
        headers.setdefault(name, value)  # spec 1.2: the first occurrence wins
    if auto_decode:
        body = body.decode(encoding, errors="replace")
    frame = Frame(event.command, headers, body)
    if logging.isEnabledFor(logging.DEBUG):
        # The frame-log layout of every driver (stomp_core.frame_log).
        logging.debug(
            "%s", frame_log.format_parts(frame.cmd or "", headers.items(), body, sent=False)
        )
    return frame


def frames_from_parts(
    parts: Iterable[tuple[str, stomp_core.Headers, bytes]], auto_decode: bool, encoding: str
) -> list[Frame]:
    """The stomp.py-style frames for raw frames' ``(command, headers, body)`` (one read's
    MESSAGEs, :meth:`stomp_core.Connection.take_messages`).

    The headers as the broker wrote them, in its order (as stomp.py's parser keeps
    them), the first occurrence of a repeated name winning (spec 1.2 "Repeated Header
    Entries"); ``content-length`` among them.  The caller logs them.  One call per read,
    not per message (issue 13).
    """
    out: list[Frame] = []
    append = out.append
    for command, pairs, raw_body in parts:
        headers: dict[str, Any] = dict(pairs)
        if len(headers) != len(pairs):
            headers = _first_wins(pairs)
        body: Any = raw_body.decode(encoding, errors="replace") if auto_decode else raw_body
        append(Frame(command, headers, body))
    return out


def _first_wins(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    # A repeated name: dict() keeps the last value; the first one counts.
    headers: dict[str, Any] = {}
    for name, value in pairs:
        if name not in headers:
            headers[name] = value
    return headers

"""The text of one frame-log line, the same in every driver: :class:`FrameLog`.

The core logs nothing (DESIGN.md §4: logging happens only in drivers).  What it offers is
the layout, so that a frame looks the same in the log of ``stomp``, ``stomp_trio`` and
``stomp_asyncio``::

    sent CONNECT accept-version='1.2' host='/' login='guest' passcode='********'
    sent SEND destination='/queue/a' content-length='5' body=b'hello'
    received MESSAGE subscription='1' ... body=b'aaaaaaaaaa'...(+990 bytes)
    received heart-beat

Secrets never reach the text: a header whose name contains one of
:attr:`FrameLog.masked_parts` (``passcode``, ``password``, ``authorization``,
``token``, ...) shows :data:`MASK` instead of its value.  Bodies are cut after
:attr:`FrameLog.max_body` bytes.  One process-wide :data:`frame_log` holds the settings,
like the loggers it feeds; a driver calls ``frame_log.format(...)`` only when its logger
is enabled for DEBUG, or builds a :class:`LoggedConnection`, which hands the text of every
frame it sends or parses to a callable the driver gives (its logger's ``debug``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ._config import Config
from ._connection import NEED_DATA, Connection
from ._convert import event_to_frame
from ._events import (
    Event,
    FrameEvent,
    HeartbeatReceived,
    IncompleteMessage,
    Message,
)
from ._frame import Frame
from ._metrics import Metrics
from ._state import Role
from ._versions import rules_for

__all__ = ["MASK", "FrameLog", "LoggedConnection", "frame_log"]

#: What a secret header value is replaced with (stomp.py's mask, kept for familiarity).
MASK = "********"

#: Parts of header names whose values are secrets.  STOMP's own is ``passcode`` (spec
#: 1.2 "CONNECT or STOMP Frame"); brokers and gateways also take tokens in
#: ``Authorization``-style headers (HTTP's, RFC 9110 §11.6.2) on CONNECT.
DEFAULT_MASKED_PARTS = (
    "passcode",
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "api-key",
    "apikey",
    "credential",
)

#: Body bytes shown by default: enough to recognise a message, short enough that a
#: megabyte body does not flood the log.
DEFAULT_MAX_BODY = 200


class FrameLog:
    """How frames are written into drivers' DEBUG logs.

    Args:
        max_body: body bytes shown; the rest is counted, not shown (0: no body at all).
        masked_parts: header names containing one of these (case-insensitively) have
            their values masked.
    """

    __slots__ = ("masked_parts", "max_body")

    def __init__(
        self,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        masked_parts: Iterable[str] = DEFAULT_MASKED_PARTS,
    ) -> None:
        self.max_body = max_body
        self.masked_parts = tuple(part.lower() for part in masked_parts)

    def is_secret(self, name: str) -> bool:
        """Whether the value of header ``name`` must not be shown."""
        lowered = name.lower()
        return any(part in lowered for part in self.masked_parts)

    def format(self, frame: Frame | FrameEvent, *, sent: bool, version: str | None = None) -> str:
        """The log text of ``frame``, sent by us (``sent``) or received.

        Args:
            frame: a core frame or frame event.
            sent: our frame (``"sent ..."``) or the peer's (``"received ..."``).
            version: the negotiated version, which names some headers of an event (the
                ACK id is ``id`` in 1.2, ``message-id`` before); ``None`` before CONNECTED.
        """
        if not isinstance(frame, Frame):
            frame = event_to_frame(frame, rules_for(version) if version is not None else None)
        return self.format_parts(frame.command, frame.headers, frame.body, sent=sent)

    def format_parts(
        self,
        command: str,
        headers: Iterable[tuple[str, object]],
        body: bytes | str | None,
        *,
        sent: bool,
    ) -> str:
        """The log text of a frame given as its parts (for drivers with frames of their own).

        A command of ``"heartbeat"`` (any case) stands for a heart-beat EOL.
        """
        direction = "sent" if sent else "received"
        if command.lower() == "heartbeat":
            return f"{direction} heart-beat"
        parts = [direction, command]
        for name, value in headers:
            shown = MASK if self.is_secret(str(name)) else str(value)
            parts.append(f"{name}={shown!r}")
        if body:
            data = body.encode() if isinstance(body, str) else bytes(body)
            limit = max(0, self.max_body)
            if limit:
                shown_body = repr(data[:limit])
                if len(data) > limit:
                    shown_body += f"...(+{len(data) - limit} bytes)"
            else:
                shown_body = f"({len(data)} bytes)"
            parts.append(f"body={shown_body}")
        return " ".join(parts)


#: The settings every driver's frame log uses: ``stomp_core.frame_log.max_body = 1000``
#: shows more of each body, in every driver.
frame_log = FrameLog()


class LoggedConnection(Connection):
    """A :class:`~stomp_core.Connection` that reports each frame's log text to ``write``.

    A driver builds one instead of a plain ``Connection`` when its frame logger is
    enabled for DEBUG, so that a connection nobody logs pays nothing for it.  The text
    comes from :data:`frame_log` at the time of each frame.

    Args:
        role: as for ``Connection``.
        config: as for ``Connection``.
        write: takes one line of text per frame (e.g. ``logger.debug``).
        now: as for ``Connection``.
        metrics: as for ``Connection``.
    """

    def __init__(
        self,
        role: Role,
        config: Config | None = None,
        *,
        write: Callable[[str], object],
        now: float | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(role, config, now=now, metrics=metrics)
        self._write = write

    def send(self, event: FrameEvent | Frame, *, now: float) -> None:
        """As :meth:`Connection.send`; the frame is reported once it was accepted."""
        super().send(event, now=now)
        self._write(frame_log.format(event, sent=True, version=self.version))

    def send_message(
        self,
        destination: str,
        body: bytes,
        *,
        content_type: str | None = None,
        content_length: bool = True,
        now: float,
    ) -> bytes:
        """As :meth:`Connection.send_message`, through :meth:`send`: the frame is reported."""
        return self._send_message_event(destination, body, content_type, content_length, now)

    def next_event(self) -> Event | type[NEED_DATA]:
        """As :meth:`Connection.next_event`; frames and heart-beats are reported."""
        event = super().next_event()
        if isinstance(event, FrameEvent):
            self._write(frame_log.format(event, sent=False, version=self.version))
        elif isinstance(event, IncompleteMessage):
            self._write(frame_log.format(event.frame, sent=False, version=self.version))
        elif isinstance(event, HeartbeatReceived):
            self._write(frame_log.format_parts("heartbeat", (), None, sent=False))
        return event

    def offer_messages(self, offer: Callable[[Message], bool]) -> int:
        """As :meth:`Connection.offer_messages`; each message taken is reported."""
        write = self._write

        def logged(message: Message) -> bool:
            if not offer(message):
                return False
            write(frame_log.format(message, sent=False, version=self.version))
            return True

        return super().offer_messages(logged)

"""The exceptions the async drivers raise, and how the core's terminal events map onto them.

Users of ``stomp_trio`` and ``stomp_asyncio`` see these classes (both drivers re-export them),
so ``except stomp_trio.ConnectionLost`` and ``except stomp_asyncio.ConnectionLost`` catch the
same thing.
"""

from __future__ import annotations

import errno

from .._errors import RemoteProtocolError
from .._events import (
    ConnectionClosed,
    ConnectTimeout,
    DisconnectTimeout,
    Error,
    Event,
    HeartbeatTimeout,
)
from .._frame import Headers
from ._bodies import decode_text

__all__ = [
    "BrokerError",
    "ConnectFailed",
    "ConnectionLost",
    "ProtocolViolation",
    "ReceiptTimeout",
    "StompError",
    "close_reason",
    "connect_failed",
    "connection_lost",
    "dial_failed",
    "error_text",
    "failure_reason",
    "parse_failure",
]


#: Words for the errors of a failed dial whose own text does not say what happened:
#: asyncio reports a refusal as "[Errno 111] Connect call failed ('127.0.0.1', 1)".
_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ETIMEDOUT: "timed out",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ECONNRESET: "connection reset by the peer",
}

#: Characters of an ERROR body's first line put into an exception's text: a stack trace
#: or an HTML page from a proxy must not make the message unreadable.
ERROR_LINE_MAX = 300


def error_text(message: str | None, body: bytes | str, content_type: str | None = None) -> str:
    """What a broker's ERROR says, in one line: its ``message`` header and the first line
    of its body (spec 1.2 "ERROR": the header is a short description, the body may hold
    the details), e.g. ``"Bad CONNECT: Access refused for user 'guest'"``.

    Returns:
        ``message: first line``, or whichever of the two exists (the body's line alone
        if it repeats the header), or ``""``.
    """
    text = body if isinstance(body, str) else decode_text(body, content_type, errors="replace")
    line = next((candidate.strip() for candidate in text.splitlines() if candidate.strip()), "")
    if len(line) > ERROR_LINE_MAX:
        line = line[:ERROR_LINE_MAX] + "..."
    message = (message or "").strip()
    if not line or line == message:
        return message
    if not message or message in line:
        return line
    return f"{message}: {line}"


class StompError(Exception):
    """Base class of every error the async drivers raise for protocol-level reasons."""


class ConnectFailed(StompError):
    """No session could be opened: refused, timed out, TLS failed, or the broker answered
    CONNECT with ERROR.

    Attributes:
        message: the ERROR's ``message`` header when the broker refused, else a description.
        body: the ERROR's body (``b""`` if none).
        headers: the ERROR's headers (empty if none).
        refused: ``True`` when the broker answered with ERROR (retrying would not help:
            drivers do not retry it), ``False`` for transport failures and timeouts.
    """

    def __init__(
        self, message: str, *, body: bytes = b"", headers: Headers = (), refused: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.body = body
        self.headers = headers
        self.refused = refused

    @classmethod
    def from_error(cls, error: Error) -> ConnectFailed:
        """The exception for an ERROR frame that answered CONNECT (e.g. bad credentials)."""
        return cls(
            "the broker refused the connection: "
            f"{error_text(error.message, error.body, error.content_type) or 'ERROR'}",
            body=error.body,
            headers=error.headers,
            refused=True,
        )


class BrokerError(StompError):
    """The broker sent an ERROR frame (spec 1.2 "ERROR"); the connection is closed after it.

    Attributes:
        message: the ``message`` header (``""`` if absent).
        body: the body with the details.
        content_type: the body's MIME type, if given.
        receipt_id: the receipt of the frame that caused it, if the broker said.
        headers: the other headers, in wire order.
    """

    def __init__(
        self,
        message: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        receipt_id: str | None = None,
        headers: Headers = (),
    ) -> None:
        text = error_text(message, body, content_type)
        super().__init__(f"the broker sent ERROR: {text}" if text else "the broker sent ERROR")
        self.message = message
        self.body = body
        self.content_type = content_type
        self.receipt_id = receipt_id
        self.headers = headers

    @classmethod
    def from_event(cls, error: Error) -> BrokerError:
        """Build it from the core's :class:`~stomp_core.Error` event."""
        return cls(
            error.message or "",
            body=error.body,
            content_type=error.content_type,
            receipt_id=error.receipt_id,
            headers=error.headers,
        )

    @property
    def text(self) -> str:
        """The body decoded as text (see ``decode_text``), replacing undecodable bytes."""
        return decode_text(self.body, self.content_type, errors="replace")


class ReceiptTimeout(StompError, TimeoutError):
    """The RECEIPT of a frame did not arrive in time.  The frame may still take effect.

    Attributes:
        receipt_id: the receipt awaited.
    """

    def __init__(self, receipt_id: str, timeout: float) -> None:
        super().__init__(f"no RECEIPT for {receipt_id!r} within {timeout:g} s")
        self.receipt_id = receipt_id


class ConnectionLost(StompError):
    """The connection dropped (or was closed) while an operation needed it.

    Pending receipts and open transactions fail with it (conformance 100, 101); the cause,
    if any, is chained as ``__cause__``.
    """


class ProtocolViolation(StompError):
    """The broker broke the protocol (wraps :class:`~stomp_core.RemoteProtocolError`).

    Attributes:
        error: the core's exception.
    """

    def __init__(self, error: RemoteProtocolError) -> None:
        super().__init__(f"the broker broke the STOMP protocol: {error.message}")
        self.error = error


def close_reason(event: Event) -> StompError:
    """The exception that stands for a terminal core event, for failing waiters.

    Args:
        event: :class:`~stomp_core.Error`, :class:`~stomp_core.ConnectionClosed`,
            :class:`~stomp_core.HeartbeatTimeout`, :class:`~stomp_core.ConnectTimeout` or
            :class:`~stomp_core.DisconnectTimeout`.

    Returns:
        :class:`BrokerError` for ERROR, :class:`ConnectFailed` for a CONNECT timeout, and
        :class:`ConnectionLost` for the others.
    """
    if isinstance(event, Error):
        return BrokerError.from_event(event)
    if isinstance(event, ConnectTimeout):
        return ConnectFailed("no CONNECTED frame arrived within the connect timeout")
    if isinstance(event, HeartbeatTimeout):
        return ConnectionLost("the broker stopped heart-beating (connection presumed dead)")
    if isinstance(event, DisconnectTimeout):
        return ConnectionLost("no RECEIPT for DISCONNECT within the disconnect timeout")
    if isinstance(event, ConnectionClosed):
        if event.clean:
            return ConnectionLost("the connection was closed")
        return ConnectionLost("the broker closed the connection unexpectedly")
    raise TypeError(f"{type(event).__name__} does not end a connection")


def connection_lost(message: str, cause: BaseException | None) -> ConnectionLost:
    """A :class:`ConnectionLost` saying ``message: reason``, with ``cause`` as
    ``__cause__`` (the reason is :func:`failure_reason`)."""
    error = ConnectionLost(message if cause is None else f"{message}: {failure_reason(cause)}")
    error.__cause__ = cause
    return error


def failure_reason(exc: BaseException) -> str:
    """Why a transport operation failed, in words, never empty.

    The exception's own message, followed by what its explicit causes and (for an
    exception group) its members add: trio wraps the ssl library's reason in an empty
    ``BrokenResourceError``, and the refusal of each address in a group under "all
    attempts failed".  The type name stands in when nothing says more (asyncio's bare
    ``ConnectionResetError`` for a TLS handshake the peer cut).
    """
    # An exception group's ``message`` leaves out the member count; ours keep their
    # ``message`` for the ERROR's header alone, their text says more (error_text).
    own = str(exc) if isinstance(exc, StompError) else str(getattr(exc, "message", None) or exc)
    words = _ERRNO_WORDS.get(getattr(exc, "errno", None) or 0) if isinstance(exc, OSError) else None
    if words is not None and words not in own.lower():
        own = f"{own} ({words})"
    members = getattr(exc, "exceptions", None)
    inner: list[BaseException] = list(members) if isinstance(members, tuple) else []
    if not inner and exc.__cause__ is not None:
        inner = [exc.__cause__]
    deeper = "; ".join(failure_reason(member) for member in inner)
    if own and deeper and own not in deeper:
        return f"{own}: {deeper}"
    return deeper or own or type(exc).__name__


def dial_failed(endpoint: object, exc: BaseException) -> ConnectFailed:
    """The :class:`ConnectFailed` for a dial or TLS handshake to ``endpoint`` that raised
    ``exc`` (refused, unreachable, DNS, TLS): it always says why."""
    failed = ConnectFailed(f"could not connect to {endpoint}: {failure_reason(exc)}")
    failed.__cause__ = exc
    return failed


def parse_failure(error: RemoteProtocolError, *, eof: bool) -> StompError:
    """The exception for a received frame the core could not parse.

    Args:
        error: the core's exception.
        eof: the connection had ended: a frame cut short by EOF is a dropped
            connection (worth reconnecting), not a broker that misspoke.
    """
    failure: StompError
    if eof:
        failure = ConnectionLost(f"the connection dropped mid-frame ({error.message})")
    else:
        failure = ProtocolViolation(error)
    failure.__cause__ = error
    return failure


def connect_failed(reason: StompError) -> ConnectFailed:
    """The exception for a connection that ended before CONNECTED, for ``reason``."""
    if isinstance(reason, ConnectFailed):
        return reason
    failed = ConnectFailed(f"the connection ended before CONNECTED: {reason}")
    failed.__cause__ = reason
    return failed

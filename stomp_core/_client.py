"""Pure helpers shared by the async client drivers (``stomp_asyncio`` and ``stomp_trio``).

Both drivers present the same API (``open_connection``, ``send``, ``subscribe``,
``transaction``, ``state_changes``) and the same exceptions.  What they share without any
I/O lives here, so that the two stay identical by construction:

* broker addresses: :func:`parse_hosts` turns ``"stomp://host:port"``,
  ``"stomp+ssl://host:port"`` or ``(host, port)`` pairs into :class:`Endpoint` objects, and
  :func:`use_tls` decides per endpoint whether to dial TLS;
* bodies: :func:`encode_body` (a ``str`` body becomes UTF-8 with
  ``text/plain;charset=utf-8``, conformance 37) and :func:`decode_text` (``text/*`` without
  charset is UTF-8, an explicit ``charset`` is honoured, conformance 38);
* ids: :class:`IdCounter`, a deterministic counter for receipt, subscription and
  transaction ids (never ``uuid4``: reproducible tests and logs);
* frames built from user arguments: :func:`build_connect` and :func:`build_ack`;
* the exceptions users see (:class:`StompError` and its subclasses) and
  :func:`close_reason`, which maps the core's terminal events onto them;
* observable lifecycle: :class:`ClientState` and :class:`StateChange`;
* :class:`ReconnectPolicy`, the user-facing reconnect settings over the core's backoff
  (``_backoff.py``); the random source for the jitter is injected by the driver;
* checked arguments (:func:`check_client_arguments`, :func:`check_subscribe_arguments`);
* received frames: :func:`route_message` finds a MESSAGE's subscription and
  :class:`Leftovers` tells the frames nobody waits for that are expected from those that
  go to the ``on_unhandled`` hook (conformance 88, 89).

Nothing here reads a clock, draws random numbers, logs or touches a socket.
"""

from __future__ import annotations

import codecs
import enum
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from ._backoff import FOREVER, ReconnectBackoff, ReconnectSchedule
from ._convert import event_headers
from ._errors import RemoteProtocolError
from ._events import (
    Ack,
    Connect,
    ConnectionClosed,
    ConnectTimeout,
    DisconnectTimeout,
    Error,
    Event,
    HeartbeatTimeout,
    Message,
    Nack,
    Receipt,
)
from ._frame import Headers

__all__ = [
    "DEFAULT_HEARTBEAT_TOLERANCE",
    "DEFAULT_PORT",
    "DEFAULT_TLS_PORT",
    "BrokerError",
    "ClientState",
    "ConnectFailed",
    "ConnectionLost",
    "Endpoint",
    "IdCounter",
    "ProtocolViolation",
    "ReceiptTimeout",
    "ReconnectPolicy",
    "StateChange",
    "StompError",
    "build_ack",
    "build_connect",
    "charset_of",
    "close_reason",
    "decode_text",
    "encode_body",
    "parse_hosts",
    "use_tls",
]

#: The IANA-registered STOMP port (RabbitMQ, ActiveMQ, Artemis all default to it).
DEFAULT_PORT = 61613
#: The conventional STOMP-over-TLS port (RabbitMQ ``stomp.listeners.ssl``, ActiveMQ ``stomp+ssl``).
DEFAULT_TLS_PORT = 61614

#: The async drivers' default receive tolerance, in negotiated intervals of silence.
#: Higher than stomp.py's 1.5 on purpose: ActiveMQ checks for its own silence once per
#: interval and beats only when the previous period had no write, so up to about two
#: intervals pass between its frames (measured on 5.17: the first beat comes 2.0 s after
#: CONNECTED with ``heart-beat:1000,1000``).  2.5 keeps a margin above that.
DEFAULT_HEARTBEAT_TOLERANCE = 2.5

#: URL scheme -> whether it asks for TLS.
_SCHEMES = {"stomp": False, "stomp+ssl": True, "stomp+tls": True}

#: The content type given to ``str`` bodies (conformance 37).
TEXT_PLAIN_UTF8 = "text/plain;charset=utf-8"

# CONNECT headers the drivers set from their own parameters; extra headers may not repeat
# them (a second ``login`` would be ignored by the broker, spec 1.2 "Repeated Header
# Entries", which would hide a mistake).
_RESERVED_CONNECT_HEADERS = frozenset(
    {"accept-version", "host", "login", "passcode", "heart-beat", "receipt"}
)


# --------------------------------------------------------------------------- errors


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
            f"the broker refused the connection: {error.message or 'ERROR'}",
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
        super().__init__(message or "the broker sent ERROR")
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
        """The body decoded as text (see :func:`decode_text`), replacing undecodable bytes."""
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


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One broker address.

    Args:
        host: host name or address (IPv6 without brackets).
        port: TCP port.
        tls: ``True`` for a ``stomp+ssl://`` URL, ``False`` for ``stomp://``, ``None`` when
            given as a ``(host, port)`` pair (the driver's ``ssl`` argument decides).
    """

    host: str
    port: int
    tls: bool | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _parse_url(url: str) -> Endpoint:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # a port that is not a number or out of range
        raise ValueError(f"bad broker URL {url!r}: {exc}") from None
    if parts.scheme not in _SCHEMES:
        raise ValueError(
            f"bad broker URL {url!r}: the scheme must be one of {', '.join(sorted(_SCHEMES))}"
        )
    if parts.username is not None or parts.password is not None:
        # Credentials in URLs end up in logs and process listings.
        raise ValueError(
            f"bad broker URL for {parts.hostname}: put credentials in login=/passcode=, "
            "not in the URL"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"bad broker URL {url!r}: only scheme://host:port is understood")
    if not parts.hostname:
        raise ValueError(f"bad broker URL {url!r}: no host")
    tls = _SCHEMES[parts.scheme]
    if port is None:
        port = DEFAULT_TLS_PORT if tls else DEFAULT_PORT
    return Endpoint(parts.hostname, port, tls)


def _check_pair(entry: object) -> Endpoint:
    if isinstance(entry, (str, bytes)) or not isinstance(entry, (tuple, list)) or len(entry) != 2:
        raise ValueError(f"each host must be a URL or a (host, port) pair, got {entry!r}")
    host, port = entry
    if not isinstance(host, str) or not host:
        raise ValueError(f"a host must be a non-empty str, got {host!r}")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port <= 65535:
        raise ValueError(f"a port must be an int in 1..65535, got {port!r}")
    return Endpoint(host, port, None)


def parse_hosts(hosts: str | Iterable[str | tuple[str, int]]) -> list[Endpoint]:
    """The brokers to try, in order.

    Args:
        hosts: one URL (``"stomp://host:61613"``, ``"stomp+ssl://host:61614"``, IPv6 as
            ``"stomp://[::1]:61613"``), several URLs separated by commas, or a list of URLs
            and ``(host, port)`` pairs.  A URL without port gets 61613 (61614 for TLS).

    Returns:
        One :class:`Endpoint` per entry, duplicates kept.

    Raises:
        ValueError: an empty list, an unknown scheme, credentials or a path in a URL, a
            malformed pair or an out-of-range port.
    """
    if isinstance(hosts, str):
        entries: list[str | tuple[str, int]] = [u for u in hosts.split(",") if u.strip()]
    elif isinstance(hosts, bytes):
        raise ValueError(f"hosts must be str, not bytes: {hosts!r}")
    else:
        entries = list(hosts)
    endpoints = [_parse_url(e) if isinstance(e, str) else _check_pair(e) for e in entries]
    if not endpoints:
        raise ValueError("no broker given: hosts is empty")
    return endpoints


def use_tls(endpoint: Endpoint, tls: bool | None) -> bool:
    """Whether to dial ``endpoint`` over TLS.

    Args:
        endpoint: the broker.
        tls: the driver's ``ssl`` argument reduced to a bool (an ``SSLContext`` is
            ``True``), or ``None`` when the caller left it unset.

    Returns:
        ``tls`` if set, else what the URL asked for (plain for ``(host, port)`` pairs).

    Raises:
        ValueError: the URL asked for TLS (``stomp+ssl://``) and ``tls`` is ``False``:
            a silent downgrade to plain text is never done.
    """
    if tls is None:
        return bool(endpoint.tls)
    if endpoint.tls and not tls:
        raise ValueError(f"{endpoint} was given as stomp+ssl:// but ssl=False was passed")
    return tls


# --------------------------------------------------------------------------- bodies


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a MIME type, lower-cased, or ``None``.

    >>> charset_of('text/plain; Charset="ISO-8859-1"')
    'iso-8859-1'
    """
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        name, sep, value = param.partition("=")
        if sep and name.strip().lower() == "charset":
            return value.strip().strip('"').lower() or None
    return None


def decode_text(body: bytes, content_type: str | None, *, errors: str = "strict") -> str:
    """Decode a body as text (conformance 38).

    The ``charset`` of the content type is honoured; without one (``text/*``, JSON, or no
    content type at all, which is how stomp.py sends text) the body is taken as UTF-8.

    Raises:
        ValueError: the charset is unknown (:class:`LookupError` is re-raised as this).
        UnicodeDecodeError: the bytes are not valid in that charset (with ``"strict"``).
    """
    charset = charset_of(content_type) or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        raise ValueError(f"unknown charset {charset!r} in content-type {content_type!r}") from None
    return body.decode(charset, errors)


def encode_body(
    body: bytes | bytearray | memoryview | str, content_type: str | None
) -> tuple[bytes, str | None]:
    """The octets and content type to send for ``body`` (conformance 37).

    A ``str`` is encoded with the content type's ``charset`` (UTF-8 without one) and, with
    no content type given, is labelled ``text/plain;charset=utf-8``.  Bytes pass unchanged.

    Raises:
        TypeError: ``body`` is neither text nor bytes.
        ValueError: the charset is unknown.
    """
    if isinstance(body, str):
        if content_type is None:
            return body.encode("utf-8"), TEXT_PLAIN_UTF8
        charset = charset_of(content_type) or "utf-8"
        try:
            return body.encode(charset), content_type
        except LookupError:
            raise ValueError(
                f"unknown charset {charset!r} in content-type {content_type!r}"
            ) from None
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body), content_type
    raise TypeError(f"a body must be str or bytes, got {type(body).__name__}")


# --------------------------------------------------------------------------- ids and frames


class IdCounter:
    """Deterministic ids: ``prefix`` followed by 1, 2, 3, ...

    Receipt ids must be unique per connection (conformance 40); a counter that lives as
    long as the client keeps them unique across reconnects too, so a late RECEIPT from an
    old connection can never match a new waiter.

    Args:
        prefix: e.g. ``"receipt-"``, ``"sub-"``, ``"tx-"``.
    """

    __slots__ = ("_count", "_prefix")

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._count = 0

    def next(self) -> str:
        """A new id."""
        self._count += 1
        return f"{self._prefix}{self._count}"


def build_connect(
    host: str,
    *,
    vhost: str | None = None,
    login: str | None = None,
    passcode: str | None = None,
    versions: Sequence[str] = ("1.0", "1.1", "1.2"),
    heartbeats: tuple[int, int] = (0, 0),
    headers: Mapping[str, str] | None = None,
) -> Connect:
    """The CONNECT event for one connection attempt.

    Args:
        host: the host being dialled; the ``host`` header (virtual host) unless ``vhost``.
        vhost: the virtual host to ask for (RabbitMQ: the vhost name; ``"/"`` is its default).
        login: user name.
        passcode: password (never shown by ``repr``).
        versions: versions to offer, lowest first as the spec lists them.
        heartbeats: ``(cx, cy)`` in ms (spec 1.2 "Heart-beating").
        headers: extra CONNECT headers (e.g. ``client-id`` for ActiveMQ durable topics).

    Raises:
        ValueError: ``headers`` repeats a header set from the other arguments.
    """
    extra: Headers = ()
    if headers:
        clash = sorted(name for name in headers if name in _RESERVED_CONNECT_HEADERS)
        if clash:
            raise ValueError(
                f"set {', '.join(clash)} with the open_connection arguments, not in headers="
            )
        extra = tuple(headers.items())
    return Connect(
        accept_version=tuple(versions),
        host=vhost if vhost is not None else host,
        login=login,
        passcode=passcode,
        heart_beat=heartbeats,
        headers=extra,
    )


def build_ack(
    message: Message,
    version: str,
    *,
    nack: bool = False,
    transaction: str | None = None,
    receipt: str | None = None,
) -> Ack:
    """The ACK (or NACK) for ``message`` with the headers ``version`` requires.

    1.2 acknowledges by the MESSAGE's ``ack`` header, 1.0 and 1.1 by ``message-id``; 1.1
    also needs ``subscription`` (spec 1.1/1.2 "ACK").  1.0 has no NACK: the core refuses it.
    """
    cls = Nack if nack else Ack
    return cls(
        id=message.ack_id(version),
        subscription=message.subscription,
        transaction=transaction,
        receipt=receipt,
    )


# --------------------------------------------------------------------------- lifecycle


class ClientState(enum.Enum):
    """Where a client is in its life; every change is reported as a :class:`StateChange`.

    ``CONNECTING -> CONNECTED -> (RECONNECTING -> CONNECTED)* -> DISCONNECTING -> CLOSED``;
    ``CLOSED`` is also reached straight from any state when the connection fails for good.
    """

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTING = "disconnecting"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StateChange:
    """One lifecycle transition of a client.

    Args:
        state: the new state.
        endpoint: the broker involved (being dialled, or connected to), if any.
        error: why the connection was lost, an attempt failed, or the client closed
            (``None`` for a deliberate close or a success).
        attempt: the failed attempts so far in the current (re)connect sequence.
    """

    state: ClientState
    endpoint: Endpoint | None = None
    error: BaseException | None = None
    attempt: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectPolicy:
    """How a client reconnects after losing its connection.

    The waits follow stomp.py's formula (see ``stomp_core/_backoff.py``): the n-th wait is
    ``min(maximum, initial * (1 + increase) ** (n - 1)) * (1 + random() * jitter)``.  A
    round tries every host once; each failed host counts as one attempt.

    After a reconnect the client replays its live subscriptions; pending receipts and open
    transactions fail with :class:`ConnectionLost`, because the broker aborted them
    (conformance 100).  An ERROR frame from the broker is never retried: the broker
    deliberately ended the session, and retrying what it refused would loop.  A malformed
    frame (:class:`ProtocolViolation`) counts as a lost connection and is retried.

    Args:
        initial: the first wait, in seconds.
        increase: growth per wait (``0.5``: each wait is 1.5 times the previous).
        jitter: random extra, as a fraction of the wait, to spread reconnecting clients.
        maximum: cap on a wait before the jitter, in seconds.
        attempts_max: failed attempts before giving up; ``-1`` (the default) never gives
            up: a long-running consumer should ride out a broker restart, and the
            transitions stay observable through ``state_changes()``.
        retry_first_connect: also apply this policy to the first connection.  Off by
            default, so a wrong address fails at once instead of retrying.

    Raises:
        ValueError: a negative, infinite or NaN number, or ``attempts_max < -1``.
    """

    initial: float = 0.1
    increase: float = 0.5
    jitter: float = 0.1
    maximum: float = 60.0
    attempts_max: int = FOREVER
    retry_first_connect: bool = False

    def __post_init__(self) -> None:
        self.backoff(lambda: 0.0)  # validates every number

    def backoff(self, rng: Callable[[], float]) -> ReconnectBackoff:
        """The core's backoff for this policy, drawing jitter from ``rng`` (``random.random``)."""
        return ReconnectBackoff(
            rng=rng,
            initial=self.initial,
            increase=self.increase,
            jitter=self.jitter,
            maximum=self.maximum,
            attempts_max=self.attempts_max,
        )

    def schedule(self, rng: Callable[[], float]) -> ReconnectSchedule:
        """A fresh reconnect sequence (attempt counter and wait lengths) for this policy."""
        return self.backoff(rng).schedule()


# --------------------------------------------------------------------------- received frames
# (appended for stomp_trio; stomp_asyncio has the same logic inline and may switch to these)

__all__ += ["UnhandledHook", "ack_for", "connection_lost", "message_headers"]

#: ``on_unhandled(event)``: the drivers call it with a MESSAGE or RECEIPT the client cannot
#: place (conformance 88, 89), e.g. a MESSAGE for a subscription it does not know.
UnhandledHook = Callable[[Event], None]


def message_headers(event: Message | Error) -> dict[str, str]:
    """Every header of a received MESSAGE or ERROR as a dict, the first occurrence winning.

    The typed fields come first (they hold the first occurrence on the wire), then the
    other headers in wire order; a repeated header keeps its first value (spec 1.2
    "Repeated Header Entries").
    """
    return event_headers(event)


def ack_for(
    message: Message,
    version: str,
    subscription: str,
    *,
    nack: bool = False,
    transaction: str | None = None,
    receipt: str | None = None,
) -> Ack:
    """:func:`build_ack`, naming ``subscription`` when the MESSAGE did not.

    STOMP 1.0 brokers may leave the ``subscription`` header out of MESSAGE, yet a 1.1 ACK
    needs it (spec 1.1 "ACK"): the driver knows which subscription it routed the message
    to, so that id is used.

    Args:
        message: the MESSAGE being acknowledged.
        version: the negotiated version.
        subscription: the id of the subscription the driver delivered it to.
        nack: build a NACK (1.1+).
        transaction: the transaction id, if any.
        receipt: the receipt id, if any.
    """
    ack = build_ack(message, version, nack=nack, transaction=transaction, receipt=receipt)
    if ack.subscription is not None:
        return ack
    return type(ack)(id=ack.id, subscription=subscription, transaction=transaction, receipt=receipt)


def connection_lost(message: str, cause: BaseException | None) -> ConnectionLost:
    """A :class:`ConnectionLost` saying ``message: cause``, with ``cause`` as ``__cause__``."""
    error = ConnectionLost(message if cause is None else f"{message}: {cause}")
    error.__cause__ = cause
    return error


# --------------------------------------------------------------------------- checked arguments

__all__ += [
    "ACK_MODES",
    "Leftovers",
    "check_client_arguments",
    "check_subscribe_arguments",
    "route_message",
]

#: The SUBSCRIBE ``ack`` modes (spec 1.2 "SUBSCRIBE ack Header"; 1.0 lacks the last).
ACK_MODES = ("auto", "client", "client-individual")


def _check_seconds(name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value < math.inf  # NaN fails too
    ):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def _check_buffer(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def check_client_arguments(
    *,
    connect_timeout: float,
    disconnect_timeout: float,
    receipt_timeout: float,
    subscription_buffer: int,
    reconnect: ReconnectPolicy | None,
    on_unhandled: UnhandledHook | None,
) -> None:
    """Check the ``open_connection`` arguments both async drivers share (not ``ssl``,
    whose type lives in the ``ssl`` module the core never imports).

    Raises:
        ValueError: a timeout that is not a positive finite number of seconds, or a
            ``subscription_buffer`` that is not an int >= 1.
        TypeError: ``reconnect`` is not a :class:`ReconnectPolicy` (or ``None``), or
            ``on_unhandled`` is not callable (or ``None``).
    """
    _check_seconds("connect_timeout", connect_timeout)
    _check_seconds("disconnect_timeout", disconnect_timeout)
    _check_seconds("receipt_timeout", receipt_timeout)
    _check_buffer("subscription_buffer", subscription_buffer)
    if reconnect is not None and not isinstance(reconnect, ReconnectPolicy):
        raise TypeError(f"reconnect must be a ReconnectPolicy or None, got {reconnect!r}")
    if on_unhandled is not None and not callable(on_unhandled):
        raise TypeError(f"on_unhandled must be callable or None, got {on_unhandled!r}")


def check_subscribe_arguments(ack: str, buffer: int | None) -> None:
    """Check ``subscribe(ack=..., buffer=...)`` before anything is sent.

    Raises:
        ValueError: an unknown ack mode, or a ``buffer`` that is not an int >= 1.
    """
    if ack not in ACK_MODES:
        raise ValueError(f"ack must be one of {', '.join(ACK_MODES)}, got {ack!r}")
    if buffer is not None:
        _check_buffer("buffer", buffer)


# --------------------------------------------------------------------------- routing


class _Subscribed(Protocol):
    @property
    def destination(self) -> str: ...


_S = TypeVar("_S", bound=_Subscribed)


def route_message(event: Message, subscriptions: Mapping[str, _S]) -> _S | None:
    """The subscription a MESSAGE belongs to, or ``None`` (conformance 87, 88).

    By the ``subscription`` header; a STOMP 1.0 broker may leave it out, and then the
    (first) subscription to the MESSAGE's destination takes it.

    Args:
        event: the MESSAGE.
        subscriptions: the client's live subscriptions by id, in subscription order.
    """
    if event.subscription is not None:
        return subscriptions.get(event.subscription)
    return next((s for s in subscriptions.values() if s.destination == event.destination), None)


class Leftovers:
    """Frames one connection may still receive although nobody waits for them.

    Such frames are expected, so the drivers only debug-log them instead of handing them
    to ``on_unhandled`` (conformance 88, 89): the RECEIPT of DISCONNECT (the core acts on
    it), RECEIPTs of waits that timed out or were cancelled, and MESSAGEs the broker sent
    before it saw our UNSUBSCRIBE.  One per connection: ids of an old one mean nothing.
    """

    __slots__ = ("_receipts", "_unsubscribed")

    def __init__(self) -> None:
        self._receipts: set[str] = set()
        self._unsubscribed: set[str] = set()

    def expect_receipt(self, receipt_id: str) -> None:
        """A RECEIPT for ``receipt_id`` may arrive with no waiter: it is not unhandled."""
        self._receipts.add(receipt_id)

    def unsubscribed(self, subscription_id: str) -> None:
        """UNSUBSCRIBE went out (or is about to): MESSAGEs may still be in flight."""
        self._unsubscribed.add(subscription_id)

    def receipt(self, event: Receipt) -> str | None:
        """For a RECEIPT no waiter took: ``None`` if expected (consumed now), else what
        to report as unhandled."""
        if event.receipt_id in self._receipts:
            self._receipts.discard(event.receipt_id)
            return None
        return f"RECEIPT {event.receipt_id!r} that nobody asked for"

    def message(self, event: Message) -> str | None:
        """For a MESSAGE no subscription took: ``None`` if in flight for a subscription
        just left, else what to report as unhandled."""
        if event.subscription is not None and event.subscription in self._unsubscribed:
            return None
        what = event.subscription or event.destination
        return f"MESSAGE {event.message_id!r} for unknown {what!r}"

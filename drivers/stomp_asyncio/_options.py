"""``open_connection``: the checked settings of a client, and the TLS contexts they imply."""

from __future__ import annotations

import ssl as _ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from stomp_core import Config, Connect, Limits
from stomp_core._client import (
    DEFAULT_HEARTBEAT_TOLERANCE,
    Endpoint,
    ReconnectPolicy,
    UnhandledHook,
    build_connect,
    check_client_arguments,
    parse_hosts,
    use_tls,
)

from ._client import Client

__all__ = ["Options", "make_options", "open_connection"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """Everything :func:`open_connection` was given, checked (see it for the meanings)."""

    endpoints: tuple[Endpoint, ...]
    ssl: _ssl.SSLContext | bool | None
    connect_timeout: float
    disconnect_timeout: float
    receipt_timeout: float
    config: Config
    vhost: str | None
    login: str | None
    passcode: str | None = field(repr=False)
    versions: tuple[str, ...]
    heartbeats: tuple[int, int]
    headers: Mapping[str, str] | None
    reconnect: ReconnectPolicy | None
    subscription_buffer: int
    on_unhandled: UnhandledHook | None = None
    # One default context per client, made on first use (loading the system CAs is slow).
    _default_tls: list[_ssl.SSLContext] = field(default_factory=list, repr=False)

    def connect_event(self, endpoint: Endpoint) -> Connect:
        """The CONNECT to send to ``endpoint``."""
        return build_connect(
            endpoint.host,
            vhost=self.vhost,
            login=self.login,
            passcode=self.passcode,
            versions=self.versions,
            heartbeats=self.heartbeats,
            headers=self.headers,
        )

    def tls_context(self, endpoint: Endpoint) -> _ssl.SSLContext | None:
        """The TLS context for ``endpoint``, or ``None`` for plain TCP."""
        if not use_tls(endpoint, None if self.ssl is None else self.ssl is not False):
            return None
        if isinstance(self.ssl, _ssl.SSLContext):
            return self.ssl
        if not self._default_tls:
            # Certificate and host name verification on: stomp.py's quirk list calls TLS
            # without verification a bug.
            self._default_tls.append(_ssl.create_default_context())
        return self._default_tls[0]


def make_options(
    hosts: str | Iterable[str | tuple[str, int]],
    *,
    login: str | None = None,
    passcode: str | None = None,
    vhost: str | None = None,
    versions: Sequence[str] = ("1.0", "1.1", "1.2"),
    heartbeats: tuple[int, int] = (10_000, 10_000),
    ssl: _ssl.SSLContext | bool | None = None,
    connect_timeout: float = 10.0,
    disconnect_timeout: float = 10.0,
    receipt_timeout: float = 10.0,
    reconnect: ReconnectPolicy | None = ReconnectPolicy(),  # noqa: B008 - frozen
    subscription_buffer: int = 100,
    headers: Mapping[str, str] | None = None,
    heartbeat_tolerance: float = DEFAULT_HEARTBEAT_TOLERANCE,
    limits: Limits | None = None,
    on_unhandled: UnhandledHook | None = None,
) -> Options:
    """Check the arguments of :func:`open_connection` (same names and defaults).

    Raises:
        ValueError: a malformed host, a bad number, a TLS downgrade, or CONNECT headers
            that clash with the arguments.
        TypeError: ``ssl`` or ``reconnect`` of the wrong type.
    """
    endpoints = tuple(parse_hosts(hosts))
    if ssl is not None and not isinstance(ssl, (bool, _ssl.SSLContext)):
        raise TypeError(f"ssl must be an SSLContext, True, False or None, got {ssl!r}")
    for endpoint in endpoints:
        use_tls(endpoint, None if ssl is None else ssl is not False)  # refuses downgrades
    check_client_arguments(
        connect_timeout=connect_timeout,
        disconnect_timeout=disconnect_timeout,
        receipt_timeout=receipt_timeout,
        subscription_buffer=subscription_buffer,
        reconnect=reconnect,
        on_unhandled=on_unhandled,
    )
    connect_timeout, disconnect_timeout = float(connect_timeout), float(disconnect_timeout)
    options = Options(
        endpoints=endpoints,
        ssl=ssl,
        connect_timeout=connect_timeout,
        disconnect_timeout=disconnect_timeout,
        receipt_timeout=float(receipt_timeout),
        config=Config(
            versions=tuple(versions),
            limits=limits if limits is not None else Limits(),
            heartbeat_tolerance=heartbeat_tolerance,
            connect_timeout=connect_timeout,
            disconnect_timeout=disconnect_timeout,
        ),
        vhost=vhost,
        login=login,
        passcode=passcode,
        versions=tuple(versions),
        heartbeats=heartbeats,
        headers=dict(headers) if headers else None,
        reconnect=reconnect,
        subscription_buffer=subscription_buffer,
        on_unhandled=on_unhandled,
    )
    options.connect_event(endpoints[0])  # checks headers and heart-beats now, not later
    return options


def open_connection(
    hosts: str | Iterable[str | tuple[str, int]],
    *,
    login: str | None = None,
    passcode: str | None = None,
    vhost: str | None = None,
    versions: Sequence[str] = ("1.0", "1.1", "1.2"),
    heartbeats: tuple[int, int] = (10_000, 10_000),
    ssl: _ssl.SSLContext | bool | None = None,
    connect_timeout: float = 10.0,
    disconnect_timeout: float = 10.0,
    receipt_timeout: float = 10.0,
    reconnect: ReconnectPolicy | None = ReconnectPolicy(),  # noqa: B008 - frozen
    subscription_buffer: int = 100,
    headers: Mapping[str, str] | None = None,
    heartbeat_tolerance: float = DEFAULT_HEARTBEAT_TOLERANCE,
    limits: Limits | None = None,
    on_unhandled: UnhandledHook | None = None,
) -> Client:
    """A STOMP client for ``async with``.

    ::

        async with stomp_asyncio.open_connection("stomp://localhost:61613") as client:
            await client.send("/queue/a", "hello", receipt=True)

    Args:
        hosts: ``"stomp://host:61613"``, ``"stomp+ssl://host:61614"``, several URLs
            separated by commas, or a list of URLs and ``(host, port)`` pairs, tried in
            order (failover).
        login: user name.
        passcode: password; never logged nor shown by ``repr``.
        vhost: the CONNECT ``host`` header (virtual host); default: the host dialled.
        versions: STOMP versions to offer; the broker picks the highest.
        heartbeats: ``(cx, cy)`` in ms: how often we can send, how often we want to hear
            from the broker (spec 1.2 "Heart-beating"); ``(0, 0)`` for none.
        ssl: ``True`` for TLS with the system's CAs and host name checking, an
            ``SSLContext`` for your own settings, ``False`` for plain TCP (refused for a
            ``stomp+ssl://`` URL), ``None``: as the URL says.
        connect_timeout: seconds for TCP and TLS, and again for CONNECTED; also how long
            an operation waits for a reconnect in progress.
        disconnect_timeout: seconds to wait for the RECEIPT of DISCONNECT on exit.
        receipt_timeout: seconds to wait for a receipt (``send(receipt=True)``, commits).
        reconnect: the :class:`ReconnectPolicy`, or ``None`` to fail at the first loss.
        subscription_buffer: messages buffered per subscription before the client stops
            reading from the socket.
        headers: extra CONNECT headers (e.g. ``{"client-id": "..."}``).
        heartbeat_tolerance: the broker counts as dead after ``1 + tolerance``
            negotiated intervals of silence (default 1.5, stomp.py's scale: 2.5
            intervals; the one extra interval covers ActiveMQ, which lets up to two
            intervals pass between its frames).
        limits: receive limits for the core (frame size, header count, ...).
        on_unhandled: called with every frame event the client cannot place: a MESSAGE
            for a subscription it does not know, a RECEIPT nobody asked for
            (conformance 88, 89).  It runs in the event loop's protocol callbacks: keep
            it short and non-blocking; what it raises is logged and the connection
            carries on.  Default: a warning on the ``stomp_asyncio`` logger.  Expected
            leftovers are only logged at debug level: the DISCONNECT's own RECEIPT, late
            RECEIPTs of waits that timed out or were cancelled, and MESSAGEs still in
            flight for a subscription just left.

    Raises:
        ValueError: a malformed host, a bad number, or CONNECT headers that clash with
            the arguments.
        TypeError: ``ssl``, ``reconnect`` or ``on_unhandled`` of the wrong type.
    """
    return Client(
        make_options(
            hosts,
            login=login,
            passcode=passcode,
            vhost=vhost,
            versions=versions,
            heartbeats=heartbeats,
            ssl=ssl,
            connect_timeout=connect_timeout,
            disconnect_timeout=disconnect_timeout,
            receipt_timeout=receipt_timeout,
            reconnect=reconnect,
            subscription_buffer=subscription_buffer,
            headers=headers,
            heartbeat_tolerance=heartbeat_tolerance,
            limits=limits,
            on_unhandled=on_unhandled,
        )
    )

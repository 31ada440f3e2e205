"""``open_connection``: the client's settings, checked once into a
:class:`~stomp_core.client.ClientOptions`."""

from __future__ import annotations

import ssl as _ssl
from collections.abc import Iterable, Mapping, Sequence

from stomp_core import Limits
from stomp_core.client import (
    DEFAULT_HEARTBEAT_TOLERANCE,
    ClientOptions,
    ReconnectPolicy,
    UnhandledHook,
    parse_hosts,
)

from ._client import Client

__all__ = ["open_connection"]


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
        vhost: the CONNECT ``host`` header (virtual host); default ``"/"``, which stock
            RabbitMQ needs and ActiveMQ ignores.
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
        heartbeat_tolerance: the broker counts as dead after this many negotiated
            intervals of silence (default 2.5: ActiveMQ lets up to two intervals pass
            between its frames; stomp.py uses 1.5).
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
        ClientOptions(
            hosts=tuple(parse_hosts(hosts)),
            login=login,
            passcode=passcode,
            vhost=vhost,
            versions=tuple(versions),
            heartbeats=heartbeats,
            heartbeat_tolerance=heartbeat_tolerance,
            ssl=ssl,
            connect_timeout=connect_timeout,
            disconnect_timeout=disconnect_timeout,
            receipt_timeout=receipt_timeout,
            reconnect=reconnect,
            subscription_buffer=subscription_buffer,
            headers=headers,
            limits=limits,
            on_unhandled=on_unhandled,
        )
    )

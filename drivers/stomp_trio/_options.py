"""``open_connection``: the ``async with`` block that owns a client and its nursery; the
client's settings are checked once into a :class:`~stomp_core.client.ClientOptions`."""

from __future__ import annotations

import ssl as _ssl
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager

import trio

from stomp_core import Limits
from stomp_core.client import (
    DEFAULT_HEARTBEAT_TOLERANCE,
    ClientOptions,
    ReconnectPolicy,
    UnhandledHook,
    exception_to_raise,
)

from ._client import Client
from ._transport import StreamFactory

__all__ = ["open_connection"]


@asynccontextmanager
async def open_connection(
    hosts: str | Iterable[str | tuple[str, int]],
    *,
    login: str | None = None,
    passcode: str | None = None,
    vhost: str | None = None,
    versions: Sequence[str] = ("1.0", "1.1", "1.2"),
    heartbeats: tuple[int, int] = (10_000, 10_000),
    heartbeat_tolerance: float = DEFAULT_HEARTBEAT_TOLERANCE,
    ssl: _ssl.SSLContext | bool | None = None,
    connect_timeout: float = 10.0,
    disconnect_timeout: float = 10.0,
    receipt_timeout: float = 10.0,
    write_timeout: float = 30.0,
    reconnect: ReconnectPolicy | None = ReconnectPolicy(),  # noqa: B008 - frozen
    subscription_buffer: int = 100,
    subscription_buffer_bytes: int = 16 * 1024 * 1024,
    headers: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    on_unhandled: UnhandledHook | None = None,
    ws_path: str | None = None,
    stream_factory: StreamFactory | None = None,
) -> AsyncIterator[Client]:
    """Connect to a STOMP broker; the connection lives as long as the ``async with`` block.

    ::

        async with stomp_trio.open_connection("stomp://localhost:61613") as client:
            await client.send("/queue/a", "hello", receipt=True)

    The connection's background tasks run in a nursery owned by this context manager.
    Leaving the block (normally or with an exception) sends DISCONNECT with a receipt and
    waits for it, at most ``disconnect_timeout``; when the block is left by cancellation
    the connection is closed at once instead (trio's rule for cleanup under cancellation).
    If the connection fails for good while the body runs (reconnection off or given up,
    an ERROR frame), the body is cancelled, as by a failing task of a nursery, and the
    block raises that error (``ConnectionLost``, ``BrokerError``, ...) -- unless the body
    raised an exception of its own, which then wins.

    Args:
        hosts: the brokers; it, ``ws_path`` and the settings from ``login`` to
            ``on_unhandled`` are documented once, in
            :meth:`stomp_core.client.ClientOptions.from_arguments`.
        stream_factory: ``await stream_factory(host, port)`` returns the byte stream to a
            broker (default: TCP).  TLS, when asked for, is layered on top of it.

    Raises:
        ConnectFailed: no broker could be reached, TLS failed, or the broker refused.
        ValueError: a malformed host, or CONNECT headers that clash with the arguments.
    """
    client = Client(ClientOptions.from_arguments(locals()), stream_factory)
    try:
        # Strict groups whatever the trio version, so the unwrapping below is the one
        # behaviour users see: their own exception, not a group around it.
        async with trio.open_nursery(strict_exception_groups=True) as nursery:
            client._nursery = nursery
            await nursery.start(client._run)
            try:
                yield client
            finally:
                await client._shutdown()
    except BaseException as exc:
        inner = exception_to_raise(exc, client._final_error)
        if inner is None:
            raise
        raise inner from inner.__cause__

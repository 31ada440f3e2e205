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
) -> Client:
    """A STOMP client for ``async with``.

    ::

        async with stomp_asyncio.open_connection("stomp://localhost:61613") as client:
            await client.send("/queue/a", "hello", receipt=True)

    Args:
        hosts: the brokers; it, ``ws_path`` and the settings from ``login`` to
            ``on_unhandled`` are documented once, in
            :meth:`stomp_core.client.ClientOptions.from_arguments`.

    Raises:
        ValueError: a malformed host, a bad number, or CONNECT headers that clash with
            the arguments.
        TypeError: ``ssl``, ``reconnect`` or ``on_unhandled`` of the wrong type.
    """
    return Client(ClientOptions.from_arguments(locals()))

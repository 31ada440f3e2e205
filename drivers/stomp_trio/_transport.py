"""Opening the byte stream a connection runs on.

The driver talks to a :class:`trio.abc.Stream` and nothing else, so anything that is a
stream can carry STOMP: TCP (:func:`trio.open_tcp_stream`), TLS on top of it
(:class:`trio.SSLStream`), or a WebSocket adapter.  Users who need another transport
pass their own :data:`StreamFactory` to :func:`~stomp_trio.open_connection`.
"""

from __future__ import annotations

import ssl as _ssl
from collections.abc import Awaitable, Callable

import trio

from stomp_core.client import Endpoint

__all__ = ["StreamFactory", "open_stream"]

#: ``await factory(host, port)`` returns a connected stream to one broker.
StreamFactory = Callable[[str, int], Awaitable[trio.abc.Stream]]


async def open_stream(
    endpoint: Endpoint, tls: _ssl.SSLContext | None, factory: StreamFactory | None
) -> trio.abc.Stream:
    """Connect to ``endpoint`` (through ``factory``, default TCP), with TLS if ``tls``.

    The TLS handshake runs here, so a certificate problem surfaces as a failed connection
    attempt (and counts against the reconnect budget) rather than on the first frame.
    """
    if factory is None:
        stream: trio.abc.Stream = await trio.open_tcp_stream(endpoint.host, endpoint.port)
    else:
        stream = await factory(endpoint.host, endpoint.port)
    if tls is None:
        return stream
    # TLS stacks on whatever stream was made.
    wrapped = trio.SSLStream(stream, tls, server_hostname=endpoint.host)
    try:
        await wrapped.do_handshake()
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return wrapped

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

from stomp_core.client import ClientOptions, Endpoint

__all__ = ["StreamFactory", "TlsContexts", "open_stream"]

#: ``await factory(host, port)`` returns a connected stream to one broker.
StreamFactory = Callable[[str, int], Awaitable[trio.abc.Stream]]


class TlsContexts:
    """The TLS context of each broker of a client.

    Args:
        options: the client's settings; ``options.ssl`` must be an ``SSLContext``, a
            bool or ``None``.

    Raises:
        TypeError: ``options.ssl`` is of another type.
    """

    def __init__(self, options: ClientOptions) -> None:
        ssl = options.ssl
        if ssl is not None and not isinstance(ssl, (bool, _ssl.SSLContext)):
            raise TypeError(f"ssl must be an ssl.SSLContext, a bool or None, got {ssl!r}")
        self._options = options
        self._given = ssl if isinstance(ssl, _ssl.SSLContext) else None
        self._default: _ssl.SSLContext | None = None

    def context(self, endpoint: Endpoint) -> _ssl.SSLContext | None:
        """The TLS context for ``endpoint``, or ``None`` for plain TCP."""
        if not self._options.use_tls(endpoint):
            return None
        if self._given is not None:
            return self._given
        if self._default is None:
            # Made on first use, with certificate and host name verification on:
            # stomp.py's quirk list calls TLS without verification a bug.
            self._default = _ssl.create_default_context()
        return self._default


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

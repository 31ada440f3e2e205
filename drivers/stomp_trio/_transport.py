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

__all__ = ["StreamFactory", "make_ssl_context", "open_tcp_stream"]

#: ``await factory(host, port)`` returns a connected stream to one broker.
StreamFactory = Callable[[str, int], Awaitable[trio.abc.Stream]]


def make_ssl_context(ssl: _ssl.SSLContext | bool | None) -> _ssl.SSLContext | None:
    """The TLS context to use, or ``None`` for plain TCP.

    ``True`` means :func:`ssl.create_default_context`: certificate and host name
    verification on, as every TLS client should default to (stomp.py's quirk list names
    TLS without verification as a bug).

    Raises:
        TypeError: ``ssl`` is neither a context, a bool nor ``None``.
    """
    if ssl is None or ssl is False:
        return None
    if ssl is True:
        return _ssl.create_default_context()
    if isinstance(ssl, _ssl.SSLContext):
        return ssl
    raise TypeError(f"ssl must be an ssl.SSLContext, a bool or None, got {ssl!r}")


async def open_tcp_stream(
    host: str, port: int, *, ssl_context: _ssl.SSLContext | None
) -> trio.abc.Stream:
    """Connect to ``(host, port)``, wrapping the stream in TLS when a context is given.

    The TLS handshake runs here, so a certificate problem surfaces as a failed connection
    attempt (and counts against the reconnect budget) rather than on the first frame.
    """
    stream: trio.abc.Stream = await trio.open_tcp_stream(host, port)
    if ssl_context is None:
        return stream
    tls = trio.SSLStream(stream, ssl_context, server_hostname=host)
    try:
        await tls.do_handshake()
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return tls

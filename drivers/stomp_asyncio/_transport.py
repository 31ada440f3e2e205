"""Opening the transport of one connection: TCP, with TLS when the settings ask for it."""

from __future__ import annotations

import asyncio
import ssl as _ssl

from stomp_core.client import ClientOptions, Endpoint

__all__ = ["TlsContexts", "open_transport"]


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
            raise TypeError(f"ssl must be an SSLContext, True, False or None, got {ssl!r}")
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
            # Made on first use (loading the system CAs is slow), with certificate and
            # host name verification on: stomp.py's quirk list calls TLS without
            # verification a bug.
            self._default = _ssl.create_default_context()
        return self._default


async def open_transport(
    protocol: asyncio.Protocol,
    endpoint: Endpoint,
    tls: _ssl.SSLContext | None,
    *,
    handshake_timeout: float,
) -> None:
    """Connect ``protocol`` to ``endpoint`` over TCP (and TLS if ``tls``)."""
    loop = asyncio.get_running_loop()
    await loop.create_connection(
        lambda: protocol,
        endpoint.host,
        endpoint.port,
        ssl=tls,
        server_hostname=endpoint.host if tls is not None else None,
        ssl_handshake_timeout=handshake_timeout if tls is not None else None,
    )

"""Opening the transport of one connection: TCP, with TLS when the settings ask for it."""

from __future__ import annotations

import asyncio
import ssl as _ssl

from stomp_core.client import Endpoint

__all__ = ["open_transport"]


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

"""Opening the transport of one connection: TCP, with TLS when the settings ask for it,
and WebSocket on top for a ``ws://`` or ``wss://`` broker."""

from __future__ import annotations

import asyncio
import ssl as _ssl
from typing import Any

from stomp_core import LocalProtocolError, RemoteProtocolError
from stomp_core.client import Endpoint

__all__ = ["open_transport"]


async def open_transport(
    protocol: asyncio.Protocol,
    endpoint: Endpoint,
    tls: _ssl.SSLContext | None,
    *,
    handshake_timeout: float,
) -> None:
    """Connect ``protocol`` to ``endpoint`` over TCP (and TLS if ``tls``, and WebSocket
    if the endpoint has a path); the caller bounds the whole in time."""
    loop = asyncio.get_running_loop()
    websocket = None if endpoint.path is None else _WebSocketProtocol(protocol, endpoint)
    transport, _ = await loop.create_connection(
        lambda: websocket or protocol,
        endpoint.host,
        endpoint.port,
        ssl=tls,
        server_hostname=endpoint.host if tls is not None else None,
        ssl_handshake_timeout=handshake_timeout if tls is not None else None,
    )
    if websocket is not None:
        try:
            await websocket.opened
        except BaseException:
            transport.abort()
            raise


class _WebSocketProtocol(asyncio.Protocol):
    """Runs the handshake, then hands ``inner`` (the link) a transport of STOMP bytes.

    The WebSocket layer is the core's
    :class:`~stomp_core.websocket.WebSocketAdapter`; this class only moves bytes.
    """

    def __init__(self, inner: asyncio.Protocol, endpoint: Endpoint) -> None:
        from stomp_core.websocket import WebSocketAdapter  # wsproto: only when used

        self._inner = inner
        self._ws = WebSocketAdapter.client(endpoint)
        self._transport: asyncio.Transport | None = None
        self._error: Exception | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._ws.data_to_send())

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        try:
            stomp = self._ws.unwrap(data)
        except RemoteProtocolError as exc:
            self._error = ConnectionError(str(exc))
            self._transport.abort()
            return
        reply = self._ws.data_to_send()  # pongs, the close handshake
        if reply:
            self._transport.write(reply)
        if not self.opened.done():
            if not self._ws.open:
                return
            self.opened.set_result(None)
            self._inner.connection_made(_WebSocketTransport(self._transport, self._ws))
        if stomp:
            self._inner.data_received(stomp)
        if self._ws.closed:
            self._inner.eof_received()

    def eof_received(self) -> bool:
        return bool(self.opened.done() and self._inner.eof_received())

    def connection_lost(self, exc: Exception | None) -> None:
        exc = exc or self._error
        if self.opened.done():
            self._inner.connection_lost(exc)
        else:
            failed = exc or ConnectionError("closed during the WebSocket handshake")
            self.opened.set_exception(failed)
            self.opened.exception()  # retrieved here: the dialler may be gone

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class _WebSocketTransport(asyncio.Transport):
    """The link's view of the transport: what it writes goes out as WebSocket messages."""

    def __init__(self, transport: asyncio.Transport, ws: Any) -> None:
        super().__init__()
        self._transport = transport
        self._ws = ws

    def write(self, data: bytes | bytearray | memoryview) -> None:
        try:
            self._transport.write(self._ws.wrap(bytes(data)))
        except LocalProtocolError:
            self._transport.abort()  # the peer closed the WebSocket: connection_lost follows

    def close(self) -> None:
        if not self._transport.is_closing():
            self._ws.close()  # the close handshake's first half (RFC 6455 5.5.1)
            self._transport.write(self._ws.data_to_send())
        self._transport.close()

    def abort(self) -> None:
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

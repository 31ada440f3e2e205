"""STOMP over WebSocket for the broker: :mod:`stomp_core.websocket` under a session.

Stacking, per connection::

    socket bytes -> WebSocketAdapter.receive_data -> stomp_data -> Session.receive_data
    Session writes -> _WebSocketTransport.write -> send_stomp (one message) -> socket

The session is created once the handshake completed, with the STOMP versions the
negotiated sub-protocol allows (``v12.stomp`` -> 1.2 ...; no sub-protocol -> all).  Each
STOMP write becomes one WebSocket message, so a frame cut by a fault switch arrives as a
partial STOMP frame inside a well-formed WebSocket message, as a real broker dying
mid-write would produce.

Needs wsproto (``pip install 'stomp-sansio[websocket]'``); imported only when the broker
is given a ``ws_port``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from stomp_core import SERVER, LocalProtocolError, RemoteProtocolError
from stomp_core.websocket import STOMP_SUBPROTOCOLS, WebSocketAdapter, subprotocol_versions

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["OpenSession", "WebSocketProtocol"]

#: ``open_session(transport, peer=..., versions=...)``: the broker's, passed down so that
#: this module never calls up into it.
OpenSession = Callable[..., "Session"]


class _WebSocketTransport:
    """What the session writes to: each write is one WebSocket message."""

    def __init__(self, ws: WebSocketAdapter, transport: asyncio.Transport) -> None:
        self._ws = ws
        self._transport = transport

    def write(self, data: bytes) -> None:
        try:
            self._ws.send_stomp(data)
        except LocalProtocolError:  # the peer started closing: nothing more to send
            return
        self._transport.write(self._ws.data_to_send())

    def close(self) -> None:
        # Close handshake first (code 1000), then the TCP connection once written.
        self._ws.close()
        self._transport.write(self._ws.data_to_send())
        self._transport.close()

    def abort(self) -> None:
        self._transport.abort()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()  # False over TLS

    def write_eof(self) -> None:
        # Close handshake, then a TCP half-close: the client reads what is buffered,
        # answers the close frame, and the connection ends without a reset.
        self._ws.close()
        self._transport.write(self._ws.data_to_send())
        try:
            self._transport.write_eof()
        except OSError:  # the peer is gone already (ENOTCONN)
            self._transport.close()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size()


class WebSocketProtocol(asyncio.Protocol):
    """One WebSocket connection: the handshake, then STOMP frames in messages."""

    def __init__(
        self,
        *,
        versions: Collection[str],
        handshake_timeout: float | None,
        open_session: OpenSession,
    ) -> None:
        self._handshake_timeout = handshake_timeout
        self._open_session = open_session
        # Offer only the sub-protocols of the versions the broker speaks.
        accepted = tuple(
            name for name in STOMP_SUBPROTOCOLS if subprotocol_versions(name)[0] in versions
        )
        self._ws = WebSocketAdapter(SERVER, subprotocols=accepted)
        self._transport: asyncio.Transport | None = None
        self._session: Session | None = None
        self._handshake_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        timeout = self._handshake_timeout
        if timeout is not None:
            # The session's CONNECT wait starts after the handshake: bound the handshake.
            self._handshake_timer = asyncio.get_running_loop().call_later(timeout, transport.abort)

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        if self._ws.closed:
            return  # after the close handshake nothing more counts (RFC 6455 5.5.1)
        try:
            self._ws.receive_data(data)
        except RemoteProtocolError:
            # wsproto prepared the answer (HTTP 400 or a close frame): send it, leave.
            transport.write(self._ws.data_to_send())
            transport.close()
            return
        reply = self._ws.data_to_send()  # handshake answer, pongs, close replies
        if reply:
            transport.write(reply)
        if self._session is None and self._ws.open:
            if self._handshake_timer is not None:
                self._handshake_timer.cancel()
            versions = subprotocol_versions(self._ws.subprotocol)
            self._session = self._open_session(
                _WebSocketTransport(self._ws, transport),
                peer=transport.get_extra_info("peername"),
                versions=versions,
            )
        stomp = self._ws.stomp_data()
        if self._session is not None:
            if stomp:
                self._session.receive_data(stomp)
            if self._ws.closed:
                # The client sent a close frame: as EOF for STOMP.
                self._session.receive_eof()
                transport.close()

    def eof_received(self) -> bool:
        self._ws.receive_eof()
        if self._session is not None:
            self._session.receive_eof()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
        if self._session is not None:
            self._session.connection_lost()

    def pause_writing(self) -> None:
        if self._session is not None:
            self._session.pause_writing()

    def resume_writing(self) -> None:
        if self._session is not None:
            self._session.resume_writing()

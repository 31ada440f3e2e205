"""Opening the byte stream a connection runs on.

The driver talks to a :class:`trio.abc.Stream` and nothing else, so anything that is a
stream can carry STOMP: TCP (:func:`trio.open_tcp_stream`), TLS on top of it
(:class:`trio.SSLStream`), and :class:`WebSocketStream` on either for a ``ws://`` or
``wss://`` broker.  Users who need another transport pass their own :data:`StreamFactory`
to :func:`~stomp_trio.open_connection`.
"""

from __future__ import annotations

import os
import ssl as _ssl
import sys
from collections.abc import Awaitable, Callable, Sequence

import trio

from stomp_core import LocalProtocolError, RemoteProtocolError
from stomp_core.client import Endpoint

__all__ = ["StreamFactory", "WebSocketStream", "nonblocking_writer", "open_stream"]

#: ``await factory(host, port)`` returns a connected stream to one broker.
StreamFactory = Callable[[str, int], Awaitable[trio.abc.Stream]]

#: Buffers per ``writev`` call (POSIX guarantees at least 16; Linux allows 1024).
_MAX_BUFFERS = 64


def nonblocking_writer(
    stream: trio.abc.Stream,
) -> Callable[[Sequence[bytes | memoryview]], int] | None:
    """For a plain TCP stream, a function that writes buffers to its socket at once.

    ``write(buffers)`` returns how many bytes the kernel took (maybe fewer), raises
    :class:`BlockingIOError` if it took none and :class:`OSError` if the connection is
    broken.  It never waits (so never yields) and hands all buffers to one ``writev``,
    a large body never copied.  ``None`` for any other stream (TLS, WebSocket, a user's
    factory): those are written by ``send_all``.  The descriptor is looked up on every
    call, so a closed stream fails (``-1``) instead of writing to a reused number.
    """
    if sys.platform == "win32" or type(stream) is not trio.SocketStream:
        return None  # Windows sockets are not file descriptors
    sock = stream.socket

    def write(buffers: Sequence[bytes | memoryview]) -> int:
        if len(buffers) == 1:
            return os.write(sock.fileno(), buffers[0])
        return os.writev(sock.fileno(), buffers[:_MAX_BUFFERS])

    return write


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
    try:
        if tls is not None:
            # TLS stacks on whatever stream was made.
            stream = trio.SSLStream(stream, tls, server_hostname=endpoint.host)
            await stream.do_handshake()
        if endpoint.path is not None:
            stream = await WebSocketStream.open(stream, endpoint)
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return stream


class WebSocketStream(trio.abc.Stream):
    """STOMP bytes over a WebSocket on ``stream``; the layer is the core's
    :class:`~stomp_core.websocket.WebSocketAdapter`, this class only moves bytes.

    Transport errors and WebSocket protocol errors surface as
    :class:`trio.BrokenResourceError`, as a broken TCP stream's would.
    """

    def __init__(self, stream: trio.abc.Stream, endpoint: Endpoint) -> None:
        from stomp_core.websocket import WebSocketAdapter  # wsproto: only when used

        self._stream = stream
        self._ws = WebSocketAdapter.client(endpoint)
        self._early = b""
        self._write = trio.Lock()

    @classmethod
    async def open(cls, stream: trio.abc.Stream, endpoint: Endpoint) -> WebSocketStream:
        """Run the handshake on ``stream`` (the caller bounds it in time)."""
        self = cls(stream, endpoint)
        await stream.send_all(self._ws.data_to_send())
        while not self._ws.open:
            data = await stream.receive_some(65536)
            if not data:
                raise trio.BrokenResourceError("closed during the WebSocket handshake")
            self._early += self._unwrap(data)
            await self._reply()
        return self

    def _unwrap(self, data: bytes | bytearray) -> bytes:
        try:
            return self._ws.unwrap(data)
        except RemoteProtocolError as exc:
            raise trio.BrokenResourceError(str(exc)) from exc

    async def _reply(self) -> None:
        # Pongs and the close reply; a writer holding the lock sends them after its own
        # message (send_all loops until the adapter has nothing left).
        try:
            self._write.acquire_nowait()
        except trio.WouldBlock:
            return
        try:
            while data := self._ws.data_to_send():
                await self._stream.send_all(data)
        finally:
            self._write.release()

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        try:
            out = self._ws.wrap(bytes(data))
        except LocalProtocolError as exc:
            raise trio.BrokenResourceError(str(exc)) from exc
        async with self._write:
            while out:
                await self._stream.send_all(out)
                out = self._ws.data_to_send()

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        while True:
            if self._early:
                data, self._early = self._early, b""
                return data
            if self._ws.closed:
                return b""  # the close handshake ended the STOMP stream
            raw = await self._stream.receive_some(max_bytes)
            stomp = self._unwrap(raw)
            await self._reply()
            if stomp or not raw:
                return stomp
            # Only control frames (a ping, a close) arrived: read on.

    async def aclose(self) -> None:
        try:
            # The close handshake's first half (RFC 6455 5.5.1), if nobody is writing;
            # under cancellation (aclose_forcefully) it is skipped at once.
            self._ws.close()
            await self._reply()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            await self._stream.aclose()

"""STOMP over WebSocket: ``stomp.WSConnection`` (stomp.py's ``WSStompConnection``).

The WebSocket layer is :mod:`stomp_core.websocket` (over wsproto) stacked between the
socket and the STOMP core, so heart-beats, receipts and every deadline work as over TCP.
The handshake offers the STOMP sub-protocols ``v12.stomp``, ``v11.stomp`` and
``v10.stomp`` (stomp.py sent none); ``wss://`` is used for hosts given to ``set_ssl``.

Example (RabbitMQ Web-STOMP)::

    conn = stomp.WSConnection([("localhost", 15674)], ws_path="/ws", vhost="/")
    conn.connect("guest", "guest", wait=True)
"""

from __future__ import annotations

import importlib
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stomp_core import CLIENT, RemoteProtocolError

from ..connect import StompConnection12
from ..transport import (
    DEFAULT_SSL_VERSION,
    LINUX_KEEPALIVE_AVAIL,
    MAC_KEEPALIVE_AVAIL,
    SSLError,
    Transport,
    ssl,
)
from ..utils import is_eol_default

if TYPE_CHECKING:
    from stomp_core.websocket import WebSocketAdapter

__all__ = [
    "DEFAULT_SSL_VERSION",
    "LINUX_KEEPALIVE_AVAIL",
    "MAC_KEEPALIVE_AVAIL",
    "SSLError",
    "WSStompConnection",
    "WSTransport",
    "ssl",
]


def _require_wsproto() -> None:
    # wsproto is imported when a WebSocket connection is made, so that this module (and
    # ``from stomp import *``) works without the ``websocket`` extra.
    try:
        importlib.import_module("wsproto")
    except ImportError:
        raise ImportError(
            "STOMP over WebSocket needs wsproto: pip install 'stomp-sansio[websocket]'"
        ) from None


def _header_pairs(header: Any) -> tuple[tuple[str, str], ...]:
    # websocket-client accepted a dict or a list of "Name: value" strings.
    if header is None:
        return ()
    if isinstance(header, Mapping):
        return tuple((str(k), str(v)) for k, v in header.items())
    pairs = []
    for line in header:
        name, sep, value = str(line).partition(":")
        if not sep:
            raise ValueError(f"a WebSocket header must look like 'Name: value', got {line!r}")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


class WSTransport(Transport):
    """A :class:`~stomp.transport.Transport` that speaks WebSocket under STOMP.

    The parameters are stomp.py's, in its order (``ws_path``, ``header`` and
    ``binary_mode`` may be given by position after ``bind_host_port``).

    Args:
        host_and_ports: as :class:`~stomp.transport.Transport` (and the others up to
            ``bind_host_port``).
        ws_path: the request path (``"/"`` by default; RabbitMQ uses ``"/ws"``).
        header: extra handshake headers: a dict or ``["Name: value", ...]``.
        binary_mode: accepted for compatibility; frames go as text messages when they
            are valid UTF-8 and as binary messages otherwise.
        **kwargs: the keyword-only options of :class:`~stomp.transport.Transport`.

    Raises:
        ImportError: wsproto is not installed (the ``websocket`` extra).
    """

    def __init__(
        self,
        host_and_ports: Sequence[tuple[str, int]] | None = None,
        prefer_localhost: bool = True,
        try_loopback_connect: bool = True,
        reconnect_sleep_initial: float = 0.1,
        reconnect_sleep_increase: float = 0.5,
        reconnect_sleep_jitter: float = 0.1,
        reconnect_sleep_max: float = 60.0,
        reconnect_attempts_max: int | None = None,
        timeout: float | None = None,
        keepalive: Any = None,
        vhost: str | None = None,
        auto_decode: bool = True,
        encoding: str = "utf-8",
        recv_bytes: int = 1024,
        is_eol_fc: Callable[[bytes], bool] = is_eol_default,
        bind_host_port: tuple[str, int] | None = None,
        ws_path: str | None = None,
        header: Any = None,
        binary_mode: bool = False,
        **kwargs: Any,
    ) -> None:
        _require_wsproto()
        super().__init__(
            host_and_ports,
            prefer_localhost,
            try_loopback_connect,
            reconnect_sleep_initial,
            reconnect_sleep_increase,
            reconnect_sleep_jitter,
            reconnect_sleep_max,
            reconnect_attempts_max,
            timeout,
            keepalive,
            vhost,
            auto_decode,
            encoding,
            recv_bytes,
            is_eol_fc,
            bind_host_port,
            **kwargs,
        )
        self.binary_mode = binary_mode
        self.ws_path = ws_path or "/"
        if not self.ws_path.startswith("/"):
            raise ValueError(f"ws_path must start with '/', got {ws_path!r}")
        self.header = _header_pairs(header)
        self._handshakes: dict[int, tuple[WebSocketAdapter, bytes]] = {}

    def _open(self, host_and_port: tuple[str, int]) -> socket.socket:
        sock = super()._open(host_and_port)
        try:
            ws = self._handshake(sock, host_and_port)
        except BaseException:
            sock.close()
            raise
        self._handshakes[id(sock)] = (ws, ws.stomp_data())
        return sock

    def _handshake(self, sock: socket.socket, host_and_port: tuple[str, int]) -> WebSocketAdapter:
        from stomp_core.websocket import WebSocketAdapter

        host, port = self._twin_of.get(host_and_port, host_and_port)
        ws = WebSocketAdapter(
            CLIENT, host=f"{host}:{port}", target=self.ws_path, extra_headers=self.header
        )
        sock.sendall(ws.data_to_send())
        deadline = time.monotonic() + self.connect_timeout
        while not ws.open:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer to the WebSocket handshake")
            sock.settimeout(remaining)
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed during the WebSocket handshake")
            try:
                ws.receive_data(data)
            except RemoteProtocolError as exc:
                raise ConnectionError(exc.message) from None
            reply = ws.data_to_send()
            if reply:
                sock.sendall(reply)
        sock.settimeout(self.connect_timeout)
        return ws

    def _session_options(self, sock: socket.socket) -> dict[str, Any]:
        ws, initial = self._handshakes.pop(id(sock))
        return {"ws": ws, "initial": initial}


class WSStompConnection(StompConnection12):
    """A STOMP 1.2 connection over WebSocket.

    Args: as :class:`~stomp.connect.StompConnection12`, plus:

    Args:
        ws: ignored (stomp.py accepted and ignored it too).
        ws_path: the request path, e.g. ``"/ws"``.
        header: extra handshake headers.
        binary_mode: accepted for compatibility; frames go as text messages when they
            are valid UTF-8 and as binary messages otherwise.

    Raises:
        ImportError: wsproto is not installed (the ``websocket`` extra).
    """

    def __init__(
        self,
        host_and_ports: Sequence[tuple[str, int]] | None = None,
        prefer_localhost: bool = True,
        try_loopback_connect: bool = True,
        reconnect_sleep_initial: float = 0.1,
        reconnect_sleep_increase: float = 0.5,
        reconnect_sleep_jitter: float = 0.1,
        reconnect_sleep_max: float = 60.0,
        reconnect_attempts_max: int | None = None,
        timeout: float | None = None,
        heartbeats: tuple[int, int] = (0, 0),
        keepalive: Any = None,
        vhost: str | None = None,
        auto_decode: bool = True,
        encoding: str = "utf-8",
        auto_content_length: bool = True,
        heart_beat_receive_scale: float = 1.5,
        bind_host_port: tuple[str, int] | None = None,
        ws: Any = None,
        ws_path: str | None = None,
        header: Any = None,
        binary_mode: bool = False,
        *,
        auto_reconnect: bool = False,
    ) -> None:
        self._ws_options = {"ws_path": ws_path, "header": header}
        self.binary_mode = binary_mode
        super().__init__(
            host_and_ports,
            prefer_localhost,
            try_loopback_connect,
            reconnect_sleep_initial,
            reconnect_sleep_increase,
            reconnect_sleep_jitter,
            reconnect_sleep_max,
            reconnect_attempts_max,
            timeout,
            heartbeats,
            keepalive,
            vhost,
            auto_decode,
            encoding,
            auto_content_length,
            heart_beat_receive_scale,
            bind_host_port,
            auto_reconnect=auto_reconnect,
        )

    def _new_transport(self, *args: Any, **kwargs: Any) -> Transport:
        options: dict[str, Any] = {**self._ws_options, "binary_mode": self.binary_mode, **kwargs}
        return WSTransport(*args, **options)


#: The name ``stomp.WSConnection`` refers to.
WSConnection = WSStompConnection

"""STOMP over WebSocket (stomp.WSConnection) against a fake WebSocket broker."""

from __future__ import annotations

import socket
import time

import pytest
from test_stomp_connection import Recorder, graceful_end
from test_stomp_support import WAIT, FakeServer, Peer

import stomp
from stomp.exception import ConnectFailedException
from stomp_core import SERVER
from stomp_core.websocket import WebSocketAdapter


class WSPeer(Peer):
    """A fake broker's end of a WebSocket connection (the core's adapter, SERVER role)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock)
        self.ws = WebSocketAdapter(SERVER)
        deadline = time.monotonic() + WAIT
        while not self.ws.open:
            assert self._fill(deadline), "no WebSocket handshake"

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        if not data:
            self.eof = True
            self.ws.receive_eof()
            return False
        self.ws.receive_data(data)
        reply = self.ws.data_to_send()
        if reply:
            self.sock.sendall(reply)
        self.buffer += self.ws.stomp_data()
        if self.ws.closed:
            self.eof = True
        return True

    def send(self, data: bytes) -> None:
        self.ws.send_stomp(data)
        self.sock.sendall(self.ws.data_to_send())


def ws_script(body: object) -> object:
    def run(peer: Peer) -> None:
        body(WSPeer(peer.sock))  # type: ignore[operator]

    return run


def test_websocket_exchange() -> None:
    seen: dict[str, object] = {}

    def script(peer: WSPeer) -> None:
        seen["subprotocol"] = peer.ws.subprotocol
        connect = peer.connected(version="1.2", heart_beat="1000,0")
        seen["host"] = connect.headers["host"]
        send = peer.expect("SEND")
        assert send.body == "héllo".encode()
        peer.send_frame(
            "MESSAGE",
            {"subscription": "1", "message-id": "1", "destination": "/q", "ack": "a1"},
            b"back",
        )
        peer.send(b"\n")  # heart-beats, each its own WebSocket message
        peer.send(b"\r\n")
        graceful_end(peer)

    recorder = Recorder()
    server = FakeServer(ws_script(script))  # type: ignore[arg-type]
    try:
        conn = stomp.WSConnection(
            [server.address],
            ws_path="/ws",
            header={"Origin": "http://localhost"},
            heartbeats=(0, 1000),
            vhost="/",
            timeout=WAIT,
        )
        conn.set_listener("r", recorder)
        conn.connect("guest", "guest", wait=True)
        conn.send("/q", "héllo")
        recorder.wait_for("message")
        recorder.wait_for("heartbeat")  # heart-beats flow over WebSocket messages too
        conn.disconnect()
    finally:
        server.close()
    assert seen == {"subprotocol": "v12.stomp", "host": "/"}
    assert recorder.frames("message")[0].body == "back"
    assert "heartbeat_timeout" not in recorder.names()


def test_websocket_refused_handshake() -> None:
    def script(peer: Peer) -> None:
        peer.sock.settimeout(WAIT)
        peer.sock.recv(65536)
        peer.sock.sendall(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")

    server = FakeServer(script)
    try:
        conn = stomp.WSConnection([server.address], reconnect_attempts_max=1, timeout=WAIT)
        with pytest.raises(ConnectFailedException, match="404"):
            conn.connect(wait=True)
    finally:
        server.close()


def test_websocket_header_list_and_bad_path() -> None:
    from stomp.adapter.ws import WSTransport

    transport = WSTransport(header=["X-A: 1", "X-B:2"])
    assert transport.header == (("X-A", "1"), ("X-B", "2"))
    with pytest.raises(ValueError, match="Name: value"):
        WSTransport(header=["nonsense"])
    with pytest.raises(ValueError, match="ws_path"):
        WSTransport(ws_path="ws")

"""Heart-beats in the blocking driver: sent from the I/O side, never stalled by listeners."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from test_stomp_connection import Recorder, graceful_end
from test_stomp_support import WAIT, Peer, fake_server

import stomp
from stomp.listener import ConnectionListener
from stomp.utils import Frame


def _beat(peer: Peer, stop: threading.Event, interval: float, eol: bytes = b"\n") -> None:
    while not stop.wait(interval):
        with contextlib.suppress(OSError):
            peer.sock.sendall(eol)


def test_a_blocked_listener_does_not_stall_heartbeats() -> None:
    # With 200 ms heart-beats both ways, a listener blocking for 1.5 s must cause no
    # timeout on either side (stomp.py issue #346: one thread did both).
    gaps: list[float] = []
    unblock = threading.Event()

    class Slow(ConnectionListener):
        def on_message(self, frame: Frame) -> None:
            unblock.wait(WAIT)

    def script(peer: Peer) -> None:
        connect = peer.connected(heart_beat="200,200")
        assert connect.headers["heart-beat"] == "200,200"
        stop = threading.Event()
        beater = threading.Thread(target=_beat, args=(peer, stop, 0.1), daemon=True)
        beater.start()
        peer.send_frame("MESSAGE", {"subscription": "1", "message-id": "1", "destination": "/q"})
        last = time.monotonic()
        peer.sock.settimeout(0.5)
        ends = last + 1.5
        while time.monotonic() < ends:
            try:
                data = peer.sock.recv(100)
            except TimeoutError:
                data = b"timeout"
            assert data, "client closed the connection"
            now = time.monotonic()
            if data.strip(b"\n") == b"":
                gaps.append(now - last)
                last = now
        unblock.set()
        stop.set()
        beater.join(WAIT)
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], heartbeats=(200, 200), timeout=WAIT)
        conn.set_listener("a-slow", Slow())
        conn.set_listener("b-rec", recorder)
        conn.connect(wait=True)
        assert conn.heartbeats == (200, 200)
        recorder.wait_for("message")
        assert conn.is_connected()
        conn.disconnect()
    assert "heartbeat_timeout" not in recorder.names()
    assert len(gaps) >= 5
    assert max(gaps) < 0.3, gaps  # the client kept beating every ~160 ms
    assert recorder.names().count("heartbeat") >= 5  # counted, in order, afterwards


def test_silent_broker_times_out() -> None:
    def script(peer: Peer) -> None:
        peer.connected(heart_beat="100,100")
        peer.wait_eof()

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], heartbeats=(100, 100), timeout=WAIT)
        conn.set_listener("r", recorder)
        started = time.monotonic()
        conn.connect(wait=True)
        recorder.wait_for("loop_completed")
        assert time.monotonic() - started < 2
        assert not conn.is_connected()
        conn.disconnect()
    names = recorder.names()
    assert names[-3:] == ["disconnected", "heartbeat_timeout", "loop_completed"]
    assert names.count("disconnected") == 1


def test_crlf_heartbeats_count_in_stomp_12() -> None:
    seen = threading.Event()

    def script(peer: Peer) -> None:
        peer.connected(version="1.2", heart_beat="100,100")
        stop = threading.Event()
        beater = threading.Thread(target=_beat, args=(peer, stop, 0.05, b"\r\n"), daemon=True)
        beater.start()
        assert seen.wait(WAIT)  # beat until the client counted enough of them
        stop.set()
        beater.join(WAIT)
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection12([server.address], heartbeats=(100, 100), timeout=WAIT)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        recorder.wait_for("heartbeat", 5)
        seen.set()
        assert conn.is_connected()
        conn.disconnect()
    assert "heartbeat_timeout" not in recorder.names()


def test_no_heartbeats_when_the_broker_declines() -> None:
    checked = threading.Event()
    sent: list[bytes] = []

    def script(peer: Peer) -> None:
        connect = peer.connected(heart_beat="0,0")
        assert connect.headers["heart-beat"] == "50,50"
        peer.sock.settimeout(0.3)
        with contextlib.suppress(TimeoutError):
            sent.append(peer.sock.recv(10, socket.MSG_PEEK))
        checked.set()
        graceful_end(peer)

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], heartbeats=(50, 50), timeout=WAIT)
        conn.connect(wait=True)
        assert conn.heartbeats == (0, 0)
        assert checked.wait(WAIT)
        conn.disconnect()
    assert sent == []  # nothing at all, in particular no heart-beat, in 0.3 s

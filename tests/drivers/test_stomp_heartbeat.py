"""Heart-beats in the blocking driver: never stalled by listeners."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from typing import Any

import pytest
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
    # The broker's beats waited in the socket while the listener blocked (the I/O thread
    # runs the listeners, as stomp.py's receiver thread does); read afterwards, the run
    # of EOLs is one heart-beat, reported after the message.
    names = recorder.names()
    assert "heartbeat" in names[names.index("message") :]


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


def test_a_broker_that_falls_silent_during_a_slow_listener_is_detected_after_it() -> None:
    # The receive timeout is paused while a listener runs (the broker's beats would wait
    # unread) and must resume when it returns: then a silent broker is declared dead,
    # after a full interval plus the margin (100 ms x 2.5), not during the listener.
    returned: list[float] = []

    class Slow(ConnectionListener):
        def on_message(self, frame: Frame) -> None:
            time.sleep(0.5)  # the slow listener under test, not a wait for an event
            returned.append(time.monotonic())

    def script(peer: Peer) -> None:
        peer.connected(heart_beat="100,100")
        peer.send_frame("MESSAGE", {"subscription": "1", "message-id": "1", "destination": "/q"})
        peer.wait_eof()  # silent from now on

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], heartbeats=(100, 100), timeout=WAIT)
        conn.set_listener("a-slow", Slow())
        conn.set_listener("b-rec", recorder)
        conn.connect(wait=True)
        recorder.wait_for("heartbeat_timeout")
        timed_out = time.monotonic()
        conn.disconnect()
    names = recorder.names()
    assert names.index("message") < names.index("heartbeat_timeout")
    assert timed_out - returned[0] >= 0.2  # a full interval after the listener returned


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


def test_outgoing_heartbeats_are_shown_to_on_send_as_stomppy_does() -> None:
    # stomp.py's heart-beat loop passes each heart-beat through transmit(), so every
    # listener's on_send sees Frame(None, {}, None); listeners count sends that way.
    def script(peer: Peer) -> None:
        peer.connected(heart_beat="100,100")
        stop = threading.Event()
        beater = threading.Thread(target=_beat, args=(peer, stop, 0.05), daemon=True)
        beater.start()
        graceful_end(peer)
        stop.set()
        beater.join(WAIT)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], heartbeats=(100, 100), timeout=WAIT)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        recorder.wait_for("send", 4)  # CONNECT/STOMP, then three heart-beats
        conn.disconnect()
    beats = [frame for frame in recorder.frames("send") if frame.cmd is None]
    assert len(beats) >= 3
    assert all(frame.headers == {} and frame.body is None for frame in beats)
    assert "heartbeat_timeout" not in recorder.names()


def test_the_eol_after_each_frame_is_not_a_heartbeat() -> None:
    # RabbitMQ and ActiveMQ write NUL LF after every frame: 200 messages are no reason
    # to call on_heartbeat (stomp.py: 0 calls; we made 201).  An EOL sent later is one.
    all_in = threading.Event()

    def script(peer: Peer) -> None:
        peer.read_frame()
        peer.send(b"CONNECTED\nversion:1.1\nheart-beat:0,0\n\n\x00\n")
        for index in range(200):
            peer.send(b"MESSAGE\nsubscription:1\ndestination:/q\nmessage-id:%d\n\nm\x00\n" % index)
        assert all_in.wait(WAIT)
        peer.send(b"\n")  # a heart-beat, well after the last frame and its padding
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        recorder.wait_for("message", 200)
        all_in.set()
        recorder.wait_for("heartbeat", 1)
        conn.disconnect()
    assert recorder.names().count("heartbeat") == 1
    # The CONNECTED frame as the broker wrote it, heart-beat:0,0 included.
    [connected] = recorder.frames("connected")
    assert connected.headers == {"version": "1.1", "heart-beat": "0,0"}


class SelectProbe:
    """Stands in for the ``select`` module in ``stomp._session``: counts the waits."""

    def __init__(self) -> None:
        self.calls = 0

    def select(self, *args: Any) -> Any:
        self.calls += 1
        return select.select(*args)


def test_plain_tcp_reads_wait_in_recv_and_the_keeper_beats_from_connected_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On plain TCP the I/O thread blocks in recv (no select before each read: one system
    # call per wake-up less), and the keeper sends our heart-beats.  It must wake for
    # the first deadline CONNECTED sets, not sleep out the plan it made before (up to
    # POLL_CAP = 1 s): this broker expects a beat every 200 ms from the start.
    probe = SelectProbe()
    monkeypatch.setattr(stomp._session, "select", probe)
    beats: list[float] = []

    def script(peer: Peer) -> None:
        assert peer.read_frame().command in ("CONNECT", "STOMP")
        # A broker slow to answer (the latency under test, not a wait for an event): the
        # keeper has planned its sleep by the connect deadline before CONNECTED comes.
        time.sleep(0.3)
        peer.send_frame("CONNECTED", {"version": "1.1", "heart-beat": "0,200"})
        connected = time.monotonic()
        peer.sock.settimeout(0.1)
        while time.monotonic() < connected + 1.0:
            try:
                data = peer.sock.recv(100)
            except TimeoutError:
                continue
            assert data, "client closed the connection"
            assert data.strip(b"\n") == b"", data
            beats.extend(time.monotonic() - connected for _ in data)
        peer.send_frame("MESSAGE", {"subscription": "1", "message-id": "1", "destination": "/q"})
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], heartbeats=(200, 0), timeout=WAIT)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        recorder.wait_for("message")
        conn.disconnect()
    assert probe.calls == 0
    assert len(beats) >= 3, beats  # about 5 in the first second
    assert beats[0] < 0.6, beats


def test_a_silent_broker_is_found_on_time_when_we_send_no_beats() -> None:
    # Only the broker beats (every 100 ms): our keeper has no send deadline to wake it.
    # While a listener runs, the receive timeout is paused and the keeper plans to sleep
    # POLL_CAP (1 s); when the listener returns it must be told the receive deadline
    # (100 ms x 2.5 later).
    class SlowToStart(ConnectionListener):
        def on_connected(self, frame: Frame) -> None:
            time.sleep(0.1)  # the listener's own work, not a wait for an event

    def script(peer: Peer) -> None:
        peer.connected(heart_beat="100,0")
        peer.wait_eof()

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], heartbeats=(0, 100), timeout=WAIT)
        conn.set_listener("a-slow", SlowToStart())
        conn.set_listener("b-rec", recorder)
        conn.connect(wait=True)  # returns once on_connected was called
        started = time.monotonic()
        recorder.wait_for("heartbeat_timeout")
        elapsed = time.monotonic() - started
        conn.disconnect()
    assert elapsed < 0.7, elapsed  # about 0.25 s; a missed wake-up makes it 1 s


def test_a_beat_held_up_by_a_sender_leaves_soon_after_it() -> None:
    # The keeper queues our heart-beat at its deadline (0.8 s: the core beats early
    # within the 1 s interval), but a sender holds the socket (here the test holds the
    # write lock, as a sender in a slow write would).  Nobody else writes, and the I/O
    # thread waits in recv: the keeper must retry soon after the lock is free, not at
    # the next deadline 0.6 s later.
    eols: list[float] = []
    released: list[float] = []  # when the test let go of the lock
    beat_after_release = threading.Event()

    def script(peer: Peer) -> None:
        peer.connected(heart_beat="0,1000")
        received = b""
        while b"DISCONNECT" not in received:
            data = peer.sock.recv(100)
            assert data, "client closed the connection"
            if data.strip(b"\n") == b"":
                now = time.monotonic()
                eols.extend(now for _ in data)
                if released and now >= released[0]:
                    beat_after_release.set()
            received += data
        receipt = received.split(b"receipt:")[1].split(b"\n")[0].decode()
        peer.send_frame("RECEIPT", {"receipt-id": receipt})
        peer.wait_eof()

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], heartbeats=(1000, 0), timeout=WAIT)
        conn.connect(wait=True)
        session = conn.transport._session
        assert session is not None
        with session._write_lock:  # across the first deadline
            time.sleep(1.0)  # the sender's slow write, not a wait for an event
            released.append(time.monotonic())
        beat_after_release.wait(0.5)
        conn.disconnect()
    late = [t - released[0] for t in eols if t >= released[0]]
    assert late, eols
    assert late[0] < 0.3, late  # about 10 ms; the next deadline is 0.6 s away

"""Opt-in automatic reconnection: backoff, CONNECT again, replay subscriptions."""

from __future__ import annotations

import time

from test_stomp_connection import Recorder, graceful_end
from test_stomp_support import WAIT, FakeServer, Peer, fake_server

import stomp


def test_auto_reconnect_replays_subscriptions() -> None:
    first: dict[str, object] = {}
    second: dict[str, object] = {}

    def drop(peer: Peer) -> None:
        first["connect"] = peer.connected()
        first["subscribe"] = peer.expect("SUBSCRIBE")
        first["subscribe2"] = peer.expect("SUBSCRIBE")
        first["unsubscribe"] = peer.expect("UNSUBSCRIBE")
        first["lost"] = peer.expect("SEND")  # asks for a receipt that never comes
        # then the broker goes away (the script ends and the socket closes)

    def resume(peer: Peer) -> None:
        second["connect"] = peer.connected()
        subscribe = peer.expect("SUBSCRIBE")
        second["subscribe"] = subscribe
        peer.send_frame(
            "MESSAGE", {"subscription": "s1", "message-id": "1", "destination": "/queue/a"}, b"hi"
        )
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(drop, resume) as server:
        conn = stomp.Connection(
            [server.address], timeout=WAIT, auto_reconnect=True, reconnect_sleep_initial=0.01
        )
        conn.set_listener("r", recorder)
        conn.connect("user", "pw", wait=True)
        conn.subscribe("/queue/a", "s1", ack="client", headers={"prefetch-count": "1"}, receipt="x")
        conn.subscribe("/queue/b", "s2")
        conn.unsubscribe("s2")
        waiting = stomp.WaitingListener("lost")
        conn.set_listener("w", waiting)
        started = time.monotonic()
        conn.send("/queue/a", "x", receipt="lost")
        assert waiting.wait_on_receipt(WAIT) is False
        assert time.monotonic() - started < WAIT / 2  # failed by the drop, not timed out
        recorder.wait_for("message")
        assert conn.is_connected()
        conn.disconnect()
    connect = second["connect"]
    assert connect.headers["login"] == "user"  # type: ignore[attr-defined]
    subscribe = second["subscribe"]
    assert subscribe.headers["id"] == "s1"  # type: ignore[attr-defined]
    assert subscribe.headers["destination"] == "/queue/a"  # type: ignore[attr-defined]
    assert subscribe.headers["ack"] == "client"  # type: ignore[attr-defined]
    assert subscribe.headers["prefetch-count"] == "1"  # type: ignore[attr-defined]
    assert "receipt" not in subscribe.headers  # type: ignore[attr-defined]
    names = recorder.names()
    first_drop = names.index("disconnected")
    assert names[first_drop + 1 :].index("connecting") >= 0
    assert names.count("connecting") == 2
    assert names.count("connected") == 2
    assert names.count("disconnected") == 2


def test_no_auto_reconnect_by_default() -> None:
    def drop(peer: Peer) -> None:
        peer.connected()

    recorder = Recorder()
    with fake_server(drop) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        recorder.wait_for("disconnected")
        assert not conn.is_connected()
        assert not conn.transport.running
    assert recorder.names().count("connecting") == 1


def test_user_disconnect_does_not_reconnect() -> None:
    def script(peer: Peer) -> None:
        peer.connected()
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT, auto_reconnect=True)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        conn.disconnect()
        assert not conn.transport.running
    assert recorder.names().count("connecting") == 1


def test_quick_drops_back_off_and_give_up() -> None:
    # A broker that drops every connection right after CONNECTED: the client retries
    # with growing waits, then gives up when the attempt budget is spent.
    def drop(peer: Peer) -> None:
        peer.connected()

    def last(peer: Peer) -> None:
        server.listener.close()  # the fourth attempt is refused: no more reconnections
        peer.connected()

    recorder = Recorder()
    server = FakeServer(drop, drop, last)
    try:
        conn = stomp.Connection(
            [server.address],
            timeout=WAIT,
            auto_reconnect=True,
            reconnect_sleep_initial=0.05,
            reconnect_attempts_max=1,
        )
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        recorder.wait_for("disconnected", 3)
        assert server.done.wait(WAIT)
        last_thread = conn.transport.receiver_thread  # the thread that tries to reconnect
        last_thread.join(WAIT)
        assert not last_thread.is_alive()
        assert not conn.transport.running
    finally:
        server.close()
    assert recorder.names().count("connected") == 3


def test_disconnect_during_reconnect_backoff_stops_it() -> None:
    def drop(peer: Peer) -> None:
        peer.connected()

    recorder = Recorder()
    server = FakeServer(drop)
    try:
        conn = stomp.Connection(
            [server.address],
            timeout=WAIT,
            auto_reconnect=True,
            reconnect_sleep_initial=WAIT,  # a long wait before the first retry
            reconnect_attempts_max=-1,
        )
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        recorder.wait_for("disconnected")
        reconnecting = conn.transport.receiver_thread
        started = time.monotonic()
        conn.disconnect()  # the connection is gone; this must end the backoff too
        reconnecting.join(WAIT)
        assert not reconnecting.is_alive()
        assert time.monotonic() - started < WAIT / 2
        assert not conn.transport.running
    finally:
        server.close()
    assert recorder.names().count("connecting") == 1

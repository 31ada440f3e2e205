"""Issue 14, blocking driver: no ack across connections, bounded writes, reconnect defaults."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from test_stomp_connection import Recorder
from test_stomp_support import WAIT, Peer, fake_server

import stomp
from stomp._acks import AckLedger
from stomp.exception import ConnectFailedException, NotConnectedException
from stomp.listener import WaitingListener
from stomp_broker import run_broker_in_thread


def test_ack_of_a_message_from_before_a_reconnect_is_refused() -> None:
    # The embedded broker's 1.2 ack ids are per connection ("<connection>.<n>"), as
    # RabbitMQ's delivery tags are: written on the new connection, the old id would
    # settle whatever that connection numbered alike.
    destination = f"/queue/stale-ack-{uuid.uuid4()}"
    with run_broker_in_thread() as broker:
        recorder = Recorder()
        conn = stomp.Connection12(
            [tuple(broker)], timeout=WAIT, auto_reconnect=True, reconnect_sleep_initial=0.01
        )
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        conn.subscribe(destination, "s", ack="client-individual")
        conn.send(destination, "one")
        conn.send(destination, "two")
        recorder.wait_for("message", 2)
        old = [frame.headers["ack"] for frame in recorder.frames("message")]
        assert broker.drop_connections() == 1
        recorder.wait_for("connected", 2)
        recorder.wait_for("message", 4)  # both redelivered on the new connection
        for ack_id in old:
            with pytest.raises(NotConnectedException, match="earlier connection"):
                conn.ack(ack_id)
        with pytest.raises(NotConnectedException, match="earlier connection"):
            conn.nack(old[0])
        new = [frame.headers["ack"] for frame in recorder.frames("message")[2:]]
        assert not set(new) & set(old)
        waiting = WaitingListener("done")
        conn.set_listener("w", waiting)
        conn.ack(new[0])
        conn.ack(new[1], receipt="done")
        assert waiting.wait_on_receipt(WAIT)
        assert broker.queue_depth(destination) == 0
        assert len(conn.transport._acks) == 2  # the refused ids stay refused
        assert not recorder.frames("error")
        conn.disconnect()


def test_ack_ledger_forgets_settled_messages() -> None:
    ledger = AckLedger(max_pending=3)
    # client mode: an ACK settles every earlier message of its subscription (spec 1.2).
    for n in range(3):
        ledger.delivered(f"a{n}", 1, "s", True)
    ledger.settled("a1")
    assert len(ledger) == 1
    assert ledger.stale("a2", 2) == 1
    # client-individual: one at a time; the bound drops the oldest.
    for n in range(4):
        ledger.delivered(f"b{n}", 1, "t", False)
    assert len(ledger) == 3
    assert ledger.stale("b0", 2) is None
    ledger.settled("b2")
    assert ledger.stale("b1", 1) is None
    assert ledger.stale("b3", 2) == 1
    assert ledger.stale("b3", 2) == 1  # refused again: it stays known
    # a redelivery of the same id moves it to the new connection
    ledger.delivered("c", 1, "t", False)
    ledger.delivered("c", 2, "t", False)
    assert ledger.stale("c", 2) is None


@pytest.mark.parametrize("heartbeats", [(0, 0), (100, 0)])
def test_a_write_has_one_overall_deadline(heartbeats: tuple[int, int]) -> None:
    # A broker that accepts and never reads: the SEND must fail within `timeout` (one
    # deadline for the whole frame), not `timeout` again after every partial write.
    finished = threading.Event()

    def script(peer: Peer) -> None:
        peer.connected(heart_beat="0,100" if heartbeats[0] else None)
        assert finished.wait(WAIT)

    timeout = 0.5
    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=timeout, heartbeats=heartbeats)
        conn.connect(wait=True)
        started = time.monotonic()
        with pytest.raises(NotConnectedException) as caught:
            conn.send("/q", b"x" * (16 * 1024 * 1024))
        elapsed = time.monotonic() - started
        finished.set()
        conn.disconnect()
    assert elapsed < timeout + 0.4  # before: 2-3 x timeout
    assert "within the write timeout of 0.5 s" in str(caught.value)  # before: "nothing ..."


def test_auto_reconnect_defaults_ride_out_a_broker_restart() -> None:
    # stomp.py's defaults (3 attempts, 0.1 s growing by half) gave up after ~0.5 s; a
    # broker restart takes seconds.  Only the first connect keeps that budget.
    destination = f"/queue/restart-{uuid.uuid4()}"
    with run_broker_in_thread() as broker:
        recorder = Recorder()
        conn = stomp.Connection([tuple(broker)], timeout=WAIT, auto_reconnect=True)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        conn.subscribe(destination, "s")
        broker.refuse_connections(2.0)
        started = time.monotonic()
        assert broker.drop_connections() == 1
        recorder.wait_for("connected", 2)
        assert time.monotonic() - started >= 1.5  # it really was refused meanwhile
        conn.send(destination, "after the restart")
        recorder.wait_for("message")
        conn.disconnect()


def test_the_first_connect_keeps_stomppys_attempt_budget() -> None:
    with run_broker_in_thread() as broker:
        broker.refuse_connections()
        conn = stomp.Connection([tuple(broker)], timeout=WAIT, auto_reconnect=True)
        started = time.monotonic()
        with pytest.raises(ConnectFailedException):
            conn.connect(wait=True)
        assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    "garbage",
    [b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", b"\x15\x03\x03\x00\x02\x02\x46"],
)
def test_garbage_instead_of_connected_is_named(garbage: bytes) -> None:
    # Before: ConnectFailedException("the connection was closed"), no reason.
    def script(peer: Peer) -> None:
        peer.read_frame()
        peer.send(garbage)

    with fake_server(script) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        with pytest.raises(ConnectFailedException) as caught:
            conn.connect(wait=True)
        conn.disconnect()
    message = str(caught.value)
    assert message.startswith("protocol error: ")
    assert "did not answer CONNECT with a STOMP frame" in message
    assert f"it sent {garbage[:64]!r}" in message

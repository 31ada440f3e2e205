"""The blocking driver against the embedded broker (stomp_broker): real exchanges."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from test_stomp_connection import Recorder
from test_stomp_support import WAIT

import stomp
from stomp.exception import ConnectFailedException
from stomp.listener import TestListener, WaitingListener
from stomp_broker import run_broker_in_thread

CLASSES = [stomp.Connection10, stomp.Connection11, stomp.Connection12]


@pytest.mark.parametrize("cls", CLASSES)
def test_send_subscribe_receive(cls: type[Any]) -> None:
    with run_broker_in_thread() as broker:
        listener = TestListener("r-1")
        conn = cls([tuple(broker)], timeout=WAIT)
        conn.set_listener("t", listener)
        conn.connect("u", "p", wait=True)
        conn.subscribe("/queue/e2e", "1")
        conn.send("/queue/e2e", "héllo :\n\\ wörld", headers={"odd": "a:b\\c"}, receipt="r-1")
        assert listener.wait_on_receipt(WAIT)
        assert listener.wait_for_message(WAIT)
        headers, body = listener.get_latest_message()  # type: ignore[misc]
        assert body == "héllo :\n\\ wörld"
        if cls is not stomp.Connection10:
            assert headers["odd"] == "a:b\\c"  # escaped and unescaped again
        conn.disconnect()
        assert not conn.is_connected()


@pytest.mark.parametrize("cls", CLASSES[1:])
def test_client_ack_nack_and_transactions(cls: type[Any]) -> None:
    with run_broker_in_thread() as broker:
        recorder = Recorder()
        conn = cls([tuple(broker)], timeout=WAIT)
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        conn.subscribe("/queue/tx", "s", ack="client-individual")
        tx = conn.begin()
        conn.send("/queue/tx", "one", transaction=tx)
        conn.commit(tx)
        recorder.wait_for("message")
        first = recorder.frames("message")[0]
        ack_id = first.headers["ack"] if cls is stomp.Connection12 else first.headers["message-id"]
        if cls is stomp.Connection12:
            conn.nack(ack_id)
        else:
            conn.nack(ack_id, "s")
        recorder.wait_for("message", 2)  # redelivered
        again = recorder.frames("message")[1]
        assert again.headers.get("redelivered") == "true"
        ack_id = again.headers["ack"] if cls is stomp.Connection12 else again.headers["message-id"]
        if cls is stomp.Connection12:
            conn.ack(ack_id)
        else:
            conn.ack(ack_id, "s")
        conn.disconnect()


def test_bad_login_raises() -> None:
    with run_broker_in_thread(users={"u": "right"}) as broker:
        conn = stomp.Connection([tuple(broker)], timeout=WAIT)
        with pytest.raises(ConnectFailedException):
            conn.connect("u", "wrong", wait=True)
        conn2 = stomp.Connection([tuple(broker)], timeout=WAIT)
        conn2.connect("u", "right", wait=True)
        conn2.disconnect()


def test_heartbeats_with_the_broker_and_the_waiting_listener() -> None:
    with run_broker_in_thread() as broker:
        conn = stomp.Connection12([tuple(broker)], heartbeats=(100, 100), timeout=WAIT)
        recorder = Recorder()
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        assert conn.heartbeats != (0, 0)
        recorder.wait_for("heartbeat", 3)
        waiting = WaitingListener("bye")
        conn.set_listener("w", waiting)
        conn.disconnect(receipt="bye")
        assert waiting.wait_on_receipt(WAIT)
        assert waiting.wait_on_disconnected(WAIT)
    assert "heartbeat_timeout" not in recorder.names()


def test_many_threads_many_messages() -> None:
    threads, count = 10, 100
    with run_broker_in_thread() as broker:
        listener = TestListener()
        received = threading.Event()
        consumer = stomp.Connection([tuple(broker)], timeout=WAIT)

        class Counter(stomp.ConnectionListener):
            def on_message(self, frame: Any) -> None:
                if listener.messages >= threads * count:
                    received.set()

        consumer.set_listener("a", listener)
        consumer.set_listener("b", Counter())
        consumer.connect(wait=True)
        consumer.subscribe("/queue/many", "1")
        producer = stomp.Connection([tuple(broker)], timeout=WAIT)
        producer.connect(wait=True)

        def send(n: int) -> None:
            for i in range(count):
                producer.send("/queue/many", f"{n}:{i}")

        workers = [threading.Thread(target=send, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(WAIT)
        assert received.wait(WAIT)
        bodies = [body for _, body in listener.message_list]
        assert sorted(bodies) == sorted(f"{n}:{i}" for n in range(threads) for i in range(count))
        producer.disconnect()
        consumer.disconnect()


def test_websocket_against_the_broker() -> None:
    with run_broker_in_thread(ws_port=0) as broker:
        ws_port = broker.broker.ws_port
        assert ws_port is not None
        listener = TestListener("r")
        conn = stomp.WSConnection([(broker.host, ws_port)], ws_path="/ws", timeout=WAIT)
        conn.set_listener("t", listener)
        conn.connect("u", "p", wait=True)
        conn.subscribe("/topic/ws", "1")
        conn.send("/topic/ws", "över websocket", receipt="r")
        assert listener.wait_on_receipt(WAIT)
        assert listener.wait_for_message(WAIT)
        assert listener.message_list[0][1] == "över websocket"
        conn.disconnect()


def test_listener_blocking_5s_with_1s_heartbeats_times_out_neither_side() -> None:
    # The case: heart-beats 1000,1000 and a listener that blocks for 5 s.  The
    # broker enforces our heart-beats (it drops silent clients) and we enforce its.
    release = threading.Event()

    class Blocking(stomp.ConnectionListener):
        def on_message(self, frame: Any) -> None:
            if frame.body == "first":
                release.wait(5)  # nobody sets it: a listener stuck for 5 s

    with run_broker_in_thread() as broker:
        recorder = Recorder()
        conn = stomp.Connection12([tuple(broker)], heartbeats=(1000, 1000), timeout=WAIT)
        conn.set_listener("a-block", Blocking())
        conn.set_listener("b-rec", recorder)
        conn.connect(wait=True)
        assert conn.heartbeats == (1000, 1000)
        conn.subscribe("/queue/slow", "1")
        conn.send("/queue/slow", "first")
        conn.send("/queue/slow", "second")
        recorder.wait_for("message", 2, timeout=20)
        assert conn.is_connected()
        conn.send("/queue/slow", "third", receipt="after")
        recorder.wait_for("receipt")
        conn.disconnect()
    assert "heartbeat_timeout" not in recorder.names()
    assert recorder.names().count("disconnected") == 1

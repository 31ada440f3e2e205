"""stomp.listener: the callback interface and the ready-made listeners."""

from __future__ import annotations

import inspect
import threading

import pytest

from stomp import listener
from stomp.utils import Frame

CALLBACKS = {
    "on_connecting": ("host_and_port",),
    "on_connected": ("frame",),
    "on_disconnecting": (),
    "on_disconnected": (),
    "on_heartbeat_timeout": (),
    "on_before_message": ("frame",),
    "on_message": ("frame",),
    "on_receipt": ("frame",),
    "on_error": ("frame",),
    "on_send": ("frame",),
    "on_heartbeat": (),
    "on_receiver_loop_completed": ("frame",),
}


@pytest.mark.parametrize(("name", "params"), sorted(CALLBACKS.items()))
def test_connection_listener_has_every_callback(name: str, params: tuple[str, ...]) -> None:
    method = getattr(listener.ConnectionListener, name)
    assert tuple(inspect.signature(method).parameters)[1:] == params
    args = [None] * len(params)
    assert method(listener.ConnectionListener(), *args) is None


def test_publisher_is_a_no_op() -> None:
    publisher = listener.Publisher()
    publisher.set_listener("a", listener.ConnectionListener())
    publisher.remove_listener("a")
    assert publisher.get_listener("a") is None


def test_waiting_listener_receipt_is_latched_and_reset() -> None:
    waiting = listener.WaitingListener("r1")
    waiting.on_receipt(Frame("RECEIPT", {"receipt-id": "other"}))
    assert waiting.wait_on_receipt(timeout=0.01) is False
    waiting.on_receipt(Frame("RECEIPT", {"receipt-id": "r1"}))
    assert waiting.wait_on_receipt(timeout=5) is True
    # consumed: waiting again needs a new receipt
    assert waiting.wait_on_receipt(timeout=0.01) is False


def test_waiting_listener_wakes_a_waiting_thread() -> None:
    waiting = listener.WaitingListener("r1")
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(waiting.wait_on_receipt(timeout=10)))
    thread.start()
    waiting.on_receipt(Frame("RECEIPT", {"receipt-id": "r1"}))
    thread.join(10)
    assert results == [True]


def test_waiting_listener_does_not_wait_once_the_reader_finished() -> None:
    waiting = listener.WaitingListener("r1")
    waiting.on_receiver_loop_completed(None)
    assert waiting.wait_on_receipt() is False
    waiting.on_connecting(("localhost", 1))
    assert waiting.wait_on_receipt(timeout=0.01) is False


def test_waiting_listener_disconnected() -> None:
    waiting = listener.WaitingListener(None)
    assert waiting.wait_on_disconnected(timeout=0.01) is False
    waiting.on_disconnected()
    assert waiting.disconnected
    assert waiting.wait_on_disconnected() is True
    assert waiting.wait_on_disconnected() is True  # latched, never reset


def test_waits_reject_bad_timeouts() -> None:
    waiting = listener.WaitingListener(None)
    with pytest.raises(ValueError, match="timeout"):
        waiting.wait_on_receipt(timeout=-1)
    with pytest.raises(ValueError, match="timeout"):
        listener.TestListener().wait_for_message(timeout="1")  # type: ignore[arg-type]


def test_stats_listener_counts_and_str() -> None:
    stats = listener.StatsListener()
    stats.on_connecting(("h", 1))
    stats.on_send(Frame("CONNECT"))
    stats.on_send(Frame(None))
    stats.on_message(Frame("MESSAGE"))
    stats.on_heartbeat()
    stats.on_error(Frame("ERROR", {"message": "x"}, "b"))
    stats.on_heartbeat_timeout()
    stats.on_disconnected()
    assert str(stats) == (
        "Connections: 1\nDisconnects: 1\nMessages sent: 2\nMessages received: 1\n"
        "Heartbeats received: 1\nErrors: 1"
    )
    assert stats.heartbeat_timeouts == 1


def test_printing_listener_prints_with_passcode_masked(capsys: pytest.CaptureFixture[str]) -> None:
    printer = listener.PrintingListener()
    printer.on_connecting(("h", 1))
    printer.on_send(Frame("CONNECT", {"passcode": "hunter2"}, ""))
    printer.on_message(Frame("MESSAGE", {"a": "1"}, "body"))
    printer.on_heartbeat()
    for name in ("on_disconnected", "on_heartbeat_timeout"):
        getattr(printer, name)()
    for name in ("on_connected", "on_before_message", "on_receipt", "on_error"):
        getattr(printer, name)(Frame("X", {}, ""))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "on_connecting h 1"
    assert out[1] == "on_send CONNECT {'passcode': '********'} "
    assert out[2] == "on_message {'a': '1'} body"
    assert out[3] == "on_heartbeat"
    assert len(out) == 10
    assert "hunter2" not in "".join(out)


def test_test_listener_combines_everything(capsys: pytest.CaptureFixture[str]) -> None:
    test = listener.TestListener("r", print_to_log=True)
    assert len(test.timestamp) == 14
    assert test.get_latest_message() is None
    test.on_connecting(("h", 1))
    test.on_connected(Frame("CONNECTED"))
    test.on_before_message(Frame("MESSAGE"))
    test.on_message(Frame("MESSAGE", {"a": "1"}, "one"))
    test.on_message(Frame("MESSAGE", {"a": "2"}, "two"))
    assert test.wait_for_message(timeout=1) is True
    assert test.wait_for_message(timeout=0.01) is False
    assert test.get_latest_message() == ({"a": "2"}, "two")
    assert len(test.message_list) == 2
    test.on_heartbeat()
    assert test.wait_for_heartbeat(timeout=1) is True
    test.on_receipt(Frame("RECEIPT", {"receipt-id": "r"}))
    assert test.wait_on_receipt(timeout=1) is True
    test.on_error(Frame("ERROR"))
    test.on_send(Frame("SEND"))
    test.on_heartbeat_timeout()
    test.on_disconnected()
    test.on_receiver_loop_completed(None)
    assert test.wait_on_disconnected(timeout=1)
    assert (test.connections, test.messages, test.errors, test.messages_sent) == (1, 2, 1, 1)
    assert (test.heartbeat_count, test.heartbeat_timeouts, test.disconnects) == (1, 1, 1)
    assert capsys.readouterr().out == ""  # print_to_log: nothing on stdout
    assert listener.TestListener.__test__ is False


def test_heartbeat_listener_bookkeeping() -> None:
    beats = listener.HeartbeatListener(None, (1000, 2000), heart_beat_receive_scale=2.0)
    connect = Frame("STOMP", {})
    beats.on_send(connect)
    assert connect.headers["heart-beat"] == "1000,2000"
    beats.on_connected(Frame("CONNECTED", {"heart-beat": "3000, 500"}))
    assert beats.heartbeats == (1000, 3000)
    assert beats.send_sleep == 1.0
    assert beats.receive_sleep == 6.0
    assert beats.running
    before = beats.received_heartbeat
    beats.on_heartbeat()
    beats.on_message(Frame("MESSAGE"))
    beats.on_receipt(Frame("RECEIPT"))
    beats.on_error(Frame("ERROR"))
    assert beats.received_heartbeat == before  # still in the first-beat grace
    beats.on_disconnecting()
    assert beats.disconnecting
    beats.on_disconnected()
    assert not beats.running


def test_heartbeat_listener_without_negotiation() -> None:
    beats = listener.HeartbeatListener(None, (0, 0))
    frame = Frame("CONNECT", {})
    beats.on_send(frame)
    assert "heart-beat" not in frame.headers
    beats.on_connected(Frame("CONNECTED", {}))
    beats.on_connected(Frame("CONNECTED", {"heart-beat": "garbage"}))
    assert beats.heartbeats == (0, 0)
    beats.on_heartbeat()
    assert beats.received_heartbeat is not None
    with pytest.raises(ValueError, match="heartbeats"):
        listener.HeartbeatListener(None, (1, -1))

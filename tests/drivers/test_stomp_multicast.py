"""stomp.adapter.multicast on the loopback interface (TTL 0: nothing leaves this host)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_stomp_connection import Recorder

from stomp.adapter.multicast import MCAST_GRP, MCAST_PORT, MulticastConnection
from stomp.exception import NotConnectedException

GROUP = "239.255.77.77"  # administratively scoped


@pytest.fixture
def conn() -> Iterator[MulticastConnection]:
    connection = MulticastConnection(group=GROUP, port=0, interface="127.0.0.1", ttl=0)
    yield connection
    connection.disconnect()


def test_subscribe_send_receive_unsubscribe(conn: MulticastConnection) -> None:
    recorder = Recorder()
    conn.set_listener("r", recorder)
    conn.connect("ignored", "ignored", wait=True)
    assert conn.is_connected()
    conn.subscribe("/topic/a", "1")
    conn.send("/topic/b", "not subscribed")
    big = "x" * 5000  # stomp.py truncated datagrams at 1024 bytes
    conn.send("/topic/a", big, content_type="text/plain", headers={"k": "v"})
    recorder.wait_for("message")
    message = recorder.frames("message")[0]
    assert message.body == big.encode()
    assert message.headers["k"] == "v"
    assert message.headers["destination"] == "/topic/a"
    assert recorder.names()[:3] == ["connecting", "send", "send"]
    conn.unsubscribe("1")
    conn.subscribe("/topic/c", "2")
    conn.send("/topic/a", "after unsubscribe")
    conn.send("/topic/c", "last")
    recorder.wait_for("message", 2)
    assert [m.body for m in recorder.frames("message")] == [big.encode(), b"last"]


def test_receipts_and_transactions(conn: MulticastConnection) -> None:
    recorder = Recorder()
    conn.set_listener("r", recorder)
    conn.connect()
    conn.subscribe("/topic/t", "1")
    tx = conn.begin()
    conn.send("/topic/t", "held", transaction=tx)
    conn.send("/topic/t", "direct", receipt="r1")
    recorder.wait_for("receipt")
    assert recorder.frames("receipt")[0].headers["receipt-id"] == "r1"
    assert [m.body for m in recorder.frames("message")] == [b"direct"]
    conn.commit(tx)
    recorder.wait_for("message", 2)
    assert recorder.frames("message")[1].body == b"held"
    tx2 = conn.begin("tx2")
    conn.send("/topic/t", "dropped", transaction=tx2)
    conn.abort(tx2)
    conn.begin("tx2")
    conn.begin("tx2")  # twice: reported, not raised
    conn.commit("nope")
    conn.abort("nope")
    conn.send("/topic/t", "x", transaction="nope")
    recorder.wait_for("error", 4)
    messages = [e.headers["message"] for e in recorder.frames("error")]
    assert messages == [
        "Transaction tx2 already started",
        "Transaction nope not started",
        "Transaction nope not started",
        "Transaction nope not started",
    ]
    conn.ack("m1", receipt="r2")
    recorder.wait_for("receipt", 2)


def test_disconnect_once_and_errors(conn: MulticastConnection) -> None:
    recorder = Recorder()
    conn.set_listener("r", recorder)
    with pytest.raises(NotConnectedException):
        conn.send("/topic/x", "before connect")
    conn.connect()
    with pytest.raises(ValueError, match="cannot contain"):
        conn.send("/topic/x", "y", headers={"bad": "a\nb"})
    with pytest.raises(TypeError):
        conn.send("/topic/x", 3)
    conn.disconnect()
    conn.disconnect()
    assert not conn.is_connected()
    assert recorder.names().count("disconnected") == 1


def test_defaults_are_stomppys() -> None:
    assert (MCAST_GRP, MCAST_PORT) == ("224.1.1.1", 5000)
    with pytest.raises(ValueError, match="ttl"):
        MulticastConnection(ttl=300)
    with pytest.raises(ValueError, match="port"):
        MulticastConnection(port=-1)

"""Embedded broker: every fault switch, per broker and per connection."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from asyncio import ensure_future
from collections.abc import Callable

import pytest
from broker_helpers import Closed, CoreClient, publish, raw_exchange, subscribe

from stomp_broker import MALFORMED_FRAME, Broker, FaultRule, Faults, RunningBroker
from stomp_core import ConnectionClosed, HeartbeatTimeout, Send, Subscribe

CONNECT = b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00"


def test_close_right_after_accept(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(close_after_frames=0))
    assert raw_exchange(broker, CONNECT) == b""


def test_close_after_n_frames(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(close_after_frames=2))
    with CoreClient(broker) as client:  # frame 1: CONNECTED
        client.send(Subscribe(destination="/queue/a", id="1", receipt="r"))
        client.receipt("r")  # frame 2, then the broker closes
        event = client.next_frame()
        assert isinstance(event, ConnectionClosed)
        assert not event.clean


def test_close_in_the_middle_of_a_frame(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(close_after_frames=1, close_mid_frame=True))
    with CoreClient(broker) as client:
        client.send(Subscribe(destination="/queue/a", id="1", receipt="cut-me"))
        with pytest.raises(Closed, match="middle of a frame"):
            client.next_frame()
    reply = raw_exchange(broker, CONNECT + b"SUBSCRIBE\ndestination:/q\nid:1\nreceipt:xyz\n\n\x00")
    receipt = b"RECEIPT\nreceipt-id:xyz\n\n\x00"
    assert reply.startswith(b"CONNECTED\n")
    tail = reply.split(b"\x00", 1)[1]
    assert tail
    assert receipt.startswith(tail)
    assert tail != receipt


def test_close_after_frames_received(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(close_after_received=2))
    with CoreClient(broker) as client:
        # The second frame is not carried out: no message queued, no receipt.
        client.send(Send(destination="/queue/lost", body=b"x", receipt="r"))
        assert client.expect_closed() == []
    broker.wait_connections(0)
    assert broker.queue_depth("/queue/lost") == 0


def test_stop_heart_beating_at_run_time(broker: RunningBroker) -> None:
    with CoreClient(broker, heart_beat=(0, 100)) as client:
        while client.heartbeats_received < 1:
            client.next_event(timeout=1.0)
        broker.faults.stop_heartbeats = True
        event = client.next_event(timeout=2.0)
        while not isinstance(event, HeartbeatTimeout):
            event = client.next_event(timeout=2.0)


def test_delay_outgoing_frames(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(delay_frames=0.3))
    started = time.monotonic()
    with CoreClient(broker) as client:
        connected_at = time.monotonic()
        client.send(Send(destination="/queue/slow", body=b"", receipt="r1"))
        client.send(Send(destination="/queue/slow", body=b"", receipt="r2"))
        client.receipt("r1")
        client.receipt("r2")  # order is kept
        received_at = time.monotonic()
    assert connected_at - started >= 0.3
    assert received_at - connected_at >= 0.3


def test_drop_outgoing_frames(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(drop_frames=frozenset({"RECEIPT"})))
    with CoreClient(broker) as client:
        client.send(Subscribe(destination="/queue/d", id="1", receipt="dropped-1"))
        client.send(Send(destination="/queue/d", body=b"m", receipt="dropped-2"))
        # The receipts would have come before the MESSAGE: the message comes first.
        assert client.message().body == b"m"
        assert client.core.pending_receipts == ("dropped-1", "dropped-2")


def test_drop_everything_loses_connected(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(drop_frames=frozenset({"*"})))
    with socket.create_connection(broker, timeout=5) as sock:
        sock.sendall(CONNECT + b"SEND\ndestination:/queue/x\n\n\x00")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(1)
    broker.wait_connections(0)
    assert broker.queue_depth("/queue/x") == 1


@pytest.mark.parametrize("after", [0, 1, 2])
def test_send_a_malformed_frame(broker_factory: Callable[..., RunningBroker], after: int) -> None:
    broker = broker_factory(faults=Faults(send_malformed_after=after))
    reply = raw_exchange(
        broker,
        CONNECT
        + b"SUBSCRIBE\ndestination:/q\nid:1\nreceipt:r\n\n\x00"
        + b"DISCONNECT\nreceipt:bye\n\n\x00",
    )
    # The broker carries on after it: the malformed frame sits after ``after`` good ones.
    frames = reply.split(b"\x00")
    assert frames[after] + b"\x00" == MALFORMED_FRAME
    assert len([f for f in frames if f]) == 4
    if after == 1:
        with pytest.raises(Closed, match="protocol error"), CoreClient(broker) as client:
            client.next_frame()


def test_answer_connect_with_error(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(connect_error="maintenance"))
    with pytest.raises(Closed, match="maintenance"):
        CoreClient(broker)


def test_fault_rule_by_connection_index(broker_factory: Callable[..., RunningBroker]) -> None:
    rule = FaultRule(index=2, faults=Faults(connect_error="second one fails"))
    broker = broker_factory(fault_rules=[rule])
    with CoreClient(broker) as first:
        with pytest.raises(Closed, match="second one fails"):
            CoreClient(broker)
        with CoreClient(broker) as third:
            third.disconnect()
        first.disconnect()


def test_fault_rule_by_login_added_at_run_time(broker: RunningBroker) -> None:
    broker.add_fault_rule(FaultRule(login="flaky", faults=Faults(close_after_frames=1)))
    with CoreClient(broker, login="flaky") as flaky, CoreClient(broker, login="steady") as steady:
        subscribe(steady, "/queue/l", "1")
        flaky.send(Send(destination="/queue/l", body=b"lost", receipt="r"))
        assert flaky.expect_closed() == []
        steady.disconnect()


def test_set_faults_replaces_the_broker_wide_switches(broker: RunningBroker) -> None:
    broker.set_faults(Faults(connect_error="closed for today"))
    with pytest.raises(Closed, match="closed for today"):
        CoreClient(broker)
    broker.set_faults(Faults())
    with CoreClient(broker) as client:
        client.disconnect()


def test_refuse_connections_until_accepted_again(broker: RunningBroker) -> None:
    with CoreClient(broker) as survivor:
        broker.refuse_connections()
        assert not broker.listening
        with pytest.raises(ConnectionRefusedError):
            CoreClient(broker)
        # Open connections carry on.
        survivor.send(Send(destination="/queue/r", body=b"", receipt="alive"))
        survivor.receipt("alive")
        broker.accept_connections()
        with CoreClient(broker) as again:
            again.disconnect()


def test_a_refused_port_stays_reserved_for_the_broker(broker: RunningBroker) -> None:
    # While nothing listens, the kernel could give the port to any socket on the machine
    # as its ephemeral source port, and the broker could then not listen again.
    broker.refuse_connections()
    with socket.socket() as squatter, pytest.raises(OSError, match="in use") as taken:
        squatter.bind((broker.host, broker.port))
    assert taken.value.errno == errno.EADDRINUSE
    broker.accept_connections()
    with CoreClient(broker) as client:
        client.disconnect()


def test_a_connection_accepted_as_the_broker_starts_refusing_is_served() -> None:
    async def main() -> bytes:
        async with Broker() as broker:
            loop = asyncio.get_running_loop()
            with socket.create_connection((broker.host, broker.port), timeout=5) as client:
                # The kernel has completed the handshake.  At the next turn of the loop the
                # callback below starts refusing, then the listener's accept callback
                # accepts; at the turn after, refusing runs first and the task that builds
                # the accepted connection's transport second: the order of a
                # refuse_connections() arriving from another thread as a client connects.
                refusing: list[asyncio.Future[None]] = []
                loop.call_soon(lambda: refusing.append(ensure_future(broker.refuse_connections())))
                await asyncio.sleep(0)
                await refusing[0]
                client.sendall(b"CONNECT\naccept-version:1.2\nhost:h\n\n\x00")
                return await asyncio.to_thread(client.recv, 4096)

    assert asyncio.run(main()).startswith(b"CONNECTED\n")


def test_refuse_connections_for_a_while(broker: RunningBroker) -> None:
    started = time.monotonic()
    broker.refuse_connections(0.3)
    with pytest.raises(ConnectionRefusedError):
        CoreClient(broker)
    broker.wait_listening(timeout=5)
    assert time.monotonic() - started >= 0.3
    with CoreClient(broker) as client:
        publish(client, "/queue/back", b"again")
    broker.wait_connections(0)
    assert broker.queue_depth("/queue/back") == 1


def test_delayed_frames_then_close(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(delay_frames=0.1, close_after_frames=2))
    with CoreClient(broker) as client:
        client.send(Send(destination="/queue/late", body=b"", receipt="r"))
        client.receipt("r")  # held back, then written, then the close follows it
        assert isinstance(client.next_frame(), ConnectionClosed)


def test_error_on_a_command(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(error_on=frozenset({"SEND"})))
    with CoreClient(broker) as client:
        subscribe(client, "/queue/e", "1")  # other commands work
        client.send(Send(destination="/queue/e", body=b"x", receipt="r"))
        error = client.error()
        assert (error.message, error.receipt_id) == ("injected fault: SEND refused", "r")
        client.expect_closed()
    broker.wait_connections(0)
    assert broker.queue_depth("/queue/e") == 0


def test_drop_connections_cuts_everyone_and_requeues(broker: RunningBroker) -> None:
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/queue/crash", "1", ack="client")
        publish(producer, "/queue/crash", b"unacked")
        assert consumer.message().body == b"unacked"
        assert broker.drop_connections() == 2
        for client in (consumer, producer):
            event = client.next_frame()
            assert isinstance(event, ConnectionClosed)
            assert not event.clean
    broker.wait_connections(0)
    assert broker.queue_depth("/queue/crash") == 1
    with CoreClient(broker) as client:  # still listening
        subscribe(client, "/queue/crash", "1")
        assert client.message().get("redelivered") == "true"

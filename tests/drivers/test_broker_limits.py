"""Embedded broker: broker-wide limits, and what the broker gives back when clients leave.

Each limit is checked against the broker's own accounting (:meth:`Broker.usage`), and
memory against ``tracemalloc``, so the tests do not depend on the process's RSS.
"""

from __future__ import annotations

import gc
import socket
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from broker_helpers import TIMEOUT, Closed, CoreClient, ack_id, publish, subscribe, wait_until
from test_broker_session import _read_line

from stomp_broker import Broker, RunningBroker, Usage
from stomp_broker._destinations import Subscription
from stomp_broker._session import Session
from stomp_core import Abort, Ack, Begin, Send, Subscribe

KiB = 1024
NOTHING = Usage(connections=0, inflight_bytes=0, stored_bytes=0, subscriptions=0)


def partial_send(destination: str, length: int, sent: int, fill: bytes = b"p") -> bytes:
    """The start of a SEND whose body has ``length`` octets, ``sent`` of them here."""
    head = f"SEND\ndestination:{destination}\ncontent-length:{length}\nreceipt:done\n\n"
    return head.encode() + fill * sent


# ----------------------------------------------------------------------------- in flight


def test_partial_frames_are_bounded_across_connections(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_inflight_bytes=1024 * KiB)
    with CoreClient(broker) as first, CoreClient(broker) as second:
        # Each frame is within the core's per-frame limit; together they are not.
        first.sock.sendall(partial_send("/queue/big", 700 * KiB, 600 * KiB))
        wait_until(lambda: broker.usage().inflight_bytes >= 600 * KiB)
        second.sock.sendall(partial_send("/queue/big", 700 * KiB, 600 * KiB, b"q"))
        error = second.error()
        assert (error.message or "").startswith("broker limit max_inflight_bytes=1048576 reached: ")
        assert "bytes of partly received frames across connections" in (error.message or "")
        second.close()
        broker.wait_connections(1)
        assert broker.usage().inflight_bytes < 700 * KiB  # the second's bytes are given back
        # The first connection was not refused: its frame completes.
        first.sock.sendall(b"p" * (100 * KiB) + b"\x00")
        first.receipt("done")
        assert broker.usage().inflight_bytes == 0
    broker.wait_connections(0)
    usage = broker.usage()
    assert usage.stored_bytes > 700 * KiB  # the message, now in its queue
    assert usage == Usage(0, 0, usage.stored_bytes, 0)
    assert broker.queue_depth("/queue/big") == 1


# ----------------------------------------------------------------------------- stored


def test_stored_messages_are_bounded_until_acknowledged(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_stored_bytes=256 * KiB)
    body = b"s" * (100 * KiB)
    with CoreClient(broker) as producer:
        publish(producer, "/queue/stored", body, body)
        stored = broker.usage().stored_bytes
        assert 2 * len(body) <= stored < 2 * len(body) + 200  # bodies plus headers
        producer.send(Send(destination="/queue/stored", body=body, receipt="third"))
        error = producer.error()
        assert error.receipt_id == "third"
        assert error.message == (
            f"broker limit max_stored_bytes=262144 reached: {stored} bytes of messages "
            f"stored, this one needs {stored // 2} more"
        )
        producer.expect_closed()
    assert broker.queue_depth("/queue/stored") == 2
    with CoreClient(broker) as consumer:
        subscribe(consumer, "/queue/stored", "1", ack="client-individual")
        first, second = consumer.message(), consumer.message()
        # Delivered but not acknowledged: still kept, for redelivery.
        assert broker.usage().stored_bytes == stored
        consumer.send(Ack(id=ack_id(consumer, first), receipt="a1"))
        consumer.receipt("a1")
        assert 0 < broker.usage().stored_bytes < stored
        consumer.send(Ack(id=ack_id(consumer, second), receipt="a2"))
        consumer.receipt("a2")
        assert broker.usage().stored_bytes == 0
    broker.wait_connections(0)
    assert broker.usage() == NOTHING


def test_auto_acknowledged_delivery_gives_the_bytes_back(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_stored_bytes=256 * KiB)
    body = b"a" * (100 * KiB)
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/queue/auto", "1")
        # Five times the bound goes through: each message is gone once delivered.
        for _ in range(5):
            publish(producer, "/queue/auto", body, body)
            assert [consumer.message().body for _ in range(2)] == [body, body]
        assert broker.usage().stored_bytes == 0


def test_transaction_sends_count_as_stored(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_stored_bytes=256 * KiB)
    body = b"t" * (100 * KiB)
    with CoreClient(broker) as client:
        client.send(Begin(transaction="tx"))
        client.send(Send(destination="/queue/tx", body=body, transaction="tx", receipt="r"))
        client.receipt("r")
        assert broker.usage().stored_bytes >= len(body)
        client.send(Abort(transaction="tx", receipt="aborted"))
        client.receipt("aborted")
        assert broker.usage().stored_bytes == 0
        client.send(Begin(transaction="tx2"))
        for _ in range(2):
            client.send(Send(destination="/queue/tx", body=body, transaction="tx2"))
        client.send(Send(destination="/queue/tx", body=body, transaction="tx2", receipt="3"))
        error = client.error()
        assert (error.message or "").startswith("broker limit max_stored_bytes=262144 reached")
        client.expect_closed()
    broker.wait_connections(0)
    assert broker.usage() == NOTHING
    assert broker.queue_depth("/queue/tx") == 0


def test_topic_messages_count_once_while_awaiting_ack(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_stored_bytes=256 * KiB)
    body = b"f" * (100 * KiB)
    with CoreClient(broker) as listener, CoreClient(broker) as producer:
        # Only auto subscriptions: a topic keeps nothing, so nothing is refused.
        subscribe(listener, "/topic/news", "auto")
        publish(producer, "/topic/news", body, body, body, body)
        assert [listener.message().body for _ in range(4)] == [body] * 4
        assert broker.usage().stored_bytes == 0
        # Two client subscriptions hold the same message: it counts once.
        subscribe(listener, "/topic/news", "held-1", ack="client-individual")
        subscribe(listener, "/topic/news", "held-2", ack="client-individual")
        publish(producer, "/topic/news", body)
        messages = {m.subscription: m for m in (listener.message() for _ in range(3))}
        stored = broker.usage().stored_bytes
        assert len(body) <= stored < len(body) + 200
        listener.send(Ack(id=ack_id(listener, messages["held-1"]), receipt="one"))
        listener.receipt("one")
        assert broker.usage().stored_bytes == stored
        listener.send(Ack(id=ack_id(listener, messages["held-2"]), receipt="two"))
        listener.receipt("two")
        assert broker.usage().stored_bytes == 0
    broker.wait_connections(0)
    assert broker.usage() == NOTHING


# ----------------------------------------------------------------------------- subscriptions


def test_subscriptions_are_bounded_per_connection_and_in_total(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_subscriptions=4, max_subscriptions_per_connection=3)
    with CoreClient(broker) as greedy, CoreClient(broker) as other, CoreClient(broker) as late:
        for i in range(3):
            subscribe(greedy, f"/queue/s{i}", str(i))
        greedy.send(Subscribe(destination="/queue/s3", id="3", receipt="r"))
        error = greedy.error()
        assert error.message == (
            "broker limit max_subscriptions_per_connection=3 reached: "
            "this connection has 3 subscriptions"
        )
        greedy.expect_closed()
        greedy.close()
        broker.wait_connections(2)
        assert broker.usage().subscriptions == 0  # given back with the connection
        for i in range(3):
            subscribe(other, f"/topic/t{i}", str(i))
        subscribe(late, "/topic/t", "1")
        late.send(Subscribe(destination="/topic/t", id="2", receipt="r"))
        error = late.error()
        assert error.message == (
            "broker limit max_subscriptions=4 reached: 4 subscriptions across connections"
        )
    broker.wait_connections(0)
    assert broker.usage() == NOTHING


# ----------------------------------------------------------------------------- connections


def test_connections_are_bounded(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(max_connections=2)
    with CoreClient(broker), CoreClient(broker) as second:
        with pytest.raises(Closed) as refused:
            CoreClient(broker)
        assert str(refused.value) == (
            "CONNECT refused: broker limit max_connections=2 reached: 2 connections are open"
        )
        second.disconnect()
        broker.wait_connections(1)
        with CoreClient(broker) as third:
            third.disconnect()
    broker.wait_connections(0)
    assert broker.usage() == NOTHING


def test_command_line_sets_the_limits() -> None:
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "stomp_broker", "--port", "0"),
            *("--max-connections", "1", "--max-stored-bytes", "1K"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _read_line(proc.stdout, 20)
        assert line.startswith("stomp-broker listening on 127.0.0.1:"), line
        address = ("127.0.0.1", int(line.rsplit(":", 1)[1]))
        with CoreClient(address) as client:
            with pytest.raises(Closed, match="max_connections=1 reached"):
                CoreClient(address)
            client.send(Send(destination="/queue/cli", body=b"x" * 2048, receipt="r"))
            assert (client.error().message or "").startswith(
                "broker limit max_stored_bytes=1024 reached"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=TIMEOUT)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_limits_must_be_positive() -> None:
    for name in (
        "max_connections",
        "max_inflight_bytes",
        "max_stored_bytes",
        "max_subscriptions",
        "max_subscriptions_per_connection",
    ):
        with pytest.raises(ValueError, match=name):
            Broker(**{name: 0})


# ----------------------------------------------------------------------------- release


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def traced_now() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


@pytest.mark.usefixtures("traced")
def test_memory_is_given_back_when_clients_leave(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory()
    body = b"m" * (256 * KiB)
    before = traced_now()
    clients = [CoreClient(broker) for _ in range(4)]
    try:
        for i, client in enumerate(clients):
            subscribe(client, "/queue/held", "s", ack="client-individual")
            for j in range(20):
                subscribe(client, f"/topic/{i}-{j}", str(j))
            client.send(Send(destination="/queue/held", body=body))
            client.message()  # delivered, not acknowledged
            # Half a frame of 2 MiB each, in the parser.
            client.sock.sendall(partial_send("/queue/never", 2048 * KiB, 1024 * KiB))
        wait_until(lambda: broker.usage().inflight_bytes >= 4 * 1024 * KiB)
        held = traced_now() - before
        assert held > 5 * 1024 * KiB  # the partial frames and the messages
        usage = broker.usage()
        assert usage.connections == 4
        assert usage.subscriptions == 4 * 21
        assert usage.stored_bytes >= 4 * len(body)
    finally:
        for client in clients:
            client.close()
    broker.wait_connections(0)
    # The unacknowledged messages went back to their queue; the rest is gone.
    assert broker.usage() == Usage(
        connections=0, inflight_bytes=0, stored_bytes=usage.stored_bytes, subscriptions=0
    )
    assert broker.queue_depth("/queue/held") == 4
    kept = traced_now() - before  # collects garbage first
    assert [o for o in gc.get_objects() if isinstance(o, (Session, Subscription))] == []
    assert kept < 4 * len(body) + 256 * KiB, f"{kept} bytes still allocated"


# ----------------------------------------------------------------------------- performance


def test_a_queue_picks_its_consumer_without_scanning_every_subscription(
    broker_factory: Callable[..., RunningBroker], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2,000 subscriptions at their prefetch window, and one free consumer: each new
    # message must not look at every full subscription again (it used to: 100,000 of
    # them cost every client of the broker tens of milliseconds per message).
    count = 2000
    broker = broker_factory(max_subscriptions_per_connection=count)
    with CoreClient(broker) as hoarder, CoreClient(broker) as producer:
        frames = [
            Subscribe(
                destination="/queue/shared",
                id=str(i),
                ack="client-individual",
                headers={"prefetch-count": "1"},
            )
            for i in range(count)
        ]
        for frame in frames:
            hoarder.send(frame)
        publish(producer, "/queue/shared", *[b"held"] * count)
        for _ in range(count):
            hoarder.message()
        assert broker.queue_depth("/queue/shared") == 0
        with CoreClient(broker) as free:
            subscribe(free, "/queue/shared", "free")
            calls = 0
            original = Subscription.can_take

            def counting(self: Subscription) -> bool:
                nonlocal calls
                calls += 1
                return original(self)

            monkeypatch.setattr(Subscription, "can_take", counting)
            messages = 50
            publish(producer, "/queue/shared", *[b"new"] * messages)
            assert [free.message().body for _ in range(messages)] == [b"new"] * messages
            monkeypatch.undo()
            assert calls <= 3 * messages + count, calls


def test_a_paused_queue_consumer_is_fed_again_when_it_reads(broker: RunningBroker) -> None:
    # Its subscription leaves the queue's ready line while its transport is paused;
    # resuming must bring it back, or the backlog would wait for the next SEND.
    chunk = b"r" * (64 * KiB)
    with CoreClient(broker, rcvbuf=4096) as slow, CoreClient(broker) as producer:
        subscribe(slow, "/queue/resume", "1")
        publish(producer, "/queue/resume", *[chunk] * 128)
        assert broker.queue_depth("/queue/resume") > 0  # it paused on the way
        for _ in range(128):
            assert slow.message().body == chunk
        assert broker.queue_depth("/queue/resume") == 0


def test_a_message_larger_than_the_outbound_bound_reaches_a_reading_consumer(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    # max_outbound_bytes bounds what a client leaves unread, not the frame being
    # written: a 16 MiB message (more than the socket buffers hold) goes through.
    broker = broker_factory(max_outbound_bytes=1024 * KiB, max_stored_bytes=64 * 1024 * KiB)
    body = b"L" * (16 * 1024 * KiB)
    with CoreClient(broker, rcvbuf=4096) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/queue/large", "1")
        publish(producer, "/queue/large", body)
        assert consumer.message(timeout=30).body == body
        # ... and the consumer is still served (it was told "slow consumer" before).
        publish(producer, "/queue/large", b"after")
        assert consumer.message().body == b"after"


def test_raw_socket_connections_count_until_gone(broker: RunningBroker) -> None:
    # Before CONNECT too: an idle socket holds a session.
    with socket.create_connection(broker, timeout=TIMEOUT):
        wait_until(lambda: broker.usage().connections == 1)
    broker.wait_connections(0)
    assert broker.usage() == NOTHING

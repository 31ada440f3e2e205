"""Embedded broker: transactions (SEND, ACK and NACK take effect at COMMIT)."""

from __future__ import annotations

from collections.abc import Callable

from broker_helpers import CoreClient, ack_id, publish, subscribe

from stomp_broker import RunningBroker
from stomp_core import Abort, Ack, Begin, Commit, Nack, Send


def test_sends_are_delivered_at_commit(broker: RunningBroker) -> None:
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/queue/tx", "1")
        producer.send(Begin(transaction="t1"))
        producer.send(Send(destination="/queue/tx", body=b"a", transaction="t1"))
        producer.send(Send(destination="/queue/tx", body=b"b", transaction="t1"))
        publish(producer, "/queue/tx", b"outside")
        # Only the message outside the transaction has arrived so far.
        assert consumer.message().body == b"outside"
        producer.send(Commit(transaction="t1", receipt="c"))
        producer.receipt("c")
        assert [consumer.message().body for _ in range(2)] == [b"a", b"b"]


def test_abort_discards_the_sends(broker: RunningBroker) -> None:
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/queue/abort", "1")
        producer.send(Begin(transaction="t"))
        producer.send(Send(destination="/queue/abort", body=b"never", transaction="t"))
        producer.send(Abort(transaction="t", receipt="a"))
        producer.receipt("a")
        publish(producer, "/queue/abort", b"marker")
        assert consumer.message().body == b"marker"


def test_disconnect_discards_an_open_transaction(broker: RunningBroker) -> None:
    with CoreClient(broker) as producer:
        producer.send(Begin(transaction="t"))
        producer.send(Send(destination="/queue/dropped", body=b"never", transaction="t"))
        producer.disconnect()
    broker.wait_connections(0)
    assert broker.queue_depth("/queue/dropped") == 0


def test_ack_in_a_transaction_counts_only_at_commit(broker: RunningBroker) -> None:
    with CoreClient(broker) as producer:
        publish(producer, "/queue/txack", b"1", b"2")
    with CoreClient(broker) as consumer:
        subscribe(consumer, "/queue/txack", "1", ack="client-individual")
        first, second = consumer.message(), consumer.message()
        consumer.send(Begin(transaction="aborted"))
        consumer.send(Ack(id=ack_id(consumer, first), transaction="aborted"))
        consumer.send(Abort(transaction="aborted"))
        consumer.send(Begin(transaction="committed"))
        consumer.send(Ack(id=ack_id(consumer, second), transaction="committed"))
        consumer.send(Commit(transaction="committed", receipt="c"))
        consumer.receipt("c")
    broker.wait_connections(0)
    # The aborted ACK did not count: message 1 comes back; message 2 was acknowledged.
    assert broker.queue_depth("/queue/txack") == 1
    with CoreClient(broker) as consumer:
        subscribe(consumer, "/queue/txack", "1")
        assert consumer.message().body == b"1"


def test_nack_in_a_transaction_redelivers_at_commit(broker: RunningBroker) -> None:
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/queue/txnack", "1", ack="client-individual")
        publish(producer, "/queue/txnack", b"job")
        job = consumer.message()
        consumer.send(Begin(transaction="t"))
        consumer.send(Nack(id=ack_id(consumer, job), transaction="t", receipt="n"))
        consumer.receipt("n")
        consumer.send(Commit(transaction="t"))
        again = consumer.message()
        assert (again.body, again.get("redelivered")) == (b"job", "true")


def test_commit_is_all_or_nothing(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(max_queue_messages=1)
    with CoreClient(broker) as producer:
        producer.send(Begin(transaction="t"))
        producer.send(Send(destination="/queue/one", body=b"1", transaction="t"))
        producer.send(Send(destination="/queue/one", body=b"2", transaction="t"))
        producer.send(Commit(transaction="t", receipt="c"))
        error = producer.error()
        assert "full" in (error.message or "")
        assert error.receipt_id == "c"
    assert broker.queue_depth("/queue/one") == 0


def test_commit_with_an_unknown_ack_is_refused_whole(broker: RunningBroker) -> None:
    with CoreClient(broker) as producer:
        producer.send(Begin(transaction="t"))
        producer.send(Send(destination="/queue/whole", body=b"x", transaction="t"))
        producer.send(Ack(id="nothing", transaction="t"))
        producer.send(Commit(transaction="t"))
        assert "no such unacknowledged message" in (producer.error().message or "")
    broker.wait_connections(0)
    assert broker.queue_depth("/queue/whole") == 0


def test_transaction_size_is_bounded(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(max_transaction_frames=2)
    with CoreClient(broker) as producer:
        producer.send(Begin(transaction="t"))
        for body in (b"1", b"2", b"3"):
            producer.send(Send(destination="/queue/big", body=body, transaction="t"))
        assert "max_transaction_frames" in (producer.error().message or "")
        producer.expect_closed()


def test_cumulative_acks_in_one_commit(broker: RunningBroker) -> None:
    with CoreClient(broker) as producer:
        publish(producer, "/queue/cum", b"1", b"2")
    with CoreClient(broker) as consumer:
        subscribe(consumer, "/queue/cum", "1", ack="client")
        first, second = consumer.message(), consumer.message()
        consumer.send(Begin(transaction="t"))
        consumer.send(Ack(id=ack_id(consumer, second), transaction="t"))
        # Covered by the cumulative ACK above by the time it is carried out: not an error.
        consumer.send(Ack(id=ack_id(consumer, first), transaction="t"))
        consumer.send(Commit(transaction="t", receipt="c"))
        consumer.receipt("c")
    broker.wait_connections(0)
    assert broker.queue_depth("/queue/cum") == 0

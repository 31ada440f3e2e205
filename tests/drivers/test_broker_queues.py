"""Embedded broker: queues, topics, the three ack modes, redelivery, receipts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from broker_helpers import CoreClient, ack_id, publish, subscribe

from stomp_broker import RunningBroker
from stomp_core import Ack, Nack, Send, Subscribe, Unsubscribe


def bodies(client: CoreClient, count: int) -> list[bytes]:
    return [client.message().body for _ in range(count)]


def test_queue_round_robin_between_competing_consumers(broker: RunningBroker) -> None:
    with CoreClient(broker) as a, CoreClient(broker) as b, CoreClient(broker) as producer:
        subscribe(a, "/queue/rr", "1")
        subscribe(b, "/queue/rr", "1")
        publish(producer, "/queue/rr", b"0", b"1", b"2", b"3")
        assert bodies(a, 2) == [b"0", b"2"]
        assert bodies(b, 2) == [b"1", b"3"]


def test_queue_keeps_messages_until_a_subscriber_comes(broker: RunningBroker) -> None:
    with CoreClient(broker) as producer:
        publish(producer, "/queue/later", b"a", b"b", b"c")
    assert broker.queue_depth("/queue/later") == 3
    with CoreClient(broker) as consumer:
        subscribe(consumer, "/queue/later", "s")
        message = consumer.message()
        assert (message.body, message.destination, message.subscription) == (
            b"a",
            "/queue/later",
            "s",
        )
        assert bodies(consumer, 2) == [b"b", b"c"]
    assert broker.queue_depth("/queue/later") == 0


def test_unprefixed_destination_is_a_queue(broker: RunningBroker) -> None:
    with CoreClient(broker) as producer:
        publish(producer, "plain-name", b"x")
    assert broker.queue_depth("plain-name") == 1


def test_full_queue_answers_the_sender_with_error(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_queue_messages=2)
    with CoreClient(broker) as producer:
        publish(producer, "/queue/small", b"1", b"2")
        producer.send(Send(destination="/queue/small", body=b"3", receipt="r3"))
        error = producer.error()
        assert "full" in (error.message or "")
        assert error.receipt_id == "r3"
        producer.expect_closed()
    assert broker.queue_depth("/queue/small") == 2


def test_topic_fans_out_to_current_subscribers_only(broker: RunningBroker) -> None:
    with CoreClient(broker) as a, CoreClient(broker) as b, CoreClient(broker) as producer:
        publish(producer, "/topic/news", b"nobody listens")
        subscribe(a, "/topic/news", "1")
        subscribe(b, "/topic/news", "1")
        publish(producer, "/topic/news", b"hello")
        assert a.message().body == b"hello"
        assert b.message().body == b"hello"
    assert broker.queue_depth("/topic/news") == 0


def test_message_carries_the_senders_headers(broker: RunningBroker) -> None:
    with CoreClient(broker) as client:
        subscribe(client, "/queue/h", "1")
        client.send(
            Send(
                destination="/queue/h",
                body=b"{}",
                content_type="application/json",
                headers={"custom": "a:b", "message-id": "forged"},
            )
        )
        message = client.message()
        assert message.content_type == "application/json"
        assert message.get("custom") == "a:b"
        assert message.message_id != "forged"


def test_auto_ack_never_redelivers(broker: RunningBroker) -> None:
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/queue/auto", "1")
        publish(producer, "/queue/auto", b"once")
        assert consumer.message().body == b"once"
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/queue/auto", "1")
        publish(producer, "/queue/auto", b"marker")
        assert consumer.message().body == b"marker"


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_client_ack_is_cumulative(broker: RunningBroker, version: str) -> None:
    with CoreClient(broker, version=version) as producer:
        publish(producer, "/queue/cumulative", b"1", b"2", b"3")
    with CoreClient(broker, version=version) as consumer:
        subscribe(consumer, "/queue/cumulative", "1", ack="client")
        messages = [consumer.message() for _ in range(3)]
        consumer.send(Ack(id=ack_id(consumer, messages[1]), subscription="1", receipt="ack"))
        consumer.receipt("ack")
    # The connection is gone with message 3 unacknowledged: it is redelivered alone.
    broker.wait_connections(0)
    assert broker.queue_depth("/queue/cumulative") == 1
    with CoreClient(broker) as consumer:
        subscribe(consumer, "/queue/cumulative", "1", ack="client")
        message = consumer.message()
        assert message.body == b"3"
        assert message.get("redelivered") == "true"


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_client_individual_ack_acknowledges_one_message(
    broker: RunningBroker, version: str
) -> None:
    with CoreClient(broker, version=version) as producer:
        publish(producer, "/queue/individual", b"1", b"2", b"3")
    with CoreClient(broker, version=version) as consumer:
        subscribe(consumer, "/queue/individual", "1", ack="client-individual")
        messages = [consumer.message() for _ in range(3)]
        assert [m.get("redelivered") for m in messages] == [None, None, None]
        consumer.send(Ack(id=ack_id(consumer, messages[1]), subscription="1", receipt="ack"))
        consumer.receipt("ack")
    broker.wait_connections(0)
    assert broker.queue_depth("/queue/individual") == 2
    with CoreClient(broker) as consumer:
        subscribe(consumer, "/queue/individual", "1")
        redelivered = [consumer.message() for _ in range(2)]
        assert [m.body for m in redelivered] == [b"1", b"3"]
        assert all(m.get("redelivered") == "true" for m in redelivered)


def test_nack_redelivers_to_another_consumer(broker: RunningBroker) -> None:
    with CoreClient(broker) as a, CoreClient(broker) as b, CoreClient(broker) as producer:
        subscribe(a, "/queue/nack", "1", ack="client-individual")
        publish(producer, "/queue/nack", b"job")
        job = a.message()
        assert job.get("redelivered") is None
        subscribe(b, "/queue/nack", "1", ack="client-individual")
        # Round-robin: b is next in turn, so the NACKed message goes to b.
        a.send(Nack(id=ack_id(a, job), receipt="nack"))
        a.receipt("nack")
        again = b.message()
        assert (again.body, again.get("redelivered")) == (b"job", "true")
        assert again.message_id == job.message_id


def test_client_mode_nack_is_cumulative(broker: RunningBroker) -> None:
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/queue/cnack", "1", ack="client", **{"prefetch-count": "2"})
        publish(producer, "/queue/cnack", b"1", b"2")
        first, second = consumer.message(), consumer.message()
        consumer.send(Nack(id=ack_id(consumer, second)))
        again = [consumer.message(), consumer.message()]
        assert [m.body for m in again] == [first.body, second.body]
        assert all(m.get("redelivered") == "true" for m in again)


def test_unsubscribe_redelivers_unacknowledged_messages(broker: RunningBroker) -> None:
    with CoreClient(broker) as a, CoreClient(broker) as b, CoreClient(broker) as producer:
        subscribe(a, "/queue/unsub", "1", ack="client")
        publish(producer, "/queue/unsub", b"pending")
        assert a.message().body == b"pending"
        subscribe(b, "/queue/unsub", "9", ack="auto")
        a.send(Unsubscribe(id="1", receipt="gone"))
        a.receipt("gone")
        message = b.message()
        assert (message.body, message.get("redelivered"), message.subscription) == (
            b"pending",
            "true",
            "9",
        )


def test_prefetch_window_holds_messages_in_the_queue(broker: RunningBroker) -> None:
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(
            consumer, "/queue/window", "1", ack="client-individual", **{"prefetch-count": "1"}
        )
        publish(producer, "/queue/window", b"1", b"2")
        first = consumer.message()
        assert broker.queue_depth("/queue/window") == 1
        consumer.send(Ack(id=ack_id(consumer, first)))
        assert consumer.message().body == b"2"


def test_bad_prefetch_header_is_refused(broker: RunningBroker) -> None:
    with CoreClient(broker) as consumer:
        consumer.send(Subscribe(destination="/q", id="1", headers={"prefetch-count": "-1"}))
        assert "prefetch-count" in (consumer.error().message or "")


def test_topic_subscriber_beyond_max_unacked_is_disconnected(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_unacked=2)
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/topic/t", "1", ack="client")
        publish(producer, "/topic/t", b"1", b"2", b"3")
        frames = consumer.expect_closed()
        assert [type(f).__name__ for f in frames] == ["Message", "Message", "Message", "Error"]
        assert "max_unacked" in (frames[-1].get("message") or "")


def test_topic_nack_drops_the_message(broker: RunningBroker) -> None:
    with CoreClient(broker) as consumer, CoreClient(broker) as producer:
        subscribe(consumer, "/topic/n", "1", ack="client-individual")
        publish(producer, "/topic/n", b"1")
        consumer.send(Nack(id=ack_id(consumer, consumer.message())))
        publish(producer, "/topic/n", b"2")
        assert consumer.message().body == b"2"


def test_unknown_ack_id_is_an_error(broker: RunningBroker) -> None:
    with CoreClient(broker) as client:
        client.send(Ack(id="no-such-message", receipt="r"))
        error = client.error()
        assert "no such unacknowledged message" in (error.message or "")
        assert error.receipt_id == "r"
        client.expect_closed()


def test_every_frame_that_asks_gets_a_receipt(broker: RunningBroker) -> None:
    from stomp_core import Abort, Begin, Commit

    with CoreClient(broker) as client:
        for event in (
            Subscribe(destination="/queue/r", id="1", ack="client", receipt="r1"),
            Send(destination="/queue/elsewhere", body=b"", receipt="r2"),
            Begin(transaction="t", receipt="r3"),
            Commit(transaction="t", receipt="r4"),
            Begin(transaction="u", receipt="r5"),
            Abort(transaction="u", receipt="r6"),
            Unsubscribe(id="1", receipt="r7"),
        ):
            client.send(event)
            client.receipt(event.get("receipt") or "")
        client.disconnect("r8")


def test_sixteen_consumers_share_a_queue(broker: RunningBroker) -> None:
    consumers = [CoreClient(broker) for _ in range(16)]
    try:
        for c in consumers:
            subscribe(c, "/queue/many", "1")
        with CoreClient(broker) as producer:
            publish(producer, "/queue/many", *(str(i).encode() for i in range(32)))
        for i, c in enumerate(consumers):
            assert bodies(c, 2) == [str(i).encode(), str(i + 16).encode()]
    finally:
        for c in consumers:
            c.close()


def test_client_sees_error_then_close_on_protocol_error(broker: RunningBroker) -> None:
    with CoreClient(broker) as client:
        client.send(Subscribe(destination="/queue/x", id="1"))
        # A second SUBSCRIBE with the same id is a protocol error (spec 1.2 "SUBSCRIBE").
        client.sock.sendall(b"SUBSCRIBE\ndestination:/queue/y\nid:1\n\n\x00")
        error = client.error()
        assert "already in use" in (error.message or "")
        assert client.expect_closed() == []


def test_message_a_consumer_version_cannot_carry_stays_queued(broker: RunningBroker) -> None:
    with CoreClient(broker, version="1.0") as old, CoreClient(broker) as producer:
        subscribe(old, "/queue/versions", "1")
        producer.send(Send(destination="/queue/versions", body=b"", headers={"note": "a\nb"}))
        error = old.error()
        assert "STOMP 1.0" in (error.message or "")
        old.expect_closed()
        broker.wait_connections(1)
        assert broker.queue_depth("/queue/versions") == 1
        subscribe(producer, "/queue/versions", "1")
        assert producer.message().get("note") == "a\nb"


def test_stomp10_unsubscribe_by_destination_of_a_subscription_with_an_id(
    broker: RunningBroker,
) -> None:
    # Spec 1.0 "UNSUBSCRIBE": the destination names it even though SUBSCRIBE gave an id
    # (it used to end the connection with "internal broker error").
    with CoreClient(broker, version="1.0") as client, CoreClient(broker) as producer:
        subscribe(client, "/queue/by-name", "x")
        client.send(Unsubscribe(destination="/queue/by-name", receipt="gone"))
        client.receipt("gone")
        publish(producer, "/queue/by-name", b"kept")
        assert broker.queue_depth("/queue/by-name") == 1
        assert broker.usage().subscriptions == 0

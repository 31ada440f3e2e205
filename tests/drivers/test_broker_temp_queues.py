"""Embedded broker: temporary queues and ``reply-to`` (request/reply, issue 17 item 5).

The behaviour follows RabbitMQ 3.10's STOMP plugin, measured: a SEND with
``reply-to:/temp-queue/<name>`` creates a queue private to the sender, the receiver sees
``reply-to:/reply-queue/<random>``, and replies reach the sender on an implicit
subscription whose ``subscription`` header is ``/temp-queue/<name>``.  The last test runs
one exchange against RabbitMQ and the embedded broker and compares what a client sees.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import pytest
from broker_helpers import CoreClient, ack_id, subscribe, wait_until

from stomp_broker import RunningBroker, Usage
from stomp_core import Ack, Begin, Commit, Message, Receipt, Send, Subscribe

REPLY_PREFIX = "/reply-queue/"


def unique_queue() -> str:
    return f"/queue/requests-{uuid.uuid4().hex}"


def request(client: CoreClient, queue: str, reply_to: str, correlation: str, **extra: str) -> None:
    """SEND a request asking for replies on ``reply_to``; wait for its receipt."""
    client.send(
        Send(
            destination=queue,
            body=b"question " + correlation.encode(),
            receipt=f"req-{correlation}",
            headers={"reply-to": reply_to, "correlation-id": correlation, **extra},
        )
    )
    client.receipt(f"req-{correlation}")


def answer(server: CoreClient, message: Message, body: bytes) -> str:
    """SEND ``body`` to the message's ``reply-to`` with its correlation id; return it."""
    reply_to = message.get("reply-to")
    assert reply_to is not None
    correlation = message.get("correlation-id") or ""
    server.send(
        Send(
            destination=reply_to,
            body=body,
            receipt=f"ans-{correlation}",
            headers={"correlation-id": correlation},
        )
    )
    server.receipt(f"ans-{correlation}")
    return reply_to


def test_request_reply_on_an_implicit_subscription(broker: RunningBroker) -> None:
    queue = unique_queue()
    with CoreClient(broker) as server, CoreClient(broker) as requester:
        subscribe(server, queue, "work")
        request(requester, queue, "/temp-queue/replies", "c1")
        incoming = server.message()
        reply_to = incoming.get("reply-to") or ""
        # Rewritten to a name of the broker's own: the client's name is not in it, and
        # 128 random bits follow the prefix (unguessable, so only the receiver can reply).
        assert reply_to.startswith(REPLY_PREFIX + "tmp.")
        assert "replies" not in reply_to
        assert len(reply_to) - len(REPLY_PREFIX + "tmp.") >= 22
        assert incoming.get("correlation-id") == "c1"
        answer(server, incoming, b"answer 1")
        reply = requester.message()
        assert reply.subscription == "/temp-queue/replies"
        assert reply.destination == reply_to
        assert reply.get("correlation-id") == "c1"
        assert reply.body == b"answer 1"
        # A second request on the same connection reuses the queue and its subscription.
        request(requester, queue, "/temp-queue/replies", "c2")
        assert server.message().get("reply-to") == reply_to
        assert broker.usage().temp_queues == 1
        assert broker.usage().subscriptions == 2  # 'work' and the implicit one


def test_each_connection_gets_its_own_random_name(broker: RunningBroker) -> None:
    queue = unique_queue()
    with (
        CoreClient(broker) as server,
        CoreClient(broker) as first,
        CoreClient(broker) as second,
    ):
        subscribe(server, queue, "work")
        request(first, queue, "/temp-queue/replies", "a")
        request(second, queue, "/temp-queue/replies", "b")
        to_first, to_second = server.message(), server.message()
        assert to_first.get("reply-to") != to_second.get("reply-to")
        answer(server, to_second, b"for b")
        answer(server, to_first, b"for a")
        assert first.message().body == b"for a"
        assert second.message().body == b"for b"


def test_reply_to_in_a_transaction_is_rewritten_at_commit(broker: RunningBroker) -> None:
    queue = unique_queue()
    with CoreClient(broker) as server, CoreClient(broker) as requester:
        subscribe(server, queue, "work")
        requester.send(Begin(transaction="tx"))
        requester.send(
            Send(
                destination=queue,
                body=b"q",
                transaction="tx",
                headers={"reply-to": "/temp-queue/t"},
            )
        )
        requester.send(Commit(transaction="tx", receipt="committed"))
        requester.receipt("committed")
        incoming = server.message()
        assert (incoming.get("reply-to") or "").startswith(REPLY_PREFIX)
        answer(server, incoming, b"done")
        assert requester.message().subscription == "/temp-queue/t"


def test_explicit_subscription_to_a_temp_queue(broker: RunningBroker) -> None:
    """ActiveMQ's way: the owner subscribes to /temp-queue/<name> with its own id."""
    queue = unique_queue()
    with CoreClient(broker) as server, CoreClient(broker) as requester:
        subscribe(server, queue, "work")
        subscribe(requester, "/temp-queue/mine", "replies", ack="client-individual")
        request(requester, queue, "/temp-queue/mine", "c1")
        answer(server, server.message(), b"one")
        reply = requester.message()
        assert reply.subscription == "replies"
        assert reply.body == b"one"
        requester.send(Ack(id=ack_id(requester, reply), receipt="acked"))
        requester.receipt("acked")
        # No implicit subscription was added next to the explicit one.
        assert broker.usage().subscriptions == 2
        assert broker.usage().stored_bytes == 0


def test_explicit_subscription_replaces_the_implicit_one(broker: RunningBroker) -> None:
    queue = unique_queue()
    with CoreClient(broker) as server, CoreClient(broker) as requester:
        subscribe(server, queue, "work")
        request(requester, queue, "/temp-queue/r", "c1")
        first = server.message()
        subscribe(requester, "/temp-queue/r", "explicit")
        assert broker.usage().subscriptions == 2
        answer(server, first, b"late")
        reply = requester.message()
        assert reply.subscription == "explicit"
        assert reply.body == b"late"


def test_owner_may_send_to_its_own_temp_queue(broker: RunningBroker) -> None:
    with CoreClient(broker) as client:
        client.send(Send(destination="/temp-queue/self", body=b"note", receipt="sent"))
        # Routed (and delivered to our own subscription) before the RECEIPT is written.
        note = client.message()
        client.receipt("sent")
        assert note.subscription == "/temp-queue/self"
        assert note.destination.startswith(REPLY_PREFIX)


def test_another_connection_cannot_subscribe_to_it(broker: RunningBroker) -> None:
    queue = unique_queue()
    with CoreClient(broker) as server, CoreClient(broker) as requester:
        subscribe(server, queue, "work")
        request(requester, queue, "/temp-queue/replies", "c1")
        reply_to = server.message().get("reply-to") or ""
        with CoreClient(broker) as thief:
            thief.send(Subscribe(destination=reply_to, id="steal", receipt="stolen"))
            error = thief.error()
            assert "belongs to another connection" in (error.message or "")
            assert error.receipt_id == "stolen"
            thief.expect_closed()
        with CoreClient(broker) as guesser:
            guesser.send(Subscribe(destination=REPLY_PREFIX + "tmp.guess", id="g"))
            assert "no temporary queue" in (guesser.error().message or "")
        # The owner still gets its replies; nothing went to the would-be thief.
        server.send(Send(destination=reply_to, body=b"safe", receipt="r"))
        server.receipt("r")
        assert requester.message().body == b"safe"


def test_temp_queue_goes_with_its_connection(broker: RunningBroker) -> None:
    queue = unique_queue()
    with CoreClient(broker) as server:
        subscribe(server, queue, "work")
        baseline = broker.usage()
        requester = CoreClient(broker)
        # One reply delivered and not acknowledged, two waiting in the backlog.
        subscribe(requester, "/temp-queue/r", "replies", ack="client", **{"prefetch-count": "1"})
        request(requester, queue, "/temp-queue/r", "c1")
        incoming = server.message()
        for n in range(3):
            answer(server, incoming, b"reply %d" % n)
        assert requester.message().body == b"reply 0"
        reply_to = incoming.get("reply-to") or ""
        wait_until(lambda: broker.queue_depth(reply_to) == 2)
        held = broker.usage()
        assert held.temp_queues == 1
        assert held.stored_bytes > 0
        requester.disconnect()
        broker.wait_connections(1)
        # Everything the requester's temporary queue held is given back.
        wait_until(lambda: broker.usage() == baseline)
        assert broker.usage() == Usage(
            connections=1, inflight_bytes=0, stored_bytes=0, subscriptions=1, temp_queues=0
        )
        # RabbitMQ 3.10 drops what is sent to a temporary queue whose owner is gone and
        # still answers the receipt (measured); no queue comes back under that name.
        server.send(Send(destination=reply_to, body=b"too late", receipt="late"))
        event = server.next_frame()
        assert isinstance(event, Receipt)
        assert event.receipt_id == "late"
        assert broker.queue_depth(reply_to) == 0
        assert broker.usage() == baseline


def test_abrupt_close_releases_temp_queues(broker: RunningBroker) -> None:
    queue = unique_queue()
    with CoreClient(broker) as server:
        subscribe(server, queue, "work")
        baseline = broker.usage()
        requester = CoreClient(broker)
        for name in ("a", "b", "c"):
            request(requester, queue, f"/temp-queue/{name}", name)
        assert broker.usage().temp_queues == 3
        requester.close()  # no DISCONNECT: the transport just goes away
        wait_until(lambda: broker.usage() == baseline)


def test_temp_queues_count_against_the_subscription_limits(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_subscriptions_per_connection=2, max_subscriptions=3)
    queue = unique_queue()
    with CoreClient(broker) as requester:
        request(requester, queue, "/temp-queue/a", "a")
        request(requester, queue, "/temp-queue/b", "b")
        requester.send(
            Send(destination=queue, body=b"c", receipt="c", headers={"reply-to": "/temp-queue/c"})
        )
        error = requester.error()
        assert (error.message or "").startswith("broker limit max_subscriptions_per_connection=2")
        assert error.receipt_id == "c"
        requester.expect_closed()
    broker.wait_connections(0)
    assert broker.usage().temp_queues == 0
    assert broker.usage().subscriptions == 0
    other_queue = unique_queue()
    with CoreClient(broker) as one, CoreClient(broker) as two:
        request(one, other_queue, "/temp-queue/a", "a")
        request(one, other_queue, "/temp-queue/b", "b")
        request(two, other_queue, "/temp-queue/c", "c")  # the third, broker-wide
        two.send(
            Send(destination=queue, body=b"d", receipt="d", headers={"reply-to": "/temp-queue/d"})
        )
        error = two.error()
        assert (error.message or "").startswith("broker limit max_subscriptions=3")


def test_temp_queue_backlog_counts_against_max_stored_bytes(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_stored_bytes=4096)
    with CoreClient(broker) as owner, CoreClient(broker) as other:
        subscribe(owner, "/temp-queue/slow", "r", ack="client", **{"prefetch-count": "1"})
        owner.send(
            Send(
                destination="/temp-queue/slow", body=b"x", headers={"reply-to": "/temp-queue/slow"}
            )
        )
        note = owner.message()
        name = note.get("reply-to") or ""
        other.send(Send(destination=name, body=b"y" * 3000, receipt="big"))
        other.receipt("big")
        other.send(Send(destination=name, body=b"z" * 3000, receipt="too-big"))
        assert (other.error().message or "").startswith("broker limit max_stored_bytes=4096")


# ----------------------------------------------------------------------------- same shape


def _exchange(
    address: tuple[str, int], login: str | None, passcode: str | None
) -> dict[str, object]:
    """One request/reply through ``address``; what the client saw, broker-neutral."""
    queue = unique_queue()
    name = f"/temp-queue/r{uuid.uuid4().hex[:8]}"
    seen: dict[str, object] = {}
    with (
        CoreClient(address, login=login, passcode=passcode) as server,
        CoreClient(address, login=login, passcode=passcode) as requester,
    ):
        subscribe(server, queue, "work")
        request(requester, queue, name, "corr-1")
        incoming = server.message()
        reply_to = incoming.get("reply-to") or ""
        seen["reply-to prefix"] = reply_to[: len(REPLY_PREFIX)]
        seen["client name leaked"] = name[len("/temp-queue/") :] in reply_to
        answer(server, incoming, b"the answer")
        reply = requester.message()
        seen["subscription is the temp-queue name"] = reply.subscription == name
        seen["correlation-id"] = reply.get("correlation-id")
        seen["body"] = reply.body
        with CoreClient(address, login=login, passcode=passcode) as other:
            other.send(Subscribe(destination=reply_to, id="steal"))
            seen["another connection subscribes"] = type(other.next_frame()).__name__
        requester.disconnect()
        server.send(Send(destination=reply_to, body=b"late", receipt="late"))
        seen["send after the owner left"] = type(server.next_frame()).__name__
    return seen


def test_same_shape_as_rabbitmq(broker: RunningBroker) -> None:
    embedded = _exchange(broker, None, None)
    expected = {
        "reply-to prefix": REPLY_PREFIX,
        "client name leaked": False,
        "subscription is the temp-queue name": True,
        "correlation-id": "corr-1",
        "body": b"the answer",
        "another connection subscribes": "Error",
        "send after the owner left": "Receipt",
    }
    assert embedded == expected
    port = os.environ.get("RABBITMQ_STOMP_PORT")
    if port is None:
        pytest.skip("RABBITMQ_STOMP_PORT is not set: the embedded half passed")
    rabbit = _exchange(
        (os.environ.get("RABBITMQ_HOST", "127.0.0.1"), int(port)),
        os.environ.get("RABBITMQ_USER", "guest"),
        os.environ.get("RABBITMQ_PASSWORD", "guest"),
    )
    assert rabbit == embedded


def _explicit_exchange(
    address: tuple[str, int], login: str | None, passcode: str | None
) -> dict[str, object]:
    """ActiveMQ's way: the requester subscribes to its /temp-queue/ name first."""
    queue = unique_queue()
    name = f"/temp-queue/r{uuid.uuid4().hex[:8]}"
    seen: dict[str, object] = {}
    with (
        CoreClient(address, login=login, passcode=passcode) as server,
        CoreClient(address, login=login, passcode=passcode) as requester,
    ):
        subscribe(server, queue, "work")
        subscribe(requester, name, "my-replies")
        request(requester, queue, name, "corr-2")
        incoming = server.message()
        reply_to = incoming.get("reply-to") or ""
        seen["reply-to rewritten"] = reply_to != name and reply_to.startswith("/")
        seen["client name leaked"] = name[len("/temp-queue/") :] in reply_to
        answer(server, incoming, b"explicit answer")
        reply = requester.message()
        seen["subscription"] = reply.subscription
        seen["correlation-id"] = reply.get("correlation-id")
        seen["body"] = reply.body
    return seen


def test_explicit_subscription_same_shape_as_activemq(broker: RunningBroker) -> None:
    embedded = _explicit_exchange(broker, None, None)
    assert embedded == {
        "reply-to rewritten": True,
        "client name leaked": False,
        "subscription": "my-replies",
        "correlation-id": "corr-2",
        "body": b"explicit answer",
    }
    port = os.environ.get("ACTIVEMQ_STOMP_PORT")
    if port is None:
        pytest.skip("ACTIVEMQ_STOMP_PORT is not set: the embedded half passed")
    activemq = _explicit_exchange(
        (os.environ.get("ACTIVEMQ_HOST", "127.0.0.1"), int(port)),
        os.environ.get("ACTIVEMQ_USER", "admin"),
        os.environ.get("ACTIVEMQ_PASSWORD", "admin"),
    )
    assert activemq == embedded

"""stomp_core.client request/reply: reply queue, correlation ids, routing, late replies."""

from __future__ import annotations

import pytest

from stomp_core import Message, Receipt, Subscribe
from stomp_core.client import (
    CORRELATION_ID,
    REPLY_TO,
    TEMP_QUEUE_PREFIX,
    Ignored,
    PendingRequests,
    ReplyArrived,
    reply_destination,
    reply_headers,
    subscribes_for_replies,
)


def reply(subscription: str | None, correlation_id: str | None, body: bytes = b"r") -> Message:
    headers = () if correlation_id is None else ((CORRELATION_ID, correlation_id),)
    return Message(
        destination="/queue/x",
        message_id="m-1",
        subscription=subscription,
        body=body,
        headers=headers,
    )


def test_header_names() -> None:
    assert (REPLY_TO, CORRELATION_ID, TEMP_QUEUE_PREFIX) == (
        "reply-to",
        "correlation-id",
        "/temp-queue/",
    )


@pytest.mark.parametrize(
    ("server", "subscribes"),
    [
        ("RabbitMQ/3.10.8", False),
        ("ActiveMQ/5.17.6", True),
        ("stomp_broker/1.0", True),
        (None, True),
        ("", True),
    ],
)
def test_only_rabbitmq_subscribes_implicitly(server: str | None, subscribes: bool) -> None:
    assert subscribes_for_replies(server) is subscribes


@pytest.mark.parametrize("token", ["", "a/b"])
def test_token_must_be_a_name(token: str) -> None:
    with pytest.raises(ValueError, match="token"):
        PendingRequests[object](token)


def test_reply_to_and_correlation_ids_come_from_the_token() -> None:
    pending: PendingRequests[str] = PendingRequests("t0k")
    assert pending.reply_to == "/temp-queue/t0k"
    first = pending.start("w1", {"priority": "4"})
    second = pending.start("w2")
    assert first == {"priority": "4", "reply-to": "/temp-queue/t0k", "correlation-id": "t0k-1"}
    assert second == {"reply-to": "/temp-queue/t0k", "correlation-id": "t0k-2"}
    assert len(pending) == 2


@pytest.mark.parametrize("name", [REPLY_TO, CORRELATION_ID])
def test_request_refuses_its_own_headers(name: str) -> None:
    pending: PendingRequests[str] = PendingRequests("t")
    with pytest.raises(ValueError, match=name):
        pending.start("w", {name: "mine"})
    assert len(pending) == 0


def test_subscription_handed_out_once_unless_it_failed() -> None:
    pending: PendingRequests[str] = PendingRequests("t")
    subscribe = pending.subscription("ActiveMQ/5.17.6")
    assert subscribe == Subscribe(destination="/temp-queue/t", id="/temp-queue/t", ack="auto")
    assert pending.subscription("ActiveMQ/5.17.6") is None
    pending.subscribe_failed()
    assert pending.subscription(None) == subscribe


def test_no_subscription_on_rabbitmq() -> None:
    pending: PendingRequests[str] = PendingRequests("t")
    assert pending.subscription("RabbitMQ/3.10.8") is None
    # Not marked as handed out: a failover to another broker still subscribes.
    assert pending.subscription("ActiveMQ/5.17.6") is not None


def test_reply_routed_to_its_waiter_once() -> None:
    pending: PendingRequests[str] = PendingRequests("t")
    headers = pending.start("w1")
    pending.start("w2")
    event = reply("/temp-queue/t", headers[CORRELATION_ID])
    assert pending.route(event) == ReplyArrived("w1", event)
    assert len(pending) == 1
    # The same correlation id again (a duplicate reply): nobody waits any more.
    again = pending.route(event)
    assert isinstance(again, Ignored)
    assert "t-1" in again.why


def test_late_reply_is_ignored() -> None:
    pending: PendingRequests[str] = PendingRequests("t")
    correlation_id = pending.start("w")[CORRELATION_ID]
    pending.give_up(correlation_id)
    pending.give_up(correlation_id)  # twice is harmless
    outcome = pending.route(reply("/temp-queue/t", correlation_id))
    assert isinstance(outcome, Ignored)
    assert "timed out or cancelled" in outcome.why


def test_reply_without_correlation_id_is_ignored() -> None:
    pending: PendingRequests[str] = PendingRequests("t")
    pending.start("w")
    outcome = pending.route(reply("/temp-queue/t", None))
    assert isinstance(outcome, Ignored)
    assert "None" in outcome.why
    assert len(pending) == 1


@pytest.mark.parametrize(
    "event",
    [
        reply("sub-1", "t-1"),
        reply(None, "t-1"),
        Receipt(receipt_id="t-1"),
    ],
)
def test_other_events_are_not_replies(event: Message | Receipt) -> None:
    pending: PendingRequests[str] = PendingRequests("t")
    pending.start("w")
    assert pending.route(event) is None
    assert len(pending) == 1


def test_reply_headers_copy_the_correlation_id() -> None:
    request = Message(
        destination="/queue/work",
        message_id="m-7",
        headers=((REPLY_TO, "/reply-queue/abc"), (CORRELATION_ID, "c-9")),
    )
    assert reply_destination(request) == "/reply-queue/abc"
    assert reply_headers(request) == {CORRELATION_ID: "c-9"}
    assert reply_headers(request, {"x": "1"}) == {"x": "1", CORRELATION_ID: "c-9"}
    # The server may set its own correlation id.
    assert reply_headers(request, {CORRELATION_ID: "own"}) == {CORRELATION_ID: "own"}


def test_reply_headers_without_a_correlation_id() -> None:
    request = Message(destination="/q", message_id="m", headers=((REPLY_TO, "/queue/r"),))
    assert reply_headers(request, {"a": "b"}) == {"a": "b"}


def test_no_reply_to_nothing_to_answer() -> None:
    with pytest.raises(ValueError, match="no reply-to: nothing"):
        reply_destination(Message(destination="/q", message_id="m-3"))


def test_used_once_a_request_started_and_a_lost_connection_hands_back_every_waiter() -> None:
    pending: PendingRequests[str] = PendingRequests("tok")
    assert not pending.used
    pending.start("a")
    pending.start("b")
    assert pending.used
    assert pending.connection_lost() == ["a", "b"]
    assert len(pending) == 0
    assert pending.connection_lost() == []

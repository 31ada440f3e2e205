"""Destinations: queues (competing consumers) and topics (fan-out), with no I/O.

Naming: a destination starting with ``/topic/`` is a topic; every other name is a queue
(``/queue/...`` by convention; ActiveMQ treats unprefixed names as queues too).

Queues:

* each message goes to one subscriber, chosen round-robin among those that can take it
  now (connected, not paused by TCP back-pressure, below their prefetch window);
* a message that no subscriber can take waits in the queue's backlog, in order; the
  backlog is bounded by ``max_queue_messages``: a SEND beyond it is refused, and the
  session answers the sender with an ERROR (never silent loss);
* messages that come back (NACK, UNSUBSCRIBE, disconnect with unacknowledged messages)
  go to the head of the backlog marked ``redelivered``; they were accepted already, so
  they may take the backlog above its bound for a while;
* a queue with no subscriber and no backlog is forgotten.

Topics: each message goes to every current subscriber, and is dropped when there is none.
A topic message NACKed or left unacknowledged on disconnect is dropped, not redelivered:
a topic keeps no messages.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from stomp_core import Headers

__all__ = [
    "Consumer",
    "QueueFull",
    "Router",
    "StoredMessage",
    "Subscription",
    "is_topic",
]

TOPIC_PREFIX = "/topic/"


def is_topic(destination: str) -> bool:
    """Whether ``destination`` names a topic (fan-out) rather than a queue."""
    return destination.startswith(TOPIC_PREFIX)


class QueueFull(Exception):
    """A queue's backlog is at ``max_queue_messages``: the SEND is refused."""


@dataclass(slots=True)
class StoredMessage:
    """A message as the broker keeps it between SEND and delivery.

    Attributes:
        message_id: the broker's id, unique for the broker's lifetime.
        destination: where it was sent.
        body: the body octets.
        content_type: the sender's ``content-type``, if any.
        headers: the sender's other headers, passed on to consumers.
        redelivered: it was delivered before and came back.
    """

    message_id: str
    destination: str
    body: bytes
    content_type: str | None
    headers: Headers
    redelivered: bool = False


class Consumer(Protocol):
    """What a destination needs from a session to deliver to it."""

    @property
    def writing_paused(self) -> bool:
        """The transport's buffer is above its high-water mark (TCP back-pressure)."""

    def can_receive(self) -> bool:
        """Whether the session takes messages at all now (connected, not closing)."""

    def deliver(self, subscription: Subscription, message: StoredMessage) -> bool:
        """Write ``message`` to ``subscription``; ``False`` if the session could not."""


@dataclass(eq=False, slots=True)
class Subscription:
    """One SUBSCRIBE of one session.

    Attributes:
        consumer: the session.
        key: the subscription's id, or its destination for a 1.0 SUBSCRIBE without id.
        id: the ``id`` header (``subscription`` of each MESSAGE), if any.
        destination: what it subscribes to.
        ack: ``auto``, ``client`` or ``client-individual``.
        window: most unacknowledged messages at once (prefetch, or the broker's
            ``max_unacked``); only ``client`` modes use it.
        unacked: ack id -> message, in delivery order (``client`` modes only).
    """

    consumer: Consumer
    key: str
    id: str | None
    destination: str
    ack: str
    window: int
    unacked: dict[str, StoredMessage] = field(default_factory=dict)

    def can_take(self) -> bool:
        """Whether a queue may hand this subscription one more message now."""
        # A paused consumer gets nothing from queues: other consumers take the messages,
        # or they wait in the backlog.  Topics keep writing to it (they keep no backlog)
        # until its outbound buffer crosses max_outbound_bytes.
        if self.consumer.writing_paused or not self.consumer.can_receive():
            return False
        return self.ack == "auto" or len(self.unacked) < self.window


class _Queue:
    """Competing consumers, round-robin, with a bounded backlog."""

    __slots__ = ("backlog", "next_index", "subscribers")

    def __init__(self) -> None:
        self.subscribers: list[Subscription] = []
        self.backlog: deque[StoredMessage] = deque()
        self.next_index = 0

    def pick(self) -> Subscription | None:
        count = len(self.subscribers)
        for step in range(count):
            index = (self.next_index + step) % count
            candidate = self.subscribers[index]
            if candidate.can_take():
                # Not reduced modulo count: a subscriber added later is next in turn.
                self.next_index = index + 1
                return candidate
        return None

    def dispatch(self) -> None:
        while self.backlog:
            subscription = self.pick()
            if subscription is None:
                return
            message = self.backlog.popleft()
            if not subscription.consumer.deliver(subscription, message):
                # The session went away under us: it is no longer eligible, so the next
                # round picks another subscriber (or stops when none is left).
                self.backlog.appendleft(message)
                if subscription.can_take():  # pragma: no cover - defensive, avoids a spin
                    return


class Router:
    """Every destination of one broker.

    Args:
        max_queue_messages: the bound of each queue's backlog.
    """

    def __init__(self, *, max_queue_messages: int) -> None:
        self._max = max_queue_messages
        self._queues: dict[str, _Queue] = {}
        self._topics: dict[str, list[Subscription]] = {}
        self._ids = itertools.count(1)

    def new_message(
        self, destination: str, body: bytes, content_type: str | None, headers: Headers
    ) -> StoredMessage:
        """Make a message with a fresh id."""
        return StoredMessage(f"m-{next(self._ids)}", destination, body, content_type, headers)

    def queue_depth(self, destination: str) -> int:
        """How many messages wait in the backlog of queue ``destination``."""
        queue = self._queues.get(destination)
        return len(queue.backlog) if queue is not None else 0

    def check_room(self, destinations: Iterable[str]) -> None:
        """Raise :class:`QueueFull` unless every queue can take one message per name.

        Used before a SEND, and before a COMMIT so that a transaction applies whole or not
        at all.  Conservative: a message that a subscriber would take at once still counts.
        """
        wanted: dict[str, int] = {}
        for destination in destinations:
            if not is_topic(destination):
                wanted[destination] = wanted.get(destination, 0) + 1
        for destination, count in wanted.items():
            if self.queue_depth(destination) + count > self._max:
                raise QueueFull(
                    f"queue {destination} is full ({self._max} messages waiting; "
                    "max_queue_messages)"
                )

    def publish(self, message: StoredMessage) -> None:
        """Route ``message``; the caller checked the room with :meth:`check_room`."""
        if is_topic(message.destination):
            for subscription in list(self._topics.get(message.destination, ())):
                if subscription.consumer.can_receive():
                    subscription.consumer.deliver(subscription, message)
            return
        queue = self._queues.setdefault(message.destination, _Queue())
        queue.backlog.append(message)
        queue.dispatch()

    def subscribe(self, subscription: Subscription) -> None:
        """Add a subscription (call :meth:`dispatch` afterwards to feed it)."""
        if is_topic(subscription.destination):
            self._topics.setdefault(subscription.destination, []).append(subscription)
        else:
            self._queues.setdefault(subscription.destination, _Queue()).subscribers.append(
                subscription
            )

    def unsubscribe(self, subscription: Subscription) -> None:
        """Remove a subscription; its unacknowledged messages stay with it."""
        destination = subscription.destination
        if is_topic(destination):
            subscribers = self._topics.get(destination, [])
            if subscription in subscribers:
                subscribers.remove(subscription)
            if not subscribers:
                self._topics.pop(destination, None)
            return
        queue = self._queues.get(destination)
        if queue is None or subscription not in queue.subscribers:
            return
        queue.subscribers.remove(subscription)
        self._forget_if_idle(destination)

    def requeue(self, destination: str, messages: list[StoredMessage]) -> None:
        """Put messages back at the head of queue ``destination``, marked redelivered.

        Topic messages are dropped (a topic keeps nothing).  Dispatch happens on the
        next :meth:`dispatch`.
        """
        if is_topic(destination) or not messages:
            return
        queue = self._queues.setdefault(destination, _Queue())
        for message in reversed(messages):
            message.redelivered = True
            queue.backlog.appendleft(message)

    def dispatch(self, destination: str) -> None:
        """Hand waiting messages of queue ``destination`` to subscribers that can take them."""
        queue = self._queues.get(destination)
        if queue is not None:
            queue.dispatch()
            self._forget_if_idle(destination)

    def _forget_if_idle(self, destination: str) -> None:
        queue = self._queues.get(destination)
        if queue is not None and not queue.subscribers and not queue.backlog:
            del self._queues[destination]

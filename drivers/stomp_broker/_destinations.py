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

Choosing a subscriber costs O(1) however many subscriptions a queue has: each queue keeps
a *ready line* of the subscriptions that may take a message, in round-robin order.  One
that cannot take any more (its prefetch window is full, or its connection stopped
reading) leaves the line when it reaches the front, and comes back when that changes:
the session calls :meth:`Router.wake` after an ACK or NACK, and for each subscription it
was told about through ``Consumer.parked`` once its transport resumes writing.  (Before,
every message scanned all subscriptions: 100,000 of them made each delivery take tens of
milliseconds, for every client of the broker.)

Topics: each message goes to every current subscriber, and is dropped when there is none.
A topic message NACKed or left unacknowledged on disconnect is dropped, not redelivered:
a topic keeps no messages.

Temporary queues (``/temp-queue/<name>``, RabbitMQ's and ActiveMQ's way to ask for
replies): the session of the connection that names one owns it and asks the router for a
queue under an unguessable name, ``/reply-queue/<token>`` (RabbitMQ's prefix); the router
remembers its owner so that only the owner may subscribe to it.  A temporary queue is a
queue in every other respect (backlog, bounds, stored bytes).  When its connection is
gone it is removed with its backlog, and a message sent to a ``/reply-queue/`` name that is
not (or no longer) registered is dropped, as RabbitMQ 3.10 does (the sender still gets its
RECEIPT: measured, see ``_session.py``).

Stored bytes (``max_stored_bytes``, see ``_budget.py``): a message counts, once, from the
moment the broker keeps it (a queue's backlog, or the unacknowledged messages of a
``client`` subscription) until nobody keeps it any more (auto-acknowledged delivery, ACK,
a topic message NACKed or given back).
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from stomp_core import Headers

from ._budget import Budget

__all__ = [
    "REPLY_QUEUE_PREFIX",
    "TEMP_QUEUE_PREFIX",
    "Consumer",
    "QueueFull",
    "Router",
    "StoredMessage",
    "Subscription",
    "is_topic",
    "stored_size",
]

TOPIC_PREFIX = "/topic/"
#: What a client names its own temporary queues with (RabbitMQ, ActiveMQ).
TEMP_QUEUE_PREFIX = "/temp-queue/"
#: The broker's name for a temporary queue, as other connections see it (RabbitMQ's).
REPLY_QUEUE_PREFIX = "/reply-queue/"


def is_topic(destination: str) -> bool:
    """Whether ``destination`` names a topic (fan-out) rather than a queue."""
    return destination.startswith(TOPIC_PREFIX)


def stored_size(body: bytes, headers: Headers) -> int:
    """What a message costs against ``max_stored_bytes``: its body and header octets."""
    return len(body) + sum(len(name) + len(value) + 2 for name, value in headers)


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
        size: what it counts against ``max_stored_bytes`` (:func:`stored_size`).
        holds: how many places keep it now (a backlog, unacknowledged sets); it is
            counted as stored while this is above zero.
    """

    message_id: str
    destination: str
    body: bytes
    content_type: str | None
    headers: Headers
    redelivered: bool = False
    size: int = 0
    holds: int = 0


class Consumer(Protocol):
    """What a destination needs from a session to deliver to it."""

    @property
    def writing_paused(self) -> bool:
        """The transport's buffer is above its high-water mark (TCP back-pressure)."""

    def can_receive(self) -> bool:
        """Whether the session takes messages at all now (connected, not closing)."""

    def deliver(self, subscription: Subscription, message: StoredMessage) -> bool:
        """Write ``message`` to ``subscription``; ``False`` if the session could not."""

    def parked(self, subscription: Subscription) -> None:
        """A queue skipped ``subscription`` because writing is paused: the session
        passes it to :meth:`Router.wake` when writing resumes."""


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

    __slots__ = ("backlog", "fresh", "ready", "subscribers")

    def __init__(self) -> None:
        # Dicts as ordered sets: O(1) removal whatever the number of subscriptions.
        self.subscribers: dict[Subscription, None] = {}
        # The ready line, front first (OrderedDict: O(1) pop at the front): subscribers
        # never served yet, in subscription order, come before the ones served already,
        # least recently served first.
        self.fresh: OrderedDict[Subscription, None] = OrderedDict()
        self.ready: OrderedDict[Subscription, None] = OrderedDict()
        self.backlog: deque[StoredMessage] = deque()

    def add(self, subscription: Subscription) -> None:
        self.subscribers[subscription] = None
        self.fresh[subscription] = None

    def remove(self, subscription: Subscription) -> None:
        self.subscribers.pop(subscription, None)
        self.fresh.pop(subscription, None)
        self.ready.pop(subscription, None)

    def wake(self, subscription: Subscription) -> None:
        if (
            subscription in self.subscribers
            and subscription not in self.fresh
            and subscription not in self.ready
        ):
            self.ready[subscription] = None

    def pick(self) -> Subscription | None:
        for line in (self.fresh, self.ready):
            while line:
                candidate, _ = line.popitem(last=False)
                if candidate.can_take():
                    self.ready[candidate] = None  # round-robin: back of the line
                    return candidate
                self._leave(candidate)
        return None

    @staticmethod
    def _leave(candidate: Subscription) -> None:
        # Out of the line until something changes: an ACK or NACK wakes it, and so does
        # its session when writing resumes (told here).  A session that is closing
        # takes nothing more and removes its subscriptions when it is gone.
        consumer = candidate.consumer
        if consumer.writing_paused and consumer.can_receive():
            consumer.parked(candidate)


class _Topic:
    """Fan-out to the current subscribers."""

    __slots__ = ("holding", "subscribers")

    def __init__(self) -> None:
        self.subscribers: dict[Subscription, None] = {}
        # Subscriptions in a client ack mode: a message sent here is stored until ACK.
        self.holding = 0


class Router:
    """Every destination of one broker.

    Args:
        max_queue_messages: the bound of each queue's backlog.
        budget: the broker-wide counters (stored bytes are counted here).
    """

    def __init__(self, *, max_queue_messages: int, budget: Budget) -> None:
        self._max = max_queue_messages
        self._budget = budget
        self._queues: dict[str, _Queue] = {}
        self._topics: dict[str, _Topic] = {}
        self._ids = itertools.count(1)
        # Temporary queue name -> the session that owns it.
        self._temp_owners: dict[str, Consumer] = {}

    def new_message(
        self, destination: str, body: bytes, content_type: str | None, headers: Headers
    ) -> StoredMessage:
        """Make a message with a fresh id."""
        size = stored_size(body, headers) + len(destination) + len(content_type or "")
        return StoredMessage(
            f"m-{next(self._ids)}", destination, body, content_type, headers, size=size
        )

    def queue_depth(self, destination: str) -> int:
        """How many messages wait in the backlog of queue ``destination``."""
        queue = self._queues.get(destination)
        return len(queue.backlog) if queue is not None else 0

    def create_temp_queue(self, owner: Consumer) -> str:
        """Register a temporary queue owned by ``owner``; return its name.

        The name carries 128 random bits (``secrets``): knowing it is what lets another
        connection reply, so it must not be guessable from names seen before.
        """
        while True:
            name = f"{REPLY_QUEUE_PREFIX}tmp.{secrets.token_urlsafe(16)}"
            if name not in self._temp_owners:  # pragma: no branch - 2**-128 odds
                self._temp_owners[name] = owner
                self._budget.temp_queues += 1
                return name

    def temp_queue_owner(self, destination: str) -> Consumer | None:
        """The owner of temporary queue ``destination``, or ``None`` if it is not one."""
        return self._temp_owners.get(destination)

    def delete_temp_queue(self, destination: str) -> None:
        """Remove a temporary queue, dropping its backlog (its owner unsubscribed first)."""
        del self._temp_owners[destination]
        self._budget.temp_queues -= 1
        queue = self._queues.pop(destination, None)
        if queue is not None:
            self.acknowledged(queue.backlog)  # no longer stored anywhere
            queue.backlog.clear()

    def _dropped(self, destination: str) -> bool:
        # A /reply-queue/ name that no connection owns (any more): RabbitMQ 3.10 drops
        # what is sent there without an error, so do we.
        return destination.startswith(REPLY_QUEUE_PREFIX) and destination not in self._temp_owners

    def stores(self, destination: str) -> bool:
        """Whether a message sent to ``destination`` now would be stored (a queue, or a
        topic with a subscription in a client ack mode)."""
        if self._dropped(destination):
            return False
        if not is_topic(destination):
            return True
        topic = self._topics.get(destination)
        return topic is not None and topic.holding > 0

    def check_room(self, destinations: Iterable[str]) -> None:
        """Raise :class:`QueueFull` unless every queue can take one message per name.

        Used before a SEND, and before a COMMIT so that a transaction applies whole or not
        at all.  Conservative: a message that a subscriber would take at once still counts.
        """
        wanted: dict[str, int] = {}
        for destination in destinations:
            if not is_topic(destination) and not self._dropped(destination):
                wanted[destination] = wanted.get(destination, 0) + 1
        for destination, count in wanted.items():
            if self.queue_depth(destination) + count > self._max:
                raise QueueFull(
                    f"queue {destination} is full ({self._max} messages waiting; "
                    "max_queue_messages)"
                )

    def publish(self, message: StoredMessage) -> None:
        """Route ``message``; the caller checked the room with :meth:`check_room`."""
        if self._dropped(message.destination):
            return
        if is_topic(message.destination):
            topic = self._topics.get(message.destination)
            if topic is None:
                return
            for subscription in list(topic.subscribers):
                if subscription.consumer.can_receive() and (
                    subscription.consumer.deliver(subscription, message)
                    and subscription.ack != "auto"
                ):
                    self._hold(message)  # in that subscription's unacknowledged set
            return
        queue = self._queues.get(message.destination)
        if queue is None:
            queue = self._queues[message.destination] = _Queue()
        self._hold(message)
        queue.backlog.append(message)
        self._dispatch(queue)

    def subscribe(self, subscription: Subscription) -> None:
        """Add a subscription (call :meth:`dispatch` afterwards to feed it)."""
        destination = subscription.destination
        if is_topic(destination):
            topic = self._topics.get(destination)
            if topic is None:
                topic = self._topics[destination] = _Topic()
            topic.subscribers[subscription] = None
            if subscription.ack != "auto":
                topic.holding += 1
            return
        queue = self._queues.get(destination)
        if queue is None:
            queue = self._queues[destination] = _Queue()
        queue.add(subscription)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Remove a subscription; its unacknowledged messages stay with it."""
        destination = subscription.destination
        if is_topic(destination):
            topic = self._topics.get(destination)
            if topic is None or subscription not in topic.subscribers:
                return
            del topic.subscribers[subscription]
            if subscription.ack != "auto":
                topic.holding -= 1
            if not topic.subscribers:
                del self._topics[destination]
            return
        queue = self._queues.get(destination)
        if queue is None:
            return
        queue.remove(subscription)
        self._forget_if_idle(destination)

    def wake(self, subscription: Subscription) -> None:
        """``subscription`` may take messages again (an ACK, or writing resumed): put
        it back in its queue's ready line.  Call :meth:`dispatch` afterwards."""
        queue = self._queues.get(subscription.destination)
        if queue is not None:
            queue.wake(subscription)

    def requeue(self, destination: str, messages: list[StoredMessage]) -> None:
        """Put messages back at the head of queue ``destination``, marked redelivered.

        Topic messages are dropped (a topic keeps nothing).  Dispatch happens on the
        next :meth:`dispatch`.
        """
        if is_topic(destination) or self._dropped(destination):
            self.acknowledged(messages)
            return
        if not messages:
            return
        queue = self._queues.get(destination)
        if queue is None:
            queue = self._queues[destination] = _Queue()
        for message in reversed(messages):
            message.redelivered = True
            queue.backlog.appendleft(message)

    def acknowledged(self, messages: Iterable[StoredMessage]) -> None:
        """These messages left an unacknowledged set for good (ACK, or dropped)."""
        for message in messages:
            self._release(message)

    def dispatch(self, destination: str) -> None:
        """Hand waiting messages of queue ``destination`` to subscribers that can take them."""
        queue = self._queues.get(destination)
        if queue is not None:
            self._dispatch(queue)
            self._forget_if_idle(destination)

    def _dispatch(self, queue: _Queue) -> None:
        backlog = queue.backlog
        while backlog:
            subscription = queue.pick()
            if subscription is None:
                return
            message = backlog.popleft()
            if not subscription.consumer.deliver(subscription, message):
                # The session went away under us: it is no longer eligible, so the next
                # round picks another subscriber (or stops when none is left).
                backlog.appendleft(message)
                if subscription.can_take():  # pragma: no cover - defensive, avoids a spin
                    return
            elif subscription.ack == "auto":
                self._release(message)  # delivered and done
            # else: the hold passes from the backlog to the unacknowledged set.

    def _forget_if_idle(self, destination: str) -> None:
        queue = self._queues.get(destination)
        if queue is not None and not queue.subscribers and not queue.backlog:
            del self._queues[destination]

    def _hold(self, message: StoredMessage) -> None:
        if message.holds == 0:
            self._budget.stored_bytes += message.size
        message.holds += 1

    def _release(self, message: StoredMessage) -> None:
        message.holds -= 1
        if message.holds == 0:
            self._budget.stored_bytes -= message.size

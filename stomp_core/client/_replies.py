"""Request/reply: the reply destination, correlation ids and routing replies to requests.

STOMP itself has no request/reply: spec 1.2 "SEND" passes headers it does not know on
to the receivers, and the brokers agree on two of them.  A requester SENDs with
``reply-to`` naming where the answer should go and ``correlation-id`` naming the
request; the server SENDs its answer to that ``reply-to`` with the same
``correlation-id``.  For ``reply-to`` the brokers offer temporary queues,
``/temp-queue/<name>``, private to the connection that names them:

* RabbitMQ creates the queue when a SEND names it in ``reply-to`` and subscribes the
  connection to it implicitly: the replies come as MESSAGE frames whose
  ``subscription`` header is ``/temp-queue/<name>``.  It refuses a SUBSCRIBE to it.
* ActiveMQ delivers only to a SUBSCRIBE to ``/temp-queue/<name>`` that the requester
  sends itself.
* The embedded broker (``stomp_broker``) does both.

So a client subscribes itself unless the broker is RabbitMQ (its CONNECTED ``server``
header), and in both cases uses ``/temp-queue/<name>`` as the subscription id: the
replies then carry the same ``subscription`` header whichever way they came.

:class:`PendingRequests` is the pure part of a driver's ``request()``: it names the
reply queue and the correlation ids from a token the driver draws (the core draws no
random numbers), remembers which waiter waits for which correlation id, and routes each
reply to its waiter; a reply nobody waits for any more (its request timed out or was
cancelled) is :class:`~stomp_core.client.Ignored`, worth a debug log line.
:func:`reply_headers` is the serving side's half.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from .._events import Event, Message, Subscribe
from ._frames import IdCounter
from ._session import Ignored

__all__ = [
    "CORRELATION_ID",
    "REPLY_TO",
    "TEMP_QUEUE_PREFIX",
    "PendingRequests",
    "ReplyArrived",
    "reply_destination",
    "reply_headers",
    "subscribes_for_replies",
]

#: The header naming where the answer to a message should be sent.
REPLY_TO = "reply-to"
#: The header pairing a reply with its request.
CORRELATION_ID = "correlation-id"
#: RabbitMQ's and ActiveMQ's prefix of a temporary queue private to one connection.
TEMP_QUEUE_PREFIX = "/temp-queue/"

W = TypeVar("W")


def subscribes_for_replies(server: str | None) -> bool:
    """Whether a client must SUBSCRIBE to its temporary queue to get the replies.

    Args:
        server: the ``server`` header of the broker's CONNECTED frame (``None`` if it
            sent none).

    Returns:
        ``False`` for RabbitMQ (it subscribes the connection implicitly, and answers a
        SUBSCRIBE to a temporary queue with ERROR), ``True`` for every other broker.
    """
    return not (server or "").startswith("RabbitMQ/")


def reply_headers(message: Message, headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers of the answer to ``message``: ``headers`` plus its ``correlation-id``.

    The ``correlation-id`` of ``message`` is copied unless ``headers`` sets one; the
    answer goes to ``message``'s ``reply-to`` (see :func:`reply_destination`).

    Args:
        message: the request, a received MESSAGE.
        headers: extra headers of the answer.
    """
    result = dict(headers) if headers else {}
    correlation_id = message.get(CORRELATION_ID)
    if correlation_id is not None:
        result.setdefault(CORRELATION_ID, correlation_id)
    return result


def reply_destination(message: Message) -> str:
    """Where the answer to ``message`` goes: its ``reply-to`` header.

    Raises:
        ValueError: ``message`` has no ``reply-to``: nobody asked for an answer.
    """
    destination = message.get(REPLY_TO)
    if not destination:
        raise ValueError(f"message {message.message_id!r} has no reply-to: nothing to answer")
    return destination


@dataclass(frozen=True, slots=True)
class ReplyArrived(Generic[W]):
    """Wake ``waiter``: ``event`` is the reply it waits for."""

    waiter: W
    event: Message


class PendingRequests(Generic[W]):
    """One client's requests waiting for their reply, by correlation id.

    Args:
        token: a name for the client's temporary queue, unique among the connections
            to the broker (the driver draws it at random, e.g. a UUID's hex); it is not
            shown to the servers: both brokers rewrite ``reply-to``.

    Raises:
        ValueError: ``token`` is empty or contains a ``/``.
    """

    __slots__ = ("_ids", "_pending", "_subscribed", "reply_to", "used")

    def __init__(self, token: str) -> None:
        if not token or "/" in token:
            raise ValueError(f"a temporary queue token must be a non-empty name, got {token!r}")
        #: The ``reply-to`` of every request, also the id of the reply subscription.
        self.reply_to = TEMP_QUEUE_PREFIX + token
        self._ids = IdCounter(f"{token}-")
        self._pending: dict[str, W] = {}
        self._subscribed = False
        #: Whether a request was ever made: only then can a reply arrive.
        self.used = False

    def __len__(self) -> int:
        """Requests waiting for a reply."""
        return len(self._pending)

    # -- the reply subscription ------------------------------------------------------

    def subscription(self, server: str | None) -> Subscribe | None:
        """The SUBSCRIBE to send before the first request, or ``None``.

        ``None`` once one was handed out (the driver's session replays it after a
        reconnect) and for RabbitMQ (:func:`subscribes_for_replies`).  Call
        :meth:`subscribe_failed` if it could not be sent.

        Args:
            server: the ``server`` header of CONNECTED.
        """
        if self._subscribed or not subscribes_for_replies(server):
            return None
        self._subscribed = True
        # ``auto``: a reply needs no ack, and a late one is dropped anyway.
        return Subscribe(destination=self.reply_to, id=self.reply_to, ack="auto")

    def subscribe_failed(self) -> None:
        """The SUBSCRIBE from :meth:`subscription` did not go out: hand it out again."""
        self._subscribed = False

    # -- requests ----------------------------------------------------------------------

    def start(self, waiter: W, headers: Mapping[str, str] | None = None) -> dict[str, str]:
        """Register a new request; ``waiter`` waits for its reply.

        Args:
            waiter: what :meth:`route` hands back when the reply comes.
            headers: the user's extra SEND headers.

        Returns:
            the headers of the SEND, ``headers`` plus ``reply-to`` and a fresh
            ``correlation-id`` (read it back from there to :meth:`give_up`).

        Raises:
            ValueError: ``headers`` sets ``reply-to`` or ``correlation-id`` (the request
                needs its own to find the reply).
        """
        result = dict(headers) if headers else {}
        for name in (REPLY_TO, CORRELATION_ID):
            if name in result:
                raise ValueError(f"request() sets the {name} header itself")
        correlation_id = self._ids.next()
        self.used = True
        result[REPLY_TO] = self.reply_to
        result[CORRELATION_ID] = correlation_id
        self._pending[correlation_id] = waiter
        return result

    def give_up(self, correlation_id: str) -> None:
        """The request ended (answered, timed out, cancelled): a reply coming from now
        on is dropped."""
        self._pending.pop(correlation_id, None)

    def connection_lost(self) -> list[W]:
        """The connection ended: the waiters of every pending request, to fail.

        The broker deletes a temporary queue with its connection, so no reply to a
        request made on it can come any more.  The requests are forgotten.
        """
        waiters = list(self._pending.values())
        self._pending.clear()
        return waiters

    def route(self, event: Event) -> ReplyArrived[W] | Ignored | None:
        """What to do with a received event.

        Returns:
            ``None`` if it is not a reply (not a MESSAGE of the reply subscription), for
            the session to handle; a :class:`ReplyArrived` to wake its waiter (the
            request is no longer pending); an :class:`~stomp_core.client.Ignored` for a
            reply nobody waits for (its request timed out or was cancelled, or it has no
            known ``correlation-id``), to drop.
        """
        if not isinstance(event, Message) or event.subscription != self.reply_to:
            return None
        correlation_id = event.get(CORRELATION_ID)
        waiter = self._pending.pop(correlation_id, None) if correlation_id is not None else None
        if waiter is None:
            return Ignored(
                f"reply {event.message_id!r} (correlation-id {correlation_id!r}) dropped: "
                "no request waits for it (timed out or cancelled)"
            )
        return ReplyArrived(waiter, event)

"""What a user holds: messages, subscriptions and state observers.

These objects keep no protocol logic of their own; every frame goes through the
:class:`~stomp_trio.Client` that made them, which serialises access to the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType, TracebackType

import trio

import stomp_core
from stomp_core.client import Backlog, ClientHooks, ConnectionLost, ReceivedMessage

from ._observe import Signal
from ._transaction import Transaction

__all__ = ["Hooks", "Message", "Subscription"]


#: The client's callables, passed down (nothing here calls up into the client).
Hooks = ClientHooks["Subscription", "Message", Transaction]


class Message(ReceivedMessage):
    """A MESSAGE delivered to a :class:`Subscription`.

    Attributes:
        event: the core's :class:`stomp_core.Message` event (every header, in wire order).
    """

    __slots__ = ("_generation", "_subscription")

    def __init__(
        self, subscription: Subscription, event: stomp_core.Message, generation: int
    ) -> None:
        super().__init__(event)
        self._generation = generation
        self._subscription = subscription

    @property
    def subscription(self) -> Subscription:
        """The subscription this message was delivered to."""
        return self._subscription

    @property
    def from_current_connection(self) -> bool:
        """Whether it arrived on the connection that is live now (only those can be acked)."""
        return self._subscription._hooks.generation() == self._generation

    @property
    def generation(self) -> int:
        """The number of the connection it arrived on (1 for the first, +1 per reconnect)."""
        return self._generation

    async def ack(
        self, *, transaction: Transaction | str | None = None, receipt: bool = False
    ) -> None:
        """Acknowledge the message (``client`` and ``client-individual`` subscriptions).

        The frame carries the headers the negotiated version requires: ``id`` = the
        MESSAGE's ``ack`` header in 1.2, ``message-id`` (and ``subscription`` in 1.1)
        before.  In ``client`` mode an ACK also covers every earlier message of the
        subscription (spec 1.2 "SUBSCRIBE ack Header").

        Args:
            transaction: the transaction (or its id) the ACK belongs to.
            receipt: wait until the broker confirms the ACK.

        Raises:
            ConnectionLost: the message came on an earlier connection; the broker has
                already put it back for redelivery (its ack id is void, conformance 98).
            stomp_core.LocalProtocolError: the subscription is ``auto``.
        """
        await self._subscription._hooks.acknowledge(self, False, transaction, receipt)

    async def nack(
        self, *, transaction: Transaction | str | None = None, receipt: bool = False
    ) -> None:
        """Reject the message (STOMP 1.1 and 1.2; 1.0 has no NACK).

        Same arguments and errors as :meth:`ack`.
        """
        await self._subscription._hooks.acknowledge(self, True, transaction, receipt)

    def __repr__(self) -> str:
        return (
            f"<Message {self.message_id!r} from {self.destination!r} "
            f"({len(self.event.body)} bytes)>"
        )


class Subscription:
    """A subscription, as an async context manager and an async iterator of messages.

    Made by :meth:`Client.subscribe`; SUBSCRIBE is sent on entering the ``async with``
    block and UNSUBSCRIBE on leaving it.  Messages wait in a bounded buffer
    (``subscription_buffer``); while it is full the client stops reading from the broker,
    so TCP flow control pushes back (see the README's "Back-pressure").

    The subscription survives reconnects: it is subscribed again on every new connection
    under the same id and the iterator carries on.  The iterator ends when the
    subscription is closed (messages already buffered are still delivered first) and,
    when the client fails for good, raises the error that ended it
    (:class:`~stomp_trio.ConnectionLost`, :class:`~stomp_trio.BrokerError` or
    :class:`~stomp_trio.ProtocolViolation`), as ``stomp_asyncio`` does.

    Attributes:
        id: the subscription id.
        destination: what is subscribed to.
        ack: the ack mode.
    """

    def __init__(
        self,
        hooks: Hooks,
        destination: str,
        *,
        id: str,
        ack: str,
        headers: Mapping[str, str] | None,
        receipt: bool,
        capacity: int,
        max_bytes: int | None = None,
    ) -> None:
        self._hooks = hooks
        self.id = id
        self.destination = destination
        self.ack = ack
        self._headers = dict(headers) if headers else {}
        self._receipt = receipt
        self._backlog: Backlog[Message] = Backlog(
            capacity, max_bytes=max_bytes, size=None if max_bytes is None else _body_size
        )
        self._signal = Signal()
        self._entered = False

    async def __aenter__(self) -> Subscription:
        if self._entered:
            raise RuntimeError("a Subscription can be entered only once")
        self._entered = True
        await self._hooks.subscribe(self, self._receipt)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # UNSUBSCRIBE is queued without waiting (it is written by the connection's own
        # task), so leaving the block never blocks and is safe under cancellation.
        self._hooks.unsubscribe_soon(self)
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def close(self) -> None:
        """Unsubscribe now, without waiting for a receipt (see :meth:`unsubscribe`)."""
        await self.unsubscribe()

    async def unsubscribe(self, *, receipt: bool = False) -> None:
        """Unsubscribe now (leaving the block does nothing more afterwards).

        Messages already buffered can still be read; the iterator then ends.

        Args:
            receipt: wait until the broker confirmed the UNSUBSCRIBE.

        Raises:
            BrokerError, ReceiptTimeout, ConnectionLost: as for a receipted send.
        """
        await self._hooks.unsubscribe(self, receipt)

    @property
    def headers(self) -> Mapping[str, str]:
        """The extra SUBSCRIBE headers given."""
        return MappingProxyType(self._headers)

    @property
    def buffered(self) -> int:
        """Messages received and not yet taken by the iterator."""
        return len(self._backlog)

    @property
    def capacity(self) -> int:
        """The buffer bound."""
        return self._backlog.capacity

    @property
    def full(self) -> bool:
        """Whether the buffer is at capacity (the client then stops reading)."""
        return self._backlog.full

    @property
    def closed(self) -> bool:
        """Whether the subscription ended (unsubscribed or the client closed)."""
        return self._backlog.ended

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        await trio.lowlevel.checkpoint()
        was_full = self.full
        while (message := self._backlog.poll()) is None:
            await self._signal.wait()
            was_full = self.full
        if was_full:
            # Room again: let the client deliver a message held back for us and
            # resume reading (back-pressure released).
            self._hooks.room(self)
        return message

    async def get(self) -> Message:
        """The next message; like ``anext(sub)`` but raising instead of stopping.

        Bound the wait the trio way: ``with trio.fail_after(5): await sub.get()``
        (``stomp_asyncio``'s ``get(timeout)`` has no trio twin: see the package docstring).

        Raises:
            ConnectionLost: the subscription is closed (after its buffered messages).
            BrokerError, ProtocolViolation, ConnectionLost: the error that ended the
                client, if it failed for good.
        """
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            raise ConnectionLost(f"subscription {self.id!r} is closed") from None

    # -- called by the client ------------------------------------------------------

    def _offer(self, message: Message) -> bool:
        """Buffer ``message``; ``False`` when the buffer is full (hold it and pause)."""
        if not self._backlog.offer(message):
            return False
        self._signal.fire()
        return True

    def _close(self, error: BaseException | None = None) -> None:
        """Stop the iteration: with ``error`` raised to consumers, or cleanly.  Messages
        already buffered stay readable; the iteration ends after them."""
        self._backlog.end(error)
        self._signal.fire()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "live"
        return f"<Subscription {self.id!r} to {self.destination!r} ack={self.ack} {state}>"


def _body_size(message: Message) -> int:
    """What a buffered message weighs against ``subscription_buffer_bytes``."""
    return len(message.event.body)

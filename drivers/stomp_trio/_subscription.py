"""What a user holds: messages, subscriptions and state observers.

These objects keep no protocol logic of their own; every frame goes through the
:class:`~stomp_trio.Client` that made them, which serialises access to the core.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING

import trio

import stomp_core
from stomp_core.client import ClientState, ConnectionLost, ReceivedMessage, StateChange

if TYPE_CHECKING:
    from ._connection import Client
    from ._link import Link
    from ._transaction import Transaction

__all__ = ["Message", "StateChanges", "Subscription"]


class _Signal:
    """A level-reset wake-up: ``wait()`` blocks until the next ``fire()``."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = trio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = trio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class Message(ReceivedMessage):
    """A MESSAGE delivered to a :class:`Subscription`.

    Attributes:
        event: the core's :class:`stomp_core.Message` event (every header, in wire order).
    """

    __slots__ = ("_client", "_link", "_subscription")

    def __init__(
        self,
        client: Client,
        link: Link,
        subscription: Subscription,
        event: stomp_core.Message,
    ) -> None:
        super().__init__(event)
        self._client = client
        self._link = link
        self._subscription = subscription

    @property
    def subscription(self) -> Subscription:
        """The subscription this message was delivered to."""
        return self._subscription

    @property
    def from_current_connection(self) -> bool:
        """Whether it arrived on the connection that is live now (only those can be acked)."""
        return self._client._link is self._link and not self._link.ended

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
        await self._client._acknowledge(self, nack=False, transaction=transaction, receipt=receipt)

    async def nack(
        self, *, transaction: Transaction | str | None = None, receipt: bool = False
    ) -> None:
        """Reject the message (STOMP 1.1 and 1.2; 1.0 has no NACK).

        Same arguments and errors as :meth:`ack`.
        """
        await self._client._acknowledge(self, nack=True, transaction=transaction, receipt=receipt)

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
        client: Client,
        destination: str,
        *,
        id: str,
        ack: str,
        headers: Mapping[str, str] | None,
        receipt: bool,
        capacity: int,
    ) -> None:
        self._client = client
        self.id = id
        self.destination = destination
        self.ack = ack
        self._headers = dict(headers) if headers else {}
        self._receipt = receipt
        self._capacity = capacity
        self._buffer: deque[Message] = deque()
        self._signal = _Signal()
        self._entered = False
        self._closed = False
        self._error: BaseException | None = None

    @property
    def headers(self) -> Mapping[str, str]:
        """The extra SUBSCRIBE headers given."""
        return MappingProxyType(self._headers)

    @property
    def buffered(self) -> int:
        """Messages received and not yet taken by the iterator."""
        return len(self._buffer)

    @property
    def capacity(self) -> int:
        """The buffer bound."""
        return self._capacity

    @property
    def full(self) -> bool:
        """Whether the buffer is at capacity (the client then stops reading)."""
        return len(self._buffer) >= self._capacity

    @property
    def closed(self) -> bool:
        """Whether the subscription ended (unsubscribed or the client closed)."""
        return self._closed

    async def __aenter__(self) -> Subscription:
        if self._entered:
            raise RuntimeError("a Subscription can be entered only once")
        self._entered = True
        await self._client._subscribe(self, receipt=self._receipt)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # UNSUBSCRIBE is queued without waiting (it is written by the connection's own
        # task), so leaving the block never blocks and is safe under cancellation.
        self._client._unsubscribe(self)
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
        await self._client._unsubscribe_now(self, receipt=receipt)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        await trio.lowlevel.checkpoint()
        while True:
            if self._buffer:
                message = self._buffer.popleft()
                # Room again: let the client deliver a message held back for us and
                # resume reading (back-pressure released).
                self._client._room_available(self)
                return message
            if self._error is not None:
                raise self._error
            if self._closed:
                raise StopAsyncIteration
            await self._signal.wait()

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
        if self._closed:
            return True  # dropped: nobody will read it
        if len(self._buffer) >= self._capacity:
            return False
        self._buffer.append(message)
        self._signal.fire()
        return True

    def _close(self, error: BaseException | None = None) -> None:
        self._closed = True
        if error is not None and self._error is None:
            self._error = error
        self._signal.fire()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "live"
        return f"<Subscription {self.id!r} to {self.destination!r} ack={self.ack} {state}>"


class StateChanges:
    """An async iterator over a client's :class:`~stomp_trio.StateChange` reports.

    Made by :meth:`Client.state_changes`; it records every change from the moment it is
    made (not from the first ``anext``), keeps at most ``maxlen`` unread ones (dropping the
    oldest), and ends after the change to ``CLOSED``.  Call :meth:`close` (or leave it as
    an ``async with`` block) to stop observing early.
    """

    def __init__(self, client: Client, maxlen: int) -> None:
        self._client = client
        self._queue: deque[StateChange] = deque(maxlen=maxlen)
        self._signal = _Signal()
        self._finished = False

    def _push(self, change: StateChange) -> None:
        if self._finished:
            return
        self._queue.append(change)
        self._signal.fire()

    def close(self) -> None:
        """Stop observing; iteration ends once the queued changes are read."""
        self._finished = True
        self._client._observers.discard(self)
        self._signal.fire()

    async def __aenter__(self) -> StateChanges:
        await trio.lowlevel.checkpoint()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        await trio.lowlevel.cancel_shielded_checkpoint()

    def __aiter__(self) -> StateChanges:
        return self

    async def __anext__(self) -> StateChange:
        await trio.lowlevel.checkpoint()
        while True:
            if self._queue:
                change = self._queue.popleft()
                if change.state is ClientState.CLOSED:
                    self.close()
                return change
            if self._finished:
                raise StopAsyncIteration
            await self._signal.wait()

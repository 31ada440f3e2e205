"""Subscriptions (bounded message buffers with async iteration) and received messages."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import MappingProxyType, TracebackType

from stomp_core import Message as MessageEvent
from stomp_core.client import Backlog, ClientHooks, ConnectionLost, ReceivedMessage

from ._transaction import Transaction

__all__ = ["Hooks", "Message", "Subscription"]


#: The client's callables, passed down (nothing here calls up into the client).
Hooks = ClientHooks["Subscription", "Message", Transaction]


class Message(ReceivedMessage):
    """A MESSAGE delivered to a subscription.

    Attributes:
        event: the core's :class:`stomp_core.Message` event (every header, typed).
        subscription: the :class:`Subscription` it was delivered to.
    """

    __slots__ = ("_generation", "subscription")

    def __init__(self, subscription: Subscription, event: MessageEvent, generation: int) -> None:
        super().__init__(event)
        self._generation = generation
        self.subscription = subscription

    @property
    def from_current_connection(self) -> bool:
        """Whether it arrived on the connection that is live now (only those can be acked)."""
        return self.subscription._hooks.generation() == self._generation

    async def ack(
        self, *, transaction: Transaction | str | None = None, receipt: bool = False
    ) -> None:
        """Acknowledge it (``client`` and ``client-individual`` subscriptions).

        The right headers for the negotiated version are used (``id`` = ``ack`` header in
        1.2, ``message-id`` before).  In ``client`` mode an ACK also covers every earlier
        message of the subscription (spec 1.2 "SUBSCRIBE ack Header").

        Raises:
            ConnectionLost: the message came on an earlier connection: its ack id means
                nothing to the new session (conformance 98) and the broker redelivers it.
            stomp_core.LocalProtocolError: the subscription is ``auto`` (conformance 80).
        """
        await self.subscription._hooks.acknowledge(self, False, transaction, receipt)

    async def nack(
        self, *, transaction: Transaction | str | None = None, receipt: bool = False
    ) -> None:
        """Reject it (STOMP 1.1+): the broker redelivers or dead-letters it.

        Raises:
            ConnectionLost: as for :meth:`ack`.
            stomp_core.LocalProtocolError: STOMP 1.0 (no NACK) or an ``auto`` subscription.
        """
        await self.subscription._hooks.acknowledge(self, True, transaction, receipt)

    @property
    def generation(self) -> int:
        """The number of the connection it arrived on (1 for the first, +1 per reconnect)."""
        return self._generation

    def __repr__(self) -> str:
        return f"<Message {self.message_id!r} from {self.destination!r}, {len(self.body)} bytes>"


class Subscription:
    """A live subscription; iterate it with ``async for``.

    Made by :meth:`Client.subscribe`; ``async with`` sends SUBSCRIBE on entry and
    UNSUBSCRIBE on exit.  Messages wait in a buffer of ``subscription_buffer`` entries;
    when it is full the client stops reading from the socket until the consumer catches
    up, which stalls every subscription of that connection (one TCP stream), so consume
    every subscription you open.  Keep the broker's prefetch (``activemq.prefetchSize``,
    RabbitMQ ``prefetch-count``) at or below the buffer size so it rarely fills.

    Iteration carries on across reconnects; it ends when the subscription or the client is
    closed, and raises the error if the client failed for good.

    Attributes:
        id: the subscription id (spec 1.2 "SUBSCRIBE id Header").
        destination: what it is subscribed to.
        ack: the ack mode: ``"auto"``, ``"client"`` or ``"client-individual"``.
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
        self._wakeup: asyncio.Future[None] | None = None
        self._active = False

    # ------------------------------------------------------------- context manager

    async def __aenter__(self) -> Subscription:
        if self._active or self.closed:
            raise RuntimeError("a Subscription can be entered only once")
        await self._hooks.subscribe(self, self._receipt)
        self._active = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Unsubscribe now, without waiting for a receipt (see :meth:`unsubscribe`)."""
        await self.unsubscribe()

    async def unsubscribe(self, *, receipt: bool = False) -> None:
        """UNSUBSCRIBE now (best effort if the connection is gone); iteration ends.

        Leaving the ``async with`` block does nothing more afterwards.

        Args:
            receipt: wait until the broker confirms the UNSUBSCRIBE.
        """
        if self.closed and not self._active:
            return
        self._close()
        if self._active:
            self._active = False
            await self._hooks.unsubscribe(self, receipt)

    @property
    def headers(self) -> Mapping[str, str]:
        """The extra SUBSCRIBE headers given."""
        return MappingProxyType(self._headers)

    @property
    def buffered(self) -> int:
        """Messages waiting in the buffer."""
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
        """Whether the subscription ended (unsubscribed, or the client closed)."""
        return self._backlog.ended

    # ------------------------------------------------------------- iteration

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        was_full = self.full
        while (message := self._backlog.poll()) is None:
            if self._wakeup is None or self._wakeup.done():
                self._wakeup = asyncio.get_running_loop().create_future()
            # A bare wake-up: the message stays in the buffer until polled, so a
            # consumer cancelled here loses nothing.
            await asyncio.shield(self._wakeup)
            was_full = self.full
        if was_full:
            self._hooks.room(self)  # back-pressure released
        return message

    async def get(self, timeout: float | None = None) -> Message:
        """The next message, waiting at most ``timeout`` seconds (``None``: no limit).

        Like ``anext(sub)`` but raising instead of stopping.

        Raises:
            TimeoutError: nothing arrived in time (the subscription carries on).
            ConnectionLost: the subscription is closed, or the client failed.
        """
        try:
            if timeout is None:
                return await self.__anext__()
            return await asyncio.wait_for(self.__anext__(), timeout)
        except StopAsyncIteration:
            raise ConnectionLost(f"subscription {self.id!r} is closed") from None

    # ------------------------------------------------------------- client side

    def _deliver(self, message: Message) -> None:
        self._backlog.put(message)
        self._wake()

    def _close(self, error: BaseException | None = None) -> None:
        """Stop the iteration: with ``error`` raised to consumers, or cleanly.  Messages
        already buffered stay readable; the iteration ends after them."""
        self._backlog.end(error)
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def __repr__(self) -> str:
        return f"<Subscription {self.id!r} to {self.destination!r} ack={self.ack}>"


def _body_size(message: Message) -> int:
    """What a buffered message weighs against ``subscription_buffer_bytes``."""
    return len(message.event.body)

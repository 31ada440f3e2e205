"""Messages and subscriptions: the core's bases, plus how a trio task waits and leaves."""

from __future__ import annotations

import trio

from stomp_core.client import MessageBase, SubscriptionBase

__all__ = ["Message", "Subscription"]


class Message(MessageBase["Subscription"]):
    """A MESSAGE delivered to a :class:`Subscription`; ``ack()`` and ``nack()`` answer it
    (see :class:`~stomp_core.client.MessageBase`)."""

    __slots__ = ()


class Subscription(SubscriptionBase[Message]):
    """A subscription, made by ``Client.subscribe()``: ``async with`` it, then
    ``async for message in sub`` (see :class:`~stomp_core.client.SubscriptionBase`).

    Leaving the block queues UNSUBSCRIBE without waiting (the connection's task writes
    it), so leaving never blocks and is safe under cancellation.
    """

    async def __aenter__(self) -> Subscription:
        if self._entered:
            raise RuntimeError("a Subscription can be entered only once")
        self._entered = True
        await self._hooks.subscribe(self, self._receipt)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._hooks.unsubscribe_soon(self)
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def unsubscribe(self, *, receipt: bool = False) -> None:
        """UNSUBSCRIBE now; buffered messages stay readable, then the iteration ends.

        Args:
            receipt: wait until the broker confirmed it (raising as a receipted send).
        """
        await self._hooks.unsubscribe(self, receipt)

    async def get(self) -> Message:
        """The next message; like ``anext(sub)`` but raising ``ConnectionLost`` (or the
        client's final error) instead of stopping.  Bound the wait the trio way:
        ``with trio.fail_after(5): await sub.get()``."""
        return await self._get()

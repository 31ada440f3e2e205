"""Messages and subscriptions: the core's bases, plus how an asyncio task waits and leaves."""

from __future__ import annotations

import asyncio

from stomp_core.client import MessageBase, SubscriptionBase

__all__ = ["Message", "Subscription"]


class Message(MessageBase["Subscription"]):
    """A MESSAGE delivered to a :class:`Subscription`; ``ack()`` and ``nack()`` answer it
    (see :class:`~stomp_core.client.MessageBase`)."""

    __slots__ = ()


class Subscription(SubscriptionBase[Message]):
    """A subscription, made by ``Client.subscribe()``: ``async with`` it, then
    ``async for message in sub`` (see :class:`~stomp_core.client.SubscriptionBase`).

    Leaving the block sends UNSUBSCRIBE (best effort if the connection is gone).
    """

    async def __aenter__(self) -> Subscription:
        if self._entered or self.closed:
            raise RuntimeError("a Subscription can be entered only once")
        await self._hooks.subscribe(self, self._receipt)
        self._entered = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def unsubscribe(self, *, receipt: bool = False) -> None:
        """UNSUBSCRIBE now; buffered messages stay readable, then the iteration ends.

        Args:
            receipt: wait until the broker confirmed it (raising as a receipted send).
        """
        if self.closed and not self._entered:
            return
        self._close()
        if self._entered:
            self._entered = False
            await self._hooks.unsubscribe(self, receipt)

    async def get(self, timeout: float | None = None) -> Message:
        """The next message; like ``anext(sub)`` but raising ``ConnectionLost`` (or the
        client's final error) instead of stopping, and ``TimeoutError`` when nothing
        came within ``timeout`` seconds (``None``: no limit)."""
        if timeout is None:
            return await self._get()
        return await asyncio.wait_for(self._get(), timeout)

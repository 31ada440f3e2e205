"""State-change observers: bounded async iterators fed by the client, and the
:class:`Signal` asyncio tasks wait on."""

from __future__ import annotations

import asyncio

from stomp_core.client import StateChangesBase

__all__ = ["Signal", "StateChanges"]


class Signal:
    """A wake-up: ``wait()`` returns after the next ``fire()``."""

    __slots__ = ("_waiter",)

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None

    def fire(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self) -> None:
        if self._waiter is None or self._waiter.done():
            self._waiter = asyncio.get_running_loop().create_future()
        # Shielded: a cancelled waiter must not cancel the future others wait on.
        await asyncio.shield(self._waiter)


class StateChanges(StateChangesBase):
    """An async iterator over a client's :class:`~stomp_asyncio.StateChange` reports, made
    by ``Client.state_changes()`` (see :class:`~stomp_core.client.StateChangesBase`)."""

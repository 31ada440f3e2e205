"""State-change observers: bounded async iterators fed by the client."""

from __future__ import annotations

import asyncio
from collections import deque

from stomp_core.client import StateChange

__all__ = ["StateChanges"]

#: Changes kept for an observer that does not keep up; the oldest are dropped first.
#: Lifecycle changes are rare, so only a stalled observer ever loses any.
BACKLOG = 256


class StateChanges:
    """An async iterator over a client's :class:`~stomp_core.client.StateChange` events.

    Made by ``Client.state_changes()``; iteration ends after the client reaches ``CLOSED``.
    """

    def __init__(self) -> None:
        self._changes: deque[StateChange] = deque(maxlen=BACKLOG)
        self._wakeup: asyncio.Future[None] | None = None
        self._closed = False

    def push(self, change: StateChange) -> None:
        """Record a change (called by the client)."""
        if not self._closed:
            self._changes.append(change)
            self._wake()

    def close(self) -> None:
        """No more changes will come (called by the client)."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def __aiter__(self) -> StateChanges:
        return self

    async def __anext__(self) -> StateChange:
        while True:
            if self._changes:
                return self._changes.popleft()
            if self._closed:
                raise StopAsyncIteration
            if self._wakeup is None or self._wakeup.done():
                self._wakeup = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._wakeup)

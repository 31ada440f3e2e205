"""State-change observers: bounded async iterators fed by the client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType

from stomp_core.client import Backlog, ClientState, StateChange

__all__ = ["StateChanges"]


class StateChanges:
    """An async iterator over a client's :class:`~stomp_asyncio.StateChange` reports.

    Made by :meth:`Client.state_changes`; it records every change from the moment it is
    made, keeps at most ``maxlen`` unread ones (dropping the oldest: lifecycle changes
    are rare, so only a stalled observer ever loses any), and ends after the change to
    ``CLOSED``.  Call :meth:`close` (or leave it as an ``async with`` block) to stop
    observing early.
    """

    def __init__(self, maxlen: int, detach: Callable[[StateChanges], None]) -> None:
        self._detach = detach
        self._backlog: Backlog[StateChange] = Backlog(maxlen, drop_oldest=True)
        self._wakeup: asyncio.Future[None] | None = None

    def push(self, change: StateChange) -> None:
        """Record a change (called by the client)."""
        self._backlog.put(change)
        self._wake()

    def close(self) -> None:
        """Stop observing; iteration ends once the queued changes are read."""
        self._backlog.end()
        self._detach(self)
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def __aenter__(self) -> StateChanges:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> StateChanges:
        return self

    async def __anext__(self) -> StateChange:
        while (change := self._backlog.poll()) is None:
            if self._wakeup is None or self._wakeup.done():
                self._wakeup = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._wakeup)
        if change.state is ClientState.CLOSED:
            self.close()
        return change

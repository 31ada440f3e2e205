"""State-change observers: bounded async iterators fed by the client."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from types import TracebackType

import trio

from stomp_core.client import ClientState, StateChange

__all__ = ["Signal", "StateChanges"]


class Signal:
    """A level-reset wake-up: ``wait()`` blocks until the next ``fire()``."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = trio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = trio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class StateChanges:
    """An async iterator over a client's :class:`~stomp_trio.StateChange` reports.

    Made by :meth:`Client.state_changes`; it records every change from the moment it is
    made (not from the first ``anext``), keeps at most ``maxlen`` unread ones (dropping the
    oldest), and ends after the change to ``CLOSED``.  Call :meth:`close` (or leave it as
    an ``async with`` block) to stop observing early.
    """

    def __init__(self, maxlen: int, detach: Callable[[StateChanges], None]) -> None:
        self._detach = detach
        self._queue: deque[StateChange] = deque(maxlen=maxlen)
        self._signal = Signal()
        self._finished = False

    def push(self, change: StateChange) -> None:
        """Record a change (called by the client)."""
        if self._finished:
            return
        self._queue.append(change)
        self._signal.fire()

    def close(self) -> None:
        """Stop observing; iteration ends once the queued changes are read."""
        self._finished = True
        self._detach(self)
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

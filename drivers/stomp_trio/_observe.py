"""State-change observers: bounded async iterators fed by the client."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

import trio

from stomp_core.client import Backlog, ClientState, StateChange

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
    made, keeps at most ``maxlen`` unread ones (dropping the oldest: lifecycle changes
    are rare, so only a stalled observer ever loses any), and ends after the change to
    ``CLOSED``.  Call :meth:`close` (or leave it as an ``async with`` block) to stop
    observing early.
    """

    def __init__(self, maxlen: int, detach: Callable[[StateChanges], None]) -> None:
        self._detach = detach
        self._backlog: Backlog[StateChange] = Backlog(maxlen, drop_oldest=True)
        self._signal = Signal()

    def push(self, change: StateChange) -> None:
        """Record a change (called by the client)."""
        self._backlog.put(change)
        self._signal.fire()

    def close(self) -> None:
        """Stop observing; iteration ends once the queued changes are read."""
        self._backlog.end()
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
        while (change := self._backlog.poll()) is None:
            await self._signal.wait()
        if change.state is ClientState.CLOSED:
            self.close()
        return change

"""State-change observers: bounded async iterators fed by the client, and the
:class:`Signal` trio tasks wait on."""

from __future__ import annotations

import trio

from stomp_core.client import StateChange, StateChangesBase

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


class StateChanges(StateChangesBase):
    """An async iterator over a client's :class:`~stomp_trio.StateChange` reports, made by
    ``Client.state_changes()`` (see :class:`~stomp_core.client.StateChangesBase`)."""

    async def __aenter__(self) -> StateChanges:
        await trio.lowlevel.checkpoint()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await trio.lowlevel.cancel_shielded_checkpoint()

    async def __anext__(self) -> StateChange:
        await trio.lowlevel.checkpoint()
        return await super().__anext__()

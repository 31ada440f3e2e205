"""Transactions (spec 1.2 "BEGIN"): the core's base, plus how a trio task leaves the block."""

from __future__ import annotations

import trio

from stomp_core.client import ExitAction, TransactionBase

__all__ = ["Transaction"]


class Transaction(TransactionBase):
    """A STOMP transaction, made by ``Client.transaction()`` (see
    :class:`~stomp_core.client.TransactionBase`).

    Leaving the block with an exception queues ABORT (written by the connection's task),
    so leaving never blocks.
    """

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        action = self._exit_action(exc)
        if action is ExitAction.COMMIT:
            await self.commit()
        elif action is ExitAction.ABORT:
            self._abort_soon()
            await trio.lowlevel.cancel_shielded_checkpoint()
        else:
            await trio.lowlevel.checkpoint()

"""Transactions (spec 1.2 "BEGIN"): the core's base, plus how an asyncio task leaves the block."""

from __future__ import annotations

import asyncio
import logging

from stomp_core import LocalProtocolError
from stomp_core.client import ExitAction, StompError, TransactionBase

__all__ = ["Transaction"]

log = logging.getLogger("stomp_asyncio")


class Transaction(TransactionBase):
    """A STOMP transaction, made by ``Client.transaction()`` (see
    :class:`~stomp_core.client.TransactionBase`).

    Leaving the block with an exception sends ABORT, waiting at most
    ``receipt_timeout``; a failing ABORT is only logged.
    """

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        action = self._exit_action(exc)
        if action is ExitAction.COMMIT:
            await self.commit()
        elif action is ExitAction.ABORT:
            try:
                await asyncio.wait_for(self.abort(), self._session.options.receipt_timeout)
            except (StompError, LocalProtocolError, asyncio.TimeoutError) as abort_error:
                # The block's exception is the one to report; a transaction left open by
                # a failed ABORT ends with its connection (spec 1.2 "BEGIN").
                log.debug("ABORT of %s failed: %s", self.id, abort_error)

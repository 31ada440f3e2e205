"""Transactions (spec 1.2 "BEGIN", "COMMIT", "ABORT").

Which call is legal when, and what is raised otherwise, is decided by
:class:`stomp_core.client.TransactionState`, shared with ``stomp_trio``; this module
only sends the frames.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from stomp_core import Abort, Begin, Commit, LocalProtocolError
from stomp_core.client import (
    ClientHooks,
    ClientSession,
    ConnectionLost,
    ExitAction,
    StompError,
    TransactionState,
    send_builder,
)

__all__ = ["Transaction"]

log = logging.getLogger("stomp_asyncio")


class Transaction:
    """A STOMP transaction (spec 1.2 "BEGIN"), made by :meth:`Client.transaction`.

    Use ``async with client.transaction() as tx``: entering sends BEGIN; leaving normally
    sends COMMIT and waits for its RECEIPT (``receipt_timeout``); leaving with an exception
    sends ABORT and lets that exception through unchanged (a failing ABORT is only
    logged).  :meth:`begin`, :meth:`commit` and :meth:`abort` do the same steps by hand; a
    block in which :meth:`commit` or :meth:`abort` was called sends nothing on leaving.

    The rules are :class:`stomp_core.client.TransactionState`'s, the same in both async
    drivers: misuse (a second :meth:`begin`, a call on a transaction not open) raises
    :class:`RuntimeError` and sends nothing; once the connection it began on drops, the
    broker has aborted it (conformance 100) and it stays dead: :meth:`send`, :meth:`ack`,
    :meth:`nack` and :meth:`commit` raise ``ConnectionLost``, :meth:`abort` does nothing.
    :meth:`commit` and :meth:`abort` end it when called, whatever becomes of their frame.

    Attributes:
        id: the transaction id.
    """

    def __init__(
        self,
        id: str,
        *,
        session: ClientSession[Any, Any],
        hooks: ClientHooks[Any, Any, Transaction],
        receipt_timeout: float,
    ) -> None:
        self.id = id
        self._session = session
        self._hooks = hooks
        self._receipt_timeout = receipt_timeout
        self._state = TransactionState(id)
        self._generation: int | None = None  # the connection BEGIN went out on

    # -- called by the client --------------------------------------------------------

    def _check(self) -> None:
        """Raise unless a SEND, ACK or NACK may go within the transaction now."""
        self._note_loss()
        self._state.check_use()

    def _note_loss(self) -> None:
        if self._generation is not None:
            self._session.note_loss(self._state, generation=self._generation)

    # -- the user's calls -------------------------------------------------------------

    async def begin(self) -> None:
        """Send BEGIN (``async with`` does it for you).

        Raises:
            RuntimeError: it was begun before.
            ConnectionLost: not connected (within ``connect_timeout``), or the connection
                dropped before BEGIN was written; the transaction was not begun.
        """
        self._state.begin()
        try:
            generation = await self._hooks.send(lambda rid: Begin(transaction=self.id), False, None)
        except BaseException:
            self._state.begin_failed()
            raise
        self._generation = generation
        # Also notes a loss right after the write: the broker aborted it already.
        self._session.transaction_begun(self._state, generation=generation)

    async def commit(self) -> None:
        """Send COMMIT and wait for the broker's RECEIPT (``receipt_timeout``).

        Raises:
            RuntimeError: it is not open (never begun, already committed or aborted).
            ConnectionLost: the connection dropped since BEGIN: the broker aborted it.
            ReceiptTimeout, BrokerError: as for a receipted send.
        """
        self._note_loss()
        self._state.commit()
        self._session.transaction_ended(self._state)
        await self._hooks.send(
            lambda rid: Commit(transaction=self.id, receipt=rid), True, self._generation
        )

    async def abort(self, *, receipt: bool = False) -> None:
        """Send ABORT.  Aborting a transaction whose connection dropped does nothing: the
        broker already aborted it (conformance 100).  For the same reason a connection
        that drops while ABORT is sent or confirmed raises nothing.

        Args:
            receipt: wait until the broker confirms the ABORT.

        Raises:
            RuntimeError: it is not open (never begun, already committed or aborted).
            ReceiptTimeout, BrokerError: as for a receipted send.
        """
        self._note_loss()
        if not self._state.abort():
            return
        self._session.transaction_ended(self._state)
        try:
            await self._hooks.send(
                lambda rid: Abort(transaction=self.id, receipt=rid), receipt, self._generation
            )
        except ConnectionLost:
            # Dropped before ABORT was written or confirmed: the broker aborted it anyway.
            log.debug("connection lost while aborting %s: the broker aborts it", self.id)

    async def send(
        self,
        destination: str,
        body: bytes | str = b"",
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        receipt: bool = False,
    ) -> None:
        """SEND within the transaction (delivered at COMMIT); see :meth:`Client.send`.

        Raises:
            RuntimeError: it is not open (never begun, already committed or aborted).
            ConnectionLost: the connection dropped since BEGIN: the broker aborted it.
        """
        self._check()
        await self._hooks.send(
            send_builder(
                destination,
                body,
                content_type=content_type,
                headers=headers,
                transaction=self.id,
            ),
            receipt,
            self._generation,
        )

    async def ack(self, message: Any, *, receipt: bool = False) -> None:
        """ACK within the transaction (takes effect at COMMIT, conformance 99)."""
        await self._hooks.acknowledge(message, False, self, receipt)

    async def nack(self, message: Any, *, receipt: bool = False) -> None:
        """NACK within the transaction (1.1+)."""
        await self._hooks.acknowledge(message, True, self, receipt)

    def __repr__(self) -> str:
        return f"<Transaction {self.id!r} {self._state.phase.value}>"

    async def __aenter__(self) -> Transaction:
        await self.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._note_loss()
        action = self._state.exit_action(raised=exc is not None)
        if action is ExitAction.COMMIT:
            await self.commit()
        elif action is ExitAction.ABORT:
            try:
                await asyncio.wait_for(self.abort(), self._receipt_timeout)
            except (StompError, LocalProtocolError, asyncio.TimeoutError) as abort_error:
                # The block's exception is the one to report; a transaction left open by
                # a failed ABORT ends with its connection (spec 1.2 "BEGIN").
                log.debug("ABORT of %s failed: %s", self.id, abort_error)

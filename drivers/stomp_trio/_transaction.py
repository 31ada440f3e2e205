"""Transactions (spec 1.2 "BEGIN", "COMMIT", "ABORT").

Which call is legal when, and what is raised otherwise, is decided by
:class:`stomp_core.client.TransactionState`, shared with ``stomp_asyncio``; which
connection it lives on and when it is lost, by the client's
:class:`~stomp_core.client.ClientSession`.  This module only sends the frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import trio

from stomp_core import Abort, Begin, Commit
from stomp_core.client import (
    ClientHooks,
    ClientSession,
    ConnectionLost,
    ExitAction,
    TransactionState,
    send_builder,
)

__all__ = ["Transaction"]


class Transaction:
    """A STOMP transaction (spec 1.2 "BEGIN"), made by :meth:`Client.transaction`.

    Use ``async with client.transaction() as tx``: entering sends BEGIN; leaving normally
    sends COMMIT and waits for its RECEIPT (``receipt_timeout``); leaving with an exception
    queues ABORT (written by the connection's task, so leaving never blocks) and lets that
    exception through unchanged.  :meth:`begin`, :meth:`commit` and :meth:`abort` do the
    same steps by hand; a block in which :meth:`commit` or :meth:`abort` was called sends
    nothing on leaving.  Frames sent through it carry its ``transaction`` header.

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
    ) -> None:
        self.id = id
        self._session = session
        self._hooks = hooks
        self._state = TransactionState(id)
        self._generation: int | None = None  # the connection BEGIN went out on

    async def __aenter__(self) -> Transaction:
        await self.begin()
        return self

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
            self._abort_soon()
            await trio.lowlevel.cancel_shielded_checkpoint()
        else:
            await trio.lowlevel.checkpoint()

    async def commit(self) -> None:
        """COMMIT now and wait for its RECEIPT (leaving the block then does nothing).

        Raises:
            RuntimeError: it is not open (never begun, already committed or aborted).
            ConnectionLost: the connection dropped since BEGIN: the broker aborted it.
            BrokerError, ReceiptTimeout: as for a receipted send.
        """
        self._note_loss()
        self._state.commit()
        self._session.transaction_ended(self._state)
        await self._hooks.send(
            lambda rid: Commit(transaction=self.id, receipt=rid), True, self._generation
        )

    async def abort(self, *, receipt: bool = False) -> None:
        """ABORT now (leaving the block then does nothing).

        Aborting a transaction whose connection dropped does nothing: the broker already
        aborted it (conformance 100).  For the same reason a connection that drops while
        ABORT is sent or confirmed raises nothing.

        Args:
            receipt: wait until the broker confirmed the ABORT.

        Raises:
            RuntimeError: it is not open (never begun, already committed or aborted).
            BrokerError, ReceiptTimeout: as for a receipted send.
        """
        if not self._record_abort():
            await trio.lowlevel.checkpoint()
            return
        try:
            await self._hooks.send(
                lambda rid: Abort(transaction=self.id, receipt=rid), receipt, self._generation
            )
        except ConnectionLost:
            pass  # dropped before ABORT was written or confirmed: the broker aborts it
        except trio.Cancelled:
            # Cancelled before it was written (the core still has it open): abort in
            # the background instead.
            self._abort_soon(recorded=True)
            raise

    async def send(
        self,
        destination: str,
        body: bytes | str = b"",
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        receipt: bool = False,
    ) -> None:
        """SEND within this transaction (delivered at COMMIT); see :meth:`Client.send`.

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
        """ACK ``message`` within this transaction (takes effect at COMMIT)."""
        await self._hooks.acknowledge(message, False, self, receipt)

    async def nack(self, message: Any, *, receipt: bool = False) -> None:
        """NACK ``message`` within this transaction (1.1+)."""
        await self._hooks.acknowledge(message, True, self, receipt)

    def __repr__(self) -> str:
        return f"<Transaction {self.id!r} {self._state.phase.value}>"

    # -- called by the client and by ourselves -----------------------------------------

    def _check(self) -> None:
        """Raise unless a SEND, ACK or NACK may go within the transaction now."""
        self._note_loss()
        self._state.check_use()

    def _note_loss(self) -> None:
        if self._generation is not None:
            self._session.note_loss(self._state, generation=self._generation)

    def _record_abort(self) -> bool:
        """Record the ABORT (raising on misuse); whether a frame must go."""
        self._note_loss()
        if not self._state.abort():
            return False  # the broker aborted it with the connection
        self._session.transaction_ended(self._state)
        return True

    def _abort_soon(self, *, recorded: bool = False) -> None:
        """Queue ABORT, written by a background task: leaving never blocks."""
        if (recorded or self._record_abort()) and self._generation is not None:
            self._hooks.queue(Abort(transaction=self.id), self._generation)

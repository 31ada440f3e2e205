"""Transactions (spec 1.2 "BEGIN"/"COMMIT"/"ABORT"): BEGIN on entering ``async with``,
COMMIT confirmed by a RECEIPT on a normal exit, ABORT on an exception.

Which call is legal when, and what is raised otherwise, is decided by
:class:`stomp_core.client.TransactionState`, shared with ``stomp_asyncio``; this
module only sends the frames.  A transaction lives on the link it began on
(``Link.transactions``); frames go through the client's send path
(``Client._send_event``), which serialises access to the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

import trio

import stomp_core
from stomp_core.client import ConnectionLost, ExitAction, TransactionState

if TYPE_CHECKING:
    from ._connection import Client
    from ._link import Link
    from ._subscription import Message

__all__ = ["Transaction"]


class Transaction:
    """A STOMP transaction (spec 1.2 "BEGIN"), made by :meth:`Client.transaction`.

    Use ``async with client.transaction() as tx``: entering sends BEGIN; leaving normally
    sends COMMIT and waits for its RECEIPT (``receipt_timeout``); leaving with an exception
    queues ABORT (written by the connection's task, so leaving never blocks) and lets that
    exception through unchanged.  :meth:`begin`, :meth:`commit` and :meth:`abort` do the
    same steps by hand; a block in which :meth:`commit` or :meth:`abort` was called sends
    nothing on leaving.  Frames sent through it carry its ``transaction`` header.

    Semantics, the same as ``stomp_asyncio.Transaction``:

    * Misuse raises :class:`RuntimeError` and sends nothing: :meth:`begin` a second time
      (also once the connection it began on dropped), or :meth:`send`, :meth:`ack`,
      :meth:`nack`, :meth:`commit` or :meth:`abort` on a transaction never begun or
      already committed or aborted.  If :meth:`begin` itself raised, the transaction was
      not begun and :meth:`begin` may be called again.
    * A transaction lives on the connection it began on.  When that connection drops,
      the broker aborts it (spec 1.2 "BEGIN"; conformance 100) and it stays dead, even
      after the client reconnected (it is never replayed): :meth:`send`, :meth:`ack`,
      :meth:`nack`, :meth:`commit` (and so leaving the block normally) raise
      :class:`~stomp_trio.ConnectionLost`, every time; :meth:`abort` does nothing;
      leaving the block with an exception sends nothing.
    * :meth:`commit` and :meth:`abort` end the transaction when called, even if sending
      the frame or awaiting the RECEIPT then fails.  :meth:`abort` never raises
      :class:`~stomp_trio.ConnectionLost`: whenever the connection drops, the
      transaction is aborted.

    Attributes:
        id: the transaction id.
    """

    def __init__(self, client: Client, id: str) -> None:
        self._client = client
        self.id = id
        self._state = TransactionState(id)
        self._link: Link | None = None  # the link BEGIN went out on

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
        client = self._client
        try:
            link = await client._current_link()
            await client._send_event(stomp_core.Begin(transaction=self.id), link=link)
        except BaseException:
            self._state.begin_failed()
            raise
        self._link = link
        link.transactions[self.id] = self
        self._state.begun()
        self._note_loss()  # dropped right after the write: the broker aborted it already

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
        link = self._link
        assert link is not None  # set when BEGIN went out
        link.transactions.pop(self.id, None)
        client = self._client
        event = stomp_core.Commit(transaction=self.id, receipt=client._receipt(True))
        await client._send_event(event, link=link, wait_receipt=True)

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
        link = self._record_abort()
        if link is None:
            await trio.lowlevel.checkpoint()
            return
        client = self._client
        event = stomp_core.Abort(transaction=self.id, receipt=client._receipt(receipt))
        try:
            await client._send_event(event, link=link, wait_receipt=receipt)
        except ConnectionLost:
            pass  # dropped before ABORT was written or confirmed: the broker aborts it
        except trio.Cancelled:
            if link.usable and self.id in link.core.transactions:
                # Cancelled before it was written: abort in the background instead.
                self._abort_soon(link)
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
        await self._client._send_message(
            destination,
            body,
            content_type=content_type,
            headers=headers,
            transaction=self,
            receipt=receipt,
        )

    async def ack(self, message: Message, *, receipt: bool = False) -> None:
        """ACK ``message`` within this transaction (takes effect at COMMIT)."""
        await message.ack(transaction=self, receipt=receipt)

    async def nack(self, message: Message, *, receipt: bool = False) -> None:
        """NACK ``message`` within this transaction (1.1+)."""
        await message.nack(transaction=self, receipt=receipt)

    def __repr__(self) -> str:
        return f"<Transaction {self.id!r} {self._state.phase.value}>"

    # -- called by the client and by ourselves -----------------------------------------

    def _lost(self, cause: BaseException | None) -> None:
        """Its link ended: the broker aborted the transaction (conformance 100)."""
        self._state.lost(cause)

    def _note_loss(self) -> None:
        # The client fails the transactions of an ended link when its task gets to it;
        # report the loss now so that the outcome of a call does not depend on timing.
        link = self._link
        if link is not None and not link.usable:
            self._state.lost(link.reason)

    def _open_link(self) -> Link:
        """The link to send a SEND, ACK or NACK of the transaction on.

        Raises:
            RuntimeError: it is not open (never begun, already committed or aborted).
            ConnectionLost: the connection dropped since BEGIN: the broker aborted it.
        """
        self._note_loss()
        self._state.check_use()
        assert self._link is not None  # set when BEGIN went out
        return self._link

    def _record_abort(self) -> Link | None:
        """Record the ABORT (raising on misuse); the link on which it must go, if any."""
        self._note_loss()
        if not self._state.abort():
            return None  # the broker aborted it with the connection
        link = self._link
        assert link is not None  # set when BEGIN went out
        link.transactions.pop(self.id, None)
        if link.usable and self.id in link.core.transactions:
            return link
        return None

    def _abort_soon(self, link: Link | None = None) -> None:
        """Queue ABORT, written by a background task: leaving never blocks."""
        if link is None:
            link = self._record_abort()
            if link is None:
                return
        event = stomp_core.Abort(transaction=self.id)
        link.queue(event)
        self._client._registry.record(event)
        self._client._spawn_flush(link)

"""Transactions (spec 1.2 "BEGIN"/"COMMIT"/"ABORT"): BEGIN on entering ``async with``,
COMMIT confirmed by a RECEIPT on a normal exit, ABORT on an exception.

A transaction lives on the connection it began on: the broker aborts it when that
connection is lost (conformance 100), after which every use raises
:class:`~stomp_trio.ConnectionLost`.  Frames go through the client's send path
(``Client._send_event``), which serialises access to the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

import trio

import stomp_core
from stomp_core._client import ConnectionLost

if TYPE_CHECKING:
    from ._connection import Client
    from ._link import Link
    from ._subscription import Message

__all__ = ["Transaction"]


class Transaction:
    """An open transaction, made by :meth:`Client.transaction`.

    Frames sent through it carry its ``transaction`` header.  Leaving the ``async with``
    block normally sends COMMIT and waits for its RECEIPT; leaving it with an exception
    sends ABORT.  If the connection drops meanwhile, the broker has aborted the
    transaction (conformance 100): every later use raises
    :class:`~stomp_trio.ConnectionLost`, and so does the commit.

    Attributes:
        id: the transaction id.
    """

    def __init__(self, client: Client, id: str) -> None:
        self._client = client
        self.id = id
        self._link: Link | None = None
        self._error: BaseException | None = None
        self._entered = False
        self._finished = False

    async def __aenter__(self) -> Transaction:
        await self.begin()
        return self

    async def begin(self) -> None:
        """Send BEGIN (``async with`` does it for you)."""
        if self._entered:
            raise RuntimeError(f"transaction {self.id!r} was already begun")
        self._entered = True
        client = self._client
        link = await client._current_link()
        await client._send_event(stomp_core.Begin(transaction=self.id), link=link)
        self._link = link
        link.transactions[self.id] = self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._finished:
            await trio.lowlevel.checkpoint()
        elif exc is None:
            await self.commit()
        else:
            self._abort_soon()
            await trio.lowlevel.cancel_shielded_checkpoint()

    async def commit(self) -> None:
        """COMMIT now and wait for its RECEIPT (leaving the block then does nothing).

        Raises:
            ConnectionLost: the connection dropped since BEGIN: the broker aborted it.
            BrokerError, ReceiptTimeout: as for a receipted send.
        """
        link = self._open_link()
        self._finished = True
        link.transactions.pop(self.id, None)
        client = self._client
        event = stomp_core.Commit(transaction=self.id, receipt=client._receipt(True))
        self._error = ConnectionLost(f"transaction {self.id!r} is finished")
        await client._send_event(event, link=link, wait_receipt=True)

    async def abort(self, *, receipt: bool = False) -> None:
        """ABORT now (leaving the block then does nothing).

        Aborting a transaction whose connection dropped does nothing: the broker
        already aborted it.

        Args:
            receipt: wait until the broker confirmed the ABORT.
        """
        link = self._close()
        if link is None:
            await trio.lowlevel.checkpoint()
            return
        client = self._client
        event = stomp_core.Abort(transaction=self.id, receipt=client._receipt(receipt))
        try:
            await client._send_event(event, link=link, wait_receipt=receipt)
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
        """SEND within this transaction; see :meth:`Client.send`."""
        await self._client._send_message(
            destination,
            body,
            content_type=content_type,
            headers=headers,
            transaction=self,
            receipt=receipt,
        )

    async def ack(self, message: Message, *, receipt: bool = False) -> None:
        """ACK ``message`` within this transaction."""
        await message.ack(transaction=self, receipt=receipt)

    async def nack(self, message: Message, *, receipt: bool = False) -> None:
        """NACK ``message`` within this transaction (1.1+)."""
        await message.nack(transaction=self, receipt=receipt)

    def __repr__(self) -> str:
        return f"<Transaction {self.id!r}{' failed' if self._error else ''}>"

    # -- called by the client and by ourselves -----------------------------------------

    def _open_link(self) -> Link:
        """The link the transaction lives on.

        Raises:
            ConnectionLost: it is finished, or the broker aborted it (connection lost).
            RuntimeError: it was never begun.
        """
        if self._error is not None:
            raise self._error
        if self._link is None:
            raise RuntimeError(f"transaction {self.id!r} is not open (use it in 'async with')")
        return self._link

    def _close(self) -> Link | None:
        """Mark it finished; the link on which ABORT must go, if any."""
        link = self._link
        self._finished = True
        if self._error is not None or link is None:
            return None
        self._error = ConnectionLost(f"transaction {self.id!r} was aborted")
        link.transactions.pop(self.id, None)
        if link.usable and self.id in link.core.transactions:
            return link
        return None

    def _abort_soon(self, link: Link | None = None) -> None:
        """Queue ABORT, written by a background task: leaving never blocks."""
        if link is None:
            link = self._close()
            if link is None:
                return
        event = stomp_core.Abort(transaction=self.id)
        link.queue(event)
        self._client._registry.record(event)
        self._client._spawn_flush(link)

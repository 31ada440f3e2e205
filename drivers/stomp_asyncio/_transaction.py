"""Transactions (spec 1.2 "BEGIN", "COMMIT", "ABORT")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from stomp_core import Abort, Begin, Commit
from stomp_core._client import ConnectionLost, StompError

if TYPE_CHECKING:
    from ._client import Client
    from ._subscription import Message

__all__ = ["Transaction"]

log = logging.getLogger("stomp_asyncio")


class Transaction:
    """A STOMP transaction (spec 1.2 "BEGIN").

    Use ``async with client.transaction() as tx``, or call :meth:`begin`, :meth:`commit`
    and :meth:`abort` yourself.  If the connection drops, the broker aborts the
    transaction (conformance 100): every later call raises :class:`ConnectionLost`, and so
    does the commit on leaving the block.

    Attributes:
        id: the transaction id.
    """

    def __init__(self, client: Client, id: str) -> None:
        self._client = client
        self.id = id
        self._open = False
        self._done = False
        self._lost_error: ConnectionLost | None = None

    def _check(self) -> None:
        if self._lost_error is not None:
            raise self._lost_error
        if not self._open:
            raise RuntimeError(f"transaction {self.id!r} is not open")

    def _lost(self, error: ConnectionLost) -> None:
        self._lost_error = error

    async def begin(self) -> None:
        """Send BEGIN."""
        if self._open or self._done:
            raise RuntimeError(f"transaction {self.id!r} was already begun")
        self._client._transactions[self.id] = self
        try:
            await self._client._send(lambda rid: Begin(transaction=self.id), receipt=False)
        except BaseException:
            self._client._transactions.pop(self.id, None)
            raise
        self._open = True

    async def commit(self) -> None:
        """Send COMMIT and wait for the broker's RECEIPT (``receipt_timeout``)."""
        self._check()
        self._open, self._done = False, True
        self._client._transactions.pop(self.id, None)
        await self._client._send(lambda rid: Commit(transaction=self.id, receipt=rid), receipt=True)

    async def abort(self, *, receipt: bool = False) -> None:
        """Send ABORT.  Aborting a transaction whose connection dropped does nothing: the
        broker already aborted it (conformance 100).

        Args:
            receipt: wait until the broker confirms the ABORT.
        """
        if self._lost_error is not None:
            self._open, self._done = False, True
            return
        self._check()
        self._open, self._done = False, True
        self._client._transactions.pop(self.id, None)
        await self._client._send(
            lambda rid: Abort(transaction=self.id, receipt=rid), receipt=receipt
        )

    async def send(
        self,
        destination: str,
        body: bytes | str = b"",
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        receipt: bool = False,
    ) -> None:
        """SEND within the transaction (delivered at COMMIT)."""
        self._check()
        await self._client.send(
            destination,
            body,
            content_type=content_type,
            headers=headers,
            transaction=self.id,
            receipt=receipt,
        )

    async def ack(self, message: Message, *, receipt: bool = False) -> None:
        """ACK within the transaction (takes effect at COMMIT, conformance 99)."""
        self._check()
        await message.ack(transaction=self.id, receipt=receipt)

    async def nack(self, message: Message, *, receipt: bool = False) -> None:
        """NACK within the transaction (1.1+)."""
        self._check()
        await message.nack(transaction=self.id, receipt=receipt)

    def __repr__(self) -> str:
        state = "lost" if self._lost_error else "open" if self._open else "closed"
        return f"<Transaction {self.id!r} {state}>"

    async def __aenter__(self) -> Transaction:
        await self.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._done:
            return
        if exc is None:
            await self.commit()
            return
        if self._lost_error is not None or not self._open:
            return
        try:
            await asyncio.wait_for(self.abort(), self._client._options.receipt_timeout)
        except (StompError, asyncio.TimeoutError) as abort_error:
            log.debug("ABORT of %s failed: %s", self.id, abort_error)

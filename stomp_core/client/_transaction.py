"""The life of one client-side transaction, shared by the async drivers.

``stomp_asyncio.Transaction`` and ``stomp_trio.Transaction`` send the frames;
:class:`TransactionState` decides, without any I/O, whether a call is legal now and which
exception the user sees when it is not, so that both drivers behave alike by construction.

The transitions (the rules below say what every other call does: most are refused, a few
change nothing)::

    NEW        --begin()-------->  BEGINNING
    BEGINNING  --begun()-------->  OPEN
    BEGINNING  --begin_failed()->  NEW
    BEGINNING  --lost()--------->  LOST       (begun() then leaves it LOST,
    OPEN       --lost()--------->  LOST        begin_failed() makes it NEW)
    OPEN       --commit()------->  COMMITTED
    OPEN       --abort()-------->  ABORTED

The rules, and where they come from:

* A transaction is begun once.  ``begin()`` in any phase but ``NEW`` is the caller's
  mistake (:class:`RuntimeError`), as are ``send``/``commit``/``abort`` before it is
  open and after it was committed or aborted.  Such a frame names a transaction the
  broker does not know: it would answer ERROR, after which it closes the whole connection
  (spec 1.2 "ERROR"), so the mistake is caught here, before anything is sent.
* When the connection drops, the broker aborts every transaction begun on it (spec 1.2
  "BEGIN": "any started transactions which have not been committed will be implicitly
  aborted"; conformance item 100).  The transaction is then ``LOST`` for good: a
  reconnection opens a new session that never heard of it, and replaying BEGIN would commit
  half of it.  ``send``/``ack``/``nack`` and ``commit`` raise
  :class:`~stomp_core.client.ConnectionLost`, ``abort`` does nothing (what it asks for has
  happened) and leaving ``async with`` because of an exception sends nothing.
* ``commit()`` and ``abort()`` finish the transaction as soon as they are called, before
  their frame is written: whether or not the write or the RECEIPT then fails, the outcome
  is the broker's to decide and a second COMMIT or ABORT could only be refused.
* ``begin_failed()``: sending BEGIN raised, so as far as the driver knows nothing is open
  on the broker (the frame was not written, or the connection broke) and ``begin()`` may
  be tried again.  A loss reported while
  BEGIN was in flight is forgotten then; if BEGIN went out (``begun()``), it leaves the
  transaction ``LOST``.

The drivers call :meth:`TransactionState.lost` for every transaction registered on a
connection when that connection ends, and before each call they report a loss they can
already see (the connection ended, its clean-up has not run yet), so that the outcome of a
call does not depend on when the driver's background task gets to run.  A driver that
registers a transaction before its BEGIN is written may report a loss in ``BEGINNING``.
"""

from __future__ import annotations

import enum

from ._errors import connection_lost

__all__ = ["ExitAction", "Phase", "TransactionState"]


class Phase(enum.Enum):
    """Where a transaction is in its life (see the module docstring)."""

    NEW = "new"
    """Made; BEGIN not sent yet."""
    BEGINNING = "beginning"
    """BEGIN is being sent."""
    OPEN = "open"
    """BEGIN was sent on a connection that is still up."""
    COMMITTED = "committed"
    """COMMIT was (being) sent."""
    ABORTED = "aborted"
    """ABORT was (being) sent, or needed no frame."""
    LOST = "lost"
    """The connection it began on dropped: the broker aborted it."""


class ExitAction(enum.Enum):
    """What leaving ``async with`` must do."""

    COMMIT = "commit"
    ABORT = "abort"
    NOTHING = "nothing"


#: Phases in which BEGIN is on its way or was sent on a connection still up: a loss of
#: that connection aborts the transaction.
_LIVE = frozenset({Phase.BEGINNING, Phase.OPEN})


class TransactionState:
    """Checks and records the calls made on one transaction.

    Each user-facing method either records the call (and returns) or raises without
    changing anything, so that a refused call leaves the transaction as it was.

    Args:
        id: the transaction id, quoted in error messages.

    Attributes:
        id: the transaction id.
        phase: the current :class:`Phase`.
    """

    __slots__ = ("_cause", "id", "phase")

    def __init__(self, id: str) -> None:
        self.id = id
        self.phase = Phase.NEW
        self._cause: BaseException | None = None

    def __repr__(self) -> str:
        return f"<TransactionState {self.id!r} {self.phase.value}>"

    # -- the driver's reports ------------------------------------------------------------

    def begin(self) -> None:
        """``begin()`` was called: the driver is about to send BEGIN.

        Raises:
            RuntimeError: it was begun before (whatever became of it since).
        """
        if self.phase is not Phase.NEW:
            raise RuntimeError(f"transaction {self.id!r} was already begun ({self.phase.value})")
        self.phase = Phase.BEGINNING

    def begun(self) -> None:
        """BEGIN was written: the transaction is open (or lost, if the connection dropped
        while it was being written)."""
        if self.phase is Phase.BEGINNING:
            self.phase = Phase.OPEN

    def begin_failed(self) -> None:
        """Sending BEGIN raised: nothing is open on the broker; ``begin()`` may be retried."""
        self.phase = Phase.NEW
        self._cause = None

    def lost(self, cause: BaseException | None) -> None:
        """The connection the transaction began on dropped (spec 1.2 "BEGIN": the broker
        implicitly aborts it).  Nothing changes for a transaction not begun or finished.

        Args:
            cause: why the connection dropped, chained to the errors raised later.
        """
        if self.phase in _LIVE:
            self.phase = Phase.LOST
            self._cause = cause

    # -- the user's calls ----------------------------------------------------------------

    def check_use(self) -> None:
        """May a SEND, ACK or NACK be sent within the transaction now?

        Raises:
            ConnectionLost: the connection dropped since BEGIN: the broker aborted it.
            RuntimeError: it is not open (never begun, or already committed or aborted).
        """
        if self.phase is not Phase.OPEN:
            raise self._refusal()

    def commit(self) -> None:
        """``commit()`` was called: record it before COMMIT is sent.

        Raises:
            ConnectionLost: the connection dropped since BEGIN: the broker aborted it.
            RuntimeError: it is not open (never begun, or already committed or aborted).
        """
        self.check_use()
        self.phase = Phase.COMMITTED

    def abort(self) -> bool:
        """``abort()`` was called: record it before ABORT is sent.

        Returns:
            Whether ABORT is to be sent (``False`` when the connection dropped, the
            broker having aborted the transaction already).

        Raises:
            RuntimeError: it is not open (never begun, or already committed or aborted).
        """
        if self.phase is Phase.LOST:
            return False
        self.check_use()
        self.phase = Phase.ABORTED
        return True

    def exit_action(self, *, raised: bool) -> ExitAction:
        """What leaving ``async with`` must do.

        Leaving normally commits (and :meth:`commit` then raises if that is impossible, so
        that a lost transaction is never taken for a committed one).  Leaving with an
        exception aborts an open transaction and does nothing otherwise: the exception
        that ends the block must not be masked by a complaint about the transaction.
        Once ``commit()`` or ``abort()`` was called inside the block, there is nothing
        left to do.

        Args:
            raised: the block is left because of an exception.
        """
        if self.phase in (Phase.COMMITTED, Phase.ABORTED):
            return ExitAction.NOTHING
        if not raised:
            return ExitAction.COMMIT
        return ExitAction.ABORT if self.phase is Phase.OPEN else ExitAction.NOTHING

    # -- errors --------------------------------------------------------------------------

    def _refusal(self) -> Exception:
        """The exception for a call that needs an open transaction, in this phase."""
        if self.phase is Phase.LOST:
            # A fresh exception per call: re-raising one instance would pile up tracebacks.
            return connection_lost(
                f"transaction {self.id!r} was aborted by the broker: the connection was lost",
                self._cause,
            )
        if self.phase is Phase.NEW:
            why = "was never begun (use 'async with' or begin())"
        elif self.phase is Phase.BEGINNING:
            why = "is not open yet: its begin() has not returned"
        else:
            why = f"was already {self.phase.value}"
        return RuntimeError(f"transaction {self.id!r} {why}")

"""What users of both async drivers hold, written once (the client itself is in
``_client_base.py``).

``stomp_trio`` and ``stomp_asyncio`` hand users the same objects: a client, its
subscriptions, their messages, transactions and state-change observers.  What those
objects decide (which frame goes out, on which connection, which error is raised) is
here; each driver's public class derives from one of these bases and adds only what needs
its event loop: how a task waits and is woken (a :class:`Signal`), cancellation, the
connection's own tasks.

Nothing here does I/O, reads a clock or logs: every ``await`` is on a callable the driver
passed down (:class:`ClientHooks`) or on its :class:`Signal`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar

from .._events import (
    Abort,
    Begin,
    Commit,
)
from .._events import Message as MessageEvent
from ._backlog import Backlog
from ._errors import ConnectionLost
from ._frames import send_builder
from ._hooks import ClientHooks
from ._lifecycle import ClientState, StateChange
from ._received import ReceivedMessage
from ._session import (
    ClientSession,
)
from ._transaction import ExitAction, TransactionState

__all__ = [
    "MessageBase",
    "Signal",
    "StateChangesBase",
    "SubscriptionBase",
    "TransactionBase",
]

S = TypeVar("S", bound="SubscriptionBase[Any]")
M = TypeVar("M", bound="MessageBase[Any]")
T = TypeVar("T")  # "Self" (typing.Self is 3.11+)
XT = TypeVar("XT", bound="TransactionBase")


class Signal(Protocol):
    """A wake-up the driver provides: :meth:`wait` returns after the next :meth:`fire`."""

    def fire(self) -> None: ...  # wake every task in wait()

    async def wait(self) -> None: ...  # until the next fire()


# -- messages and subscriptions ----------------------------------------------------------


class MessageBase(ReceivedMessage, Generic[S]):
    """A MESSAGE delivered to a subscription (``S``, the driver's ``Subscription``).

    Attributes:
        event: the core's :class:`stomp_core.Message` event (every header, in wire order).
    """

    __slots__ = ("_generation", "_subscription")

    def __init__(self, subscription: S, event: MessageEvent, generation: int) -> None:
        # ReceivedMessage.__init__'s two slots, set here: one call less per message
        # received (issue 13).
        self._headers = None
        self.event = event
        self._generation = generation
        self._subscription = subscription

    @property
    def subscription(self) -> S:
        """The subscription this message was delivered to."""
        return self._subscription

    @property
    def generation(self) -> int:
        """The number of the connection it arrived on (1 for the first, +1 per reconnect)."""
        return self._generation

    @property
    def from_current_connection(self) -> bool:
        """Whether it arrived on the connection that is live now (only those can be acked)."""
        return self._subscription._hooks.generation() == self._generation

    async def ack(
        self, *, transaction: TransactionBase | str | None = None, receipt: bool = False
    ) -> None:
        """Acknowledge the message (``client`` and ``client-individual`` subscriptions).

        The frame carries the headers the negotiated version requires: ``id`` = the
        MESSAGE's ``ack`` header in 1.2, ``message-id`` (and ``subscription`` in 1.1)
        before.  In ``client`` mode an ACK also covers every earlier message of the
        subscription (spec 1.2 "SUBSCRIBE ack Header").

        Args:
            transaction: the transaction (or its id) the ACK belongs to.
            receipt: wait until the broker confirms the ACK.

        Raises:
            ConnectionLost: the message came on an earlier connection; its ack id is void
                and the broker redelivers it (conformance 98).
            stomp_core.LocalProtocolError: the subscription is ``auto`` (conformance 80).
        """
        await self._subscription._hooks.acknowledge(self, False, transaction, receipt)

    async def nack(
        self, *, transaction: TransactionBase | str | None = None, receipt: bool = False
    ) -> None:
        """Reject the message (STOMP 1.1+): the broker redelivers or dead-letters it.

        Same arguments and errors as :meth:`ack`; on STOMP 1.0 (no NACK)
        ``stomp_core.LocalProtocolError``.
        """
        await self._subscription._hooks.acknowledge(self, True, transaction, receipt)

    def __repr__(self) -> str:
        return f"<Message {self.message_id!r} from {self.destination!r}, {len(self.body)} bytes>"


def _body_size(message: MessageBase[Any]) -> int:
    """What a buffered message weighs against ``subscription_buffer_bytes``."""
    return len(message.event.body)


class SubscriptionBase(ABC, Generic[M]):
    """A subscription, as an async context manager and an async iterator of messages.

    Made by the client's ``subscribe()``: ``async with`` sends SUBSCRIBE on entering and
    UNSUBSCRIBE on leaving.  Messages wait in a bounded buffer (``subscription_buffer``
    messages, ``subscription_buffer_bytes`` bytes); while it is full the client stops
    reading from the broker, so TCP flow control pushes back.  That stalls every
    subscription of the connection (one TCP stream): consume every subscription you open,
    and keep the broker's prefetch (RabbitMQ ``prefetch-count``, ActiveMQ
    ``activemq.prefetchSize``) at or below the buffer size.

    The subscription survives reconnects: it is subscribed again on every new connection
    under the same id and the iterator carries on.  The iterator ends when the
    subscription is closed (buffered messages are delivered first) and, when the client
    fails for good, raises the error that ended it (``ConnectionLost``, ``BrokerError``
    or ``ProtocolViolation``).

    Attributes:
        id: the subscription id (spec 1.2 "SUBSCRIBE id Header").
        destination: what is subscribed to.
        ack: the ack mode: ``"auto"``, ``"client"`` or ``"client-individual"``.
    """

    def __init__(
        self,
        signal: Signal,
        hooks: ClientHooks[Any, M, Any],
        destination: str,
        *,
        id: str,
        ack: str,
        headers: Mapping[str, str] | None,
        receipt: bool,
        capacity: int,
        max_bytes: int | None = None,
    ) -> None:
        self._signal = signal
        self._hooks = hooks
        self.id = id
        self.destination = destination
        self.ack = ack
        self._headers = dict(headers) if headers else {}
        self._receipt = receipt
        self._entered = False
        self._backlog: Backlog[M] = Backlog(
            capacity, max_bytes=max_bytes, size=None if max_bytes is None else _body_size
        )

    async def close(self) -> None:
        """Unsubscribe now, without waiting for a receipt (see ``unsubscribe()``)."""
        await self.unsubscribe()

    @abstractmethod
    async def unsubscribe(self, *, receipt: bool = False) -> None: ...  # the driver's

    @property
    def headers(self) -> Mapping[str, str]:
        """The extra SUBSCRIBE headers given."""
        return MappingProxyType(self._headers)

    @property
    def buffered(self) -> int:
        """Messages received and not yet taken by the iterator."""
        return len(self._backlog)

    @property
    def capacity(self) -> int:
        """The buffer bound."""
        return self._backlog.capacity

    @property
    def full(self) -> bool:
        """Whether the buffer is at capacity (the client then stops reading, until the
        consumer has taken it down to half)."""
        return self._backlog.full

    @property
    def closed(self) -> bool:
        """Whether the subscription ended (unsubscribed, or the client closed)."""
        return self._backlog.ended

    def __aiter__(self: T) -> T:
        return self

    async def __anext__(self) -> M:
        await self._hooks.checkpoint()
        while (message := self._backlog.poll()) is None:
            # A bare wake-up: the message stays buffered until polled, so a consumer
            # cancelled here loses nothing.
            await self._signal.wait()
        if self._backlog.unblocked():
            # Room again: the client delivers a message held back for us and resumes
            # reading (back-pressure released).
            self._hooks.room(self)
        return message

    async def _get(self) -> M:
        """The next message; ``ConnectionLost`` instead of the end of the iteration."""
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            raise ConnectionLost(f"subscription {self.id!r} is closed") from None

    def _offer(self, message: M) -> bool:
        """Buffer ``message``; ``False`` when the buffer is full (the caller holds it)."""
        if not self._backlog.offer(message):
            return False
        self._signal.fire()
        return True

    def _deliver(self, message: M) -> None:
        """Buffer ``message`` even past the bound (the caller then stops reading)."""
        self._backlog.put(message)
        self._signal.fire()

    def _close(self, error: BaseException | None = None) -> None:
        """Stop the iteration: with ``error`` raised to consumers, or cleanly.  Messages
        already buffered stay readable; the iteration ends after them."""
        self._backlog.end(error)
        self._signal.fire()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "live"
        return f"<Subscription {self.id!r} to {self.destination!r} ack={self.ack} {state}>"


class StateChangesBase:
    """An async iterator over a client's :class:`StateChange` reports.

    Made by the client's ``state_changes()``; it records every change from the moment it
    is made, keeps at most ``maxlen`` unread ones (dropping the oldest: lifecycle changes
    are rare, so only a stalled observer ever loses any), and ends after the change to
    ``CLOSED``.  Call :meth:`close` (or leave it as an ``async with`` block) to stop
    observing early.
    """

    def __init__(
        self, signal: Signal, maxlen: int, detach: Callable[[StateChangesBase], None]
    ) -> None:
        self._signal = signal
        self._detach = detach
        self._backlog: Backlog[StateChange] = Backlog(maxlen, drop_oldest=True)

    def push(self, change: StateChange) -> None:
        """Record a change (called by the client)."""
        self._backlog.put(change)
        self._signal.fire()

    def close(self) -> None:
        """Stop observing; iteration ends once the queued changes are read."""
        self._backlog.end()
        self._detach(self)
        self._signal.fire()

    async def __aenter__(self: T) -> T:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __aiter__(self: T) -> T:
        return self

    async def __anext__(self) -> StateChange:
        while (change := self._backlog.poll()) is None:
            await self._signal.wait()
        if change.state is ClientState.CLOSED:
            self.close()
        return change


# -- transactions ------------------------------------------------------------------------


class TransactionBase:
    """A STOMP transaction (spec 1.2 "BEGIN"), made by the client's ``transaction()``.

    Use ``async with client.transaction() as tx``: entering sends BEGIN; leaving normally
    sends COMMIT and waits for its RECEIPT (``receipt_timeout``); leaving with an exception
    sends ABORT and lets that exception through unchanged.  :meth:`begin`, :meth:`commit`
    and :meth:`abort` do the same steps by hand; a block in which :meth:`commit` or
    :meth:`abort` was called sends nothing on leaving.  Frames sent through it carry its
    ``transaction`` header.

    The rules are :class:`TransactionState`'s: misuse (a second :meth:`begin`, a call on
    a transaction not open) raises :class:`RuntimeError` and sends nothing; once the
    connection it began on drops, the broker has aborted it (conformance 100) and it stays
    dead: :meth:`send`, :meth:`ack`, :meth:`nack` and :meth:`commit` raise
    ``ConnectionLost``, :meth:`abort` does nothing.  :meth:`commit` and :meth:`abort` end
    it when called, whatever becomes of their frame.

    Attributes:
        id: the transaction id.
    """

    def __init__(
        self,
        id: str,
        *,
        session: ClientSession[Any, Any],
        hooks: ClientHooks[Any, Any, Any],
    ) -> None:
        self.id = id
        self._session = session
        self._hooks = hooks
        self._state = TransactionState(id)
        self._generation: int | None = None  # the connection BEGIN went out on

    async def __aenter__(self: XT) -> XT:
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
            receipt: wait until the broker confirms the ABORT.

        Raises:
            RuntimeError: it is not open (never begun, already committed or aborted).
            BrokerError, ReceiptTimeout: as for a receipted send.
        """
        if not self._record_abort():
            await self._hooks.checkpoint()
            return
        try:
            await self._hooks.send(
                lambda rid: Abort(transaction=self.id, receipt=rid), receipt, self._generation
            )
        except ConnectionLost:
            pass  # dropped before ABORT was written or confirmed: the broker aborts it
        except BaseException:
            # Cancelled before it was written, the core still has it open: abort in the
            # background instead (the core refuses a second ABORT, so nothing doubles).
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
        """SEND within this transaction (delivered at COMMIT); see the client's ``send()``.

        Raises:
            RuntimeError: it is not open (never begun, already committed or aborted).
            ConnectionLost: the connection dropped since BEGIN: the broker aborted it.
        """
        self._check()
        build = send_builder(
            destination, body, content_type=content_type, headers=headers, transaction=self.id
        )
        await self._hooks.send(build, receipt, self._generation)

    async def ack(self, message: MessageBase[Any], *, receipt: bool = False) -> None:
        """ACK ``message`` within this transaction (takes effect at COMMIT, conformance 99)."""
        await self._hooks.acknowledge(message, False, self, receipt)

    async def nack(self, message: MessageBase[Any], *, receipt: bool = False) -> None:
        """NACK ``message`` within this transaction (1.1+)."""
        await self._hooks.acknowledge(message, True, self, receipt)

    def __repr__(self) -> str:
        return f"<Transaction {self.id!r} {self._state.phase.value}>"

    def _check(self) -> None:
        """Raise unless a SEND, ACK or NACK may go within the transaction now."""
        self._note_loss()
        self._state.check_use()

    def _note_loss(self) -> None:
        if self._generation is not None:
            self._session.note_loss(self._state, generation=self._generation)

    def _exit_action(self, exc: BaseException | None) -> ExitAction:
        """What leaving the ``async with`` block must send."""
        self._note_loss()
        return self._state.exit_action(raised=exc is not None)

    def _record_abort(self) -> bool:
        """Record the ABORT (raising on misuse); whether a frame must go."""
        self._note_loss()
        if not self._state.abort():
            return False  # the broker aborted it with the connection
        self._session.transaction_ended(self._state)
        return True

    def _abort_soon(self, *, recorded: bool = False) -> None:
        """Queue ABORT, written in the background: leaving never blocks."""
        if (recorded or self._record_abort()) and self._generation is not None:
            self._hooks.queue(Abort(transaction=self.id), self._generation)

"""One client's session above the frame level: :class:`ClientSession`.

A STOMP client does more than speak frames: it routes each MESSAGE to the subscription
that asked for it, matches RECEIPTs to the calls that wait for them, remembers what to
subscribe again after a reconnect, refuses to acknowledge a message of an earlier
connection, fails what was pending when a connection is lost, stops reading while a
consumer lags behind, and decides when to dial which broker.  None of that needs I/O, so
it lives here, once, and the drivers only move bytes, run tasks and wake whoever waits.

How a driver uses it (one :class:`ClientSession` per client, one core
:class:`~stomp_core.Connection` per transport connection)::

    plan = session.dial_plan(first=True)
    while True:
        step = plan.next_step()          # Dial(endpoint) or Wait(seconds); raises at the end
        ...dial, send session.options.connect_event()...
    generation = session.connection_started(endpoint)
    for event in core events:
        for outcome in session.handle(event, generation):
            ...Deliver -> the subscription's buffer, ReceiptDone -> the waiter,
               Ended -> the transport, Unhandled -> report_unhandled()...
    for done in session.connection_lost(reason):  # fails pending receipts and transactions
        ...

The session is generic over the driver's subscription objects ``S`` (anything with a
``destination``) and receipt waiters ``W`` (a future, an event): it hands them back in
outcomes and never looks inside.  Nothing here reads a clock, draws random numbers (the
driver passes ``rng`` for the backoff's jitter), logs, or touches a socket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Generic, Protocol, TypeVar

from .._backoff import ReconnectSchedule
from .._events import (
    Ack,
    Connected,
    ConnectionClosed,
    ConnectTimeout,
    DisconnectTimeout,
    Error,
    Event,
    FrameEvent,
    HeartbeatReceived,
    HeartbeatTimeout,
    Message,
    Receipt,
    Subscribe,
    Unsubscribe,
)
from .._registry import SessionRegistry
from .._state import State
from ._addresses import Endpoint
from ._errors import (
    BrokerError,
    ConnectFailed,
    ConnectionLost,
    StompError,
    close_reason,
    connection_lost,
)
from ._frames import IdCounter, ack_for
from ._lifecycle import ClientState, ReconnectPolicy, StateChange
from ._options import ClientOptions
from ._routing import Leftovers, UnhandledHook, route_message
from ._transaction import TransactionState

__all__ = [
    "ClientSession",
    "Deliver",
    "Dial",
    "DialPlan",
    "Ended",
    "Ignored",
    "Outcome",
    "ReceiptDone",
    "Unhandled",
    "Wait",
    "report_unhandled",
]


class _Subscribed(Protocol):
    @property
    def destination(self) -> str: ...


S = TypeVar("S", bound=_Subscribed)
W = TypeVar("W")

# -- outcomes: what the driver must do after an event -----------------------------------


@dataclass(frozen=True, slots=True)
class Deliver(Generic[S]):
    """Put ``event`` into ``subscription``'s buffer (it came on connection ``generation``)."""

    subscription: S
    event: Message
    generation: int


@dataclass(frozen=True, slots=True)
class ReceiptDone(Generic[W]):
    """Wake ``waiter``: its RECEIPT came (``error`` is ``None``), or the wait failed."""

    waiter: W
    error: StompError | None


@dataclass(frozen=True, slots=True)
class Unhandled:
    """A frame nobody can place (conformance 88, 89): hand it to :func:`report_unhandled`."""

    event: FrameEvent
    what: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """A frame that is expected and harmless, dropped: worth a debug log line only."""

    why: str


@dataclass(frozen=True, slots=True)
class Ended:
    """The connection is over.

    Attributes:
        reason: why, or ``None`` when it closed as we asked (RECEIPT of our DISCONNECT).
        abort: drop the transport at once: the peer is presumed dead (a timeout), so
            nothing buffered will ever be read.
    """

    reason: StompError | None
    abort: bool = False


Outcome = Deliver[S] | ReceiptDone[W] | Unhandled | Ignored | Ended
"""What :meth:`ClientSession.handle` asks the driver to do."""


class _Log(Protocol):
    def warning(self, msg: str, /, *args: object) -> None: ...

    def exception(self, msg: str, /, *args: object) -> None: ...


def report_unhandled(hook: UnhandledHook | None, outcome: Unhandled, log: _Log) -> None:
    """Hand an unhandled frame to the user's ``on_unhandled`` hook, or warn on ``log``.

    What the hook raises is logged and swallowed: it runs inside the driver's own
    callbacks, and its failure must not tear the connection down.
    """
    if hook is None:
        log.warning("unhandled %s", outcome.what)
        return
    try:
        hook(outcome.event)
    except Exception:
        log.exception("on_unhandled raised for %s", outcome.what)


# -- dialling -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dial:
    """Dial ``endpoint`` next; ``attempt`` attempts of this sequence failed before."""

    endpoint: Endpoint
    attempt: int


@dataclass(frozen=True, slots=True)
class Wait:
    """Sleep ``seconds`` before the next round of dials."""

    seconds: float


class DialPlan:
    """One (re)connect sequence: which broker next, how long to wait, when to stop.

    A *round* tries every host once, in order; every failed host is one attempt of the
    reconnect policy (``stomp_core/_backoff.py``), and between rounds the policy's wait
    is taken.  Without retrying (no policy, or a first connect without
    ``retry_first_connect``) one round is made.  An ERROR answering CONNECT (a
    :class:`ConnectFailed` with ``refused``) ends the plan at once: the broker said no on
    purpose (bad credentials, unknown vhost) and asking again would not change its mind.
    """

    __slots__ = ("_hosts", "_index", "_last", "_retry", "_schedule")

    def __init__(
        self, hosts: tuple[Endpoint, ...], schedule: ReconnectSchedule, *, retry: bool
    ) -> None:
        self._hosts = hosts
        self._schedule = schedule
        self._retry = retry
        self._index = 0
        self._last: StompError | None = None

    @property
    def attempts(self) -> int:
        """Failed attempts so far."""
        return self._schedule.attempts

    def next_step(self) -> Dial | Wait:
        """What to do next.

        Raises:
            ConnectFailed: the plan gave up (one round without retrying, or the policy's
                ``attempts_max`` reached); the last failure is its ``__cause__``.
        """
        if self._index < len(self._hosts) and not (self._retry and self._schedule.exhausted):
            endpoint = self._hosts[self._index]
            self._index += 1
            return Dial(endpoint, self._schedule.attempts)
        self._index = 0
        delay = self._schedule.next_delay() if self._retry else None
        if delay is None:
            where = ", ".join(str(e) for e in self._hosts)
            failed = ConnectFailed(
                f"could not connect to {where} after {self._schedule.attempts} "
                f"attempt(s): {self._last}"
            )
            failed.__cause__ = self._last
            raise failed
        return Wait(delay)

    def failed(self, error: StompError) -> int:
        """The last :class:`Dial` failed with ``error``; returns the attempts so far.

        Raises:
            ConnectFailed: ``error`` itself when the broker refused (never retried).
        """
        if isinstance(error, ConnectFailed) and error.refused:
            raise error
        self._last = error
        self._schedule.record_failure()
        return self._schedule.attempts


# -- the session ----------------------------------------------------------------------


class ClientSession(Generic[S, W]):
    """Everything one client does above the frame level, across its connections.

    Args:
        options: the client's settings.
        rng: random numbers in ``[0, 1)`` for the reconnect jitter (``random.random``).

    Attributes:
        options: the settings.
        registry: what is replayed after a reconnect (live subscriptions).
        state: the lifecycle state last set with :meth:`set_state`.
        endpoint: the broker of the current (or last) connection.
        generation: the number of the current connection (1 for the first).
        connected: the CONNECTED event of the current (or last) connection.
        closing: the user is leaving: late MESSAGEs are dropped, a clean close is expected.
        heartbeats_received: heart-beats from brokers, over all connections.
    """

    def __init__(self, options: ClientOptions, *, rng: Callable[[], float]) -> None:
        self.options = options
        self.registry = SessionRegistry(max_subscriptions=options.config.limits.max_subscriptions)
        self._rng = rng
        self._receipt_ids = IdCounter("receipt-")
        self._subscription_ids = IdCounter("sub-")
        self._transaction_ids = IdCounter("tx-")
        self.state = ClientState.CONNECTING
        self.endpoint: Endpoint | None = None
        self.generation = 0
        self.connected: Connected | None = None
        self.closing = False
        self.heartbeats_received = 0
        self._live = False
        self._loss: StompError | None = None
        self._subscriptions: dict[str, S] = {}
        self._waiters: dict[str, W] = {}
        self._leftovers = Leftovers()
        self._transactions: dict[str, tuple[int, TransactionState]] = {}
        self._full: set[str] = set()

    # -- ids ----------------------------------------------------------------------------

    def next_receipt_id(self) -> str:
        """A receipt id unique for the client's life (so across reconnects too)."""
        return self._receipt_ids.next()

    def next_subscription_id(self) -> str:
        """``sub-1``, ``sub-2``, ..."""
        return self._subscription_ids.next()

    def next_transaction_id(self) -> str:
        """``tx-1``, ``tx-2``, ..."""
        return self._transaction_ids.next()

    # -- lifecycle ----------------------------------------------------------------------

    def set_state(
        self,
        state: ClientState,
        *,
        endpoint: Endpoint | None = None,
        error: BaseException | None = None,
        attempt: int = 0,
    ) -> StateChange:
        """Move to ``state``; returns the change to report to observers."""
        self.state = state
        return StateChange(state, endpoint, error, attempt)

    def dial_plan(self, *, first: bool) -> DialPlan:
        """The plan of a (re)connect sequence.

        Args:
            first: the client's first connection, retried only with
                :attr:`ReconnectPolicy.retry_first_connect`.
        """
        policy = self.options.reconnect
        retry = policy is not None and (not first or policy.retry_first_connect)
        # attempts_max=0: without retrying, the single round is never followed by a wait.
        schedule = (policy if retry and policy else ReconnectPolicy(attempts_max=0)).schedule(
            self._rng
        )
        return DialPlan(self.options.hosts, schedule, retry=retry)

    def reconnects_after(self, reason: StompError) -> bool:
        """Whether a connection lost for ``reason`` is dialled again.

        Only with a reconnect policy, and never after an ERROR frame: that is the
        broker's deliberate verdict (spec 1.2 "ERROR"), and retrying would loop.  A
        protocol violation (a malformed frame) counts as a lost connection: a fresh
        session may well work.
        """
        return self.options.reconnect is not None and not isinstance(reason, BrokerError)

    def connection_started(self, endpoint: Endpoint) -> int:
        """A new transport connection to ``endpoint``; CONNECT goes out next.

        Returns:
            The connection's generation.  Pass it to :meth:`handle` with its events, and
            give it to the messages it delivers (an ACK needs the generation it came on,
            conformance 98).
        """
        self.generation += 1
        self.endpoint = endpoint
        self._live = False
        self._leftovers = Leftovers()  # ids of an older connection mean nothing now
        return self.generation

    @property
    def live(self) -> bool:
        """Whether the current connection is up (CONNECTED came, no loss since)."""
        return self._live

    def can_send(self, generation: int, state: State) -> bool:
        """Whether a frame may go out now on connection ``generation``, whose core is in
        ``state``.

        Only on the current connection, while it is up (CONNECTED came, and neither a
        loss nor the end of the session was reported since) and its core is CONNECTED.
        The core leaves CONNECTED the moment it reads the broker's EOF or ERROR, or a
        frame is half-written (``send_failed``), which is before the driver hears that
        its transport is gone: a frame offered in that window would only meet the core's
        ``LocalProtocolError``.  ``False`` means: wait for the next connection (or raise
        :class:`ConnectionLost`).
        """
        return generation == self.generation and self._live and state is State.CONNECTED

    def replay(self) -> list[Subscribe]:
        """The SUBSCRIBEs to send again on a new connection, in their original order."""
        return self.registry.replay()

    def connection_lost(self, reason: StompError | None) -> list[ReceiptDone[W]]:
        """The current connection is over: fail what cannot survive it.

        Pending receipts fail with :class:`ConnectionLost`; open transactions become
        lost, because the broker aborts them (spec 1.2 "BEGIN", conformance 100).  Back-
        pressure ends with the connection (its unread bytes are gone).

        Returns:
            the waiters to wake, each with its error.
        """
        self._live = False
        if reason is not None:
            self._loss = reason
        waiters, self._waiters = self._waiters, {}
        for _, transaction in self._transactions.values():
            # The reason itself: the transaction's error already says the connection
            # was lost.
            transaction.lost(reason)
        self._transactions.clear()
        self.registry.drop_transactions()
        return [
            ReceiptDone(
                waiter, connection_lost(f"the connection was lost before RECEIPT {rid!r}", reason)
            )
            for rid, waiter in waiters.items()
        ]

    def begin_closing(self) -> None:
        """The user is leaving: late MESSAGEs are dropped from now on, so no buffer may
        hold back the DISCONNECT's RECEIPT (the broker redelivers what was not acked)."""
        self.closing = True
        self._full.clear()

    def finish(self) -> list[S]:
        """The client is closed for good: forget every subscription; returns them (the
        driver ends their iterations)."""
        self.begin_closing()
        subscriptions = list(self._subscriptions.values())
        self._subscriptions.clear()
        return subscriptions

    # -- incoming -----------------------------------------------------------------------

    def handle(self, event: Event, generation: int) -> list[Outcome[S, W]]:
        """What to do about ``event``, received on connection ``generation``."""
        if generation != self.generation:
            # A late event of a connection already replaced: its ids mean nothing now.
            return [Ignored(f"{type(event).__name__} from a replaced connection dropped")]
        if isinstance(event, HeartbeatReceived):
            self.heartbeats_received += 1
            return []
        if isinstance(event, Connected):
            self.connected = event
            self._live = True
            return []
        if isinstance(event, Message):
            return self._route(event, generation)
        if isinstance(event, Receipt):
            return self._receipt(event)
        if isinstance(event, Error):
            return self._error(event)
        if isinstance(event, ConnectionClosed) and event.clean and self.closing:
            return self._end(None)
        if isinstance(event, (HeartbeatTimeout, ConnectTimeout, DisconnectTimeout)):
            return self._end(close_reason(event), abort=True)
        if isinstance(event, ConnectionClosed):
            return self._end(close_reason(event))
        return []  # other frames (a client receives none) change nothing

    def _end(self, reason: StompError | None, *, abort: bool = False) -> list[Outcome[S, W]]:
        # The connection is over from here, even while its transport still closes.
        self._live = False
        return [Ended(reason, abort=abort)]

    def routes(self, generation: int) -> Mapping[str, S] | None:
        """The live subscriptions by id, when a MESSAGE of connection ``generation`` that
        names one of them (``subscription`` header) needs nothing but delivery to it:
        what :meth:`handle` would say of it is :class:`Deliver`.  ``None`` when every
        MESSAGE must go through :meth:`handle` (a replaced connection, or closing).

        The receive hot path (issue 13): a driver delivers a read's MESSAGEs with one
        lookup each; any other MESSAGE (no ``subscription`` header, an id not in the
        mapping) still goes through :meth:`handle`.
        """
        if generation != self.generation or self.closing:
            return None
        return self._subscriptions

    def _route(self, event: Message, generation: int) -> list[Outcome[S, W]]:
        if self.closing:
            # Nobody reads any more; the broker redelivers what was not acknowledged.
            return [Ignored(f"MESSAGE {event.message_id} dropped: the client is closing")]
        # By id, or by destination from a 1.0 broker that left the id out (conformance 87).
        subscription = route_message(event, self._subscriptions)
        if subscription is None:
            what = self._leftovers.message(event)
            if what is None:
                # Sent before the broker saw our UNSUBSCRIBE: expected, and the broker
                # redelivers it if it needed an ack.
                return [Ignored(f"MESSAGE {event.message_id} dropped: unsubscribed")]
            return [Unhandled(event, what)]
        return [Deliver(subscription, event, generation)]

    def _receipt(self, event: Receipt) -> list[Outcome[S, W]]:
        waiter = self._waiters.pop(event.receipt_id, None)
        if waiter is not None:
            return [ReceiptDone(waiter, None)]
        what = self._leftovers.receipt(event)
        if what is None:
            # The DISCONNECT's (the core acts on it), or a wait given up.
            return [Ignored(f"RECEIPT {event.receipt_id!r} arrived after its wait ended")]
        return [Unhandled(event, what)]

    def _error(self, event: Error) -> list[Outcome[S, W]]:
        if not self._live:
            # An ERROR answering CONNECT is a refusal (bad credentials, unknown vhost):
            # the one place this is decided.
            return [Ended(ConnectFailed.from_error(event))]
        error = BrokerError.from_event(event)
        outcomes: list[Outcome[S, W]] = []
        if error.receipt_id is not None:
            waiter = self._waiters.pop(error.receipt_id, None)
            if waiter is not None:
                outcomes.append(ReceiptDone(waiter, error))  # conformance 91
        return outcomes + self._end(error)

    # -- receipts -----------------------------------------------------------------------

    def await_receipt(self, receipt_id: str, waiter: W) -> None:
        """``waiter`` waits for the RECEIPT of a frame just handed to the core."""
        self._waiters[receipt_id] = waiter

    def give_up_receipt(self, receipt_id: str) -> None:
        """The wait ended (confirmed, timed out, cancelled).  A RECEIPT that may still
        come is then expected, not unhandled."""
        if self._waiters.pop(receipt_id, None) is not None:
            self._leftovers.expect_receipt(receipt_id)

    def expect_receipt(self, receipt_id: str) -> None:
        """A RECEIPT for ``receipt_id`` may come with no waiter (the DISCONNECT's)."""
        self._leftovers.expect_receipt(receipt_id)

    @property
    def receipts(self) -> Mapping[str, W]:
        """Receipts awaited on the current connection (read-only view)."""
        return MappingProxyType(self._waiters)

    # -- subscriptions ------------------------------------------------------------------

    def add_subscription(self, id: str, subscription: S) -> None:
        """Route MESSAGEs for ``id`` to ``subscription`` from now on.

        Raises:
            ValueError: ``id`` is in use.
        """
        if id in self._subscriptions:
            raise ValueError(f"subscription id {id!r} is already in use")
        self._subscriptions[id] = subscription

    def remove_subscription(self, id: str, *, sent: bool) -> bool:
        """Stop routing to ``id``; it is never replayed.

        Args:
            sent: its SUBSCRIBE went out on the current connection: MESSAGEs may still
                be on their way, and they are not unhandled.

        Returns:
            whether the subscription was recorded (its SUBSCRIBE was accepted), so an
            UNSUBSCRIBE is worth sending.
        """
        self._subscriptions.pop(id, None)
        self._full.discard(id)
        if sent:
            self._leftovers.unsubscribed(id)
        recorded = id in self.registry.subscriptions
        self.registry.record(Unsubscribe(id=id))
        return recorded

    def record(self, event: FrameEvent) -> None:
        """``event`` was handed to the core: remember what a reconnect must replay.

        Raises:
            stomp_core.LocalProtocolError: a SUBSCRIBE reusing a live id (see
                :meth:`stomp_core.SessionRegistry.record`).
        """
        self.registry.record(event)

    @property
    def subscriptions(self) -> Mapping[str, S]:
        """Live subscriptions by id (read-only view)."""
        return MappingProxyType(self._subscriptions)

    # -- back-pressure ------------------------------------------------------------------

    def buffer_full(self, id: str) -> None:
        """Subscription ``id``'s buffer is full: stop reading (TCP pushes back)."""
        self._full.add(id)

    def buffer_has_room(self, id: str) -> bool:
        """Subscription ``id`` has room again; returns whether reading may resume."""
        self._full.discard(id)
        return not self._full

    @property
    def stalled(self) -> bool:
        """Whether a subscription buffer is full (then the driver reads nothing)."""
        return bool(self._full)

    # -- acknowledgements and transactions ----------------------------------------------

    def check_ack(self, event: Message, *, generation: int) -> None:
        """Refuse at once to acknowledge ``event`` (delivered on connection ``generation``)
        if that connection is gone: drivers call it before they wait for a reconnect.

        Raises:
            ConnectionLost: its ack id means nothing to another session (conformance 98)
                and the broker redelivers it.
        """
        if generation != self.generation or not self._live:
            raise ConnectionLost(
                f"message {event.message_id!r} came on an earlier connection, which has "
                "since been lost; its ack id is void now and the broker redelivers it"
            )

    def ack_event(
        self,
        event: Message,
        *,
        generation: int,
        subscription: str,
        nack: bool = False,
        transaction: str | None = None,
        receipt: str | None = None,
    ) -> Ack:
        """The ACK (or NACK) of ``event``, delivered on connection ``generation``.

        Raises:
            ConnectionLost: the message came on an earlier connection, or its connection
                is down: its ack id means nothing to another session (conformance 98)
                and the broker redelivers it.
        """
        self.check_ack(event, generation=generation)
        assert self.connected is not None  # live: CONNECTED came
        version = self.connected.version
        return ack_for(
            event, version, subscription, nack=nack, transaction=transaction, receipt=receipt
        )

    def transaction_begun(self, transaction: TransactionState, *, generation: int) -> None:
        """BEGIN of ``transaction`` was written on connection ``generation``."""
        transaction.begun()
        self._transactions[transaction.id] = (generation, transaction)
        self.note_loss(transaction, generation=generation)

    def transaction_ended(self, transaction: TransactionState) -> None:
        """COMMIT or ABORT of ``transaction`` is being sent: nothing to fail on a loss."""
        self._transactions.pop(transaction.id, None)

    def note_loss(self, transaction: TransactionState, *, generation: int) -> None:
        """Mark ``transaction`` (begun on ``generation``) lost if that connection is gone.

        The driver learns of a loss a little before it calls :meth:`connection_lost`;
        calling this before each use makes the outcome independent of that timing.
        """
        if generation != self.generation or not self._live:
            transaction.lost(self._loss)

"""One client connection of the broker: the core's SERVER role over a transport.

The session follows the core's driver contract (``stomp_core/_connection.py``): after
every input (bytes, EOF, a timer) it drains ``next_event()``, writes what
``data_to_send()`` returns and re-arms one timer from ``get_timer()`` with
``loop.call_at``.  Everything runs on the event loop's thread, so the broker needs no
locks: a SEND is routed, and delivered to other sessions, synchronously.

Each frame the broker sends is taken from the core on its own (one ``send`` then one
``data_to_send``), so the fault switches (``_faults.py``) can count, drop, delay or cut
frames.  The transport is anything with the methods of :class:`Transport`: an asyncio
transport, or the WebSocket layer of ``_websocket.py`` (one STOMP write per message).

Bounds (besides the core's :class:`~stomp_core.Limits` on what a client may send):

* outbound: when the transport's write buffer plus the frames held back by a delay fault,
  the frame being written excepted, exceed ``max_outbound_bytes``, the client is not
  reading: it gets an ERROR ("slow consumer") and the connection is closed (aborted after
  ``close_timeout`` if it still does not read).  Queues stop feeding a consumer as soon
  as its transport pauses writing, so in practice only topic fan-out reaches the bound;
* unacknowledged messages per subscription: a queue stops at the prefetch window
  (``prefetch-count`` / ``activemq.prefetchSize`` header, else ``max_unacked``); a topic
  subscription that goes beyond ``max_unacked`` gets an ERROR and is closed;
* frames held by one transaction: ``max_transaction_frames``, then ERROR;
* broker-wide (``_budget.py``): connections, bytes of partly received frames, stored
  message bytes and subscriptions, counted across connections; a request beyond one of
  them gets an ERROR naming the limit and its value.  A connection gives back
  everything it counted when its transport is gone.

Temporary queues and ``reply-to`` (RabbitMQ's behaviour, measured on RabbitMQ 3.10.8; spec
1.2 leaves both to the broker): a SEND whose ``reply-to`` header names ``/temp-queue/<name>``
makes the broker create a queue private to the sending connection, under a random
name ``/reply-queue/<token>``, subscribe the connection to it implicitly (MESSAGE frames
carry ``subscription:/temp-queue/<name>``, ack mode ``auto``) and rewrite the header that
the receiver sees to ``reply-to:/reply-queue/<token>``.  Later SENDs naming the same
``/temp-queue/<name>`` reuse the queue.  Any connection may SEND to the rewritten name; only
the owner may SUBSCRIBE to it (others get ERROR, like RabbitMQ's ``resource_locked``).
Like ActiveMQ 5.17, the owner may also SUBSCRIBE to ``/temp-queue/<name>`` itself (with
its own id and ack mode; RabbitMQ refuses that), which replaces the implicit subscription,
and may SEND to ``/temp-queue/<name>``.  The queue and its backlog go with the connection;
what is sent to its name afterwards is dropped and the sender still gets its RECEIPT
(RabbitMQ's behaviour; ActiveMQ answers ERROR).  Temporary queues count against the
broker-wide subscription limits (``_budget.py``).

Closing (spec 1.2 "ERROR": the server sends ERROR, then closes the connection): the
session stops handling input, lets the transport write what is buffered, then shuts
down its write side (TCP half-close) and keeps reading and discarding until the client
closes, aborting after ``close_timeout`` at the latest.  Closing the socket at once would
lose the ERROR: a client still pipelining frames leaves unread bytes in the broker's
receive buffer, and closing a socket with unread bytes sends a TCP reset, which makes the
client's kernel discard whatever the client had not read yet, the ERROR included.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from stomp_core import (
    NEED_DATA,
    SERVER,
    Abort,
    Ack,
    Begin,
    Commit,
    Config,
    Connect,
    Connected,
    ConnectionClosed,
    ConnectTimeout,
    Disconnect,
    Error,
    FrameEvent,
    HeartbeatReceived,
    HeartbeatTimeout,
    LocalProtocolError,
    Message,
    Nack,
    Receipt,
    RemoteProtocolError,
    Send,
    State,
    Subscribe,
    Unsubscribe,
)
from stomp_core import Connection as CoreConnection

from ._budget import Budget, LimitReached
from ._destinations import (
    REPLY_QUEUE_PREFIX,
    TEMP_QUEUE_PREFIX,
    QueueFull,
    Router,
    StoredMessage,
    Subscription,
    is_topic,
)
from ._faults import MALFORMED_FRAME, Faults

__all__ = ["Session", "Settings", "Transport"]

log = logging.getLogger("stomp_broker")

#: SEND headers the broker sets itself on MESSAGE, so a sender's copies are not passed on.
_RESERVED = frozenset(
    {"destination", "message-id", "subscription", "ack", "redelivered", "content-length"}
)
#: Prefetch headers of RabbitMQ and ActiveMQ; either bounds a subscription's window.
_PREFETCH_HEADERS = ("prefetch-count", "activemq.prefetchSize")


class Transport(Protocol):
    """What a session writes to (an asyncio transport fits)."""

    def write(self, data: bytes) -> None:
        """Queue bytes for the peer."""

    def close(self) -> None:
        """Close after the buffered bytes were written."""

    def abort(self) -> None:
        """Close now, dropping buffered bytes."""

    def get_write_buffer_size(self) -> int:
        """Bytes buffered and not yet written."""

    def can_write_eof(self) -> bool:
        """Whether :meth:`write_eof` half-closes (may raise ``NotImplementedError``)."""

    def write_eof(self) -> None:
        """Shut down the write side once the buffered bytes are written."""


def _can_half_close(transport: Transport) -> bool:
    try:
        return bool(transport.can_write_eof())
    except NotImplementedError:  # asyncio.Transport's default: no half-close
        return False


def _parser_held(core: CoreConnection) -> int:
    """Bytes the core holds of frames not received whole (or not parsed yet)."""
    # stomp_core does not publish this figure yet (a Connection property would be its
    # place); its reader's count is exact, a large body's collected chunks included.
    return core._reader.buffered


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """The broker-wide settings a session needs (see :class:`~stomp_broker.Broker`)."""

    core_config: Config
    users: Mapping[str, str] | None
    heart_beat: tuple[int, int] | None
    max_unacked: int
    max_transaction_frames: int
    max_outbound_bytes: int
    close_timeout: float
    server_name: str


class _Refused(Exception):
    """A client frame the broker will not carry out: answered with ERROR, then close."""


class Session:
    """One client connection.

    Args:
        transport: where to write.
        settings: broker-wide settings.
        config: the core's configuration for this connection.
        router: the broker's destinations.
        budget: the broker-wide counters and limits.
        index: this connection's number (from 1, in accept order).
        refusal: answer CONNECT with an ERROR with this message (``max_connections``).
        select_faults: ``(index, login, connected) -> Faults`` for this connection.
        on_closed: called once when the transport is gone.
    """

    def __init__(
        self,
        *,
        transport: Transport,
        settings: Settings,
        config: Config,
        router: Router,
        budget: Budget,
        index: int,
        refusal: str | None = None,
        select_faults: Callable[[int, str | None, bool], Faults],
        on_closed: Callable[[Session], None],
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport = transport
        self._settings = settings
        self._router = router
        self._budget = budget
        self._refusal = refusal
        self.index = index
        self.login: str | None = None
        self._select_faults = select_faults
        self._on_closed = on_closed
        self._core = CoreConnection(SERVER, config, now=self._loop.time())
        self._subscriptions: dict[str, Subscription] = {}
        # Ack id -> the subscriptions holding it unacknowledged, so that an ACK without a
        # subscription header (1.0, and 1.2's ack ids) costs O(1), not a scan of them all.
        self._unacked_by_id: dict[str, list[Subscription]] = {}
        self._transactions: dict[str, list[Send | Ack]] = {}
        # '/temp-queue/<name>' -> the broker's name of this connection's temporary queue.
        self._temp_queues: dict[str, str] = {}
        # '/temp-queue/<name>' -> the implicit subscription that reads it (RabbitMQ's).
        self._implicit: dict[str, Subscription] = {}
        self._transaction_bytes: dict[str, int] = {}
        self._ack_ids = itertools.count(1)
        self._writing_paused = False
        # Queue subscriptions skipped while writing was paused: woken on resume.
        self._parked: dict[Subscription, None] = {}
        self._inflight = 0  # what this connection counts in budget.inflight_bytes
        # Output pipeline: writes held back by a delay fault, in order; None = close.
        self._outbox: deque[tuple[float, bytes | None]] = deque()
        self._outbox_bytes = 0
        self._last_due = 0.0
        self._outbox_handle: asyncio.TimerHandle | None = None
        self._timer_handle: asyncio.TimerHandle | None = None
        self._timer_deadline: float | None = None
        self._abort_handle: asyncio.TimerHandle | None = None
        self._frames_sent = 0
        self._frames_received = 0
        self._malformed_sent = False
        self._closing = False  # no more input handled, no more deliveries
        self._close_started = False
        self._lost = False

    # ------------------------------------------------------------------ state

    @property
    def faults(self) -> Faults:
        """The fault switches that apply to this connection now."""
        return self._select_faults(self.index, self.login, self._core.state is not State.IDLE)

    @property
    def writing_paused(self) -> bool:
        """The transport asked us to stop writing (its buffer is above high water)."""
        return self._writing_paused

    def can_receive(self) -> bool:
        """Whether messages may be delivered to this session now."""
        return not self._closing and self._core.state is State.CONNECTED

    # ------------------------------------------------------------------ transport input

    def start(self) -> None:
        """The transport is connected: apply accept-time faults and arm the CONNECT wait."""
        faults = self.faults
        if faults.close_after_frames == 0 and not faults.close_mid_frame:
            self._begin_close()
            return
        self._arm_timer()

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client."""
        if self._closing:
            return
        now = self._loop.time()
        self._core.receive_data(data, now=now)
        self._process(now)
        self._count_inflight()

    def _count_inflight(self) -> None:
        held = _parser_held(self._core) if not self._lost else 0
        grew = held > self._inflight
        self._budget.inflight_bytes += held - self._inflight
        self._inflight = held
        if grew and not self._closing:
            # Only a connection whose partial frame grew is refused: the others may be
            # receiving frames that will complete.
            try:
                self._budget.check_inflight()
            except LimitReached as exc:
                self._fail(str(exc))

    def receive_eof(self) -> None:
        """The client closed its side."""
        if self._closing:
            return
        now = self._loop.time()
        self._core.receive_eof(now=now)
        self._process(now)

    def pause_writing(self) -> None:
        """The transport's buffer crossed its high-water mark."""
        self._writing_paused = True

    def resume_writing(self) -> None:
        """The transport's buffer drained: queues may feed us again."""
        self._writing_paused = False
        parked, self._parked = self._parked, {}
        for sub in parked:
            self._router.wake(sub)
        # Every destination, even if writing pauses again on the way: a subscription
        # that cannot take now is parked again by its queue, and woken by the next resume.
        for destination in {sub.destination for sub in parked}:
            self._router.dispatch(destination)

    def parked(self, subscription: Subscription) -> None:
        """A queue skipped ``subscription`` while writing was paused (see resume)."""
        self._parked[subscription] = None

    def connection_lost(self) -> None:
        """The transport is closed: give back unacknowledged queue messages."""
        if self._lost:
            return
        self._lost = True
        self._closing = True
        for handle in (self._outbox_handle, self._timer_handle, self._abort_handle):
            if handle is not None:
                handle.cancel()
        self._outbox.clear()
        self._outbox_bytes = 0
        # Give back what this connection counted against the broker-wide limits.
        self._budget.inflight_bytes -= self._inflight
        self._inflight = 0
        self._budget.connections -= 1
        # Transactions die with the connection (spec 1.2 "BEGIN": aborted on disconnect).
        self._transactions.clear()
        self._budget.stored_bytes -= sum(self._transaction_bytes.values())
        self._transaction_bytes.clear()
        subscriptions = list(self._subscriptions.values())
        self._subscriptions.clear()
        self._budget.subscriptions -= len(subscriptions)
        self._unacked_by_id.clear()
        self._parked.clear()
        # Unsubscribe everything first so that the requeued messages go to others.
        for sub in subscriptions:
            self._router.unsubscribe(sub)
        for sub in subscriptions:
            self._router.requeue(sub.destination, list(sub.unacked.values()))
            sub.unacked.clear()
        # Temporary queues go with their connection, backlog and all (after the requeue
        # above, so that their unacknowledged messages are released with them).
        for name in self._temp_queues.values():
            self._router.delete_temp_queue(name)
        self._temp_queues.clear()
        self._implicit.clear()
        for destination in {sub.destination for sub in subscriptions}:
            self._router.dispatch(destination)
        self._on_closed(self)

    def drop(self) -> None:
        """Cut the connection now, without ERROR or flushing (a crash, for tests)."""
        self._closing = True
        self._close_started = True
        if not self._lost:
            self._transport.abort()

    def shutdown(self) -> None:
        """The broker stops: close now, without waiting for writes a delay fault holds."""
        self._closing = True
        if self._outbox_handle is not None:
            self._outbox_handle.cancel()
            self._outbox_handle = None
        self._outbox.clear()
        self._outbox_bytes = 0
        if self._abort_handle is None:
            self._close_transport()

    # ------------------------------------------------------------------ core driving

    def _process(self, now: float) -> None:
        """Drain the core's events, then re-arm the timer (the driver contract)."""
        while not self._closing:
            try:
                event = self._core.next_event()
            except RemoteProtocolError as exc:
                # The core queued the ERROR frame already (server role): write it, close.
                log.info("connection %d: protocol error: %s", self.index, exc.message)
                self._emit(self._core.data_to_send(now=now), "ERROR", now)
                self._closing = True
                self._begin_close()
                break
            if event is NEED_DATA:
                break
            try:
                self._handle(event, now)
            except Exception:  # a broker bug: contain it to this connection
                log.exception("connection %d: internal error handling %r", self.index, event)
                self._fail("internal broker error")
        self._arm_timer()

    def _arm_timer(self) -> None:
        deadline = None if self._closing else self._core.get_timer()
        if deadline == self._timer_deadline:
            return
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None
        self._timer_deadline = deadline
        if deadline is not None:
            self._timer_handle = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        deadline = self._timer_deadline
        self._timer_handle = None
        self._timer_deadline = None
        if self._closing:
            return
        # call_at may fire within the clock's resolution before the deadline.
        now = max(self._loop.time(), deadline or 0.0)
        self._core.handle_timer(now=now)
        self._emit(self._core.data_to_send(now=now), None, now)
        self._process(now)

    def _send(self, event: FrameEvent) -> None:
        now = self._loop.time()
        self._core.send(event, now=now)
        self._emit(self._core.data_to_send(now=now), event.command, now)

    def _fail(self, message: str, *, receipt_id: str | None = None) -> None:
        """Send ERROR (spec 1.2 "ERROR": the server closes right after it) and close."""
        if self._closing:
            return
        self._closing = True
        message = " ".join(message.splitlines())  # a 1.0 header cannot carry a newline
        log.info("connection %d: ERROR %s", self.index, message)
        # LocalProtocolError: the session is over already (e.g. closed by DISCONNECT).
        with contextlib.suppress(LocalProtocolError):
            self._send(Error(message=message, receipt_id=receipt_id))
        self._begin_close()

    # ------------------------------------------------------------------ events

    def _handle(self, event: object, now: float) -> None:
        if isinstance(event, HeartbeatReceived):
            return
        if isinstance(event, (ConnectionClosed, HeartbeatTimeout, ConnectTimeout)):
            log.info("connection %d: %s", self.index, type(event).__name__)
            self._closing = True
            self._begin_close()
            return
        assert isinstance(event, FrameEvent), event
        self._frames_received += 1
        limit = self.faults.close_after_received
        if limit is not None and self._frames_received >= limit:
            self._closing = True
            self._begin_close()
            return
        receipt = event.get("receipt")
        try:
            if event.command in self.faults.error_on:
                raise _Refused(f"injected fault: {event.command} refused")
            if isinstance(event, Connect):
                self._on_connect(event)
                return
            if isinstance(event, Disconnect):
                self._on_disconnect(event)
                return
            self._on_frame(event)
        except _Refused as exc:
            self._fail(str(exc), receipt_id=receipt)
            return
        if receipt is not None and not self._closing:
            self._send(Receipt(receipt_id=receipt))
        self._after_receipt(event)

    def _on_connect(self, event: Connect) -> None:
        self.login = event.login
        faults = self.faults
        if faults.connect_error is not None:
            raise _Refused(faults.connect_error)
        if self._refusal is not None:
            # Spec 1.2 "CONNECT": the server may reject it with an ERROR frame.  (A server
            # cannot send ERROR before CONNECT, so a refused connection waits for it.)
            raise _Refused(self._refusal)
        users = self._settings.users
        if users is not None and (event.login is None or users.get(event.login) != event.passcode):
            # Same answer for an unknown login and a wrong passcode: no user enumeration.
            raise _Refused("access refused: unknown login or wrong passcode")
        version = self._core.proposed_version
        assert version is not None  # the core refused the CONNECT otherwise
        if version == "1.0":
            heart_beat = (0, 0)  # 1.0 has no heart-beating
        elif self._settings.heart_beat is not None:
            heart_beat = self._settings.heart_beat
        else:
            # Mirror the client's wish (RabbitMQ does the same): we send as often as it
            # wants to receive, and expect what it offers to send, so the negotiated
            # intervals (spec 1.2 "Heart-beating") are exactly the client's.
            heart_beat = (event.heart_beat[1], event.heart_beat[0])
        self._send(
            Connected(
                version=version,
                heart_beat=heart_beat,
                session=f"session-{self.index}",
                server=self._settings.server_name,
            )
        )

    def _on_disconnect(self, event: Disconnect) -> None:
        # Spec 1.2 "DISCONNECT": answer the receipt, then close; the core moved to
        # DISCONNECTING (receipt awaited) or CLOSED (no receipt).
        if event.receipt is not None:
            self._send(Receipt(receipt_id=event.receipt))
        self._closing = True
        self._begin_close()

    def _on_frame(self, event: FrameEvent) -> None:
        if isinstance(event, Send):
            if event.transaction is not None:
                self._hold(event.transaction, event)
            else:
                message = self._message(event)
                self._check_room([message.destination])
                if self._router.stores(message.destination):
                    self._check_store(message.size)
                self._router.publish(message)
        elif isinstance(event, Subscribe):
            self._subscribe(event)
        elif isinstance(event, Unsubscribe):
            self._unsubscribe(event)
        elif isinstance(event, Ack):  # and Nack
            if event.transaction is not None:
                self._hold(event.transaction, event)
            else:
                self._acknowledge(event)
        elif isinstance(event, (Commit, Abort)):
            held = self._transactions.pop(event.transaction, [])
            # The held SENDs are no longer stored here; published, they count again.
            self._budget.stored_bytes -= self._transaction_bytes.pop(event.transaction, 0)
            if isinstance(event, Commit):
                self._commit(held)
        elif isinstance(event, Begin):
            self._transactions[event.transaction] = []
            self._transaction_bytes[event.transaction] = 0
        else:  # pragma: no cover - the core's state tables admit no other client frame
            raise _Refused(f"unexpected {event.command} frame")

    def _after_receipt(self, event: FrameEvent) -> None:
        # A new subscription gets its backlog after the RECEIPT of its SUBSCRIBE, so a
        # client that waits for the receipt sees the receipt first.
        if isinstance(event, Subscribe) and not self._closing:
            key = event.id if event.id is not None else event.destination
            sub = self._subscriptions.get(key)
            if sub is not None:  # pragma: no branch - added by _subscribe just before
                self._router.dispatch(sub.destination)

    # ------------------------------------------------------------------ broker actions

    def _check_room(self, destinations: list[str]) -> None:
        try:
            self._router.check_room(destinations)
        except QueueFull as exc:
            raise _Refused(str(exc)) from None

    def _check_store(self, size: int) -> None:
        try:
            self._budget.check_store(size)
        except LimitReached as exc:
            raise _Refused(str(exc)) from None

    def _message(self, event: Send) -> StoredMessage:
        headers = tuple(
            (k, self._temp_queue(v) if k == "reply-to" and v.startswith(TEMP_QUEUE_PREFIX) else v)
            for k, v in event.headers
            if k not in _RESERVED
        )
        destination = self._resolve(event.destination)
        return self._router.new_message(destination, event.body, event.content_type, headers)

    def _resolve(self, destination: str) -> str:
        """Where a SEND to ``destination`` goes: our own temporary queue for a
        ``/temp-queue/`` name, else the name itself."""
        if destination.startswith(TEMP_QUEUE_PREFIX):
            return self._temp_queue(destination)
        return destination

    def _temp_queue(self, name: str, *, implicit: bool = True) -> str:
        """The broker's name of our temporary queue ``name`` (``/temp-queue/...``),
        created on first use; ``implicit``: read it with an implicit subscription whose
        id is ``name`` (RabbitMQ), unless the client subscribed to it itself."""
        existing = self._temp_queues.get(name)
        if existing is not None:
            return existing
        if name == TEMP_QUEUE_PREFIX:
            raise _Refused(f"a temporary queue needs a name after {TEMP_QUEUE_PREFIX}")
        try:
            self._budget.check_temp_queue(len(self._temp_queues))
            if implicit:
                self._budget.check_subscription(len(self._subscriptions))
        except LimitReached as exc:
            raise _Refused(str(exc)) from None
        if implicit and name in self._subscriptions:
            # The client's own subscription has that id (or, in 1.0, that destination
            # and no id): an implicit one would be indistinguishable from it.
            raise _Refused(f"subscription id {name!r} is in use: cannot read {name} with it")
        queue = self._router.create_temp_queue(self)
        self._temp_queues[name] = queue
        if implicit:
            sub = Subscription(self, name, name, queue, "auto", self._settings.max_unacked)
            self._subscriptions[name] = sub
            self._implicit[name] = sub
            self._budget.subscriptions += 1
            self._router.subscribe(sub)
        return queue

    def _hold(self, transaction: str, event: Send | Ack) -> None:
        held = self._transactions[transaction]  # the core checked it is open
        if len(held) >= self._settings.max_transaction_frames:
            raise _Refused(
                f"transaction {transaction} holds too many frames "
                f"({self._settings.max_transaction_frames}; max_transaction_frames)"
            )
        if isinstance(event, Send):
            # Held SENDs are stored messages too (spec 1.2 "BEGIN": nothing happens
            # before COMMIT, but the broker keeps them until then).
            size = self._message(event).size
            self._check_store(size)
            self._budget.stored_bytes += size
            self._transaction_bytes[transaction] += size
        held.append(event)

    def _commit(self, held: list[Send | Ack]) -> None:
        # All or nothing: check every queue has room and every ACK/NACK names a message
        # that is still unacknowledged before carrying any of them out.
        self._check_room([self._resolve(e.destination) for e in held if isinstance(e, Send)])
        for e in held:
            if isinstance(e, Ack):
                self._find_unacked(e)
        for e in held:
            if isinstance(e, Send):
                self._router.publish(self._message(e))
            else:
                self._acknowledge(e, strict=False)

    def _subscribe(self, event: Subscribe) -> None:
        window = self._settings.max_unacked
        for name in _PREFETCH_HEADERS:
            value = event.get(name)
            if value is not None:
                if not value.isdigit() or int(value) < 1:
                    raise _Refused(f"{name} must be a positive integer, got {value!r}")
                window = min(window, int(value))
                break
        try:
            self._budget.check_subscription(len(self._subscriptions))
        except LimitReached as exc:
            raise _Refused(str(exc)) from None
        key = event.id if event.id is not None else event.destination
        destination = event.destination
        if destination.startswith(TEMP_QUEUE_PREFIX):
            # ActiveMQ's way: the owner reads its temporary queue with its own
            # subscription, which replaces the implicit one (no two readers of replies).
            implicit = self._implicit.pop(destination, None)
            if implicit is not None:
                del self._subscriptions[implicit.key]
                self._end_subscription(implicit)
            destination = self._temp_queue(destination, implicit=False)
        elif destination.startswith(REPLY_QUEUE_PREFIX):
            owner = self._router.temp_queue_owner(destination)
            if owner is None:
                raise _Refused(f"no temporary queue {destination}")
            if owner is not self:
                # RabbitMQ: "RESOURCE_LOCKED - cannot obtain exclusive access".
                raise _Refused(
                    f"temporary queue {destination} belongs to another connection: "
                    "only its owner may subscribe to it"
                )
        sub = Subscription(self, key, event.id, destination, event.ack, window)
        self._subscriptions[key] = sub
        self._budget.subscriptions += 1
        self._router.subscribe(sub)

    def _unsubscribe(self, event: Unsubscribe) -> None:
        key = event.id if event.id is not None else event.destination or ""
        if key in self._subscriptions:
            sub = self._subscriptions.pop(key)
            self._implicit.pop(key, None)
            self._end_subscription(sub)
            return
        # Spec 1.0 "UNSUBSCRIBE": a client may name the subscription by its destination
        # although it gave the SUBSCRIBE an id; the core accepted it for each of them.
        for sub in [s for s in self._subscriptions.values() if s.destination == key]:
            del self._subscriptions[sub.key]
            self._end_subscription(sub)

    def _end_subscription(self, sub: Subscription) -> None:
        self._budget.subscriptions -= 1
        self._router.unsubscribe(sub)
        self._parked.pop(sub, None)
        self._forget_unacked(sub, list(sub.unacked))
        self._router.requeue(sub.destination, list(sub.unacked.values()))
        sub.unacked.clear()
        self._router.dispatch(sub.destination)

    def _find_unacked(self, event: Ack) -> tuple[Subscription, str]:
        if event.subscription is not None:
            candidates = [self._subscriptions.get(event.subscription)]
        else:
            candidates = list(self._unacked_by_id.get(event.id, ()))
        for sub in candidates:
            if sub is not None and event.id in sub.unacked:
                return sub, event.id
        raise _Refused(f"{event.command} for {event.id!r}: no such unacknowledged message")

    def _acknowledge(self, event: Ack, *, strict: bool = True) -> None:
        """Carry out an ACK or NACK; ``client`` mode is cumulative (spec 1.2 "SUBSCRIBE")."""
        try:
            sub, key = self._find_unacked(event)
        except _Refused:
            if strict:
                raise
            return  # a cumulative ACK earlier in the same COMMIT covered it
        if sub.ack == "client":
            # Everything delivered up to and including this message (NACK likewise:
            # RabbitMQ's "multiple" NACK).
            keys = [*itertools.takewhile(lambda k: k != key, sub.unacked), key]
        else:
            keys = [key]
        messages = [sub.unacked.pop(k) for k in keys]
        self._forget_unacked(sub, keys)
        if isinstance(event, Nack):
            self._router.requeue(sub.destination, messages)
        else:
            self._router.acknowledged(messages)
        # Its window has room again: back in its queue's ready line.
        self._router.wake(sub)
        self._router.dispatch(sub.destination)

    def _forget_unacked(self, sub: Subscription, keys: list[str]) -> None:
        index = self._unacked_by_id
        for key in keys:
            holders = index.get(key)
            if holders is not None:
                holders.remove(sub)
                if not holders:
                    del index[key]

    def deliver(self, subscription: Subscription, message: StoredMessage) -> bool:
        """Write ``message`` as a MESSAGE frame for ``subscription``."""
        if not self.can_receive():
            return False
        version = self._core.version
        ack_id: str | None = None
        key = message.message_id
        if subscription.ack != "auto" and version == "1.2":
            # 1.2 acknowledges by the MESSAGE's ack header: one id per delivery.
            ack_id = key = f"{self.index}.{next(self._ack_ids)}"
        headers = message.headers
        if message.redelivered:
            headers = (*headers, ("redelivered", "true"))
        try:
            self._send(
                Message(
                    destination=message.destination,
                    message_id=message.message_id,
                    subscription=subscription.id,
                    ack=ack_id,
                    body=message.body,
                    content_type=message.content_type,
                    headers=headers,
                )
            )
        except LocalProtocolError as exc:
            # The sender spoke a richer version: e.g. a header with a newline cannot be
            # written in STOMP 1.0.  This consumer cannot take the message; a queue keeps
            # it for another one (never silent loss).
            self._fail(f"cannot deliver {message.message_id} in STOMP {version}: {exc.message}")
            return False
        if subscription.ack != "auto":
            subscription.unacked[key] = message
            self._unacked_by_id.setdefault(key, []).append(subscription)
            if len(subscription.unacked) > subscription.window and is_topic(message.destination):
                self._fail(
                    f"subscription {subscription.key}: more than {subscription.window} "
                    "unacknowledged messages (max_unacked)"
                )
        return True

    # ------------------------------------------------------------------ output pipeline

    def _emit(self, data: bytes, command: str | None, now: float) -> None:
        """Pass one frame (``command``) or heart-beat (``None``) through the faults."""
        if not data or self._lost:
            return
        faults = self.faults
        if command is None:
            if not faults.stop_heartbeats:
                self._queue_write(data, now, faults.delay_frames)
            return
        if faults.drops(command):
            return
        number = self._frames_sent + 1
        limit = faults.close_after_frames
        if limit is not None and number > limit:
            # Past the limit: cut this frame in half if asked, then close.
            if faults.close_mid_frame:
                self._queue_write(data[: max(1, len(data) // 2)], now, faults.delay_frames)
            self._closing = True
            self._begin_close()
            return
        if faults.send_malformed_after == 0 and not self._malformed_sent:
            self._malformed_sent = True
            self._queue_write(MALFORMED_FRAME, now, faults.delay_frames)
        self._frames_sent = number
        self._queue_write(data, now, faults.delay_frames)
        if faults.send_malformed_after == number and not self._malformed_sent:
            self._malformed_sent = True
            self._queue_write(MALFORMED_FRAME, now, faults.delay_frames)
        if limit is not None and number >= limit and not faults.close_mid_frame:
            self._closing = True
            self._begin_close()

    def _queue_write(self, data: bytes, now: float, delay: float) -> None:
        if self._close_started:
            return
        if not self._outbox and delay <= 0:
            self._write(data)
            return
        due = max(now + delay, self._last_due)
        self._last_due = due
        self._outbox.append((due, data))
        self._outbox_bytes += len(data)
        self._arm_outbox()
        self._check_outbound(len(data))

    def _arm_outbox(self) -> None:
        if self._outbox_handle is None and self._outbox and not self._lost:
            self._outbox_handle = self._loop.call_at(self._outbox[0][0], self._drain_outbox)

    def _drain_outbox(self) -> None:
        self._outbox_handle = None
        now = self._loop.time()
        while self._outbox and self._outbox[0][0] <= now and not self._lost:
            _due, data = self._outbox.popleft()
            if data is None:
                self._close_transport()
                return
            self._outbox_bytes -= len(data)
            self._write(data)
        self._arm_outbox()

    def _write(self, data: bytes) -> None:
        self._transport.write(data)
        self._check_outbound(len(data))

    def _check_outbound(self, writing: int) -> None:
        # The frame being written does not count: a message larger than the bound is
        # delivered to a consumer that reads, and the bound applies to what the client
        # left unread before it.
        buffered = self._transport.get_write_buffer_size() + self._outbox_bytes - writing
        if buffered > self._settings.max_outbound_bytes and not self._closing:
            self._fail(
                f"slow consumer: {buffered} bytes waiting to be read "
                f"(max_outbound_bytes={self._settings.max_outbound_bytes})"
            )

    def _begin_close(self) -> None:
        """Close once everything queued so far was written (delayed writes included)."""
        if self._close_started:
            return
        if self._outbox:
            self._outbox.append((self._last_due, None))
            self._close_started = True
            return
        self._close_transport()

    def _close_transport(self) -> None:
        self._close_started = True
        if self._lost or self._abort_handle is not None:
            return
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None
            self._timer_deadline = None
        if _can_half_close(self._transport):
            # Written out first, then FIN; the transport keeps reading (and we discard)
            # until the client closes too, so no reset destroys what it did not read yet.
            try:
                self._transport.write_eof()
            except OSError:  # the peer is gone already (ENOTCONN)
                self._transport.close()
        else:
            self._transport.close()
        # A client that never reads, or never closes, would keep the connection forever.
        self._abort_handle = self._loop.call_later(
            self._settings.close_timeout, self._transport.abort
        )

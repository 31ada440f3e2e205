"""The client both async drivers derive from: :class:`ClientBase`.

Its public half is the API users call (``send``, ``subscribe``, ``transaction``,
``state_changes`` and what a client shows); its private half is what both drivers'
clients decide alike: the dial loop, the reconnect decision, the replay of subscriptions,
what the session's outcomes mean, the send path, leaving, failing for good.  The driver
provides the I/O (``_dial``, ``_write_soon``, ``_check_sending``, ...), as abstract
methods, and its links (``turn``, ``send``, ``flush``; ``_driver.py`` says what else).

Nothing here does I/O, reads a clock or logs: every ``await`` is on a method or object
the driver provides, and its logger is passed in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from .._connection import CLIENT, Connection
from .._errors import LocalProtocolError
from .._events import (
    Disconnect,
    Event,
    FrameEvent,
    Subscribe,
    Unsubscribe,
)
from .._events import Message as MessageEvent
from .._framelog import LoggedConnection
from .._metrics import Metrics, MetricsSnapshot
from .._state import State
from ._addresses import Endpoint
from ._arguments import AckMode, check_subscribe_arguments
from ._driver import DEBUG, FrameLog, LinkView, Logger, ReceiptWaiter, ReplyWaiter
from ._errors import (
    BrokerError,
    ConnectFailed,
    ConnectionLost,
    ReceiptTimeout,
    StompError,
    connection_lost,
)
from ._frames import send_builder
from ._hooks import ClientHooks, _no_checkpoint
from ._lifecycle import ClientState, StateChange
from ._objects import MessageBase, Signal, StateChangesBase, SubscriptionBase, TransactionBase
from ._options import ClientOptions
from ._received import ReceivedMessage
from ._replies import CORRELATION_ID, PendingRequests, reply_destination, reply_headers
from ._session import (
    ClientSession,
    Deliver,
    Ignored,
    ReceiptDone,
    Unhandled,
    Wait,
    report_unhandled,
)

__all__ = [
    "ClientBase",
    "MessageBase",
    "Signal",
    "StateChangesBase",
    "SubscriptionBase",
    "TransactionBase",
]

S = TypeVar("S", bound="SubscriptionBase[Any]")
M = TypeVar("M", bound="MessageBase[Any]")
X = TypeVar("X", bound="TransactionBase")
C = TypeVar("C", bound="StateChangesBase")


class _IdInUse(LocalProtocolError, ValueError):
    """A subscription id already in use: a ``LocalProtocolError`` (nothing was sent), and
    the ``ValueError`` ``stomp_asyncio`` raised for it before the drivers shared it."""


def _usable(link: LinkView) -> bool:
    """Whether frames may still be handed to ``link``'s core."""
    return not link.ended and link.core.state is State.CONNECTED


def _pin(transaction: TransactionBase | str | None) -> tuple[str | None, int | None]:
    """The transaction id a frame carries, and the connection it must go out on."""
    if not isinstance(transaction, TransactionBase):
        return transaction, None
    transaction._check()  # ConnectionLost if the broker aborted it
    return transaction.id, transaction._generation


# -- the client --------------------------------------------------------------------------


class ClientBase(ABC, Generic[S, M, X, C]):
    """The API both async clients share (their ``Client`` classes derive from it).

    Args:
        options: the client's settings.
        rng: random numbers in ``[0, 1)`` for the reconnect jitter.
        subscription: makes the driver's subscription, with the arguments of
            :class:`SubscriptionBase`.
        transaction: makes the driver's transaction, with the arguments of
            :class:`TransactionBase`.
        signal: makes a fresh :class:`Signal`.
        observer: makes the driver's state-change observer, with the arguments of
            :class:`StateChangesBase`.
        log: the driver's logger.
        frames: the driver's frame log: while it is enabled for DEBUG when a connection
            opens, each frame of it is logged there, passcodes and Authorization-like
            headers masked (:func:`stomp_core.frame_log`).
        checkpoint: the driver's cancellation point, awaited where nothing else is
            (:attr:`ClientHooks.checkpoint`; by default none).
        reply_token: names this client's temporary reply queue (:meth:`request`); the
            driver draws it at random, e.g. a UUID's hex, since the core draws nothing.
    """

    _link: LinkView | None
    #: What an observer made after ``CLOSED`` gets: that change once (``True``), or an
    #: iteration that ends at once.
    _late_observer_sees_closed = True
    #: Unread state changes kept per observer before the oldest are dropped.
    _changes_kept = 100
    #: Whether each dial is reported before it is made (failures always are).
    _reports_each_dial = True
    #: What :meth:`request` raises when no reply comes in time (the driver's own kind).
    _too_slow: type[Exception] = TimeoutError

    def __init__(
        self,
        options: ClientOptions,
        *,
        rng: Callable[[], float],
        subscription: Callable[..., S],
        message: Callable[[S, MessageEvent, int], M],
        transaction: Callable[..., X],
        signal: Callable[[], Signal],
        observer: Callable[..., C],
        log: Logger,
        frames: FrameLog,
        checkpoint: Callable[[], Awaitable[None]] = _no_checkpoint,
        reply_token: str,
    ) -> None:
        self._options = options
        #: Counters over all connections of this client (``metrics()``).
        self._metrics = Metrics()
        self._requests: PendingRequests[ReplyWaiter] = PendingRequests(reply_token)
        #: Fired when a request() finished writing the reply SUBSCRIBE (others wait).
        self._reply_gate: Signal | None = None
        self._log = log
        self._frames = frames
        self._new_observer = observer
        self._observers: list[C] = []
        #: The error that ended the client for good (``None``: closed as asked).
        self._final_error: BaseException | None = None
        self._session: ClientSession[S, ReceiptWaiter] = ClientSession(options, rng=rng)
        self._new_subscription = subscription
        self._new_message = message
        self._new_transaction = transaction
        self._new_signal = signal
        #: Fired when a link is published or the client ends: senders look again.
        self._link_ready = signal()
        self._hooks: ClientHooks[S, M, X] = ClientHooks(
            send=self._send,
            subscribe=self._subscribe,
            unsubscribe=self._unsubscribe,
            acknowledge=self._acknowledge,
            room=self._room,
            generation=lambda: self._session.generation,
            unsubscribe_soon=self._unsubscribe_soon,
            queue=self._queue,
            checkpoint=checkpoint,
        )

    def __repr__(self) -> str:
        where = f" {self.endpoint}" if self.endpoint is not None else ""
        version = f" STOMP {self.version}" if self.version else ""
        return f"<{self._log.name}.Client {self.state.value}{where}{version}>"

    # -- what users can look at ----------------------------------------------------------

    @property
    def state(self) -> ClientState:
        """Where the client is in its life (see ``state_changes()``)."""
        return self._session.state

    @property
    def version(self) -> str | None:
        """The STOMP version negotiated on the current (or last) connection."""
        connected = self._session.connected
        return connected.version if connected is not None else None

    @property
    def session(self) -> str | None:
        """The ``session`` header of the last CONNECTED frame."""
        connected = self._session.connected
        return connected.session if connected is not None else None

    @property
    def server(self) -> str | None:
        """The ``server`` header of the last CONNECTED frame."""
        connected = self._session.connected
        return connected.server if connected is not None else None

    @property
    def endpoint(self) -> Endpoint | None:
        """The broker of the current (or last) connection."""
        return self._link.endpoint if self._link is not None else None

    @property
    def heartbeat(self) -> tuple[int, int]:
        """Negotiated ``(we send every, we expect every)`` in ms; ``(0, 0)`` for none."""
        return self._link.core.heartbeat if self._link is not None else (0, 0)

    @property
    def heartbeats_received(self) -> int:
        """Heart-beats received from brokers, over all connections."""
        return self._session.heartbeats_received

    def metrics(self) -> MetricsSnapshot:
        """The client's counters now, over all its connections (frames, bytes, messages,
        acks, heart-beats, reconnects, receipt round trips): see
        :class:`stomp_core.MetricsSnapshot`."""
        return self._metrics.snapshot()

    def _new_core(self) -> Connection:
        """The core of a new connection, sharing the client's counters; it logs each frame
        if the frame log is enabled for DEBUG now (an unlogged connection pays nothing)."""
        if not self._frames.isEnabledFor(DEBUG):
            return Connection(CLIENT, self._options.config, metrics=self._metrics)
        write = self._frames.debug
        return LoggedConnection(CLIENT, self._options.config, write=write, metrics=self._metrics)

    def state_changes(self) -> C:
        """Observe the client's state changes: ``async for change in client.state_changes()``.

        Each call makes an independent observer that reports every transition
        (``CONNECTING``, ``CONNECTED``, ``RECONNECTING``, ``DISCONNECTING``, ``CLOSED``)
        and every failed connection attempt (same state, with ``endpoint``, ``error`` and
        ``attempt``; ``stomp_asyncio`` also reports each attempt as it starts), from the
        moment this is called.  The iterator ends
        after ``CLOSED``; unread changes beyond a bound are dropped, oldest first.  Run
        it in a task of its own::

            async for change in client.state_changes():
                print(change.state, change.endpoint, change.error)
        """
        observer = self._new_observer(self._new_signal(), self._changes_kept, self._detach)
        if self.state is not ClientState.CLOSED:
            self._observers.append(observer)
            return observer
        if self._late_observer_sees_closed:
            observer.push(StateChange(ClientState.CLOSED, error=self._final_error))
        observer.close()
        return observer

    def _detach(self, observer: StateChangesBase) -> None:
        self._observers = [kept for kept in self._observers if kept is not observer]

    def _set_state(
        self,
        state: ClientState,
        *,
        endpoint: Endpoint | None = None,
        error: BaseException | None = None,
        attempt: int = 0,
    ) -> None:
        """Move to ``state`` and tell every observer."""
        change = self._session.set_state(state, endpoint=endpoint, error=error, attempt=attempt)
        if error is not None:
            self._log.info("state %s (%s: %s)", state.value, endpoint, error)
        else:
            self._log.info("state %s (%s)", state.value, endpoint)
        for observer in list(self._observers):
            observer.push(change)
        if state is ClientState.CLOSED:
            self._observers.clear()  # each ends after this change

    def _finish(self, error: BaseException | None) -> None:
        """The client is closed for good (``error``: why; ``None``: as asked): the
        subscriptions still open end their iterations (raising ``error`` once drained),
        and ``CLOSED`` is reported, once."""
        if self.state is ClientState.CLOSED:
            return
        self._final_error = error
        for sub in self._session.finish():
            if not sub.closed:
                sub._close(error)
        self._set_state(ClientState.CLOSED, endpoint=self.endpoint, error=error)

    # -- what users do -------------------------------------------------------------------

    async def send(
        self,
        destination: str,
        body: bytes | str = b"",
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        transaction: TransactionBase | str | None = None,
        receipt: bool = False,
    ) -> None:
        """SEND a message.

        Cancellation: before the frame is handed over nothing is sent; once it is, it
        stays sent; a frame cut half-way breaks the connection (it is reconnected),
        because the stream would be corrupt; while awaiting the receipt the frame was
        sent and the receipt is simply no longer awaited.

        Args:
            destination: e.g. ``"/queue/orders"``.
            body: bytes, or text (encoded by the content type's charset; a ``str`` with
                no content type is sent as ``text/plain;charset=utf-8``, conformance 37).
            content_type: the body's MIME type.
            headers: extra headers (e.g. ``persistent``, ``expires``).
            transaction: a transaction (or its id) to send within.
            receipt: return only once the broker confirmed it with a RECEIPT.

        Raises:
            BrokerError: the broker answered with ERROR.
            ReceiptTimeout: no RECEIPT within ``receipt_timeout`` (it may still arrive).
            ConnectionLost: the connection dropped before the frame was written (or,
                with ``receipt``, before it was confirmed), or reconnecting took longer
                than ``connect_timeout``.
            stomp_core.LocalProtocolError: the frame is illegal (e.g. bad headers).
        """
        tx, generation = _pin(transaction)
        build = send_builder(
            destination,
            body,
            content_type=content_type,
            headers=headers,
            transaction=tx,
        )
        await self._send(build, receipt, generation)

    def subscribe(
        self,
        destination: str,
        *,
        ack: AckMode = "auto",
        headers: Mapping[str, str] | None = None,
        id: str | None = None,
        receipt: bool = False,
        buffer: int | None = None,
    ) -> S:
        """A subscription to ``destination``, active inside ``async with``.

        Args:
            destination: e.g. ``"/queue/work"`` or ``"/topic/news"``.
            ack: ``"auto"``, ``"client"`` or ``"client-individual"`` (1.1+).
            headers: extra SUBSCRIBE headers, e.g. ``{"prefetch-count": "10"}`` for
                RabbitMQ or ``{"activemq.prefetchSize": "10"}`` for ActiveMQ (keep it
                at most the buffer size).
            id: the subscription id; default ``sub-1``, ``sub-2``, ...
            receipt: wait on entering until the broker confirmed the subscription.
            buffer: messages buffered before back-pressure; default
                ``subscription_buffer``.

        Raises:
            ValueError: an unknown ack mode or a bad ``buffer``.
        """
        check_subscribe_arguments(ack, buffer)
        return self._new_subscription(
            self._new_signal(),
            self._hooks,
            destination,
            id=id if id is not None else self._session.next_subscription_id(),
            ack=ack,
            headers=headers,
            receipt=receipt,
            capacity=buffer if buffer is not None else self._options.subscription_buffer,
            max_bytes=self._options.subscription_buffer_bytes,
        )

    def transaction(self, *, id: str | None = None) -> X:
        """A transaction: ``async with client.transaction() as tx:``.

        BEGIN is sent on entering; COMMIT (confirmed by a RECEIPT) on a normal exit;
        ABORT when the block raises.  Its ``begin()``, ``commit()`` and ``abort()`` do
        the same by hand.

        Args:
            id: the transaction id; default ``tx-1``, ``tx-2``, ...
        """
        return self._new_transaction(
            id if id is not None else self._session.next_transaction_id(),
            session=self._session,
            hooks=self._hooks,
        )

    async def request(
        self,
        destination: str,
        body: bytes | str = b"",
        *,
        timeout: float | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ReceivedMessage:
        """SEND a request and return its reply (see the "Request/reply" recipe).

        The SEND carries ``reply-to`` (a temporary queue private to this client) and a
        fresh ``correlation-id``; the server answers with :meth:`reply`.  The event
        loop's cancellation bounds the call too.

        Args:
            timeout: seconds to wait for the reply (default ``receipt_timeout``).

        Raises:
            TimeoutError: no reply in time (``trio.TooSlowError`` in ``stomp_trio``,
                ``asyncio.TimeoutError`` in ``stomp_asyncio``); a later reply is dropped
                with a debug log line.
            ConnectionLost: the connection dropped first (the temporary queue, and the
                reply with it, went with the connection).
            ValueError: ``headers`` sets ``reply-to`` or ``correlation-id``.
        """
        await self._subscribe_for_replies()
        waiter = ReplyWaiter(self._new_signal())
        request_headers = self._requests.start(waiter, headers)
        try:
            await self.send(destination, body, content_type=content_type, headers=request_headers)
            wait = self._options.receipt_timeout if timeout is None else timeout
            if not await self._wait_for(waiter.wait(), wait):
                raise self._too_slow(
                    f"no reply to the request sent to {destination!r} within {wait:g} s"
                )
            if isinstance(waiter.outcome, BaseException):
                raise waiter.outcome
            assert waiter.outcome is not None  # fired only with an outcome
            return waiter.outcome
        finally:
            # From now on a reply to it is dropped (debug log).
            self._requests.give_up(request_headers[CORRELATION_ID])

    async def reply(
        self,
        message: ReceivedMessage,
        body: bytes | str = b"",
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        receipt: bool = False,
    ) -> None:
        """SEND ``body`` to ``message``'s ``reply-to``, with its ``correlation-id``.

        Raises:
            ValueError: ``message`` has no ``reply-to``.
        """
        await self.send(
            reply_destination(message.event),
            body,
            content_type=content_type,
            headers=reply_headers(message.event, headers),
            receipt=receipt,
        )

    # -- what the driver provides ---------------------------------------------------------

    @abstractmethod
    def _check_sending(self) -> None: ...  # raise ConnectionLost if it can never send

    @abstractmethod
    def _write_soon(self, link: Any, event: FrameEvent) -> None: ...  # core.send, flush later

    @abstractmethod
    def _room(self, sub: S) -> None: ...  # a full buffer has room again

    @abstractmethod
    def _deliver(self, link: Any, outcome: Deliver[S]) -> None: ...  # into sub's buffer

    def _buffer_filled(self, sub: S) -> None:
        """A message of a read's batch filled ``sub``'s buffer (``_deliver_ready``)."""

    @abstractmethod
    async def _sleep(self, seconds: float) -> None: ...  # between dial rounds

    @abstractmethod
    async def _wait_for(self, wait: Awaitable[None], seconds: float) -> bool: ...  # False: timeout

    @abstractmethod
    async def _dial(self, endpoint: Endpoint) -> Any: ...  # a link that is CONNECTED

    @abstractmethod
    def _fail(self, error: StompError) -> None: ...  # closed for good: tell the user

    # -- shared internals ----------------------------------------------------------------

    def _live_link(self) -> Any:
        """The link to send on now, or ``None`` (reconnecting); raises if the client can
        never send again (``_check_sending``)."""
        self._check_sending()
        link = self._link
        return link if self.state is ClientState.CONNECTED and self._sendable(link) else None

    async def _ready_link(self) -> Any:
        """The link to send on, waiting up to ``connect_timeout`` while reconnecting."""
        link = self._live_link()
        if link is not None:
            return link  # the usual case, without the cost of a timeout
        found: list[Any] = []

        async def published() -> None:
            while (link := self._live_link()) is None:
                await self._link_ready.wait()
            found.append(link)

        timeout = self._options.connect_timeout
        if not await self._wait_for(published(), timeout):
            raise ConnectionLost(f"not connected: still reconnecting after {timeout:g} s")
        return found[0]

    async def _send(
        self, build: Callable[[str | None], FrameEvent], receipt: bool, generation: int | None
    ) -> int:
        """The send path (:data:`SendFrame`): one frame built by ``build(receipt_id)``,
        written on the live link in its writers' turn; with ``receipt``, await it.

        Cancellation: before the turn is taken nothing happened; during the write the
        link breaks (``send_failed``) and the client reconnects; while awaiting the
        receipt the frame was sent and the receipt is simply no longer awaited.
        """
        link = await self._ready_link()
        receipt_id = self._session.next_receipt_id() if receipt else None
        try:
            event = build(receipt_id)
            waiter: ReceiptWaiter | None = None
            async with link.turn:
                if not self._sendable(link) or generation not in (None, link.generation):
                    lost = "the connection was lost before the frame was sent"
                    raise connection_lost(lost, link.reason)
                link.send(event)  # LocalProtocolError here: nothing queued, nothing changed
                self._session.record(event)
                if receipt_id is not None:
                    waiter = ReceiptWaiter(self._new_signal())
                    self._session.await_receipt(receipt_id, waiter)
                await link.flush()
            if waiter is not None:
                assert receipt_id is not None
                timeout = self._options.receipt_timeout
                if not await self._wait_for(waiter.wait(), timeout):
                    raise ReceiptTimeout(receipt_id, timeout)
                if waiter.error is not None:
                    raise waiter.error
        finally:
            if receipt_id is not None:
                # Given up (timeout, cancellation): the RECEIPT may still come.
                self._session.give_up_receipt(receipt_id)
        return int(link.generation)

    async def _connect(self, *, first: bool) -> Any:
        """Follow the session's dial plan until a broker answers CONNECTED; the link.

        Raises:
            ConnectFailed: the plan gave up, or a broker refused.
        """
        state = ClientState.CONNECTING if first else ClientState.RECONNECTING
        plan = self._session.dial_plan(first=first)
        while True:
            step = plan.next_step()
            if isinstance(step, Wait):
                self._log.info("reconnecting in %.3f s", step.seconds)
                await self._sleep(step.seconds)
                continue
            if self._reports_each_dial:
                self._set_state(state, endpoint=step.endpoint, attempt=step.attempt)
            try:
                return await self._dial(step.endpoint)
            except (ConnectFailed, ConnectionLost) as exc:
                attempts = plan.failed(exc)  # raises a refusal: never retried
                self._log.warning("connecting to %s failed: %s", step.endpoint, exc)
                self._set_state(state, endpoint=step.endpoint, error=exc, attempt=attempts)

    async def _reconnect(self, reason: StompError, endpoint: Endpoint | None) -> Any:
        """After the live link to ``endpoint`` was lost for ``reason``: the next link, or
        ``None`` when the client failed for good instead (``_fail`` was called)."""
        if not self._session.reconnects_after(reason):
            self._fail(reason)
            return None
        self._log.warning("connection to %s lost: %s; reconnecting", endpoint, reason)
        self._set_state(ClientState.RECONNECTING, endpoint=endpoint, error=reason)
        try:
            return await self._connect(first=False)
        except Exception as exc:  # ConnectFailed; anything else must not hang the client
            self._fail(connection_lost("the connection was lost and reconnecting failed", exc))
            return None

    async def _replay(self, link: Any) -> None:
        """Write the live subscriptions' SUBSCRIBEs on ``link`` (a new connection), in
        their original order, in its writers' turn: before anything else is written."""
        async with link.turn:
            for event in self._session.replay():
                try:
                    link.send(event)
                except LocalProtocolError as exc:
                    # E.g. another broker of the list negotiated 1.0, which has no
                    # client-individual: this subscription cannot live on this connection.
                    key = event.id or event.destination
                    sub = self._session.subscriptions.get(key)
                    self._session.remove_subscription(key, sent=False)
                    if sub is not None:
                        error = ConnectionLost(f"cannot subscribe again after reconnecting: {exc}")
                        sub._close(error)
            await link.flush()

    def _publish(self, link: Any) -> None:
        """``link`` is CONNECTED (and replayed): senders may use it from now on."""
        self._link = link
        self._set_state(ClientState.CONNECTED, endpoint=link.endpoint)
        self._link_ready.fire()

    def _leave(self) -> Disconnect:
        """The user leaves: late MESSAGEs are dropped from now on (the broker redelivers
        what was not acked), every subscription's iteration ends after its buffered
        messages; returns the DISCONNECT to send, whose RECEIPT the core acts on."""
        self._session.begin_closing()
        for sub in list(self._session.subscriptions.values()):
            sub._close()
        receipt = self._session.next_receipt_id()
        self._session.expect_receipt(receipt)
        return Disconnect(receipt=receipt)

    def _queue(self, event: FrameEvent, generation: int) -> bool:
        """Hand ``event`` to connection ``generation``, written without waiting (by
        whoever holds the write lock, after its own frame); ``False`` if that connection
        is gone or its core refuses the frame (e.g. it no longer has what it names)."""
        link = self._link
        if link is None or link.generation != generation or not _usable(link):
            return False
        try:
            self._write_soon(link, event)
        except LocalProtocolError:
            return False
        self._session.record(event)
        return True

    def _forget(self, sub: S) -> Any:
        """Stop routing to ``sub`` and end its iteration; the live link its SUBSCRIBE went
        out on, if the broker knows it (an UNSUBSCRIBE must follow there), else ``None``."""
        sub._close()
        if self._session.subscriptions.get(sub.id) is not sub:
            return None
        link = self._link
        sent = link is not None and _usable(link) and sub.id in link.core.subscriptions
        recorded = self._session.remove_subscription(sub.id, sent=sent)
        return link if sent and recorded else None

    async def _unsubscribe(self, sub: S, receipt: bool) -> None:
        """UNSUBSCRIBE ``sub`` now, if the broker knows it (:attr:`ClientHooks.unsubscribe`)."""
        link = self._forget(sub)
        if link is None:
            await self._hooks.checkpoint()
            return
        await self._send_unsubscribe(sub, link, receipt)

    async def _send_unsubscribe(self, sub: S, link: Any, receipt: bool) -> None:
        """UNSUBSCRIBE ``sub`` on ``link``.  If interrupted before it was written (the
        core still has the subscription), it is queued instead: never given up, since
        the broker would go on delivering to a subscription nobody reads (issue 14.2)."""
        try:
            await self._send(
                lambda rid: Unsubscribe(id=sub.id, receipt=rid), receipt, link.generation
            )
        except BaseException:
            if _usable(link) and sub.id in link.core.subscriptions:
                self._queue(Unsubscribe(id=sub.id), link.generation)
            raise

    def _unsubscribe_soon(self, sub: S) -> None:
        """Forget ``sub`` and queue its UNSUBSCRIBE without waiting (a SUBSCRIBE that
        failed or was cancelled, a block left that must not block)."""
        link = self._forget(sub)
        if link is not None:
            self._queue(Unsubscribe(id=sub.id), link.generation)

    def _sendable(self, link: Any) -> bool:
        """Whether ``link`` is the live one and may take a frame now (the session says)."""
        return (
            link is not None
            and not link.ended
            and self._session.can_send(link.generation, link.core.state)
            and link is self._link
        )

    def _resolve(self, done: ReceiptDone[ReceiptWaiter]) -> None:
        """Wake a receipted send: its RECEIPT came, or the wait failed."""
        done.waiter.resolve(done.error)

    def _link_closed(self, link: Any, reason: StompError | None) -> None:
        """A link ended: fail at once what cannot survive it (conformance 100)."""
        if link.generation == self._session.generation:
            for done in self._session.connection_lost(reason):
                self._resolve(done)
            # A request's reply would come on the temporary queue, which the broker
            # deletes with the connection: no reply can come any more.
            for waiter in self._requests.connection_lost():
                waiter.outcome = reason or ConnectionLost("the connection closed before the reply")
                waiter.signal.fire()

    async def _subscribe_for_replies(self) -> None:
        """Write the reply queue's SUBSCRIBE before the first request, once."""
        while self._reply_gate is not None:  # another request is writing it
            await self._reply_gate.wait()
        subscribe = self._requests.subscription(self.server)
        if subscribe is None:
            return
        gate = self._reply_gate = self._new_signal()
        try:
            await self._send(lambda _: subscribe, False, None)
        except BaseException:
            self._requests.subscribe_failed()
            raise
        finally:
            self._reply_gate = None
            gate.fire()

    def _handle(self, link: LinkView, event: Event) -> None:
        """Carry out what the session says about ``event``, received on ``link``."""
        if self._requests.used:
            routed = self._requests.route(event)
            if isinstance(routed, Ignored):
                self._log.debug("%s", routed.why)
                return
            if routed is not None:
                routed.waiter.outcome = ReceivedMessage(routed.event)
                routed.waiter.signal.fire()
                return
        for outcome in self._session.handle(event, link.generation):
            if isinstance(outcome, Deliver):
                self._deliver(link, outcome)
            elif isinstance(outcome, ReceiptDone):
                self._resolve(outcome)
            elif isinstance(outcome, Unhandled):
                report_unhandled(self._options.on_unhandled, outcome, self._log)
            elif isinstance(outcome, Ignored):
                self._log.debug("%s", outcome.why)
            else:
                if isinstance(outcome.reason, BrokerError):
                    self._log.warning("%s", outcome.reason)
                link.end(outcome.reason, abort=outcome.abort)
        if type(event) is MessageEvent and not self._session.stalled and not link.ended:
            self._deliver_ready(link)

    def _deliver_ready(self, link: LinkView) -> None:
        """Deliver the MESSAGEs parsed with the one just handled, in one pass (issue 13).

        The first ``next_event()`` after a read parses every frame of it; the MESSAGEs
        that follow go straight from the core into their subscriptions' buffers
        (``Connection.offer_messages``): what :meth:`_handle` does for each, minus its
        event dispatch, and each buffer's consumers are woken once per read.  A message
        that needs more (a reply to a request, an unknown subscription, a full buffer:
        back-pressure is the driver's ``_deliver``) stays in the core, with those after
        it, for the driver's next ``next_event()``: the order is kept.
        """
        if self._requests.used:
            return  # replies are routed by the request table first: see _handle
        generation = link.generation
        subscriptions = self._session.routes(generation)
        if subscriptions is None:
            return
        new_message = self._new_message
        woken: list[S] = []
        filled = False

        def offer(event: MessageEvent) -> bool:
            nonlocal filled
            if filled:
                return False  # a buffer is full: the driver's back-pressure decides
            # No such key as None: a MESSAGE without the header takes the general path.
            sub = subscriptions.get(event.subscription)  # type: ignore[arg-type]
            if sub is None:
                return False
            now_full = sub._backlog.add(new_message(sub, event, generation))
            if now_full is None:
                return False
            if not woken or woken[-1] is not sub:
                woken.append(sub)
            if now_full:
                filled = True
                self._buffer_filled(sub)
            return True

        if link.core.offer_messages(offer):
            for sub in dict.fromkeys(woken):
                sub._signal.fire()

    async def _subscribe(self, sub: S, receipt: bool) -> None:
        """SUBSCRIBE on entering ``sub``."""
        # Registered before the frame leaves, so no MESSAGE can arrive unrouted.
        try:
            self._session.add_subscription(sub.id, sub)
        except ValueError as exc:
            raise _IdInUse(str(exc)) from None
        try:
            await self._send(
                lambda rid: Subscribe(
                    destination=sub.destination,
                    id=sub.id,
                    ack=sub.ack,
                    receipt=rid,
                    headers=tuple(sub.headers.items()),
                ),
                receipt,
                None,
            )
        except BaseException:
            # Cancelled or failed: the user never gets the subscription, so take it
            # back (locally at once; on the broker by UNSUBSCRIBE if it went out).
            self._unsubscribe_soon(sub)
            raise

    async def _acknowledge(
        self, message: M, nack: bool, transaction: TransactionBase | str | None, receipt: bool
    ) -> None:
        """ACK or NACK ``message``."""
        tx, generation = _pin(transaction)
        # At once, not after waiting for a reconnect (issue 14.12).
        self._session.check_ack(message.event, generation=message.generation)
        await self._send(
            # The session refuses an ack id of an earlier connection (conformance 98).
            lambda rid: self._session.ack_event(
                message.event,
                generation=message.generation,
                subscription=message.subscription.id,
                nack=nack,
                transaction=tx,
                receipt=rid,
            ),
            receipt,
            generation,
        )

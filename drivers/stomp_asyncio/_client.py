"""The asyncio client: an I/O shell over :class:`~stomp_core.client.ClientSession`.

The session decides (routing, receipts, replay, stale acks, what a loss fails, when to
dial which broker); the client runs the tasks and timers, owns the live
:class:`~stomp_asyncio._link.Link`, and wakes whoever waits for an outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl as _ssl
import sys
from collections.abc import Callable, Mapping
from types import TracebackType

from stomp_core import (
    CLIENT,
    Disconnect,
    Event,
    FrameEvent,
    LocalProtocolError,
    LoggedConnection,
    Metrics,
    MetricsSnapshot,
    State,
    Subscribe,
    Unsubscribe,
)
from stomp_core import Connection as CoreConnection
from stomp_core.client import (
    AckMode,
    BrokerError,
    ClientHooks,
    ClientOptions,
    ClientSession,
    ClientState,
    ConnectFailed,
    ConnectionLost,
    Deliver,
    Endpoint,
    Ignored,
    ReceiptDone,
    ReceiptTimeout,
    StompError,
    TlsContexts,
    Unhandled,
    Wait,
    check_subscribe_arguments,
    connection_lost,
    dial_failed,
    report_unhandled,
    send_builder,
)

from ._link import Link
from ._observe import StateChanges
from ._subscription import Hooks, Message, Subscription
from ._transaction import Transaction
from ._transport import open_transport

__all__ = ["Client"]

log = logging.getLogger("stomp_asyncio")

#: The frame log: one DEBUG line per frame sent or received, passcodes and
#: Authorization-like headers masked (``stomp_core.frame_log`` sets the body length).
#: Checked when a connection opens, so that an unlogged connection pays nothing for it.
frames_log = logging.getLogger("stomp_asyncio.frames")


def _log_frame(text: str) -> None:
    frames_log.debug("%s", text)


#: Unread state changes kept per observer before the oldest are dropped.
STATE_CHANGES_KEPT = 256


class Client:
    """A STOMP client on asyncio; use it through :func:`open_connection` and ``async with``.

    Entering connects (CONNECT, then the core's wait for CONNECTED); leaving disconnects
    gracefully (DISCONNECT with a receipt, bounded by ``disconnect_timeout``), also when the
    body raised or was cancelled, and then cancels and awaits every task the client owns.

    If the connection fails for good (reconnection disabled or given up, an ERROR frame)
    while the body runs, the body is cancelled and the ``async with``
    raises the error, as a task group would.  See :func:`open_connection` for the arguments.

    Use it from the event loop it was entered on (it is not thread-safe; from another
    thread, go through ``asyncio.run_coroutine_threadsafe``).
    """

    def __init__(self, options: ClientOptions) -> None:
        #: Counters over all connections of this client (``metrics()``).
        self._metrics = Metrics()
        self._tls = TlsContexts(options, _ssl.SSLContext, _ssl.create_default_context)
        self._options = options
        self._session: ClientSession[Subscription, asyncio.Future[None]] = ClientSession(
            options, rng=random.random
        )
        self._hooks: Hooks = ClientHooks(
            send=self._send,
            subscribe=self._subscribe,
            unsubscribe=self._unsubscribe,
            acknowledge=self._acknowledge,
            room=self._room,
            generation=lambda: self._session.generation,
            unsubscribe_soon=self._unsubscribe_soon,
            queue=self._queue,
        )
        self._link: Link | None = None
        self._observers: list[StateChanges] = []
        self._ready = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._fatal: StompError | None = None
        self._host: asyncio.Task[object] | None = None
        self._in_body = False
        self._cancelled_host = False
        self._entered = False
        self._resume_scheduled = False
        self._disconnect_error: BaseException | None = None

    def __repr__(self) -> str:
        where = f" {self.endpoint}" if self.endpoint is not None else ""
        version = f" STOMP {self.version}" if self.version else ""
        return f"<stomp_asyncio.Client {self.state.value}{where}{version}>"

    # ------------------------------------------------------------------ properties

    @property
    def state(self) -> ClientState:
        """The lifecycle state (see :meth:`state_changes`)."""
        return self._session.state

    @property
    def version(self) -> str | None:
        """The negotiated STOMP version of the current connection."""
        return self._link.core.version if self._link is not None else None

    @property
    def session(self) -> str | None:
        """The ``session`` header of the current connection's CONNECTED frame."""
        return self._link.core.session if self._link is not None else None

    @property
    def server(self) -> str | None:
        """The ``server`` header of the current connection's CONNECTED frame."""
        return self._link.core.server if self._link is not None else None

    @property
    def heartbeat(self) -> tuple[int, int]:
        """Negotiated ``(we send every, we expect every)`` in ms; ``(0, 0)`` for none."""
        return self._link.core.heartbeat if self._link is not None else (0, 0)

    @property
    def heartbeats_received(self) -> int:
        """Heart-beats received from brokers so far, across reconnects."""
        return self._session.heartbeats_received

    def metrics(self) -> MetricsSnapshot:
        """The client's counters now, over all its connections (frames, bytes, messages,
        acks, heart-beats, reconnects, receipt round trips): see
        :class:`stomp_core.MetricsSnapshot`."""
        return self._metrics.snapshot()

    def _new_core(self) -> CoreConnection:
        """The core of a new connection: shares the client's counters, and logs its
        frames when the frame log is enabled."""
        if frames_log.isEnabledFor(logging.DEBUG):
            return LoggedConnection(
                CLIENT, self._options.config, write=_log_frame, metrics=self._metrics
            )
        return CoreConnection(CLIENT, self._options.config, metrics=self._metrics)

    @property
    def endpoint(self) -> Endpoint | None:
        """The broker connected to (or last connected to)."""
        return self._link.endpoint if self._link is not None else None

    def state_changes(self) -> StateChanges:
        """An async iterator over every :class:`StateChange` from now on.

        Each call makes an independent observer with a bounded backlog (the oldest
        changes are dropped if it falls far behind).  Iteration ends after ``CLOSED``.
        Run it in its own task::

            async def watch(client):
                async for change in client.state_changes():
                    print(change.state, change.endpoint, change.error)
        """
        observer = StateChanges(STATE_CHANGES_KEPT, self._detach)
        if self.state is ClientState.CLOSED and self._entered:
            observer.close()
        else:
            self._observers.append(observer)
        return observer

    def _detach(self, observer: StateChanges) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Client:
        if self._entered:
            raise RuntimeError("a Client can be used for one 'async with' only")
        self._entered = True
        self._host = asyncio.current_task()
        try:
            await self._connect(first=True)
        except BaseException as exc:
            self._session.begin_closing()
            self._set_state(ClientState.CLOSED, error=exc)
            self._close_observers()
            raise
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name=f"stomp_asyncio supervisor {self.endpoint}"
        )
        self._in_body = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._in_body = False
        try:
            await self._shutdown()
        finally:
            self._finish_shutdown()
        if self._cancelled_host and self._host is not None:
            # We cancelled the body to report a fatal error; undo our cancel request
            # and raise the error instead of CancelledError, unless someone else asked
            # for a cancellation too (3.11+ can tell; then it wins, as in TaskGroup).
            others = 0
            if sys.version_info >= (3, 11):
                others = self._host.uncancel()
            if others == 0 and (exc is None or isinstance(exc, asyncio.CancelledError)):
                assert self._fatal is not None
                raise self._fatal

    async def _connect(self, *, first: bool) -> None:
        """Follow the session's dial plan until a broker answers CONNECTED.

        Raises:
            ConnectFailed: the plan gave up, or a broker refused.
        """
        state = ClientState.CONNECTING if first else ClientState.RECONNECTING
        plan = self._session.dial_plan(first=first)
        while True:
            step = plan.next_step()
            if isinstance(step, Wait):
                log.info("reconnecting in %.3f s", step.seconds)
                await asyncio.sleep(step.seconds)
                continue
            endpoint = step.endpoint
            self._set_state(state, endpoint=endpoint, attempt=step.attempt)
            try:
                link = await self._dial(endpoint)
                await self._start_session(link)
            except (ConnectFailed, ConnectionLost) as exc:
                attempts = plan.failed(exc)  # raises a refusal: never retried
                log.warning("connecting to %s failed: %s", endpoint, exc)
                self._set_state(state, endpoint=endpoint, error=exc, attempt=attempts)
                continue
            return

    async def _dial(self, endpoint: Endpoint) -> Link:
        """Open the transport, send CONNECT and wait for CONNECTED (the core's timer)."""
        link = Link(
            self._new_core(),
            endpoint,
            generation=self._session.connection_started(endpoint),
            handle=self._handle,
            stalled=lambda: self._session.stalled,
            closed=self._link_closed,
            write_timeout=self._options.write_timeout,
        )
        timeout = self._options.connect_timeout
        try:
            await asyncio.wait_for(
                self._open_transport(endpoint, link, self._tls.context(endpoint)), timeout
            )
        except asyncio.TimeoutError:
            raise ConnectFailed(f"timed out after {timeout:g} s connecting to {endpoint}") from None
        except OSError as exc:  # refused, unreachable, DNS, TLS verification failed, ...
            raise dial_failed(endpoint, exc) from exc
        try:
            async with link.write_lock:
                link.send(self._options.connect_event())
                await link.flush()
            # Bounded by the core's connect timer (``Config.connect_timeout``).
            await link.connected
        except ConnectionLost as exc:
            # The transport may be closing with connection_lost() still to come: wait
            # for it (briefly) so that its error (a TLS alert, say) becomes the cause.
            link.abort()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(link.closed), 1.0)
            failed = ConnectFailed(f"the connection to {endpoint} ended before CONNECTED")
            raise failed from (link.reason or exc)
        except BaseException:
            link.abort()
            raise
        return link

    async def _open_transport(
        self, endpoint: Endpoint, link: Link, tls: _ssl.SSLContext | None
    ) -> None:
        """Connect ``link`` to ``endpoint`` (tests override this with in-memory transports)."""
        await open_transport(link, endpoint, tls, handshake_timeout=self._options.connect_timeout)

    async def _start_session(self, link: Link) -> None:
        """Adopt a connected link and replay the live subscriptions on it."""
        self._link = link
        replay = self._session.replay()
        if replay:
            try:
                async with link.write_lock:
                    for subscribe in replay:
                        link.send(subscribe)
                    await link.flush()
            except BaseException:
                link.abort()
                raise
            log.info("replayed %d subscription(s) on %s", len(replay), link.endpoint)
        log.info("connected to %s (STOMP %s)", link.endpoint, link.core.version)
        self._set_state(ClientState.CONNECTED, endpoint=link.endpoint)

    async def _supervise(self) -> None:
        """Watch the live link; reconnect when it drops, or fail the client for good."""
        while True:
            link = self._link
            assert link is not None
            reason = await asyncio.shield(link.closed)  # never cancel the link's future
            if self._session.closing:
                return
            self._ready.clear()
            if not self._session.reconnects_after(reason):
                self._fail(reason)
                return
            log.warning("connection to %s lost: %s; reconnecting", link.endpoint, reason)
            self._set_state(ClientState.RECONNECTING, endpoint=link.endpoint, error=reason)
            try:
                await self._connect(first=False)
            except Exception as exc:  # ConnectFailed; anything else must not hang us
                self._fail(connection_lost("the connection was lost and reconnecting failed", exc))
                return

    def _link_closed(self, link: Link, reason: StompError) -> None:
        """A transport is gone: fail at once what cannot survive it (conformance 100)."""
        if link.generation == self._session.generation:
            self._wake(self._session.connection_lost(reason))

    def _fail(self, error: StompError) -> None:
        """The client is finished: tell every waiter, every iterator and the body."""
        log.error("STOMP connection failed for good: %s", error)
        self._fatal = error
        self._ready.set()  # wake senders waiting for a reconnect: they will see the error
        for subscription in list(self._session.subscriptions.values()):
            subscription._close(error)
        self._set_state(ClientState.CLOSED, endpoint=self.endpoint, error=error)
        if self._in_body and self._host is not None and not self._host.done():
            self._cancelled_host = True
            self._host.cancel()

    async def _shutdown(self) -> None:
        # Nobody consumes any more: a full buffer must not hold the DISCONNECT's RECEIPT
        # back behind back-pressure.  Messages still arriving are dropped (the session);
        # the broker redelivers the unacknowledged ones.
        self._session.begin_closing()
        supervisor = self._supervisor
        if supervisor is not None and not supervisor.done():
            supervisor.cancel()
        if supervisor is not None:
            try:
                await supervisor
            except asyncio.CancelledError:
                if not supervisor.cancelled():
                    raise  # we were cancelled ourselves
        link = self._link
        if link is None or link.closed.done():
            return
        link.resume()
        if self._fatal is None and link.core.state is State.CONNECTED:
            self._set_state(ClientState.DISCONNECTING, endpoint=link.endpoint)
            try:
                # The core bounds the RECEIPT wait (DisconnectTimeout); this bound covers
                # the driver's own part: waiting for the write lock and a slow transport.
                await asyncio.wait_for(
                    self._disconnect(link), self._options.disconnect_timeout + 1.0
                )
            except (asyncio.TimeoutError, StompError, OSError) as exc:
                log.warning("graceful disconnect from %s failed: %s", link.endpoint, exc)
                self._disconnect_error = exc
        link.abort()
        await asyncio.wait_for(asyncio.shield(link.closed), self._options.disconnect_timeout)

    async def _disconnect(self, link: Link) -> None:
        receipt = self._session.next_receipt_id()
        self._session.expect_receipt(receipt)  # the core acts on it
        async with link.write_lock:
            link.send(Disconnect(receipt=receipt))
            await link.flush()
        # Ends when the RECEIPT closes the session or the core's disconnect timer fires.
        reason = await asyncio.shield(link.closed)
        if not link.clean_close:
            # conformance 84: without its RECEIPT the session is over all the same; the
            # CLOSED state change carries the reason.
            log.warning("disconnect from %s was not confirmed: %s", link.endpoint, reason)
            self._disconnect_error = reason

    def _finish_shutdown(self) -> None:
        """Synchronous cleanup that must happen even if the graceful part was cancelled."""
        self._session.begin_closing()
        if self._supervisor is not None and not self._supervisor.done():
            self._supervisor.cancel()
        if self._link is not None:
            self._link.abort()
        self._wake(self._session.connection_lost(ConnectionLost("the client is closed")))
        for subscription in self._session.finish():
            subscription._close()
        self._ready.set()
        if self.state is not ClientState.CLOSED:
            self._set_state(
                ClientState.CLOSED, endpoint=self.endpoint, error=self._disconnect_error
            )
        self._close_observers()

    # ------------------------------------------------------------------ observers

    def _set_state(
        self,
        state: ClientState,
        *,
        endpoint: Endpoint | None = None,
        error: BaseException | None = None,
        attempt: int = 0,
    ) -> None:
        change = self._session.set_state(state, endpoint=endpoint, error=error, attempt=attempt)
        if state is ClientState.CONNECTED:
            self._ready.set()
        for observer in self._observers:
            observer.push(change)

    def _close_observers(self) -> None:
        for observer in list(self._observers):
            observer.close()

    # ------------------------------------------------------------------ incoming

    def _handle(self, link: Link, event: Event) -> None:
        """Carry out what the session says about ``event`` (runs in protocol callbacks)."""
        for outcome in self._session.handle(event, link.generation):
            if isinstance(outcome, Deliver):
                subscription = outcome.subscription
                subscription._deliver(Message(subscription, outcome.event, outcome.generation))
                if subscription.full:
                    self._session.buffer_full(subscription.id)
            elif isinstance(outcome, ReceiptDone):
                self._wake([outcome])
            elif isinstance(outcome, Unhandled):
                report_unhandled(self._options.on_unhandled, outcome, log)
            elif isinstance(outcome, Ignored):
                log.debug("%s", outcome.why)
            else:
                if isinstance(outcome.reason, BrokerError):
                    log.error("%s", outcome.reason)
                link.end(outcome.reason, abort=outcome.abort)

    @staticmethod
    def _wake(done: list[ReceiptDone[asyncio.Future[None]]]) -> None:
        for outcome in done:
            if outcome.waiter.done():
                continue
            if outcome.error is None:
                outcome.waiter.set_result(None)
            else:
                outcome.waiter.set_exception(outcome.error)

    def _room(self, subscription: Subscription) -> None:
        if self._session.buffer_has_room(subscription.id):
            self._resume_soon()

    def _resume_soon(self) -> None:
        if not self._resume_scheduled and self._link is not None:
            # Resume outside the consumer's call stack: parsing dispatches into buffers.
            self._resume_scheduled = True
            asyncio.get_running_loop().call_soon(self._resume)

    def _resume(self) -> None:
        self._resume_scheduled = False
        if self._link is not None:
            self._link.resume()

    # ------------------------------------------------------------------ outgoing

    async def _ready_link(self) -> Link:
        """The live link, waiting (at most ``connect_timeout``) while reconnecting."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._options.connect_timeout
        while True:
            if self._fatal is not None:
                raise connection_lost("the client failed", self._fatal)
            if self._session.closing or not self._entered:
                raise ConnectionLost("the client is not connected (use 'async with')")
            link = self._link
            if self.state is ClientState.CONNECTED and self._sendable(link):
                assert link is not None
                return link
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise ConnectionLost(
                    f"not connected: still reconnecting after {self._options.connect_timeout:g} s"
                ) from None

    def _sendable(self, link: Link | None) -> bool:
        """Whether ``link`` is the live one and may take a frame now (the session says)."""
        return (
            link is not None
            and link is self._link
            and not link.closed.done()
            and self._session.can_send(link.generation, link.core.state)
        )

    async def _send(
        self, build: Callable[[str | None], FrameEvent], receipt: bool, generation: int | None
    ) -> int:
        """Send one frame built by ``build(receipt_id)``; with ``receipt``, await it.

        Args:
            generation: the connection it must go out on (``None``: the live one).

        Returns:
            the generation of the connection it went out on.
        """
        link = await self._ready_link()
        receipt_id = self._session.next_receipt_id() if receipt else None
        try:
            event = build(receipt_id)
            waiter: asyncio.Future[None] | None = None
            async with link.write_lock:
                if not self._sendable(link) or generation not in (None, link.generation):
                    raise ConnectionLost("the connection was lost before the frame was sent")
                link.send(event)  # LocalProtocolError here: nothing queued, nothing changed
                self._session.record(event)
                if receipt_id is not None:
                    waiter = asyncio.get_running_loop().create_future()
                    self._session.await_receipt(receipt_id, waiter)
                await link.flush()
            if waiter is not None:
                assert receipt_id is not None
                timeout = self._options.receipt_timeout
                try:
                    await asyncio.wait_for(waiter, timeout)
                except asyncio.TimeoutError:
                    raise ReceiptTimeout(receipt_id, timeout) from None
        finally:
            if receipt_id is not None:
                # Given up (timeout, cancellation): the RECEIPT may still come.
                self._session.give_up_receipt(receipt_id)
        return link.generation

    async def send(
        self,
        destination: str,
        body: bytes | str = b"",
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        transaction: Transaction | str | None = None,
        receipt: bool = False,
    ) -> None:
        """SEND a message.

        Args:
            destination: e.g. ``"/queue/work"``.
            body: bytes, or text (encoded with the content type's charset, UTF-8 and
                ``text/plain;charset=utf-8`` by default, conformance 37).
            content_type: the body's MIME type.
            headers: extra headers (broker-specific ones such as ``persistent``).
            transaction: a :class:`Transaction` (or its id) to send within.
            receipt: wait until the broker confirms it (at most ``receipt_timeout``).

        Cancellation: before the frame is handed over nothing is sent; once it is, it
        stays sent; if a large frame is cut half-way the connection is dropped (and
        reconnected), because the stream would be corrupt.

        Raises:
            ReceiptTimeout: no RECEIPT in time.
            BrokerError: the broker answered with ERROR.
            ConnectionLost: the connection dropped (the frame may or may not have arrived).
            stomp_core.LocalProtocolError: the frame is not valid (e.g. unknown transaction).
        """
        generation = None
        if isinstance(transaction, Transaction):
            transaction._check()  # ConnectionLost if the broker aborted it
            generation = transaction._generation
            transaction = transaction.id
        build = send_builder(
            destination, body, content_type=content_type, headers=headers, transaction=transaction
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
    ) -> Subscription:
        """A subscription to ``destination``, live inside ``async with``.

        Args:
            destination: e.g. ``"/queue/work"`` or ``"/topic/news"``.
            ack: ``"auto"``, ``"client"`` or ``"client-individual"`` (1.1+).
            headers: extra SUBSCRIBE headers, e.g. ``{"prefetch-count": "10"}`` (RabbitMQ)
                or ``{"activemq.prefetchSize": "10"}``; keep them at or below
                ``subscription_buffer``.
            id: the subscription id (default: ``sub-1``, ``sub-2``, ...).
            receipt: wait on entry until the broker confirms the subscription.
            buffer: messages buffered before back-pressure; default ``subscription_buffer``.
        """
        check_subscribe_arguments(ack, buffer)
        return Subscription(
            self._hooks,
            destination,
            id=id if id is not None else self._session.next_subscription_id(),
            ack=ack,
            headers=headers,
            receipt=receipt,
            capacity=buffer if buffer is not None else self._options.subscription_buffer,
            max_bytes=self._options.subscription_buffer_bytes,
        )

    async def _subscribe(self, subscription: Subscription, receipt: bool) -> None:
        self._session.add_subscription(subscription.id, subscription)
        try:
            await self._send(
                lambda rid: Subscribe(
                    destination=subscription.destination,
                    id=subscription.id,
                    ack=subscription.ack,
                    receipt=rid,
                    headers=tuple(subscription.headers.items()),
                ),
                receipt,
                None,
            )
        except BaseException:
            self._unsubscribe_soon(subscription)
            raise

    def _sent_on_live_link(self, subscription: Subscription) -> Link | None:
        """The live link, if ``subscription``'s SUBSCRIBE went out on it."""
        link = self._link
        if link is not None and subscription.id in link.core.subscriptions:
            return link
        return None

    def _unsubscribe_soon(self, subscription: Subscription) -> None:
        """Forget a subscription whose SUBSCRIBE failed or was cancelled (synchronously)."""
        link = self._sent_on_live_link(subscription)
        recorded = self._session.remove_subscription(subscription.id, sent=link is not None)
        if recorded and link is not None:
            # The SUBSCRIBE went out; take it back with a small, atomic write.
            self._queue(Unsubscribe(id=subscription.id), link.generation)

    def _queue(self, event: FrameEvent, generation: int) -> bool:
        """Hand ``event`` to connection ``generation`` without waiting: written now if
        nobody holds the write lock, else by the holder right after its own frame (its
        flush loops until the core has nothing left), as trio's ``_queue`` does."""
        link = self._link
        if link is None or link.generation != generation or link.core.state is not State.CONNECTED:
            return False
        try:
            link.send(event)
        except LocalProtocolError:
            return False  # the core no longer has what it names
        self._session.record(event)
        link.flush_nowait()
        return True

    async def _unsubscribe(self, subscription: Subscription, receipt: bool) -> None:
        link = self._sent_on_live_link(subscription)
        if link is not None and (self.state is not ClientState.CONNECTED or link.closed.done()):
            link = None  # the broker forgets it with the connection
        recorded = self._session.remove_subscription(subscription.id, sent=link is not None)
        if not self._session.stalled:
            self._resume_soon()
        if not recorded or link is None:
            return
        if not receipt:
            # Never given up (issue 14.2): forgotten here but live at the broker, its next
            # MESSAGE would be lost.  Queued without waiting for the write lock.
            self._queue(Unsubscribe(id=subscription.id), link.generation)
            await asyncio.sleep(0)
            return
        try:
            await self._send(  # its errors are the caller's business
                lambda rid: Unsubscribe(id=subscription.id, receipt=rid), True, link.generation
            )
        except asyncio.CancelledError:
            if subscription.id in link.core.subscriptions:
                # Cancelled before it was written: still take it back on the broker.
                self._queue(Unsubscribe(id=subscription.id), link.generation)
            raise

    async def _acknowledge(
        self,
        message: Message,
        nack: bool,
        transaction: Transaction | str | None,
        receipt: bool,
    ) -> None:
        if isinstance(transaction, Transaction):
            transaction._check()  # ConnectionLost if the broker aborted it
            transaction = transaction.id
        # At once, not after waiting for a reconnect (issue 14.12).
        self._session.check_ack(message.event, generation=message.generation)
        await self._send(
            # The session refuses an ack id of an earlier connection (conformance 98).
            lambda rid: self._session.ack_event(
                message.event,
                generation=message.generation,
                subscription=message.subscription.id,
                nack=nack,
                transaction=transaction,
                receipt=rid,
            ),
            receipt,
            None,
        )

    def transaction(self, *, id: str | None = None) -> Transaction:
        """A transaction: ``async with`` sends BEGIN, then COMMIT (waiting for its receipt)
        on success or ABORT on an exception."""
        return Transaction(
            id if id is not None else self._session.next_transaction_id(),
            session=self._session,
            hooks=self._hooks,
            receipt_timeout=self._options.receipt_timeout,
        )

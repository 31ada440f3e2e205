"""The asyncio client: connection lifecycle, reconnection, sending, receipts, transactions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl as _ssl
import sys
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from stomp_core import (
    CLIENT,
    Disconnect,
    Error,
    FrameEvent,
    Receipt,
    ReconnectSchedule,
    Send,
    SessionRegistry,
    State,
    Subscribe,
    Unsubscribe,
)
from stomp_core import Connection as CoreConnection
from stomp_core import Message as MessageEvent
from stomp_core.client import (
    BrokerError,
    ClientState,
    ConnectFailed,
    ConnectionLost,
    Endpoint,
    IdCounter,
    ReceiptTimeout,
    StateChange,
    StompError,
    ack_for,
    check_subscribe_arguments,
    connection_lost,
    encode_body,
    route_message,
)

from ._link import Link
from ._observe import StateChanges
from ._subscription import Message, Subscription
from ._transaction import Transaction

if TYPE_CHECKING:
    from ._options import Options

__all__ = ["Client"]

log = logging.getLogger("stomp_asyncio")


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

    def __init__(self, options: Options) -> None:
        self._options = options
        self._registry = SessionRegistry(max_subscriptions=options.config.limits.max_subscriptions)
        self._subscriptions: dict[str, Subscription] = {}
        self._full: set[str] = set()
        self._transactions: dict[str, Transaction] = {}
        self._receipts: dict[str, asyncio.Future[None]] = {}
        self._receipt_ids = IdCounter("receipt-")
        self._subscription_ids = IdCounter("sub-")
        self._transaction_ids = IdCounter("tx-")
        self._link: Link | None = None
        self._generation = 0
        self._endpoint: Endpoint | None = None
        self._state = ClientState.CONNECTING
        self._observers: list[StateChanges] = []
        self._ready = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._fatal: StompError | None = None
        self._host: asyncio.Task[object] | None = None
        self._in_body = False
        self._cancelled_host = False
        self._entered = False
        self._closing = False
        self._resume_scheduled = False
        self._heartbeats_before = 0
        self._disconnect_error: BaseException | None = None

    def __repr__(self) -> str:
        where = f" {self._endpoint}" if self._endpoint is not None else ""
        version = f" STOMP {self.version}" if self.version else ""
        return f"<stomp_asyncio.Client {self._state.value}{where}{version}>"

    # ------------------------------------------------------------------ properties

    @property
    def state(self) -> ClientState:
        """The lifecycle state (see :meth:`state_changes`)."""
        return self._state

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
        current = self._link.heartbeats_received if self._link is not None else 0
        return self._heartbeats_before + current

    @property
    def endpoint(self) -> Endpoint | None:
        """The broker connected to (or last connected to)."""
        return self._endpoint

    def state_changes(self) -> StateChanges:
        """An async iterator over every :class:`StateChange` from now on.

        Each call makes an independent observer with a bounded backlog (the oldest
        changes are dropped if it falls far behind).  Iteration ends after ``CLOSED``.
        Run it in its own task::

            async def watch(client):
                async for change in client.state_changes():
                    print(change.state, change.endpoint, change.error)
        """
        observer = StateChanges()
        if self._state is ClientState.CLOSED and self._entered:
            observer.close()
        else:
            self._observers.append(observer)
        return observer

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Client:
        if self._entered:
            raise RuntimeError("a Client can be used for one 'async with' only")
        self._entered = True
        self._host = asyncio.current_task()
        policy = self._options.reconnect
        schedule = (
            policy.schedule(random.random)
            if policy is not None and policy.retry_first_connect
            else None
        )
        try:
            await self._connect(schedule, ClientState.CONNECTING)
        except BaseException as exc:
            self._closing = True
            self._set_state(ClientState.CLOSED, error=exc)
            self._close_observers()
            raise
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name=f"stomp_asyncio supervisor {self._endpoint}"
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

    async def _connect(self, schedule: ReconnectSchedule | None, state: ClientState) -> None:
        """Try the hosts in order (in rounds with backoff if ``schedule``) until one works."""
        last: BaseException | None = None
        while True:
            for endpoint in self._options.endpoints:
                if schedule is not None and schedule.exhausted:
                    break
                attempt = schedule.attempts if schedule is not None else 0
                self._set_state(state, endpoint=endpoint, attempt=attempt)
                try:
                    link = await self._dial(endpoint)
                except ConnectFailed as exc:
                    if exc.refused:
                        raise  # the broker said no: retrying would not change its mind
                    log.warning("connecting to %s failed: %s", endpoint, exc)
                    last = exc
                    if schedule is not None:
                        schedule.record_failure()
                    self._set_state(state, endpoint=endpoint, error=exc, attempt=attempt + 1)
                    continue
                try:
                    await self._start_session(link, endpoint)
                except ConnectionLost as exc:  # dropped while replaying subscriptions
                    log.warning("connection to %s lost while starting: %s", endpoint, exc)
                    last = exc
                    if schedule is not None:
                        schedule.record_failure()
                    self._set_state(state, endpoint=endpoint, error=exc, attempt=attempt + 1)
                    continue
                if schedule is not None:
                    schedule.reset()
                return
            delay = schedule.next_delay() if schedule is not None else None
            if delay is None:
                where = ", ".join(str(e) for e in self._options.endpoints)
                failed = ConnectFailed(f"could not connect to {where}: {last}")
                raise failed from last
            log.info("reconnecting in %.3f s", delay)
            await asyncio.sleep(delay)

    async def _dial(self, endpoint: Endpoint) -> Link:
        """Open the transport, send CONNECT and wait for CONNECTED (the core's timer)."""
        core = CoreConnection(CLIENT, self._options.config)
        link = Link(core, dispatch=self._dispatch, stalled=self._stalled)
        tls = self._options.tls_context(endpoint)
        try:
            await asyncio.wait_for(
                self._open_transport(endpoint, link, tls), self._options.connect_timeout
            )
        except asyncio.TimeoutError:
            raise ConnectFailed(
                f"timed out after {self._options.connect_timeout:g} s connecting to {endpoint}"
            ) from None
        except OSError as exc:  # refused, unreachable, TLS verification failed, ...
            raise ConnectFailed(f"cannot connect to {endpoint}: {exc}") from exc
        try:
            async with link.write_lock:
                link.send(self._options.connect_event(endpoint))
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
        loop = asyncio.get_running_loop()
        await loop.create_connection(
            lambda: link,
            endpoint.host,
            endpoint.port,
            ssl=tls,
            server_hostname=endpoint.host if tls is not None else None,
            ssl_handshake_timeout=self._options.connect_timeout if tls is not None else None,
        )

    async def _start_session(self, link: Link, endpoint: Endpoint) -> None:
        """Adopt a connected link and replay the live subscriptions on it."""
        if self._link is not None:
            self._heartbeats_before += self._link.heartbeats_received
        self._link = link
        self._generation += 1
        self._endpoint = endpoint
        replay = self._registry.replay()
        if replay:
            try:
                async with link.write_lock:
                    for subscribe in replay:
                        link.send(subscribe)
                    await link.flush()
            except BaseException:
                link.abort()
                raise
            log.info("replayed %d subscription(s) on %s", len(replay), endpoint)
        log.info("connected to %s (STOMP %s)", endpoint, link.core.version)
        self._set_state(ClientState.CONNECTED, endpoint=endpoint)

    async def _supervise(self) -> None:
        """Watch the live link; reconnect when it drops, or fail the client for good."""
        while True:
            link = self._link
            assert link is not None
            reason = await asyncio.shield(link.closed)  # never cancel the link's future
            if self._closing:
                return
            self._ready.clear()
            self._connection_lost(reason)
            policy = self._options.reconnect
            if policy is None or isinstance(reason, BrokerError):
                # ERROR is the broker's deliberate verdict (spec 1.2 "ERROR"): retrying
                # would loop.  A protocol violation (a malformed frame) is treated like
                # a lost connection, as in stomp_trio: a fresh session may well work.
                self._fail(reason)
                return
            log.warning("connection to %s lost: %s; reconnecting", self._endpoint, reason)
            self._set_state(ClientState.RECONNECTING, endpoint=self._endpoint, error=reason)
            try:
                await self._connect(policy.schedule(random.random), ClientState.RECONNECTING)
            except Exception as exc:  # ConnectFailed; anything else must not hang us
                self._fail(connection_lost("the connection was lost and reconnecting failed", exc))
                return

    def _connection_lost(self, reason: StompError) -> None:
        """Fail what cannot survive the connection: receipts and transactions (item 100)."""
        lost = (
            reason
            if isinstance(reason, ConnectionLost)
            else connection_lost("the connection was lost", reason)
        )
        receipts, self._receipts = self._receipts, {}
        for waiter in receipts.values():
            if not waiter.done():
                waiter.set_exception(lost)
        self._registry.drop_transactions()
        transactions, self._transactions = self._transactions, {}
        for transaction in transactions.values():
            # The reason itself: the transaction's error already says the connection
            # was lost.
            transaction._lost(reason)

    def _fail(self, error: StompError) -> None:
        """The client is finished: tell every waiter, every iterator and the body."""
        log.error("STOMP connection failed for good: %s", error)
        self._fatal = error
        self._ready.set()  # wake senders waiting for a reconnect: they will see the error
        for subscription in list(self._subscriptions.values()):
            subscription._end(error)
        self._set_state(ClientState.CLOSED, endpoint=self._endpoint, error=error)
        if self._in_body and self._host is not None and not self._host.done():
            self._cancelled_host = True
            self._host.cancel()

    async def _shutdown(self) -> None:
        self._closing = True
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
        # Nobody consumes any more: a full buffer must not hold the DISCONNECT's RECEIPT
        # back behind back-pressure.  Messages still arriving are dropped (_dispatch);
        # the broker redelivers the unacknowledged ones.
        self._full.clear()
        link.resume()
        if self._fatal is None and link.core.state is State.CONNECTED:
            self._set_state(ClientState.DISCONNECTING, endpoint=self._endpoint)
            try:
                # The core bounds the RECEIPT wait (DisconnectTimeout); this bound covers
                # the driver's own part: waiting for the write lock and a slow transport.
                await asyncio.wait_for(
                    self._disconnect(link), self._options.disconnect_timeout + 1.0
                )
            except (asyncio.TimeoutError, StompError, OSError) as exc:
                log.warning("graceful disconnect from %s failed: %s", self._endpoint, exc)
                self._disconnect_error = exc
        link.abort()
        await asyncio.wait_for(asyncio.shield(link.closed), self._options.disconnect_timeout)

    async def _disconnect(self, link: Link) -> None:
        receipt = self._receipt_ids.next()
        link.leftovers.expect_receipt(receipt)  # the core acts on it
        async with link.write_lock:
            link.send(Disconnect(receipt=receipt))
            await link.flush()
        # Ends when the RECEIPT closes the session or the core's disconnect timer fires.
        reason = await asyncio.shield(link.closed)
        if not link.clean_close:
            # conformance 84: without its RECEIPT the session is over all the same; the
            # CLOSED state change carries the reason.
            log.warning("disconnect from %s was not confirmed: %s", self._endpoint, reason)
            self._disconnect_error = reason

    def _finish_shutdown(self) -> None:
        """Synchronous cleanup that must happen even if the graceful part was cancelled."""
        self._closing = True
        if self._supervisor is not None and not self._supervisor.done():
            self._supervisor.cancel()
        if self._link is not None:
            self._link.abort()
        self._connection_lost(ConnectionLost("the client is closed"))
        for subscription in list(self._subscriptions.values()):
            subscription._end(None)
        self._subscriptions.clear()
        self._ready.set()
        if self._state is not ClientState.CLOSED:
            self._set_state(
                ClientState.CLOSED, endpoint=self._endpoint, error=self._disconnect_error
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
        self._state = state
        if state is ClientState.CONNECTED:
            self._ready.set()
        change = StateChange(state, endpoint, error, attempt)
        for observer in self._observers:
            observer.push(change)

    def _close_observers(self) -> None:
        for observer in self._observers:
            observer.close()
        self._observers.clear()

    # ------------------------------------------------------------------ incoming

    def _dispatch(self, link: Link, event: FrameEvent) -> None:
        if link is not self._link:
            # A late frame of a connection we already replaced: its ids mean nothing now.
            log.debug("%s from a replaced connection dropped", type(event).__name__)
            return
        if isinstance(event, MessageEvent):
            self._route(link, event)
        elif isinstance(event, Receipt):
            waiter = self._receipts.pop(event.receipt_id, None)
            if waiter is not None:
                if not waiter.done():
                    waiter.set_result(None)
            elif (what := link.leftovers.receipt(event)) is not None:
                self._unhandled(event, what)
            else:
                # The DISCONNECT's (the core acts on it), or a wait given up.
                log.debug("RECEIPT %r arrived after its wait ended", event.receipt_id)
        elif isinstance(event, Error):
            error = BrokerError.from_event(event)
            log.error("the broker sent ERROR: %s", error.message)
            if error.receipt_id is not None:
                waiter = self._receipts.pop(error.receipt_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_exception(error)  # conformance 91

    def _route(self, link: Link, event: MessageEvent) -> None:
        """Deliver a MESSAGE to its subscription, or report it (conformance 87, 88)."""
        if self._closing:
            # Nobody reads any more; the broker redelivers what was not acknowledged.
            log.debug("MESSAGE %s dropped: the client is closing", event.message_id)
            return
        # By id, or by destination from a 1.0 broker that left the id out (conformance 87).
        subscription = route_message(event, self._subscriptions)
        if subscription is None:
            if (what := link.leftovers.message(event)) is not None:
                self._unhandled(event, what)
            else:
                # Sent before the broker saw our UNSUBSCRIBE: expected, and the broker
                # redelivers it if it needed an ack.
                log.debug("MESSAGE %s dropped: unsubscribed", event.message_id)
            return
        subscription._deliver(Message(self, subscription, event, self._generation))
        if subscription.full:
            self._full.add(subscription.id)

    def _unhandled(self, event: FrameEvent, what: str) -> None:
        """Hand ``event`` to the user's hook (conformance 88, 89), or log a warning."""
        hook = self._options.on_unhandled
        if hook is None:
            log.warning("unhandled %s", what)
            return
        try:
            hook(event)
        except Exception:
            # The hook runs inside the transport's callbacks: its failure must not
            # tear the connection down.
            log.exception("on_unhandled raised for %s", what)

    def _stalled(self) -> bool:
        return bool(self._full)

    def _buffer_has_room(self) -> None:
        self._full = {key for key in self._full if self._subscription_full(key)}
        if not self._full and not self._resume_scheduled and self._link is not None:
            # Resume outside the consumer's call stack: parsing dispatches into buffers.
            self._resume_scheduled = True
            asyncio.get_running_loop().call_soon(self._resume)

    def _subscription_full(self, key: str) -> bool:
        subscription = self._subscriptions.get(key)
        return subscription is not None and subscription.full

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
            if self._closing or not self._entered:
                raise ConnectionLost("the client is not connected (use 'async with')")
            link = self._link
            if self._state is ClientState.CONNECTED and link is not None and not link.closed.done():
                return link
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise ConnectionLost(
                    f"not connected: still reconnecting after {self._options.connect_timeout:g} s"
                ) from None

    async def _send(
        self,
        build: Callable[[str | None], FrameEvent],
        *,
        receipt: bool,
        link: Link | None = None,
    ) -> None:
        """Send one frame built by ``build(receipt_id)``; with ``receipt``, await it."""
        if link is None:
            link = await self._ready_link()
        receipt_id = self._receipt_ids.next() if receipt else None
        event = build(receipt_id)
        waiter: asyncio.Future[None] | None = None
        try:
            async with link.write_lock:
                if link is not self._link or link.closed.done():
                    raise ConnectionLost("the connection was lost before the frame was sent")
                link.send(event)  # LocalProtocolError here: nothing queued, nothing changed
                self._registry.record(event)
                if receipt_id is not None:
                    waiter = asyncio.get_running_loop().create_future()
                    self._receipts[receipt_id] = waiter
                await link.flush()
            if waiter is not None:
                assert receipt_id is not None
                try:
                    await asyncio.wait_for(waiter, self._options.receipt_timeout)
                except asyncio.TimeoutError:
                    raise ReceiptTimeout(receipt_id, self._options.receipt_timeout) from None
        finally:
            if receipt_id is not None and self._receipts.pop(receipt_id, None) is not None:
                # Given up (timeout, cancellation): the RECEIPT may still come.
                link.leftovers.expect_receipt(receipt_id)

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
        data, content_type = encode_body(body, content_type)
        extra = tuple(headers.items()) if headers else ()
        if isinstance(transaction, Transaction):
            transaction._check()  # ConnectionLost if the broker aborted it
            transaction = transaction.id
        await self._send(
            lambda rid: Send(
                destination=destination,
                body=data,
                content_type=content_type,
                transaction=transaction,
                receipt=rid,
                headers=extra,
            ),
            receipt=receipt,
        )

    def subscribe(
        self,
        destination: str,
        *,
        ack: str = "auto",
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
            self,
            destination=destination,
            id=id if id is not None else self._subscription_ids.next(),
            ack=ack,
            headers=tuple(headers.items()) if headers else (),
            receipt=receipt,
            capacity=buffer if buffer is not None else self._options.subscription_buffer,
        )

    async def _subscribe(self, subscription: Subscription) -> None:
        if subscription.id in self._subscriptions:
            raise ValueError(f"subscription id {subscription.id!r} is already in use")
        self._subscriptions[subscription.id] = subscription
        try:
            await self._send(
                lambda rid: Subscribe(
                    destination=subscription.destination,
                    id=subscription.id,
                    ack=subscription.ack,
                    receipt=rid,
                    headers=subscription._extra_headers,
                ),
                receipt=subscription._subscribe_receipt,
            )
        except BaseException:
            self._abandon(subscription)
            raise

    def _abandon(self, subscription: Subscription) -> None:
        """Forget a subscription whose SUBSCRIBE failed or was cancelled (synchronously)."""
        self._subscriptions.pop(subscription.id, None)
        self._full.discard(subscription.id)
        if subscription.id not in self._registry.subscriptions:
            return  # never accepted by the core
        unsubscribe = Unsubscribe(id=subscription.id)
        self._registry.record(unsubscribe)  # never replayed
        link = self._link
        if link is not None and subscription.id in link.core.subscriptions:
            # The SUBSCRIBE went out: MESSAGEs may be on their way (not "unhandled").
            link.leftovers.unsubscribed(subscription.id)
        if (
            link is not None
            and not link.write_lock.locked()
            and link.core.state is State.CONNECTED
            and subscription.id in link.core.subscriptions
        ):
            # The SUBSCRIBE went out; take it back with a small, atomic write.
            link.send(unsubscribe)
            link.flush_nowait()

    async def _unsubscribe(self, subscription: Subscription, *, receipt: bool = False) -> None:
        self._subscriptions.pop(subscription.id, None)
        self._full.discard(subscription.id)
        self._buffer_has_room()
        if subscription.id not in self._registry.subscriptions:
            return
        link = self._link
        try:
            if (
                link is None
                or self._state is not ClientState.CONNECTED
                or link.closed.done()
                or subscription.id not in link.core.subscriptions
            ):
                return  # the broker forgets it with the connection
            link.leftovers.unsubscribed(subscription.id)
            sending = self._send(
                lambda rid: Unsubscribe(id=subscription.id, receipt=rid),
                receipt=receipt,
                link=link,
            )
            if receipt:
                await sending  # its errors are the caller's business
            else:
                try:
                    await asyncio.wait_for(sending, self._options.receipt_timeout)
                except (StompError, asyncio.TimeoutError) as exc:
                    log.debug("UNSUBSCRIBE %s not sent: %s", subscription.id, exc)
        finally:
            self._registry.record(Unsubscribe(id=subscription.id))  # never replayed

    async def _acknowledge(
        self,
        message: Message,
        *,
        nack: bool,
        transaction: Transaction | str | None,
        receipt: bool,
    ) -> None:
        if isinstance(transaction, Transaction):
            transaction._check()  # ConnectionLost if the broker aborted it
            transaction = transaction.id
        link = await self._ready_link()
        if message.generation != self._generation:
            raise ConnectionLost(
                f"message {message.message_id!r} came on an earlier connection; its ack id is "
                "void now and the broker will redeliver it"
            )
        version = link.core.version or "1.0"
        await self._send(
            lambda rid: ack_for(
                message.event,
                version,
                message.subscription.id,
                nack=nack,
                transaction=transaction,
                receipt=rid,
            ),
            receipt=receipt,
            link=link,
        )

    def transaction(self, *, id: str | None = None) -> Transaction:
        """A transaction: ``async with`` sends BEGIN, then COMMIT (waiting for its receipt)
        on success or ABORT on an exception."""
        return Transaction(self, id if id is not None else self._transaction_ids.next())

"""The trio client: an I/O shell over :class:`~stomp_core.client.ClientSession`.

The session decides (routing, receipts, replay, stale acks, what a loss fails, when to
dial which broker); the client owns a nursery (made by ``open_connection``) whose
*supervisor* task dials, runs a :class:`~stomp_trio._link.Link` until it ends and
reconnects, and wakes whoever waits for an outcome.  User calls take the link's
``send_lock``, hand the event to the core and write what it queued.  A failure for good
is raised into the client's nursery, which cancels the ``async with`` body
(``_options.py`` unwraps the group).
"""

from __future__ import annotations

import logging
import random
import ssl as _ssl
from collections.abc import Callable, Mapping
from typing import NoReturn

import trio

import stomp_core
from stomp_core import (
    CLIENT,
    Disconnect,
    FrameEvent,
    LocalProtocolError,
    LoggedConnection,
    Metrics,
    MetricsSnapshot,
    Subscribe,
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
    StateChange,
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

from ._link import TRANSPORT_ERRORS, Link
from ._observe import StateChanges
from ._subscription import Hooks, Message, Subscription
from ._transaction import Transaction
from ._transport import StreamFactory, open_stream

__all__ = ["Client"]

log = logging.getLogger("stomp_trio")

#: The frame log: one DEBUG line per frame sent or received, passcodes and
#: Authorization-like headers masked (``stomp_core.frame_log`` sets the body length).
#: Checked when a connection opens, so that an unlogged connection pays nothing for it.
frames_log = logging.getLogger("stomp_trio.frames")


def _log_frame(text: str) -> None:
    frames_log.debug("%s", text)


#: Unread state changes kept per observer before the oldest are dropped.
STATE_CHANGES_KEPT = 100


class ReceiptWaiter:
    """One awaited RECEIPT: resolved with ``None`` (confirmed) or an exception."""

    __slots__ = ("error", "event")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.error: BaseException | None = None

    def resolve(self, error: BaseException | None = None) -> None:
        if not self.event.is_set():
            self.error = error
            self.event.set()


class Client:
    """A STOMP session over trio, made by :func:`open_connection`.

    Every method is safe to call from any task of the same trio run.  Every wait is
    cancellable and honours the caller's deadlines; see the README for what each
    cancellation leaves behind.
    """

    def __init__(self, options: ClientOptions, stream_factory: StreamFactory | None = None) -> None:
        #: Counters over all connections of this client (``metrics()``).
        self._metrics = Metrics()
        self._tls = TlsContexts(options, _ssl.SSLContext, _ssl.create_default_context)
        self._options = options
        self._stream_factory = stream_factory
        self._session: ClientSession[Subscription, ReceiptWaiter] = ClientSession(
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
        self._observers: set[StateChanges] = set()
        self._link: Link | None = None
        #: A message waiting for room in its subscription's buffer (the link is paused).
        self._held: tuple[Subscription, Message] | None = None
        self._ready = trio.Event()
        self._final_error: BaseException | None = None
        self._nursery: trio.Nursery | None = None

    def __repr__(self) -> str:
        where = self._link.endpoint if self._link is not None else "-"
        return f"<stomp_trio.Client {self.state.name} {where} version={self.version}>"

    # -- what users can look at ----------------------------------------------------------

    @property
    def state(self) -> ClientState:
        """Where the client is in its life (see :class:`~stomp_trio.ClientState`)."""
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
        """Heart-beats received from the broker (over all connections)."""
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

    def state_changes(self) -> StateChanges:
        """Observe the client's state changes: ``async for change in client.state_changes()``.

        Reports every transition (``CONNECTED``, ``RECONNECTING``, ``DISCONNECTING``,
        ``CLOSED``) and every failed connection attempt (same state, with ``error`` and
        ``attempt`` set), from the moment this is called.  The iterator ends after
        ``CLOSED``.  Unread changes beyond 100 are dropped, oldest first.
        """
        observer = StateChanges(STATE_CHANGES_KEPT, self._observers.discard)
        if self.state is ClientState.CLOSED:
            observer.push(StateChange(ClientState.CLOSED, error=self._final_error))
        else:
            self._observers.add(observer)
        return observer

    # -- sending -------------------------------------------------------------------------

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
            destination: e.g. ``"/queue/orders"``.
            body: bytes, or text (encoded by the content type's charset; a ``str`` with
                no content type is sent as ``text/plain;charset=utf-8``).
            content_type: the body's MIME type.
            headers: extra headers (e.g. ``persistent``, ``expires``).
            transaction: a :class:`Transaction` (or its id) to send within.
            receipt: return only once the broker confirmed it with a RECEIPT.

        Raises:
            BrokerError: the broker answered with ERROR.
            ReceiptTimeout: no RECEIPT within ``receipt_timeout`` (it may still arrive).
            ConnectionLost: the connection dropped before the frame was written (or,
                with ``receipt``, before it was confirmed), or reconnecting took longer
                than ``connect_timeout``.
            stomp_core.LocalProtocolError: the frame is illegal (e.g. bad headers).
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
        """A subscription to ``destination``, active inside ``async with``.

        Args:
            destination: what to subscribe to.
            ack: ``"auto"``, ``"client"`` or ``"client-individual"`` (1.1+).
            headers: extra SUBSCRIBE headers, e.g. ``{"prefetch-count": "10"}`` for
                RabbitMQ or ``{"activemq.prefetchSize": "10"}`` for ActiveMQ (keep it
                at most the buffer size, see the README's "Back-pressure").
            id: the subscription id; default ``sub-1``, ``sub-2``, ...
            receipt: wait on entering until the broker confirmed the subscription.
            buffer: messages buffered before back-pressure; default
                ``subscription_buffer``.
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

    def transaction(self, *, id: str | None = None) -> Transaction:
        """A transaction: ``async with client.transaction() as tx:``.

        BEGIN is sent on entering; COMMIT (confirmed by a RECEIPT) on a normal exit;
        ABORT when the block raises.  :meth:`Transaction.begin`,
        :meth:`~Transaction.commit` and :meth:`~Transaction.abort` do the same by hand.

        Args:
            id: the transaction id; default ``tx-1``, ``tx-2``, ...
        """
        return Transaction(
            id if id is not None else self._session.next_transaction_id(),
            session=self._session,
            hooks=self._hooks,
        )

    # -- internals: the send path --------------------------------------------------------

    async def _ready_link(self) -> Link:
        """The link to send on, waiting up to ``connect_timeout`` while reconnecting."""
        timeout = self._options.connect_timeout
        with trio.move_on_after(timeout):
            while True:
                if self._session.closing or self.state is ClientState.CLOSED:
                    raise connection_lost("the client is closed", self._final_error)
                link = self._link
                if self.state is ClientState.CONNECTED and self._sendable(link):
                    assert link is not None
                    return link
                if self._ready.is_set():
                    # Stale: set for a link that has ended since.  The supervisor sets
                    # whichever event is current when the next link is ready.
                    self._ready = trio.Event()
                await self._ready.wait()
        raise ConnectionLost(f"not connected: still reconnecting after {timeout:g} s")

    def _sendable(self, link: Link | None) -> bool:
        """Whether ``link`` is the live one and may take a frame now (the session says)."""
        return (
            link is not None
            and link is self._link
            and not link.ended
            and self._session.can_send(link.generation, link.core.state)
        )

    async def _send(
        self, build: Callable[[str | None], FrameEvent], receipt: bool, generation: int | None
    ) -> int:
        """Send one frame built by ``build(receipt_id)``; with ``receipt``, await it.

        Cancellation: before the lock is taken nothing happened; during the write the
        link breaks (``send_failed``) and the client reconnects; while awaiting the
        receipt the frame was sent and the receipt is simply no longer awaited.

        Args:
            generation: the connection it must go out on (``None``: the live one).

        Returns:
            the generation of the connection it went out on.
        """
        link = await self._ready_link()
        receipt_id = self._session.next_receipt_id() if receipt else None
        try:
            event = build(receipt_id)
            waiter: ReceiptWaiter | None = None
            async with link.send_lock:
                if not self._sendable(link) or generation not in (None, link.generation):
                    raise connection_lost("the connection was lost", link.reason)
                link.core.send(event, now=trio.current_time())
                self._session.record(event)
                if receipt_id is not None:
                    waiter = ReceiptWaiter()
                    self._session.await_receipt(receipt_id, waiter)
                link.rearm()
                await link.write_pending()
            if waiter is not None:
                assert receipt_id is not None
                timeout = self._options.receipt_timeout
                try:
                    with trio.fail_after(timeout):
                        await waiter.event.wait()
                except trio.TooSlowError:
                    raise ReceiptTimeout(receipt_id, timeout) from None
                if waiter.error is not None:
                    raise waiter.error
        finally:
            if receipt_id is not None:
                # Given up (timeout, cancellation): the RECEIPT may still come.
                self._session.give_up_receipt(receipt_id)
        return link.generation

    def _queue(self, event: FrameEvent, generation: int) -> bool:
        """Hand ``event`` to connection ``generation``, written by a background task."""
        link = self._link
        if link is None or not link.usable or link.generation != generation:
            return False
        try:
            link.queue(event)
        except LocalProtocolError:
            return False  # the core no longer has what it names (e.g. never written)
        self._session.record(event)
        if self._nursery is not None:
            self._nursery.start_soon(link.flush_soon)
        return True

    async def _acknowledge(
        self,
        message: Message,
        nack: bool,
        transaction: Transaction | str | None,
        receipt: bool,
    ) -> None:
        generation = None
        if isinstance(transaction, Transaction):
            transaction._check()  # ConnectionLost if the broker aborted it
            generation = transaction._generation
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
            generation,
        )

    # -- internals: subscriptions ----------------------------------------------------------

    async def _subscribe(self, sub: Subscription, receipt: bool) -> None:
        # Registered before the frame leaves, so no MESSAGE can arrive unrouted.
        try:
            self._session.add_subscription(sub.id, sub)
        except ValueError as exc:
            raise LocalProtocolError(str(exc)) from None
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

    def _forget(self, sub: Subscription) -> Link | None:
        """Drop ``sub`` locally; the link on which UNSUBSCRIBE must go, if any."""
        sub._close()
        if self._session.subscriptions.get(sub.id) is not sub:
            return None
        link = self._link
        sent = link is not None and link.usable and sub.id in link.core.subscriptions
        self._session.remove_subscription(sub.id, sent=sent)
        if self._held is not None and self._held[0] is sub:
            # The held message's reader is gone: drop it and resume reading.
            self._release()
        return link if sent else None

    def _unsubscribe_soon(self, sub: Subscription) -> None:
        """Forget ``sub`` and queue UNSUBSCRIBE (written in the background)."""
        link = self._forget(sub)
        if link is not None:
            self._queue(stomp_core.Unsubscribe(id=sub.id), link.generation)

    async def _unsubscribe(self, sub: Subscription, receipt: bool) -> None:
        link = self._forget(sub)
        if link is None:
            await trio.lowlevel.checkpoint()
            return
        try:
            await self._send(
                lambda rid: stomp_core.Unsubscribe(id=sub.id, receipt=rid),
                receipt,
                link.generation,
            )
        except trio.Cancelled:
            if link.usable and sub.id in link.core.subscriptions:
                # Cancelled before it was written: still take it back on the broker.
                self._queue(stomp_core.Unsubscribe(id=sub.id), link.generation)
            raise

    # -- internals: the receiving side -----------------------------------------------------

    def _drain(self, link: Link) -> None:
        """The event pump (the core's call order, step 1): dispatch every event the core
        has, stopping while a message is held back for a full buffer."""
        core = link.core
        while not link.ended:
            if link.handshaking and core.state is stomp_core.State.CONNECTED:
                return  # the rest is the read loop's, once the link runs
            if self._held is not None:
                sub, message = self._held
                if sub._offer(message):
                    self._release()
                elif core.state in (stomp_core.State.CONNECTED, stomp_core.State.DISCONNECTING):
                    return  # paused until the consumer makes room
            event = link.next_event()
            if event is None:
                if core.state is stomp_core.State.CLOSED and link.closing:
                    link.end(None)  # the RECEIPT of our DISCONNECT arrived
                return
            self._handle(link, event)

    def _handle(self, link: Link, event: stomp_core.Event) -> None:
        """Carry out what the session says about ``event``."""
        for outcome in self._session.handle(event, link.generation):
            if isinstance(outcome, Deliver):
                sub = outcome.subscription
                message = Message(sub, outcome.event, outcome.generation)
                if not sub._offer(message):
                    self._held = (sub, message)
                    self._session.buffer_full(sub.id)
                    link.pause()
            elif isinstance(outcome, ReceiptDone):
                outcome.waiter.resolve(outcome.error)
            elif isinstance(outcome, Unhandled):
                report_unhandled(self._options.on_unhandled, outcome, log)
            elif isinstance(outcome, Ignored):
                log.debug("%s", outcome.why)
            else:
                if isinstance(outcome.reason, BrokerError):
                    log.warning("%s", outcome.reason)
                link.end(outcome.reason)

    def _release(self) -> None:
        """The held message was delivered (or dropped): reading may resume."""
        held, self._held = self._held, None
        if held is not None:
            self._session.buffer_has_room(held[0].id)
        if self._link is not None:
            self._link.resume()

    def _room(self, sub: Subscription) -> None:
        link = self._link
        if link is not None and self._held is not None and self._held[0] is sub:
            self._drain(link)

    def _link_closed(self, link: Link, reason: StompError | None) -> None:
        """A link ended: fail at once what cannot survive it (conformance 100)."""
        if link.generation == self._session.generation:
            for done in self._session.connection_lost(reason):
                done.waiter.resolve(done.error)
        if self._held is not None:
            log.debug("dropped held MESSAGE %s: the connection ended", self._held[1].message_id)
            self._release()

    # -- internals: the supervisor -----------------------------------------------------------

    def _set_state(
        self,
        state: ClientState,
        *,
        endpoint: Endpoint | None = None,
        error: BaseException | None = None,
        attempt: int = 0,
    ) -> None:
        change = self._session.set_state(state, endpoint=endpoint, error=error, attempt=attempt)
        if error is not None:
            log.info("state %s (%s: %s)", state.value, endpoint, error)
        else:
            log.info("state %s (%s)", state.value, endpoint)
        for observer in list(self._observers):
            observer.push(change)
        if state is ClientState.CLOSED:
            self._observers.clear()

    async def _connect(self, *, first: bool) -> Link:
        """Follow the session's dial plan until a broker answers CONNECTED.

        Raises:
            ConnectFailed: the plan gave up, or a broker refused.
        """
        state = ClientState.CONNECTING if first else ClientState.RECONNECTING
        plan = self._session.dial_plan(first=first)
        while True:
            step = plan.next_step()
            if isinstance(step, Wait):
                await trio.sleep(step.seconds)
                continue
            try:
                return await self._dial(step.endpoint)
            except ConnectFailed as exc:
                attempts = plan.failed(exc)  # raises a refusal: never retried
                self._set_state(state, endpoint=step.endpoint, error=exc, attempt=attempts)

    async def _dial(self, endpoint: Endpoint) -> Link:
        """Open the stream, send CONNECT and wait for CONNECTED (the core's timer)."""
        timeout = self._options.connect_timeout
        try:
            # Dialling and TLS are not STOMP waits, so the core cannot time them.
            with trio.fail_after(timeout):
                stream = await open_stream(
                    endpoint, self._tls.context(endpoint), self._stream_factory
                )
        except trio.TooSlowError:
            raise ConnectFailed(
                f"connecting to {endpoint} took longer than {timeout:g} s"
            ) from None
        except TRANSPORT_ERRORS as exc:
            raise dial_failed(endpoint, exc) from exc
        link = Link(
            stream,
            self._new_core(),
            endpoint,
            generation=self._session.connection_started(endpoint),
            drain=self._drain,
            closed=self._link_closed,
            write_timeout=self._options.write_timeout,
        )
        try:
            await link.handshake(self._options.connect_event())
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        return link

    async def _run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The supervisor: connect, serve, reconnect.

        When the client fails for good while the ``async with`` body runs, the error is
        raised here, in the client's nursery: trio then cancels the body and
        ``open_connection`` raises the error (as ``stomp_asyncio`` does).
        """
        link = await self._connect(first=True)
        self._publish(link)
        task_status.started()
        replay = False
        while True:
            await self._serve(link, replay=replay)
            replay = True
            reason = link.reason
            if self._session.closing or reason is None:
                self._finish(reason)
                return
            if not self._session.reconnects_after(reason):
                self._fail(reason)
            self._set_state(ClientState.RECONNECTING, endpoint=link.endpoint, error=reason)
            try:
                link = await self._connect(first=False)
            except ConnectFailed as exc:
                self._fail(connection_lost("reconnecting failed", exc))

    def _fail(self, error: StompError) -> NoReturn:
        """The client failed for good: close it and raise ``error`` into its nursery."""
        self._finish(error)
        raise error

    def _publish(self, link: Link) -> None:
        self._link = link
        self._set_state(ClientState.CONNECTED, endpoint=link.endpoint)
        self._ready.set()

    async def _serve(self, link: Link, *, replay: bool) -> None:
        """Run ``link`` until it ends; after a reconnect, re-subscribe first."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(link.run)
            if replay:
                # Before anyone else may write, so the replayed SUBSCRIBEs precede new
                # frames on the wire.  The link is not published yet: users still wait.
                self._link = link
                try:
                    async with link.send_lock:
                        for event in self._session.replay():
                            self._resubscribe(link, event)
                        await link.write_pending()
                except ConnectionLost:
                    pass
                if not link.ended:
                    self._publish(link)
            await link.done.wait()
            nursery.cancel_scope.cancel()

    def _resubscribe(self, link: Link, event: stomp_core.Subscribe) -> None:
        try:
            link.core.send(event, now=trio.current_time())
        except LocalProtocolError as exc:
            # E.g. another broker of the list negotiated 1.0, which has no
            # client-individual: this subscription cannot live on this connection.
            key = event.id or event.destination
            sub = self._session.subscriptions.get(key)
            self._session.remove_subscription(key, sent=False)
            if sub is not None:
                sub._close(ConnectionLost(f"cannot subscribe again after reconnecting: {exc}"))

    def _finish(self, error: BaseException | None) -> None:
        if self.state is ClientState.CLOSED:
            return
        self._final_error = error
        for sub in self._session.finish():
            if not sub.closed:
                # As in stomp_asyncio: iterators raise the error that ended the client
                # (ConnectionLost, BrokerError, ProtocolViolation) once drained.
                sub._close(error)
        self._ready.set()  # wake waiters so they see CLOSED
        self._set_state(ClientState.CLOSED, error=error)

    async def _shutdown(self) -> None:
        """Leave: DISCONNECT with a receipt and wait (the core's ``disconnect_timeout``)."""
        # Nobody reads any more; a full buffer must not stall the DISCONNECT receipt
        # behind back-pressure.
        self._session.begin_closing()
        for sub in list(self._session.subscriptions.values()):
            sub._close()
        link = self._link
        if link is not None and self._held is not None:
            self._release()
            self._drain(link)
        disconnect_error: BaseException | None = None
        try:
            if link is not None and link.usable:
                self._set_state(ClientState.DISCONNECTING, endpoint=link.endpoint)
                async with link.send_lock:
                    if link.usable:
                        link.closing = True
                        receipt = self._session.next_receipt_id()
                        self._session.expect_receipt(receipt)  # the core acts on it
                        link.core.send(Disconnect(receipt=receipt), now=trio.current_time())
                        link.rearm()
                        await link.write_pending()
                await link.done.wait()
                # conformance 84: without its RECEIPT the session is over all the same;
                # the CLOSED state change carries the reason.
                disconnect_error = link.reason
                if disconnect_error is not None:
                    log.warning("disconnect was not confirmed: %s", disconnect_error)
        except ConnectionLost:
            # The DISCONNECT could not be written: the link ended while writing it.
            pass
        finally:
            if link is not None and link.closing and link.ended:
                disconnect_error = link.reason
            self._finish(disconnect_error)
            if self._nursery is not None:
                self._nursery.cancel_scope.cancel()

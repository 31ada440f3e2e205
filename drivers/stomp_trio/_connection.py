"""The trio client, :class:`Client` (made by ``open_connection`` in ``_open.py``).

Structure (DESIGN.md §4): the client owns a nursery for its background work, made by
``open_connection``.  One *supervisor* task dials (``_dial.Dialer``), runs a
:class:`~stomp_trio._link.Link` until it ends, and -- unless the user is leaving or the
broker sent ERROR -- reconnects with the core's backoff and replays the live
subscriptions from the core's :class:`~stomp_core._registry.SessionRegistry`.

User calls (``send``, ``subscribe``, acks, transactions) take the current link's
``send_lock``, hand the event to the core and write what it queued.  Receipts are
awaited with ``receipt_timeout`` (driver policy, as the core leaves per-receipt timeouts
to drivers).  Received events are routed by :class:`~stomp_trio._dispatch.Dispatcher`
(``_dispatch.py``), which runs synchronously in whichever task fed the core.
Transactions keep their own BEGIN/COMMIT/ABORT logic (``_transaction.py``) on top of
the same send path; a failure for good is raised into the client's nursery, which
cancels the ``async with`` body (``_open.py`` unwraps the group).
"""

from __future__ import annotations

import logging
import ssl as _ssl
from collections.abc import Mapping, Sequence
from typing import NoReturn

import trio

import stomp_core
from stomp_core import SessionRegistry
from stomp_core.client import (
    BrokerError,
    ClientState,
    ConnectFailed,
    ConnectionLost,
    Endpoint,
    IdCounter,
    ReceiptTimeout,
    ReconnectPolicy,
    StateChange,
    StompError,
    ack_for,
    check_client_arguments,
    check_subscribe_arguments,
    encode_body,
)

from ._dial import Dialer
from ._dispatch import Dispatcher, UnhandledHook
from ._link import Link, ReceiptWaiter, lost
from ._subscription import Message, StateChanges, Subscription
from ._transaction import Transaction
from ._transport import StreamFactory

__all__ = ["Client"]

log = logging.getLogger("stomp_trio")

#: Unread state changes kept per observer before the oldest are dropped.
STATE_CHANGES_KEPT = 100


class Client:
    """A STOMP session over trio, made by :func:`open_connection`.

    Every method is safe to call from any task of the same trio run.  Every wait is
    cancellable and honours the caller's deadlines; see the README for what each
    cancellation leaves behind.
    """

    def __init__(
        self,
        endpoints: list[Endpoint],
        *,
        login: str | None,
        passcode: str | None,
        vhost: str | None,
        versions: Sequence[str],
        heartbeats: tuple[int, int],
        heartbeat_tolerance: float,
        ssl: _ssl.SSLContext | bool | None,
        connect_timeout: float,
        disconnect_timeout: float,
        receipt_timeout: float,
        reconnect: ReconnectPolicy | None,
        subscription_buffer: int,
        headers: Mapping[str, str] | None,
        stream_factory: StreamFactory | None,
        limits: stomp_core.Limits | None,
        on_unhandled: UnhandledHook | None = None,
    ) -> None:
        check_client_arguments(
            connect_timeout=connect_timeout,
            disconnect_timeout=disconnect_timeout,
            receipt_timeout=receipt_timeout,
            subscription_buffer=subscription_buffer,
            reconnect=reconnect,
            on_unhandled=on_unhandled,
        )
        self._connect_timeout = connect_timeout
        self._receipt_timeout = receipt_timeout
        self._reconnect = reconnect
        self._buffer_size = subscription_buffer
        self._config = stomp_core.Config(
            versions=tuple(versions),
            limits=limits or stomp_core.Limits(),
            heartbeat_tolerance=heartbeat_tolerance,
            connect_timeout=connect_timeout,
            disconnect_timeout=disconnect_timeout,
        )
        self._dialer = Dialer(
            endpoints,
            login=login,
            passcode=passcode,
            vhost=vhost,
            heartbeats=heartbeats,
            headers=headers,
            ssl=ssl,
            connect_timeout=connect_timeout,
            config=self._config,
            reconnect=reconnect,
            stream_factory=stream_factory,
        )
        self._registry = SessionRegistry(max_subscriptions=self._config.limits.max_subscriptions)
        self._receipt_ids = IdCounter("receipt-")
        self._subscription_ids = IdCounter("sub-")
        self._transaction_ids = IdCounter("tx-")
        self._subscriptions: dict[str, Subscription] = {}
        self._dispatcher = Dispatcher(self, self._subscriptions, on_unhandled)
        self._observers: set[StateChanges] = set()
        self._state = ClientState.CONNECTING
        self._link: Link | None = None
        self._ready = trio.Event()
        self._closing = False
        self._final_error: BaseException | None = None
        self._connected: stomp_core.Connected | None = None
        self._nursery: trio.Nursery | None = None

    def __repr__(self) -> str:
        where = self._link.endpoint if self._link is not None else "-"
        return f"<stomp_trio.Client {self._state.name} {where} version={self.version}>"

    # -- what users can look at ----------------------------------------------------------

    @property
    def state(self) -> ClientState:
        """Where the client is in its life (see :class:`~stomp_trio.ClientState`)."""
        return self._state

    @property
    def version(self) -> str | None:
        """The STOMP version negotiated on the current (or last) connection."""
        return self._connected.version if self._connected is not None else None

    @property
    def session(self) -> str | None:
        """The ``session`` header of the last CONNECTED frame."""
        return self._connected.session if self._connected is not None else None

    @property
    def server(self) -> str | None:
        """The ``server`` header of the last CONNECTED frame."""
        return self._connected.server if self._connected is not None else None

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
        return self._dispatcher.heartbeats_received

    def state_changes(self) -> StateChanges:
        """Observe the client's state changes: ``async for change in client.state_changes()``.

        Reports every transition (``CONNECTED``, ``RECONNECTING``, ``DISCONNECTING``,
        ``CLOSED``) and every failed connection attempt (same state, with ``error`` and
        ``attempt`` set), from the moment this is called.  The iterator ends after
        ``CLOSED``.  Unread changes beyond 100 are dropped, oldest first.
        """
        observer = StateChanges(self, STATE_CHANGES_KEPT)
        if self._state is ClientState.CLOSED:
            observer._push(StateChange(ClientState.CLOSED, error=self._final_error))
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
        await self._send_message(
            destination,
            body,
            content_type=content_type,
            headers=headers,
            transaction=transaction,
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
            self,
            destination,
            id=id if id is not None else self._subscription_ids.next(),
            ack=ack,
            headers=headers,
            receipt=receipt,
            capacity=buffer if buffer is not None else self._buffer_size,
        )

    def transaction(self, *, id: str | None = None) -> Transaction:
        """A transaction: ``async with client.transaction() as tx:``.

        BEGIN is sent on entering; COMMIT (confirmed by a RECEIPT) on a normal exit;
        ABORT when the block raises.  :meth:`Transaction.begin`,
        :meth:`~Transaction.commit` and :meth:`~Transaction.abort` do the same by hand.

        Args:
            id: the transaction id; default ``tx-1``, ``tx-2``, ...
        """
        return Transaction(self, id if id is not None else self._transaction_ids.next())

    # -- internals: the send path --------------------------------------------------------

    async def _current_link(self) -> Link:
        """The link to send on, waiting up to ``connect_timeout`` while reconnecting."""
        with trio.move_on_after(self._connect_timeout):
            while True:
                if self._closing or self._state is ClientState.CLOSED:
                    raise lost("the client is closed", self._final_error)
                link = self._link
                if link is not None and link.usable and self._state is ClientState.CONNECTED:
                    return link
                if self._ready.is_set():
                    # Stale: set for a link that has ended since.  The supervisor sets
                    # whichever event is current when the next link is ready.
                    self._ready = trio.Event()
                await self._ready.wait()
        raise ConnectionLost(f"not connected: still reconnecting after {self._connect_timeout:g} s")

    async def _send_event(
        self,
        event: stomp_core.FrameEvent,
        *,
        link: Link | None = None,
        wait_receipt: bool = False,
    ) -> None:
        """Write ``event`` on ``link`` (default: the current one); await its receipt.

        Cancellation: before the lock is taken nothing happened; during the write the
        link breaks (``send_failed``) and the client reconnects; while awaiting the
        receipt the frame was sent and the receipt is simply no longer awaited.
        """
        if link is None:
            link = await self._current_link()
        receipt_id = event.get("receipt")
        waiter: ReceiptWaiter | None = None
        async with link.send_lock:
            if not link.usable:
                raise lost("the connection was lost", link.reason)
            link.core.send(event, now=trio.current_time())
            self._registry.record(event)
            if receipt_id is not None and wait_receipt:
                waiter = link.waiters[receipt_id] = ReceiptWaiter()
            link.rearm()
            await link.write_pending()
        if waiter is not None and receipt_id is not None:
            await self._await_receipt(link, receipt_id, waiter)

    async def _await_receipt(self, link: Link, receipt_id: str, waiter: ReceiptWaiter) -> None:
        try:
            with trio.fail_after(self._receipt_timeout):
                await waiter.event.wait()
        except trio.TooSlowError:
            raise ReceiptTimeout(receipt_id, self._receipt_timeout) from None
        finally:
            if link.waiters.pop(receipt_id, None) is not None:
                # Given up (timeout, cancellation): the RECEIPT may still come.
                link.leftovers.expect_receipt(receipt_id)
        if waiter.error is not None:
            raise waiter.error

    def _receipt(self, wanted: bool) -> str | None:
        return self._receipt_ids.next() if wanted else None

    async def _send_message(
        self,
        destination: str,
        body: bytes | str,
        *,
        content_type: str | None,
        headers: Mapping[str, str] | None,
        transaction: Transaction | str | None,
        receipt: bool,
    ) -> None:
        data, content_type = encode_body(body, content_type)
        link: Link | None = None
        if isinstance(transaction, Transaction):
            link = transaction._open_link()
            transaction = transaction.id
        event = stomp_core.Send(
            destination=destination,
            body=data,
            content_type=content_type,
            transaction=transaction,
            receipt=self._receipt(receipt),
            headers=tuple(headers.items()) if headers else (),
        )
        await self._send_event(event, link=link, wait_receipt=receipt)

    async def _acknowledge(
        self,
        message: Message,
        *,
        nack: bool,
        transaction: Transaction | str | None,
        receipt: bool,
    ) -> None:
        link = message._link
        if isinstance(transaction, str):
            transaction = link.transactions.get(transaction, transaction)
        if isinstance(transaction, Transaction) and transaction._open_link() is not link:
            raise ConnectionLost(f"transaction {transaction.id!r} began on another connection")
        if link.ended or link is not self._link:
            # conformance 98: ack ids belong to the session that delivered the message.
            raise lost(
                f"message {message.message_id!r} was delivered on a connection that has "
                "since been lost; the broker redelivers it",
                link.reason,
            )
        version = link.core.version
        assert version is not None  # a message arrives only after CONNECTED
        event = ack_for(
            message.event,
            version,
            message.subscription.id,
            nack=nack,
            transaction=transaction.id if isinstance(transaction, Transaction) else transaction,
            receipt=self._receipt(receipt),
        )
        await self._send_event(event, link=link, wait_receipt=receipt)

    # -- internals: subscriptions ----------------------------------------------------------

    async def _subscribe(self, sub: Subscription, *, receipt: bool) -> None:
        if sub.id in self._subscriptions:
            raise stomp_core.LocalProtocolError(f"subscription id {sub.id!r} is already in use")
        event = stomp_core.Subscribe(
            destination=sub.destination,
            id=sub.id,
            ack=sub.ack,
            receipt=self._receipt(receipt),
            headers=tuple(sub.headers.items()),
        )
        # Registered before the frame leaves, so no MESSAGE can arrive unrouted.
        self._subscriptions[sub.id] = sub
        try:
            await self._send_event(event, wait_receipt=receipt)
        except BaseException:
            # Cancelled or failed: the user never gets the subscription, so take it
            # back (locally at once; on the broker by UNSUBSCRIBE if it went out).
            self._unsubscribe(sub)
            raise

    def _forget(self, sub: Subscription) -> Link | None:
        """Drop ``sub`` locally; the link on which UNSUBSCRIBE must go, if any."""
        if self._subscriptions.get(sub.id) is not sub:
            sub._close()
            return None
        del self._subscriptions[sub.id]
        sub._close()
        self._registry.record(stomp_core.Unsubscribe(id=sub.id))
        link = self._link
        if link is not None and link.held is not None and link.held[0] is sub:
            # The held message's reader is gone: drop it and resume reading.
            link.release()
            self._dispatcher.drain(link)
        if link is not None and link.usable and sub.id in link.core.subscriptions:
            link.leftovers.unsubscribed(sub.id)
            return link
        return None

    def _unsubscribe(self, sub: Subscription) -> None:
        """Forget ``sub`` and queue UNSUBSCRIBE (written in the background)."""
        link = self._forget(sub)
        if link is not None:
            link.queue(stomp_core.Unsubscribe(id=sub.id))
            self._spawn_flush(link)

    async def _unsubscribe_now(self, sub: Subscription, *, receipt: bool) -> None:
        link = self._forget(sub)
        if link is None:
            await trio.lowlevel.checkpoint()
            return
        event = stomp_core.Unsubscribe(id=sub.id, receipt=self._receipt(receipt))
        try:
            await self._send_event(event, link=link, wait_receipt=receipt)
        except trio.Cancelled:
            if link.usable and sub.id in link.core.subscriptions:
                # Cancelled before it was written: still take it back on the broker.
                link.queue(stomp_core.Unsubscribe(id=sub.id))
                self._spawn_flush(link)
            raise

    def _spawn_flush(self, link: Link) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(link.flush_soon)

    def _room_available(self, sub: Subscription) -> None:
        link = self._link
        if link is not None and link.held is not None and link.held[0] is sub:
            self._dispatcher.drain(link)

    # -- internals: the supervisor -----------------------------------------------------------

    def _set_state(
        self,
        state: ClientState,
        *,
        endpoint: Endpoint | None = None,
        error: BaseException | None = None,
        attempt: int = 0,
    ) -> None:
        self._state = state
        change = StateChange(state, endpoint, error, attempt)
        if error is not None:
            log.info("state %s (%s: %s)", state.value, endpoint, error)
        else:
            log.info("state %s (%s)", state.value, endpoint)
        for observer in list(self._observers):
            observer._push(change)
        if state is ClientState.CLOSED:
            self._observers.clear()

    async def _establish(self, *, first: bool) -> tuple[Link, stomp_core.Connected]:
        state = ClientState.CONNECTING if first else ClientState.RECONNECTING

        def failed(endpoint: Endpoint, error: ConnectFailed, attempts: int) -> None:
            self._set_state(state, endpoint=endpoint, error=error, attempt=attempts)

        return await self._dialer.establish(first=first, on_failure=failed)

    async def _run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The supervisor: connect, serve, reconnect.

        When the client fails for good while the ``async with`` body runs, the error is
        raised here, in the client's nursery: trio then cancels the body and
        ``open_connection`` raises the error (as ``stomp_asyncio`` does).
        """
        link, connected = await self._establish(first=True)
        self._publish(link, connected)
        task_status.started()
        replay = False
        while True:
            await self._serve(link, connected, replay=replay)
            replay = True
            reason = link.reason
            self._link_lost(link)
            if self._closing or reason is None:
                self._finish(reason)
                return
            if self._reconnect is None or isinstance(reason, BrokerError):
                # An ERROR is the broker's deliberate answer: retrying would loop.
                self._fail(reason)
            self._set_state(ClientState.RECONNECTING, endpoint=link.endpoint, error=reason)
            try:
                link, connected = await self._establish(first=False)
            except ConnectFailed as exc:
                self._fail(lost("reconnecting failed", exc))

    def _fail(self, error: StompError) -> NoReturn:
        """The client failed for good: close it and raise ``error`` into its nursery."""
        self._finish(error)
        raise error

    def _publish(self, link: Link, connected: stomp_core.Connected) -> None:
        self._link = link
        self._connected = connected
        self._set_state(ClientState.CONNECTED, endpoint=link.endpoint)
        self._ready.set()

    async def _serve(self, link: Link, connected: stomp_core.Connected, *, replay: bool) -> None:
        """Run ``link`` until it ends; after a reconnect, re-subscribe first."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(link.run, self._dispatcher.drain)
            if replay:
                # Before anyone else may write, so the replayed SUBSCRIBEs precede new
                # frames on the wire.  The link is not published yet: users still wait.
                self._link = link
                try:
                    async with link.send_lock:
                        for event in self._registry.replay():
                            self._resubscribe(link, event)
                        await link.write_pending()
                except ConnectionLost:
                    pass
                if not link.ended:
                    self._publish(link, connected)
            await link.done.wait()
            nursery.cancel_scope.cancel()

    def _resubscribe(self, link: Link, event: stomp_core.Subscribe) -> None:
        try:
            link.core.send(event, now=trio.current_time())
        except stomp_core.LocalProtocolError as exc:
            # E.g. another broker of the list negotiated 1.0, which has no
            # client-individual: this subscription cannot live on this connection.
            self._registry.record(
                stomp_core.Unsubscribe(id=event.id, destination=event.destination)
            )
            sub = self._subscriptions.pop(event.id or event.destination, None)
            if sub is not None:
                sub._close(ConnectionLost(f"cannot subscribe again after reconnecting: {exc}"))

    def _link_lost(self, link: Link) -> None:
        """Fail what died with ``link``: receipts, transactions, a held message."""
        cause = link.reason
        for receipt_id, waiter in list(link.waiters.items()):
            waiter.resolve(lost(f"the connection was lost before RECEIPT {receipt_id!r}", cause))
        link.waiters.clear()
        for tx in list(link.transactions.values()):
            # conformance 100: the broker aborts a transaction whose connection failed.
            tx._lost(cause)
        link.transactions.clear()
        self._registry.drop_transactions()
        if link.held is not None:
            _sub, message = link.held
            log.debug("dropped held MESSAGE %s: the connection was lost", message.message_id)
            link.release()

    def _finish(self, error: BaseException | None) -> None:
        if self._state is ClientState.CLOSED:
            return
        self._final_error = error
        for sub in list(self._subscriptions.values()):
            if not sub.closed:
                # As in stomp_asyncio: iterators raise the error that ended the client
                # (ConnectionLost, BrokerError, ProtocolViolation) once drained.
                sub._close(error)
        self._ready.set()  # wake waiters so they see CLOSED
        self._set_state(ClientState.CLOSED, error=error)

    async def _shutdown(self) -> None:
        """Leave: DISCONNECT with a receipt and wait (the core's ``disconnect_timeout``)."""
        self._closing = True
        for sub in list(self._subscriptions.values()):
            # Nobody reads them any more; a full buffer must not stall the DISCONNECT
            # receipt behind back-pressure.
            sub._close()
        link = self._link
        if link is not None and link.held is not None:
            link.release()
            self._dispatcher.drain(link)
        disconnect_error: BaseException | None = None
        try:
            if link is not None and link.usable:
                self._set_state(ClientState.DISCONNECTING, endpoint=link.endpoint)
                async with link.send_lock:
                    if link.usable:
                        link.closing = True
                        receipt = self._receipt_ids.next()
                        link.leftovers.expect_receipt(receipt)  # the core acts on it
                        link.core.send(
                            stomp_core.Disconnect(receipt=receipt), now=trio.current_time()
                        )
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

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
import uuid
from collections.abc import Awaitable

from stomp_core import (
    Disconnect,
    FrameEvent,
    State,
    Unsubscribe,
)
from stomp_core.client import (
    ClientBase,
    ClientOptions,
    ClientState,
    ConnectFailed,
    ConnectionLost,
    Deliver,
    Endpoint,
    StompError,
    TlsContexts,
    connection_lost,
    dial_failed,
)

from ._link import Link
from ._observe import Signal, StateChanges
from ._subscription import Message, Subscription
from ._transaction import Transaction
from ._transport import open_transport

__all__ = ["Client"]

log = logging.getLogger("stomp_asyncio")


class Client(ClientBase[Subscription, Message, Transaction, StateChanges]):
    """A STOMP client on asyncio; use it through :func:`open_connection` and ``async with``.
    Its API is :class:`~stomp_core.client.ClientBase`'s, shared with ``stomp_trio``.

    Entering connects (CONNECT, then the core's wait for CONNECTED); leaving disconnects
    gracefully (DISCONNECT with a receipt, bounded by ``disconnect_timeout``), also when the
    body raised or was cancelled, and then cancels and awaits every task the client owns.

    If the connection fails for good (reconnection disabled or given up, an ERROR frame)
    while the body runs, the body is cancelled and the ``async with``
    raises the error, as a task group would.  See :func:`open_connection` for the arguments.

    Use it from the event loop it was entered on (it is not thread-safe; from another
    thread, go through ``asyncio.run_coroutine_threadsafe``).
    """

    _late_observer_sees_closed = False
    _too_slow = asyncio.TimeoutError
    _changes_kept = 256

    def __init__(self, options: ClientOptions) -> None:
        super().__init__(
            options,
            rng=random.random,
            subscription=Subscription,
            message=Message,
            transaction=Transaction,
            signal=Signal,
            observer=StateChanges,
            log=log,
            frames=logging.getLogger("stomp_asyncio.frames"),
            reply_token=uuid.uuid4().hex,  # unique among the broker's connections
        )
        self._tls = TlsContexts(options, _ssl.SSLContext, _ssl.create_default_context)
        self._link: Link | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._fatal: StompError | None = None
        self._host: asyncio.Task[object] | None = None
        self._in_body = False
        self._cancelled_host = False
        self._entered = False
        self._resume_scheduled = False
        self._disconnect_error: BaseException | None = None

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
            raise
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name=f"stomp_asyncio supervisor {self.endpoint}"
        )
        self._in_body = True
        return self

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
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

    async def _dial(self, endpoint: Endpoint) -> Link:
        """Open the transport, send CONNECT, wait for CONNECTED (the core's timer) and
        adopt the link (replaying the subscriptions)."""
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
            async with link.turn:
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
        await self._start_session(link)
        return link

    async def _open_transport(
        self, endpoint: Endpoint, link: Link, tls: _ssl.SSLContext | None
    ) -> None:
        """Connect ``link`` to ``endpoint`` (tests override this with in-memory transports)."""
        await open_transport(link, endpoint, tls, handshake_timeout=self._options.connect_timeout)

    async def _start_session(self, link: Link) -> None:
        """Adopt a connected link and replay the live subscriptions on it."""
        self._link = link
        if self._session.subscriptions:
            try:
                await self._replay(link)
            except BaseException:
                link.abort()
                raise
        self._publish(link)

    async def _supervise(self) -> None:
        """Watch the live link; reconnect when it drops, or fail the client for good."""
        while True:
            link = self._link
            assert link is not None
            reason = await asyncio.shield(link.closed)  # never cancel the link's future
            if self._session.closing:
                return
            if await self._reconnect(reason, link.endpoint) is None:
                return

    def _fail(self, error: StompError) -> None:
        """The client is finished: tell every waiter, every iterator and the body."""
        log.error("STOMP connection failed for good: %s", error)
        self._fatal = error
        self._link_ready.fire()  # wake senders waiting for a reconnect: they will see the error
        self._finish(error)
        if self._in_body and self._host is not None and not self._host.done():
            self._cancelled_host = True
            self._host.cancel()

    async def _shutdown(self) -> None:
        # Nobody consumes any more: a full buffer must not hold the DISCONNECT's RECEIPT
        # back behind back-pressure.
        disconnect = self._leave()
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
                    self._disconnect(link, disconnect), self._options.disconnect_timeout + 1.0
                )
            except (asyncio.TimeoutError, StompError, OSError) as exc:
                log.warning("graceful disconnect from %s failed: %s", link.endpoint, exc)
                self._disconnect_error = exc
        link.abort()
        await asyncio.wait_for(asyncio.shield(link.closed), self._options.disconnect_timeout)

    async def _disconnect(self, link: Link, disconnect: Disconnect) -> None:
        async with link.turn:
            link.send(disconnect)
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
        for done in self._session.connection_lost(ConnectionLost("the client is closed")):
            self._resolve(done)
        self._link_ready.fire()
        self._finish(self._disconnect_error)

    def _deliver(self, link: Link, outcome: Deliver[Subscription]) -> None:
        subscription = outcome.subscription
        subscription._deliver(Message(subscription, outcome.event, outcome.generation))
        if subscription.full:
            self._session.buffer_full(subscription.id)

    def _buffer_filled(self, sub: Subscription) -> None:
        # As _deliver: a full buffer stops reading.
        self._session.buffer_full(sub.id)

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _wait_for(self, wait: Awaitable[None], seconds: float) -> bool:
        try:
            await asyncio.wait_for(wait, seconds)
        except asyncio.TimeoutError:
            return False
        return True

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

    def _check_sending(self) -> None:
        if self._fatal is not None:
            raise connection_lost("the client failed", self._fatal)
        if self._session.closing or not self._entered:
            raise ConnectionLost("the client is not connected (use 'async with')")

    def _write_soon(self, link: Link, event: FrameEvent) -> None:
        link.send(event)
        link.flush_nowait()  # now, unless a locked writer is mid-frame: it writes it next

    async def _unsubscribe(self, subscription: Subscription, receipt: bool) -> None:
        link = self._forget(subscription)
        if not self._session.stalled:
            self._resume_soon()
        if link is None:
            return
        if not receipt:
            # Never given up (issue 14.2): forgotten here but live at the broker, its next
            # MESSAGE would be lost.  Queued without waiting for the write lock.
            self._queue(Unsubscribe(id=subscription.id), link.generation)
            await asyncio.sleep(0)
            return
        await self._send_unsubscribe(subscription, link, True)  # errors: the caller's

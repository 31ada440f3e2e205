"""The trio client: an I/O shell over :class:`~stomp_core.client.ClientBase`.

Its nursery (made by ``open_connection``) runs the *supervisor* task: dial, run a
:class:`~stomp_trio._link.Link` until it ends, reconnect.  A failure for good is raised
into that nursery, which cancels the ``async with`` body (``_options.py`` unwraps it).
"""

from __future__ import annotations

import contextlib
import logging
import random
import ssl as _ssl
import uuid
from collections.abc import Awaitable
from typing import NoReturn

import trio

import stomp_core
from stomp_core import FrameEvent
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

from ._link import _WRITES_PER_YIELD, TRANSPORT_ERRORS, Link
from ._observe import Signal, StateChanges
from ._subscription import Message, Subscription
from ._transaction import Transaction
from ._transport import StreamFactory, open_stream

__all__ = ["Client"]

log = logging.getLogger("stomp_trio")

#: Cancellation points between two turns given to other tasks (``Client._checkpoint``):
#: the send path's policy, one number for both.
_CALLS_PER_YIELD = _WRITES_PER_YIELD


class Client(ClientBase[Subscription, Message, Transaction, StateChanges]):
    """A STOMP session over trio, made by :func:`open_connection`; its API is
    :class:`~stomp_core.client.ClientBase`'s, shared with ``stomp_asyncio``.

    Every method is safe to call from any task of the same trio run.  Every wait is
    cancellable and honours the caller's deadlines (what a cancellation leaves behind:
    docs/async-clients.md).
    """

    _reports_each_dial = False
    _too_slow = trio.TooSlowError

    def __init__(self, options: ClientOptions, stream_factory: StreamFactory | None = None) -> None:
        super().__init__(
            options,
            rng=random.random,
            subscription=Subscription,
            message=Message,
            transaction=Transaction,
            signal=Signal,
            observer=StateChanges,
            log=log,
            frames=logging.getLogger("stomp_trio.frames"),
            reply_token=uuid.uuid4().hex,  # unique among the broker's connections
            checkpoint=self._checkpoint,
        )
        self._tls = TlsContexts(options, _ssl.SSLContext, _ssl.create_default_context)
        self._stream_factory = stream_factory
        self._link: Link | None = None
        #: A message waiting for room in its subscription's buffer (the link is paused).
        self._held: tuple[Subscription, Message] | None = None
        self._nursery: trio.Nursery | None = None
        self._unyielded = 0

    async def _checkpoint(self) -> None:
        """The core's cancellation point (``ClientHooks.checkpoint``, taken e.g. by every
        ``async for`` step over a subscription's buffered messages).

        Cancellation is checked every time; other tasks get their turn once every
        ``_CALLS_PER_YIELD`` calls (as the send path does with its writes).  A full trio
        checkpoint per message was one pass of the scheduler, and an ``epoll`` call, for
        every message taken from a buffer.  A consumer that finds the buffer empty waits,
        and so yields, anyway.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        self._unyielded += 1
        if self._unyielded >= _CALLS_PER_YIELD:
            self._unyielded = 0
            await trio.lowlevel.cancel_shielded_checkpoint()

    # -- internals: the send path --------------------------------------------------------

    def _check_sending(self) -> None:
        if self._session.closing or self.state is ClientState.CLOSED:
            raise connection_lost("the client is closed", self._final_error)

    def _write_soon(self, link: Link, event: FrameEvent) -> None:
        link.send(event)
        if self._nursery is not None:
            self._nursery.start_soon(link.flush_soon)

    # -- internals: subscriptions ----------------------------------------------------------

    def _forget(self, sub: Subscription) -> Link | None:
        link: Link | None = super()._forget(sub)
        if self._held is not None and self._held[0] is sub:
            # The held message's reader is gone: drop it and resume reading.
            self._release()
        return link

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

    def _deliver(self, link: Link, outcome: Deliver[Subscription]) -> None:
        sub = outcome.subscription
        message = Message(sub, outcome.event, outcome.generation)
        if not sub._offer(message):
            self._held = (sub, message)
            self._session.buffer_full(sub.id)
            link.pause()

    async def _sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)

    async def _wait_for(self, wait: Awaitable[None], seconds: float) -> bool:
        with trio.move_on_after(seconds):
            await wait
            return True
        return False

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
        super()._link_closed(link, reason)
        if self._held is not None:
            log.debug("dropped held MESSAGE %s: the connection ended", self._held[1].message_id)
            self._release()

    # -- internals: the supervisor -----------------------------------------------------------

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
        """The supervisor: connect, serve, reconnect; a failure for good raises here."""
        link = await self._connect(first=True)
        self._publish(link)
        task_status.started()
        replay = False
        while True:
            await self._serve(link, replay=replay)
            replay = True
            reason = link.reason
            if self._session.closing or reason is None:
                self._link_ready.fire()
                self._finish(reason)
                return
            link = await self._reconnect(reason, link.endpoint)  # _fail raises

    def _fail(self, error: StompError) -> NoReturn:
        """The client failed for good: close it and raise ``error`` into its nursery."""
        self._link_ready.fire()  # wake waiters so they see CLOSED
        self._finish(error)
        raise error

    async def _serve(self, link: Link, *, replay: bool) -> None:
        """Run ``link`` until it ends; after a reconnect, re-subscribe first."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(link.run)
            if replay:
                # Before anyone else may write, so the replayed SUBSCRIBEs precede new
                # frames on the wire.  The link is not published yet: users still wait.
                self._link = link
                with contextlib.suppress(ConnectionLost):
                    await self._replay(link)
                if not link.ended:
                    self._publish(link)
            await link.done.wait()
            nursery.cancel_scope.cancel()

    async def _shutdown(self) -> None:
        """Leave: DISCONNECT with a receipt and wait (the core's ``disconnect_timeout``)."""
        # Nobody reads any more; a full buffer must not stall the DISCONNECT receipt
        # behind back-pressure.
        disconnect = self._leave()
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
                        link.send(disconnect)
                        await link.flush()
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
            self._link_ready.fire()
            self._finish(disconnect_error)
            if self._nursery is not None:
                self._nursery.cancel_scope.cancel()

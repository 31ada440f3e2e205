"""One transport connection: an :class:`asyncio.Protocol` around one core ``Connection``.

After every input the link drains ``next_event()``, writes ``data_to_send()`` and re-arms
one ``loop.call_at`` timer from ``get_timer()`` (the aioquic pattern); heart-beats and the
CONNECTED and DISCONNECT-receipt waits are the core's.  Writers take ``turn`` (frames
are atomic, conformance 102) and wait for ``resume_writing`` between chunks; one cancelled
mid-frame calls ``send_failed()`` and aborts the transport (STYLE.md 11).  Callbacks write
at once when the lock is free, else the holder writes their bytes after its frame.
A full subscription pauses reading (docs/async-clients.md, "Back-pressure").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from stomp_core import (
    NEED_DATA,
    Connected,
    Event,
    FrameEvent,
    RemoteProtocolError,
    State,
)
from stomp_core import Connection as CoreConnection
from stomp_core.client import (
    ConnectionLost,
    Endpoint,
    StompError,
    connect_failed,
    connection_lost,
    parse_failure,
    reads_ahead,
    rearms,
    write_timed_out,
)

__all__ = ["Link"]

log = logging.getLogger("stomp_asyncio")

#: Most bytes handed to the transport per write; between writes the writer honours the
#: transport's flow control, so the transport's buffer stays bounded by about this much
#: beyond its high-water mark (64 KiB by default) whatever the size of a frame.
WRITE_CHUNK = 256 * 1024

_TERMINAL = (State.CLOSED, State.ERROR)
_LIVE = (State.CONNECTED, State.DISCONNECTING)


class Link(asyncio.Protocol):
    """The protocol object of one transport connection (one STOMP session).

    Args:
        core: a fresh client-role core connection.
        endpoint: the broker it goes to.
        generation: the number the client's session gave this connection.
        handle: called with every core event, synchronously, in order; it calls
            :meth:`end` when the session says the connection is over.
        stalled: whether a subscription buffer is full (then the link stops reading).
        closed: called once the transport is gone, with the reason.
    """

    def __init__(
        self,
        core: CoreConnection,
        endpoint: Endpoint,
        *,
        generation: int,
        handle: Callable[[Link, Event], None],
        stalled: Callable[[], bool],
        closed: Callable[[Link, StompError], None],
        write_timeout: float = 30.0,
    ) -> None:
        self.core = core
        self.write_timeout = write_timeout
        #: When the write in progress must be done (``None``: no write waits).
        self._write_deadline: float | None = None
        self.endpoint = endpoint
        self.generation = generation
        self._handle_event = handle
        self._stalled = stalled
        self._on_closed = closed
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        #: The writers' turn (a lock): one frame at a time on the wire.
        self.turn = asyncio.Lock()
        #: The CONNECTED event, or the reason connecting failed.
        self.connected: asyncio.Future[Connected] = self._loop.create_future()
        #: Resolved (never failed) with the reason once the transport is gone.
        self.closed: asyncio.Future[StompError] = self._loop.create_future()
        self.reason: StompError | None = None
        #: Whether the session ended as planned (the RECEIPT of our DISCONNECT).
        self.clean_close = False
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._read_paused = False
        self._reading_ahead = False
        self._eof = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None

    # ----------------------------------------------------------- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.core.state in _TERMINAL:
            return  # e.g. bytes after the DISCONNECT receipt: nothing to do with them
        self.core.receive_data(data, now=self._loop.time())
        self._process()
        self._read_ahead()

    def eof_received(self) -> bool:
        self._feed_eof()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and self.reason is None:
            # A transport error (reset, TLS alert) says more than the EOF that follows.
            self._set_reason(connection_lost("the connection to the broker was lost", exc))
        self._feed_eof()
        if self.reason is None:
            self._set_reason(ConnectionLost("the connection to the broker was lost"))
        self._cancel_timer()
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_exception(self._lost_error())
        self._drain_waiters.clear()
        assert self.reason is not None
        if not self.connected.done():
            self.connected.set_exception(connect_failed(self.reason))
            self.connected.exception()  # retrieved here: the dialler may be gone
        if not self.closed.done():
            self.closed.set_result(self.reason)
            self._on_closed(self, self.reason)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._drain_waiters.clear()

    # ----------------------------------------------------------- reading

    def _feed_eof(self) -> None:
        if self._eof:
            return
        self._eof = True
        self.core.receive_eof(now=self._loop.time())
        self._process()

    def _process(self) -> None:
        """Drain the core's events, write what it queued, re-arm the timer."""
        core = self.core
        while True:
            # Only a live session waits for room: CONNECTED (after a reconnect, a buffer
            # may still be full) and terminal events are never held back.
            if self._stalled() and not self._eof and core.state in _LIVE:
                self._pause_reading()
                break
            try:
                event = core.next_event()
            except RemoteProtocolError as exc:
                self.terminate(parse_failure(exc, eof=self._eof))
                return
            if event is NEED_DATA:
                break
            assert isinstance(event, Event)
            if isinstance(event, Connected) and not self.connected.done():
                self.connected.set_result(event)
            self._handle_event(self, event)
        if core.state in _TERMINAL:
            self._close_transport()
        else:
            self.flush_nowait()
        self._arm_timer()

    def end(self, reason: StompError | None, *, abort: bool) -> None:
        """The session says the connection is over (``None``: closed as we asked)."""
        if reason is None:
            self.clean_close = True
            reason = ConnectionLost("the connection was closed")
        self._set_reason(reason)
        if abort:
            self.abort()

    def _pause_reading(self) -> None:
        if not self._read_paused and self.transport is not None:
            self._read_paused = True
            self.transport.pause_reading()
            # The broker's heart-beats now wait unread in the socket: its silence proves
            # nothing until we read again (our own heart-beats keep flowing).
            self.core.pause_receive_timeout(now=self._loop.time())
            log.debug("a subscription buffer is full: reading paused")

    @property
    def ended(self) -> bool:
        """Whether the transport is gone (the link is never used again)."""
        return self.closed.done()

    @property
    def reading_paused(self) -> bool:
        """Whether the link stopped reading because a subscription buffer is full."""
        return self._read_paused

    def resume(self) -> None:
        """A buffer has room again: parse what the core holds, then read again."""
        if self.transport is None or self.closed.done():
            return
        self._process()
        if self._read_paused and not self._stalled():
            self._read_paused = False
            self._reading_ahead = False
            self.core.resume_receive_timeout(now=self._loop.time())
            if not self.transport.is_closing():
                self.transport.resume_reading()
            self._arm_timer()
            log.debug("reading resumed")

    def _read_ahead(self) -> None:
        """While reading is paused, read into the core (delivering nothing) as long as a
        writer waits for the broker (:func:`~stomp_core.client.reads_ahead`)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        waiting, buffered = bool(self._drain_waiters), self.core.receive_buffered
        wanted = reads_ahead(
            paused=self._read_paused, writing=waiting, eof=self._eof, buffered=buffered
        )
        if wanted and not self._reading_ahead:
            self._reading_ahead = True
            transport.resume_reading()
        elif not wanted and self._reading_ahead:
            self._reading_ahead = False
            if self._read_paused:
                transport.pause_reading()

    # ----------------------------------------------------------- timer

    def _arm_timer(self) -> None:
        deadline = self.core.get_timer()
        if deadline is None:
            self._cancel_timer()
        elif rearms(deadline, self._timer_at) and not self.closed.done():
            self._cancel_timer()
            self._timer_at = deadline
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._timer_at = None

    def _on_timer(self) -> None:
        # call_at may fire a hair early (the loop's clock resolution): never hand the
        # core a time before the deadline it asked for (aioquic does the same).
        now = max(self._timer_at or 0.0, self._loop.time())
        self._timer = None
        self._timer_at = None
        self.core.handle_timer(now=now)
        self._process()

    # ----------------------------------------------------------- writing

    def send(self, event: FrameEvent) -> None:
        """Queue ``event`` in the core (validation errors propagate); call under the lock."""
        self.core.send(event, now=self._loop.time())

    def flush_nowait(self) -> None:
        """Write what the core queued, now, unless a locked writer is mid-frame."""
        if self.turn.locked() or self.transport is None or self.transport.is_closing():
            return
        data = self.core.data_to_send(now=self._loop.time())
        if data:
            self.transport.write(data)

    async def flush(self) -> None:
        """Write everything the core queued, honouring flow control; call under the lock.

        Raises:
            ConnectionLost: the transport is gone, or the write took longer than
                ``write_timeout`` (then the link is dropped).
        """
        # One overall deadline (ClientOptions.write_timeout): a broker that stops reading
        # (heart-beats only prove that it writes) must not hold the writer forever.
        self._write_deadline = self._loop.time() + self.write_timeout
        try:
            while True:
                if self.transport is None or self.closed.done() or self.transport.is_closing():
                    raise self._lost_error()
                buffers = self.core.buffers_to_send(now=self._loop.time())
                if not buffers:
                    break
                await self._write_all(buffers)
        finally:
            self._write_deadline = None
        self._arm_timer()

    async def _write_all(self, buffers: list[bytes]) -> None:
        """Hand ``buffers`` to the transport, at most WRITE_CHUNK bytes at a time.

        A large body is one of the buffers, the application's own object: it is written
        in slices of it, never copied here (the core's ``buffers_to_send``).
        """
        transport = self.transport
        assert transport is not None
        whole = False
        try:
            for data in buffers:
                size = len(data)
                if size <= WRITE_CHUNK:
                    transport.write(data)
                    continue
                view = memoryview(data)
                for start in range(0, size, WRITE_CHUNK):
                    # Mid-frame (its head went first): a wait here that is cancelled
                    # leaves half a frame on the wire.
                    await self._drain()
                    transport.write(view[start : start + WRITE_CHUNK])
            whole = True
        finally:
            if not whole:
                # Half a frame may be on the wire: the stream can never be valid again.
                self.core.send_failed()
                self.terminate(
                    ConnectionLost("a frame write was interrupted; the connection was dropped")
                )
        # The whole frame is in the transport: waiting for it to drain is flow control
        # only, and cancelling this wait leaves the stream intact.
        await self._drain()

    async def _drain(self) -> None:
        if not self._write_paused:
            return
        if self.closed.done():
            raise self._lost_error()
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._drain_waiters.append(waiter)
        self._read_ahead()
        deadline = self._write_deadline
        timer = None if deadline is None else self._loop.call_at(deadline, self._write_too_slow)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if waiter in self._drain_waiters:
                self._drain_waiters.remove(waiter)
            self._read_ahead()

    def _write_too_slow(self) -> None:
        """The write deadline passed: drop the link (the stream may hold half a frame);
        the waiting writer gets this reason from ``connection_lost``."""
        self.core.send_failed()
        self.terminate(write_timed_out(self.write_timeout))

    # ----------------------------------------------------------- closing

    def _set_reason(self, reason: StompError) -> None:
        if self.reason is None:
            self.reason = reason

    def _lost_error(self) -> ConnectionLost:
        if isinstance(self.reason, ConnectionLost):
            return self.reason
        return connection_lost("the connection to the broker is gone", self.reason)

    def _close_transport(self) -> None:
        # The core is done (RECEIPT of DISCONNECT, ERROR, EOF): close after the buffered
        # bytes are written.  The client bounds the wait and aborts if needed.
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def terminate(self, reason: StompError) -> None:
        """Record ``reason`` (unless one is known) and abort the transport at once."""
        self._set_reason(reason)
        self.abort()

    def abort(self) -> None:
        """Drop the transport without flushing; ``connection_lost`` follows."""
        self._cancel_timer()
        if self.transport is not None:
            self.transport.abort()

"""One transport connection: a byte stream, its core ``Connection`` and two tasks.

The *reader* feeds ``receive_some()`` to the core; it is never cancelled while the link
lives (a cancelled receive can break a :class:`trio.SSLStream` mid-record), so the core's
timer (heart-beats, the DISCONNECT receipt wait) runs in a *timer* task of its own.
Whoever holds ``send_lock`` drains the core and writes until it has nothing left, so wire
order is core order; a write cut half-way calls ``send_failed()`` and ends the link
(STYLE.md 11).  Back-pressure and read-ahead: docs/async-clients.md, ARCHITECTURE.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NoReturn

import trio

import stomp_core
from stomp_core import NEED_DATA, RemoteProtocolError
from stomp_core.client import (
    ConnectFailed,
    ConnectionLost,
    Endpoint,
    StompError,
    connect_failed,
    connection_lost,
    parse_failure,
    reads_ahead,
    rearms,
    starts_deadline,
    unsent_buffers,
    write_timed_out,
)

from ._transport import nonblocking_writer

__all__ = ["READ_SIZE", "TRANSPORT_ERRORS", "Link"]

#: Bytes asked of ``receive_some`` per read: large enough for throughput, small enough
#: that one read never buffers much beyond a full subscription (back-pressure).
READ_SIZE = 64 * 1024

_TERMINAL = (stomp_core.State.CLOSED, stomp_core.State.ERROR)

#: Scheduling rounds the timer task yields before acting on a deadline, so that a reader
#: with bytes waiting (TCP: one round; TLS may need a few) reaches the core first.
_READER_TURNS = 3

#: Writes that went to the socket at once (no wait) in a row before one yields to the
#: scheduler: sending costs no task switch, yet a task that sends in a loop cannot keep
#: the reader and the timer task (heart-beats) from running for long.
_WRITES_PER_YIELD = 16

#: Transport failures that end a link (and become ConnectionLost).
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    OSError,
)


class Link:
    """A live transport connection.

    Args:
        stream: the byte stream.
        core: a fresh client-role core connection.
        endpoint: the broker it goes to.
        generation: the number the client's session gave this connection.
        drain: the client's event pump, called after every input.
        closed: called once when the link ends, with the reason.

    Attributes:
        paused: the client holds a message back (a subscription buffer is full): the
            reader reads nothing until :meth:`resume`.
        reason: why the link ended (``None``: closed as we asked, by DISCONNECT).
        closing: we sent DISCONNECT.
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        core: stomp_core.Connection,
        endpoint: Endpoint,
        *,
        generation: int,
        drain: Callable[[Link], None],
        closed: Callable[[Link, StompError | None], None],
        write_timeout: float = 30.0,
    ) -> None:
        self.stream = stream
        self.write_timeout = write_timeout
        #: Writers inside ``send_all`` right now (the paused reader reads ahead then).
        self.writing = 0
        self._reader_wake = trio.Event()
        self.core = core
        self.endpoint = endpoint
        self.generation = generation
        self._drain = drain
        self._on_closed = closed
        self.send_lock = _SendLock()
        self.paused = False
        self.handshaking = False
        self.eof = False
        self.reason: StompError | None = None
        self.closing = False
        self.done = trio.Event()
        #: Whether the link is over (it is never used again once it is): ``done`` is
        #: set.  A plain attribute, read twice per send.
        self.ended = False
        self._rearm = trio.Event()
        #: The deadline the timer task sleeps until (-inf: it is awake, about to look).
        self._armed = -math.inf
        self._nursery: trio.Nursery | None = None
        self._write_nowait = nonblocking_writer(stream)
        #: The socket a direct writer waits on (only read when there is one).
        self._socket = getattr(stream, "socket", None)
        self._unyielded = 0
        #: ``trio.current_time`` without its two wrapper calls (twice per send).
        self._now = trio.lowlevel.current_clock().current_time
        #: What the shared send path takes (``async with link.turn:``): ``send_lock``.
        self.turn = self.send_lock

    def __repr__(self) -> str:
        return f"<Link #{self.generation} to {self.endpoint} {self.core.state.name}>"

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def usable(self) -> bool:
        """Whether frames may still be sent on it."""
        return not self.ended and self.core.state is stomp_core.State.CONNECTED

    def end(self, reason: StompError | None, *, abort: bool = False) -> None:
        """Mark the link over; the first reason given wins.  The stream is closed
        forcefully unless we closed as asked, so ``abort`` changes nothing here."""
        if self.ended:
            return
        self.reason = reason
        self.ended = True
        self.done.set()
        self._rearm.set()
        self._reader_wake.set()
        self._on_closed(self, reason)

    def rearm(self) -> None:
        """Wake the timer task if the core has an earlier deadline (:func:`rearms`)."""
        if rearms(self.core.get_timer(), self._armed):
            self._rearm.set()

    def pause(self) -> None:
        """Stop reading: a message waits for room in a subscription's buffer."""
        if not self.paused:
            # The broker's heart-beats now wait unread in the socket: its silence
            # proves nothing until we read for consumers again.
            self.core.pause_receive_timeout(now=self._now())
            self.rearm()
        self.paused = True

    def resume(self) -> None:
        """The held message was delivered: reading may resume."""
        if self.paused and self.core.state not in _TERMINAL:
            # Reading for consumers again: the broker gets a full interval from now.
            self.core.resume_receive_timeout(now=self._now())
            self.rearm()
        self.paused = False
        self._reader_wake.set()

    # -- writing -----------------------------------------------------------------------

    def send(self, event: stomp_core.FrameEvent) -> None:
        """Hand ``event`` to the core without writing it (:meth:`flush` writes it)."""
        self.core.send(event, now=self._now())
        if starts_deadline(event.command):
            self.rearm()

    async def flush(self) -> None:
        """Write everything the core has queued.  The caller holds ``send_lock``.

        On plain TCP the buffers go to the socket at once, in one system call, a large
        body never copied (:func:`~stomp_trio._transport.nonblocking_writer`); only what
        the kernel did not take is written by waiting.  That is a checkpoint only when it
        waits, or once every ``_WRITES_PER_YIELD`` writes, so a sending loop lets others run.

        Raises:
            ConnectionLost: the transport failed; the link is over.
            trio.Cancelled: cancelled half-way; the link is over (``send_failed``).
        """
        write = self._write_nowait
        if write is None:
            data = self.core.data_to_send(now=self._now())
            if data:
                await self._write_waiting([data])
            return
        buffers = self.core.buffers_to_send(now=self._now())
        if not buffers:
            return
        try:
            sent = write(buffers)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._write_failed(exc, None)
        if len(buffers) != 1 or sent != len(buffers[0]):
            rest = unsent_buffers(buffers, sent)
            if rest:
                await self._write_waiting(rest)
                return
        self._unyielded += 1
        if self._unyielded >= _WRITES_PER_YIELD:
            self._unyielded = 0
            # The frames are written: a cancellation now must not say otherwise.
            await trio.lowlevel.cancel_shielded_checkpoint()

    async def _write_waiting(self, buffers: list[bytes | memoryview]) -> None:
        """Write ``buffers``, then whatever the core queued meanwhile, waiting as needed."""
        core = self.core
        take_all = self._write_nowait is None
        # One overall deadline (ClientOptions.write_timeout): a broker that stops reading
        # (heart-beats only prove that it writes) must not hold the writer forever.
        with trio.CancelScope(deadline=self._now() + self.write_timeout) as scope:
            try:
                while buffers:
                    self.writing += 1
                    self._reader_wake.set()  # a paused reader may read ahead now
                    try:
                        if take_all:
                            for buffer in buffers:
                                await self.stream.send_all(buffer)
                        else:
                            await self._write_when_writable(buffers)
                    finally:
                        self.writing -= 1
                    now = self._now()
                    if take_all:
                        # One send_all per batch: a WebSocket stream makes it one message.
                        data = core.data_to_send(now=now)
                        buffers = [data] if data else []
                    else:
                        buffers = list(core.buffers_to_send(now=now))
            except BaseException as exc:
                self._write_failed(exc, scope)

    async def _write_when_writable(self, buffers: list[bytes | memoryview]) -> None:
        """The direct writer's waiting loop: wait until the socket takes more, write all
        that is left in one call, repeat (no ``send_all``: one task switch per wait)."""
        write = self._write_nowait
        assert write is not None
        socket = self._socket
        assert socket is not None
        while buffers:
            await trio.lowlevel.wait_writable(socket)
            try:
                sent = write(buffers)
            except BlockingIOError:
                continue
            buffers = unsent_buffers(buffers, sent)

    def _write_failed(self, exc: BaseException, scope: trio.CancelScope | None) -> NoReturn:
        """A write failed or was cancelled: end the link and raise what the caller sees."""
        # Part of a frame may be on the wire: the stream can never be used again.
        self.core.send_failed()
        if isinstance(exc, TRANSPORT_ERRORS):
            error = connection_lost("writing to the broker failed", exc)
            self.end(error)
            raise error from exc
        if scope is not None and scope.cancel_called and isinstance(exc, trio.Cancelled):
            error = write_timed_out(self.write_timeout)
            self.end(error)
            raise error from None
        self.end(connection_lost("a write was interrupted half-way; the stream is broken", exc))
        raise exc

    async def flush_soon(self, if_idle: bool = False) -> None:
        """Write what the core queued (a background task: never raises).

        With ``if_idle`` (heart-beats), not while a task holds ``send_lock``: it is inside
        :meth:`flush`, whose loop picks up whatever was queued meanwhile (there is no
        checkpoint between its last ``data_to_send()`` and its release of the lock).
        """
        if self.ended or (if_idle and self.send_lock.locked()):
            return
        try:
            async with self.send_lock:
                if not self.ended:
                    await self.flush()
        except ConnectionLost:
            pass

    # -- the handshake -----------------------------------------------------------------

    async def handshake(self, connect: stomp_core.Connect) -> None:
        """Send CONNECT and pump events until CONNECTED (the core's ``connect_timeout``).

        Runs before the link's tasks start, in the task that dials.

        Raises:
            ConnectFailed: the broker refused (an ERROR), the core's connect timeout,
                EOF, a transport failure, or a protocol violation.
        """
        core = self.core
        core.send(connect, now=self._now())
        try:
            await self.flush()
        except ConnectionLost as exc:
            raise ConnectFailed(f"sending CONNECT failed: {exc}") from exc
        self.handshaking = True
        while True:
            self._drain(self)  # stops at CONNECTED: what follows is the read loop's
            if self.ended:
                assert self.reason is not None  # only our DISCONNECT ends a link cleanly
                raise connect_failed(self.reason)
            if core.state is stomp_core.State.CONNECTED:
                self.handshaking = False
                return
            deadline = core.get_timer()
            # The stream is thrown away if this wait times out, so cancelling the
            # receive (see the module docstring) is harmless here.
            with trio.move_on_at(math.inf if deadline is None else deadline) as scope:
                try:
                    data = await self.stream.receive_some(READ_SIZE)
                except TRANSPORT_ERRORS as exc:
                    raise ConnectFailed(f"reading CONNECTED failed: {exc}") from exc
            if scope.cancelled_caught:
                core.handle_timer(now=self._now())
            else:
                self._feed(data)

    def _feed(self, data: bytes | bytearray) -> None:
        """Hand what was read to the core (``b""``: the broker closed its side)."""
        if data:
            self.core.receive_data(data, now=self._now())
        else:
            self.eof = True
            self.core.receive_eof(now=self._now())

    def next_event(self) -> stomp_core.Event | None:
        """The core's next event, or ``None`` when it needs data (a parse failure ends
        the link)."""
        try:
            event = self.core.next_event()
        except RemoteProtocolError as exc:
            self.end(parse_failure(exc, eof=self.eof))
            return None
        return None if event is NEED_DATA else event  # type: ignore[return-value]

    # -- the link's tasks ------------------------------------------------------------------

    async def run(self) -> None:
        """Run the reader and timer tasks until the link ends, then close the stream."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._read_loop)
                nursery.start_soon(self._timer_loop)
                await self.done.wait()
                nursery.cancel_scope.cancel()
        finally:
            await self.close_stream()

    async def close_stream(self) -> None:
        """Close the transport: politely after a clean DISCONNECT, forcefully otherwise."""
        if self.reason is None and self.done.is_set():
            # trio's aclose closes ungracefully when cancelled, so the bound is enough.
            with trio.move_on_after(self.core.config.disconnect_timeout or 1.0):
                await self.stream.aclose()
                return
        await trio.aclose_forcefully(self.stream)

    async def _read_loop(self) -> None:
        # Bytes that came with CONNECTED are already in the core: handle them first.
        self._drain(self)
        while not self.ended:
            if self._holds_back:
                await self._paused()
                continue
            try:
                data = await self.stream.receive_some(READ_SIZE)
            except TRANSPORT_ERRORS as exc:
                self.end(connection_lost("reading from the broker failed", exc))
                return
            self._feed(data)
            self.rearm()
            self._drain(self)
            if self.eof:
                # Nothing more to read; the EOF event reaches us after the frames
                # still buffered, possibly only when a consumer makes room.
                await self.done.wait()
                return

    async def _paused(self) -> None:
        """Read nothing until the held message is delivered (back-pressure), or a write
        waits (then the read loop reads ahead, :func:`reads_ahead`).  The core's
        receive deadline stays suspended from :meth:`pause` to :meth:`resume`."""
        while self._holds_back and not self.ended:
            # Woken by resume(), end(), or a write that starts while we hold back.
            self._reader_wake = trio.Event()
            await self._reader_wake.wait()

    @property
    def _holds_back(self) -> bool:
        """Whether the reader reads nothing now: paused, and not reading ahead."""
        paused, buffered = self.paused, self.core.receive_buffered
        ahead = reads_ahead(
            paused=paused, writing=self.writing > 0, eof=self.eof, buffered=buffered
        )
        return paused and not ahead

    async def _timer_loop(self) -> None:
        core = self.core
        nursery = self._nursery
        assert nursery is not None
        while not self.ended:
            deadline = core.get_timer()
            rearm = self._rearm = trio.Event()
            self._armed = math.inf if deadline is None else deadline
            with trio.move_on_at(self._armed):
                await rearm.wait()
                self._armed = -math.inf
                continue
            self._armed = -math.inf
            # The event loop may have been blocked past the deadline while the broker's
            # bytes waited in the socket (issue 14.11): the reader, woken in the same
            # round, feeds them to the core first; then decide again.
            for _ in range(_READER_TURNS):
                await trio.lowlevel.checkpoint()
            deadline = core.get_timer()
            if deadline is None or self._now() < deadline:
                continue
            if core.state not in _TERMINAL:
                core.handle_timer(now=self._now())
            self._drain(self)
            # The heart-beat goes out from a task of its own: a write that blocks (the
            # broker stopped reading) must not keep this task from the next deadline,
            # which may be the one that declares the broker dead.
            if not self.ended:
                nursery.start_soon(self.flush_soon, True)  # if idle


class _SendLock:
    """The writers' lock: one task at a time drains the core and writes, the others wait
    their turn in arrival order.

    ``async with`` takes a free lock at once, with no task switch (it is still a
    cancellation point), and hands a held one straight to the longest waiter on release.
    Unlike :class:`trio.Lock` it records no owner for trio's deadlock detection: that
    bookkeeping cost about a microsecond per send, and the lock is only ever held inside
    ``async with`` in this module and the client, so it cannot be left held.
    """

    __slots__ = ("_held", "_waiters")

    def __init__(self) -> None:
        self._held = False
        self._waiters = trio.lowlevel.ParkingLot()

    def locked(self) -> bool:
        """Whether a task holds the lock."""
        return self._held

    @property
    def waiting(self) -> int:
        """How many tasks wait for their turn."""
        return len(self._waiters)

    async def __aenter__(self) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()
        if self._held:
            # Cancelled while parked: never given the lock.  Unparked: the releasing
            # task handed the lock over (``_held`` stayed true), and a task already
            # rescheduled can no longer be cancelled out of ``park``.
            await self._waiters.park()
        else:
            self._held = True

    async def __aexit__(self, *exc_info: object) -> None:
        if self._waiters:
            self._waiters.unpark()  # the lock passes on, held throughout
        else:
            self._held = False

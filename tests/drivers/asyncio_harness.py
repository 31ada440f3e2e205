"""Test harness for stomp_asyncio: a virtual-clock loop, in-memory transports, a scripted
server on the core's SERVER role, and a client that dials those servers.

Tooling choice: plain ``run()`` helpers, no pytest-asyncio.  The tests need a custom event
loop (the virtual clock below) per test, and asserting that no task outlives a test is one
line here; a plugin would add a dependency and a loop-policy indirection for nothing.

Virtual clock: :class:`VirtualClockLoop` is a selector loop whose ``time()`` is a number
that jumps forward whenever the loop would otherwise sleep (trio's ``MockClock`` with
``autojump_threshold=0``).  With in-memory transports nothing happens outside the loop,
so heart-beat intervals, receipt timeouts and reconnect backoff run in real-world
seconds of *virtual* time and finish instantly, with exact, reproducible timings.  A test
that deadlocks is reported at once instead of hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from stomp_asyncio import Client
from stomp_asyncio._link import Link
from stomp_core import (
    NEED_DATA,
    SERVER,
    Config,
    Connect,
    Connected,
    Connection,
    Disconnect,
    Event,
    FrameEvent,
    HeartbeatReceived,
    Receipt,
)
from stomp_core.client import ClientOptions, Endpoint, parse_hosts

T = TypeVar("T")

#: Bounds on one test: virtual seconds cost nothing, real ones do.
VIRTUAL_DEADLINE = 10_000.0
REAL_DEADLINE = 60.0


# ----------------------------------------------------------------------------- clock


class _JumpSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Never sleeps: when nothing is ready, advance the virtual clock by the timeout."""

    def __init__(self, clock: list[float]) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            # Nothing scheduled and nothing ready: with in-memory transports nobody can
            # ever wake us.  Give other threads (none expected) a real moment, then fail.
            ready = super().select(2.0)
            if not ready:
                raise RuntimeError("deadlock: no callback, timer or I/O can wake the loop")
            return ready
        self._clock[0] += timeout
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop on a virtual clock that jumps over idle time."""

    def __init__(self) -> None:
        self._virtual = [1000.0]
        super().__init__(_JumpSelector(self._virtual))

    def time(self) -> float:
        return self._virtual[0]


def run(
    main: Callable[[], Coroutine[Any, Any, T]],
    *,
    virtual: bool = True,
    deadline: float | None = None,
) -> T:
    """Run ``main()`` on a fresh loop; fail if it takes longer than ``deadline`` or leaves
    any task behind (every task of the driver must be owned and finished).

    The default deadline is 60 s of real time, or 10 000 s of virtual time (free).
    """
    if deadline is None:
        deadline = VIRTUAL_DEADLINE if virtual else REAL_DEADLINE
    loop: asyncio.AbstractEventLoop = VirtualClockLoop() if virtual else asyncio.new_event_loop()
    leftovers: list[asyncio.Task[Any]] = []

    async def guarded() -> T:
        result = await asyncio.wait_for(main(), deadline)
        # Let transports deliver their last callbacks (connection_lost) first.
        for _ in range(5):
            await asyncio.sleep(0)
        leftovers.extend(t for t in asyncio.all_tasks() if t is not asyncio.current_task())
        return result

    try:
        result = loop.run_until_complete(guarded())
        assert not leftovers, f"tasks left running after the test: {leftovers}"
        return result
    finally:
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


async def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait (yielding to the loop) until ``predicate()`` holds; fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.001)


# ----------------------------------------------------------------------------- transports


class MemoryTransport(asyncio.Transport):
    """One end of an in-memory byte stream with flow control in both directions.

    Bytes written are delivered to the peer's protocol on a later loop iteration, unless
    the peer paused reading; the writer's protocol gets ``pause_writing()`` once the peer
    holds more than ``high`` undelivered bytes and ``resume_writing()`` below ``low``.
    """

    def __init__(self, protocol: asyncio.Protocol, *, high: int = 64 * 1024, low: int = 16 * 1024):
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._protocol = protocol
        self.peer: MemoryTransport | None = None
        self._inbox = bytearray()
        self._reading = True
        self._delivery_scheduled = False
        self._closing = False
        self._lost = False
        self._eof_pending = False
        self._write_paused = False
        self._high, self._low = high, low
        self.written = 0

    @staticmethod
    def pair(
        a: asyncio.Protocol, b: asyncio.Protocol, **limits: int
    ) -> tuple[MemoryTransport, MemoryTransport]:
        ta, tb = MemoryTransport(a, **limits), MemoryTransport(b, **limits)
        ta.peer, tb.peer = tb, ta
        return ta, tb

    # -- asyncio.Transport
    def write(self, data: bytes | bytearray | memoryview) -> None:  # type: ignore[override]
        if self._closing or self.peer is None:
            return
        self.written += len(data)
        self.peer._receive(bytes(data))
        if not self._write_paused and len(self.peer._inbox) > self._high:
            self._write_paused = True
            self._protocol.pause_writing()

    def is_closing(self) -> bool:
        return self._closing

    def is_reading(self) -> bool:
        return self._reading

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        self._reading = True
        self._schedule_delivery()

    def get_write_buffer_size(self) -> int:
        return len(self.peer._inbox) if self.peer is not None else 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("memory", 0)}.get(name, default)

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self.peer is not None:
            self.peer._eof_pending = True
            self.peer._schedule_delivery()
        self._loop.call_soon(self._lose, None)

    def abort(self) -> None:
        if self._lost:
            return
        self._closing = True
        peer = self.peer
        if peer is not None and not peer._lost:
            peer._closing = True
            self._loop.call_soon(peer._lose, ConnectionResetError("reset by peer"))
        self._loop.call_soon(self._lose, None)

    # -- internals
    def _receive(self, data: bytes) -> None:
        if self._lost:
            return
        self._inbox += data
        self._schedule_delivery()

    def _schedule_delivery(self) -> None:
        if self._reading and not self._delivery_scheduled and (self._inbox or self._eof_pending):
            self._delivery_scheduled = True
            self._loop.call_soon(self._deliver)

    def _deliver(self) -> None:
        self._delivery_scheduled = False
        if self._lost or not self._reading:
            return
        if self._inbox:
            data = bytes(self._inbox)
            self._inbox.clear()
            if self.peer is not None:
                self.peer._drained()
            self._protocol.data_received(data)
        if self._eof_pending and not self._inbox and self._reading and not self._lost:
            self._eof_pending = False
            keep_open = self._protocol.eof_received()
            if not keep_open:
                self._closing = True
                self._loop.call_soon(self._lose, None)

    def _drained(self) -> None:
        if self._write_paused and self.peer is not None and len(self.peer._inbox) <= self._low:
            self._write_paused = False
            self._protocol.resume_writing()

    def _lose(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._closing = True
        self._protocol.connection_lost(exc)


# ----------------------------------------------------------------------------- server


class ScriptedServer(asyncio.Protocol):
    """A broker stand-in on the core's SERVER role, scripted by the test.

    Args:
        version: the version to accept (must be offered by the client).
        heart_beat: the CONNECTED ``heart-beat`` header ``(sx, sy)``.
        auto_connect: answer CONNECT with CONNECTED at once.
        auto_receipt: answer every frame asking for a receipt with RECEIPT.
        heartbeating: send our own heart-beats on the core's timer.
    """

    def __init__(
        self,
        *,
        version: str | None = None,
        heart_beat: tuple[int, int] = (0, 0),
        auto_connect: bool = True,
        auto_receipt: bool = True,
        heartbeating: bool = True,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self.core = Connection(SERVER, Config(connect_timeout=None), now=self._loop.time())
        self.version = version
        self.heart_beat = heart_beat
        self.auto_connect = auto_connect
        self.auto_receipt = auto_receipt
        self.heartbeating = heartbeating
        #: While set, nothing is written (a hung broker): frames and heart-beats the
        #: core queues are discarded.
        self.silent = False
        self.transport: MemoryTransport | None = None
        self.events: list[Event] = []
        self.heartbeats = 0
        self.lost = asyncio.Event()
        self.lost_at: float | None = None
        self.last_write: float | None = None
        self._changed = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._taken = 0
        self.times: dict[str, list[float]] = {}

    # -- protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, MemoryTransport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.core.receive_data(data, now=self._loop.time())
        self._process()

    def eof_received(self) -> bool:
        self.core.receive_eof(now=self._loop.time())
        self._process()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.lost_at = self._loop.time()
        self.lost.set()
        self._changed.set()

    def _process(self) -> None:
        while True:
            try:
                event = self.core.next_event()
            except Exception:  # a protocol error: the core queued ERROR; send and close
                self._flush()
                if self.transport is not None:
                    self.transport.close()
                return
            if event is NEED_DATA:
                break
            assert isinstance(event, Event)
            if isinstance(event, HeartbeatReceived):
                self.heartbeats += 1
                continue
            self.events.append(event)
            self.times.setdefault(type(event).__name__, []).append(self._loop.time())
            self._changed.set()
            if isinstance(event, Connect) and self.auto_connect:
                self.accept(event)
            elif isinstance(event, FrameEvent) and self.auto_receipt:
                receipt = event.get("receipt")
                if receipt is not None and self.core.state.name in ("CONNECTED", "DISCONNECTING"):
                    self.send(Receipt(receipt_id=receipt))
                    if isinstance(event, Disconnect) and self.transport is not None:
                        self.transport.close()
        self._flush()

    def _flush(self) -> None:
        data = self.core.data_to_send(now=self._loop.time())
        if (
            data
            and not self.silent
            and self.transport is not None
            and not self.transport.is_closing()
        ):
            self.transport.write(data)
            self.last_write = self._loop.time()
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.core.get_timer()
        if deadline is not None and self.heartbeating and not self.lost.is_set():
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.core.handle_timer(now=self._loop.time())
        self._process()

    # -- script
    def accept(self, connect: Connect) -> None:
        """Answer CONNECT with CONNECTED."""
        version = self.version or self.core.proposed_version or "1.2"
        self.send(Connected(version=version, heart_beat=self.heart_beat, session="session-1"))

    def send(self, event: FrameEvent) -> None:
        """Send a frame to the client now."""
        self.core.send(event, now=self._loop.time())
        self._flush()

    async def next(self, kind: type[T] = Event, timeout: float = 30.0) -> T:  # type: ignore[assignment]
        """The next event received (in order) that is a ``kind``; skip others."""
        loop = self._loop
        end = loop.time() + timeout
        while True:
            while self._taken < len(self.events):
                event = self.events[self._taken]
                self._taken += 1
                if isinstance(event, kind):
                    return event
            if loop.time() > end:
                raise AssertionError(f"no {kind.__name__} arrived; got {self.events}")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.0, end - loop.time()))

    def of(self, kind: type[T]) -> list[T]:
        """Every received event of ``kind`` so far."""
        return [e for e in self.events if isinstance(e, kind)]

    def drop(self) -> None:
        """Reset the connection (as a crashing broker would)."""
        if self.transport is not None:
            self.transport.abort()


# ----------------------------------------------------------------------------- client


#: Makes the server side (a :class:`ScriptedServer`, or ``Broker.protocol()``) of one dial.
Dialer = Callable[[Endpoint], Awaitable[asyncio.Protocol]]


def make_options(hosts: Any = "stomp://localhost:61613", **settings: Any) -> ClientOptions:
    """The options ``open_connection(hosts, **settings)`` would make."""
    return ClientOptions(hosts=tuple(parse_hosts(hosts)), **settings)


class MemoryClient(Client):
    """A client whose dials reach :class:`ScriptedServer` objects in memory.

    ``dial(endpoint)`` returns the server-side protocol for this attempt, or raises
    ``OSError`` to refuse.
    Every dial's endpoint and virtual time are recorded in ``dials``.
    """

    def __init__(self, *args: Any, dial: Dialer, high: int = 64 * 1024, **kwargs: Any) -> None:
        super().__init__(make_options(*args, **kwargs))
        self._dial_server = dial
        self._high = high
        self.dials: list[tuple[Endpoint, float]] = []
        self.servers: list[asyncio.Protocol] = []
        self.transports: list[MemoryTransport] = []

    async def _open_transport(self, endpoint: Endpoint, link: Link, tls: Any) -> None:
        self.dials.append((endpoint, asyncio.get_running_loop().time()))
        server = await self._dial_server(endpoint)
        self.servers.append(server)
        client_side, server_side = MemoryTransport.pair(
            link, server, high=self._high, low=self._high // 4
        )
        self.transports.append(client_side)
        server.connection_made(server_side)
        link.connection_made(client_side)


def servers(*made: ScriptedServer | Exception) -> Dialer:
    """A dialer handing out the given servers (or raising the given errors) in order;
    past the end it refuses."""
    queue: deque[ScriptedServer | Exception] = deque(made)

    async def dial(endpoint: Endpoint) -> ScriptedServer:
        if not queue:
            raise ConnectionRefusedError(f"nothing listens on {endpoint}")
        item = queue.popleft()
        if isinstance(item, Exception):
            raise item
        return item

    return dial


def factory(**options: Any) -> Dialer:
    """A dialer making a fresh :class:`ScriptedServer` with ``options`` for every dial."""

    async def dial(endpoint: Endpoint) -> ScriptedServer:
        return ScriptedServer(**options)

    return dial


def memory_client(dial: Dialer, hosts: Any = "stomp://broker:61613", **kwargs: Any) -> MemoryClient:
    """A :class:`MemoryClient` with test-friendly defaults (no heart-beats, no jitter)."""
    kwargs.setdefault("heartbeats", (0, 0))
    return MemoryClient(hosts, dial=dial, **kwargs)

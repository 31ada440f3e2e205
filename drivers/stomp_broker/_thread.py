"""Run the broker in a background thread, for blocking code and tests.

::

    with run_broker_in_thread() as (host, port):
        ...  # connect to host:port with any client

The context manager yields a :class:`RunningBroker`: a ``(host, port)`` tuple that also
controls the broker from the calling thread (fault switches, refusing connections, queue
depths).  Every wait is bounded: starting, each control call and stopping.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ._broker import Broker
from ._budget import Usage
from ._faults import FaultRule, Faults

__all__ = ["RunningBroker", "run_broker_in_thread"]

_T = TypeVar("_T")


class RunningBroker(tuple[str, int]):
    """A broker running in a background thread: ``(host, port)`` plus controls.

    Every method runs its work on the broker's event loop and waits at most
    ``timeout`` seconds (:class:`TimeoutError` beyond).
    """

    broker: Broker
    timeout: float
    _loop: asyncio.AbstractEventLoop

    def __new__(
        cls, broker: Broker, loop: asyncio.AbstractEventLoop, timeout: float
    ) -> RunningBroker:
        self = super().__new__(cls, (broker.host, broker.port))
        self.broker = broker
        self._loop = loop
        self.timeout = timeout
        return self

    @property
    def host(self) -> str:
        """The broker's address."""
        return self[0]

    @property
    def port(self) -> int:
        """The broker's port."""
        return self[1]

    @property
    def faults(self) -> Faults:
        """The broker-wide fault switches: set attributes on it from any thread."""
        return self.broker.faults

    def call(self, function: Callable[[], _T]) -> _T:
        """Run ``function()`` on the broker's loop and return its result."""

        async def run() -> _T:
            return function()

        return self.run(run())

    def run(self, awaitable: Awaitable[_T], *, timeout: float | None = None) -> _T:
        """Run a coroutine on the broker's loop and return its result.

        Args:
            awaitable: what to run there.
            timeout: how long to wait for it (default: :attr:`timeout`).
        """
        limit = self.timeout if timeout is None else timeout

        async def wrap() -> _T:
            return await awaitable

        future = asyncio.run_coroutine_threadsafe(wrap(), self._loop)
        try:
            return future.result(limit)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"the broker did not answer within {limit} s") from None

    def set_faults(self, faults: Faults) -> None:
        """Replace the broker-wide fault switches."""
        self.call(lambda: setattr(self.broker, "faults", faults))

    def add_fault_rule(self, rule: FaultRule) -> None:
        """Add a per-connection fault rule (after the existing ones)."""
        self.call(lambda: self.broker.fault_rules.append(rule))

    def refuse_connections(self, duration: float | None = None) -> None:
        """Refuse new connections (for ``duration`` seconds, or until
        :meth:`accept_connections`)."""
        self.run(self.broker.refuse_connections(duration))

    def drop_connections(self) -> int:
        """Abort every open connection (a broker crash); returns how many."""
        return self.call(self.broker.drop_connections)

    def accept_connections(self) -> None:
        """Listen again after :meth:`refuse_connections`."""
        self.run(self.broker.accept_connections())

    def wait_listening(self, timeout: float) -> None:
        """Wait until the broker accepts connections again (``TimeoutError`` after
        ``timeout`` seconds)."""
        self.run(self.broker.wait_listening(timeout), timeout=timeout + self.timeout)

    def wait_connections(self, count: int, timeout: float = 5.0) -> None:
        """Wait until at most ``count`` connections are open (``TimeoutError`` after
        ``timeout`` seconds)."""
        self.run(self.broker.wait_connections(count, timeout), timeout=timeout + self.timeout)

    def queue_depth(self, destination: str) -> int:
        """Messages waiting in queue ``destination``."""
        return self.call(lambda: self.broker.queue_depth(destination))

    def usage(self) -> Usage:
        """What the broker holds now, as counted against its broker-wide limits."""
        return self.call(self.broker.usage)

    @property
    def connection_count(self) -> int:
        """Open client connections."""
        return self.call(lambda: self.broker.connection_count)

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted now."""
        return self.call(lambda: self.broker.listening)


@contextmanager
def run_broker_in_thread(*, timeout: float = 10.0, **options: Any) -> Iterator[RunningBroker]:
    """Start a :class:`Broker` on its own event loop in a daemon thread.

    Args:
        timeout: bound on starting, on each control call and on stopping, in seconds.
        **options: passed to :class:`Broker` (``host`` defaults to 127.0.0.1, ``port`` to 0).

    Yields:
        The running broker, which unpacks as ``(host, port)``.

    Raises:
        TimeoutError: the broker did not start or stop in time.
        Exception: whatever the broker raised while starting (e.g. the port is taken).
    """
    started: concurrent.futures.Future[RunningBroker] = concurrent.futures.Future()
    control: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        control.append((loop, stopping))
        try:
            async with Broker(**options) as broker:
                started.set_result(RunningBroker(broker, loop, timeout))
                await stopping.wait()
        except BaseException as exc:
            if not started.done():
                started.set_exception(exc)
                return
            raise

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="stomp-broker", daemon=True)
    thread.start()
    try:
        running = started.result(timeout)
    except concurrent.futures.TimeoutError:
        raise TimeoutError(f"the broker did not start within {timeout} s") from None
    try:
        yield running
    finally:
        loop, stopping = control[0]
        loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"the broker thread did not stop within {timeout} s")

"""The trio driver (``stomp_trio``) behind the integration tests' blocking interface.

Each session runs its own ``trio.run`` in a background thread; the test thread enters it
with ``trio.from_thread.run``, every call bounded by ``trio.fail_after``.  Only public
``stomp_trio`` API is used.  Reconnection is off (``reconnect=None``) so that a lost
connection shows up as :class:`SessionDied` instead of being ridden out.

Mapping onto the driver's structured API: a subscription is a task that holds
``async with client.subscribe(...)`` open and copies messages into a thread-safe queue; a
transaction named by the test is a :class:`stomp_trio.Transaction` entered by ``begin`` and
finished by ``commit``/``abort``.  Receipt ids chosen by the tests are not sent as such:
``receipt=<anything>`` asks the driver for a receipt (its own id) and waits for it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import trio
from adapter_api import ConnectRefused, Received, SessionDied, TlsOptions
from broker_env import Broker

import stomp_trio

__all__ = ["TrioDriver", "TrioSession"]

T = TypeVar("T")


class _Loop:
    """``trio.run`` in a daemon thread, with a nursery for long-lived tasks."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self.nursery: trio.Nursery | None = None
        self._thread = threading.Thread(target=trio.run, args=(self._main,), daemon=True)
        self._thread.start()
        if not self._ready.wait(10.0):
            raise RuntimeError("the trio loop did not start")

    async def _main(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._stop = trio.Event()
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            self._ready.set()
            await self._stop.wait()
            nursery.cancel_scope.cancel()

    def run(self, function: Callable[..., Awaitable[T]], *args: Any, timeout: float) -> T:
        """Run ``await function(*args)`` in the loop, at most ``timeout`` seconds."""

        async def bounded() -> T:
            with trio.fail_after(timeout):
                return await function(*args)

        return trio.from_thread.run(bounded, trio_token=self._token)

    def stop(self) -> None:
        if self._thread.is_alive() and self._stop is not None:
            with contextlib.suppress(trio.RunFinishedError):
                trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
        self._thread.join(10.0)


class TrioSession:
    """One connection held open by a task in the session's trio loop."""

    def __init__(self, loop: _Loop) -> None:
        self._loop = loop
        self.client: stomp_trio.Client | None = None
        self._leave: trio.Event | None = None
        self._scope: trio.CancelScope | None = None
        self._closed_change: stomp_trio.StateChange | None = None
        self._done = threading.Event()
        self._messages: queue.Queue[Received] = queue.Queue()
        self._originals: dict[str, stomp_trio.Message] = {}
        self._subscriptions: dict[str, tuple[stomp_trio.Subscription, trio.CancelScope]] = {}
        self._transactions: dict[str, stomp_trio.Transaction] = {}

    # ---------------------------------------------------------------- plumbing

    async def _hold(self, options: dict[str, Any], *, task_status: trio.TaskStatus[None]) -> None:
        self._leave = trio.Event()
        started = False
        try:
            with trio.CancelScope() as self._scope:
                try:
                    async with stomp_trio.open_connection(**options) as client:
                        self.client = client
                        changes = client.state_changes()
                        task_status.started()
                        started = True
                        await self._leave.wait()
                except stomp_trio.StompError:
                    if not started:
                        raise  # ConnectFailed: the caller's nursery.start() reports it
                    # The connection failed for good: the client cancelled this body and
                    # raised the error; later calls see SessionDied.
                async for change in changes:
                    self._closed_change = change
        finally:
            self._done.set()

    def _run(self, function: Callable[..., Awaitable[T]], *args: Any, timeout: float) -> T:
        if self._done.is_set():
            raise SessionDied("the session is closed")
        try:
            return self._loop.run(function, *args, timeout=timeout)
        except stomp_trio.ConnectionLost as exc:
            raise SessionDied(str(exc)) from exc

    def _client(self) -> stomp_trio.Client:
        assert self.client is not None
        return self.client

    def _received(self, message: stomp_trio.Message) -> Received:
        client = self._client()
        assert client.version is not None
        ack_id = message.event.ack_id(client.version)
        self._originals[ack_id] = message
        return Received(
            destination=message.destination,
            message_id=message.message_id,
            subscription=message.event.subscription,
            ack_id=ack_id,
            body=message.body,
            headers=dict(message.headers),
        )

    # ---------------------------------------------------------------- Session

    @property
    def version(self) -> str:
        version = self._client().version
        assert version is not None
        return version

    @property
    def heartbeat(self) -> tuple[int, int]:
        return self._client().heartbeat

    @property
    def heartbeats_received(self) -> int:
        return self._client().heartbeats_received

    def send(
        self,
        destination: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        tx = self._transactions[transaction] if transaction is not None else None

        async def send() -> None:
            await self._client().send(
                destination, body, headers=headers, transaction=tx, receipt=receipt is not None
            )

        self._run(send, timeout=timeout)

    def subscribe(
        self,
        destination: str,
        sub_id: str,
        *,
        ack: str = "auto",
        headers: dict[str, str] | None = None,
        receipt: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        subscription = self._client().subscribe(
            destination, ack=ack, headers=headers, id=sub_id, receipt=receipt is not None
        )

        async def consume(*, task_status: trio.TaskStatus[None]) -> None:
            with trio.CancelScope() as scope:
                async with subscription:
                    self._subscriptions[sub_id] = (subscription, scope)
                    task_status.started()
                    # The iterator raises the client's final error if the connection
                    # fails for good; the session then reports SessionDied.
                    with contextlib.suppress(stomp_trio.StompError):
                        async for message in subscription:
                            self._messages.put(self._received(message))

        async def start() -> None:
            assert self._loop.nursery is not None
            await self._loop.nursery.start(consume)

        self._run(start, timeout=timeout)

    def unsubscribe(
        self, sub_id: str, *, receipt: str | None = None, timeout: float = 10.0
    ) -> None:
        subscription, scope = self._subscriptions.pop(sub_id)

        async def unsubscribe() -> None:
            await subscription.unsubscribe(receipt=receipt is not None)
            scope.cancel()

        self._run(unsubscribe, timeout=timeout)

    def get_message(self, timeout: float) -> Received | None:
        try:
            return self._messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def ack(self, message: Received, *, transaction: str | None = None) -> None:
        original = self._originals[message.ack_id]
        if transaction is None:
            self._run(original.ack, timeout=10.0)
        else:
            self._run(self._transactions[transaction].ack, original, timeout=10.0)

    def nack(self, message: Received, *, receipt: str | None = None, timeout: float = 10.0) -> None:
        original = self._originals[message.ack_id]

        async def nack() -> None:
            await original.nack(receipt=receipt is not None)

        self._run(nack, timeout=timeout)

    def begin(self, transaction: str) -> None:
        tx = self._client().transaction()
        self._transactions[transaction] = tx
        self._run(tx.__aenter__, timeout=10.0)

    def commit(
        self, transaction: str, *, receipt: str | None = None, timeout: float = 10.0
    ) -> None:
        # The driver always confirms a COMMIT with a receipt.
        self._run(self._transactions.pop(transaction).commit, timeout=timeout)

    def abort(self, transaction: str, *, receipt: str | None = None, timeout: float = 10.0) -> None:
        tx = self._transactions.pop(transaction)

        async def abort() -> None:
            await tx.abort(receipt=receipt is not None)

        self._run(abort, timeout=timeout)

    def hold(self, seconds: float) -> None:
        async def hold() -> None:
            client = self._client()
            with trio.move_on_after(seconds):
                async with client.state_changes() as changes:
                    async for change in changes:
                        raise SessionDied(f"the connection changed state: {change}")

        self._run(hold, timeout=seconds + 10.0)

    def disconnect(self, *, receipt: str | None = None, timeout: float = 10.0) -> bool:
        del receipt  # leaving open_connection always sends DISCONNECT with a receipt
        if self._leave is None or self._done.is_set():
            return False
        trio.from_thread.run_sync(self._leave.set, trio_token=self._loop._token)
        self._done.wait(timeout + 1.0)
        self._loop.stop()
        change = self._closed_change
        return change is not None and change.error is None

    def close(self) -> None:
        if not self._done.is_set() and self._scope is not None:
            with contextlib.suppress(trio.RunFinishedError):
                trio.from_thread.run_sync(self._scope.cancel, trio_token=self._loop._token)
            self._done.wait(10.0)
        self._loop.stop()


class TrioDriver:
    """Makes :class:`TrioSession` objects."""

    name = "trio"

    def connect(
        self,
        broker: Broker,
        *,
        version: str,
        port: int | None = None,
        login: str | None = None,
        passcode: str | None = None,
        heartbeats: tuple[int, int] = (0, 0),
        heartbeat_tolerance: float | None = None,
        tls: TlsOptions | None = None,
        timeout: float = 10.0,
    ) -> TrioSession:
        """Connect with ``stomp_trio.open_connection`` offering ``version`` only."""
        options: dict[str, Any] = {
            "hosts": [(broker.host, port or broker.port)],
            "login": broker.login if login is None else login,
            "passcode": broker.passcode if passcode is None else passcode,
            "vhost": broker.vhost,
            "versions": (version,),
            "heartbeats": heartbeats,
            "heartbeat_tolerance": 1.5 if heartbeat_tolerance is None else heartbeat_tolerance,
            "ssl": tls.client_context() if tls is not None else None,
            "connect_timeout": timeout,
            "reconnect": None,
        }
        loop = _Loop()
        session = TrioSession(loop)

        async def start() -> None:
            assert loop.nursery is not None
            await loop.nursery.start(session._hold, options)

        try:
            loop.run(start, timeout=timeout + 1.0)
        except (stomp_trio.ConnectFailed, trio.TooSlowError) as exc:
            loop.stop()
            raise ConnectRefused(str(exc)) from exc
        return session

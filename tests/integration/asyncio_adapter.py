"""The ``stomp_asyncio`` driver behind the integration tests' blocking interface.

An event loop runs in a background thread per session; each blocking call submits a
coroutine with ``run_coroutine_threadsafe`` and waits with a deadline.  The client's
``async with`` lives in one long-running task (the session task), which leaves the block
on :meth:`AsyncioSession.disconnect`.  Reconnection is off: the tests want a dead session
to be visible (:class:`SessionDied`), not healed.

To join the matrix: ``DRIVERS["asyncio"] = AsyncioDriver`` in ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from adapter_api import ConnectRefused, Received, SessionDied, TlsOptions
from broker_env import Broker

import stomp_asyncio

__all__ = ["AsyncioDriver", "AsyncioSession"]

T = TypeVar("T")


def _received(message: stomp_asyncio.Message, version: str) -> Received:
    return Received(
        destination=message.destination,
        message_id=message.message_id,
        subscription=message.event.subscription,
        ack_id=message.event.ack_id(version),
        body=message.body,
        headers=dict(message.headers),
    )


class AsyncioSession:
    """One ``stomp_asyncio`` client, driven from the test thread."""

    def __init__(self, client: stomp_asyncio.Client, timeout: float) -> None:
        self._client = client
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._subscriptions: dict[str, stomp_asyncio.Subscription] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._messages: asyncio.Queue[stomp_asyncio.Message] | None = None
        self._unacked: dict[str, stomp_asyncio.Message] = {}
        self._transactions: dict[str, stomp_asyncio.Transaction] = {}
        self._leave: asyncio.Event | None = None
        self._entered = threading.Event()
        self._session: concurrent.futures.Future[None] = asyncio.run_coroutine_threadsafe(
            self._live(), self._loop
        )
        try:
            self._call(self._wait_entered(), timeout)
        except BaseException as exc:
            self._stop_loop()
            raise ConnectRefused(str(exc)) from exc

    # ---------------------------------------------------------------- plumbing

    async def _live(self) -> None:
        self._leave = asyncio.Event()
        self._messages = asyncio.Queue()
        async with self._client:
            self._entered.set()
            await self._leave.wait()

    async def _wait_entered(self) -> None:
        while not self._entered.is_set():
            if self._session.done():
                self._session.result()  # raises why connecting failed
            await asyncio.sleep(0.01)

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout + 1.0)
        except TimeoutError:
            future.cancel()
            raise

    def _check_alive(self) -> None:
        if self._session.done() or self._client.state is not stomp_asyncio.ClientState.CONNECTED:
            raise SessionDied(f"the session ended ({self._client.state.value})")

    def _stop_loop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._loop.is_running():
            self._loop.close()

    # ---------------------------------------------------------------- Session

    @property
    def version(self) -> str:
        return self._client.version or ""

    @property
    def heartbeat(self) -> tuple[int, int]:
        return self._client.heartbeat

    @property
    def heartbeats_received(self) -> int:
        return self._client.heartbeats_received

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
        self._check_alive()
        self._call(
            self._client.send(
                destination,
                body,
                headers=headers,
                transaction=transaction,
                receipt=receipt is not None,
            ),
            timeout,
        )

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
        self._check_alive()

        async def go() -> None:
            sub = self._client.subscribe(
                destination, ack=ack, headers=headers, id=sub_id, receipt=receipt is not None
            )
            await sub.__aenter__()
            self._subscriptions[sub_id] = sub
            self._pumps[sub_id] = asyncio.create_task(self._pump(sub))

        self._call(go(), timeout)

    async def _pump(self, sub: stomp_asyncio.Subscription) -> None:
        assert self._messages is not None
        with contextlib.suppress(stomp_asyncio.StompError):
            async for message in sub:
                await self._messages.put(message)

    def unsubscribe(
        self, sub_id: str, *, receipt: str | None = None, timeout: float = 10.0
    ) -> None:
        del receipt  # stomp_asyncio unsubscribes on leaving the block, without a receipt

        async def go() -> None:
            sub = self._subscriptions.pop(sub_id)
            await sub.close()
            pump = self._pumps.pop(sub_id)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

        self._call(go(), timeout)

    def get_message(self, timeout: float) -> Received | None:
        async def go() -> stomp_asyncio.Message | None:
            assert self._messages is not None
            try:
                return await asyncio.wait_for(self._messages.get(), timeout)
            except asyncio.TimeoutError:
                return None

        message = self._call(go(), timeout)
        if message is None:
            return None
        received = _received(message, self.version)
        self._unacked[received.ack_id] = message
        return received

    def ack(self, message: Received, *, transaction: str | None = None) -> None:
        self._check_alive()
        self._call(self._unacked.pop(message.ack_id).ack(transaction=transaction), 10.0)

    def nack(self, message: Received, *, receipt: str | None = None, timeout: float = 10.0) -> None:
        self._check_alive()
        original = self._unacked.pop(message.ack_id)
        self._call(original.nack(receipt=receipt is not None), timeout)

    def begin(self, transaction: str) -> None:
        self._check_alive()
        tx = self._client.transaction(id=transaction)
        self._call(tx.begin(), 10.0)
        self._transactions[transaction] = tx

    def commit(
        self, transaction: str, *, receipt: str | None = None, timeout: float = 10.0
    ) -> None:
        del receipt  # a commit always waits for its RECEIPT in stomp_asyncio
        self._call(self._transactions.pop(transaction).commit(), timeout)

    def abort(self, transaction: str, *, receipt: str | None = None, timeout: float = 10.0) -> None:
        del receipt
        self._call(self._transactions.pop(transaction).abort(), timeout)

    def hold(self, seconds: float) -> None:
        self._check_alive()
        link = self._client._link
        self._call(asyncio.sleep(seconds), seconds)
        if self._client._link is not link:
            raise SessionDied("the connection was replaced")
        self._check_alive()

    def disconnect(self, *, receipt: str | None = None, timeout: float = 10.0) -> bool:
        del receipt  # stomp_asyncio always disconnects with a receipt
        assert self._leave is not None
        self._loop.call_soon_threadsafe(self._leave.set)
        try:
            self._session.result(timeout + 2.0)
        except stomp_asyncio.StompError:
            pass
        finally:
            self._stop_loop()
        link = self._client._link
        reason = str(link.reason) if link is not None else ""
        return "no RECEIPT for DISCONNECT" not in reason

    def close(self) -> None:
        if not self._loop.is_closed() and self._loop.is_running():

            def drop() -> None:
                if self._client._link is not None:
                    self._client._link.abort()  # no DISCONNECT: the transport just goes
                if self._leave is not None:
                    self._leave.set()

            self._loop.call_soon_threadsafe(drop)
            with contextlib.suppress(BaseException):
                self._session.result(5.0)
            self._stop_loop()


class AsyncioDriver:
    """Makes :class:`AsyncioSession` objects."""

    name = "asyncio"

    def connect(
        self,
        broker: Broker,
        *,
        version: str,
        port: int | None = None,
        login: str | None = None,
        passcode: str | None = None,
        heartbeats: tuple[int, int] = (0, 0),
        tls: TlsOptions | None = None,
        timeout: float = 10.0,
        heartbeat_tolerance: float | None = None,
    ) -> AsyncioSession:
        chosen = port if port is not None else (broker.ssl_port if tls else broker.port)
        client = stomp_asyncio.open_connection(
            [(broker.host, chosen)],
            login=broker.login if login is None else login,
            passcode=broker.passcode if passcode is None else passcode,
            vhost=broker.vhost,
            versions=(version,),
            heartbeats=heartbeats,
            ssl=tls.client_context() if tls is not None else None,
            connect_timeout=timeout,
            reconnect=None,
            heartbeat_tolerance=1.5 if heartbeat_tolerance is None else heartbeat_tolerance,
        )
        return AsyncioSession(client, timeout)

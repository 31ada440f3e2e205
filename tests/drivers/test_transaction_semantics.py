"""Transactions behave the same in stomp_asyncio and stomp_trio: each test below runs,
unchanged, against both drivers and the embedded broker (real sockets on 127.0.0.1).

The rules (stomp_core/_transaction.py; the drivers' ``Transaction`` docstrings):

* misuse (a call on a transaction never begun or already committed/aborted, a second
  ``begin``) raises ``RuntimeError`` and sends nothing;
* after the connection dropped the broker has aborted the transaction (spec 1.2 "BEGIN"):
  ``send``/``ack``/``commit`` raise ``ConnectionLost`` every time, ``abort`` does nothing,
  leaving ``async with`` with an exception keeps that exception, and the transaction stays
  dead after the client reconnected (it is not replayed).

Each test ends by checking the broker's queue, so it fails if a refused call sent a frame
or a transaction was committed when it must not have been.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import trio
from asyncio_harness import run as run_asyncio

import stomp_asyncio
import stomp_trio
from stomp_broker import RunningBroker

T = TypeVar("T")
WAIT = 20.0
# Slow enough that RECONNECTING lasts long enough to be seen by polling.
RECONNECT = {"initial": 0.3, "increase": 0.0, "jitter": 0.0}


@dataclass(frozen=True)
class Driver:
    """What differs between the two drivers for these tests: the loop, sleeping, threads."""

    name: str
    module: Any  # stomp_asyncio or stomp_trio: the same public API

    def __str__(self) -> str:
        return self.name

    def run(self, main: Callable[[], Awaitable[None]]) -> None:
        if self.name == "trio":

            async def bounded() -> None:
                with trio.fail_after(WAIT):
                    await main()

            trio.run(bounded)
        else:

            async def coroutine() -> None:
                await main()

            run_asyncio(coroutine, virtual=False, deadline=WAIT)

    async def sleep(self, seconds: float) -> None:
        if self.name == "trio":
            await trio.sleep(seconds)
        else:
            await asyncio.sleep(seconds)

    async def in_thread(self, function: Callable[[], T]) -> T:
        """Call the (blocking) broker from a thread, so the client keeps running."""
        if self.name == "trio":
            return await trio.to_thread.run_sync(function)
        return await asyncio.to_thread(function)

    def connect(self, broker: RunningBroker, **options: Any) -> Any:
        reconnect = self.module.ReconnectPolicy(**RECONNECT)
        return self.module.open_connection(
            f"stomp://{broker.host}:{broker.port}",
            reconnect=reconnect,
            heartbeats=(0, 0),
            **options,
        )

    async def wait_state(self, client: Any, name: str) -> None:
        state = getattr(self.module.ClientState, name)
        while client.state is not state:
            await self.sleep(0.002)

    async def drop(self, broker: RunningBroker, tx: Any) -> None:
        """The broker crashes; return once the client noticed, which fails ``tx``.

        (Waiting for ``RECONNECTING`` would not do: the first attempt to reconnect may
        follow at once, and a send made before the client saw the EOF may well succeed.)
        """
        assert await self.in_thread(broker.drop_connections) == 1
        while not repr(tx).endswith(" lost>"):
            await self.sleep(0.002)


DRIVERS = [Driver("asyncio", stomp_asyncio), Driver("trio", stomp_trio)]


@pytest.fixture(params=DRIVERS, ids=str)
def driver(request: pytest.FixtureRequest) -> Driver:
    return request.param  # type: ignore[no-any-return]


async def depth(driver: Driver, broker: RunningBroker, destination: str) -> int:
    return await driver.in_thread(lambda: broker.queue_depth(destination))


# -- misuse --------------------------------------------------------------------------------


def test_calls_before_begin_are_refused(driver: Driver, broker: RunningBroker) -> None:
    async def main() -> None:
        async with (
            driver.connect(broker) as client,
            client.subscribe("/queue/in", ack="client-individual", receipt=True) as sub,
        ):
            await client.send("/queue/in", "work", receipt=True)
            message = await anext(sub)
            tx = client.transaction(id="early")
            calls: list[Callable[[], Awaitable[None]]] = [
                lambda: tx.send("/queue/out", "x"),
                lambda: client.send("/queue/out", "x", transaction=tx),
                lambda: tx.ack(message),
                lambda: tx.commit(),
                lambda: tx.abort(),
            ]
            for call in calls:
                with pytest.raises(RuntimeError, match="'early' was never begun"):
                    await call()
            assert repr(tx) == "<Transaction 'early' new>"
            # Refused means not sent: the connection is fine and nothing arrived.
            await client.send("/queue/out", "marker", receipt=True)
            assert await depth(driver, broker, "/queue/out") == 1
            await message.ack(receipt=True)

    driver.run(main)


def test_begin_twice_is_refused(driver: Driver, broker: RunningBroker) -> None:
    async def main() -> None:
        async with driver.connect(broker) as client:
            tx = client.transaction()
            await tx.begin()
            with pytest.raises(RuntimeError, match="was already begun"):
                await tx.begin()
            with pytest.raises(RuntimeError, match="was already begun"):
                await tx.__aenter__()
            await tx.send("/queue/twice", "once")
            await tx.commit()  # still one transaction, committed once
            with pytest.raises(RuntimeError, match="was already begun"):
                await tx.begin()
            assert await depth(driver, broker, "/queue/twice") == 1

    driver.run(main)


def test_calls_after_commit_are_refused(driver: Driver, broker: RunningBroker) -> None:
    async def main() -> None:
        async with driver.connect(broker) as client:
            async with client.transaction() as tx:
                await tx.send("/queue/done", "committed")
            assert repr(tx) == f"<Transaction {tx.id!r} committed>"
            for call in (
                lambda: tx.send("/queue/done", "late"),
                lambda: client.send("/queue/done", "late", transaction=tx),
                lambda: tx.commit(),
                lambda: tx.abort(),
            ):
                with pytest.raises(RuntimeError, match=f"{tx.id!r} was already committed"):
                    await call()
            await client.send("/queue/done", "marker", receipt=True)
            assert await depth(driver, broker, "/queue/done") == 2

    driver.run(main)


def test_calls_after_abort_are_refused(driver: Driver, broker: RunningBroker) -> None:
    async def main() -> None:
        async with driver.connect(broker) as client:
            tx = client.transaction()
            await tx.begin()
            await tx.send("/queue/undone", "aborted")
            await tx.abort(receipt=True)
            assert repr(tx) == f"<Transaction {tx.id!r} aborted>"
            for call in (
                lambda: tx.send("/queue/undone", "late"),
                lambda: tx.commit(),
                lambda: tx.abort(),
            ):
                with pytest.raises(RuntimeError, match=f"{tx.id!r} was already aborted"):
                    await call()
            await client.send("/queue/undone", "marker", receipt=True)
            assert await depth(driver, broker, "/queue/undone") == 1

    driver.run(main)


def test_leaving_with_an_exception_aborts_and_keeps_the_exception(
    driver: Driver, broker: RunningBroker
) -> None:
    async def main() -> None:
        async with driver.connect(broker) as client:
            tx = client.transaction()

            async def failing() -> None:
                async with tx:
                    await tx.send("/queue/exit", "aborted")
                    raise ValueError("the block's own error")

            with pytest.raises(ValueError, match="the block's own error") as raised:
                await failing()
            assert raised.value.__context__ is None
            # ABORT went (or goes) out before this SEND: the broker handles them in order.
            await client.send("/queue/exit", "marker", receipt=True)
            assert await depth(driver, broker, "/queue/exit") == 1
            with pytest.raises(RuntimeError, match="was already aborted"):
                await tx.commit()

    driver.run(main)


# -- a dropped connection ------------------------------------------------------------------


def test_after_a_drop_send_and_commit_raise_and_abort_does_nothing(
    driver: Driver, broker: RunningBroker
) -> None:
    async def main() -> None:
        async with driver.connect(broker) as client:
            tx = client.transaction(id="dropped")
            await tx.begin()
            await tx.send("/queue/drop", "in the transaction")
            await driver.drop(broker, tx)
            for _ in range(2):  # every time, not just once
                with pytest.raises(driver.module.ConnectionLost, match="'dropped' was aborted"):
                    await tx.send("/queue/drop", "more")
                with pytest.raises(driver.module.ConnectionLost, match="'dropped' was aborted"):
                    await client.send("/queue/drop", "more", transaction=tx)
                with pytest.raises(
                    driver.module.ConnectionLost, match="'dropped' was aborted"
                ) as raised:
                    await tx.commit()
                # Said once, not once per layer that passed the loss on.
                assert str(raised.value).count("connection was lost") == 1, raised.value
                await tx.abort()  # the broker aborted it already: nothing to do
                await tx.abort(receipt=True)
            assert repr(tx) == "<Transaction 'dropped' lost>"
            with pytest.raises(RuntimeError, match="was already begun"):
                await tx.begin()
            await driver.wait_state(client, "CONNECTED")
            await client.send("/queue/drop", "marker", receipt=True)
            assert await depth(driver, broker, "/queue/drop") == 1

    driver.run(main)


def test_leaving_after_a_drop(driver: Driver, broker: RunningBroker) -> None:
    async def main() -> None:
        async with driver.connect(broker) as client:
            # With an exception: that exception, unmasked, and nothing sent.
            tx = client.transaction()

            async def failing() -> None:
                async with tx:
                    await driver.drop(broker, tx)
                    raise KeyError("the block's own error")

            with pytest.raises(KeyError, match="the block's own error") as raised:
                await failing()
            assert raised.value.__context__ is None
            assert repr(tx) == f"<Transaction {tx.id!r} lost>"
            # Normally: the commit it stands for is impossible, so ConnectionLost.
            await driver.wait_state(client, "CONNECTED")
            tx = client.transaction()

            async def finishing() -> None:
                async with tx:
                    await tx.send("/queue/leave", "never committed")
                    await driver.drop(broker, tx)

            with pytest.raises(driver.module.ConnectionLost, match="aborted by the broker"):
                await finishing()
            assert repr(tx) == f"<Transaction {tx.id!r} lost>"
            await driver.wait_state(client, "CONNECTED")
            await client.send("/queue/leave", "marker", receipt=True)
            assert await depth(driver, broker, "/queue/leave") == 1

    driver.run(main)


def test_a_transaction_stays_dead_after_reconnecting(driver: Driver, broker: RunningBroker) -> None:
    async def main() -> None:
        async with driver.connect(broker) as client:
            old = client.transaction(id="batch")
            await old.begin()
            await old.send("/queue/again", "old")
            await driver.drop(broker, old)
            await driver.wait_state(client, "CONNECTED")
            with pytest.raises(driver.module.ConnectionLost, match="'batch' was aborted"):
                await old.send("/queue/again", "after reconnecting")
            with pytest.raises(driver.module.ConnectionLost, match="'batch' was aborted"):
                await old.commit()
            await old.abort()
            # Not replayed: the same id begins afresh on the new connection (a replayed
            # BEGIN would make this one a duplicate, refused by the core and the broker).
            async with client.transaction(id="batch") as new:
                await new.send("/queue/again", "new")
            with pytest.raises(driver.module.ConnectionLost):
                await old.commit()
            assert await depth(driver, broker, "/queue/again") == 1

    driver.run(main)


def test_a_failed_begin_may_be_retried(driver: Driver, broker: RunningBroker) -> None:
    async def main() -> None:
        async with driver.connect(broker, connect_timeout=0.5) as client:
            await driver.in_thread(broker.refuse_connections)
            assert await driver.in_thread(broker.drop_connections) == 1
            await driver.wait_state(client, "RECONNECTING")  # it stays so: refused
            tx = client.transaction()
            with pytest.raises(driver.module.ConnectionLost, match="reconnecting"):
                await tx.begin()
            assert repr(tx) == f"<Transaction {tx.id!r} new>"
            with pytest.raises(RuntimeError, match="never begun"):
                await tx.send("/queue/retry", "x")
            await driver.in_thread(broker.accept_connections)
            await driver.wait_state(client, "CONNECTED")
            await tx.begin()
            await tx.send("/queue/retry", "committed")
            await tx.commit()
            assert await depth(driver, broker, "/queue/retry") == 1

    driver.run(main)

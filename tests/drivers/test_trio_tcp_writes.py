"""stomp_trio's writes on plain TCP: straight to the socket (``writev``, no task switch),
the rest under the write deadline when the kernel takes only part.

Real loopback sockets: the scripted broker (``FakeBroker``, the core's SERVER role) sits
on an accepted TCP stream, and stops reading where a test needs the client's writes to
block.  Every wait is bounded by ``trio.fail_after``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
import trio
import trio.testing
from test_trio_support import FakeBroker

import stomp_core as sc
import stomp_trio
from stomp_trio import _link

pytestmark = pytest.mark.trio

#: Larger than what the kernel buffers on loopback once the broker's receive buffer is
#: small: a write of it must block part-way.
LARGE = 16 * 1024 * 1024


@asynccontextmanager
async def tcp_broker(
    script: Callable[[FakeBroker], Awaitable[None]],
) -> AsyncIterator[int]:
    """A one-connection broker on 127.0.0.1 that runs ``script``; yields its port."""
    [listener] = await trio.open_tcp_listeners(0, host="127.0.0.1")
    # Inherited by the accepted socket: the broker buffers little while it reads nothing.
    listener.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    port = listener.socket.getsockname()[1]

    async def serve() -> None:
        stream = await listener.accept()
        broker = FakeBroker(stream, "127.0.0.1", port)
        try:
            await script(broker)
        finally:
            await broker.close()

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve)
            try:
                yield port
            finally:
                nursery.cancel_scope.cancel()
    finally:
        # Shielded: a checkpoint in a cancelled scope would replace the test's own error.
        with trio.CancelScope(shield=True):
            await listener.aclose()


async def test_sends_in_a_loop_arrive_whole_and_in_order_and_let_others_run() -> None:
    bodies = [f"m{n}".encode() for n in range(200)] + [os.urandom(3 * 1024 * 1024)]
    received: list[bytes] = []

    async def script(broker: FakeBroker) -> None:
        await broker.accept()
        for _ in bodies:
            send = await broker.expect(sc.Send)
            received.append(send.body)
        await broker.reply_receipt(send)
        await broker.finish_disconnect()

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await trio.lowlevel.checkpoint()
            ticks += 1

    with trio.fail_after(30):
        async with (
            tcp_broker(script) as port,
            stomp_trio.open_connection(f"stomp://127.0.0.1:{port}", heartbeats=(0, 0)) as client,
            trio.open_nursery() as nursery,
        ):
            nursery.start_soon(ticker)
            await trio.lowlevel.checkpoint()
            ticks = 0
            for body in bodies[:-1]:
                await client.send("/queue/a", body)  # no other await in this loop
            # Sending costs no task switch, but the loop still lets the others run.
            assert _link._WRITES_PER_YIELD <= 20
            assert ticks >= 10  # at least once every 20 sends
            await client.send("/queue/a", bodies[-1], receipt=True)
            nursery.cancel_scope.cancel()
    assert received == bodies


async def test_a_write_the_kernel_takes_in_part_is_finished_whole_after_a_waiting_one() -> None:
    """The rest of a partial write goes out by waiting; a send meanwhile waits its turn
    and its frame follows, never interleaved."""
    body = os.urandom(LARGE)
    reading = trio.Event()
    received: list[bytes] = []

    async def script(broker: FakeBroker) -> None:
        await broker.accept()
        await reading.wait()  # reads nothing until then
        received.append((await broker.expect(sc.Send)).body)
        received.append((await broker.expect(sc.Send)).body)
        await broker.finish_disconnect()

    with trio.fail_after(30):
        async with (
            tcp_broker(script) as port,
            stomp_trio.open_connection(f"stomp://127.0.0.1:{port}", heartbeats=(0, 0)) as client,
            trio.open_nursery() as nursery,
        ):
            link = client._link
            assert link is not None
            nursery.start_soon(client.send, "/queue/a", body)
            await trio.testing.wait_all_tasks_blocked()
            assert link.writing > 0  # the kernel took only part: the rest waits
            after = trio.Event()

            async def send_after() -> None:
                await client.send("/queue/a", b"after")
                after.set()

            nursery.start_soon(send_after)
            await trio.testing.wait_all_tasks_blocked()
            # It waits for the lock instead of writing into the unfinished frame.
            assert link.send_lock.waiting == 1
            assert not after.is_set()
            reading.set()
            await after.wait()
    assert received == [body, b"after"]


async def test_a_broker_that_stops_reading_meets_the_write_deadline_on_tcp() -> None:
    """Issue 14.5 on a real socket: the part the kernel did not take has one deadline."""

    async def script(broker: FakeBroker) -> None:
        await broker.accept()
        await trio.sleep_forever()

    with trio.fail_after(30):
        async with tcp_broker(script) as port:
            start = trio.current_time()
            with pytest.raises(stomp_trio.ConnectionLost, match=r"write_timeout"):
                async with stomp_trio.open_connection(
                    f"stomp://127.0.0.1:{port}",
                    heartbeats=(0, 0),
                    reconnect=None,
                    write_timeout=0.5,
                ) as client:
                    await client.send("/queue/a", os.urandom(LARGE))
            assert trio.current_time() - start >= 0.5

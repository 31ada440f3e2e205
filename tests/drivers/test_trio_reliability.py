"""stomp_trio under a broker that stops reading (issue 14: items 4, 5, 11, 12).

Scripted brokers on lockstep memory streams (a write blocks until the peer reads, so
"the broker stops reading" is exact) under trio's MockClock, except where the fault is
the operating system's (a blocked event loop, a TLS handshake): real loopback sockets.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing
from test_trio_support import FakeBroker, Network, options

import stomp_core as sc
import stomp_trio

pytestmark = pytest.mark.trio


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def _heartbeat_forever(broker: FakeBroker, every: float) -> None:
    try:
        while True:
            await trio.sleep(every)
            await broker.send_raw(b"\n")
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # the client dropped the connection


async def test_a_write_to_a_broker_that_stops_reading_has_one_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Issue 14.5: the broker keeps heart-beating but never reads after CONNECT."""
    network = Network(pair=trio.testing.lockstep_stream_pair)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept(heart_beat=(500, 0))
            await _heartbeat_forever(broker, 0.5)

        nursery.start_soon(server)
        start = trio.current_time()
        with (
            trio.fail_after(60),
            pytest.raises(stomp_trio.ConnectionLost, match=r"longer than 3 s \(write_timeout\)"),
        ):
            async with stomp_trio.open_connection(
                "stomp://h",
                **options(network, heartbeats=(0, 500), reconnect=None, write_timeout=3),
            ) as client:
                await client.send("/queue/a", b"x" * 100_000)
        assert trio.current_time() - start == pytest.approx(3.0)
        nursery.cancel_scope.cancel()


async def test_a_consumer_can_ack_while_the_broker_is_blocked_writing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Issue 14.4: the broker floods MESSAGEs and reads nothing while its writes block
    (RabbitMQ without a prefetch limit); the client's buffer is full and its consumer's
    ACK blocks on the broker.  The client must read (without delivering) meanwhile."""
    count = 50
    network = Network(pair=trio.testing.lockstep_stream_pair)
    acked: list[str] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            for n in range(count):  # reads nothing until every message is written
                await broker.message(sub, f"m{n}".encode(), message_id=f"m{n}", ack=f"a{n}")
            while len(acked) < count:
                acked.append((await broker.expect(sc.Ack)).id)
            await broker.expect(sc.Unsubscribe)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        with trio.fail_after(60):
            async with (
                stomp_trio.open_connection(
                    "stomp://h", subscription_buffer=2, **options(network)
                ) as client,
                client.subscribe("/queue/a", ack="client-individual") as sub,
            ):
                for _ in range(count):
                    message = await sub.get()
                    await message.ack()
    assert acked == [f"a{n}" for n in range(count)]

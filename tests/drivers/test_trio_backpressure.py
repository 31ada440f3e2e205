"""stomp_trio back-pressure: a full subscription buffer stops reading from the broker,
while heart-beats keep flowing both ways and a dead broker is still detected.

``lockstep_stream_pair`` stands in for TCP flow control: the fake broker's ``send_all``
returns only once the client has read the bytes, so a client that stops reading blocks
the broker's writer.
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


async def _deliver(broker: FakeBroker, sub: sc.Subscribe, count: int, sent: list[int]) -> None:
    for n in range(count):
        await broker.message(sub, f"m{n}".encode(), message_id=f"m{n}")
        sent.append(n)


async def test_full_buffer_stops_reading_until_the_consumer_catches_up() -> None:
    network = Network(pair=trio.testing.lockstep_stream_pair)
    sent: list[int] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            await _deliver(broker, sub, 6, sent)
            await broker.expect(sc.Unsubscribe)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection(
                "stomp://h", subscription_buffer=2, **options(network)
            ) as client,
            client.subscribe("/queue/a") as sub,
        ):
            await trio.testing.wait_all_tasks_blocked()
            # Two buffered, one held back by the client; the broker's writer is
            # stuck on the fourth: TCP would now push back on the broker.
            assert sub.buffered == 2
            assert sent == [0, 1, 2]
            bodies = []
            async for message in sub:
                bodies.append(message.body)
                if len(bodies) == 6:
                    break
            assert bodies == [f"m{n}".encode() for n in range(6)]
            await trio.testing.wait_all_tasks_blocked()
            assert sent == list(range(6))


async def test_heartbeats_flow_both_ways_while_paused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network(pair=trio.testing.lockstep_stream_pair)
    sent: list[int] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept(heart_beat=(1000, 1000))
            sub = await broker.expect(sc.Subscribe)
            async with trio.open_nursery() as inner:
                inner.start_soon(_deliver, broker, sub, 5, sent)
                await broker.expect(sc.Unsubscribe)
            await broker.finish_disconnect()
            assert broker.heartbeats >= 30 / 0.8 - 2

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection(
                "stomp://h",
                subscription_buffer=1,
                **options(network, heartbeats=(1000, 1000), reconnect=None),
            ) as client,
            client.subscribe("/queue/a") as sub,
        ):
            await trio.sleep(30)
            # Paused for 30 s: the probe reads (one byte per half interval) kept the
            # broker alive to the core, and the client kept heart-beating.
            assert client.state is stomp_trio.ClientState.CONNECTED
            assert sub.buffered == 1
            assert len(sent) < 5
            bodies = [(await sub.get()).body for _ in range(5)]
            assert bodies == [f"m{n}".encode() for n in range(5)]


async def test_a_paused_client_still_detects_a_dead_broker(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept(heart_beat=(1000, 0))
            sub = await broker.expect(sc.Subscribe)
            # One message buffered, one held: nothing left unread in the stream, so
            # the probe reads find nothing.  (Bytes still queued in the stream would
            # count as life, one byte per probe: they did come from the broker.)
            for n in range(2):
                await broker.message(sub, b"x", message_id=f"m{n}")
            await trio.sleep_forever()  # silent from now on, connection open

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection(
                "stomp://h",
                subscription_buffer=1,
                **options(network, heartbeats=(0, 1000), reconnect=None),
            ) as client,
            client.subscribe("/queue/a") as sub,
        ):
            start = trio.current_time()
            async with client.state_changes() as changes:
                async for change in changes:
                    assert change.state is stomp_trio.ClientState.CLOSED
            assert "heart-beat" in str(change.error)
            assert trio.current_time() - start == pytest.approx(1.5)
            assert sub.buffered == 1
        nursery.cancel_scope.cancel()


async def test_unsubscribing_a_full_subscription_resumes_the_others() -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            fast = await broker.expect(sc.Subscribe)
            slow = await broker.expect(sc.Subscribe)
            assert (fast.destination, slow.destination) == ("/queue/fast", "/queue/slow")
            for n in range(3):
                await broker.message(slow, b"slow", message_id=f"s{n}")
            await broker.message(fast, b"fast", message_id="f0")
            await broker.expect(sc.Unsubscribe)
            await broker.expect(sc.Unsubscribe)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection(
                "stomp://h", subscription_buffer=1, **options(network)
            ) as client,
            client.subscribe("/queue/fast") as fast,
        ):
            async with client.subscribe("/queue/slow"):
                await trio.testing.wait_all_tasks_blocked()
                assert fast.buffered == 0  # stuck behind the held slow message
            # Leaving the slow subscription drops its messages and resumes reading.
            message = await fast.get()
            assert message.body == b"fast"

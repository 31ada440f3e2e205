"""stomp_trio back-pressure: a full subscription buffer stops reading from the broker,
while our heart-beats keep flowing; the core's check of the broker's heart-beats is
suspended while reading is (``Connection.pause_receive_timeout``) and restarts with a full
grace period when reading resumes.

``lockstep_stream_pair`` stands in for TCP flow control: the fake broker's ``send_all``
returns only once the client has read the bytes, so a client that stops reading blocks
the broker's writer.
"""

from __future__ import annotations

import inspect
import itertools

import pytest
import trio
import trio.testing
from test_trio_support import WAIT, FakeBroker, Network, options

import stomp_core as sc
import stomp_trio

pytestmark = pytest.mark.trio

#: Silent intervals after which the client declares the broker dead, by default (the one
#: interval a broker may skip, then the tolerance).
SILENT_INTERVALS: float = (
    1 + inspect.signature(stomp_trio.open_connection).parameters["heartbeat_tolerance"].default
)


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
            # Paused for 30 s: nothing was delivered (bytes read ahead while our
            # heart-beat writes waited stay in the core), the core's receive deadline
            # was suspended, and the client kept heart-beating.
            assert client.state is stomp_trio.ClientState.CONNECTED
            assert sub.buffered == 1
            bodies = [(await sub.get()).body for _ in range(5)]
            assert bodies == [f"m{n}".encode() for n in range(5)]


async def _silent_after_two_messages(
    network: Network, *, paused: trio.Event, sent: list[int]
) -> FakeBroker:
    """Accept, deliver two messages (one buffered, one held by a 1-slot client), then say
    nothing more, while reading (and timing) the client's heart-beats."""
    broker = await network.accept()
    await broker.accept(heart_beat=(1000, 1000))
    sub = await broker.expect(sc.Subscribe)
    await _deliver(broker, sub, 2, sent)
    paused.set()
    return broker


async def _read_heartbeats(broker: FakeBroker, seconds: float) -> None:
    """Read (and time) the client's heart-beats for ``seconds`` or until another event."""
    with trio.move_on_after(seconds):
        while isinstance(await broker.next_event(heartbeats=True), sc.HeartbeatReceived):
            pass


async def test_no_heartbeat_timeout_while_paused_however_long(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network(pair=trio.testing.lockstep_stream_pair)
    sent: list[int] = []
    paused = trio.Event()
    hour = 3600.0
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await _silent_after_two_messages(network, paused=paused, sent=sent)
            await _read_heartbeats(broker, hour)
            gaps = [b - a for a, b in itertools.pairwise(broker.heartbeat_times)]
            # Our EOLs went out on time the whole hour: every 0.8 s (send factor).
            assert len(broker.heartbeat_times) >= hour / 0.8 - 2
            assert max(gaps) == pytest.approx(0.8)

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection(
                "stomp://h",
                subscription_buffer=1,
                **options(network, heartbeats=(1000, 1000), reconnect=None),
            ) as client,
            client.subscribe("/queue/a") as sub,
        ):
            changes = client.state_changes()
            await paused.wait()
            await trio.testing.wait_all_tasks_blocked()
            start = trio.current_time()
            # The broker says nothing for an hour, 1440 times its heart-beat tolerance;
            # its silence proves nothing: its EOLs would wait unread behind the held
            # message.  (Before the pause the same silence ends the link in 2.5 s.)
            await trio.sleep(hour + 1)
            assert client.state is stomp_trio.ClientState.CONNECTED
            changes.close()
            assert [change async for change in changes] == []
            assert sub.buffered == 1
            assert trio.current_time() - start == pytest.approx(hour + 1)
            assert (await sub.get()).body == b"m0"
            assert (await sub.get()).body == b"m1"
            nursery.cancel_scope.cancel()


async def test_after_resuming_a_silent_broker_gets_the_full_grace_period(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network(pair=trio.testing.lockstep_stream_pair)
    sent: list[int] = []
    paused = trio.Event()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await _silent_after_two_messages(network, paused=paused, sent=sent)
            await _read_heartbeats(broker, WAIT * 10)

        seen: list[tuple[stomp_trio.StateChange, float, int]] = []
        resumed: list[float] = []

        async def consumer() -> None:
            async with (
                stomp_trio.open_connection(
                    "stomp://h",
                    subscription_buffer=1,
                    **options(network, heartbeats=(1000, 1000), reconnect=None),
                ) as client,
                client.subscribe("/queue/a") as sub,
                client.state_changes() as changes,
            ):
                await paused.wait()
                await trio.sleep(100)  # paused: no timeout
                assert client.state is stomp_trio.ClientState.CONNECTED
                assert (await sub.get()).body == b"m0"  # room: reading resumes now
                resumed.append(trio.current_time())
                async for change in changes:
                    seen.append((change, trio.current_time(), sub.buffered))

        nursery.start_soon(server)
        with pytest.raises(stomp_trio.ConnectionLost, match="heart-beat"):
            await consumer()
        nursery.cancel_scope.cancel()
    # Still silent after resuming: the client gives up after the full 1 s x (1 + tolerance)
    # from the resume, not from the last bytes (100 s earlier), and not a moment sooner.
    [(change, when, buffered)] = seen
    assert change.state is stomp_trio.ClientState.CLOSED
    assert "heart-beat" in str(change.error)
    assert when - resumed[0] == pytest.approx(SILENT_INTERVALS)
    assert buffered == 1  # the held message was delivered on resuming


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


async def test_a_full_buffer_stops_a_reads_batch_and_an_error_after_it_waits_its_turn() -> None:
    """Ten MESSAGEs and an ERROR in one write, into a two-message buffer: reading stops
    mid-batch (two buffered, one held), nothing is lost or reordered as the consumer
    catches up, and the ERROR ends the client only after the tenth message."""
    network = Network()
    bodies: list[bytes] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            now = trio.current_time()
            for n in range(10):
                message = sc.Message(
                    destination=sub.destination,
                    message_id=f"m{n}",
                    subscription=sub.id,
                    body=f"m{n}".encode(),
                )
                broker.core.send(message, now=now)
            broker.core.send(sc.Error(message="bye"), now=now)
            await broker.flush()  # one write

        nursery.start_soon(server)

        async def consume() -> None:
            async with (
                stomp_trio.open_connection(
                    "stomp://h", subscription_buffer=2, reconnect=None, **options(network)
                ) as client,
                client.subscribe("/queue/a") as sub,
            ):
                await trio.testing.wait_all_tasks_blocked()
                assert sub.buffered == 2  # the rest wait in the client's core, paused
                async for message in sub:
                    bodies.append(message.body)

        with pytest.raises(stomp_trio.BrokerError, match="bye"):
            await consume()
    assert bodies == [f"m{n}".encode() for n in range(10)]

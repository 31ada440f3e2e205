"""stomp_trio: heart-beats, timeouts, backoff and reconnection, under MockClock.

Every wait is on trio's mock clock with ``autojump_threshold=0``, so a 10 s heart-beat
interval costs nothing and the asserted times are exact.
"""

from __future__ import annotations

import inspect
import itertools

import pytest
import trio
import trio.testing
from test_trio_support import Network, options

import stomp_core as sc
import stomp_trio

pytestmark = pytest.mark.trio

S = stomp_trio.ClientState

#: Silent intervals after which the client declares the broker dead, by default: the one
#: interval a broker may skip, then the tolerance (see HeartbeatSchedule.receive_deadline).
SILENT_INTERVALS: float = (
    1 + inspect.signature(stomp_trio.open_connection).parameters["heartbeat_tolerance"].default
)


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def test_client_heartbeats_on_schedule_while_idle(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            connect = await broker.accept(heart_beat=(0, 1000))
            assert connect.heart_beat == (1000, 0)
            start = trio.current_time()
            while broker.heartbeats < 5:
                event = await broker.next_event(heartbeats=True)
                assert isinstance(event, sc.HeartbeatReceived)
            # Core default send factor 0.8: an EOL every 0.8 s of silence.
            times = [start, *broker.heartbeat_times]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert gaps == pytest.approx([0.8] * 5)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://h", **options(network, heartbeats=(1000, 0))
        ) as client:
            assert client.heartbeat == (1000, 0)
            await trio.sleep(4.5)


async def test_received_heartbeats_keep_the_connection_alive(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept(heart_beat=(1000, 0))
            for _ in range(20):
                await trio.sleep(1)
                await broker.send_raw(b"\n")
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://h", **options(network, heartbeats=(0, 1000), reconnect=None)
        ) as client:
            await trio.sleep(19.5)
            assert client.state is S.CONNECTED
            assert client.heartbeats_received >= 19


async def test_silent_broker_times_out_and_client_reconnects(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    changes: list[stomp_trio.StateChange] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            first = await network.accept()
            await first.accept(heart_beat=(1000, 0))
            silent_since = trio.current_time()
            second = await network.accept()
            # 1 s x (1 + the default tolerance, 1.5) of silence, then an immediate reconnect.
            assert trio.current_time() - silent_since == pytest.approx(SILENT_INTERVALS)
            await second.accept(heart_beat=(1000, 0))
            nursery.start_soon(beat, second)
            await second.finish_disconnect()

        async def beat(broker: object) -> None:
            assert hasattr(broker, "send_raw")
            with trio.move_on_after(30):
                while True:
                    await trio.sleep(1)
                    try:
                        await broker.send_raw(b"\n")
                    except trio.ClosedResourceError:
                        return

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection(
                "stomp://h", **options(network, heartbeats=(0, 1000))
            ) as client,
            client.state_changes() as observer,
        ):
            async for change in observer:
                changes.append(change)
                if change.state is S.CONNECTED:
                    break
    assert [c.state for c in changes] == [S.RECONNECTING, S.CONNECTED]
    assert isinstance(changes[0].error, stomp_trio.ConnectionLost)
    assert "heart-beat" in str(changes[0].error)


async def test_connect_timeout_is_the_core_timer(autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.expect(sc.Connect)
            await trio.sleep_forever()

        nursery.start_soon(server)
        start = trio.current_time()
        with pytest.raises(stomp_trio.ConnectFailed, match="connect timeout"):
            async with stomp_trio.open_connection(
                "stomp://h", connect_timeout=7, reconnect=None, **options(network)
            ):
                pytest.fail("connected")  # pragma: no cover
        assert trio.current_time() - start == pytest.approx(7)
        nursery.cancel_scope.cancel()


async def test_first_connect_fails_fast_by_default(autojump_clock: trio.testing.MockClock) -> None:
    network = Network(refuse=5)
    with pytest.raises(stomp_trio.ConnectFailed) as info:
        async with stomp_trio.open_connection(["stomp://a:1", "stomp://b:2"], **options(network)):
            pytest.fail("connected")  # pragma: no cover
    # One round over both hosts, no waiting.
    assert [d[:2] for d in network.dials] == [("a", 1), ("b", 2)]
    assert trio.current_time() == 0
    assert isinstance(info.value.__cause__, stomp_trio.ConnectFailed)


async def test_first_connect_retries_with_the_core_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network(refuse=4)
    policy = stomp_trio.ReconnectPolicy(
        initial=1.0, increase=1.0, jitter=0.0, maximum=3.0, retry_first_connect=True
    )
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://h", reconnect=policy, **options(network)
        ) as client:
            assert client.state is S.CONNECTED
    times = [d[2] for d in network.dials]
    # Waits of 1, 2, then 3 (capped), 3 between the rounds of one host each.
    assert times == pytest.approx([0, 1, 3, 6, 9])


async def test_reconnect_gives_up_after_attempts_max(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    policy = stomp_trio.ReconnectPolicy(initial=1.0, increase=0.0, jitter=0.0, attempts_max=3)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            await broker.expect(sc.Subscribe)
            network.refuse = 100
            await broker.close()

        seen: list[BaseException] = []

        async def session() -> None:
            async with stomp_trio.open_connection(
                "stomp://h", reconnect=policy, **options(network)
            ) as client:
                async with client.subscribe("/queue/a") as sub:
                    with pytest.raises(stomp_trio.ConnectionLost) as info:
                        await sub.get()
                    seen.append(info.value)
                assert client.state is S.CLOSED
                try:
                    await trio.sleep_forever()
                except trio.Cancelled as cancelled:
                    seen.append(cancelled)
                    raise

        nursery.start_soon(server)
        with pytest.raises(stomp_trio.ConnectionLost, match="reconnecting failed") as outer:
            await session()
    # The iterator and the block raise the same error; the body was cancelled.
    assert seen[0] is outer.value
    assert isinstance(seen[1], trio.Cancelled)
    assert len(network.dials) == 1 + 3


async def test_reconnect_replays_subscriptions_and_fails_receipts_and_transactions(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            first = await network.accept()
            await first.accept()
            sub = await first.expect(sc.Subscribe)
            await first.expect(sc.Begin)
            await first.message(sub, b"before", message_id="m1", ack="a1")
            await first.expect(sc.Send)  # receipted; never answered
            await first.close()
            second = await network.accept()
            await second.accept()
            replayed = await second.expect(sc.Subscribe)
            assert replayed.id == sub.id
            assert replayed.destination == sub.destination
            assert replayed.ack == sub.ack
            assert replayed.receipt is None
            await second.message(replayed, b"after", message_id="m2", ack="a2")
            ack = await second.expect(sc.Ack)
            assert ack.id == "a2"
            await second.expect(sc.Unsubscribe)
            await second.finish_disconnect()

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection("stomp://h", **options(network)) as client,
            client.subscribe("/queue/a", ack="client") as sub,
        ):

            async def lost_transaction() -> None:
                async with client.transaction() as tx:
                    first = await sub.get()
                    assert first.body == b"before"
                    with pytest.raises(stomp_trio.ConnectionLost) as info:
                        await client.send("/queue/b", b"x", receipt=True)
                    assert "before RECEIPT" in str(info.value)
                    with pytest.raises(stomp_trio.ConnectionLost, match="aborted"):
                        await tx.send("/queue/b", b"in tx")
                    with pytest.raises(stomp_trio.ConnectionLost, match="since been lost"):
                        await first.ack()
                    # The iterator carries on over the new connection.
                    second = await sub.get()
                    assert second.body == b"after"
                    await second.ack()

            # Leaving the block normally commits, which a lost transaction cannot.
            with pytest.raises(stomp_trio.ConnectionLost, match="aborted by the broker"):
                await lost_transaction()


async def test_send_during_reconnect_waits_for_the_new_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    policy = stomp_trio.ReconnectPolicy(initial=2.0, jitter=0.0)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            first = await network.accept()
            await first.accept()
            network.refuse = 1
            await first.close()
            second = await network.accept()
            await second.accept()
            send = await second.expect(sc.Send)
            assert send.body == b"late"
            await second.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://h", reconnect=policy, **options(network)
        ) as client:
            with trio.fail_after(5):
                async with client.state_changes() as changes:
                    async for change in changes:
                        if change.state is S.RECONNECTING:
                            break
            assert client.state is S.RECONNECTING
            await client.send("/queue/a", b"late")
            assert client.state is S.CONNECTED


async def test_a_call_waits_for_a_reconnect_at_most_connect_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    policy = stomp_trio.ReconnectPolicy(initial=100.0, jitter=0.0)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            first = await network.accept()
            await first.accept()
            network.refuse = 1
            await first.close()

        nursery.start_soon(server)
        with trio.move_on_after(50):
            async with stomp_trio.open_connection(
                "stomp://h", connect_timeout=3, reconnect=policy, **options(network)
            ) as client:
                async with client.state_changes() as changes:
                    async for change in changes:
                        if change.attempt == 1:
                            break
                start = trio.current_time()
                with pytest.raises(stomp_trio.ConnectionLost, match="still reconnecting"):
                    await client.send("/queue/a", b"x")
                assert trio.current_time() - start == pytest.approx(3)
        nursery.cancel_scope.cancel()


async def test_dialling_is_bounded_by_connect_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def never(host: str, port: int) -> trio.abc.Stream:
        await trio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    with pytest.raises(stomp_trio.ConnectFailed, match="longer than 4 s"):
        async with stomp_trio.open_connection("stomp://h", connect_timeout=4, stream_factory=never):
            pytest.fail("connected")  # pragma: no cover
    assert trio.current_time() == pytest.approx(4)


async def test_retry_rounds_stop_at_the_attempt_budget_inside_a_round(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network(refuse=100)
    policy = stomp_trio.ReconnectPolicy(
        initial=1.0, jitter=0.0, attempts_max=3, retry_first_connect=True
    )
    with pytest.raises(stomp_trio.ConnectFailed, match="after 3 attempt"):
        async with stomp_trio.open_connection(
            ["stomp://a", "stomp://b"], reconnect=policy, **options(network)
        ):
            pytest.fail("connected")  # pragma: no cover
    assert [d[0] for d in network.dials] == ["a", "b", "a"]


async def test_stomp_10_messages_without_subscription_header_are_routed_and_acked(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept(version="1.0")
            await broker.expect(sc.Subscribe)
            await broker.expect(sc.Subscribe)
            await broker.send(
                sc.Message(destination="/queue/two", message_id="m1", body=b"no sub header")
            )
            ack = await broker.expect(sc.Ack)
            assert ack.id == "m1"
            await broker.expect(sc.Unsubscribe)
            await broker.expect(sc.Unsubscribe)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection("stomp://h", versions=("1.0",), **options(network)) as c,
            c.subscribe("/queue/one", ack="client"),
            c.subscribe("/queue/two", ack="client") as two,
        ):
            message = await two.get()
            assert message.body == b"no sub header"
            await message.ack()
            with pytest.raises(stomp_trio.LocalProtocolError, match="already in use"):
                async with c.subscribe("/queue/x", id=two.id):
                    pytest.fail("entered")  # pragma: no cover


async def test_leaving_with_a_stalled_subscription_still_disconnects_promptly(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            for n in range(3):
                await broker.message(sub, b"x", message_id=f"m{n}")
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://h", subscription_buffer=1, disconnect_timeout=30, **options(network)
        ) as client:
            # Entered by hand and never left nor read: its buffer stays full.
            sub = client.subscribe("/queue/a")
            await sub.__aenter__()
            await trio.testing.wait_all_tasks_blocked()
            assert sub.full
            start = trio.current_time()
        assert trio.current_time() == start  # the RECEIPT was read at once
        assert sub.closed


async def _wait_for_the_end(network: Network) -> None:
    async with stomp_trio.open_connection(
        "stomp://h", **options(network, heartbeats=(1000, 1000), reconnect=None)
    ):
        await trio.sleep_forever()  # the failed client cancels the body


async def test_a_broker_that_neither_reads_nor_writes_is_detected(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # lockstep: our heart-beat write blocks until the broker reads, which it never does.
    # The blocked write must not stop the heart-beat timeout from firing.
    network = Network(pair=trio.testing.lockstep_stream_pair)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept(heart_beat=(1000, 1000))
            await trio.sleep_forever()

        nursery.start_soon(server)
        with trio.fail_after(30), pytest.raises(stomp_trio.ConnectionLost, match="heart-beat"):
            await _wait_for_the_end(network)
        assert trio.current_time() == pytest.approx(SILENT_INTERVALS)
        nursery.cancel_scope.cancel()


async def test_a_subscription_the_new_broker_cannot_take_fails_alone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            first = await network.accept()
            await first.accept(version="1.2")
            await first.expect(sc.Subscribe)
            await first.expect(sc.Subscribe)
            await first.close()
            # The next broker speaks 1.0 only: no client-individual there.
            second = await network.accept()
            await second.accept(version="1.0")
            replayed = await second.expect(sc.Subscribe)
            assert replayed.ack == "auto"
            await second.message(replayed, b"still here", message_id="m1")
            await second.expect(sc.Unsubscribe)
            await second.finish_disconnect()

        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection("stomp://h", **options(network)) as client,
            client.subscribe("/queue/strict", ack="client-individual") as strict,
            client.subscribe("/queue/easy") as easy,
        ):
            with pytest.raises(stomp_trio.ConnectionLost, match="cannot subscribe again"):
                await strict.get()
            assert (await easy.get()).body == b"still here"
            assert client.version == "1.0"


async def _error_after_connected(network: Network) -> None:
    broker = await network.accept()
    await broker.accept()
    await broker.send(sc.Error(message="go away"))
    await broker.close()


async def test_the_body_is_cancelled_and_its_own_exception_wins(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()

    async def session() -> None:
        async with stomp_trio.open_connection("stomp://h", **options(network)):
            try:
                await trio.sleep_forever()
            finally:
                # Cleanup that fails while the body is being cancelled: the user's error
                # is what the block raises, not an exception group.
                raise KeyError("cleanup")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(_error_after_connected, network)
        with pytest.raises(KeyError, match="cleanup"):
            await session()


async def test_a_body_that_lets_the_client_error_through_raises_it_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()

    async def session() -> None:
        async with (
            stomp_trio.open_connection("stomp://h", **options(network)) as client,
            client.subscribe("/queue/a") as sub,
        ):
            await sub.get()  # raises the ERROR, which the body does not catch

    async def broker_errs_after_subscribe() -> None:
        broker = await network.accept()
        await broker.accept()
        await broker.expect(sc.Subscribe)
        await broker.send(sc.Error(message="go away"))
        await broker.close()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(broker_errs_after_subscribe)
        # The same BrokerError from the body and from the client: one exception.
        with pytest.raises(stomp_trio.BrokerError, match="go away"):
            await session()

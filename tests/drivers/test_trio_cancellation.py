"""stomp_trio under cancellation, at every await point of send, subscribe and disconnect.

What each point leaves behind:

* waiting for the send lock: nothing was sent, the connection is intact;
* writing (``send_all``) half-way: the stream may hold part of a frame, so the link is
  broken (the core's ``send_failed``) and the client reconnects;
* waiting for a RECEIPT: the frame was sent; the connection is intact;
* a subscription whose SUBSCRIBE went out is taken back with UNSUBSCRIBE;
* leaving ``open_connection`` by cancellation closes the stream at once (trio's rule for
  cleanup under cancellation), whether DISCONNECT was not yet sent or its receipt was
  being awaited.

``lockstep_stream_pair`` makes a write block until the fake broker reads it, which is how
a write is caught half-way.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing
from test_trio_support import FakeBroker, Network, options

import stomp_core as sc
import stomp_trio

pytestmark = pytest.mark.trio

S = stomp_trio.ClientState


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def test_send_cancelled_while_waiting_for_the_lock_sends_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network(pair=trio.testing.lockstep_stream_pair)
    async with trio.open_nursery() as nursery:

        async def server(broker: FakeBroker, task_status: trio.TaskStatus[None]) -> None:
            await broker.accept()
            task_status.started()
            await trio.sleep(10)  # not reading: the first send blocks in send_all
            first = await broker.expect(sc.Send)
            assert first.body == b"first"
            third = await broker.expect(sc.Send)
            assert third.body == b"third"  # "second" never reached the wire
            await broker.finish_disconnect()

        async def serve() -> None:
            broker = await network.accept()
            await nursery.start(server, broker)

        nursery.start_soon(serve)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            async with trio.open_nursery() as senders:
                senders.start_soon(client.send, "/queue/a", b"first")
                await trio.testing.wait_all_tasks_blocked()
                with trio.move_on_after(1) as scope:
                    await client.send("/queue/a", b"second")
                assert scope.cancelled_caught
            assert client.state is S.CONNECTED
            await client.send("/queue/a", b"third")


async def test_send_cancelled_half_way_breaks_the_link_and_reconnects(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network(pair=trio.testing.lockstep_stream_pair)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            first = await network.accept()
            await first.accept()
            # Never reads: the client's write blocks until it is cancelled.
            second = await network.accept()
            await second.accept()
            retry = await second.expect(sc.Send)
            assert retry.body == b"retry"
            await second.finish_disconnect()
            await first.close()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            async with client.state_changes() as changes:
                with trio.move_on_after(1) as scope:
                    await client.send("/queue/a", b"x" * 10_000)
                assert scope.cancelled_caught
                lost = await changes.__anext__()
                assert lost.state is S.RECONNECTING
                assert "interrupted half-way" in str(lost.error)
                assert (await changes.__anext__()).state is S.CONNECTED
            await client.send("/queue/a", b"retry")


async def test_cancelled_receipt_wait_leaves_the_connection_intact(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            late = await broker.expect(sc.Send)
            await trio.sleep(5)
            await broker.reply_receipt(late)
            prompt = await broker.expect(sc.Send)
            await broker.reply_receipt(prompt)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            with trio.move_on_after(1) as scope:
                await client.send("/queue/a", b"late", receipt=True)
            assert scope.cancelled_caught
            await trio.sleep(10)
            assert client.state is S.CONNECTED
            assert client._link is not None
            assert dict(client._session.receipts) == {}
            await client.send("/queue/a", b"prompt", receipt=True)


async def test_subscribe_cancelled_at_its_receipt_is_taken_back(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            assert sub.receipt is not None
            unsubscribe = await broker.expect(sc.Unsubscribe)
            assert unsubscribe.id == sub.id
            # A message already in flight for it is dropped quietly.
            await broker.message(sub, b"stray", message_id="m1")
            again = await broker.expect(sc.Subscribe)
            assert again.id != sub.id
            await broker.message(again, b"wanted", message_id="m2")
            await broker.expect(sc.Unsubscribe)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            with trio.move_on_after(1) as scope:
                async with client.subscribe("/queue/a", receipt=True):
                    pytest.fail("the subscription was never confirmed")  # pragma: no cover
            assert scope.cancelled_caught
            async with client.subscribe("/queue/a") as sub:
                assert (await sub.get()).body == b"wanted"


async def test_subscribe_cancelled_before_sending_sends_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            # The first event after CONNECT is the DISCONNECT: no SUBSCRIBE, no UNSUBSCRIBE.
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            with trio.CancelScope() as scope:
                scope.cancel()
                async with client.subscribe("/queue/a"):
                    pytest.fail("entered")  # pragma: no cover
            assert client._session.registry.subscriptions == {}


async def test_leaving_by_cancellation_closes_at_once_without_disconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            # No DISCONNECT: the stream just ends.
            assert isinstance(await broker.next_event(), sc.ConnectionClosed)

        nursery.start_soon(server)
        with trio.move_on_after(2):
            async with stomp_trio.open_connection("stomp://h", **options(network)):
                await trio.sleep_forever()
        assert trio.current_time() == pytest.approx(2)


async def test_cancelled_while_awaiting_the_disconnect_receipt(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            await broker.expect(sc.Disconnect)
            # EOF: the client gave up waiting.
            assert isinstance(await broker.next_event(), sc.ConnectionClosed)

        nursery.start_soon(server)
        with trio.move_on_at(3):
            async with stomp_trio.open_connection(
                "stomp://h", disconnect_timeout=100, **options(network)
            ) as client:
                pass
        assert trio.current_time() == pytest.approx(3)
        assert client.state is S.CLOSED


async def test_cancelled_while_connecting(autojump_clock: trio.testing.MockClock) -> None:
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.expect(sc.Connect)
            assert isinstance(await broker.next_event(), sc.ConnectionClosed)

        nursery.start_soon(server)
        with trio.move_on_after(2) as scope:
            async with stomp_trio.open_connection("stomp://h", **options(network)):
                pytest.fail("connected")  # pragma: no cover
        assert scope.cancelled_caught
        assert trio.current_time() == pytest.approx(2)


async def test_subscribe_cancelled_half_way_is_not_replayed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network(pair=trio.testing.lockstep_stream_pair)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            first = await network.accept()
            await first.accept()
            # Not reading: the SUBSCRIBE write hangs until it is cancelled.
            second = await network.accept()
            await second.accept()
            # The abandoned subscription is not replayed: the next frame is the SEND.
            send = await second.expect(sc.Send)
            assert send.body == b"next"
            await second.finish_disconnect()
            await first.close()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            async with client.state_changes() as changes:
                with trio.move_on_after(1) as scope:
                    async with client.subscribe("/queue/a", headers={"pad": "x" * 10_000}):
                        pytest.fail("entered")  # pragma: no cover
                assert scope.cancelled_caught
                assert (await changes.__anext__()).state is S.RECONNECTING
                assert (await changes.__anext__()).state is S.CONNECTED
            await client.send("/queue/a", b"next")


async def test_explicit_unsubscribe_and_abort_cancelled_at_the_lock_still_happen(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network(pair=trio.testing.lockstep_stream_pair)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            begin = await broker.expect(sc.Begin)
            await trio.sleep(10)  # not reading: a big SEND holds the client's send lock
            await broker.expect(sc.Send)
            unsubscribe = await broker.expect(sc.Unsubscribe)
            assert unsubscribe.id == sub.id
            abort = await broker.expect(sc.Abort)
            assert abort.transaction == begin.transaction
            await broker.finish_disconnect()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            sub = client.subscribe("/queue/a")
            await sub.__aenter__()
            tx = client.transaction()
            await tx.begin()
            async with trio.open_nursery() as senders:
                senders.start_soon(client.send, "/queue/big", b"x" * 10_000)
                await trio.testing.wait_all_tasks_blocked()
                with trio.move_on_after(1) as scope:
                    await sub.unsubscribe(receipt=True)
                assert scope.cancelled_caught
                with trio.move_on_after(1) as scope:
                    await tx.abort(receipt=True)
                assert scope.cancelled_caught
            assert client.state is S.CONNECTED


async def test_disconnect_cancelled_while_writing(autojump_clock: trio.testing.MockClock) -> None:
    network = Network(pair=trio.testing.lockstep_stream_pair)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            await trio.sleep(100)  # never reads the DISCONNECT
            await broker.close()

        nursery.start_soon(server)
        with trio.move_on_after(5) as scope:
            async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
                pass
        assert scope.cancelled_caught
        assert trio.current_time() == pytest.approx(5)
        assert client.state is S.CLOSED


async def test_disconnect_write_that_never_completes_is_bounded_by_the_core(
    autojump_clock: trio.testing.MockClock,
) -> None:
    network = Network(pair=trio.testing.lockstep_stream_pair)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            await trio.sleep_forever()  # never reads the DISCONNECT

        nursery.start_soon(server)
        async with stomp_trio.open_connection(
            "stomp://h", disconnect_timeout=4, **options(network)
        ) as client:
            changes = client.state_changes()
        assert trio.current_time() == pytest.approx(4)
        closed = [change async for change in changes][-1]
        assert closed.state is S.CLOSED
        assert "DISCONNECT" in str(closed.error)
        nursery.cancel_scope.cancel()


async def test_send_right_after_a_send_cancelled_half_way_waits_for_the_new_link(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # issue 14 item 3 (stomp_asyncio had it): the next send, at once, neither meets the
    # broken core (LocalProtocolError "the connection is ERROR") nor fails: it waits for
    # the reconnection (ClientSession.can_send decides) and goes out there.
    network = Network(pair=trio.testing.lockstep_stream_pair)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            first = await network.accept()
            await first.accept()
            # Never reads: the client's write blocks until it is cancelled.
            second = await network.accept()
            await second.accept()
            retry = await second.expect(sc.Send)
            assert retry.body == b"retry"
            await second.finish_disconnect()
            await first.close()

        nursery.start_soon(server)
        async with stomp_trio.open_connection("stomp://h", **options(network)) as client:
            old = client._link
            assert old is not None
            with trio.move_on_after(1) as scope:
                await client.send("/queue/a", b"x" * 10_000)
            assert scope.cancelled_caught
            assert old.core.state is sc.State.ERROR
            await client.send("/queue/a", b"retry")
            assert client._link is not old

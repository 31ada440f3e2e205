"""stomp_asyncio flow control and cancellation, on in-memory transports whose flow control
the tests drive: bounded subscription buffers pause the socket (heart-beats keep going),
a slow broker holds senders back, and cancellation at every await point of send,
subscribe and disconnect leaves the connection either intact or honestly broken."""

from __future__ import annotations

import asyncio

import pytest
from asyncio_harness import MemoryClient, ScriptedServer, memory_client, run, servers, wait_until

from stomp_asyncio import ClientState, ConnectionLost, ReconnectPolicy
from stomp_asyncio._link import WRITE_CHUNK, Link
from stomp_core import Disconnect, Message, Receipt, Send, State, Subscribe, Unsubscribe

#: MemoryClient's default write high-water mark.
HIGH_WATER = 64 * 1024

NO_JITTER = ReconnectPolicy(jitter=0.0)


async def started(task: asyncio.Task[object], *, ticks: int = 20) -> None:
    """Let ``task`` run until it blocks (a few loop iterations) and check it has not ended."""
    for _ in range(ticks):
        await asyncio.sleep(0)
    assert not task.done(), task


def test_full_subscription_pauses_reading_and_heartbeats_keep_flowing() -> None:
    async def main() -> None:
        server = ScriptedServer(heart_beat=(1000, 1000))
        client = memory_client(servers(server), subscription_buffer=2, heartbeats=(1000, 1000))
        async with client, client.subscribe("/queue/a") as sub:
            subscribe = await server.next(Subscribe)
            for i in range(10):
                server.send(
                    Message(destination="/queue/a", message_id=f"m{i}", subscription=subscribe.id)
                )
            link = client._link
            assert link is not None
            await wait_until(lambda: link.reading_paused)
            transport = client.transports[0]
            assert not transport.is_reading()
            assert sub.buffered == 2
            beats = server.heartbeats
            await asyncio.sleep(30)  # a slow consumer...
            assert sub.buffered == 2  # ...still holds at most the bound
            assert server.heartbeats >= beats + 30 // 0.8 - 1  # our EOLs kept flowing
            # The broker's EOLs sat unread for 30 intervals, far past the tolerance: the
            # receive deadline was suspended, so the connection is still the same.
            assert client._link is link
            assert not link.closed.done()
            received = [(await sub.get(5)).message_id for _ in range(10)]
            assert received == [f"m{i}" for i in range(10)]
            await wait_until(lambda: not link.reading_paused)
            assert transport.is_reading()
            assert client.state is ClientState.CONNECTED

    run(main)


async def _paused_by_two_messages(server: ScriptedServer, client: MemoryClient) -> Link:
    """Send two MESSAGEs to a one-message buffer (one buffered, which fills it, one left
    unparsed: reading stops), then let the broker fall silent (no more heart-beats)."""
    subscribe = await server.next(Subscribe)
    for i in range(2):
        server.send(
            Message(
                destination="/queue/a",
                message_id=f"m{i}",
                subscription=subscribe.id,
                body=f"m{i}".encode(),
            )
        )
    link = client._link
    assert link is not None
    await wait_until(lambda: link.reading_paused)
    server.silent = True
    return link


def test_a_reconnect_completes_while_a_buffer_is_still_full() -> None:
    # The consumer lags: its buffer is full when the connection drops.  The new
    # connection must still read its CONNECTED (and the replayed subscription go out):
    # only a live session waits for room.
    async def main() -> None:
        first, second = ScriptedServer(), ScriptedServer()
        client = memory_client(servers(first, second), subscription_buffer=1, reconnect=NO_JITTER)
        async with client, client.subscribe("/queue/a") as sub:
            await _paused_by_two_messages(first, client)
            assert sub.full
            first.drop()
            replayed = await asyncio.wait_for(second.next(Subscribe), 5)
            assert replayed.id == sub.id
            await wait_until(lambda: client.state is ClientState.CONNECTED)
            assert (await sub.get(5)).body == b"m0"  # what was buffered stays readable

    run(main)


def test_no_heartbeat_timeout_while_paused_however_long() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = ScriptedServer(heart_beat=(1000, 1000))
        client = memory_client(
            servers(server), subscription_buffer=1, heartbeats=(1000, 1000), reconnect=None
        )
        hour = 3600.0
        async with client, client.subscribe("/queue/a") as sub:
            link = await _paused_by_two_messages(server, client)
            beats, start = server.heartbeats, loop.time()
            # The broker says nothing for an hour, 1440 times its heart-beat tolerance;
            # its silence proves nothing: its EOLs would wait unread behind the held
            # message.  (Unpaused, the same silence ends the link in 2.5 s.)
            await asyncio.sleep(hour + 1)
            assert loop.time() - start == pytest.approx(hour + 1)
            assert client.state is ClientState.CONNECTED
            assert client._link is link
            assert not link.closed.done()
            # Our EOLs went out on time the whole hour: every 0.8 s (send factor).
            assert server.heartbeats >= beats + hour / 0.8 - 2
            assert sub.buffered == 1
            server.silent = False  # the broker speaks again (and confirms DISCONNECT)
            assert (await sub.get(5)).body == b"m0"
            assert (await sub.get(5)).body == b"m1"

    run(main)


def test_after_resuming_a_silent_broker_gets_the_full_grace_period() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = ScriptedServer(heart_beat=(1000, 1000))
        client = memory_client(
            servers(server), subscription_buffer=1, heartbeats=(1000, 1000), reconnect=None
        )
        changes = client.state_changes()
        seen: list[tuple[ClientState, BaseException | None, float]] = []
        resumed: list[float] = []

        async def watch() -> None:
            async for change in changes:
                seen.append((change.state, change.error, loop.time()))

        async def body() -> None:
            async with client, client.subscribe("/queue/a") as sub:
                link = await _paused_by_two_messages(server, client)
                await asyncio.sleep(100)  # paused: no timeout
                assert client.state is ClientState.CONNECTED
                assert (await sub.get(5)).body == b"m0"  # m1 is parsed: full again
                assert (await sub.get(5)).body == b"m1"  # room: reading resumes now
                resumed.append(loop.time())
                await wait_until(lambda: not link.reading_paused)
                await asyncio.sleep(3600)  # cancelled when the client fails

        watcher = loop.create_task(watch())
        with pytest.raises(ConnectionLost, match="heart-beat"):
            await body()
        await watcher
        # Still silent after resuming: the client gives up after the full 1 s x 2.5 from
        # the resume, not from the broker's last bytes (100 s earlier), nor sooner.
        [(_state, error, when)] = [entry for entry in seen if entry[0] is ClientState.CLOSED]
        assert "heart-beat" in str(error)
        assert when - resumed[0] == pytest.approx(2.5)

    run(main)


def test_closing_a_full_subscription_resumes_reading_for_the_others() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server), subscription_buffer=1)
        async with client, client.subscribe("/queue/b") as other:
            async with client.subscribe("/queue/a"):
                assert (await server.next(Subscribe)).id == other.id == "sub-1"
                assert (await server.next(Subscribe)).id == "sub-2"
                for i in range(3):
                    server.send(
                        Message(destination="/queue/a", message_id=f"a{i}", subscription="sub-2")
                    )
                server.send(Message(destination="/queue/b", message_id="b0", subscription="sub-1"))
                link = client._link
                assert link is not None
                await wait_until(lambda: link.reading_paused)
                assert other.buffered == 0  # b0 is stuck behind a1 and a2
            # Leaving the full subscription drops its buffer and reading resumes.
            assert (await other.get(5)).message_id == "b0"

    run(main)


def test_slow_broker_holds_the_sender_back() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server)) as client:
            assert server.transport is not None
            server.transport.pause_reading()
            body = b"x" * (8 * WRITE_CHUNK)
            sending = asyncio.create_task(client.send("/queue/big", body))
            await started(sending)
            assert client.transports[0].written < len(body)  # held back between chunks
            server.transport.resume_reading()
            await asyncio.wait_for(sending, 5)
            send = await server.next(Send)
            assert send.body == body

    run(main)


def test_cancel_mid_frame_breaks_the_connection_honestly() -> None:
    async def main() -> None:
        first, second = ScriptedServer(), ScriptedServer()
        client = memory_client(servers(first, second), reconnect=NO_JITTER)
        async with client:
            assert first.transport is not None
            first.transport.pause_reading()
            old = client._link
            assert old is not None
            failed: list[bool] = []
            send_failed = old.core.send_failed

            def spy() -> None:
                failed.append(True)
                send_failed()

            old.core.send_failed = spy  # type: ignore[method-assign]
            sending = asyncio.create_task(client.send("/queue/big", b"x" * (8 * WRITE_CHUNK)))
            await started(sending)
            sending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sending
            assert failed == [True]  # core.send_failed() was called
            assert isinstance(old.reason, ConnectionLost)
            assert "interrupted" in str(old.reason)
            await wait_until(
                lambda: client._link is not old and client.state is ClientState.CONNECTED
            )
            await client.send("/queue/small", "fine", receipt=True)
        assert not first.of(Send)  # the broker never saw a complete frame
        assert [s.body for s in second.of(Send)] == [b"fine"]

    run(main)


def test_cancel_after_the_frame_is_written_keeps_the_connection() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server))
        async with client:
            assert server.transport is not None
            server.transport.pause_reading()
            # Just under the memory transport's high-water mark (64 KiB): no wait yet.
            await client.send("/queue/a", b"a" * (HIGH_WATER - 1024))
            waiting = asyncio.create_task(client.send("/queue/a", b"b" * 4096))
            await started(waiting)  # the frame is written; only the drain wait is left
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            link = client._link
            assert link is not None
            assert link.core.state is State.CONNECTED
            server.transport.resume_reading()
            await client.send("/queue/a", "c", receipt=True)
        assert [len(s.body) for s in server.of(Send)] == [HIGH_WATER - 1024, 4096, 1]

    run(main)


def test_cancel_while_waiting_for_the_write_lock_sends_nothing() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server)) as client:
            assert server.transport is not None
            server.transport.pause_reading()
            big = asyncio.create_task(client.send("/queue/big", b"x" * (4 * WRITE_CHUNK)))
            await started(big)
            queued = asyncio.create_task(client.send("/queue/never", "y"))
            await started(queued)
            queued.cancel()
            with pytest.raises(asyncio.CancelledError):
                await queued
            server.transport.resume_reading()
            await asyncio.wait_for(big, 5)
            await client.send("/queue/after", "z", receipt=True)
        assert [s.destination for s in server.of(Send)] == ["/queue/big", "/queue/after"]

    run(main)


def test_cancel_during_the_receipt_wait() -> None:
    async def main() -> None:
        server = ScriptedServer(auto_receipt=False)
        async with memory_client(servers(server)) as client:
            waiting = asyncio.create_task(client.send("/queue/a", "x", receipt=True))
            send = await server.next(Send)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert client._session.receipts == {}
            assert send.receipt is not None
            server.send(Receipt(receipt_id=send.receipt))  # late: ignored
            server.auto_receipt = True
            await client.send("/queue/a", "y", receipt=True)
            assert client.state is ClientState.CONNECTED

    run(main)


def test_cancel_while_waiting_for_a_reconnect() -> None:
    async def main() -> None:
        first, second = ScriptedServer(), ScriptedServer()
        policy = ReconnectPolicy(initial=5.0, jitter=0.0)
        client = memory_client(servers(first, OSError("down"), second), reconnect=policy)
        async with client:
            first.drop()
            await wait_until(lambda: client.state is ClientState.RECONNECTING)
            waiting = asyncio.create_task(client.send("/queue/a", "never"))
            await started(waiting)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await wait_until(lambda: client.state is ClientState.CONNECTED)
        assert not second.of(Send)

    run(main)


def test_reconnect_wait_is_bounded_by_connect_timeout() -> None:
    async def main() -> None:
        first = ScriptedServer()
        policy = ReconnectPolicy(initial=50.0, jitter=0.0)
        client = memory_client(
            servers(first, OSError("down"), ScriptedServer()), reconnect=policy, connect_timeout=2.0
        )
        async with client:
            first.drop()
            await wait_until(lambda: client.state is ClientState.RECONNECTING)
            loop = asyncio.get_running_loop()
            start = loop.time()
            with pytest.raises(ConnectionLost, match="reconnecting"):
                await client.send("/queue/a", "x")
            assert loop.time() - start == pytest.approx(2.0)

    run(main)


def test_cancel_subscribe_during_its_receipt_wait_takes_it_back() -> None:
    async def main() -> None:
        first = ScriptedServer(auto_receipt=False)
        second = ScriptedServer()
        client = memory_client(servers(first, second), reconnect=NO_JITTER)
        async with client:

            async def subscribe() -> None:
                async with client.subscribe("/queue/a", receipt=True):
                    pytest.fail("the subscription was never confirmed")

            waiting = asyncio.create_task(subscribe())
            subscribe_frame = await first.next(Subscribe)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            unsubscribe = await first.next(Unsubscribe)
            assert unsubscribe.id == subscribe_frame.id
            assert dict(client._session.registry.subscriptions) == {}
            first.drop()
            await wait_until(lambda: client.state is ClientState.CONNECTED and bool(second.events))
        assert not second.of(Subscribe)  # nothing replayed

    run(main)


def test_cancel_subscribe_while_waiting_for_the_lock_sends_nothing() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with memory_client(servers(server)) as client:
            assert server.transport is not None
            server.transport.pause_reading()
            big = asyncio.create_task(client.send("/queue/big", b"x" * (4 * WRITE_CHUNK)))
            await started(big)

            async def subscribe() -> None:
                async with client.subscribe("/queue/a"):
                    pytest.fail("never entered")

            waiting = asyncio.create_task(subscribe())
            await started(waiting)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            server.transport.resume_reading()
            await asyncio.wait_for(big, 5)
            assert dict(client._session.subscriptions) == {}
            assert dict(client._session.registry.subscriptions) == {}
        assert not server.of(Subscribe)

    run(main)


def test_cancel_during_the_graceful_disconnect() -> None:
    async def main() -> None:
        server = ScriptedServer(auto_receipt=False)
        client = memory_client(servers(server), disconnect_timeout=60.0)
        in_exit = asyncio.Event()

        async def body() -> None:
            async with client:
                in_exit.set()

        task = asyncio.create_task(body())
        await in_exit.wait()
        await server.next(Disconnect)  # the client now waits for the RECEIPT
        loop = asyncio.get_running_loop()
        start = loop.time()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert loop.time() - start < 1.0
        assert client.state is ClientState.CLOSED
        await asyncio.wait_for(server.lost.wait(), 5)

    run(main)


def test_disconnect_while_a_writer_is_stuck_is_bounded() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server), disconnect_timeout=5.0)
        loop = asyncio.get_running_loop()
        async with client:
            assert server.transport is not None
            server.transport.pause_reading()  # the broker stops reading for good
            stuck = asyncio.create_task(client.send("/queue/big", b"x" * (4 * WRITE_CHUNK)))
            await started(stuck)
            start = loop.time()
        assert loop.time() - start <= 5.0 + 1.0 + 0.01
        with pytest.raises(ConnectionLost):
            await stuck
        assert client.state is ClientState.CLOSED

    run(main)


def test_loss_fails_the_writer_mid_frame_and_the_senders_queued_behind_it() -> None:
    async def main() -> None:
        first, second = ScriptedServer(), ScriptedServer()
        client = memory_client(servers(first, second), reconnect=NO_JITTER)
        async with client:
            assert first.transport is not None
            first.transport.pause_reading()
            big = asyncio.create_task(client.send("/queue/big", b"x" * (4 * WRITE_CHUNK)))
            await started(big)
            queued = asyncio.create_task(client.send("/queue/small", "y"))
            await started(queued)
            first.drop()
            with pytest.raises(ConnectionLost):
                await big
            with pytest.raises(ConnectionLost, match="before the frame was sent"):
                await queued
            await wait_until(lambda: client.state is ClientState.CONNECTED)
            await client.send("/queue/small", "z", receipt=True)
        assert [s.body for s in second.of(Send)] == [b"z"]

    run(main)


def test_unsubscribe_while_another_task_writes_is_never_given_up() -> None:
    """Issue 14.2: leaving a subscription while a large send holds the write lock must
    not forget it locally while it stays live at the broker: UNSUBSCRIBE is queued for
    the lock holder, which writes it right after its own frame (as stomp_trio does)."""

    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server), receipt_timeout=2.0)
        async with client:
            assert server.transport is not None
            sub = client.subscribe("/queue/a")
            await sub.__aenter__()
            server.transport.pause_reading()
            big = asyncio.create_task(client.send("/queue/big", b"x" * (4 * WRITE_CHUNK)))
            await started(big)
            loop = asyncio.get_running_loop()
            start = loop.time()
            await sub.close()  # does not wait for the write lock
            assert loop.time() == start
            assert dict(client._session.registry.subscriptions) == {}  # never replayed
            loop.call_later(10.0, server.transport.resume_reading)  # a slow broker
            await asyncio.wait_for(big, 60)
            assert (await server.next(Send)).destination == "/queue/big"
            assert (await server.next(Unsubscribe)).id == sub.id

    run(main)


def test_exit_with_full_buffers_still_gets_the_disconnect_receipt_at_once() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server), subscription_buffer=1, disconnect_timeout=30.0)
        loop = asyncio.get_running_loop()
        async with client:
            # Left open on purpose (say, its consumer task is stuck elsewhere): the
            # client's exit must not wait behind its full buffer.
            sub = await client.subscribe("/queue/a").__aenter__()
            subscribe = await server.next(Subscribe)
            for i in range(5):
                server.send(
                    Message(destination="/queue/a", message_id=f"m{i}", subscription=subscribe.id)
                )
            link = client._link
            assert link is not None
            await wait_until(lambda: link.reading_paused)
            start = loop.time()
        assert loop.time() - start < 1.0  # not the 30 s disconnect timeout
        assert link.clean_close
        assert sub.buffered == 1  # nothing more was buffered while closing

    run(main)


def test_unconfirmed_disconnect_is_reported_by_the_closed_state_change() -> None:
    async def main() -> None:
        server = ScriptedServer(auto_receipt=False)
        client = memory_client(servers(server), disconnect_timeout=2.0)
        changes = client.state_changes()
        async with client:
            pass
        closed = [c async for c in changes][-1]
        assert closed.state is ClientState.CLOSED
        assert isinstance(closed.error, ConnectionLost)
        assert "DISCONNECT" in str(closed.error)

    run(main)


# -------------------------------------------- a send while the transport is still closing


def test_send_between_the_broker_closing_and_the_transport_going_waits_for_the_new_link() -> None:
    # The broker closed: asyncio calls eof_received() (the core reads EOF and is CLOSED at
    # once) and connection_lost() only on a later loop iteration.  A send in between is
    # the session's to refuse (ClientSession.can_send), never the core's LocalProtocolError.
    async def main() -> None:
        first, second = ScriptedServer(), ScriptedServer()
        client = memory_client(servers(first, second), reconnect=NO_JITTER)
        async with client:
            old = client._link
            assert old is not None
            old.eof_received()  # what the transport calls when the broker's EOF arrives
            assert old.core.state is State.CLOSED
            assert not old.closed.done()  # connection_lost() is still to come
            await client.send("/queue/after-eof", "fine", receipt=True)
            assert client._link is not old
        assert not first.of(Send)
        assert [s.body for s in second.of(Send)] == [b"fine"]

    run(main)


def test_send_right_after_a_send_cancelled_half_way_waits_for_the_new_link() -> None:
    # issue 14 item 3: the core is in ERROR (send_failed) while the aborted transport's
    # connection_lost() is still to come.
    async def main() -> None:
        first, second = ScriptedServer(), ScriptedServer()
        client = memory_client(servers(first, second), reconnect=NO_JITTER)
        async with client:
            assert first.transport is not None
            first.transport.pause_reading()
            old = client._link
            assert old is not None

            async def send_then_resend() -> None:
                try:
                    await client.send("/queue/big", b"x" * (8 * WRITE_CHUNK))
                except asyncio.CancelledError:
                    # At once, in the same step: connection_lost() is still to come.
                    assert old.core.state is State.ERROR
                    assert not old.closed.done()
                    await client.send("/queue/small", "fine", receipt=True)

            sending = asyncio.create_task(send_then_resend())
            await started(sending)
            sending.cancel()
            await asyncio.wait_for(sending, 10)
            assert client._link is not old
        assert [s.body for s in second.of(Send)] == [b"fine"]

    run(main)


def test_messages_and_a_receipt_in_one_read_all_arrive_in_order() -> None:
    """A read's MESSAGEs go to the buffer in one pass; a RECEIPT among them still
    resolves its send, and every message arrives once, in order."""

    async def main() -> None:
        server = ScriptedServer(auto_receipt=False)
        client = memory_client(servers(server), subscription_buffer=100)
        async with client, client.subscribe("/queue/a") as sub:
            subscribe = await server.next(Subscribe)
            task = asyncio.create_task(client.send("/queue/x", "x", receipt=True))
            send = await server.next(Send)
            now = asyncio.get_running_loop().time()

            def message(i: int) -> Message:
                return Message(
                    destination="/queue/a", message_id=f"m{i}", subscription=subscribe.id
                )

            for i in range(3):
                server.core.send(message(i), now=now)
            server.core.send(Receipt(receipt_id=send.receipt), now=now)
            for i in range(3, 6):
                server.core.send(message(i), now=now)
            server._flush()  # one write: one read
            await asyncio.wait_for(task, 5)
            received = [(await sub.get(5)).message_id for _ in range(6)]
            assert received == [f"m{i}" for i in range(6)]
            assert sub.buffered == 0

    run(main)

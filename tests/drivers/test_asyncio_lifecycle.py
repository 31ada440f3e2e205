"""stomp_asyncio lifecycle on a virtual clock: heart-beats (the core's timers), graceful
disconnect whatever ends the block, task ownership, reconnection with backoff and
replay, failures that end the client, and observable state changes."""

from __future__ import annotations

import asyncio

import pytest
from asyncio_harness import ScriptedServer, factory, memory_client, run, servers, wait_until

from stomp_asyncio import (
    BrokerError,
    ClientState,
    ConnectionLost,
    ProtocolViolation,
    ReconnectPolicy,
    StateChange,
)
from stomp_core import Begin, Disconnect, Error, Message, Send, Subscribe

NO_JITTER = ReconnectPolicy(jitter=0.0)


def test_heartbeats_follow_the_negotiated_schedule() -> None:
    async def main() -> None:
        # Client can send every 1 s, server wants every 2 s: we send every 2 s (spec 1.2
        # "Heart-beating"), a little early by the core's send factor (0.8).
        server = ScriptedServer(heart_beat=(0, 2000))
        async with memory_client(servers(server), heartbeats=(1000, 0)) as client:
            assert client.heartbeat == (2000, 0)
            await asyncio.sleep(16.05)
            assert server.heartbeats == 10  # every 1.6 s
            assert client.state is ClientState.CONNECTED

    run(main)


def test_heartbeats_received_are_counted_and_silence_is_a_lost_connection() -> None:
    async def main() -> None:
        first = ScriptedServer(heart_beat=(1000, 0))
        second = ScriptedServer(heart_beat=(0, 0))
        client = memory_client(servers(first, second), heartbeats=(0, 1000), reconnect=NO_JITTER)
        changes = client.state_changes()
        async with client:
            await asyncio.sleep(5.5)
            assert client.heartbeats_received >= 5
            old = client._link
            first.heartbeating = False  # the broker hangs
            await wait_until(lambda: client._link is not old, 30)
            await wait_until(lambda: client.state is ClientState.CONNECTED, 30)
            # Dead after interval x (1 + tolerance) (1 s x 2.5 by default) of silence.
            assert first.lost_at is not None
            assert first.last_write is not None
            assert first.lost_at - first.last_write == pytest.approx(2.5)
        lost = [c for c in collect(changes) if c.state is ClientState.RECONNECTING]
        assert isinstance(lost[0].error, ConnectionLost)
        assert "heart-beat" in str(lost[0].error)

    run(main)


def collect(observer: object) -> list[StateChange]:
    """Everything an observer buffered (it ends after CLOSED)."""
    changes = list(getattr(observer, "_backlog"))  # noqa: B009 - test peek
    return changes


def test_our_heartbeats_keep_flowing_while_idle_for_long() -> None:
    async def main() -> None:
        server = ScriptedServer(heart_beat=(10_000, 10_000))
        async with memory_client(servers(server), heartbeats=(10_000, 10_000)) as client:
            await asyncio.sleep(3600)
            assert client.state is ClientState.CONNECTED
            assert server.heartbeats >= 3600 / 10 - 1

    run(main)


def test_disconnect_also_when_the_body_raises_or_is_cancelled() -> None:
    async def raising() -> None:
        server = ScriptedServer()
        with pytest.raises(KeyError):
            async with memory_client(servers(server)):
                raise KeyError("body failed")
        assert server.of(Disconnect)

    async def cancelled() -> None:
        server = ScriptedServer()
        entered = asyncio.Event()

        async def body() -> None:
            async with memory_client(servers(server)):
                entered.set()
                await asyncio.sleep(3600)

        task = asyncio.create_task(body())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert server.of(Disconnect)
        assert server.lost.is_set() or await asyncio.wait_for(server.lost.wait(), 5)

    run(raising)
    run(cancelled)


def test_disconnect_wait_is_bounded_by_the_core_timer() -> None:
    async def main() -> None:
        server = ScriptedServer(auto_receipt=False)
        client = memory_client(servers(server), disconnect_timeout=3.0)
        loop = asyncio.get_running_loop()
        async with client:
            pass_start = loop.time()
        assert 3.0 <= loop.time() - pass_start < 3.1
        assert server.of(Disconnect)
        assert client.state is ClientState.CLOSED

    run(main)


def test_no_task_outlives_the_client() -> None:
    # run() itself fails if any task is left; this checks the supervisor explicitly too.
    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server))
        async with client:
            supervisor = client._supervisor
            assert supervisor is not None
            assert not supervisor.done()
        assert supervisor.done()
        assert client._link is not None
        assert client._link.transport is not None
        assert client._link.transport.is_closing()

    run(main)


def test_reconnect_replays_subscriptions_and_iterators_carry_on() -> None:
    async def main() -> None:
        first, second = ScriptedServer(), ScriptedServer()
        client = memory_client(servers(first, second), reconnect=NO_JITTER)
        changes = client.state_changes()
        async with client, client.subscribe("/queue/a", ack="client", headers={"x": "1"}) as sub:
            subscribe = await first.next(Subscribe)
            first.send(Message(destination="/queue/a", message_id="m1", subscription=sub.id))
            old = await sub.get(5)
            first.drop()
            replayed = await second.next(Subscribe)
            assert (replayed.id, replayed.destination, replayed.ack) == (
                subscribe.id,
                "/queue/a",
                "client",
            )
            assert replayed.get("x") == "1"
            assert replayed.receipt is None
            second.send(Message(destination="/queue/a", message_id="m2", subscription=sub.id))
            new = await sub.get(5)
            assert new.message_id == "m2"
            assert new.generation == old.generation + 1
            with pytest.raises(ConnectionLost, match="earlier connection"):
                await old.ack()  # conformance 98: its ack id is void now
            await new.ack()
        states = [c.state for c in collect(changes)]
        assert states == [
            ClientState.CONNECTING,
            ClientState.CONNECTED,
            ClientState.RECONNECTING,
            ClientState.RECONNECTING,
            ClientState.CONNECTED,
            ClientState.DISCONNECTING,
            ClientState.CLOSED,
        ]

    run(main)


def test_loss_fails_pending_receipts_and_open_transactions() -> None:
    async def main() -> None:
        first = ScriptedServer(auto_receipt=False)
        second = ScriptedServer()
        client = memory_client(servers(first, second), reconnect=NO_JITTER)
        async with client:
            tx = client.transaction()
            await tx.begin()
            await first.next(Begin)
            pending = asyncio.create_task(client.send("/queue/a", "x", receipt=True))
            await first.next(Send)
            first.drop()
            with pytest.raises(ConnectionLost):
                await pending
            with pytest.raises(ConnectionLost):
                await tx.send("/queue/a", "y")
            with pytest.raises(ConnectionLost):
                await tx.commit()
            # The transaction is not replayed (conformance 100); the client works again.
            await client.send("/queue/a", "after", receipt=True)
        assert not second.of(Begin)
        assert [s.body for s in second.of(Send)] == [b"after"]

    run(main)


def test_sends_wait_for_a_reconnect_in_progress() -> None:
    async def main() -> None:
        first, second = ScriptedServer(), ScriptedServer()
        # Two refusals before the second server answers: waits of 0.1 and 0.15 s.
        client = memory_client(
            servers(first, OSError("down"), OSError("down"), second), reconnect=NO_JITTER
        )
        async with client:
            first.drop()
            await asyncio.sleep(0)
            await client.send("/queue/a", "queued during the outage", receipt=True)
            assert second.of(Send)

    run(main)


def test_backoff_waits_follow_the_policy_over_the_host_list() -> None:
    async def main() -> None:
        first = ScriptedServer()
        policy = ReconnectPolicy(initial=1.0, increase=1.0, jitter=0.0, maximum=3.0)
        down = [OSError("down")] * 7
        client = memory_client(
            servers(first, *down, ScriptedServer()),
            ["stomp://a:1", "stomp://b:2"],
            reconnect=policy,
        )
        async with client:
            lost_at = asyncio.get_running_loop().time()
            first.drop()
            await wait_until(
                lambda: client.state is ClientState.CONNECTED and len(client.dials) == 9, 60
            )
        times = [round(t - lost_at, 3) for _, t in client.dials[1:]]
        hosts = [str(e) for e, _ in client.dials[1:]]
        # Rounds over a, b; waits of 1, 2 and 3 (the cap) seconds between the rounds.
        assert hosts == ["a:1", "b:2"] * 4
        assert times == [0.0, 0.0, 1.0, 1.0, 3.0, 3.0, 6.0, 6.0]

    run(main)


def test_reconnect_gives_up_after_the_attempt_budget() -> None:
    async def main() -> None:
        first = ScriptedServer()
        client = memory_client(servers(first), reconnect=ReconnectPolicy(attempts_max=3))

        async def body() -> None:
            async with client:
                first.drop()
                await asyncio.sleep(3600)  # cancelled by the client when it gives up

        with pytest.raises(ConnectionLost, match="reconnecting failed"):
            await body()
        assert len(client.dials) == 1 + 3
        assert client.state is ClientState.CLOSED

    run(main)


def test_without_reconnect_a_loss_ends_the_block_and_iterators() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server), reconnect=None)
        consumers: list[asyncio.Task[None]] = []

        async def consume() -> None:
            async with client.subscribe("/queue/a") as sub:
                async for _ in sub:
                    pass

        async def body() -> None:
            async with client:
                consumers.append(asyncio.create_task(consume()))
                await server.next(Subscribe)
                server.drop()
                await asyncio.sleep(3600)  # cancelled by the client

        with pytest.raises(ConnectionLost):
            await body()
        with pytest.raises(ConnectionLost):
            await consumers[0]  # the iterator raised the same error

    run(main)


def test_protocol_violation_reconnects_like_a_lost_connection() -> None:
    # Decision shared with stomp_trio: a malformed frame is treated as a connection
    # loss (reconnect with backoff when reconnection is on); only ERROR is final.
    async def main() -> None:
        first, second = ScriptedServer(), ScriptedServer()
        client = memory_client(servers(first, second), reconnect=NO_JITTER)
        changes = client.state_changes()
        async with client, client.subscribe("/queue/a") as sub:
            await first.next(Subscribe)
            assert first.transport is not None
            first.transport.write(b"NONSENSE\n\n\x00")
            replayed = await second.next(Subscribe)
            assert replayed.id == sub.id
            await wait_until(lambda: client.state is ClientState.CONNECTED)
        assert len(client.dials) == 2
        [lost] = [c for c in collect(changes) if c.state is ClientState.RECONNECTING][:1]
        assert isinstance(lost.error, ProtocolViolation)
        assert lost.error.error.message  # the core's RemoteProtocolError, wrapped

    run(main)


def test_protocol_violation_without_reconnect_ends_the_block() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server, ScriptedServer()), reconnect=None)

        async def body() -> None:
            async with client:
                assert server.transport is not None
                server.transport.write(b"NONSENSE\n\n\x00")
                await asyncio.sleep(3600)

        with pytest.raises(ProtocolViolation):
            await body()
        assert len(client.dials) == 1

    run(main)


def test_broker_error_is_never_retried() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server, ScriptedServer()), reconnect=NO_JITTER)

        async def body() -> None:
            async with client:
                server.send(Error(message="shutting down"))
                await asyncio.sleep(3600)

        with pytest.raises(BrokerError, match="shutting down"):
            await body()
        assert len(client.dials) == 1
        assert client.state is ClientState.CLOSED

    run(main)


def test_retry_first_connect() -> None:
    async def main() -> None:
        policy = ReconnectPolicy(jitter=0.0, retry_first_connect=True)
        client = memory_client(
            servers(OSError("a"), OSError("b"), ScriptedServer()), reconnect=policy
        )
        changes = client.state_changes()
        async with client:
            assert len(client.dials) == 3
        failures = [c for c in collect(changes) if c.error is not None]
        assert [c.attempt for c in failures] == [1, 2]

    run(main)


def test_state_changes_end_after_closed() -> None:
    async def main() -> None:
        client = memory_client(factory())
        seen: list[ClientState] = []
        changes = client.state_changes()

        async def watch() -> None:
            async for change in changes:
                seen.append(change.state)

        watcher = asyncio.create_task(watch())
        async with client:
            await asyncio.sleep(0)
        await asyncio.wait_for(watcher, 5)
        assert seen == [
            ClientState.CONNECTING,
            ClientState.CONNECTED,
            ClientState.DISCONNECTING,
            ClientState.CLOSED,
        ]
        late = [c async for c in client.state_changes()]
        assert late == []

    run(main)

"""stomp_asyncio against the embedded broker over in-memory transports, on the virtual
clock: long, timing-heavy scenarios (an hour of heart-beats, a broker that restarts and
refuses for a while, slow consumers) that finish in milliseconds with exact timings."""

from __future__ import annotations

import asyncio

import pytest
from asyncio_harness import memory_client, run, wait_until

from stomp_asyncio import ClientState, ReconnectPolicy
from stomp_broker import Broker, FaultRule, Faults
from stomp_core.client import Endpoint


def broker_dialer(broker: Broker, refusing: list[bool]) -> object:
    """Dial ``broker`` in memory; refuse while ``refusing[0]`` is true."""

    async def dial(endpoint: Endpoint) -> asyncio.Protocol:
        if refusing[0]:
            raise ConnectionRefusedError(f"{endpoint} refuses")
        return broker.protocol()

    return dial


def test_an_hour_of_heartbeats_with_the_broker() -> None:
    async def main() -> None:
        broker = Broker(heart_beat=(5_000, 5_000))
        client = memory_client(broker_dialer(broker, [False]), heartbeats=(5_000, 5_000))
        async with client:
            assert client.heartbeat == (5_000, 5_000)
            link = client._link
            await asyncio.sleep(3600)
            assert client._link is link  # never presumed dead
            # The broker heart-beats every 5 s less its own send margin.
            assert client.heartbeats_received >= 3600 // 5
            await client.send("/queue/alive", "still here", receipt=True)
        await broker.aclose()

    run(main)


def test_broker_restart_with_a_refusing_period_and_replay() -> None:
    async def main() -> None:
        refusing = [False]
        # The first connection is closed by the broker after CONNECTED and one RECEIPT.
        broker = Broker(fault_rules=[FaultRule(faults=Faults(close_after_frames=2), index=1)])
        policy = ReconnectPolicy(initial=1.0, increase=1.0, maximum=8.0, jitter=0.0)
        client = memory_client(broker_dialer(broker, refusing), reconnect=policy)
        loop = asyncio.get_running_loop()
        async with client, client.subscribe("/topic/news", receipt=True) as sub:
            refusing[0] = True  # the broker is down for a while...
            lost_at = loop.time()
            await wait_until(lambda: client.state is ClientState.RECONNECTING)
            await asyncio.sleep(20)
            refusing[0] = False  # ...and back
            await wait_until(lambda: client.state is ClientState.CONNECTED, 60)
            # Waits of 1, 2, 4, 8, 8 s: the dial after the 20 s outage is at 23 s.
            assert loop.time() - lost_at == pytest.approx(23.0, abs=0.01)
            await client.send("/topic/news", "after the restart", receipt=True)
            message = await sub.get(5)
            assert message.text == "after the restart"
        await broker.aclose()

    run(main)


def test_slow_consumer_gets_everything_in_order_with_bounded_buffers() -> None:
    async def main() -> None:
        broker = Broker()
        client = memory_client(
            broker_dialer(broker, [False]), subscription_buffer=3, heartbeats=(1000, 1000)
        )
        async with client, client.subscribe("/queue/work", ack="client-individual") as sub:
            for i in range(50):
                await client.send("/queue/work", f"job {i}")
            # No receipt here: with the buffer full, a RECEIPT would wait behind the
            # queued MESSAGE frames (one TCP stream), as the README says.
            await client.send("/queue/work", "last")
            seen = []
            for _ in range(51):
                message = await sub.get(10)
                assert sub.buffered <= 3
                await asyncio.sleep(2)  # slow: 100 s in all, past any heart-beat tolerance
                await message.ack()
                seen.append(message.text)
            assert seen == [f"job {i}" for i in range(50)] + ["last"]
            assert client.state is ClientState.CONNECTED
        await broker.aclose()

    run(main)

"""stomp_asyncio over WebSocket (``ws://``, ``wss://``, ``(host, port)`` with ``ws_path``):
the embedded broker's WebSocket port, with its fault switches, and RabbitMQ Web-STOMP.

Real sockets on 127.0.0.1 on a real loop; every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from asyncio_harness import run

import stomp_asyncio
from stomp_asyncio import ClientState, ConnectFailed, ConnectionLost, ReconnectPolicy
from stomp_broker import Broker, FaultRule, Faults

FAST = ReconnectPolicy(initial=0.02, increase=0.5, jitter=0.0, maximum=0.2)
CERTS = Path("/var/lib/stomp-test-certs")
#: Every octet, NULs included: a body only content-length can frame, sent as a binary
#: WebSocket message (it is not UTF-8).
BINARY = bytes(range(256)) + b"\x00\x00end"
RABBITMQ_WS = os.environ.get("RABBITMQ_WS_URL", "ws://127.0.0.1:15674/ws")
BrokerFactory = Callable[..., Broker]


def real(main: Callable[[], object]) -> None:
    run(main, virtual=False)  # type: ignore[arg-type]


def ws_url(broker: Broker, scheme: str = "ws", host: str = "127.0.0.1") -> str:
    assert broker.ws_port is not None
    return f"{scheme}://{host}:{broker.ws_port}/stomp"


def first_connection(**faults: object) -> FaultRule:
    return FaultRule(faults=Faults(**faults), index=1)  # type: ignore[arg-type]


async def next_state(changes: stomp_asyncio.StateChanges, state: ClientState) -> object:
    async def find() -> object:
        async for change in changes:
            if change.state is state:
                return change
        raise AssertionError(f"no change to {state}")  # pragma: no cover

    return await asyncio.wait_for(find(), 10)


def test_round_trip_with_binary_bodies(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        async with async_broker(ws_port=0) as broker:
            client = stomp_asyncio.open_connection(ws_url(broker))
            async with client, client.subscribe("/queue/ws-bin", receipt=True) as sub:
                assert client.version == "1.2"
                await client.send("/queue/ws-bin", BINARY, receipt=True)
                await client.send("/queue/ws-bin", "text über WebSocket", receipt=True)
                assert (await sub.get(5)).body == BINARY
                assert (await sub.get(5)).text == "text über WebSocket"

    real(main)


def test_host_port_pair_with_ws_path(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        async with async_broker(ws_port=0) as broker:
            pair = [("127.0.0.1", broker.ws_port)]
            async with stomp_asyncio.open_connection(pair, ws_path="/ws") as client:
                await client.send("/queue/ws-pair", b"\x00", receipt=True)
            assert broker.queue_depth("/queue/ws-pair") == 1
            # Without ws_path the pair speaks plain STOMP, which the WebSocket port refuses.
            with pytest.raises(ConnectFailed):
                async with stomp_asyncio.open_connection(pair, reconnect=None, connect_timeout=2.0):
                    pass  # pragma: no cover

    real(main)


def test_heartbeats_flow_both_ways(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        async with async_broker(ws_port=0) as broker:
            client = stomp_asyncio.open_connection(ws_url(broker), heartbeats=(100, 100))
            async with client, client.subscribe("/queue/ws-hb", receipt=True) as sub:
                # Ten intervals of silence on both sides: only heart-beats keep it alive.
                await asyncio.sleep(1.0)
                await client.send("/queue/ws-hb", "still here", receipt=True)
                message = await sub.get(5)
                assert message.generation == 1  # never reconnected

    real(main)


def test_silent_broker_is_declared_dead_and_the_client_reconnects(
    async_broker: BrokerFactory,
) -> None:
    async def main() -> None:
        rule = first_connection(stop_heartbeats=True)
        async with async_broker(ws_port=0, fault_rules=[rule]) as broker:
            client = stomp_asyncio.open_connection(
                ws_url(broker), heartbeats=(100, 100), reconnect=FAST
            )
            changes = client.state_changes()
            async with client:
                lost = await next_state(changes, ClientState.RECONNECTING)
                assert isinstance(lost.error, ConnectionLost)  # type: ignore[attr-defined]
                await client.send("/queue/ws-dead", "after", receipt=True)

    real(main)


def test_dropped_connection_reconnects_and_replays(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        # Connection 1 closes after CONNECTED and the SUBSCRIBE's RECEIPT.
        rule = first_connection(close_after_frames=2)
        async with async_broker(ws_port=0, fault_rules=[rule]) as broker:
            client = stomp_asyncio.open_connection(ws_url(broker), reconnect=FAST)
            changes = client.state_changes()
            async with client, client.subscribe("/topic/ws-live", receipt=True) as sub:
                await next_state(changes, ClientState.RECONNECTING)
                await next_state(changes, ClientState.CONNECTED)
                await client.send("/topic/ws-live", BINARY, receipt=True)
                message = await sub.get(5)
                assert message.body == BINARY
                assert message.generation == 2

    real(main)


def test_wss_with_verification(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(CERTS / "broker.pem", CERTS / "broker.key")
        trusting = ssl.create_default_context(cafile=str(CERTS / "ca.pem"))
        async with async_broker(ws_port=0, ssl=server) as broker:
            url = ws_url(broker, "wss", "localhost")
            client = stomp_asyncio.open_connection(url, ssl=trusting)
            async with client, client.subscribe("/queue/wss", receipt=True) as sub:
                await client.send("/queue/wss", BINARY, receipt=True)
                assert (await sub.get(5)).body == BINARY
            # The system CAs do not know the test CA: refused.
            with pytest.raises(ConnectFailed):
                async with stomp_asyncio.open_connection(url, reconnect=None):
                    pass  # pragma: no cover

    real(main)


def _rabbitmq_web_stomp() -> bool:
    host, _, port = RABBITMQ_WS.removeprefix("ws://").partition("/")[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _rabbitmq_web_stomp(), reason="RabbitMQ Web-STOMP is not running")
def test_rabbitmq_web_stomp() -> None:
    async def main() -> None:
        queue = f"/queue/asyncio-ws-{uuid.uuid4().hex[:12]}"
        # NULs inside a UTF-8 body: RabbitMQ answers in text messages (web_stomp.ws_frame).
        body = "nul\x00inside\x00über".encode()
        client = stomp_asyncio.open_connection(
            RABBITMQ_WS, login="guest", passcode="guest", heartbeats=(200, 200)
        )
        async with client, client.subscribe(queue, ack="client-individual", receipt=True) as sub:
            assert client.version == "1.2"
            await asyncio.sleep(1.0)  # five heart-beat intervals of silence
            await client.send(queue, body, receipt=True)
            message = await sub.get(5)
            assert message.body == body
            assert message.generation == 1
            await message.ack(receipt=True)

    real(main)

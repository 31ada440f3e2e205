"""stomp_trio over WebSocket (``ws://``, ``wss://``, ``(host, port)`` with ``ws_path``):
the embedded broker's WebSocket port, with its fault switches, and RabbitMQ Web-STOMP.

Real sockets on 127.0.0.1; every wait is bounded by ``trio.fail_after``.
"""

from __future__ import annotations

import os
import socket
import ssl
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

import stomp_trio
from stomp_broker import FaultRule, Faults, RunningBroker

pytestmark = pytest.mark.trio

WAIT = 10.0
FAST = stomp_trio.ReconnectPolicy(initial=0.05, increase=0.0, jitter=0.0)
CERTS = Path("/var/lib/stomp-test-certs")
#: Every octet, NULs included: a body only content-length can frame, sent as a binary
#: WebSocket message (it is not UTF-8).
BINARY = bytes(range(256)) + b"\x00\x00end"
RABBITMQ_WS = os.environ.get("RABBITMQ_WS_URL", "ws://127.0.0.1:15674/ws")


def ws_url(broker: RunningBroker, scheme: str = "ws", host: str = "127.0.0.1") -> str:
    port = broker.broker.ws_port
    assert port is not None
    return f"{scheme}://{host}:{port}/stomp"


async def test_round_trip_with_binary_bodies(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(ws_port=0)
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(ws_url(broker)) as client,
            client.subscribe("/queue/ws-bin", receipt=True) as sub,
        ):
            assert client.version == "1.2"
            await client.send("/queue/ws-bin", BINARY, receipt=True)
            await client.send("/queue/ws-bin", "text über WebSocket", receipt=True)
            assert (await sub.get()).body == BINARY
            assert (await sub.get()).text == "text über WebSocket"


async def test_host_port_pair_with_ws_path(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(ws_port=0)
    port = broker.broker.ws_port
    assert port is not None
    with trio.fail_after(WAIT):
        async with stomp_trio.open_connection([("127.0.0.1", port)], ws_path="/ws") as client:
            await client.send("/queue/ws-pair", b"\x00", receipt=True)
    assert await trio.to_thread.run_sync(broker.queue_depth, "/queue/ws-pair") == 1
    # Without ws_path the same pair speaks plain STOMP, which the WebSocket port refuses.
    with pytest.raises(stomp_trio.ConnectFailed):
        async with stomp_trio.open_connection(
            [("127.0.0.1", port)], reconnect=None, connect_timeout=2.0
        ):
            pass  # pragma: no cover


async def test_heartbeats_flow_both_ways(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(ws_port=0)
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(ws_url(broker), heartbeats=(100, 100)) as client,
            client.subscribe("/queue/ws-hb", receipt=True) as sub,
        ):
            # Ten intervals of silence on both sides: only heart-beats keep it alive.
            await trio.sleep(1.0)
            await client.send("/queue/ws-hb", "still here", receipt=True)
            message = await sub.get()
            assert message.generation == 1  # never reconnected


async def test_silent_broker_is_declared_dead_and_the_client_reconnects(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(
        ws_port=0, fault_rules=[FaultRule(faults=Faults(stop_heartbeats=True), index=1)]
    )
    with trio.fail_after(WAIT):
        async with stomp_trio.open_connection(
            ws_url(broker), heartbeats=(100, 100), reconnect=FAST
        ) as client:
            async with client.state_changes() as changes:
                # Observed from CONNECTED on: the death takes ten 100 ms intervals.
                async for change in changes:
                    if change.state is stomp_trio.ClientState.RECONNECTING:
                        assert isinstance(change.error, stomp_trio.ConnectionLost)
                        break
            await client.send("/queue/ws-dead", "after", receipt=True)


async def test_dropped_connection_reconnects_and_replays(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    # Connection 1 closes after CONNECTED and the SUBSCRIBE's RECEIPT.
    broker = broker_factory(
        ws_port=0, fault_rules=[FaultRule(faults=Faults(close_after_frames=2), index=1)]
    )
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(ws_url(broker), reconnect=FAST) as client,
            client.state_changes() as changes,
            client.subscribe("/topic/ws-live", receipt=True) as sub,
        ):
            async for change in changes:
                if change.state is stomp_trio.ClientState.CONNECTED:
                    break
            await client.send("/topic/ws-live", BINARY, receipt=True)
            message = await sub.get()
            assert message.body == BINARY
            assert message.generation == 2


async def test_wss_with_verification(broker_factory: Callable[..., RunningBroker]) -> None:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(CERTS / "broker.pem", CERTS / "broker.key")
    broker = broker_factory(ws_port=0, ssl=server)
    trusting = ssl.create_default_context(cafile=str(CERTS / "ca.pem"))
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(ws_url(broker, "wss", "localhost"), ssl=trusting) as client,
            client.subscribe("/queue/wss", receipt=True) as sub,
        ):
            assert isinstance(client._link.stream, stomp_trio._transport.WebSocketStream)  # type: ignore[union-attr]
            await client.send("/queue/wss", BINARY, receipt=True)
            assert (await sub.get()).body == BINARY
        # The system CAs do not know the test CA: refused.
        with pytest.raises(stomp_trio.ConnectFailed):
            async with stomp_trio.open_connection(
                ws_url(broker, "wss", "localhost"), reconnect=None
            ):
                pass  # pragma: no cover


def _rabbitmq_web_stomp() -> bool:
    host, _, port = RABBITMQ_WS.removeprefix("ws://").partition("/")[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _rabbitmq_web_stomp(), reason="RabbitMQ Web-STOMP is not running")
async def test_rabbitmq_web_stomp() -> None:
    queue = f"/queue/trio-ws-{uuid.uuid4().hex[:12]}"
    # NULs inside a UTF-8 body: RabbitMQ answers in text messages (web_stomp.ws_frame).
    body = "nul\x00inside\x00über".encode()
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(
                RABBITMQ_WS, login="guest", passcode="guest", heartbeats=(200, 200)
            ) as client,
            client.subscribe(queue, ack="client-individual", receipt=True) as sub,
        ):
            assert client.version == "1.2"
            await trio.sleep(1.0)  # five heart-beat intervals of silence
            await client.send(queue, body, receipt=True)
            message = await sub.get()
            assert message.body == body
            assert message.generation == 1
            await message.ack(receipt=True)

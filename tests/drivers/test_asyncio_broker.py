"""stomp_asyncio over real TCP on 127.0.0.1: the embedded broker (including its fault
switches), refused ports, failover and TLS with verification on by default.

These run on a normal event loop in real time; intervals are short and every wait has a
generous deadline."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from asyncio_harness import run, wait_until

import stomp_asyncio
from stomp_asyncio import (
    BrokerError,
    ClientState,
    ConnectFailed,
    ConnectionLost,
    ProtocolViolation,
    ReceiptTimeout,
    ReconnectPolicy,
    StateChange,
)
from stomp_broker import Broker, FaultRule, Faults

ROOT = Path(__file__).resolve().parents[2]
FAST = ReconnectPolicy(initial=0.02, increase=0.5, jitter=0.0, maximum=0.2)
BrokerFactory = Callable[..., Broker]


def real(main: Callable[[], object]) -> None:
    """Run on a real loop (sockets need real time)."""
    run(main, virtual=False)  # type: ignore[arg-type]


def first_connection(**faults: object) -> FaultRule:
    """Faults for the broker's first connection only (reconnections behave)."""
    return FaultRule(faults=Faults(**faults), index=1)  # type: ignore[arg-type]


def causes(error: BaseException) -> list[BaseException]:
    """``error`` and its chain of causes."""
    chain = [error]
    while chain[-1].__cause__ is not None:
        chain.append(chain[-1].__cause__)  # type: ignore[arg-type]
    return chain


def url(broker: Broker, scheme: str = "stomp") -> str:
    return f"{scheme}://{broker.host}:{broker.port}"


def free_port() -> int:
    """A port nothing listens on (bound then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_round_trip_per_version(async_broker: BrokerFactory, version: str) -> None:
    async def main() -> None:
        async with (
            async_broker() as broker,
            stomp_asyncio.open_connection(url(broker), versions=(version,)) as client,
        ):
            assert client.version == version
            assert (client.server or "").startswith("stomp_broker")
            ack = "client" if version == "1.0" else "client-individual"
            async with client.subscribe("/queue/rt", ack=ack, receipt=version != "1.0") as sub:
                await client.send("/queue/rt", "hello", receipt=True)
                await client.send("/queue/rt", b"\x00binary\x00", content_type="app/bin")
                first = await sub.get(5)
                second = await sub.get(5)
                assert first.text == "hello"
                assert second.body == b"\x00binary\x00"
                await first.ack()
                await second.ack()
                async with client.transaction() as tx:
                    await tx.send("/queue/rt", "in tx")
                    await client.send("/queue/rt", "outside", receipt=True)
                    assert (await sub.get(5)).text == "outside"
                assert (await sub.get(5)).text == "in tx"
        await broker.wait_connections(0, 5)

    real(main)


def test_nack_redelivers(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        async with (
            async_broker() as broker,
            stomp_asyncio.open_connection(url(broker)) as client,
            client.subscribe("/queue/n", ack="client-individual", receipt=True) as sub,
        ):
            await client.send("/queue/n", "again", receipt=True)
            message = await sub.get(5)
            await message.nack()
            again = await sub.get(5)
            assert again.text == "again"
            assert again.headers.get("redelivered") == "true"
            await again.ack(receipt=True)

    real(main)


def test_broker_drops_connection_client_reconnects_and_replays(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        # Connection 1 closes after CONNECTED and the SUBSCRIBE's RECEIPT.
        async with async_broker(fault_rules=[first_connection(close_after_frames=2)]) as broker:
            client = stomp_asyncio.open_connection(url(broker), reconnect=FAST)
            async with client, client.subscribe("/topic/live", receipt=True) as sub:
                first_link = client._link
                await wait_until(lambda: client._link is not first_link, 10)
                await wait_until(lambda: client.state is ClientState.CONNECTED, 10)
                # A RECEIPT is a cumulative acknowledgement (conformance 90): once it is
                # back, the replayed SUBSCRIBE was processed before the SEND.
                await client.send("/topic/live", "after", receipt=True)
                message = await sub.get(5)
                assert message.text == "after"
                assert message.generation == 2

    real(main)


def test_mid_frame_close_is_a_lost_connection_not_a_violation(
    async_broker: BrokerFactory,
) -> None:
    async def main() -> None:
        rule = first_connection(close_after_frames=1, close_mid_frame=True)
        async with async_broker(fault_rules=[rule]) as broker:
            client = stomp_asyncio.open_connection(url(broker), reconnect=FAST)
            async with client:
                link = client._link
                assert link is not None
                with pytest.raises(ConnectionLost):
                    await client.send("/queue/x", "x", receipt=True)  # its RECEIPT is cut
                await wait_until(lambda: link.closed.done(), 10)
                assert isinstance(link.reason, ConnectionLost)
                assert "mid-frame" in str(link.reason)
                await wait_until(lambda: client.state is ClientState.CONNECTED, 10)
                await client.send("/queue/x", "y", receipt=True)

    real(main)


def test_stopped_heartbeats_are_detected(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        async with async_broker(heart_beat=(50, 50)) as broker:
            client = stomp_asyncio.open_connection(url(broker), heartbeats=(50, 50), reconnect=FAST)
            async with client:
                assert client.heartbeat == (50, 50)
                await wait_until(lambda: client.heartbeats_received >= 3, 10)
                link = client._link
                broker.faults.stop_heartbeats = True
                await wait_until(lambda: link is not None and link.closed.done(), 10)
                assert link is not None
                assert "heart-beat" in str(link.reason)
                broker.faults.stop_heartbeats = False
                await wait_until(lambda: client.state is ClientState.CONNECTED, 10)
                await client.send("/queue/hb", "alive", receipt=True)

    real(main)


def test_connect_error_fault_is_a_refusal(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        async with async_broker(faults=Faults(connect_error="go away")) as broker:
            with pytest.raises(ConnectFailed, match="go away") as info:
                async with stomp_asyncio.open_connection(url(broker)):
                    pass
            assert info.value.refused

    real(main)


def test_wrong_login_is_a_refusal(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        async with async_broker(users={"alice": "right"}) as broker:
            with pytest.raises(ConnectFailed) as info:
                async with stomp_asyncio.open_connection(
                    url(broker), login="alice", passcode="hunter2"
                ):
                    pass
            assert info.value.refused
            assert "hunter2" not in str(info.value)
            async with stomp_asyncio.open_connection(
                url(broker), login="alice", passcode="right"
            ) as client:
                assert client.state is ClientState.CONNECTED

    real(main)


def test_malformed_frame_is_a_protocol_violation_and_reconnects(
    async_broker: BrokerFactory,
) -> None:
    # As stomp_trio: a protocol violation is treated like a lost connection.
    async def main() -> None:
        rule = first_connection(send_malformed_after=2)  # after the SEND's RECEIPT
        async with async_broker(fault_rules=[rule]) as broker:
            client = stomp_asyncio.open_connection(url(broker), reconnect=FAST)
            changes = client.state_changes()

            async def reconnected() -> StateChange:
                lost: StateChange | None = None
                async for change in changes:
                    if change.state is ClientState.RECONNECTING and lost is None:
                        lost = change
                    elif change.state is ClientState.CONNECTED and lost is not None:
                        return lost
                raise AssertionError("the client did not reconnect")

            async with client:
                watcher = asyncio.get_running_loop().create_task(reconnected())
                await client.send("/queue/m", "x", receipt=True)
                lost = await asyncio.wait_for(watcher, 10)
                assert isinstance(lost.error, ProtocolViolation)
                await client.send("/queue/m", "y", receipt=True)  # the new session works

    real(main)


def test_dropped_receipt_times_out(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        faults = Faults(drop_frames=frozenset({"RECEIPT"}))
        async with (
            async_broker(faults=faults) as broker,
            stomp_asyncio.open_connection(
                url(broker), receipt_timeout=0.2, disconnect_timeout=0.3
            ) as client,
        ):
            with pytest.raises(ReceiptTimeout):
                await client.send("/queue/r", "x", receipt=True)
        assert client.state is ClientState.CLOSED  # the DISCONNECT receipt was dropped too

    real(main)


def test_broker_error_ends_the_block(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        async with async_broker(max_queue_messages=1) as broker:
            client = stomp_asyncio.open_connection(url(broker))

            async def body() -> None:
                async with client:
                    await client.send("/queue/full", "1", receipt=True)
                    await client.send("/queue/full", "2", receipt=True)

            with pytest.raises(BrokerError):
                await body()

    real(main)


def test_refused_port_and_failover(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        dead = free_port()
        with pytest.raises(ConnectFailed, match="could not connect"):
            async with stomp_asyncio.open_connection(f"stomp://127.0.0.1:{dead}"):
                pass
        async with (
            async_broker() as broker,
            stomp_asyncio.open_connection([("127.0.0.1", dead), (broker.host, broker.port)]) as c,
        ):
            assert c.endpoint is not None
            assert c.endpoint.port == broker.port

    real(main)


def test_reconnects_after_the_broker_refused_for_a_while(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        async with async_broker(fault_rules=[first_connection(close_after_received=2)]) as broker:
            client = stomp_asyncio.open_connection(url(broker), reconnect=FAST)
            changes = client.state_changes()
            async with client:
                await broker.refuse_connections(0.3)
                with pytest.raises(ConnectionLost):
                    await client.send("/queue/back", "x", receipt=True)  # frame 2 closes conn. 1
                await wait_until(lambda: client.state is ClientState.CONNECTED, 10)
                await client.send("/queue/back", "x", receipt=True)
            failures = [c for c in changes._backlog if c.error is not None]
            assert any(isinstance(c.error, ConnectFailed) for c in failures)

    real(main)


# ---------------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Throw-away CA and broker certificate (the project's own script)."""
    directory = tmp_path_factory.mktemp("asyncio-certs")
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "brokers" / "make-certs.sh")],
        env={**os.environ, "STOMP_TEST_CERT_DIR": str(directory)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return directory


def server_context(certs: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "broker.pem", certs / "broker.key")
    return context


def test_tls_verifies_by_default(async_broker: BrokerFactory, certs: Path) -> None:
    async def main() -> None:
        async with async_broker(ssl=server_context(certs)) as broker:
            # The system CAs do not know our throw-away CA: refused.
            with pytest.raises(ConnectFailed) as info:
                async with stomp_asyncio.open_connection(url(broker, "stomp+ssl")):
                    pass
            assert any(isinstance(e, ssl.SSLCertVerificationError) for e in causes(info.value))
            # Trusting the CA works, and the host name is checked against the certificate.
            trusting = ssl.create_default_context(cafile=str(certs / "ca.pem"))
            async with stomp_asyncio.open_connection(
                f"stomp://localhost:{broker.port}", ssl=trusting
            ) as client:
                await client.send("/queue/tls", "secret", receipt=True)

    real(main)


def test_tls_against_a_plain_port_fails(async_broker: BrokerFactory) -> None:
    async def main() -> None:
        async with async_broker() as broker:
            with pytest.raises(ConnectFailed):
                async with stomp_asyncio.open_connection(
                    url(broker), ssl=True, connect_timeout=2.0
                ):
                    pass

    real(main)


def test_an_idle_subscription_is_bounded_in_bytes(async_broker: BrokerFactory) -> None:
    # Issue 14.7: a message-count bound alone let 40 large bodies pile up in the client.
    mib = 1024 * 1024
    bound, total = 4 * mib, 40

    async def main() -> None:
        async with (
            async_broker(max_stored_bytes=256 * mib) as broker,
            stomp_asyncio.open_connection(url(broker), subscription_buffer_bytes=bound) as rx,
            stomp_asyncio.open_connection(url(broker)) as tx,
            rx.subscribe("/queue/big", receipt=True) as sub,
        ):
            for i in range(total):
                body = b"%04d" % i + b"x" * (mib - 4)
                await tx.send("/queue/big", body, receipt=i == total - 1)
            backlog = sub._backlog
            await wait_until(lambda: backlog.full, 30)
            assert len(backlog) < total // 2  # the byte bound, not the count, stopped it
            assert backlog.bytes <= bound + mib  # at most the bound plus one message
            assert broker.usage().stored_bytes >= total * mib // 2  # the broker holds the rest
            seen = [(await sub.get(30)).event.body[:4] for _ in range(total)]
            assert seen == [b"%04d" % i for i in range(total)]

    real(main)

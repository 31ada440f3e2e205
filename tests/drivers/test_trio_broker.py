"""stomp_trio against the embedded broker (``stomp_broker``, real sockets on 127.0.0.1),
including its fault switches: a broker that drops the connection, stops heart-beating,
answers ERROR, sends a malformed frame, loses receipts or refuses connections.

Real time here, so intervals are short and every wait is bounded by ``trio.fail_after``.
"""

from __future__ import annotations

import os
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from test_trio_support import Network

import stomp_core as sc
import stomp_trio
from stomp_broker import FaultRule, Faults, RunningBroker

pytestmark = pytest.mark.trio

ROOT = Path(__file__).resolve().parents[2]
WAIT = 10.0
S = stomp_trio.ClientState
FAST = stomp_trio.ReconnectPolicy(initial=0.05, increase=0.0, jitter=0.0)


def url(broker: RunningBroker, scheme: str = "stomp") -> str:
    return f"{scheme}://{broker.host}:{broker.port}"


async def _next_state(changes: stomp_trio.StateChanges, state: S) -> stomp_trio.StateChange:
    with trio.fail_after(WAIT):
        async for change in changes:
            if change.state is state:
                return change
    raise AssertionError(f"no change to {state}")  # pragma: no cover


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
async def test_round_trip_with_acks_per_version(broker: RunningBroker, version: str) -> None:
    ack = "client" if version == "1.0" else "client-individual"
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(url(broker), versions=(version,)) as client,
            client.subscribe("/queue/rt", ack=ack, receipt=True) as sub,
        ):
            assert client.version == version
            for n in range(3):
                await client.send("/queue/rt", f"n{n}", receipt=True)
            texts = []
            async for message in sub:
                texts.append(message.text)
                await message.ack()
                if len(texts) == 3:
                    break
            assert texts == ["n0", "n1", "n2"]
    assert await trio.to_thread.run_sync(broker.queue_depth, "/queue/rt") == 0


async def test_nack_redelivers(broker: RunningBroker) -> None:
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(url(broker)) as client,
            client.subscribe("/queue/nack", ack="client-individual") as sub,
        ):
            await client.send("/queue/nack", b"again", receipt=True)
            first = await sub.get()
            await first.nack(receipt=True)
            second = await sub.get()
            assert second.body == b"again"
            assert second.headers.get("redelivered") == "true"
            await second.ack(receipt=True)


async def test_transactions_commit_and_abort(broker: RunningBroker) -> None:
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(url(broker)) as client,
            client.subscribe("/queue/tx", receipt=True) as sub,
        ):
            async with client.transaction() as tx:
                await tx.send("/queue/tx", b"committed")
                assert sub.buffered == 0
            with pytest.raises(RuntimeError):
                await _aborted(client)
            assert (await sub.get()).body == b"committed"
            await client.send("/queue/tx", b"marker", receipt=True)
            assert (await sub.get()).body == b"marker"  # "aborted" never came


async def _aborted(client: stomp_trio.Client) -> None:
    async with client.transaction() as tx:
        await tx.send("/queue/tx", b"aborted", receipt=True)
        raise RuntimeError("abort it")


async def test_slow_consumer_gets_everything_in_order(broker: RunningBroker) -> None:
    count = 300
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(url(broker), subscription_buffer=4) as client,
            client.subscribe("/queue/slow", receipt=True) as sub,
        ):
            for n in range(count):
                await client.send("/queue/slow", b"x" * 1000 + str(n).encode())
            received = 0
            async for message in sub:
                assert sub.buffered <= sub.capacity
                assert message.body.endswith(str(received).encode())
                received += 1
                if received % 50 == 0:
                    await trio.sleep(0.01)
                if received == count:
                    break


async def test_dropped_connection_reconnects_and_the_iterator_carries_on(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    # The first connection is closed after CONNECTED, the SUBSCRIBE receipt and one message.
    broker = broker_factory(fault_rules=[FaultRule(index=1, faults=Faults(close_after_frames=3))])
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(url(broker), reconnect=FAST) as client,
            client.state_changes() as changes,
            client.subscribe("/queue/drop", receipt=True) as sub,
        ):
            await client.send("/queue/drop", b"one")
            assert (await sub.get()).body == b"one"
            lost = await _next_state(changes, S.RECONNECTING)
            assert isinstance(lost.error, stomp_trio.ConnectionLost)
            await _next_state(changes, S.CONNECTED)
            await client.send("/queue/drop", b"two", receipt=True)
            assert (await sub.get()).body == b"two"


async def test_broker_that_stops_heartbeating_is_left(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(fault_rules=[FaultRule(index=1, faults=Faults(stop_heartbeats=True))])
    # Generous margins (3 intervals of 250 ms) so a loaded machine cannot fail the
    # healthy second connection.
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(
                url(broker), heartbeats=(250, 250), heartbeat_tolerance=3.0, reconnect=FAST
            ) as client,
            client.state_changes() as changes,
        ):
            assert client.heartbeat == (250, 250)
            lost = await _next_state(changes, S.RECONNECTING)
            assert "heart-beat" in str(lost.error)
            await _next_state(changes, S.CONNECTED)
            received = client.heartbeats_received
            await trio.sleep(1.0)  # the second connection beats: it stays up
            assert client.state is S.CONNECTED
            assert client.heartbeats_received > received


async def test_connect_error_is_connect_failed(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(faults=Faults(connect_error="go away"))
    with trio.fail_after(WAIT), pytest.raises(stomp_trio.ConnectFailed) as info:
        async with stomp_trio.open_connection(url(broker)):
            pytest.fail("connected")  # pragma: no cover
    assert "go away" in info.value.message


async def test_wrong_passcode_is_refused(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(users={"alice": "right"})
    with trio.fail_after(WAIT):
        async with stomp_trio.open_connection(url(broker), login="alice", passcode="right"):
            pass
        with pytest.raises(stomp_trio.ConnectFailed) as info:
            async with stomp_trio.open_connection(url(broker), login="alice", passcode="s3cr3t-x"):
                pytest.fail("connected")  # pragma: no cover
    assert "s3cr3t-x" not in str(info.value)


async def test_malformed_frame_is_a_protocol_violation(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(fault_rules=[FaultRule(index=1, faults=Faults(send_malformed_after=1))])
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(url(broker), reconnect=FAST) as client,
            client.state_changes() as changes,
        ):
            lost = await _next_state(changes, S.RECONNECTING)
            assert isinstance(lost.error, stomp_trio.ProtocolViolation)
            await _next_state(changes, S.CONNECTED)


async def test_lost_receipt_times_out(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(faults=Faults(drop_frames=frozenset({"RECEIPT"})))
    with trio.fail_after(WAIT):
        async with stomp_trio.open_connection(
            url(broker), receipt_timeout=0.2, disconnect_timeout=0.2
        ) as client:
            with pytest.raises(stomp_trio.ReceiptTimeout):
                await client.send("/queue/r", b"x", receipt=True)
            assert client.state is S.CONNECTED


async def test_reconnect_waits_while_the_broker_refuses(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(fault_rules=[FaultRule(index=1, faults=Faults(close_after_frames=1))])
    await trio.to_thread.run_sync(broker.refuse_connections, 0.3)
    with trio.fail_after(WAIT), pytest.raises(stomp_trio.ConnectFailed):
        async with stomp_trio.open_connection(url(broker)):
            pytest.fail("connected")  # pragma: no cover
    await trio.to_thread.run_sync(broker.wait_listening, WAIT)
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(url(broker), reconnect=FAST) as client,
            client.state_changes() as changes,
        ):
            # Connection 1 is closed at once; refuse for a while: the backoff rides it out.
            await trio.to_thread.run_sync(broker.refuse_connections, 0.3)
            failed = await _next_state(changes, S.RECONNECTING)
            assert failed.error is not None
            change = await _next_state(changes, S.CONNECTED)
            assert change.endpoint is not None
            await client.send("/queue/x", b"after", receipt=True)


# ------------------------------------------------------------------------------ TLS


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Throw-away CA and broker certificate (the project's own script)."""
    directory = tmp_path_factory.mktemp("trio-certs")
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "brokers" / "make-certs.sh")],
        env={**os.environ, "STOMP_TEST_CERT_DIR": str(directory)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return directory


@pytest.fixture
def tls_broker(
    certs: Path, broker_factory: Callable[..., RunningBroker]
) -> tuple[RunningBroker, Path]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "broker.pem", certs / "broker.key")
    return broker_factory(ssl=context), certs


async def test_tls_with_verification(tls_broker: tuple[RunningBroker, Path]) -> None:
    broker, certs = tls_broker
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    with trio.fail_after(WAIT):
        async with stomp_trio.open_connection(
            f"stomp+ssl://localhost:{broker.port}", ssl=context
        ) as client:
            await client.send("/queue/tls", b"secret", receipt=True)


async def test_tls_verifies_by_default(tls_broker: tuple[RunningBroker, Path]) -> None:
    broker, _certs = tls_broker
    kwargs: dict[str, Any] = {"reconnect": None}
    with trio.fail_after(WAIT), pytest.raises(stomp_trio.ConnectFailed) as info:
        async with stomp_trio.open_connection(f"stomp+ssl://localhost:{broker.port}", **kwargs):
            pytest.fail("connected to an unknown CA")  # pragma: no cover
    cause: BaseException | None = info.value
    while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
        cause = cause.__cause__
    assert isinstance(cause, ssl.SSLCertVerificationError)


async def test_tls_is_layered_on_any_stream(certs: Path) -> None:
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certs / "broker.pem", certs / "broker.key")

    def tls_pair() -> tuple[trio.abc.Stream, trio.abc.Stream]:
        client, server = trio.testing.memory_stream_pair()
        return client, trio.SSLStream(server, server_context, server_side=True)

    network = Network(pair=tls_pair)
    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery:

            async def server() -> None:
                broker = await network.accept()
                await broker.accept()
                send = await broker.expect(sc.Send)
                assert send.body == b"over TLS over memory"
                await broker.reply_receipt(send)
                await broker.finish_disconnect()

            nursery.start_soon(server)
            async with stomp_trio.open_connection(
                "stomp+ssl://localhost:61614",
                ssl=ssl.create_default_context(cafile=str(certs / "ca.pem")),
                stream_factory=network,
                heartbeats=(0, 0),
            ) as client:
                await client.send("/queue/a", b"over TLS over memory", receipt=True)


async def test_error_mid_session_fails_the_send_and_closes(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(faults=Faults(error_on=frozenset({"SEND"})))
    errors: list[stomp_trio.BrokerError] = []

    async def session() -> None:
        async with (
            stomp_trio.open_connection(url(broker), reconnect=FAST) as client,
            client.subscribe("/queue/err", receipt=True) as sub,
        ):
            with pytest.raises(stomp_trio.BrokerError) as info:
                await client.send("/queue/err", b"refused", receipt=True)
            assert info.value.receipt_id is not None
            errors.append(info.value)
            # ERROR ends the session and is never retried: the iterator raises it
            # (as stomp_asyncio's does) ...
            with pytest.raises(stomp_trio.BrokerError) as again:
                await sub.get()
            assert again.value is info.value
            assert client.state is S.CLOSED

    with trio.fail_after(WAIT), pytest.raises(stomp_trio.BrokerError) as outer:
        await session()
    # ... and so does the block, whose body was cancelled.
    assert outer.value is errors[0]


async def test_broker_crash_redelivers_unacked_messages_after_the_reconnect(
    broker: RunningBroker,
) -> None:
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(url(broker), reconnect=FAST) as client,
            client.state_changes() as changes,
            client.subscribe("/queue/crash", ack="client-individual", receipt=True) as sub,
        ):
            await client.send("/queue/crash", b"work", receipt=True)
            first = await sub.get()
            assert await trio.to_thread.run_sync(broker.drop_connections) == 1
            await _next_state(changes, S.RECONNECTING)
            await _next_state(changes, S.CONNECTED)
            assert not first.from_current_connection
            with pytest.raises(stomp_trio.ConnectionLost, match="redelivers"):
                await first.ack()
            again = await sub.get()
            assert again.body == b"work"
            assert again.headers.get("redelivered") == "true"
            await again.ack(receipt=True)


async def test_an_idle_subscription_is_bounded_in_bytes(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    # Issue 14.7: a message-count bound alone let 40 large bodies pile up in the client.
    mib = 1024 * 1024
    bound, total = 4 * mib, 40
    broker = broker_factory(max_stored_bytes=256 * mib)
    with trio.fail_after(30):
        async with (
            stomp_trio.open_connection(url(broker), subscription_buffer_bytes=bound) as rx,
            stomp_trio.open_connection(url(broker)) as tx,
            rx.subscribe("/queue/big", receipt=True) as sub,
        ):
            for i in range(total):
                body = b"%04d" % i + b"x" * (mib - 4)
                await tx.send("/queue/big", body, receipt=i == total - 1)
            backlog = sub._backlog
            while not backlog.full:  # noqa: ASYNC110 - the buffer has no event; fail_after bounds it
                await trio.sleep(0.01)
            assert len(backlog) < total // 2  # the byte bound, not the count, stopped it
            assert backlog.bytes <= bound + mib  # at most the bound plus one message
            usage = await trio.to_thread.run_sync(broker.call, broker.broker.usage)
            assert usage.stored_bytes >= total * mib // 2  # the broker holds the rest
            seen = [(await sub.get()).body[:4] for _ in range(total)]
            assert seen == [b"%04d" % i for i in range(total)]


async def test_a_consumer_of_buffered_messages_is_cancellable_and_lets_others_run(
    broker: RunningBroker,
) -> None:
    """Each step of ``async for`` is a cancellation point; other tasks get turns while a
    consumer takes a full buffer (at least one every ``_CALLS_PER_YIELD`` messages),
    though not one per message (that was a scheduler pass per message)."""
    from stomp_trio._client import _CALLS_PER_YIELD

    count = 8 * _CALLS_PER_YIELD
    turns = 0

    async def other_task() -> None:
        nonlocal turns
        while True:
            turns += 1
            await trio.lowlevel.checkpoint()

    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(url(broker), subscription_buffer=2 * count) as client,
            client.subscribe("/queue/buffered", receipt=True) as sub,
            trio.open_nursery() as nursery,
        ):
            for n in range(count + 1):
                await client.send("/queue/buffered", str(n).encode(), receipt=n == count)
            while sub.buffered < count + 1:  # the broker (another thread) delivers them
                await trio.testing.wait_all_tasks_blocked(cushion=0.01)
            nursery.start_soon(other_task)
            await trio.lowlevel.checkpoint()  # it runs: always runnable from now on
            received: list[bytes] = []
            start = turns
            async for message in sub:  # all buffered: nothing to wait for
                received.append(message.body)
                if len(received) == count:
                    break
            taken_turns = turns - start
            assert count // _CALLS_PER_YIELD - 1 <= taken_turns < count // 2
            with trio.CancelScope() as scope:
                scope.cancel()
                await sub.get()
            assert scope.cancelled_caught  # the last message stays buffered
            assert sub.buffered == 1
            nursery.cancel_scope.cancel()
    assert received == [str(n).encode() for n in range(count)]

"""stomp_trio under a broker that stops reading (issue 14: items 4, 5, 11, 12).

Scripted brokers on lockstep memory streams (a write blocks until the peer reads, so
"the broker stops reading" is exact) under trio's MockClock, except where the fault is
the operating system's (a blocked event loop, a TLS handshake): real loopback sockets.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import trio
import trio.testing
from test_trio_support import FakeBroker, Network, options

import stomp_core as sc
import stomp_trio

pytestmark = pytest.mark.trio


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def _heartbeat_forever(broker: FakeBroker, every: float) -> None:
    try:
        while True:
            await trio.sleep(every)
            await broker.send_raw(b"\n")
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # the client dropped the connection


async def test_a_write_to_a_broker_that_stops_reading_has_one_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Issue 14.5: the broker keeps heart-beating but never reads after CONNECT."""
    network = Network(pair=trio.testing.lockstep_stream_pair)
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept(heart_beat=(500, 0))
            await _heartbeat_forever(broker, 0.5)

        nursery.start_soon(server)
        start = trio.current_time()
        with (
            trio.fail_after(60),
            pytest.raises(stomp_trio.ConnectionLost, match=r"longer than 3 s \(write_timeout\)"),
        ):
            async with stomp_trio.open_connection(
                "stomp://h",
                **options(network, heartbeats=(0, 500), reconnect=None, write_timeout=3),
            ) as client:
                await client.send("/queue/a", b"x" * 100_000)
        assert trio.current_time() - start == pytest.approx(3.0)
        nursery.cancel_scope.cancel()


async def test_a_consumer_can_ack_while_the_broker_is_blocked_writing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Issue 14.4: the broker floods MESSAGEs and reads nothing while its writes block
    (RabbitMQ without a prefetch limit); the client's buffer is full and its consumer's
    ACK blocks on the broker.  The client must read (without delivering) meanwhile."""
    count = 50
    network = Network(pair=trio.testing.lockstep_stream_pair)
    acked: list[str] = []
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            for n in range(count):  # reads nothing until every message is written
                await broker.message(sub, f"m{n}".encode(), message_id=f"m{n}", ack=f"a{n}")
            while len(acked) < count:
                acked.append((await broker.expect(sc.Ack)).id)
            await broker.expect(sc.Unsubscribe)
            await broker.finish_disconnect()

        nursery.start_soon(server)
        with trio.fail_after(60):
            async with (
                stomp_trio.open_connection(
                    "stomp://h", subscription_buffer=2, **options(network)
                ) as client,
                client.subscribe("/queue/a", ack="client-individual") as sub,
            ):
                for _ in range(count):
                    message = await sub.get()
                    await message.ack()
    assert acked == [f"a{n}" for n in range(count)]


class _HeartbeatingBroker:
    """A real loopback broker in a thread: CONNECTED with ``heart-beat:50,0``, then an EOL
    every 10 ms, whatever the client's event loop does."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        with self._listener, self._listener.accept()[0] as conn:
            data = b""
            while b"\x00" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            conn.sendall(b"CONNECTED\nversion:1.2\nheart-beat:50,0\n\n\x00")
            while not self._stop.wait(0.01):
                try:
                    conn.sendall(b"\n")
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


async def test_a_blocked_event_loop_reads_the_waiting_heartbeats_before_deciding() -> None:
    """Issue 14.11: the application blocks the event loop longer than the heart-beat
    tolerance while the broker's heart-beats arrive: they are in the socket, so the
    broker is alive (the core's handle_timer must see those bytes first)."""
    broker = _HeartbeatingBroker()
    try:
        with trio.fail_after(30):
            async with stomp_trio.open_connection(
                f"stomp://127.0.0.1:{broker.port}", heartbeats=(0, 100), reconnect=None
            ) as client:
                assert client.heartbeat == (0, 100)  # dead after 250 ms of silence
                for _ in range(8):
                    # The fault under test, not a wait: the loop is blocked for 0.5 s.
                    time.sleep(0.5)  # noqa: ASYNC251
                    await trio.sleep(0.2)
                    assert client.state is stomp_trio.ClientState.CONNECTED
                # The broker of this test never answers DISCONNECT: leave at once.
                client._nursery.cancel_scope.cancel()  # type: ignore[union-attr]
    finally:
        broker.close()


async def test_a_stale_ack_raises_at_once_while_reconnecting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Issue 14.12: an ack of a message of a lost connection is void: raise at once, not
    after waiting up to connect_timeout for the reconnection."""
    network = Network()
    async with trio.open_nursery() as nursery:

        async def server() -> None:
            broker = await network.accept()
            network.refuse = 1_000  # every later dial fails: the client stays reconnecting
            await broker.accept()
            sub = await broker.expect(sc.Subscribe)
            await broker.message(sub, b"m0", message_id="m0", ack="a0")
            await sub_got.wait()
            await broker.close()

        sub_got = trio.Event()
        nursery.start_soon(server)
        async with (
            stomp_trio.open_connection(
                "stomp://h",
                **options(network, reconnect=stomp_trio.ReconnectPolicy(initial=1.0, jitter=0)),
            ) as client,
            client.subscribe("/queue/a", ack="client-individual") as sub,
        ):
            message = await sub.get()
            changes = client.state_changes()
            sub_got.set()
            with trio.fail_after(60):
                async for change in changes:
                    if change.state is stomp_trio.ClientState.RECONNECTING:
                        break
            start = trio.current_time()
            with pytest.raises(stomp_trio.ConnectionLost, match="earlier connection"):
                await message.ack()
            assert trio.current_time() == start

"""stomp_asyncio under a broker that stops reading (issue 14: items 2, 4, 5, 12).

Scripted servers on the harness's in-memory transports, whose flow control the tests
drive, on the virtual clock (a deadlock is reported at once, timings are exact).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from asyncio_harness import ScriptedServer, memory_client, run, servers, wait_until

import stomp_asyncio
from stomp_asyncio import ClientState, ConnectionLost, ReconnectPolicy
from stomp_core import Ack, Message, Subscribe


def test_a_write_to_a_broker_that_stops_reading_has_one_deadline() -> None:
    """Issue 14.5: the broker keeps heart-beating but reads nothing after CONNECT."""

    async def main() -> None:
        server = ScriptedServer(heart_beat=(500, 0))
        client = memory_client(
            servers(server), heartbeats=(0, 500), reconnect=None, write_timeout=3
        )
        loop = asyncio.get_running_loop()
        took: list[float] = []

        async def body() -> None:
            async with client:
                assert server.transport is not None
                server.transport.pause_reading()  # for good
                start = loop.time()
                try:
                    await client.send("/queue/a", b"x" * 1_000_000)
                finally:
                    took.append(loop.time() - start)

        with pytest.raises(ConnectionLost, match=r"longer than 3 s \(write_timeout\)"):
            await body()
        assert took == [pytest.approx(3.0)]
        assert server.lost.is_set()

    run(main)


class _Flooder(ScriptedServer):
    """Writes a backlog as fast as the client takes it and reads nothing while its own
    writes are held back (RabbitMQ without a prefetch limit, and its credit flow)."""

    def __init__(self) -> None:
        super().__init__()
        self.backlog: list[Message] = []
        self._blocked = False

    def flood(self, messages: list[Message]) -> None:
        self.backlog.extend(messages)
        self._pump()

    def _pump(self) -> None:
        while self.backlog and not self._blocked:
            self.send(self.backlog.pop(0))

    def pause_writing(self) -> None:
        assert self.transport is not None
        self._blocked = True
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.transport is not None
        self._blocked = False
        self.transport.resume_reading()
        self._pump()


def test_a_consumer_can_ack_while_the_broker_is_blocked_writing() -> None:
    """Issue 14.4: the broker floods MESSAGEs and stops reading while its writes are
    blocked; the client's buffer is full and its consumer's ACK waits for the broker.
    The client must read (without delivering) meanwhile."""
    count = 60

    async def main() -> None:
        server = _Flooder()
        client = memory_client(servers(server), subscription_buffer=2, high=512)
        async with client:
            async with client.subscribe("/queue/a", ack="client-individual") as sub:
                subscribe = await server.next(Subscribe)
                server.flood([_message(subscribe, n) for n in range(count)])
                for _ in range(count):
                    message = await sub.get()
                    await message.ack()
            acks = [ack.id for ack in server.of(Ack)]
            assert acks == [f"a{n}" for n in range(count)]

    run(main)


def _message(subscribe: Subscribe, n: int) -> Message:
    return Message(
        destination=subscribe.destination,
        message_id=f"m{n}",
        subscription=subscribe.id or "",
        ack=f"a{n}",
        body=b"y" * 200,
    )


def test_a_stale_ack_raises_at_once_while_reconnecting() -> None:
    """Issue 14.12: an ack of a message of a lost connection is void: raise at once, not
    after waiting up to connect_timeout for the reconnection (stomp_trio does the same)."""

    async def main() -> None:
        server = ScriptedServer()
        client = memory_client(servers(server), reconnect=ReconnectPolicy(initial=1.0, jitter=0.0))
        loop = asyncio.get_running_loop()
        async with client, client.subscribe("/queue/a", ack="client-individual") as sub:
            subscribe = await server.next(Subscribe)
            server.send(_message(subscribe, 0))
            message = await sub.get()
            server.drop()
            await wait_until(lambda: client.state is ClientState.RECONNECTING)
            start = loop.time()
            with pytest.raises(ConnectionLost, match="earlier connection"):
                await message.ack()
            assert loop.time() == start

    run(main)


def test_a_blocked_event_loop_reads_the_waiting_heartbeats_before_deciding() -> None:
    """Issue 14.11 (asyncio side, a guard): the application blocks the event loop longer
    than the heart-beat tolerance while a real broker's heart-beats arrive; asyncio runs
    the I/O callbacks before the timers due in the same round, so the broker lives."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        with listener, listener.accept()[0] as conn:
            data = b""
            while b"\x00" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            conn.sendall(b"CONNECTED\nversion:1.2\nheart-beat:50,0\n\n\x00")
            while not stop.wait(0.01):
                try:
                    conn.sendall(b"\n")
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]

    async def main() -> None:
        client = stomp_asyncio.open_connection(
            f"stomp://127.0.0.1:{port}",
            heartbeats=(0, 100),
            reconnect=None,
            disconnect_timeout=0.5,
        )
        async with client:
            assert client.heartbeat == (0, 100)  # dead after 250 ms of silence
            for _ in range(8):
                # The fault under test, not a wait: the loop is blocked for 0.5 s.
                time.sleep(0.5)  # noqa: ASYNC251
                await asyncio.sleep(0.2)
                assert client.state is ClientState.CONNECTED

    try:
        run(main, virtual=False)
    finally:
        stop.set()
        thread.join(10)

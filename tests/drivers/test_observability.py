"""Issue 17 parts 2-4 on the embedded broker, in all three client drivers: the metrics
snapshot, the frame log, and error texts a person can act on.

The same scenario runs in each driver (subscribe, three SENDs with receipts, receive
them, ACK two and NACK one), so the counters must agree across drivers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trio

import stomp
import stomp_asyncio
import stomp_core
import stomp_trio
from stomp_broker import Faults, RunningBroker, run_broker_in_thread
from stomp_core import MetricsSnapshot

WAIT = 10.0
SECRET = "s3cret-passcode"
FAST = stomp_trio.ReconnectPolicy(initial=0.05, increase=0.0, jitter=0.0)


@pytest.fixture(scope="module")
def broker() -> Iterator[RunningBroker]:
    with run_broker_in_thread(users={"alice": SECRET}) as running:
        yield running


def _url(broker: RunningBroker) -> str:
    return f"stomp://{broker.host}:{broker.port}"


class _Recorder(stomp.ConnectionListener):
    """Counts callbacks and wakes waiters (every wait has a deadline)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.counts: dict[str, int] = {}
        self.messages: list[Any] = []

    def _note(self, name: str, frame: Any = None) -> None:
        with self.cond:
            self.counts[name] = self.counts.get(name, 0) + 1
            if name == "message":
                self.messages.append(frame)
            self.cond.notify_all()

    def on_connected(self, frame: Any) -> None:
        self._note("connected")

    def on_message(self, frame: Any) -> None:
        self._note("message", frame)

    def on_receipt(self, frame: Any) -> None:
        self._note("receipt")

    def wait_for(self, name: str, count: int) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: self.counts.get(name, 0) >= count, WAIT), (
                f"no {count} {name} within {WAIT} s: {self.counts}"
            )


# -- the scenario in each driver --------------------------------------------------------


def _blocking(broker: RunningBroker, queue: str) -> MetricsSnapshot:
    conn = stomp.Connection([broker], heartbeats=(0, 0))
    recorder = _Recorder()
    conn.set_listener("recorder", recorder)
    conn.connect("alice", SECRET, wait=True)
    try:
        conn.subscribe(queue, id="1", ack="client-individual")
        for number in range(3):
            conn.send(queue, f"body {number}", receipt=f"r-{number}")
        recorder.wait_for("receipt", 3)
        recorder.wait_for("message", 3)
        first, second, third = recorder.messages[:3]
        conn.ack(first.headers["message-id"], "1")
        conn.ack(second.headers["message-id"], "1")
        conn.nack(third.headers["message-id"], "1", receipt="r-nack")
        recorder.wait_for("receipt", 4)
    finally:
        conn.disconnect()
    return conn.metrics()


async def _trio(broker: RunningBroker, queue: str) -> MetricsSnapshot:
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(
                _url(broker), login="alice", passcode=SECRET, heartbeats=(0, 0)
            ) as client,
            client.subscribe(queue, ack="client-individual", receipt=True) as sub,
        ):
            for number in range(3):
                await client.send(queue, f"body {number}", receipt=True)
            messages = [await sub.get() for _ in range(3)]
            await messages[0].ack()
            await messages[1].ack()
            await messages[2].nack(receipt=True)
    return client.metrics()


async def _asyncio(broker: RunningBroker, queue: str) -> MetricsSnapshot:
    async with (
        stomp_asyncio.open_connection(
            _url(broker), login="alice", passcode=SECRET, heartbeats=(0, 0)
        ) as client,
        client.subscribe(queue, ack="client-individual", receipt=True) as sub,
    ):
        for number in range(3):
            await client.send(queue, f"body {number}", receipt=True)
        messages = [await sub.get() for _ in range(3)]
        await messages[0].ack()
        await messages[1].ack()
        await messages[2].nack(receipt=True)
    return client.metrics()


SCENARIOS: dict[str, Callable[[RunningBroker, str], MetricsSnapshot]] = {
    "stomp": _blocking,
    "trio": lambda broker, queue: trio.run(_trio, broker, queue),
    "asyncio": lambda broker, queue: asyncio.run(asyncio.wait_for(_asyncio(broker, queue), WAIT)),
}


@pytest.mark.parametrize("driver", sorted(SCENARIOS))
def test_the_metrics_snapshot_counts_the_same_in_every_driver(
    broker: RunningBroker, driver: str
) -> None:
    snapshot = SCENARIOS[driver](broker, f"/queue/metrics-{uuid.uuid4()}")
    assert isinstance(snapshot, MetricsSnapshot)
    assert (snapshot.messages_sent, snapshot.acks, snapshot.nacks) == (3, 2, 1)
    # The NACKed message may come back before the DISCONNECT's RECEIPT.
    assert snapshot.messages_received in (3, 4)
    assert (snapshot.connections, snapshot.reconnects, snapshot.errors_received) == (1, 0, 0)
    # CONNECT, SUBSCRIBE, 3 SENDs, 2 ACKs, NACK, DISCONNECT (the async clients also
    # UNSUBSCRIBE when the subscription block ends).
    assert snapshot.frames_sent in (9, 10)
    # CONNECTED, the MESSAGEs, and a RECEIPT per receipt asked for (at least the three
    # SENDs', the NACK's and the DISCONNECT's).
    assert snapshot.frames_received >= 1 + 3 + 5
    assert snapshot.receipts >= 5
    assert snapshot.receipt_rtt_p50 is not None
    assert snapshot.receipt_rtt_p99 is not None
    assert 0 <= snapshot.receipt_rtt_p50 <= snapshot.receipt_rtt_p99 < WAIT
    assert snapshot.bytes_sent > 3 * len("body 0")
    assert snapshot.bytes_received > 3 * len("body 0")
    assert snapshot.heartbeats_sent == snapshot.heartbeats_received == 0


# -- reconnects ----------------------------------------------------------------------


def test_blocking_reconnects_are_counted(broker: RunningBroker) -> None:
    conn = stomp.Connection([broker], heartbeats=(0, 0), auto_reconnect=True, timeout=WAIT)
    recorder = _Recorder()
    conn.set_listener("recorder", recorder)
    conn.connect("alice", SECRET, wait=True)
    try:
        assert broker.drop_connections() >= 1
        recorder.wait_for("connected", 2)
        # The counters survived the new connection, and go on counting on it.
        conn.send(f"/queue/{uuid.uuid4()}", "after", receipt="r-after")
        recorder.wait_for("receipt", 1)
    finally:
        conn.disconnect()
    snapshot = conn.metrics()
    assert (snapshot.connections, snapshot.reconnects) == (2, 1)
    assert snapshot.messages_sent == 1
    assert snapshot.frames_sent >= 4  # two CONNECTs, the SEND, DISCONNECT


def test_trio_reconnects_are_counted(broker: RunningBroker) -> None:
    async def main() -> MetricsSnapshot:
        with trio.fail_after(WAIT):
            async with (
                stomp_trio.open_connection(
                    _url(broker), login="alice", passcode=SECRET, reconnect=FAST
                ) as client,
                client.state_changes() as changes,
            ):
                await client.send(f"/queue/{uuid.uuid4()}", "before", receipt=True)
                assert await trio.to_thread.run_sync(broker.drop_connections) >= 1
                async for change in changes:
                    if change.state is stomp_trio.ClientState.CONNECTED:
                        break
                await client.send(f"/queue/{uuid.uuid4()}", "after", receipt=True)
        return client.metrics()

    snapshot = trio.run(main)
    assert (snapshot.connections, snapshot.reconnects, snapshot.messages_sent) == (2, 1, 2)


def test_asyncio_reconnects_are_counted(broker: RunningBroker) -> None:
    async def main() -> MetricsSnapshot:
        async with stomp_asyncio.open_connection(
            _url(broker), login="alice", passcode=SECRET, reconnect=FAST
        ) as client:
            changes = client.state_changes()
            await client.send(f"/queue/{uuid.uuid4()}", "before", receipt=True)
            assert await asyncio.to_thread(broker.drop_connections) >= 1
            async for change in changes:
                if change.state is stomp_asyncio.ClientState.CONNECTED:
                    break
            await client.send(f"/queue/{uuid.uuid4()}", "after", receipt=True)
        return client.metrics()

    snapshot = asyncio.run(asyncio.wait_for(main(), WAIT))
    assert (snapshot.connections, snapshot.reconnects, snapshot.messages_sent) == (2, 1, 2)


# -- the frame log ---------------------------------------------------------------------

#: Each driver's frame logger: the blocking driver keeps stomp.py's logger name.
FRAME_LOGGERS = {
    "stomp": "stomp.py",
    "trio": "stomp_trio.frames",
    "asyncio": "stomp_asyncio.frames",
}


@pytest.fixture
def short_bodies() -> Iterator[None]:
    before = stomp_core.frame_log.max_body
    stomp_core.frame_log.max_body = 8
    try:
        yield
    finally:
        stomp_core.frame_log.max_body = before


@pytest.mark.parametrize("driver", sorted(SCENARIOS))
def test_every_driver_logs_frames_in_one_layout(
    broker: RunningBroker,
    driver: str,
    caplog: pytest.LogCaptureFixture,
    short_bodies: None,
) -> None:
    caplog.set_level(logging.DEBUG, logger=FRAME_LOGGERS[driver])
    queue = f"/queue/log-{uuid.uuid4()}"
    SCENARIOS[driver](broker, queue)
    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == FRAME_LOGGERS[driver]
        and record.getMessage().startswith(("sent ", "received "))
    ]
    # stomp.py's 1.1 connection sends STOMP rather than CONNECT.
    connect = next(line for line in lines if line.startswith(("sent CONNECT ", "sent STOMP ")))
    assert "login='alice'" in connect
    assert "passcode='********'" in connect
    assert SECRET not in caplog.text
    sends = [line for line in lines if line.startswith("sent SEND ")]
    assert len(sends) == 3
    assert f"destination='{queue}'" in sends[0]
    # "body 0" is 6 bytes: shown whole under the 8-byte limit.
    assert sends[0].endswith("body=b'body 0'")
    assert any(line.startswith("received CONNECTED ") for line in lines)
    messages = [line for line in lines if line.startswith("received MESSAGE ")]
    assert len(messages) >= 3
    assert any(line.startswith("sent ACK ") for line in lines)
    assert any(line.startswith("sent NACK ") for line in lines)
    assert any(line.startswith("received RECEIPT ") for line in lines)


@pytest.mark.parametrize("driver", sorted(SCENARIOS))
def test_long_bodies_are_shortened_in_the_log(
    broker: RunningBroker, driver: str, caplog: pytest.LogCaptureFixture, short_bodies: None
) -> None:
    caplog.set_level(logging.DEBUG, logger=FRAME_LOGGERS[driver])
    queue = f"/queue/long-{uuid.uuid4()}"
    body = "x" * 50

    async def trio_send() -> None:
        async with stomp_trio.open_connection(_url(broker), login="alice", passcode=SECRET) as c:
            await c.send(queue, body, receipt=True)

    async def asyncio_send() -> None:
        async with stomp_asyncio.open_connection(_url(broker), login="alice", passcode=SECRET) as c:
            await c.send(queue, body, receipt=True)

    if driver == "stomp":
        conn = stomp.Connection([broker])
        conn.connect("alice", SECRET, wait=True)
        conn.send(queue, body)
        conn.disconnect()
    elif driver == "trio":
        trio.run(trio_send)
    else:
        asyncio.run(asyncio_send())
    [send] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sent SEND")]
    assert send.endswith("body=b'xxxxxxxx'...(+42 bytes)")


# -- errors a person can act on ------------------------------------------------------------


def _connect_error(driver: str, hosts: list[tuple[str, int]], **options: Any) -> str:
    """The text of what connecting raises, in ``driver``."""
    login = options.pop("login", None)
    passcode = options.pop("passcode", None)
    timeout = options.pop("timeout", WAIT)
    if driver == "stomp":
        conn = stomp.Connection(hosts, reconnect_attempts_max=1, timeout=timeout)
        ca = options.pop("ca", None)
        if ca is not None:
            conn.set_ssl(hosts, ca_certs=ca)
        try:
            with pytest.raises(stomp.exception.ConnectFailedException) as caught:
                conn.connect(login, passcode, wait=True)
        finally:
            conn.disconnect()
        return str(caught.value)
    context = None
    if "ca" in options:
        import ssl

        context = ssl.create_default_context(cafile=options.pop("ca"))
    kwargs: dict[str, Any] = dict(
        login=login, passcode=passcode, reconnect=None, ssl=context, connect_timeout=timeout
    )
    if driver == "trio":

        async def run_trio() -> None:
            async with stomp_trio.open_connection(hosts, **kwargs):
                pass  # pragma: no cover - refused

        with pytest.raises(stomp_trio.ConnectFailed) as trio_caught:
            trio.run(run_trio)
        return str(trio_caught.value)

    async def run_asyncio() -> None:
        async with stomp_asyncio.open_connection(hosts, **kwargs):
            pass  # pragma: no cover - refused

    with pytest.raises(stomp_asyncio.ConnectFailed) as asyncio_caught:
        asyncio.run(run_asyncio())
    return str(asyncio_caught.value)


@pytest.fixture
def refused_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("driver", sorted(SCENARIOS))
def test_a_refusal_by_the_broker_says_what_it_said(broker: RunningBroker, driver: str) -> None:
    text = _connect_error(driver, [broker], login="alice", passcode="wrong")
    assert "the broker refused the connection" in text
    assert "access refused: unknown login or wrong passcode" in text
    assert "wrong" not in text.replace("wrong passcode", "")


@pytest.mark.parametrize("driver", sorted(SCENARIOS))
def test_a_refused_port_says_so(driver: str, refused_port: int) -> None:
    text = _connect_error(driver, [("127.0.0.1", refused_port)])
    assert f"127.0.0.1:{refused_port}" in text
    assert "refused" in text.lower()


@pytest.mark.parametrize("driver", sorted(SCENARIOS))
def test_an_unknown_host_name_says_so(driver: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The resolver's failure is injected: no lookup leaves the machine.
    asked: list[object] = []

    def no_such_name(host: object, *args: object, **kwargs: object) -> Any:
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    text = _connect_error(driver, [("broker.nonexistent.invalid", 61613)])
    assert asked
    assert "broker.nonexistent.invalid" in text
    assert "Name or service not known" in text


@pytest.mark.parametrize("driver", sorted(SCENARIOS))
def test_an_error_while_connected_carries_its_message(broker: RunningBroker, driver: str) -> None:
    # The broker answers SUBSCRIBE with ERROR (a fault switch) and closes.
    queue = f"/queue/error-{uuid.uuid4()}"
    broker.faults.error_on = frozenset({"SUBSCRIBE"})
    try:
        if driver == "stomp":
            conn = stomp.Connection([broker])
            errors: list[Any] = []
            done = threading.Event()

            class OnError(stomp.ConnectionListener):
                def on_error(self, frame: Any) -> None:
                    errors.append(frame)
                    done.set()

            conn.set_listener("errors", OnError())
            conn.connect("alice", SECRET, wait=True)
            conn.subscribe(queue, id="1")
            assert done.wait(WAIT)
            conn.disconnect()
            assert errors[0].headers["message"]
            return

        async def trio_main() -> None:
            with trio.fail_after(WAIT):
                async with (
                    stomp_trio.open_connection(
                        _url(broker), login="alice", passcode=SECRET, reconnect=None
                    ) as client,
                    client.subscribe(queue, receipt=True),
                ):
                    pass  # pragma: no cover - refused

        async def asyncio_main() -> None:
            async with (
                stomp_asyncio.open_connection(
                    _url(broker), login="alice", passcode=SECRET, reconnect=None
                ) as client,
                client.subscribe(queue, receipt=True),
            ):
                pass  # pragma: no cover - refused

        if driver == "trio":
            with pytest.raises(stomp_trio.BrokerError) as caught:
                trio.run(trio_main)
        else:
            with pytest.raises(stomp_asyncio.BrokerError) as caught:
                asyncio.run(asyncio.wait_for(asyncio_main(), WAIT))
        assert caught.value.message
        assert str(caught.value) == f"the broker sent ERROR: {caught.value.message}"
    finally:
        broker.faults.error_on = frozenset()


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A loopback port whose accept queue is full: a new TCP connect is never answered.

    ``listen(0)`` keeps one connection waiting; with the queue full, Linux drops further
    SYNs, so the next dial can only time out.
    """
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        filler.connect(("127.0.0.1", port))
        yield port


@pytest.mark.parametrize("driver", sorted(SCENARIOS))
def test_a_connect_that_times_out_says_so(driver: str, unanswered_port: int) -> None:
    text = _connect_error(driver, [("127.0.0.1", unanswered_port)], timeout=0.5)
    assert f"127.0.0.1:{unanswered_port}" in text
    assert "timed out" in text or "took longer than" in text


@pytest.mark.parametrize("driver", sorted(SCENARIOS))
def test_no_connected_frame_in_time_says_so(driver: str) -> None:
    with run_broker_in_thread(faults=Faults(drop_frames=frozenset({"CONNECTED"}))) as silent:
        text = _connect_error(driver, [silent], timeout=0.5)
    assert f"{silent.host}:{silent.port}" in text
    assert "CONNECTED" in text
    assert "0.5" in text or "timeout" in text


def test_the_cli_says_why_it_could_not_connect(refused_port: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stomp", "-H", "127.0.0.1", "-P", str(refused_port)],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"could not connect to 127.0.0.1:{refused_port}" in done.stdout + done.stderr
    assert "Connection refused" in done.stdout + done.stderr


# -- heart-beats -------------------------------------------------------------------------

#: Heart-beat every 50 ms both ways: a few arrive well within the deadline.
BEATS = (50, 50)


def test_blocking_counts_heartbeats(broker: RunningBroker) -> None:
    beats = threading.Semaphore(0)

    class Beats(stomp.ConnectionListener):
        def on_heartbeat(self) -> None:
            beats.release()

    conn = stomp.Connection([broker], heartbeats=BEATS)
    conn.set_listener("beats", Beats())
    conn.connect("alice", SECRET, wait=True)
    try:
        for _ in range(3):
            assert beats.acquire(timeout=WAIT)
        # Three of the broker's beats took at least 100 ms: ours went out meanwhile.
        snapshot = conn.metrics()
    finally:
        conn.disconnect()
    assert snapshot.heartbeats_received >= 3
    assert snapshot.heartbeats_sent >= 1


class _HeartbeatWatch(logging.Handler):
    """Calls ``reached`` once the frame log showed ``count`` heart-beats received: the
    async clients have no event per heart-beat, their frame log does."""

    def __init__(self, count: int, reached: Callable[[], object]) -> None:
        super().__init__(logging.DEBUG)
        self.left = count
        self.reached = reached

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "received heart-beat":
            self.left -= 1
            if self.left == 0:
                self.reached()


def _watching(name: str, handler: logging.Handler) -> Callable[[], None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)

    def stop() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    return stop


def test_trio_counts_heartbeats(broker: RunningBroker) -> None:
    async def main() -> MetricsSnapshot:
        three = trio.Event()
        stop = _watching("stomp_trio.frames", _HeartbeatWatch(3, three.set))
        try:
            with trio.fail_after(WAIT):
                async with stomp_trio.open_connection(
                    _url(broker), login="alice", passcode=SECRET, heartbeats=BEATS
                ) as client:
                    await three.wait()
                    return client.metrics()
        finally:
            stop()

    snapshot = trio.run(main)
    assert snapshot.heartbeats_received >= 3
    assert snapshot.heartbeats_sent >= 1


def test_asyncio_counts_heartbeats(broker: RunningBroker) -> None:
    async def main() -> MetricsSnapshot:
        three = asyncio.Event()
        stop = _watching("stomp_asyncio.frames", _HeartbeatWatch(3, three.set))
        try:
            async with stomp_asyncio.open_connection(
                _url(broker), login="alice", passcode=SECRET, heartbeats=BEATS
            ) as client:
                await three.wait()
                return client.metrics()
        finally:
            stop()

    snapshot = asyncio.run(asyncio.wait_for(main(), WAIT))
    assert snapshot.heartbeats_received >= 3
    assert snapshot.heartbeats_sent >= 1

"""Embedded broker: connecting, login, heart-beats, protocol errors, bounds, TLS, starting it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from broker_helpers import TIMEOUT, Closed, CoreClient, publish, raw_exchange, subscribe

from stomp_broker import Broker, RunningBroker, run_broker_in_thread
from stomp_core import Send
from tests.console import console_script


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_connect_negotiates_each_version(broker: RunningBroker, version: str) -> None:
    with CoreClient(broker, version=version) as client:
        assert client.connected is not None
        assert client.connected.version == version
        assert client.connected.server == f"stomp_broker/{__import__('stomp_broker').__version__}"
        assert client.connected.session == "session-1"
        client.disconnect()


def test_highest_common_version_wins(broker: RunningBroker) -> None:
    reply = raw_exchange(
        broker,
        b"CONNECT\naccept-version:1.0,1.1\nhost:/\n\n\x00DISCONNECT\nreceipt:r\n\n\x00",
    )
    assert reply.startswith(b"CONNECTED\nversion:1.1\n")
    assert reply.endswith(b"RECEIPT\nreceipt-id:r\n\n\x00")


def test_stomp_1_0_subscription_without_id(broker: RunningBroker) -> None:
    reply = raw_exchange(
        broker,
        b"CONNECT\n\n\x00"
        b"SUBSCRIBE\ndestination:/queue/ten\n\n\x00"
        b"SEND\ndestination:/queue/ten\n\nhello\x00"
        b"DISCONNECT\nreceipt:r\n\n\x00",
    )
    frames = reply.split(b"\x00")
    assert frames[0].startswith(b"CONNECTED\n")
    assert frames[1].startswith(b"MESSAGE\n")
    assert b"subscription:" not in frames[1]
    assert frames[1].endswith(b"\n\nhello")


def test_no_common_version_is_refused(broker: RunningBroker) -> None:
    reply = raw_exchange(broker, b"CONNECT\naccept-version:2.0\nhost:/\n\n\x00")
    assert reply.startswith(b"ERROR\n")
    assert b"version" in reply


def test_garbage_gets_error_then_close(broker: RunningBroker) -> None:
    reply = raw_exchange(broker, b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00BOGUS\n\n\x00")
    assert reply.startswith(b"CONNECTED\n")
    assert b"\x00ERROR\n" in reply
    assert b"BOGUS" in reply.split(b"\x00ERROR\n")[1]


def test_login_is_checked(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(users={"alice": "secret"})
    with CoreClient(broker, login="alice", passcode="secret") as client:
        client.disconnect()
    for login, passcode in (("alice", "wrong"), ("bob", "secret"), (None, None)):
        with pytest.raises(Closed, match="access refused"):
            CoreClient(broker, login=login, passcode=passcode)


def test_connect_timeout_closes_a_silent_connection(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(connect_timeout=0.2)
    assert raw_exchange(broker, b"") == b""


def test_disconnect_without_receipt_closes(broker: RunningBroker) -> None:
    reply = raw_exchange(broker, b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00DISCONNECT\n\n\x00")
    assert reply.startswith(b"CONNECTED\n")
    assert reply.count(b"\x00") == 1


def test_broker_heart_beats_as_the_client_asks(broker: RunningBroker) -> None:
    with CoreClient(broker, heart_beat=(0, 100)) as client:
        assert client.connected is not None
        assert client.connected.heart_beat == (100, 0)  # mirrored
        while client.heartbeats_received < 3:
            client.next_event(timeout=1.0)
        client.disconnect()


def test_broker_heart_beat_setting_is_sent(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(heart_beat=(5000, 7000))
    with CoreClient(broker, heart_beat=(100, 100)) as client:
        assert client.connected is not None
        assert client.connected.heart_beat == (5000, 7000)
        assert client.core.heartbeat == (7000, 5000)


def test_client_heart_beats_keep_the_session_alive(broker: RunningBroker) -> None:
    with CoreClient(broker, heart_beat=(50, 0)) as client:
        subscribe(client, "/queue/alive", "1")
        # Reading drives the client's heart-beat timer; 0.5 s is ten intervals.
        with pytest.raises(TimeoutError):
            client.next_frame(timeout=0.5)
        client.send(Send(destination="/queue/alive", body=b"still here"))
        assert client.message().body == b"still here"


def test_silent_client_is_dropped_after_its_heart_beat_interval(broker: RunningBroker) -> None:
    # The client promises a heart-beat every 100 ms, then sends nothing: the broker
    # gives up after 100 ms x (1 + 1.5) (the core's default tolerance) and closes.
    reply = raw_exchange(broker, b"CONNECT\naccept-version:1.2\nhost:/\nheart-beat:100,0\n\n\x00")
    assert reply.startswith(b"CONNECTED\n")
    assert reply.endswith(b"\x00")


def test_slow_consumer_is_disconnected_with_error(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(max_outbound_bytes=256 * 1024, close_timeout=TIMEOUT)
    chunk = b"x" * 65536
    with CoreClient(broker, rcvbuf=4096) as slow, CoreClient(broker) as producer:
        subscribe(slow, "/topic/firehose", "1")
        # 16 MiB: more than the kernel buffers on both sides plus the broker's bound.
        for _ in range(256):
            producer.send(Send(destination="/topic/firehose", body=chunk))
        publish(producer, "/topic/firehose", b"last")
        frames = slow.expect_closed(timeout=30)
        assert frames[-1].get("message", "").startswith("slow consumer")
        assert len(frames) < 256
        # The producer is not affected.
        subscribe(producer, "/queue/ok", "1")
        producer.send(Send(destination="/queue/ok", body=b"fine"))
        assert producer.message().body == b"fine"


def _kernel_buffers() -> int:
    """The most bytes the kernel may buffer on a loopback TCP path (both directions'
    autotuning maxima), from ``net.ipv4.tcp_rmem`` and ``tcp_wmem``."""
    total = 0
    for name in ("tcp_rmem", "tcp_wmem"):
        try:
            total += int(Path(f"/proc/sys/net/ipv4/{name}").read_text().split()[2])
        except (OSError, IndexError, ValueError):
            total += 32 * 1024 * 1024
    return total


def test_slow_consumer_error_reaches_a_client_that_pipelines_without_reading(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    # Issue 14.9.  The client writes SEND+receipt frames and reads nothing until it has
    # written them all.  The broker must stop handling them at the bound, keep reading
    # (and dropping) the rest, and half-close after the ERROR: closing with the client's
    # frames unread in its receive buffer would reset the connection, and a reset makes
    # the client's kernel drop what the client had not read yet, the ERROR with it.
    broker = broker_factory(max_outbound_bytes=64 * 1024, close_timeout=TIMEOUT)
    tag = b"r" * 2000  # receipts of 2 KiB
    # More than the kernel can buffer on the way, plus 8 MiB: the write completes only
    # after the broker handled 8 MiB worth of frames, whose receipts nobody read.
    count = (_kernel_buffers() + 8 * 1024 * 1024) // 2048
    frames = [b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00"]
    frames += [
        b"SEND\ndestination:/topic/void\nreceipt:%s-%d\n\n\x00" % (tag, i) for i in range(count)
    ]
    received = bytearray()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(3.0)
        sock.connect(broker)
        # Before the fix the broker stopped reading after the ERROR: the write stalls;
        # the reads below tell what that cost.
        with contextlib.suppress(TimeoutError):
            sock.sendall(b"".join(frames))
        del frames
        sock.settimeout(TIMEOUT)
        while chunk := sock.recv(1 << 20):  # ConnectionResetError fails the test
            received += chunk
    last = bytes(received).rsplit(b"\x00", 2)[-2]
    assert last.startswith(b"ERROR\nmessage:slow consumer"), last[:80]
    assert last.endswith(b"(max_outbound_bytes=65536)\n\n")
    assert received.count(b"RECEIPT\n") < count


def test_slow_consumer_of_a_queue_leaves_messages_to_others(broker: RunningBroker) -> None:
    chunk = b"y" * 65536
    with CoreClient(broker, rcvbuf=4096) as slow, CoreClient(broker) as producer:
        subscribe(slow, "/queue/work", "1")
        for _ in range(128):
            producer.send(Send(destination="/queue/work", body=chunk))
        publish(producer, "/queue/work", b"last")
        # The slow consumer's transport paused: the rest waits in the queue.
        waiting = broker.queue_depth("/queue/work")
        assert waiting > 0
        with CoreClient(broker) as fast:
            subscribe(fast, "/queue/work", "1")
            for _ in range(waiting):
                fast.message()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec"),
            *("-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def test_tls_listener(
    broker_factory: Callable[..., RunningBroker], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    broker = broker_factory(ssl=server)
    client_context = ssl.create_default_context(cafile=str(cert))
    with CoreClient(broker, ssl_context=client_context) as client:
        assert isinstance(client.sock, ssl.SSLSocket)
        subscribe(client, "/queue/secure", "1")
        client.send(Send(destination="/queue/secure", body=b"over tls"))
        assert client.message().body == b"over tls"
        client.disconnect()


def test_async_broker_in_process(async_broker: Callable[..., Broker]) -> None:
    async def main() -> bytes:
        async with async_broker() as broker:
            assert broker.listening
            reader, writer = await asyncio.open_connection(broker.host, broker.port)
            writer.write(b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00")
            writer.write(b"SUBSCRIBE\ndestination:/topic/a\nid:1\n\n\x00")
            writer.write(b"SEND\ndestination:/topic/a\n\nasync\x00")
            await writer.drain()
            data = b""
            while data.count(b"\x00") < 2:
                chunk = await asyncio.wait_for(reader.read(4096), TIMEOUT)
                assert chunk
                data += chunk
            writer.close()
            await broker.wait_connections(0, TIMEOUT)
            return data

    data = asyncio.run(main())
    assert data.startswith(b"CONNECTED\n")
    assert data.endswith(b"\n\nasync\x00")


def test_broker_close_ends_open_connections() -> None:
    with run_broker_in_thread(close_timeout=1.0) as broker:
        client = CoreClient(broker)
    with client:
        assert client.expect_closed() == []


def test_ipv6_loopback(broker_factory: Callable[..., RunningBroker]) -> None:
    broker = broker_factory(host="::1")
    assert broker.host == "::1"
    with socket.create_connection(broker, timeout=TIMEOUT) as sock:
        sock.sendall(b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00")
        assert sock.recv(4096).startswith(b"CONNECTED\n")


def test_thread_runner_reports_a_start_failure() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(OSError, match="address already in use"),
            run_broker_in_thread(port=port, timeout=TIMEOUT),
        ):
            pass  # pragma: no cover - never entered


def test_running_broker_controls(broker: RunningBroker) -> None:
    host, port = broker
    assert (broker.host, broker.port) == (host, port) == tuple(broker)
    assert broker.connection_count == 0
    assert broker.call(lambda: 42) == 42
    with CoreClient(broker):
        assert broker.connection_count == 1
    broker.wait_connections(0)
    with pytest.raises(ValueError, match="max_queue_messages"):
        Broker(max_queue_messages=0)


def _read_line(stream: object, timeout: float) -> str:
    """One line from a pipe, waiting at most ``timeout`` seconds."""
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()))  # type: ignore[attr-defined]
    reader.daemon = True
    reader.start()
    reader.join(timeout)
    if not result:
        raise TimeoutError("no line from the subprocess in time")
    return result[0]


def test_command_line_broker_stops_cleanly_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = console_script("stomp-broker")
    proc = subprocess.Popen(
        [command, "--host", "127.0.0.1", "--port", "0", "--ws-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = _read_line(proc.stdout, 20)
        assert line.startswith("stomp-broker listening on 127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        assert _read_line(proc.stdout, 20).startswith("stomp-broker WebSocket on 127.0.0.1:")
        with CoreClient(("127.0.0.1", port)) as client:
            subscribe(client, "/queue/cli", "1")
            client.send(Send(destination="/queue/cli", body=b"from the command"))
            assert client.message().body == b"from the command"
            proc.send_signal(signal.SIGINT)
            client.expect_closed()
        assert proc.wait(timeout=20) == 0
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_command_line_rejects_a_lone_login() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "stomp_broker", "--port", "0", "--login", "x"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "--passcode" in proc.stderr


class MemoryTransport(asyncio.Transport):
    """Collects what the broker writes; closing reports the loss to the protocol."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.written = bytearray()
        self.protocol = protocol
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()


def test_broker_serves_any_transport(async_broker: Callable[..., Broker]) -> None:
    async def main() -> bytes:
        broker = async_broker()
        protocol = broker.protocol()
        transport = MemoryTransport(protocol)
        protocol.connection_made(transport)
        protocol.data_received(b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00")
        protocol.data_received(b"DISCONNECT\nreceipt:bye\n\n\x00")
        await broker.wait_connections(0, TIMEOUT)
        assert transport.closed
        return bytes(transport.written)

    written = asyncio.run(main())
    assert written.startswith(b"CONNECTED\nversion:1.2\n")
    assert written.endswith(b"RECEIPT\nreceipt-id:bye\n\n\x00")


def test_public_surface() -> None:
    import stomp_broker

    assert sorted(stomp_broker.__all__) == [
        "Broker",
        "FaultRule",
        "Faults",
        "MALFORMED_FRAME",
        "RunningBroker",
        "Usage",
        "__version__",
        "run_broker_in_thread",
    ]
    for name in stomp_broker.__all__:
        assert getattr(stomp_broker, name) is not None

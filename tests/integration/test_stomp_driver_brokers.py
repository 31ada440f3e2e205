"""The blocking ``stomp`` driver against the real brokers: failures and the seed's examples.

The matrix tests (``test_broker_matrix.py``, ``test_broker_tls.py``) already run the
``stomp`` driver through its adapter; this module adds what is specific to its
stomp.py-compatible API: the exception a failed connect raises, the reconnect backoff,
and the three usage examples of the seed document (reference/seed-connections.md,
"Usage Examples") run as written, except for host, port, credentials and certificate
paths.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import uuid
from collections.abc import Callable

import pytest
from adapter_api import Driver, Session
from broker_env import Broker, TlsFiles
from core_adapter import CoreDriver

import stomp
import stomp.exception

pytestmark = pytest.mark.integration

WAIT = 10.0


def _drain(session: Session, queue: str) -> None:
    """Consume whatever earlier runs left on ``queue`` (the examples use /queue/test)."""
    marker = f"drain-{uuid.uuid4().hex}".encode()
    session.subscribe(queue, "drain", receipt="drain-sub")
    session.send(queue, marker, receipt="drain-send")
    while True:
        message = session.get_message(WAIT)
        assert message is not None, "the drain marker did not come back"
        if message.body == marker:
            return


class Observer:
    """Consumers of ``queue`` on the core adapter, independent of the driver under test.

    The examples set no ``vhost``, so which RabbitMQ vhost they reach depends on the
    CONNECT ``host`` header the driver chooses (``/``, or the host it dialled; stomp.py
    sent none in 1.1 and the dialled host in 1.2).  One consumer per candidate vhost
    watches them all; ActiveMQ ignores the header, so one consumer does there.
    """

    def __init__(self, broker: Broker, queue: str) -> None:
        driver: Driver = CoreDriver()
        vhosts = [None] if broker.name != "rabbitmq" else dict.fromkeys([broker.vhost, broker.host])
        self.sessions: list[Session] = []
        for vhost in vhosts:
            target = broker if vhost is None else dataclasses.replace(broker, vhost=vhost)
            session = driver.connect(target, version="1.2")
            self.sessions.append(session)
            _drain(session, queue)

    def bodies(self, count: int) -> list[bytes]:
        """The next ``count`` bodies from any vhost (deadline: WAIT seconds)."""
        found: list[bytes] = []
        deadline = time.monotonic() + WAIT
        while len(found) < count and time.monotonic() < deadline:
            for session in self.sessions:
                # Short per-consumer waits, bounded overall by the deadline above.
                message = session.get_message(0.1)
                if message is not None:
                    found.append(message.body)
        return found

    def close(self) -> None:
        """Close every consumer."""
        for session in self.sessions:
            session.close()


def _unused_port() -> int:
    # Bind port 0, note the number, release it: nothing listens there afterwards.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_bad_credentials_on_rabbitmq_raise_connect_failed(rabbitmq: Broker) -> None:
    conn = stomp.Connection12([(rabbitmq.host, rabbitmq.port)], vhost=rabbitmq.vhost)
    with pytest.raises(stomp.exception.ConnectFailedException):
        conn.connect(rabbitmq.login, "not-the-password", wait=True)
    assert not conn.is_connected()


def test_unused_port_gives_connect_failed_after_the_backoff() -> None:
    port = _unused_port()
    conn = stomp.Connection(
        [("127.0.0.1", port)],
        reconnect_sleep_initial=0.5,
        reconnect_sleep_increase=0.5,
        reconnect_sleep_jitter=0.0,
        reconnect_sleep_max=10.0,
        reconnect_attempts_max=3,
    )
    started = time.monotonic()
    with pytest.raises(stomp.exception.ConnectFailedException):
        conn.connect("guest", "guest", wait=True)
    elapsed = time.monotonic() - started
    # Three attempts, two waits between them: 0.5 s, then 0.5 * 1.5 = 0.75 s (no wait
    # after the last attempt: stomp_core/_backoff.py).
    assert elapsed >= 1.25
    assert elapsed < 1.25 + 5.0


# --- the seed's usage examples ---------------------------------------------------


@pytest.mark.parametrize("broker_name", ["rabbitmq", "activemq"])
def test_seed_example_basic_connection(broker_name: str, request: pytest.FixtureRequest) -> None:
    broker: Broker = request.getfixturevalue(broker_name)
    observer = Observer(broker, "/queue/test")
    try:
        # --- seed example "Basic Connection" (host, port, credentials changed) ---
        conn = stomp.Connection(
            [(broker.host, broker.port)],
            reconnect_sleep_initial=1.0,
            reconnect_sleep_max=30.0,
            reconnect_attempts_max=10,
        )

        # Connect with authentication
        conn.connect(broker.login, broker.passcode, wait=True)

        # Use connection
        conn.send(body="Hello World", destination="/queue/test")

        # Disconnect
        conn.disconnect()
        # --- end of the example ---

        assert observer.bodies(1) == [b"Hello World"]
    finally:
        observer.close()


def test_seed_example_ssl_connection(activemq: Broker, tls_files: TlsFiles) -> None:
    assert activemq.mtls_port is not None
    host, port = activemq.host, activemq.mtls_port

    # --- seed example "SSL Connection" (host, port, credentials, paths changed) ---
    conn = stomp.Connection([(host, port)])

    # Configure SSL
    conn.set_ssl(
        for_hosts=[(host, port)],
        key_file=tls_files.client_key,
        cert_file=tls_files.client_cert,
        ca_certs=tls_files.ca,
    )

    conn.connect(activemq.login, activemq.passcode, wait=True)
    # --- end of the example ---

    try:
        assert conn.is_connected()
    finally:
        conn.disconnect()


@pytest.mark.parametrize("broker_name", ["rabbitmq", "activemq"])
def test_seed_example_transaction(broker_name: str, request: pytest.FixtureRequest) -> None:
    broker: Broker = request.getfixturevalue(broker_name)
    observer = Observer(broker, "/queue/test")
    try:
        # --- seed example "Transaction Example" (host, port, credentials changed) ---
        conn = stomp.Connection([(broker.host, broker.port)])
        conn.connect(broker.login, broker.passcode, wait=True)

        # Begin transaction
        conn.begin("tx-001")

        # Send messages in transaction
        conn.send(body="Message 1", destination="/queue/test", transaction="tx-001")
        conn.send(body="Message 2", destination="/queue/test", transaction="tx-001")

        # Commit transaction
        conn.commit("tx-001")

        conn.disconnect()
        # --- end of the example ---

        assert observer.bodies(2) == [b"Message 1", b"Message 2"]
    finally:
        observer.close()


class _Counter(stomp.ConnectionListener):
    """Counts what stomp.py users count: messages, heart-beats, errors, sends."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.messages: list[stomp.utils.Frame] = []
        self.errors: list[stomp.utils.Frame] = []
        self.receipts: list[str] = []
        self.heartbeats = 0
        self.connected: stomp.utils.Frame | None = None
        self.disconnected = False

    def _note(self, change: Callable[[], None]) -> None:
        with self.cond:
            change()
            self.cond.notify_all()

    def wait(self, predicate: Callable[[], bool]) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, WAIT)

    def on_connected(self, frame: stomp.utils.Frame) -> None:
        self._note(lambda: setattr(self, "connected", frame))

    def on_message(self, frame: stomp.utils.Frame) -> None:
        self._note(lambda: self.messages.append(frame))

    def on_error(self, frame: stomp.utils.Frame) -> None:
        self._note(lambda: self.errors.append(frame))

    def on_receipt(self, frame: stomp.utils.Frame) -> None:
        self._note(lambda: self.receipts.append(frame.headers["receipt-id"]))

    def on_heartbeat(self) -> None:
        self._note(lambda: setattr(self, "heartbeats", self.heartbeats + 1))

    def on_disconnected(self) -> None:
        self._note(lambda: setattr(self, "disconnected", True))


def test_rabbitmq_frame_padding_is_no_heartbeat_and_connected_keeps_its_headers(
    rabbitmq: Broker,
) -> None:
    # RabbitMQ writes NUL LF after every frame.  stomp.py 9.0.0, no heart-beats asked:
    # 0 on_heartbeat calls for 200 messages, and CONNECTED shows heart-beat:0,0.
    queue = f"/queue/padding-{uuid.uuid4().hex}"
    counter = _Counter()
    conn = stomp.Connection12([(rabbitmq.host, rabbitmq.port)], vhost=rabbitmq.vhost)
    conn.set_listener("counter", counter)
    conn.connect(rabbitmq.login, rabbitmq.passcode, wait=True)
    try:
        conn.subscribe(queue, id="1")
        for index in range(200):
            conn.send(queue, str(index))
        assert counter.wait(lambda: len(counter.messages) == 200)
        conn.send(queue, "last", receipt="last")  # one more round trip: the tail is in
        assert counter.wait(lambda: "last" in counter.receipts)
        assert counter.heartbeats == 0
        assert counter.connected is not None
        assert counter.connected.headers["heart-beat"] == "0,0"
        assert list(counter.connected.headers) == ["server", "session", "heart-beat", "version"]
    finally:
        conn.disconnect()


def test_rabbitmq_error_for_a_bad_destination_keeps_the_connection(rabbitmq: Broker) -> None:
    # RabbitMQ answers a SEND to /foo/bar with ERROR ("Unknown destination") and keeps
    # the session; stomp.py 9.0.0 stays connected and usable.  So must we.
    queue = f"/queue/after-error-{uuid.uuid4().hex}"
    counter = _Counter()
    conn = stomp.Connection12([(rabbitmq.host, rabbitmq.port)], vhost=rabbitmq.vhost)
    conn.set_listener("counter", counter)
    conn.connect(rabbitmq.login, rabbitmq.passcode, wait=True)
    try:
        conn.send("/foo/bar", "nowhere")
        assert counter.wait(lambda: len(counter.errors) == 1)
        assert counter.errors[0].headers["message"] == "Unknown destination"
        assert conn.is_connected()
        conn.subscribe(queue, id="1")
        conn.send(queue, "after the error", receipt="after")
        assert counter.wait(lambda: "after" in counter.receipts and len(counter.messages) == 1)
        assert counter.messages[0].body == "after the error"
        assert conn.is_connected()
        assert not counter.disconnected
    finally:
        conn.disconnect()
    assert counter.wait(lambda: counter.disconnected)

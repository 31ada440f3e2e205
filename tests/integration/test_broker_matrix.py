"""The integration matrix: every driver x STOMP 1.0/1.1/1.2 x {RabbitMQ, ActiveMQ}.

Each test runs once per combination of the ``driver``, ``version`` and ``broker``
fixtures (through ``connect``).  Absence checks ("this message was not delivered") are
made deterministic with a marker message sent afterwards on the same queue: queues are
FIFO on both brokers, so if the marker arrives first, the other message was not there.
"""

from __future__ import annotations

import uuid

import pytest
from adapter_api import ConnectFn, Received, Session
from broker_env import Broker

pytestmark = pytest.mark.integration

WAIT = 10.0  # seconds: the most any single expected frame may take on a loaded machine


def _receipt(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex[:8]}"


def _get(session: Session, what: str = "a MESSAGE") -> Received:
    message = session.get_message(WAIT)
    assert message is not None, f"{what} did not arrive within {WAIT} s"
    return message


def _bodies_until_marker(session: Session, marker: bytes) -> list[bytes]:
    """Bodies received before ``marker`` (which must arrive)."""
    bodies: list[bytes] = []
    while True:
        body = _get(session, f"marker {marker!r}").body
        if body == marker:
            return bodies
        bodies.append(body)
        assert len(bodies) < 100, "runaway redelivery"


def test_connect_negotiates_the_offered_version(connect: ConnectFn, version: str) -> None:
    session = connect()
    assert session.version == version
    assert session.heartbeat == (0, 0)
    assert session.disconnect(receipt=_receipt("bye"), timeout=WAIT)


def test_text_round_trip(connect: ConnectFn, queue: str) -> None:
    session = connect()
    session.subscribe(queue, "s1", receipt=_receipt("sub"))
    session.send(queue, b"Hello World", receipt=_receipt("send"))
    message = _get(session)
    assert message.body == b"Hello World"
    assert message.destination == queue
    assert message.subscription in (None, "s1")  # 1.0 brokers may omit it
    assert message.message_id


def test_non_ascii_text_in_body_and_header(connect: ConnectFn, queue: str) -> None:
    text = "Grüße, 世界: ☃ — ça marche"
    session = connect()
    session.subscribe(queue, "s1", receipt=_receipt("sub"))
    session.send(
        queue,
        text.encode("utf-8"),
        headers={"content-type": "text/plain;charset=utf-8", "x-note": "Grüße 世界"},
        receipt=_receipt("send"),
    )
    message = _get(session)
    assert message.body.decode("utf-8") == text
    assert message.header("x-note") == "Grüße 世界"


def test_binary_body_with_nul_bytes(connect: ConnectFn, queue: str) -> None:
    # Every byte value, NUL first and in the middle: only content-length can frame this.
    body = bytes(range(256)) * 4 + b"\x00\x00end\x00"
    session = connect()
    session.subscribe(queue, "s1", receipt=_receipt("sub"))
    session.send(queue, body, receipt=_receipt("send"))
    assert _get(session).body == body


def test_one_megabyte_body(connect: ConnectFn, queue: str) -> None:
    body = bytes((i * 31 + (i >> 12)) & 0xFF for i in range(1 << 20))
    session = connect()
    session.subscribe(queue, "s1", receipt=_receipt("sub"))
    session.send(queue, body, receipt=_receipt("send"), timeout=30.0)
    received = session.get_message(30.0)
    assert received is not None, "the 1 MiB message did not arrive within 30 s"
    assert len(received.body) == len(body)
    assert received.body == body


def test_ack_auto_consumes(connect: ConnectFn, queue: str) -> None:
    first = connect()
    first.subscribe(queue, "s1", ack="auto", receipt=_receipt("sub"))
    first.send(queue, b"one", receipt=_receipt("send"))
    assert _get(first).body == b"one"
    assert first.disconnect(receipt=_receipt("bye"), timeout=WAIT)

    second = connect()
    second.send(queue, b"marker", receipt=_receipt("send"))
    second.subscribe(queue, "s2", ack="auto")
    assert _bodies_until_marker(second, b"marker") == []


def test_ack_client_is_cumulative(connect: ConnectFn, queue: str) -> None:
    first = connect()
    first.subscribe(queue, "s1", ack="client", receipt=_receipt("sub"))
    for body in (b"m1", b"m2", b"m3"):
        first.send(queue, body)
    first.send(queue, b"m4", receipt=_receipt("send"))
    received = [_get(first) for _ in range(4)]
    assert [m.body for m in received] == [b"m1", b"m2", b"m3", b"m4"]
    # In 'client' mode an ACK acknowledges that message and all before it.
    first.ack(received[2])
    assert first.disconnect(receipt=_receipt("bye"), timeout=WAIT)

    second = connect()
    second.send(queue, b"marker", receipt=_receipt("send"))
    second.subscribe(queue, "s2", ack="auto")
    assert _bodies_until_marker(second, b"marker") == [b"m4"]


@pytest.mark.parametrize("version", ["1.1", "1.2"], ids=lambda v: f"stomp{v}")
def test_ack_client_individual(connect: ConnectFn, queue: str) -> None:
    first = connect()
    first.subscribe(queue, "s1", ack="client-individual", receipt=_receipt("sub"))
    for body in (b"m1", b"m2"):
        first.send(queue, body)
    first.send(queue, b"m3", receipt=_receipt("send"))
    received = [_get(first) for _ in range(3)]
    assert [m.body for m in received] == [b"m1", b"m2", b"m3"]
    first.ack(received[1])  # only m2
    assert first.disconnect(receipt=_receipt("bye"), timeout=WAIT)

    second = connect()
    second.send(queue, b"marker", receipt=_receipt("send"))
    second.subscribe(queue, "s2", ack="auto")
    assert sorted(_bodies_until_marker(second, b"marker")) == [b"m1", b"m3"]


@pytest.mark.parametrize("version", ["1.1", "1.2"], ids=lambda v: f"stomp{v}")
def test_nack_requeues_or_dead_letters(connect: ConnectFn, queue: str, broker: Broker) -> None:
    tag = uuid.uuid4().hex
    session = connect()
    session.subscribe(queue, "s1", ack="client-individual", receipt=_receipt("sub"))
    # persistent: ActiveMQ dead-letters only persistent messages (others are dropped).
    session.send(
        queue, b"poison", headers={"persistent": "true", "stomp_it": tag}, receipt=_receipt("send")
    )
    message = _get(session)
    assert message.body == b"poison"
    session.nack(message, receipt=_receipt("nack"))

    if broker.nack_requeues:
        # RabbitMQ: NACK means requeue; it comes back, flagged as a redelivery.
        again = _get(session, "the NACKed message, redelivered")
        assert again.body == b"poison"
        assert again.header("redelivered") == "true"
        session.ack(again)
        session.send(queue, b"marker", receipt=_receipt("send"))
        assert _get(session).body == b"marker"
    else:
        # ActiveMQ: NACK is a poison ack; the message moves to the dead-letter queue.
        session.send(queue, b"marker", receipt=_receipt("send"))
        marker = _get(session)
        assert marker.body == b"marker", "the NACKed message was redelivered"
        session.ack(marker)
        session.subscribe(
            "/queue/ActiveMQ.DLQ",
            "dlq",
            ack="client-individual",
            headers={"selector": f"stomp_it = '{tag}'"},
            receipt=_receipt("sub"),
        )
        dead = _get(session, "the NACKed message in ActiveMQ.DLQ")
        assert dead.body == b"poison"
        assert dead.header("stomp_it") == tag
        session.ack(dead)
    assert session.disconnect(receipt=_receipt("bye"), timeout=WAIT)


def test_transaction_commit_is_seen_by_another_connection(connect: ConnectFn, queue: str) -> None:
    producer = connect()
    consumer = connect()
    consumer.subscribe(queue, "s1", receipt=_receipt("sub"))

    producer.begin("tx1")
    producer.send(queue, b"t1", transaction="tx1")
    producer.send(queue, b"t2", transaction="tx1")
    producer.send(queue, b"outside", receipt=_receipt("send"))
    # FIFO: had t1/t2 been visible before COMMIT they would arrive before 'outside'.
    assert _get(consumer).body == b"outside"
    producer.commit("tx1", receipt=_receipt("commit"))
    assert [_get(consumer).body, _get(consumer).body] == [b"t1", b"t2"]


def test_transaction_abort_discards(connect: ConnectFn, queue: str) -> None:
    producer = connect()
    consumer = connect()
    consumer.subscribe(queue, "s1", receipt=_receipt("sub"))

    producer.begin("tx1")
    producer.send(queue, b"aborted-1", transaction="tx1")
    producer.send(queue, b"aborted-2", transaction="tx1")
    producer.abort("tx1", receipt=_receipt("abort"))
    producer.send(queue, b"marker", receipt=_receipt("send"))
    assert _bodies_until_marker(consumer, b"marker") == []


def test_receipts_for_each_client_frame(connect: ConnectFn, queue: str) -> None:
    # Each call below raises unless its own RECEIPT arrives (spec 1.2 "RECEIPT").
    session = connect()
    session.subscribe(queue, "s1", ack="client", receipt=_receipt("subscribe"))
    session.send(queue, b"x", receipt=_receipt("send"))
    message = _get(session)
    session.begin("tx1")
    session.ack(message, transaction="tx1")
    session.commit("tx1", receipt=_receipt("commit"))
    session.begin("tx2")
    session.abort("tx2", receipt=_receipt("abort"))
    session.unsubscribe("s1", receipt=_receipt("unsubscribe"))


def test_disconnect_with_receipt(connect: ConnectFn) -> None:
    session = connect()
    assert session.disconnect(receipt=_receipt("disconnect"), timeout=WAIT)


# ActiveMQ 5.17 checks its own silence once per interval and beats only after a whole
# period without a write, so its first heart-beat comes two intervals after CONNECTED
# (measured with a raw socket: 8.0 s, then every 4.0 s, with heart-beat:4000,4000; 2.0 s,
# then every 1.0 s, with 1000,1000), and up to two intervals pass after any frame it
# sends.  Before the core let a peer skip one interval (see
# HeartbeatSchedule.receive_deadline), the default tolerance (stomp.py's 1.5) declared a
# healthy ActiveMQ dead 1.5 intervals after CONNECTED, in every driver.  These tests use
# each driver's default tolerance, as a user who changes nothing does.


@pytest.mark.parametrize("version", ["1.1", "1.2"], ids=lambda v: f"stomp{v}")
def test_heartbeats_held_for_ten_seconds(connect: ConnectFn, queue: str) -> None:
    session = connect(heartbeats=(1000, 1000))
    assert session.heartbeat == (1000, 1000)
    # ActiveMQ closes a connection that stays silent past the interval; we time out a
    # silent broker after 2.5 intervals (the old rule: 1.5 s).  Ten seconds idle: neither
    # may happen.
    session.hold(10.0)
    assert session.heartbeats_received >= 5
    session.subscribe(queue, "s1", receipt=_receipt("sub"))
    session.send(queue, b"still alive", receipt=_receipt("send"))
    assert _get(session).body == b"still alive"
    assert session.disconnect(receipt=_receipt("bye"), timeout=WAIT)


@pytest.mark.parametrize("broker", ["activemq"], indirect=True)
@pytest.mark.parametrize("version", ["1.2"], ids=lambda v: f"stomp{v}")
def test_activemq_idle_at_stomppy_default_heartbeats(connect: ConnectFn, queue: str) -> None:
    """stomp.py's default ``heartbeats=(4000, 4000)`` with ActiveMQ: the old rule timed the
    broker out 6 s after CONNECTED (its first heart-beat comes at 8 s); 14 s idle, then
    the session still works."""
    session = connect(heartbeats=(4000, 4000))
    assert session.heartbeat == (4000, 4000)
    session.hold(14.0)
    assert session.heartbeats_received >= 2  # at 8 s and 12 s
    session.subscribe(queue, "s1", receipt=_receipt("sub"))
    session.send(queue, b"still alive", receipt=_receipt("send"))
    assert _get(session).body == b"still alive"
    assert session.disconnect(receipt=_receipt("bye"), timeout=WAIT)

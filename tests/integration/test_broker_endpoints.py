"""The other endpoints the broker scripts promise: RabbitMQ's extra vhosts and Web-STOMP,
ActiveMQ's IPv6 loopback listener."""

from __future__ import annotations

import dataclasses
import os
import threading
import uuid
from typing import Any

import pytest
from adapter_api import ConnectRefused, Driver, Session
from broker_env import Broker

import stomp

pytestmark = pytest.mark.integration

WAIT = 10.0


def _round_trip(session: Session, body: bytes) -> None:
    queue = f"/queue/stomp-it.ep.{uuid.uuid4().hex[:12]}"
    session.subscribe(queue, "s1", receipt="sub-1")
    session.send(queue, body, receipt="send-1")
    message = session.get_message(WAIT)
    assert message is not None
    assert message.body == body


@pytest.mark.parametrize("vhost", ["/", "127.0.0.1", "localhost"])
def test_rabbitmq_vhosts(driver: Driver, rabbitmq: Broker, vhost: str) -> None:
    # RabbitMQ maps the CONNECT host header to a vhost; clients often send the address
    # they dialled, so start-rabbitmq.sh creates these vhosts (spec 1.2 "CONNECT": host).
    session = driver.connect(dataclasses.replace(rabbitmq, vhost=vhost), version="1.2")
    try:
        _round_trip(session, f"vhost {vhost}".encode())
    finally:
        session.close()


def test_rabbitmq_unknown_vhost_is_refused(driver: Driver, rabbitmq: Broker) -> None:
    unknown = dataclasses.replace(rabbitmq, vhost=f"no-such-vhost-{uuid.uuid4().hex[:6]}")
    with pytest.raises(ConnectRefused):
        driver.connect(unknown, version="1.2")


def test_activemq_over_ipv6_loopback(driver: Driver, activemq: Broker) -> None:
    session = driver.connect(dataclasses.replace(activemq, host="::1"), version="1.2")
    try:
        _round_trip(session, b"over [::1]")
    finally:
        session.close()


class _Inbox(stomp.ConnectionListener):
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.frames: list[Any] = []
        self.receipts: set[str] = set()

    def on_message(self, frame: Any) -> None:
        with self.cond:
            self.frames.append(frame)
            self.cond.notify_all()

    def on_receipt(self, frame: Any) -> None:
        with self.cond:
            self.receipts.add(frame.headers["receipt-id"])
            self.cond.notify_all()


def test_rabbitmq_web_stomp_with_the_stomp_driver(rabbitmq: Broker) -> None:
    url = os.environ.get("RABBITMQ_WS_URL", "ws://127.0.0.1:15674/ws")
    host_port, _, path = url.removeprefix("ws://").partition("/")
    host, _, port = host_port.rpartition(":")
    conn = stomp.WSConnection(
        [(host, int(port))], ws_path="/" + path, vhost=rabbitmq.vhost, auto_decode=False
    )
    inbox = _Inbox()
    conn.set_listener("inbox", inbox)
    conn.connect(rabbitmq.login, rabbitmq.passcode, wait=True)
    try:
        queue = f"/queue/stomp-it.ws.{uuid.uuid4().hex[:12]}"
        text = "über WebSocket ✓".encode()
        conn.subscribe(queue, "s1", receipt="ws-sub")
        with inbox.cond:
            assert inbox.cond.wait_for(lambda: "ws-sub" in inbox.receipts, WAIT)
        conn.send(queue, text)
        with inbox.cond:
            assert inbox.cond.wait_for(lambda: len(inbox.frames) == 1, WAIT)
        assert inbox.frames[0].body == text
        # A body that is not UTF-8 goes as a binary WebSocket message, which RabbitMQ
        # accepts.  (It would deliver it in a *text* message -- its default
        # web_stomp.ws_frame -- that no conforming client may accept (RFC 6455 8.1), so
        # it goes to a queue nobody reads.)
        conn.send(queue + ".binary", bytes(range(256)), receipt="ws-send")
        with inbox.cond:
            assert inbox.cond.wait_for(lambda: "ws-send" in inbox.receipts, WAIT)
    finally:
        # RabbitMQ Web-STOMP closes the WebSocket on DISCONNECT instead of sending the
        # RECEIPT (scripts notes), so no receipt is awaited here.
        conn.disconnect()

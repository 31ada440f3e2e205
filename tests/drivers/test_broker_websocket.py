"""Embedded broker: STOMP over WebSocket on a second port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest
from broker_helpers import TIMEOUT, Closed, CoreClient, raw_exchange, subscribe

import stomp
from stomp_broker import Faults, RunningBroker
from stomp_core import ConnectionClosed, Send, Subscribe
from stomp_core.websocket import STOMP_SUBPROTOCOLS


@pytest.fixture
def ws_broker(broker_factory: Callable[..., RunningBroker]) -> RunningBroker:
    return broker_factory(ws_port=0)


def ws_address(broker: RunningBroker) -> tuple[str, int]:
    port = broker.broker.ws_port
    assert port is not None
    return (broker.host, port)


def test_websocket_and_tcp_clients_share_destinations(ws_broker: RunningBroker) -> None:
    with (
        CoreClient(ws_address(ws_broker), websocket=STOMP_SUBPROTOCOLS) as web,
        CoreClient(ws_broker) as tcp,
    ):
        assert web.connected is not None
        assert web.connected.version == "1.2"
        subscribe(web, "/topic/both", "1")
        tcp.send(Send(destination="/topic/both", body=b"\x00binary\xff", receipt="r"))
        tcp.receipt("r")
        assert web.message().body == b"\x00binary\xff"
        web.disconnect()


def test_subprotocol_restricts_the_version(ws_broker: RunningBroker) -> None:
    address = ws_address(ws_broker)
    with CoreClient(address, websocket=("v11.stomp",), version="1.1") as client:
        assert client.connected is not None
        assert client.connected.version == "1.1"
        assert client.ws is not None
        assert client.ws.subprotocol == "v11.stomp"
    with pytest.raises(Closed, match="no common protocol version"):
        CoreClient(address, websocket=("v10.stomp",), version="1.2")


def test_no_subprotocol_allows_every_version(ws_broker: RunningBroker) -> None:
    with CoreClient(ws_address(ws_broker), websocket=(), version="1.0") as client:
        assert client.connected is not None
        assert client.connected.version == "1.0"


def test_a_broker_limited_to_1_2_refuses_v10_stomp(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(ws_port=0, versions=("1.2",))
    with pytest.raises(Closed, match="refused the WebSocket handshake"):
        CoreClient(ws_address(broker), websocket=("v10.stomp",), version="1.0")


def test_plain_stomp_on_the_websocket_port_is_refused(ws_broker: RunningBroker) -> None:
    reply = raw_exchange(ws_address(ws_broker), b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00")
    assert reply.startswith(b"HTTP/1.1 400")


def test_silent_websocket_client_is_dropped(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(ws_port=0, connect_timeout=0.2)
    assert raw_exchange(ws_address(broker), b"") == b""


def test_fault_cuts_a_frame_inside_a_websocket_message(
    broker_factory: Callable[..., RunningBroker],
) -> None:
    broker = broker_factory(ws_port=0, faults=Faults(close_after_frames=1, close_mid_frame=True))
    with CoreClient(ws_address(broker), websocket=STOMP_SUBPROTOCOLS) as client:
        client.send(Subscribe(destination="/queue/a", id="1", receipt="cut"))
        with pytest.raises(Closed, match="middle of a frame"):
            client.next_frame()


def test_close_handshake_from_the_client_ends_the_session(ws_broker: RunningBroker) -> None:
    with CoreClient(ws_address(ws_broker), websocket=STOMP_SUBPROTOCOLS) as client:
        subscribe(client, "/queue/ws-close", "1", ack="client")
        with CoreClient(ws_broker) as producer:
            producer.send(Send(destination="/queue/ws-close", body=b"x"))
        assert client.message().body == b"x"
        assert client.ws is not None
        client.ws.close()
        client.sock.sendall(client.ws.data_to_send())
        assert isinstance(client.next_frame(), ConnectionClosed)
    ws_broker.wait_connections(0)
    assert ws_broker.queue_depth("/queue/ws-close") == 1  # unacknowledged: back in the queue


def test_refusing_connections_closes_both_listeners(ws_broker: RunningBroker) -> None:
    ws_broker.refuse_connections()
    for address in (tuple(ws_broker), ws_address(ws_broker)):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(address, timeout=TIMEOUT).close()
    ws_broker.accept_connections()
    with CoreClient(ws_address(ws_broker), websocket=STOMP_SUBPROTOCOLS) as client:
        client.disconnect()


def test_blocking_driver_over_websocket(ws_broker: RunningBroker) -> None:
    received = threading.Event()
    bodies: list[Any] = []

    class Listener(stomp.ConnectionListener):
        def on_message(self, frame: Any) -> None:
            bodies.append(frame.body)
            received.set()

    conn = stomp.WSConnection([ws_address(ws_broker)], timeout=TIMEOUT)
    conn.set_listener("l", Listener())
    conn.connect(wait=True)
    try:
        conn.subscribe("/queue/ws-driver", id="1")
        conn.send("/queue/ws-driver", "über WebSocket")
        assert received.wait(TIMEOUT)
        assert bodies == ["über WebSocket"]
    finally:
        conn.disconnect()

"""STOMP over WebSocket: the sans-IO adapter over wsproto, stacked under the core."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, Ping, Pong, Request, TextMessage

from stomp_core import (
    CLIENT,
    SERVER,
    Connect,
    Connected,
    LocalProtocolError,
    RemoteProtocolError,
    Send,
)
from stomp_core.client import Endpoint
from stomp_core.websocket import STOMP_SUBPROTOCOLS, WebSocketAdapter, subprotocol_versions

from .helpers import ConnectionPair, drain


def _handshake(
    client_protocols: tuple[str, ...] = STOMP_SUBPROTOCOLS,
    server_protocols: tuple[str, ...] = STOMP_SUBPROTOCOLS,
) -> tuple[WebSocketAdapter, WebSocketAdapter]:
    client = WebSocketAdapter(
        CLIENT, host="127.0.0.1:15674", target="/ws", subprotocols=client_protocols
    )
    server = WebSocketAdapter(SERVER, subprotocols=server_protocols)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    return client, server


def test_handshake_picks_the_best_common_subprotocol() -> None:
    client, server = _handshake(("v10.stomp", "v11.stomp"), STOMP_SUBPROTOCOLS)
    assert client.open
    assert server.open
    assert client.subprotocol == server.subprotocol == "v11.stomp"
    assert subprotocol_versions(client.subprotocol) == ("1.1",)
    assert subprotocol_versions(None) == ("1.0", "1.1", "1.2")


def test_stomp_session_over_websocket_with_any_message_split() -> None:
    """conformance 104: frames may span messages and messages may hold several frames."""
    client_ws, server_ws = _handshake()
    pair = ConnectionPair()
    pair.client.send(Connect(accept_version=("1.2",), host="/"), now=0)
    data = pair.client.data_to_send(now=0)
    for i in range(0, len(data), 5):  # a frame cut into many messages
        client_ws.send_stomp(data[i : i + 5])
    server_ws.receive_data(client_ws.data_to_send())
    pair.server.receive_data(server_ws.stomp_data(), now=0)
    [connect] = drain(pair.server)
    assert isinstance(connect, Connect)
    pair.server.send(Connected(version="1.2"), now=0)
    server_ws.send_stomp(pair.server.data_to_send(now=0))
    client_ws.receive_data(server_ws.data_to_send())
    pair.client.receive_data(client_ws.stomp_data(), now=0)
    drain(pair.client)
    # two frames, one of them binary, in one message
    pair.client.send(Send(destination="/q", body=b"text"), now=0)
    pair.client.send(Send(destination="/q", body=b"\xff\x00\xfe"), now=0)
    client_ws.send_stomp(pair.client.data_to_send(now=0))
    server_ws.receive_data(client_ws.data_to_send())
    pair.server.receive_data(server_ws.stomp_data(), now=0)
    first, second = drain(pair.server)
    assert isinstance(first, Send)
    assert isinstance(second, Send)
    assert second.body == b"\xff\x00\xfe"


def test_client_for_an_endpoint_wraps_and_unwraps() -> None:
    client = WebSocketAdapter.client(Endpoint("::1", 15674, None, "/ws"))
    raw = WSConnection(ConnectionType.SERVER)
    raw.receive_data(client.data_to_send())
    request = next(raw.events())
    assert isinstance(request, Request)
    assert (request.host, request.target) == ("[::1]:15674", "/ws")
    assert client.unwrap(raw.send(AcceptConnection(subprotocol="v12.stomp"))) == b""
    assert client.open
    # A ping waits; the next write carries the pong before the STOMP message.
    assert client.unwrap(raw.send(Ping(payload=b"p")) + raw.send(BytesMessage(data=b"\x00"))) == (
        b"\x00"
    )
    raw.receive_data(client.wrap(b"SEND\n\n\x00"))
    assert [type(e).__name__ for e in raw.events()] == ["Pong", "TextMessage"]
    assert client.unwrap(b"") == b""
    assert client.closed
    with pytest.raises(LocalProtocolError, match="not open"):
        client.wrap(b"\n")


def test_text_and_binary_messages_from_a_raw_peer() -> None:
    raw = WSConnection(ConnectionType.CLIENT)
    server = WebSocketAdapter(SERVER)
    server.receive_data(raw.send(Request(host="h", target="/", subprotocols=["v12.stomp"])))
    raw.receive_data(server.data_to_send())
    assert isinstance(next(raw.events()), AcceptConnection)
    server.receive_data(raw.send(TextMessage(data="\n")) + raw.send(BytesMessage(data=b"\n\n")))
    assert server.stomp_data() == b"\n\n\n"
    assert server.stomp_data() == b""
    server.receive_data(raw.send(Pong(payload=b"unsolicited")))  # ignored
    server.receive_data(raw.send(Ping(payload=b"p")))
    raw.receive_data(server.data_to_send())
    assert [type(e).__name__ for e in raw.events()] == ["Pong"]


def test_close_handshake() -> None:
    client, server = _handshake()
    client.close(1000, "bye")
    assert not client.open
    server.receive_data(client.data_to_send())
    assert server.closed
    assert server.close_code == 1000
    assert server.close_reason == "bye"
    client.receive_data(server.data_to_send())
    assert client.closed
    client.receive_eof()
    assert client.close_code == 1000  # the handshake's code stays
    client.close()  # already closing: nothing more
    assert client.data_to_send() == b""
    with pytest.raises(LocalProtocolError, match="not open"):
        client.send_stomp(b"SEND\n\n\x00")
    client.send_stomp(b"")  # nothing to send is never an error


def test_transport_end_without_close() -> None:
    client, server = _handshake()
    client.receive_eof()
    assert client.close_code == 1006
    assert not client.open
    server.close(1001)
    server.receive_data(b"")
    server.receive_eof()
    assert server.close_code is None or server.close_code == 1006


def test_server_rejects_non_stomp_subprotocols() -> None:
    client = WebSocketAdapter(CLIENT, subprotocols=("v10.stomp",))
    server = WebSocketAdapter(SERVER, subprotocols=("v12.stomp",))
    with pytest.raises(RemoteProtocolError, match="no STOMP sub-protocol"):
        server.receive_data(client.data_to_send())
    with pytest.raises(RemoteProtocolError, match="HTTP 400"):
        client.receive_data(server.data_to_send())
    assert client.closed


def test_client_rejects_a_subprotocol_it_did_not_offer() -> None:
    client = WebSocketAdapter(CLIENT, subprotocols=("v12.stomp",))
    request = client.data_to_send()
    key = re.search(rb"Sec-WebSocket-Key: (\S+)\r\n", request)
    assert key is not None
    accept = base64.b64encode(
        hashlib.sha1(key.group(1) + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
    )
    response = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: v10.stomp\r\n\r\n"
    )
    with pytest.raises(RemoteProtocolError, match="unrecognized subprotocol"):
        client.receive_data(response)
    assert not client.open


def test_garbage_is_a_remote_error() -> None:
    server = WebSocketAdapter(SERVER)
    with pytest.raises(RemoteProtocolError, match="WebSocket protocol error"):
        server.receive_data(b"NOT HTTP AT ALL\r\n\r\n")
    with pytest.raises(RemoteProtocolError, match="Bad HTTP message"):
        WebSocketAdapter(CLIENT).receive_data(b"NOT HTTP AT ALL\r\n\r\n")
    client, server = _handshake()
    client.receive_data(b"\x8f\x00")  # a reserved opcode: wsproto reports a close
    assert client.closed
    assert client.close_code == 1002


def test_unknown_subprotocol_name_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="not a STOMP sub-protocol"):
        WebSocketAdapter(CLIENT, subprotocols=("mqtt",))

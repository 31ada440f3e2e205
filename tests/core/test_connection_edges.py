"""Connection: argument checks, limits and the less travelled transitions."""

from __future__ import annotations

import pytest

from stomp_core import (
    CLIENT,
    NEED_DATA,
    SERVER,
    Begin,
    Config,
    Connect,
    Connected,
    Connection,
    ConnectionClosed,
    Disconnect,
    Error,
    Frame,
    IncompleteMessage,
    Limits,
    LocalProtocolError,
    Message,
    Receipt,
    RemoteProtocolError,
    Send,
    State,
    Subscribe,
    Unsubscribe,
)

from .helpers import ConnectionPair, drain


def test_constructor_checks_arguments() -> None:
    with pytest.raises(LocalProtocolError, match="role"):
        Connection("client")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="config"):
        Connection(CLIENT, {"versions": ("1.2",)})  # type: ignore[arg-type]


def test_read_only_properties() -> None:
    config = Config(versions=("1.1", "1.2"))
    pair = ConnectionPair(server_config=config)
    assert pair.server.role is SERVER
    assert pair.server.config is config
    assert pair.server.proposed_version is None
    pair.client.send(Connect(accept_version=("1.0", "1.1", "1.2"), host="/"), now=0)
    pair.to_server()
    assert pair.server.offered_versions == ("1.0", "1.1", "1.2")
    assert pair.server.proposed_version == "1.2"
    pair.server.send(Connected(version="1.2", server="test/1.0"), now=0)
    pair.to_client()
    assert pair.client.server == "test/1.0"
    assert pair.server.server == "test/1.0"


def test_empty_data_is_not_activity() -> None:
    pair = ConnectionPair()
    pair.connect("1.2", client_heart_beat=(0, 1000), server_heart_beat=(1000, 0))
    pair.client.receive_data(b"", now=1.0)
    assert pair.client.get_timer() == pytest.approx(2.5)


def test_unknown_command_from_server_is_fatal() -> None:
    """conformance 6: an unknown server command is a protocol error."""
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(b"PONG\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="unexpected 'PONG'"):
        pair.client.next_event()


def test_client_command_from_server_is_fatal() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(b"SEND\ndestination:/q\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="unexpected 'SEND'"):
        pair.client.next_event()


def test_stomp_command_from_10_client_after_connect_is_fatal() -> None:
    """conformance 7: NACK does not exist in 1.0."""
    pair = ConnectionPair()
    pair.connect("1.0")
    pair.server.receive_data(b"NACK\nmessage-id:1\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="unexpected 'NACK'"):
        pair.server.next_event()
    assert pair.server.data_to_send(now=0).startswith(b"ERROR\n")


def test_error_with_receipt_id_resolves_the_waiter() -> None:
    """conformance 91."""
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.send(Send(destination="/q", receipt="r1"), now=0)
    pair.to_server()
    pair.server.send(Error(message="no", receipt_id="r1"), now=0)
    assert pair.server.state is State.CLOSED
    [error] = pair.to_client()
    assert isinstance(error, Error)
    assert pair.client.pending_receipts == ()
    assert pair.client.state is State.CLOSED
    pair.client.receive_eof(now=0)
    assert drain(pair.client) == [ConnectionClosed(clean=True)]


def test_server_sees_disconnect_without_receipt() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.send(Disconnect(), now=0)
    assert pair.client.state is State.CLOSED
    [disconnect] = pair.to_server()
    assert isinstance(disconnect, Disconnect)
    assert pair.server.state is State.CLOSED
    pair.server.receive_eof(now=0)
    assert drain(pair.server) == [ConnectionClosed(clean=True)]


def test_send_rejects_non_events() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    with pytest.raises(LocalProtocolError, match="not a frame event"):
        pair.client.send("SEND", now=0)  # type: ignore[arg-type]


def test_extension_frame_before_connected_is_refused() -> None:
    client = Connection(CLIENT)
    with pytest.raises(LocalProtocolError, match="PING"):
        client.send(Frame("PING"), now=0)


def test_receipt_header_rules() -> None:
    """conformance 39-40: no receipt on CONNECT; unique receipt ids; bounded."""
    client = Connection(CLIENT)
    with pytest.raises(LocalProtocolError, match="CONNECT cannot carry a receipt"):
        client.send(Connect(host="/", headers={"receipt": "r"}), now=0)
    pair = ConnectionPair(client_config=Config(limits=Limits(max_pending_receipts=1)))
    pair.connect("1.2")
    pair.client.send(Send(destination="/q", headers={"receipt": "r1"}), now=0)
    assert pair.client.pending_receipts == ("r1",)
    with pytest.raises(LocalProtocolError, match="already awaited"):
        pair.client.send(Send(destination="/q", receipt="r1"), now=0)
    with pytest.raises(LocalProtocolError, match="too many receipts"):
        pair.client.send(Send(destination="/q", receipt="r2"), now=0)


def test_server_must_answer_with_an_offered_version() -> None:
    pair = ConnectionPair(server_config=Config(versions=("1.1", "1.2")))
    pair.client.send(Connect(accept_version=("1.1",), host="/"), now=0)
    pair.to_server()
    with pytest.raises(LocalProtocolError, match=r"cannot answer with version '1\.2'"):
        pair.server.send(Connected(version="1.2"), now=0)
    assert pair.server.state is State.CONNECTING


def test_connect_with_unknown_version_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="unsupported STOMP version"):
        Connection(CLIENT).send(Connect(accept_version=("2.0",)), now=0)


def test_subscription_rules() -> None:
    """conformance 75-76: ack modes per version; bounded subscriptions and transactions."""
    pair = ConnectionPair(client_config=Config(limits=Limits(max_subscriptions=1)))
    pair.connect("1.0")
    with pytest.raises(LocalProtocolError, match="client-individual"):
        pair.client.send(Subscribe(destination="/q", ack="client-individual"), now=0)
    pair.client.send(Subscribe(destination="/q"), now=0)  # 1.0: keyed by destination
    with pytest.raises(LocalProtocolError, match="too many subscriptions"):
        pair.client.send(Subscribe(destination="/r"), now=0)
    pair.client.send(Begin(transaction="t"), now=0)
    with pytest.raises(LocalProtocolError, match="already open"):
        pair.client.send(Begin(transaction="t"), now=0)
    with pytest.raises(LocalProtocolError, match="too many open transactions"):
        pair.client.send(Begin(transaction="u"), now=0)
    with pytest.raises(LocalProtocolError, match="not open"):
        pair.client.send(Send(destination="/q", transaction="u"), now=0)


def test_server_checks_client_frames_too() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.server.receive_data(b"SUBSCRIBE\ndestination:/q\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="'id'"):
        pair.server.next_event()


def test_no_timeouts_configured() -> None:
    config = Config(connect_timeout=None, disconnect_timeout=None)
    pair = ConnectionPair(client_config=config)
    pair.client.send(Connect(accept_version=("1.2",), host="/"), now=0)
    assert pair.client.get_timer() is None
    pair.to_server()
    pair.server.send(Connected(version="1.2"), now=0)
    pair.to_client()
    pair.client.send(Disconnect(receipt="d"), now=0)
    assert pair.client.get_timer() is None


def test_server_connect_timeout_from_construction() -> None:
    server = Connection(SERVER, Config(connect_timeout=5.0), now=10.0)
    assert server.get_timer() == 15.0
    server.handle_timer(now=15.0)
    assert type(server.next_event()).__name__ == "ConnectTimeout"
    assert server.state is State.CLOSED


def test_heartbeat_not_doubled_when_data_is_queued() -> None:
    pair = ConnectionPair()
    pair.connect("1.2", client_heart_beat=(1000, 0), server_heart_beat=(0, 1000))
    pair.client.send(Send(destination="/q"), now=0.5)  # queued, not yet written
    pair.client.handle_timer(now=0.8)
    data = pair.client.data_to_send(now=0.8)
    assert data.startswith(b"SEND\n")
    assert data.endswith(b"\x00")  # no EOL appended: the frame itself is activity


def test_data_to_send_without_heartbeats() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    assert pair.client.data_to_send(now=0) == b""
    pair.client.send(Send(destination="/q"), now=0)
    assert pair.client.data_to_send(now=0).startswith(b"SEND")


def test_frames_after_close_are_ignored() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(b"ERROR\nmessage:x\n\n\x00MESSAGE\n", now=0)
    [error] = drain(pair.client)
    assert isinstance(error, Error)
    pair.client.receive_data(b"more", now=0)
    assert pair.client.next_event() is NEED_DATA


def test_server_holds_frames_until_it_answers_connect() -> None:
    server = Connection(SERVER)
    server.receive_data(
        b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00SEND\ndestination:/a\\cb\n\n\x00", now=0
    )
    [connect] = drain(server)
    assert isinstance(connect, Connect)
    assert server.next_event() is NEED_DATA
    server.send(Connected(version="1.2"), now=0)
    [send] = drain(server)
    assert isinstance(send, Send)
    assert send.destination == "/a:b"  # unescaped with the 1.2 rules


def test_message_in_disconnecting_state_is_delivered() -> None:
    """Spec 1.2 "DISCONNECT": frames the server sent before the RECEIPT still arrive."""
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.send(Subscribe(destination="/q", id="0"), now=0)
    pair.to_server()
    pair.server.send(Message(destination="/q", message_id="1", subscription="0"), now=0)
    pair.client.send(Disconnect(receipt="d"), now=0)
    pair.to_server()
    pair.server.send(Receipt(receipt_id="d"), now=0)
    message, receipt = pair.to_client()
    assert isinstance(message, Message)
    assert receipt == Receipt(receipt_id="d")
    assert pair.client.state is State.CLOSED


def test_connect_needs_host_for_11_and_later() -> None:
    """conformance 51 and 53."""
    with pytest.raises(LocalProtocolError, match="needs a host"):
        Connection(CLIENT).send(Connect(accept_version=("1.1",)), now=0)
    with pytest.raises(LocalProtocolError, match=r"does not exist in STOMP 1\.0"):
        Connection(CLIENT).send(Connect(accept_version=("1.0",), stomp_command=True), now=0)
    client = Connection(CLIENT)
    client.send(Connect(accept_version=("1.0",)), now=0)  # 1.0 has no host header
    assert client.data_to_send(now=0) == b"CONNECT\n\n\x00"
    client = Connection(CLIENT, Config(versions=("1.2",)))
    client.send(Connect(host="vh", stomp_command=True), now=0)
    assert client.data_to_send(now=0) == b"STOMP\naccept-version:1.2\nhost:vh\n\n\x00"


def test_error_state_stays_sticky_after_eof() -> None:
    """After send_failed() the connection stays ERROR; EOF is still reported once."""
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.send_failed()
    pair.client.receive_eof(now=0)
    assert drain(pair.client) == [ConnectionClosed(clean=False)]
    assert pair.client.state is State.ERROR


def test_10_unsubscribe_by_destination_of_an_id_subscription() -> None:
    """Spec 1.0 "UNSUBSCRIBE": the destination may name a subscription made with an id."""
    pair = ConnectionPair()
    pair.connect("1.0")
    pair.client.send(Subscribe(destination="/q", id="7"), now=0)
    pair.client.send(Subscribe(destination="/q", id="8"), now=0)
    pair.client.send(Subscribe(destination="/r", id="9"), now=0)
    pair.client.send(Unsubscribe(destination="/q"), now=0)
    assert pair.client.subscriptions == {"9": "auto"}
    with pytest.raises(LocalProtocolError, match="no live subscription"):
        pair.client.send(Unsubscribe(destination="/q"), now=0)
    pair.client.send(Unsubscribe(id="9"), now=0)
    assert [type(e).__name__ for e in pair.to_server()] == ["Subscribe"] * 3 + ["Unsubscribe"] * 2
    assert pair.server.subscriptions == {}


@pytest.mark.parametrize(
    ("version", "wire", "missing"),
    [
        ("1.1", b"MESSAGE\ncontent-type:text/plain\n\nhi\x00", "destination"),
        ("1.1", b"MESSAGE\ndestination:/q\n\nhi\x00", "message-id"),
        ("1.2", b"MESSAGE\ndestination:/q\nmessage-id:7\n\nhi\x00", "subscription"),
    ],
)
def test_incomplete_message_is_an_event_when_accepted(
    version: str, wire: bytes, missing: str
) -> None:
    # stomp.py delivers such frames; a client that asks for them gets the raw frame and
    # the connection carries on.  By default a missing header is a protocol error.
    strict = ConnectionPair()
    strict.connect(version)
    strict.client.receive_data(wire, now=0)
    with pytest.raises(RemoteProtocolError, match=missing):
        strict.client.next_event()

    pair = ConnectionPair(client_config=Config(accept_incomplete_messages=True))
    pair.connect(version)
    pair.client.receive_data(wire + wire, now=0)
    first = pair.client.next_event()
    assert isinstance(first, IncompleteMessage)
    assert missing in first.reason
    assert first.frame.command == "MESSAGE"
    assert first.frame.body == b"hi"
    assert isinstance(pair.client.next_event(), IncompleteMessage)
    assert pair.client.state is State.CONNECTED
    pair.client.send(Send(destination="/q"), now=0)  # still usable
    # A framing fault stays fatal whatever the setting.
    pair.client.receive_data(b"MESSAGE\ncontent-length:x\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError):
        pair.client.next_event()

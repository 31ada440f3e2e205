"""Connection: negotiation, receipts, subscriptions, transactions, EOF and errors."""

from __future__ import annotations

import pytest

from stomp_core import (
    CLIENT,
    NEED_DATA,
    SERVER,
    Ack,
    Begin,
    Commit,
    Config,
    Connect,
    Connection,
    ConnectionClosed,
    Disconnect,
    Error,
    Frame,
    HeartbeatReceived,
    LocalProtocolError,
    Message,
    Nack,
    Receipt,
    RemoteProtocolError,
    Send,
    State,
    Subscribe,
    Unsubscribe,
)

from .helpers import ConnectionPair, drain


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_connect_and_exchange(version: str) -> None:
    pair = ConnectionPair()
    pair.connect(version)
    assert pair.client.state is pair.server.state is State.CONNECTED
    assert pair.client.session == "s-1"
    sub_id = None if version == "1.0" else "0"
    pair.client.send(Subscribe(destination="/queue/a", id=sub_id, ack="client"), now=0)
    [sub] = pair.to_server()
    assert isinstance(sub, Subscribe)
    assert sub.id == sub_id
    pair.client.send(Send(destination="/queue/a", body=b"x\x00y", receipt="r1"), now=0)
    [send] = pair.to_server()
    assert isinstance(send, Send)
    assert send.body == b"x\x00y"
    assert pair.client.pending_receipts == ("r1",)
    pair.server.send(Receipt(receipt_id="r1"), now=0)
    pair.server.send(
        Message(
            destination="/queue/a",
            message_id="m1",
            subscription=sub_id,
            ack="a1" if version == "1.2" else None,
            body=b"hello",
        ),
        now=0,
    )
    receipt, message = pair.to_client()
    assert receipt == Receipt(receipt_id="r1")
    assert isinstance(message, Message)
    assert pair.client.pending_receipts == ()
    pair.client.send(Ack(id=message.ack_id(version), subscription=sub_id), now=0)
    [ack] = pair.to_server()
    assert isinstance(ack, Ack)
    assert ack.id == ("a1" if version == "1.2" else "m1")
    pair.client.send(Disconnect(receipt="bye"), now=0)
    assert pair.client.state is State.DISCONNECTING
    [disconnect] = pair.to_server()
    assert isinstance(disconnect, Disconnect)
    pair.server.send(Receipt(receipt_id="bye"), now=0)
    assert pair.server.state is State.CLOSED
    assert pair.to_client() == [Receipt(receipt_id="bye")]
    assert pair.client.state is State.CLOSED
    pair.client.receive_eof(now=0)
    assert drain(pair.client) == [ConnectionClosed(clean=True)]
    assert pair.client.next_event() is NEED_DATA


def test_heartbeat_timers_are_exact() -> None:
    """conformance 63-68: negotiated intervals, EOL on send deadline, timeout on silence."""
    pair = ConnectionPair()
    pair.connect("1.2", client_heart_beat=(1000, 2000), server_heart_beat=(500, 4000))
    # client sends every max(1000, 4000) ms; server sends every max(500, 2000) ms.
    assert pair.client.heartbeat == (4000, 2000)
    assert pair.server.heartbeat == (2000, 4000)
    # client: send deadline 0 + 4 * 0.8, receive deadline 0 + 2 * 1.5
    assert pair.client.get_timer() == pytest.approx(3.0)
    pair.client.handle_timer(now=2.9)
    assert pair.client.data_to_send(now=2.9) == b""
    pair.client.receive_data(b"\n", now=2.5)  # activity moves the receive deadline
    assert drain(pair.client) == [HeartbeatReceived()]
    assert pair.client.get_timer() == pytest.approx(3.2)
    pair.client.handle_timer(now=3.2)
    assert pair.client.data_to_send(now=3.2) == b"\n"
    assert pair.client.get_timer() == pytest.approx(5.5)
    pair.client.handle_timer(now=5.5)
    [timeout] = drain(pair.client)
    assert type(timeout).__name__ == "HeartbeatTimeout"
    assert pair.client.state is State.CLOSED
    assert pair.client.get_timer() is None


def test_partial_frame_counts_as_activity() -> None:
    """conformance 67: any byte, even of an unfinished frame, is activity."""
    pair = ConnectionPair()
    pair.connect("1.1", client_heart_beat=(0, 1000), server_heart_beat=(1000, 0))
    assert pair.client.get_timer() == pytest.approx(1.5)
    pair.client.receive_data(b"MESS", now=1.4)
    assert pair.client.next_event() is NEED_DATA
    assert pair.client.get_timer() == pytest.approx(2.9)


def test_receive_buffered_counts_what_lazy_parsing_holds() -> None:
    """A driver reading ahead under back-pressure bounds its memory by this count."""
    pair = ConnectionPair()
    pair.connect("1.2")
    assert pair.client.receive_buffered == 0
    frame = b"MESSAGE\ndestination:/q\nmessage-id:1\nsubscription:s\n\nhi\x00"
    pair.client.receive_data(frame * 2 + b"MESS", now=1.0)
    assert pair.client.receive_buffered == 2 * len(frame) + 4
    assert type(pair.client.next_event()).__name__ == "Message"
    assert type(pair.client.next_event()).__name__ == "Message"
    assert pair.client.next_event() is NEED_DATA
    assert pair.client.receive_buffered == 4


def test_heartbeats_never_on_10() -> None:
    """conformance 59: a 1.0 session never heart-beats."""
    pair = ConnectionPair()
    pair.connect("1.0", client_heart_beat=(1000, 1000), server_heart_beat=(1000, 1000))
    assert pair.client.heartbeat == (0, 0)
    assert pair.client.get_timer() is None


def test_no_heartbeat_after_disconnect() -> None:
    """conformance 83: nothing after DISCONNECT, heart-beats included."""
    pair = ConnectionPair()
    pair.connect("1.2", client_heart_beat=(1000, 1000), server_heart_beat=(1000, 1000))
    pair.client.send(Disconnect(receipt="d"), now=0.5)
    pair.client.data_to_send(now=0.5)
    assert pair.client.get_timer() == pytest.approx(10.5)  # the disconnect-receipt wait
    pair.client.handle_timer(now=5.0)
    assert pair.client.data_to_send(now=5.0) == b""
    pair.client.handle_timer(now=10.5)
    [timeout] = drain(pair.client)
    assert type(timeout).__name__ == "DisconnectTimeout"
    assert pair.client.state is State.CLOSED


def test_connect_timeout() -> None:
    """conformance 58: no CONNECTED within the limit."""
    client = Connection(CLIENT, Config(connect_timeout=2.0))
    client.send(Connect(host="/"), now=1.0)
    assert client.get_timer() == 3.0
    client.handle_timer(now=2.0)
    assert client.next_event() is NEED_DATA
    client.handle_timer(now=3.0)
    assert type(client.next_event()).__name__ == "ConnectTimeout"
    with pytest.raises(LocalProtocolError):
        client.send(Send(destination="/q"), now=3.0)


def test_server_no_common_version_sends_error() -> None:
    """conformance 56: no common version -> ERROR then close."""
    pair = ConnectionPair(server_config=Config(versions=("1.2",)))
    pair.client.send(Connect(accept_version=("1.0", "1.1"), host="/"), now=0)
    with pytest.raises(RemoteProtocolError, match="no common protocol version") as info:
        pair.to_server()
    assert info.value.error_frame is not None
    assert pair.server.state is State.ERROR
    [error] = pair.to_client()
    assert isinstance(error, Error)
    assert "no common protocol version" in (error.message or "")
    assert pair.client.state is State.CLOSED


def test_client_rejects_version_not_offered() -> None:
    """conformance 55."""
    client = Connection(CLIENT)
    client.send(Connect(accept_version=("1.1",), host="/"), now=0)
    client.receive_data(b"CONNECTED\nversion:1.2\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="did not offer"):
        client.next_event()
    with pytest.raises(RemoteProtocolError):
        client.next_event()  # sticky
    assert client.state is State.ERROR


def test_error_in_reply_to_connect() -> None:
    """conformance 56: an ERROR answering CONNECT is an event."""
    client = Connection(CLIENT)
    client.send(Connect(host="/", login="u", passcode="bad"), now=0)
    client.receive_data(b"ERROR\nmessage:Bad credentials\n\nAccess refused\x00", now=0)
    [error] = drain(client)
    assert isinstance(error, Error)
    assert error.message == "Bad credentials"
    assert error.body == b"Access refused"
    assert client.state is State.CLOSED


def test_local_errors_leave_state_unchanged() -> None:
    pair = ConnectionPair()
    pair.connect("1.1")
    with pytest.raises(LocalProtocolError, match="'id'"):
        pair.client.send(Subscribe(destination="/q"), now=0)
    pair.client.send(Subscribe(destination="/q", id="s", ack="auto"), now=0)
    with pytest.raises(LocalProtocolError, match="already in use"):
        pair.client.send(Subscribe(destination="/q2", id="s"), now=0)
    with pytest.raises(LocalProtocolError, match="'auto'"):
        pair.client.send(Ack(id="m", subscription="s"), now=0)
    with pytest.raises(LocalProtocolError, match="not open"):
        pair.client.send(Commit(transaction="t"), now=0)
    with pytest.raises(LocalProtocolError, match="no live subscription"):
        pair.client.send(Unsubscribe(id="nope"), now=0)
    with pytest.raises(LocalProtocolError, match="CONNECT"):
        pair.client.send(Connect(host="/"), now=0)
    pair.client.send(Begin(transaction="t", receipt="r"), now=0)
    with pytest.raises(LocalProtocolError, match="already awaited"):
        pair.client.send(Commit(transaction="t", receipt="r"), now=0)
    pair.client.send(Commit(transaction="t"), now=0)
    pair.client.send(Unsubscribe(id="s"), now=0)
    events = pair.to_server()
    assert [type(e).__name__ for e in events] == ["Subscribe", "Begin", "Commit", "Unsubscribe"]
    assert pair.client.subscriptions == {}
    assert pair.client.transactions == ()


def test_nack_refused_on_10() -> None:
    """conformance 7/79."""
    pair = ConnectionPair()
    pair.connect("1.0")
    with pytest.raises(LocalProtocolError, match="NACK"):
        pair.client.send(Nack(id="m"), now=0)


def test_eof_mid_frame_is_an_error() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(b"MESSAGE\ndestination:/q\n", now=0)
    pair.client.receive_eof(now=0)
    with pytest.raises(RemoteProtocolError, match="middle of a frame"):
        pair.client.next_event()


def test_eof_reports_pending_receipts() -> None:
    """conformance 101: receipt waiters fail when the connection drops."""
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.send(Send(destination="/q", receipt="r9"), now=0)
    pair.client.receive_eof(now=0)
    assert drain(pair.client) == [ConnectionClosed(clean=False, pending_receipts=("r9",))]
    with pytest.raises(LocalProtocolError):
        pair.client.receive_data(b"x", now=0)


def test_extension_frame_and_raw_frame() -> None:
    """conformance 85: raw frames can be sent; known commands are checked."""
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.send(Frame("SEND", (("destination", "/q"),), b"raw"), now=0)
    pair.client.send(Frame("PING", (("x", "y"),)), now=0)
    assert pair.client.data_to_send(now=0).endswith(b"PING\nx:y\n\n\x00")
    with pytest.raises(LocalProtocolError):
        pair.client.send(Frame("SEND", ()), now=0)


def test_server_rejects_frame_before_connect() -> None:
    server = Connection(SERVER)
    server.receive_data(b"SEND\ndestination:/q\n\n\x00", now=0)
    with pytest.raises(RemoteProtocolError, match="unexpected 'SEND'"):
        server.next_event()
    assert server.data_to_send(now=0).startswith(b"ERROR\n")


def test_send_failed_breaks_connection() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.send(Send(destination="/q"), now=0)
    pair.client.send_failed()
    assert pair.client.state is State.ERROR
    with pytest.raises(LocalProtocolError):
        pair.client.send(Send(destination="/q"), now=0)


def test_pause_receive_timeout_for_back_pressure() -> None:
    """A driver that stops reading on purpose must not time the peer out."""
    pair = ConnectionPair()
    pair.connect("1.2", client_heart_beat=(1000, 1000), server_heart_beat=(1000, 1000))
    assert pair.client.get_timer() == pytest.approx(0.8)
    pair.client.pause_receive_timeout(now=0.5)
    pair.client.handle_timer(now=0.8)
    assert pair.client.data_to_send(now=0.8) == b"\n"
    pair.client.handle_timer(now=100.0)  # long past 1.5 s: no timeout while paused
    assert pair.client.next_event() is NEED_DATA
    assert pair.client.state is State.CONNECTED
    pair.client.data_to_send(now=100.0)
    pair.client.resume_receive_timeout(now=100.0)
    assert pair.client.get_timer() == pytest.approx(100.8)
    pair.client.handle_timer(now=101.5)
    assert type(pair.client.next_event()).__name__ == "HeartbeatTimeout"

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
    # client: send deadline 0 + 4 * 0.8, receive deadline 0 + 2 * (1 + 1.5)
    assert pair.client.get_timer() == pytest.approx(3.2)
    pair.client.handle_timer(now=3.1)
    assert pair.client.data_to_send(now=3.1) == b""
    pair.client.receive_data(b"\n", now=2.5)  # activity moves the receive deadline
    assert drain(pair.client) == [HeartbeatReceived()]
    pair.client.handle_timer(now=3.2)
    assert pair.client.data_to_send(now=3.2) == b"\n"
    assert pair.client.get_timer() == pytest.approx(6.4)
    pair.client.handle_timer(now=6.4)
    assert pair.client.data_to_send(now=6.4) == b"\n"
    assert pair.client.get_timer() == pytest.approx(7.5)  # 2.5 + 2 * 2.5
    pair.client.handle_timer(now=7.49)
    assert pair.client.next_event() is NEED_DATA
    pair.client.handle_timer(now=7.5)
    [timeout] = drain(pair.client)
    assert type(timeout).__name__ == "HeartbeatTimeout"
    assert pair.client.state is State.CLOSED
    assert pair.client.get_timer() is None


def test_partial_frame_counts_as_activity() -> None:
    """conformance 67: any byte, even of an unfinished frame, is activity."""
    pair = ConnectionPair()
    pair.connect("1.1", client_heart_beat=(0, 1000), server_heart_beat=(1000, 0))
    assert pair.client.get_timer() == pytest.approx(2.5)
    pair.client.receive_data(b"MESS", now=1.4)
    assert pair.client.next_event() is NEED_DATA
    assert pair.client.get_timer() == pytest.approx(3.9)


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
    pair.client.handle_timer(now=100.0)  # long past 2.5 s: no timeout while paused
    assert pair.client.next_event() is NEED_DATA
    assert pair.client.state is State.CONNECTED
    pair.client.data_to_send(now=100.0)
    pair.client.resume_receive_timeout(now=100.0)
    assert pair.client.get_timer() == pytest.approx(100.8)
    pair.client.handle_timer(now=102.49)
    assert pair.client.next_event() is NEED_DATA
    pair.client.handle_timer(now=102.5)
    assert type(pair.client.next_event()).__name__ == "HeartbeatTimeout"


def _activemq_client(interval_ms: int) -> Connection:
    """A client at stomp.py's defaults that got ActiveMQ 5.17's CONNECTED at t=0."""
    client = Connection(CLIENT, Config(), now=0.0)
    client.send(
        Connect(accept_version=("1.2",), host="/", heart_beat=(interval_ms, interval_ms)), now=0.0
    )
    client.data_to_send(now=0.0)
    # Byte for byte what ActiveMQ sent to a raw socket: the frame, its NUL and one EOL.
    client.receive_data(
        f"CONNECTED\nserver:ActiveMQ/5.17.2\nheart-beat:{interval_ms},{interval_ms}\n"
        "session:ID:1\nversion:1.2\n\n\x00\n".encode(),
        now=0.0,
    )
    # The EOL after CONNECTED's NUL, in the same read, is padding, not a heart-beat.
    assert [type(event).__name__ for event in drain(client)] == ["Connected"]
    return client


def _run_until(client: Connection, end: float, arrivals: dict[float, bytes]) -> list[str]:
    """Step a synthetic clock as a driver would, feeding ``arrivals``; the events seen."""
    seen: list[str] = []
    now = 0.0
    pending = sorted(arrivals.items())
    while now < end and client.state is State.CONNECTED:
        timer = client.get_timer()
        assert timer is not None
        if pending and pending[0][0] <= timer:
            now, data = pending.pop(0)
            client.receive_data(data, now=now)
        else:
            now = timer
            client.handle_timer(now=now)
        seen += [type(event).__name__ for event in drain(client)]
        client.data_to_send(now=now)
    return seen


@pytest.mark.parametrize("interval_ms", [4000, 1000])
def test_activemq_first_heartbeat_two_intervals_after_connected(interval_ms: int) -> None:
    """ActiveMQ's first heart-beat comes two intervals after CONNECTED (measured on 5.17
    with a raw socket: 8.0 s at 4000, 2.0 s at 1000), later every interval; after a
    MESSAGE sent just after one of its heart-beats the next comes almost two intervals
    later (8.1 s -> 16.0 s at 4000).  At stomp.py's scale (1.5) the connection stays up."""
    client = _activemq_client(interval_ms)
    n = interval_ms / 1000
    message = b"MESSAGE\nsubscription:1\nmessage-id:m\ndestination:/queue/q\n\nhi\x00\n"
    arrivals = {2 * n: b"\n", 2.025 * n: message, 4 * n: b"\n", 5 * n: b"\n", 6 * n: b"\n"}
    seen = _run_until(client, 6 * n + 1e-9, arrivals)
    assert "HeartbeatTimeout" not in seen
    assert client.state is State.CONNECTED
    # A broker that really died is still detected: 2.5 intervals after its last byte.
    assert client.get_timer() is not None
    seen = _run_until(client, 100 * n, {})
    assert seen == ["HeartbeatTimeout"]
    assert client.state is State.CLOSED


_ERROR_WITH_RECEIPT = b"ERROR\nmessage:Unknown destination\nreceipt-id:r2\n\nbad\x00\n"


def test_error_while_connected_can_leave_the_session_to_the_server() -> None:
    """Config.error_ends_session=False: RabbitMQ answers a SEND to an unknown
    destination with ERROR and keeps the session; so does the client (stomp.py's)."""
    pair = ConnectionPair(client_config=Config(error_ends_session=False))
    pair.connect("1.2", client_heart_beat=(0, 1000), server_heart_beat=(1000, 0))
    pair.client.send(Send(destination="/foo/bar", receipt="r1"), now=0)
    pair.client.send(Send(destination="/queue/q", receipt="r2"), now=0)
    pair.client.data_to_send(now=0)
    pair.client.receive_data(_ERROR_WITH_RECEIPT, now=1.0)
    [error] = drain(pair.client)
    assert isinstance(error, Error)
    assert pair.client.state is State.CONNECTED
    assert pair.client.pending_receipts == ("r1",)  # r2 was answered by the ERROR
    assert pair.client.get_timer() == pytest.approx(3.5)  # heart-beats still watched
    pair.client.send(Send(destination="/queue/q", body=b"again"), now=1.0)
    assert pair.client.data_to_send(now=1.0).startswith(b"SEND\n")
    pair.client.receive_data(
        b"MESSAGE\nsubscription:1\nmessage-id:m\ndestination:/queue/q\n\nx\x00", now=1.0
    )
    assert [type(event) for event in drain(pair.client)] == [Message]


def test_error_ends_the_session_by_default_and_always_before_connected_or_while_leaving() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(_ERROR_WITH_RECEIPT, now=0)
    assert [type(event) for event in drain(pair.client)] == [Error]
    assert pair.client.state is State.CLOSED
    lenient = Config(error_ends_session=False)
    client = Connection(CLIENT, lenient, now=0.0)
    client.send(Connect(accept_version=("1.2",), host="/"), now=0.0)
    client.receive_data(b"ERROR\nmessage:bad login\n\n\x00", now=0.0)
    assert isinstance(client.next_event(), Error)
    assert client.state is State.CLOSED
    pair = ConnectionPair(client_config=lenient)
    pair.connect("1.2")
    pair.client.send(Disconnect(receipt="bye"), now=0)
    pair.client.receive_data(b"ERROR\nmessage:no\n\n\x00", now=0)
    assert isinstance(pair.client.next_event(), Error)
    assert pair.client.state is State.CLOSED

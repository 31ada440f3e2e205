"""stomp_core._metrics: the counters a Connection keeps, and their snapshot."""

from __future__ import annotations

import pytest

from stomp_core import (
    CLIENT,
    SERVER,
    Ack,
    Config,
    Connect,
    Connected,
    Connection,
    Error,
    Frame,
    Message,
    Metrics,
    MetricsSnapshot,
    Nack,
    Receipt,
    RemoteProtocolError,
    Send,
    Subscribe,
)

from .helpers import ConnectionPair, drain


def _pair() -> ConnectionPair:
    pair = ConnectionPair(client_config=Config(), server_config=Config())
    pair.connect()
    return pair


def test_a_new_connection_counts_nothing() -> None:
    snapshot = Connection(CLIENT).metrics.snapshot()
    assert snapshot == MetricsSnapshot(
        frames_sent=0,
        frames_received=0,
        bytes_sent=0,
        bytes_received=0,
        messages_sent=0,
        messages_received=0,
        acks=0,
        nacks=0,
        heartbeats_sent=0,
        heartbeats_received=0,
        errors_received=0,
        connections=0,
        reconnects=0,
        receipts=0,
        receipt_rtt_p50=None,
        receipt_rtt_p99=None,
    )


def test_every_kind_of_frame_is_counted_on_both_sides() -> None:
    pair = _pair()
    client, server = pair.client, pair.server
    client.send(Subscribe(destination="/queue/a", id="1", ack="client-individual"), now=0.0)
    client.send(Send(destination="/queue/a", body=b"fast"), now=0.0)  # the hot path
    client.send(Send(destination="/queue/a", body=b"slow", receipt="r-1"), now=0.0)
    pair.to_server()
    for n in (1, 2):
        server.send(
            Message(destination="/queue/a", message_id=f"m-{n}", subscription="1", ack=f"a{n}"),
            now=0.0,
        )
    server.send(Receipt(receipt_id="r-1"), now=0.0)
    pair.to_client()
    client.send(Ack(id="a1"), now=0.0)
    client.send(Nack(id="a2"), now=0.0)
    pair.to_server()
    server.send(Error(message="bye"), now=0.0)
    pair.to_client()

    mine = client.metrics.snapshot()
    assert (mine.messages_sent, mine.acks, mine.nacks) == (2, 1, 1)
    # CONNECT, SUBSCRIBE, two SENDs, ACK, NACK.
    assert mine.frames_sent == 6
    # CONNECTED, two MESSAGEs, RECEIPT, ERROR.
    assert (mine.frames_received, mine.messages_received, mine.errors_received) == (5, 2, 1)
    assert mine.connections == 1
    assert mine.reconnects == 0
    theirs = server.metrics.snapshot()
    # The server's MESSAGEs are its messages sent, the client's SENDs its messages received.
    assert (theirs.messages_sent, theirs.messages_received) == (2, 2)
    assert theirs.frames_sent == 5  # CONNECTED, two MESSAGEs, RECEIPT, ERROR
    assert theirs.frames_received == 6
    # Bytes are the wire bytes, the same seen from both ends.
    assert mine.bytes_sent == theirs.bytes_received > 0
    assert mine.bytes_received == theirs.bytes_sent > 0


def test_an_extension_frame_is_a_frame_sent() -> None:
    pair = _pair()
    pair.client.send(Frame("PING", (("x", "1"),), b""), now=0.0)
    assert pair.client.metrics.snapshot().frames_sent == 2  # CONNECT, PING


def test_receipt_round_trips_come_from_the_drivers_now() -> None:
    pair = _pair()
    client, server = pair.client, pair.server
    for number, (sent, answered) in enumerate([(1.0, 1.5), (2.0, 2.25), (3.0, 4.0)]):
        client.send(Send(destination="/queue/a", body=b"x", receipt=f"r-{number}"), now=sent)
        server.receive_data(client.data_to_send(now=sent), now=sent)
        drain(server)
        server.send(Receipt(receipt_id=f"r-{number}"), now=answered)
        client.receive_data(server.data_to_send(now=answered), now=answered)
        drain(client)
    snapshot = client.metrics.snapshot()
    assert snapshot.receipts == 3
    assert snapshot.receipt_rtt_p50 == 0.5
    assert snapshot.receipt_rtt_p99 == 1.0


def test_a_receipt_nobody_timed_is_not_a_round_trip() -> None:
    pair = _pair()
    client = pair.client
    client.send(Send(destination="/queue/a", body=b"x", receipt="r-1"), now=0.0)
    pair.to_server()
    # An unknown id (the core passes it on: the client session decides about it).
    client.receive_data(b"RECEIPT\nreceipt-id:other\n\n\x00", now=1.0)
    [receipt] = drain(client)
    assert isinstance(receipt, Receipt)
    assert client.metrics.snapshot().receipts == 0


def test_a_receipt_without_its_id_is_not_a_round_trip() -> None:
    pair = _pair()
    client = pair.client
    client.send(Send(destination="/queue/a", body=b"x", receipt="r-1"), now=0.0)
    pair.to_server()
    client.receive_data(b"RECEIPT\n\n\x00", now=1.0)
    with pytest.raises(RemoteProtocolError):
        drain(client)
    assert client.metrics.snapshot().receipts == 0


def test_heartbeats_are_counted_in_both_directions() -> None:
    pair = ConnectionPair()
    pair.connect(client_heart_beat=(1000, 1000), server_heart_beat=(1000, 1000))
    client, server = pair.client, pair.server
    client.handle_timer(now=1.0)
    server.receive_data(client.data_to_send(now=1.0), now=1.0)
    drain(server)
    assert client.metrics.snapshot().heartbeats_sent == 1
    assert server.metrics.snapshot().heartbeats_received == 1


def test_one_metrics_object_counts_a_clients_reconnects() -> None:
    metrics = Metrics()
    for _ in range(3):
        client = Connection(CLIENT, metrics=metrics)
        server = Connection(SERVER)
        client.send(Connect(host="/"), now=0.0)
        server.receive_data(client.data_to_send(now=0.0), now=0.0)
        drain(server)
        server.send(Connected(version="1.2"), now=0.0)
        client.receive_data(server.data_to_send(now=0.0), now=0.0)
        drain(client)
        assert client.metrics is metrics
    snapshot = metrics.snapshot()
    assert (snapshot.connections, snapshot.reconnects, snapshot.frames_sent) == (3, 2, 3)


def test_the_window_keeps_the_latest_round_trips() -> None:
    metrics = Metrics(window=2)
    for seconds in (9.0, 0.1, 0.2):
        metrics.receipt_round_trip(seconds)
    snapshot = metrics.snapshot()
    assert snapshot.receipts == 3
    assert (snapshot.receipt_rtt_p50, snapshot.receipt_rtt_p99) == (0.1, 0.2)
    assert "receipts=3" in repr(metrics)


def test_percentiles_by_nearest_rank() -> None:
    metrics = Metrics()
    for number in range(1, 201):
        metrics.receipt_round_trip(number / 1000)
    snapshot = metrics.snapshot()
    assert snapshot.receipt_rtt_p50 == 0.1
    assert snapshot.receipt_rtt_p99 == 0.198


def test_the_window_must_hold_something() -> None:
    with pytest.raises(ValueError, match="window"):
        Metrics(window=0)


def test_an_error_naming_a_receipt_is_no_round_trip_and_is_forgotten() -> None:
    # The blocking driver keeps the session after an ERROR (RabbitMQ does), so what the
    # connection remembers per receipt must not outlive the ERROR that answered it.
    pair = ConnectionPair(client_config=Config(error_ends_session=False))
    pair.connect()
    client = pair.client
    client.send(Send(destination="/queue/a", body=b"x", receipt="r-1"), now=0.0)
    client.send(Send(destination="/queue/a", body=b"x", receipt="r-2"), now=0.0)
    pair.to_server()
    client.receive_data(b"ERROR\nreceipt-id:r-1\nmessage:no\n\n\x00", now=1.0)
    client.receive_data(b"ERROR\nmessage:unrelated\n\n\x00", now=1.0)
    drain(client)
    assert client._receipt_sent.keys() == {"r-2"}  # what the fix is about: no leak
    snapshot = client.metrics.snapshot()
    assert (snapshot.errors_received, snapshot.receipts) == (2, 0)

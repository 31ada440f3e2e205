"""The client's MESSAGE hot path: ``message_from_frame`` and the shortcut in
``Connection.next_event`` must behave exactly like the general path they bypass."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stomp_core import (
    CLIENT,
    NEED_DATA,
    SERVER,
    Config,
    Connect,
    Connection,
    ConnectionClosed,
    Disconnect,
    HeartbeatReceived,
    HeartbeatTimeout,
    IncompleteMessage,
    Message,
    Receipt,
    RemoteProtocolError,
    State,
)
from stomp_core._convert import frame_to_event, message_from_frame
from stomp_core._frame import Frame
from stomp_core._state import _CHECKS_RECEIVED, _EFFECTS, RECEIVE
from stomp_core._versions import rules_for

from .helpers import ConnectionPair, drain

VERSIONS = ("1.0", "1.1", "1.2")

# The typed headers, repeated and missing often, among others.
_names = st.sampled_from(
    ["destination", "message-id", "subscription", "ack", "content-type", "content-length", "x"]
)
_values = st.text(st.sampled_from("ab1/:"), max_size=3)


@st.composite
def message_frames(draw: st.DrawFn) -> Frame:
    headers = draw(st.lists(st.tuples(_names, _values), max_size=9))
    return Frame("MESSAGE", tuple(headers), draw(st.binary(max_size=4)))


def _general(frame: Frame, version: str) -> Message | None:
    try:
        event = frame_to_event(frame, rules_for(version))
    except RemoteProtocolError:
        return None
    assert isinstance(event, Message)
    return event


@pytest.mark.parametrize("version", VERSIONS)
@given(frame=message_frames())
def test_message_from_frame_equals_the_general_path(version: str, frame: Frame) -> None:
    # None exactly where the general path raises: it then decides and words the error.
    fast = message_from_frame(frame, rules_for(version))
    assert fast == _general(frame, version)
    if fast is not None:
        assert fast.headers == _general(frame, version).headers  # type: ignore[union-attr]


def test_repeats_stay_in_headers_and_content_length_is_recorded() -> None:
    frame = Frame(
        "MESSAGE",
        (
            ("destination", "/q"),
            ("content-length", "2"),
            ("message-id", "m"),
            ("destination", "/other"),
            ("content-length", "9"),
            ("subscription", "1"),
            ("x", "y"),
        ),
        b"hi",
    )
    event = message_from_frame(frame, rules_for("1.2"))
    assert event is not None
    assert (event.destination, event.message_id, event.subscription) == ("/q", "m", "1")
    assert event.body == b"hi"
    assert event.content_length
    # (A Message built by hand refuses a content-length header; a received one keeps
    # the repeat, as frame_to_event does.)
    assert event.headers == (("destination", "/other"), ("content-length", "9"), ("x", "y"))
    assert event == frame_to_event(frame, rules_for("1.2"))
    bare = Frame("MESSAGE", (("destination", "/q"), ("message-id", "m")), b"")
    assert message_from_frame(bare, rules_for("1.1")) == Message(
        destination="/q", message_id="m", content_length=False
    )


def test_the_shortcut_relies_on_the_tables() -> None:
    # Connection._process_received skips the tables for a client's MESSAGE in the
    # states where it changes nothing: keep that true, or the shortcut must go.
    # No rule checks a received MESSAGE (its required headers are checked as it is
    # built: conformance 94), and it has no effect.
    assert _CHECKS_RECEIVED[Message] == ()
    assert _EFFECTS[Message] is None
    kept = {state for (role, state), table in RECEIVE.items() if table.get("MESSAGE") is state}
    assert {State.CONNECTED, State.DISCONNECTING} <= kept


_MESSAGE = b"MESSAGE\ndestination:/q\nmessage-id:m\nsubscription:1\n\nhi\x00"


@pytest.mark.parametrize("version", VERSIONS)
def test_connection_delivers_messages_in_connected_and_disconnecting(version: str) -> None:
    pair = ConnectionPair()
    pair.connect(version)
    pair.client.receive_data(_MESSAGE, now=0)
    [event] = drain(pair.client)
    assert event == Message(
        destination="/q", message_id="m", subscription="1", body=b"hi", content_length=False
    )
    pair.client.send(Disconnect(receipt="bye"), now=0)
    assert pair.client.state is State.DISCONNECTING
    pair.client.receive_data(_MESSAGE, now=0)
    assert drain(pair.client) == [event]
    assert pair.client.state is State.DISCONNECTING


def test_a_12_message_without_subscription_takes_the_general_path() -> None:
    # The shortcut declines; the general path raises, or (as stomp.py does) delivers it
    # as an IncompleteMessage when the configuration asks for that.
    frame = b"MESSAGE\ndestination:/q\nmessage-id:m\n\nhi\x00"
    strict = ConnectionPair()
    strict.connect("1.2")
    strict.client.receive_data(frame, now=0)
    with pytest.raises(RemoteProtocolError, match="subscription"):
        drain(strict.client)
    lenient = ConnectionPair(client_config=Config(accept_incomplete_messages=True))
    lenient.connect("1.2")
    lenient.client.receive_data(frame, now=0)
    [event] = drain(lenient.client)
    assert isinstance(event, IncompleteMessage)
    assert lenient.client.state is State.CONNECTED


def test_a_message_before_connected_is_refused_by_the_tables() -> None:
    client = Connection(CLIENT)
    client.receive_data(_MESSAGE, now=0)
    with pytest.raises(RemoteProtocolError, match="unexpected 'MESSAGE'"):
        drain(client)


# --- Connection.next_frame_or_event: the raw MESSAGE frame for a compatibility layer ---


def _drain_raw(conn: Connection) -> list[object]:
    items: list[object] = []
    while (item := conn.next_frame_or_event()) is not NEED_DATA:
        items.append(item)
    return items


@pytest.mark.parametrize("version", VERSIONS)
def test_next_frame_or_event_hands_out_messages_as_parsed(version: str) -> None:
    pair = ConnectionPair()
    pair.connect(version)
    wire = (
        b"MESSAGE\nmessage-id:m\ndestination:/q\nsubscription:1\nx:1\nx:2\n"
        b"content-length:2\n\nhi\x00"
    )
    pair.client.receive_data(wire + b"RECEIPT\nreceipt-id:r\n\n\x00", now=0)
    frame, receipt = _drain_raw(pair.client)
    # Wire order, repeats and content-length kept: what stomp.py's users see.
    assert frame == Frame(
        "MESSAGE",
        (
            ("message-id", "m"),
            ("destination", "/q"),
            ("subscription", "1"),
            ("x", "1"),
            ("x", "2"),
            ("content-length", "2"),
        ),
        b"hi",
    )
    assert receipt == Receipt(receipt_id="r")  # every other frame: the event
    assert pair.client.metrics.snapshot().messages_received == 1
    # In DISCONNECTING too (the same tables); the general path would build this event.
    pair.client.send(Disconnect(receipt="bye"), now=0)
    pair.client.receive_data(wire, now=0)
    [again] = _drain_raw(pair.client)
    assert again == frame
    assert isinstance(frame, Frame)
    assert frame_to_event(frame, rules_for(version)) == Message(
        destination="/q",
        message_id="m",
        subscription="1",
        headers=(("x", "1"), ("x", "2")),
        body=b"hi",
        content_length=True,
    )


def test_next_frame_or_event_leaves_the_required_headers_to_the_caller() -> None:
    # next_event() would raise (conformance 94); the raw frame is the caller's to judge.
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(b"MESSAGE\ndestination:/q\n\nhi\x00", now=0)
    assert _drain_raw(pair.client) == [Frame("MESSAGE", (("destination", "/q"),), b"hi")]
    assert pair.client.state is State.CONNECTED


def test_next_frame_or_event_outside_the_shortcut_is_next_event() -> None:
    # Before CONNECTED a MESSAGE is refused by the tables, as next_event refuses it.
    client = Connection(CLIENT)
    client.receive_data(_MESSAGE, now=0)
    with pytest.raises(RemoteProtocolError, match="unexpected 'MESSAGE'"):
        client.next_frame_or_event()
    with pytest.raises(RemoteProtocolError, match="unexpected 'MESSAGE'"):
        client.next_frame_or_event()  # sticky
    # A server holds frames until it answered CONNECT.
    server = Connection(SERVER)
    server.receive_data(b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00", now=0)
    assert isinstance(server.next_frame_or_event(), Connect)
    server.receive_data(b"SEND\ndestination:/q\n\n\x00", now=0)
    assert server.next_frame_or_event() is NEED_DATA


def test_next_frame_or_event_heartbeats_timers_and_the_end() -> None:
    pair = ConnectionPair()
    pair.connect("1.2", client_heart_beat=(0, 1000), server_heart_beat=(1000, 0))
    pair.client.receive_data(b"\n", now=0.5)
    assert _drain_raw(pair.client) == [HeartbeatReceived()]
    pair.client.handle_timer(now=10.0)  # the broker fell silent: a queued event
    [timeout] = _drain_raw(pair.client)
    assert isinstance(timeout, HeartbeatTimeout)
    assert pair.client.next_frame_or_event() is NEED_DATA  # closed, no EOF yet
    pair.client.receive_eof(now=10.0)
    assert isinstance(pair.client.next_frame_or_event(), ConnectionClosed)


def test_next_frame_or_event_at_eof() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(b"MESSAGE\ndestin", now=0)
    pair.client.receive_eof(now=0)
    with pytest.raises(RemoteProtocolError, match="middle of a frame"):
        pair.client.next_frame_or_event()
    clean = ConnectionPair()
    clean.connect("1.2")
    clean.client.receive_eof(now=0)
    assert isinstance(clean.client.next_frame_or_event(), ConnectionClosed)


# --- Connection.take_messages: the rest of a read's MESSAGEs in one call ---------------


def test_take_messages_hands_out_the_run_that_next_frame_or_event_would() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    message = b"MESSAGE\nmessage-id:%d\ndestination:/q\nsubscription:1\n\nm%d\x00\n"
    wire = b"".join(message % (i, i) for i in range(3))
    pair.client.receive_data(wire + b"RECEIPT\nreceipt-id:r\n\n\x00" + message % (3, 3), now=0)
    # Called first after the read: it parses, and hands out the whole run.
    run = pair.client.take_messages()
    # The same frames, in the same order, as one next_frame_or_event() call each.
    reference = ConnectionPair()
    reference.connect("1.2")
    reference.client.receive_data(wire, now=0)
    assert [Frame(*fields) for fields in run] == _drain_raw(reference.client)
    assert [body for _, _, body in run] == [b"m0", b"m1", b"m2"]
    # It stops before the RECEIPT: that is next_frame_or_event's, then the next MESSAGE.
    assert pair.client.take_messages() == []
    assert pair.client.next_frame_or_event() == Receipt(receipt_id="r")
    [(_, _, last)] = pair.client.take_messages()
    assert last == b"m3"
    assert pair.client.metrics.snapshot().messages_received == 4
    # After next_frame_or_event took the first, the rest of the run.
    pair.client.receive_data(wire, now=0)
    first = pair.client.next_frame_or_event()
    assert isinstance(first, Frame)
    assert [body for _, _, body in pair.client.take_messages()] == [b"m1", b"m2"]
    assert pair.client.next_frame_or_event() is NEED_DATA


def _drain_take_first(conn: Connection) -> list[object]:
    # A compatibility layer's loop: take_messages first, next_frame_or_event when empty.
    items: list[object] = []
    while True:
        run = conn.take_messages()
        if run:
            items += [Frame(*fields) for fields in run]
            continue
        item = conn.next_frame_or_event()
        if item is NEED_DATA:
            return items
        items.append(item)


_MIXED_WIRE = (
    b"MESSAGE\nmessage-id:0\ndestination:/q\nsubscription:1\n\nm0\x00\n"
    b"MESSAGE\nmessage-id:1\ndestination:/q\\cx\nsubscription:1\ncontent-length:3\n\na\x00b\x00"
    b"\n\n"
    b"RECEIPT\nreceipt-id:r\n\n\x00"
    b"MESSAGE\nmessage-id:2\ndestination:/q\nsubscription:1\n\n" + b"x" * 40 + b"\x00\r\n"
    b"MESSAGE\nmessage-id:3\ndestination:/q\nsubscription:1\n\n\x00"
)


@given(cuts=st.lists(st.integers(0, len(_MIXED_WIRE)), max_size=6))
def test_take_messages_first_gives_what_next_frame_or_event_gives(cuts: list[int]) -> None:
    # However the bytes are split into reads: the same frames and events, in order
    # (heart-beats, a body split across reads, a frame after a RECEIPT).
    bounds = [0, *sorted(cuts), len(_MIXED_WIRE)]
    pieces = [_MIXED_WIRE[a:b] for a, b in itertools.pairwise(bounds)]
    got: list[object] = []
    expected: list[object] = []
    for drain_with, out in ((_drain_take_first, got), (_drain_raw, expected)):
        pair = ConnectionPair()
        pair.connect("1.2")
        for piece in pieces:
            pair.client.receive_data(piece, now=0)
            out += drain_with(pair.client)
    assert got == expected
    assert sum(isinstance(item, Frame) for item in got) == 4


def test_take_messages_raises_for_a_malformed_frame_after_the_good_ones() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    good = b"MESSAGE\nmessage-id:1\ndestination:/q\nsubscription:1\n\n\x00"
    pair.client.receive_data(good + b"MESSAGE\nno colon here\n\n\x00" + good, now=0)
    assert len(pair.client.take_messages()) == 1  # the good one comes first
    with pytest.raises(RemoteProtocolError, match="without ':'"):
        pair.client.take_messages()
    # The connection is broken: the error is sticky.
    with pytest.raises(RemoteProtocolError, match="without ':'"):
        pair.client.next_frame_or_event()
    assert pair.client.take_messages() == []


def test_take_messages_stops_at_a_heartbeat_and_outside_the_shortcut() -> None:
    pair = ConnectionPair()
    pair.connect("1.2", client_heart_beat=(0, 1000), server_heart_beat=(1000, 0))
    message = b"MESSAGE\nmessage-id:m\ndestination:/q\nsubscription:1\n\n\x00"
    pair.client.receive_data(message, now=0)
    assert isinstance(pair.client.next_frame_or_event(), Frame)
    # EOLs fed after that frame was taken are a heart-beat: the run ends before them.
    pair.client.receive_data(b"\n" + message + message, now=0)
    assert pair.client.take_messages() == []
    assert pair.client.next_frame_or_event() == HeartbeatReceived()
    assert isinstance(pair.client.next_frame_or_event(), Frame)
    [(command, headers, body)] = pair.client.take_messages()
    assert (command, dict(headers)["message-id"], body) == ("MESSAGE", "m", b"")
    # Events queued by the connection come first: take_messages leaves them alone.
    pair.client.receive_data(message + message, now=1.0)
    assert isinstance(pair.client.next_frame_or_event(), Frame)  # one more is parsed
    pair.client.handle_timer(now=10.0)  # the broker fell silent: a queued event
    assert pair.client.take_messages() == []
    assert isinstance(pair.client.next_frame_or_event(), HeartbeatTimeout)
    assert pair.client.take_messages() == []  # closed now
    # A server gets SENDs as events, never through this shortcut.
    server = Connection(SERVER)
    server.receive_data(b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00", now=0)
    assert isinstance(server.next_frame_or_event(), Connect)
    assert server.take_messages() == []


# --- Connection.offer_messages: a read's MESSAGE events, in one call ---------------------


def _events(connection: Connection) -> list[object]:
    events: list[object] = []
    while (event := connection.next_event()) is not NEED_DATA:
        events.append(event)
    return events


def test_offer_messages_hands_out_what_next_event_would_in_order() -> None:
    message = b"MESSAGE\nmessage-id:%d\ndestination:/q\nsubscription:1\n\nm%d\x00\n"
    wire = b"".join(message % (i, i) for i in range(4))
    wire += b"RECEIPT\nreceipt-id:r\n\n\x00" + message % (4, 4)
    reference = ConnectionPair()
    reference.connect("1.2")
    reference.client.receive_data(wire, now=0)
    expected = _events(reference.client)
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(wire, now=0)
    taken: list[Message] = []
    assert pair.client.offer_messages(taken.append) == 0  # nothing parsed yet: no call
    assert taken == []
    got: list[object] = [pair.client.next_event()]

    def take(event: Message) -> bool:
        taken.append(event)
        return True

    assert pair.client.offer_messages(take) == 3
    got += taken
    # It stops before the RECEIPT: that is next_event's, then the next MESSAGE.
    assert pair.client.offer_messages(take) == 0
    got += _events(pair.client)
    assert got == expected
    assert pair.client.metrics.snapshot().messages_received == 5


def test_offer_messages_parses_nothing_so_a_malformed_frame_is_next_events() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    good = b"MESSAGE\nmessage-id:1\ndestination:/q\nsubscription:1\n\n\x00"
    pair.client.receive_data(good + b"MESSAGE\nno colon here\n\n\x00", now=0)
    assert isinstance(pair.client.next_event(), Message)

    def refuse(event: Message) -> bool:
        raise AssertionError("not offered")

    assert pair.client.offer_messages(refuse) == 0  # the bad frame is not parsed here
    with pytest.raises(RemoteProtocolError, match="without ':'"):
        pair.client.next_event()


def test_a_refused_message_and_those_after_it_stay_for_next_event() -> None:
    message = b"MESSAGE\nmessage-id:%d\ndestination:/q\nsubscription:1\n\n\x00\n"
    pair = ConnectionPair()
    pair.connect("1.2")
    pair.client.receive_data(b"".join(message % i for i in range(5)), now=0)
    first = pair.client.next_event()
    offered: list[str] = []

    def two_only(event: Message) -> bool:
        offered.append(event.message_id)
        return len(offered) <= 2

    assert pair.client.offer_messages(two_only) == 2
    assert offered == ["1", "2", "3"]  # "3" was refused
    rest = _events(pair.client)
    assert [m.message_id for m in (first, *rest)] == ["0", "3", "4"]  # type: ignore[union-attr]
    assert pair.client.metrics.snapshot().messages_received == 5


def test_a_message_without_a_required_header_is_left_for_next_event_to_report() -> None:
    pair = ConnectionPair()
    pair.connect("1.2")
    good = b"MESSAGE\nmessage-id:%d\ndestination:/q\nsubscription:1\n\n\x00\n"
    bad = b"MESSAGE\nmessage-id:9\ndestination:/q\n\n\x00\n"  # no subscription (1.2)
    pair.client.receive_data(good % 0 + good % 1 + bad + good % 2, now=0)
    pair.client.next_event()
    taken: list[Message] = []
    assert pair.client.offer_messages(lambda m: taken.append(m) is None) == 1
    with pytest.raises(RemoteProtocolError, match="subscription"):
        pair.client.next_event()


def test_offer_messages_outside_a_clients_session_offers_nothing() -> None:
    def refuse(event: Message) -> bool:
        raise AssertionError("not offered")

    pair = ConnectionPair()
    pair.connect("1.2", client_heart_beat=(0, 1000), server_heart_beat=(1000, 0))
    message = b"MESSAGE\nmessage-id:m\ndestination:/q\nsubscription:1\n\n\x00"
    pair.client.receive_data(message * 3, now=1.0)
    assert isinstance(pair.client.next_event(), Message)
    pair.client.handle_timer(now=10.0)  # a queued event comes first
    assert pair.client.offer_messages(refuse) == 0
    assert isinstance(pair.client.next_event(), HeartbeatTimeout)
    assert pair.client.offer_messages(refuse) == 0  # closed now
    server = Connection(SERVER)
    server.receive_data(b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00", now=0)
    assert isinstance(server.next_event(), Connect)
    assert server.offer_messages(refuse) == 0
    unnegotiated = Connection(CLIENT)
    assert unnegotiated.offer_messages(refuse) == 0

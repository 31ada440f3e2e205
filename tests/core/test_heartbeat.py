"""Heart-beat header parsing and negotiation (spec 1.2 "Heart-beating")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stomp_core import CLIENT, Connect, Connection, RemoteProtocolError, negotiate_heartbeats
from stomp_core._heartbeat import HeartbeatSchedule, parse_heart_beat


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, (0, 0)), ("0,0", (0, 0)), ("1000,2500", (1000, 2500)), (" 10 , 20 ", (10, 20))],
)
def test_parse(value: str | None, expected: tuple[int, int]) -> None:
    """conformance 60-61: missing header is 0,0; spaces tolerated."""
    assert parse_heart_beat(value) == expected


@pytest.mark.parametrize("value", ["", "1", "1,2,3", "-1,0", "a,b", "1.5,2", "\u0661,\u0662"])
def test_parse_malformed(value: str) -> None:
    """conformance 62: a malformed heart-beat is a protocol error."""
    with pytest.raises(RemoteProtocolError, match="malformed heart-beat"):
        parse_heart_beat(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2147483647,0", (2147483647, 0)),  # Java's largest int: the limit, accepted
        ("0" * 5000 + "7,00010", (7, 10)),  # leading zeros do not count
    ],
)
def test_parse_at_the_limits(value: str, expected: tuple[int, int]) -> None:
    assert parse_heart_beat(value) == expected


@pytest.mark.parametrize("value", ["2147483648,0", "0," + "9" * 400, "9" * 5000 + ",0"])
def test_parse_refuses_an_interval_too_large(value: str) -> None:
    """A protocol error, not the ValueError of int() past 4300 digits nor the
    OverflowError of a deadline too large for a float."""
    with pytest.raises(RemoteProtocolError, match="larger than 2147483647 ms"):
        parse_heart_beat(value)


def test_a_broker_with_a_huge_heart_beat_is_refused_as_a_protocol_error() -> None:
    client = Connection(CLIENT)
    client.send(Connect(host="/", heart_beat=(1000, 1000)), now=0.0)
    client.data_to_send(now=0.0)
    connected = b"CONNECTED\nversion:1.2\nheart-beat:" + b"9" * 400 + b",1000\n\n\x00"
    client.receive_data(connected, now=0.0)
    with pytest.raises(RemoteProtocolError, match="larger than"):
        client.next_event()


@pytest.mark.parametrize(
    ("client", "server", "expected"),
    [
        ((0, 0), (1000, 1000), (0, 0)),
        ((1000, 0), (0, 1000), (1000, 0)),
        ((1000, 5000), (2000, 3000), (3000, 5000)),
        ((0, 5000), (2000, 3000), (0, 5000)),
        ((1000, 0), (2000, 3000), (3000, 0)),
    ],
)
def test_negotiate(
    client: tuple[int, int], server: tuple[int, int], expected: tuple[int, int]
) -> None:
    """conformance 63-64."""
    assert negotiate_heartbeats(client, server) == expected


@given(
    st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
)
def test_negotiate_properties(client: tuple[int, int], server: tuple[int, int]) -> None:
    to_server, to_client = negotiate_heartbeats(client, server)
    assert (to_server == 0) == (client[0] == 0 or server[1] == 0)
    assert (to_client == 0) == (server[0] == 0 or client[1] == 0)
    if to_server:
        assert to_server >= max(client[0], server[1])


def test_schedule_deadlines() -> None:
    schedule = HeartbeatSchedule(
        send_interval=2.0,
        receive_interval=0,
        send_factor=0.5,
        tolerance=2.0,
        last_send=1.0,
        last_receive=0.0,
    )
    assert schedule.send_deadline() == 2.0
    assert schedule.receive_deadline() is None
    schedule = HeartbeatSchedule(
        send_interval=0,
        receive_interval=3.0,
        send_factor=0.5,
        tolerance=2.0,
        last_send=1.0,
        last_receive=1.0,
    )
    assert schedule.send_deadline() is None
    assert schedule.receive_deadline() == 10.0  # 1 + 3 * (1 + 2)

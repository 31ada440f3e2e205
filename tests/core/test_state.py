"""Exhaustive (role, state, command) checks of the state machine, both directions.

Every frame command is tried in every state of both roles, sent and received.  The
outcome must match the tables of ``stomp_core._state``: an illegal frame raises
(LocalProtocolError when sent, with the state unchanged; RemoteProtocolError when
received), a legal one moves to the table's next state.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import ClassVar

import pytest

from stomp_core import (
    CLIENT,
    SERVER,
    Abort,
    Ack,
    Begin,
    Commit,
    Connect,
    Connected,
    Connection,
    Disconnect,
    Error,
    FrameEvent,
    LocalProtocolError,
    Message,
    Nack,
    Receipt,
    RemoteProtocolError,
    Role,
    Send,
    State,
    Subscribe,
    Unsubscribe,
)
from stomp_core._convert import event_to_frame
from stomp_core._state import RECEIVE, SEND, next_state
from stomp_core._versions import rules_for
from stomp_core._writer import serialize_frame

from .helpers import ConnectionPair, drain

VERSION = "1.2"

#: One valid event per command, consistent with the bookkeeping set up by ``_make``
#: (subscription "s0" and transaction "t0" exist).
SAMPLES: dict[str, FrameEvent] = {
    "CONNECT": Connect(accept_version=(VERSION,), host="/"),
    "STOMP": Connect(accept_version=(VERSION,), host="/", stomp_command=True),
    "CONNECTED": Connected(version=VERSION),
    "SEND": Send(destination="/q", body=b"x"),
    "SUBSCRIBE": Subscribe(destination="/q", id="s1", ack="client"),
    "UNSUBSCRIBE": Unsubscribe(id="s0"),
    "ACK": Ack(id="m"),
    "NACK": Nack(id="m"),
    "BEGIN": Begin(transaction="t1"),
    "COMMIT": Commit(transaction="t0"),
    "ABORT": Abort(transaction="t0"),
    "DISCONNECT": Disconnect(receipt="bye"),
    "MESSAGE": Message(destination="/q", message_id="m", subscription="s0", ack="a"),
    "RECEIPT": Receipt(receipt_id="bye"),
    "ERROR": Error(message="boom"),
}

STATES = [
    State.IDLE,
    State.CONNECTING,
    State.CONNECTED,
    State.DISCONNECTING,
    State.CLOSED,
    State.ERROR,
]


def _make(role: Role, state: State) -> Connection:
    """A connection of ``role`` driven into ``state`` through its public API."""
    pair = ConnectionPair()
    conn = pair.client if role is CLIENT else pair.server
    if state is State.IDLE:
        return conn
    pair.client.send(Connect(accept_version=(VERSION,), host="/"), now=0)
    pair.to_server()
    if state is State.CONNECTING:
        return conn
    pair.server.send(Connected(version=VERSION), now=0)
    pair.to_client()
    if state is State.ERROR:
        conn.send_failed()
        return conn
    pair.client.send(Subscribe(destination="/q", id="s0", ack="client"), now=0)
    pair.client.send(Begin(transaction="t0"), now=0)
    pair.to_server()
    if state is State.CONNECTED:
        return conn
    pair.client.send(Disconnect(receipt="bye"), now=0)
    pair.to_server()
    if state is State.DISCONNECTING:
        return conn
    pair.server.send(Receipt(receipt_id="bye"), now=0)
    pair.to_client()
    assert state is State.CLOSED
    return conn


@pytest.mark.parametrize(
    ("role", "state", "command"), list(itertools.product([CLIENT, SERVER], STATES, SAMPLES))
)
def test_send(role: Role, state: State, command: str) -> None:
    conn = _make(role, state)
    assert conn.state is state
    expected = next_state(SEND, role, state, command)
    if expected is None:
        with pytest.raises(LocalProtocolError):
            conn.send(SAMPLES[command], now=0)
        assert conn.state is state
        assert conn.data_to_send(now=0) == b""
        return
    conn.send(SAMPLES[command], now=0)
    # DISCONNECT with a receipt waits; RECEIPT of the DISCONNECT closes (data-dependent).
    assert conn.state is expected
    assert conn.data_to_send(now=0)


@pytest.mark.parametrize(
    ("role", "state", "command"), list(itertools.product([CLIENT, SERVER], STATES, SAMPLES))
)
def test_receive(role: Role, state: State, command: str) -> None:
    conn = _make(role, state)
    expected = next_state(RECEIVE, role, state, command)
    rules = rules_for(VERSION) if conn.version else None
    conn.receive_data(serialize_frame(event_to_frame(SAMPLES[command], rules), rules), now=0)
    if state in (State.CLOSED, State.ERROR):
        # Terminal: bytes are ignored (CLOSED) or the error repeats (ERROR).
        if state is State.ERROR:
            assert drain(conn) == []
        else:
            assert drain(conn) == []
        return
    if role is SERVER and state is State.CONNECTING:
        assert drain(conn) == []  # held until the server answers CONNECT
        return
    if expected is None:
        with pytest.raises(RemoteProtocolError):
            conn.next_event()
        assert conn.state is State.ERROR
        return
    [event] = drain(conn)
    assert type(event) is type(SAMPLES[command])
    if role is CLIENT and command == "RECEIPT" and state is State.DISCONNECTING:
        assert conn.state is State.CLOSED
    elif role is SERVER and command == "DISCONNECT":
        assert conn.state is State.DISCONNECTING
    else:
        assert conn.state is expected


def test_tables_cover_every_role_and_live_state() -> None:
    assert {key[0] for key in SEND} == {CLIENT, SERVER}
    assert (CLIENT, State.CLOSED) not in SEND
    assert (SERVER, State.ERROR) not in RECEIVE


@dataclass(frozen=True, slots=True, kw_only=True)
class _TaggedSubscribe(Subscribe):
    """An application's subclass of an event class."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _BareSend(FrameEvent):
    """A frame event of the SEND command that derives from no standard event class."""

    command: ClassVar[str] = "SEND"


def test_event_subclass_gets_its_base_class_rules() -> None:
    pair = ConnectionPair()
    pair.connect()
    pair.client.send(_TaggedSubscribe(destination="/q", id="s1"), now=0)
    assert pair.client.subscriptions == {"s1": "auto"}
    with pytest.raises(LocalProtocolError, match="already in use"):
        pair.client.send(_TaggedSubscribe(destination="/q", id="s1"), now=0)
    # No rules and no effects to inherit: checked by the tables only.
    pair.client.send(_BareSend(), now=0)
    assert pair.client.state is State.CONNECTED
    assert pair.client.data_to_send(now=0).endswith(b"SEND\n\n\x00")

"""The STOMP session state machine, as data.

Everything that decides whether a frame is legal in the current state lives in this
module; the connection only looks tables up (the h11 ``_state.py`` discipline).

Rules:

1. One :class:`State` per connection, the same names in both roles.  A client moves
   ``IDLE -> CONNECTING`` when it sends CONNECT; a server moves ``IDLE -> CONNECTING``
   when it receives one.  ``CONNECTING -> CONNECTED`` on CONNECTED (received by the
   client, sent by the server).
2. ``DISCONNECTING`` is entered when DISCONNECT is sent (client) or received (server).
   The client still receives MESSAGE and RECEIPT frames there (spec 1.2 "DISCONNECT":
   the server may deliver what it sent before the RECEIPT); it sends nothing more, not
   even heart-beats (conformance 83).
3. ``CLOSED`` is terminal and clean: after ERROR (spec 1.2 "ERROR": the server closes right
   after it), after the RECEIPT of DISCONNECT, after a DISCONNECT without receipt, after
   a timeout, or after EOF.
4. ``ERROR`` is terminal and sticky: the peer broke the protocol, or a write failed
   half-way (``send_failed``).
5. Frames that are not in a state's table are illegal there: a
   :class:`~stomp_core.LocalProtocolError` when we send them, a
   :class:`~stomp_core.RemoteProtocolError` when we receive them.

The tables map ``(role, state)`` to ``{command: next state}`` for each direction.  Two
transitions depend on data and are decided by the connection: a RECEIPT for the
DISCONNECT's receipt id closes the session, and a DISCONNECT without receipt closes it
at once.
"""

from __future__ import annotations

import enum

from ._versions import ALL_COMMANDS, COMMANDS

__all__ = ["CLIENT_COMMANDS", "RECEIVE", "SEND", "SERVER_COMMANDS", "Role", "State", "next_state"]


class Role(enum.Enum):
    """Which end of the connection we are."""

    # Identity hashing in C: the state tables are looked up on every frame, and Enum's
    # own __hash__ is a Python-level call.
    __hash__ = object.__hash__

    CLIENT = "client"
    SERVER = "server"


class State(enum.Enum):
    """The session state; see the module docstring for the transitions."""

    __hash__ = object.__hash__

    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTING = "disconnecting"
    CLOSED = "closed"
    ERROR = "error"


#: Commands a client sends after CONNECTED (extension commands are allowed too).
CLIENT_COMMANDS = frozenset(
    command for command, (sender, _since) in COMMANDS.items() if sender == "client"
) - {"CONNECT", "STOMP", "DISCONNECT"}
#: Commands a server sends after CONNECTED.
SERVER_COMMANDS = frozenset(
    command for command, (sender, _since) in COMMANDS.items() if sender == "server"
) - {"CONNECTED"}

#: A pseudo command for frames whose command is not a STOMP command (extension frames,
#: which only a client may send, and only once connected; spec 1.2 lets servers answer
#: them with ERROR).
EXTENSION = "*"

_C = State.CONNECTED

# (role, state) -> {command: next state}, for frames WE send.
SEND: dict[tuple[Role, State], dict[str, State]] = {
    (Role.CLIENT, State.IDLE): {"CONNECT": State.CONNECTING, "STOMP": State.CONNECTING},
    (Role.CLIENT, State.CONNECTED): {
        **dict.fromkeys(CLIENT_COMMANDS, _C),
        EXTENSION: _C,
        "DISCONNECT": State.DISCONNECTING,
    },
    (Role.SERVER, State.CONNECTING): {"CONNECTED": _C, "ERROR": State.CLOSED},
    (Role.SERVER, State.CONNECTED): {"MESSAGE": _C, "RECEIPT": _C, "ERROR": State.CLOSED},
    (Role.SERVER, State.DISCONNECTING): {"RECEIPT": State.CLOSED, "ERROR": State.CLOSED},
}

# (role, state) -> {command: next state}, for frames the PEER sends.
RECEIVE: dict[tuple[Role, State], dict[str, State]] = {
    (Role.CLIENT, State.CONNECTING): {"CONNECTED": _C, "ERROR": State.CLOSED},
    (Role.CLIENT, State.CONNECTED): {"MESSAGE": _C, "RECEIPT": _C, "ERROR": State.CLOSED},
    (Role.CLIENT, State.DISCONNECTING): {
        "MESSAGE": State.DISCONNECTING,
        "RECEIPT": State.DISCONNECTING,
        "ERROR": State.CLOSED,
    },
    (Role.SERVER, State.IDLE): {"CONNECT": State.CONNECTING, "STOMP": State.CONNECTING},
    (Role.SERVER, State.CONNECTED): {
        **dict.fromkeys(CLIENT_COMMANDS, _C),
        "DISCONNECT": State.DISCONNECTING,
    },
}


def next_state(
    table: dict[tuple[Role, State], dict[str, State]], role: Role, state: State, command: str
) -> State | None:
    """The state after ``command`` in ``table``, or ``None`` when it is illegal there."""
    allowed = table.get((role, state))
    if allowed is None:
        return None
    if command in allowed:
        return allowed[command]
    if command not in ALL_COMMANDS and EXTENSION in allowed:
        return allowed[EXTENSION]
    return None

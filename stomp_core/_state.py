"""The STOMP session state machine and every rule on what may be sent or received.

Rules of this module (h11's ``_state.py`` discipline):

1. Everything that decides whether a frame is legal lives here: the transition tables
   below, and :class:`SessionState`, which holds what the session remembers
   (negotiated version, subscriptions, transactions, awaited receipts) and checks each
   frame against it.  :class:`~stomp_core.Connection` only dispatches: it parses and
   serializes, keeps the timers and the buffers, and hands every frame to one path.
2. One path for both directions.  Rules are written from the point of view of the
   frame's *sender*: the same code checks a frame we send (and raises
   :class:`~stomp_core.LocalProtocolError`, leaving everything unchanged) and a frame
   we receive (and raises :class:`~stomp_core.RemoteProtocolError`).  The few rules
   that only one direction enforces say why.
3. Nothing here tests a version string: version facts come from the negotiated
   :class:`~stomp_core._versions.VersionRules`.

The states, the same names in both roles:

* ``IDLE -> CONNECTING``: the client sends CONNECT (or STOMP), the server receives it.
  ``CONNECTING -> CONNECTED`` on CONNECTED (received by the client, sent by the
  server).  STOMP 1.2 "Connecting": nothing but CONNECT comes first (conformance 48).
* ``DISCONNECTING`` is entered when DISCONNECT is sent (client) or received (server).
  The client still receives MESSAGE and RECEIPT frames there: the server may deliver
  what it sent before it read the DISCONNECT, and the RECEIPT comes last (STOMP 1.2
  "DISCONNECT").  It sends nothing more, not even heart-beats: "Clients MUST NOT send
  any more frames after the DISCONNECT frame is sent" (conformance 83).
* ``CLOSED`` is terminal and clean: after ERROR (STOMP 1.2 "ERROR": the server "MUST
  then close the connection just after sending the ERROR frame"), after the RECEIPT
  of DISCONNECT, after a DISCONNECT without receipt, after a timeout, or after EOF.
* ``ERROR`` is terminal and sticky: the peer broke the protocol, or a write failed
  half-way (``send_failed``).
* Frames that are not in a state's table are illegal there.

Two transitions depend on data, not only on the command; :meth:`SessionState.check`
decides them: a DISCONNECT without ``receipt`` closes at once (nothing will answer
it), and in ``DISCONNECTING`` a client's RECEIPT closes only when it carries the
DISCONNECT's receipt id.
"""

from __future__ import annotations

import enum

from ._convert import missing_headers
from ._errors import LocalProtocolError, RemoteProtocolError
from ._events import (
    Abort,
    Ack,
    Begin,
    Commit,
    Connect,
    Connected,
    Disconnect,
    Error,
    FrameEvent,
    Message,
    Nack,
    Receipt,
    Send,
    Subscribe,
    Unsubscribe,
)
from ._frame import get_header
from ._heartbeat import negotiate_heartbeats
from ._versions import (
    ALL_COMMANDS,
    COMMANDS,
    IMPLICIT_VERSION,
    VersionRules,
    negotiate_version,
    rules_for,
)

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs more
# than the rest of this module (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from ._config import Config

    _T = TypeVar("_T")
    # A rule looks at one frame in the light of the session and returns why it is
    # illegal, or None.
    _Rule = Callable[["SessionState", FrameEvent, bool], "str | None"]
    _Effect = Callable[["SessionState", FrameEvent, bool], None]

__all__ = [
    "CLIENT_COMMANDS",
    "RECEIVE",
    "SEND",
    "SERVER_COMMANDS",
    "Role",
    "SessionState",
    "State",
    "next_state",
    "receipt_of",
]


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


_CLIENT, _SERVER = Role.CLIENT, Role.SERVER
_IDLE, _CONNECTING, _C = State.IDLE, State.CONNECTING, State.CONNECTED
_DISCONNECTING, _CLOSED = State.DISCONNECTING, State.CLOSED
#: The states after which nothing is sent or parsed any more.
TERMINAL = (State.CLOSED, State.ERROR)

#: Commands a client sends after CONNECTED (extension commands are allowed too): its
#: commands in :data:`~stomp_core._versions.COMMANDS` but those that open or end the
#: session.
CLIENT_COMMANDS = frozenset(
    command for command, (sender, _since) in COMMANDS.items() if sender == _CLIENT.value
) - {"CONNECT", "STOMP", "DISCONNECT"}
#: Commands a server sends after CONNECTED: all of its commands but CONNECTED.
SERVER_COMMANDS = frozenset(
    command for command, (sender, _since) in COMMANDS.items() if sender == _SERVER.value
) - {"CONNECTED"}

#: A pseudo command for frames whose command is not a STOMP command (extension frames,
#: which only a client may send, and only once connected; STOMP 1.2 lets servers answer
#: them with ERROR, conformance 85).  No peer may send us one: we would not know what
#: it means, so it is a protocol error.
EXTENSION = "*"

# What each role may send, by state: the protocol as the sender sees it.  Both tables
# below are derived from this one, so a frame one end may send is one the other end
# accepts, except where the receive table says otherwise.
_SENT_BY: dict[Role, dict[State, dict[str, State]]] = {
    _CLIENT: {
        # STOMP 1.2 "CONNECT or STOMP Frame": either command opens the session.
        _IDLE: {"CONNECT": _CONNECTING, "STOMP": _CONNECTING},
        _C: {**dict.fromkeys(CLIENT_COMMANDS, _C), "DISCONNECT": _DISCONNECTING},
    },
    _SERVER: {
        # STOMP 1.2 "Connecting": the server accepts with CONNECTED or refuses with
        # ERROR and closes.
        _CONNECTING: {"CONNECTED": _C, "ERROR": _CLOSED},
        # STOMP 1.2 "Server Frames": MESSAGE, RECEIPT or ERROR; ERROR ends the session.
        _C: {"MESSAGE": _C, "RECEIPT": _C, "ERROR": _CLOSED},
        # The RECEIPT of the DISCONNECT ends the session (STOMP 1.2 "DISCONNECT"); the
        # server has read the DISCONNECT, so it delivers nothing more.
        _DISCONNECTING: {"RECEIPT": _CLOSED, "ERROR": _CLOSED},
    },
}

#: ``(our role, state) -> {command: next state}`` for frames WE send.
SEND: dict[tuple[Role, State], dict[str, State]] = {
    (role, state): dict(allowed)
    for role, by_state in _SENT_BY.items()
    for state, allowed in by_state.items()
}
# Extension frames (conformance 85): a connected client may send them.
SEND[_CLIENT, _C][EXTENSION] = _C

#: ``(our role, state) -> {command: next state}`` for frames the PEER sends.
RECEIVE: dict[tuple[Role, State], dict[str, State]] = {
    (_SERVER if role is _CLIENT else _CLIENT, state): dict(allowed)
    for role, by_state in _SENT_BY.items()
    for state, allowed in by_state.items()
}
# A client that sent DISCONNECT still receives what the server sent before reading it:
# MESSAGEs, and RECEIPTs of earlier frames, which leave the session DISCONNECTING (only
# the DISCONNECT's own receipt id closes it, decided by SessionState.check).  STOMP 1.2
# "DISCONNECT", "Connection Lingering".
RECEIVE[_CLIENT, _DISCONNECTING] = {
    "MESSAGE": _DISCONNECTING,
    "RECEIPT": _DISCONNECTING,
    "ERROR": _CLOSED,
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


def receipt_of(event: FrameEvent) -> str | None:
    """The receipt id a frame asks for: its typed field, else an extra ``receipt`` header.

    A raw :class:`~stomp_core.Frame` or a compatibility layer may put the header in
    ``headers`` (STOMP 1.2 "Header receipt": any client frame but CONNECT may carry one).
    """
    receipt: str | None = getattr(event, "receipt", None)
    if receipt is None and event.headers:
        receipt = get_header(event.headers, "receipt")
    return receipt


def _subscription_key(event: Subscribe | Unsubscribe) -> str:
    # STOMP 1.0 "SUBSCRIBE": the id is optional; without one the destination names the
    # subscription.
    return event.id if event.id is not None else event.destination or ""


def _lookup(table: dict[type[FrameEvent], _T], cls: type[FrameEvent], default: _T) -> _T:
    # The tables are keyed by exact type (one dict lookup per frame); a subclass of an
    # event class gets its base class's entry.
    for base in cls.__mro__:
        if base in table:
            return table[base]
    return default


# A rule (_Rule) looks at one frame in the light of the session and returns why it is
# illegal, or None.  ``sending`` is True for a frame we send; rules that only one
# direction enforces test it and say why.
_NO_RULES: tuple[_Rule, ...] = ()
_UNLISTED: Any = object()


class SessionState:
    """What one STOMP session remembers, and the rules that decide on each frame.

    The connection calls, for every frame in either direction: :meth:`check_command`
    (the tables: is this command legal now?), then, once the frame is an event,
    :meth:`check` (its content, against what the session remembers; returns the next
    state), and only when the frame is committed (queued or delivered),
    :meth:`apply`.  ``check_command`` and ``check`` change nothing.

    Args:
        role: our role.
        config: the connection's configuration (versions we speak, limits).

    Attributes:
        state: the session state.
        rules: the negotiated version's rules, ``None`` before CONNECTED.
        offered: the versions the client offered in CONNECT.
        heartbeat: the negotiated ``(outgoing, incoming)`` intervals in ms.
        session: CONNECTED's ``session`` header.
        server: CONNECTED's ``server`` header.
        pending_receipts: CLIENT role: receipt ids asked for and not yet answered,
            oldest first (a dict used as an ordered set).
        subscriptions: live subscriptions, id (or 1.0 destination) -> ack mode.
        transactions: open transaction ids, oldest first.
        clean_close: the session ended the way the protocol says it ends.
    """

    __slots__ = (
        "clean_close",
        "config",
        "connect_heart_beat",
        "disconnect_receipt",
        "heartbeat",
        "offered",
        "pending_receipts",
        "role",
        "rules",
        "server",
        "session",
        "state",
        "subscription_destinations",
        "subscriptions",
        "transactions",
    )

    def __init__(self, role: Role, config: Config) -> None:
        self.role = role
        self.config = config
        self.state = State.IDLE
        self.rules: VersionRules | None = None
        self.offered: tuple[str, ...] = ()
        self.connect_heart_beat: tuple[int, int] = (0, 0)
        self.heartbeat: tuple[int, int] = (0, 0)
        self.session: str | None = None
        self.server: str | None = None
        self.pending_receipts: dict[str, None] = {}
        self.disconnect_receipt: str | None = None
        self.subscriptions: dict[str, str] = {}
        self.subscription_destinations: dict[str, str] = {}
        self.transactions: dict[str, None] = {}
        self.clean_close = False

    # ------------------------------------------------------------------ checks

    def check_can_send(self) -> None:
        """Refuse any frame once the session is over (``CLOSED`` or ``ERROR``)."""
        if self.state in TERMINAL:
            raise LocalProtocolError(f"cannot send: the connection is {self.state.name}")

    def check_command(self, sender: Role, command: str) -> State:
        """The state after a ``command`` frame from ``sender``, by the tables.

        Raises:
            LocalProtocolError: we are the sender and may not send it now.
            RemoteProtocolError: the peer may not send it now.
        """
        state = self.state
        sending = sender is self.role
        # next_state() without the extension entry: a frame event always has a STOMP
        # command (raw extension frames go through check_extension).
        allowed = (SEND if sending else RECEIVE).get((self.role, state))
        target = allowed.get(command) if allowed is not None else None
        rules = self.rules
        if target is not None and (
            rules is None
            or command in (rules.client_commands if sender is _CLIENT else rules.server_commands)
        ):
            return target
        # Illegal in this state, or a command the negotiated version does not have
        # (conformance 6-7: NACK and STOMP do not exist in 1.0).
        if not sending:
            peer = "server" if sender is _SERVER else "client"
            raise RemoteProtocolError(
                f"unexpected {command!r} frame from the {peer} in state {state.name}"
            )
        raise LocalProtocolError(
            f"cannot send {command} in state {state.name}"
            + (f" with STOMP {rules.version}" if rules else "")
        )

    def check_extension(self, command: str) -> None:
        """Refuse an extension frame (a command STOMP does not define) we may not send.

        Conformance 85: a connected client may send one as is; it changes no state.
        """
        if next_state(SEND, self.role, self.state, command) is None:
            raise LocalProtocolError(f"cannot send {command!r} in state {self.state.name}")

    def check(self, sender: Role, event: FrameEvent, target: State) -> State:
        """Check ``event`` (legal by :meth:`check_command`) against the session.

        Args:
            sender: who sends the frame.
            event: the frame.
            target: the state :meth:`check_command` returned for its command.

        Returns:
            The state after the frame, with the data-dependent transitions applied.

        Raises:
            LocalProtocolError: we are the sender and the frame is illegal.
            RemoteProtocolError: the peer sent an illegal frame.
        """
        sending = sender is self.role
        table = _CHECKS_SENT if sending else _CHECKS_RECEIVED
        checks = table.get(type(event))
        if checks is None:
            checks = _lookup(table, type(event), _NO_RULES)
        for rule in checks:
            reason = rule(self, event, sending)
            if reason is not None:
                raise (LocalProtocolError if sending else RemoteProtocolError)(reason)
        if isinstance(event, Disconnect) and receipt_of(event) is None:
            # Nothing will answer a DISCONNECT without receipt: the session ends now.
            return _CLOSED
        if (
            target is _CLOSED
            and not sending
            and isinstance(event, Error)
            and self.state is _C
            and not self.config.error_ends_session
        ):
            # STOMP 1.2 "ERROR": the server "MUST then close the connection"; with
            # Config.error_ends_session off the client waits until it does (RabbitMQ
            # keeps the session after some ERRORs, and stomp.py's users carry on).
            return _C
        if (
            target is _DISCONNECTING
            and isinstance(event, Receipt)
            and event.receipt_id == self.disconnect_receipt
        ):
            # The RECEIPT of the DISCONNECT ends a graceful shutdown (STOMP 1.2
            # "DISCONNECT"); receipts of earlier frames do not.
            return _CLOSED
        return target

    # ------------------------------------------------------------------ effects

    def apply(self, sender: Role, event: FrameEvent, target: State) -> None:
        """Commit a checked frame: remember what it changes and enter ``target``.

        Never raises: when this runs, the frame is queued or delivered.
        """
        effect = _EFFECTS.get(type(event), _UNLISTED)
        if effect is _UNLISTED:
            effect = _lookup(_EFFECTS, type(event), None)
        if effect is not None:
            effect(self, event, sender is self.role)
        if sender is _CLIENT and self.role is _CLIENT:
            receipt: str | None = getattr(event, "receipt", None)  # receipt_of(), inlined
            if receipt is None and event.headers:
                receipt = get_header(event.headers, "receipt")
            if receipt is not None:
                # Answered by a RECEIPT, or by an ERROR naming it (STOMP 1.2 "ERROR").
                self.pending_receipts[receipt] = None
        self.state = target
        if target is _CLOSED:
            # Every frame that closes the session is its protocol end: ERROR, the RECEIPT
            # of DISCONNECT, or a DISCONNECT without receipt.
            self.clean_close = True

    def close(self) -> None:
        """The session ended without a closing frame (EOF, a timeout); ``ERROR`` stays."""
        if self.state is not State.ERROR:
            self.state = _CLOSED

    def fail(self) -> None:
        """The peer broke the protocol, or a write failed half-way: sticky ``ERROR``."""
        self.state = State.ERROR

    # ------------------------------------------------------------------ queries

    @property
    def version(self) -> str | None:
        """The negotiated version, or ``None`` before CONNECTED."""
        return self.rules.version if self.rules is not None else None

    def proposed_version(self) -> str | None:
        """SERVER role: the highest version both the client and we speak."""
        return negotiate_version(self.offered, self.config.versions)

    def keys_for_destination(self, event: Unsubscribe) -> list[str]:
        """The subscriptions an UNSUBSCRIBE without ``id`` names by destination.

        STOMP 1.0 "UNSUBSCRIBE": a client may name the subscription by its destination,
        even when it gave the SUBSCRIBE an id.
        """
        if event.id is not None:
            return []
        return [
            key
            for key, destination in self.subscription_destinations.items()
            if destination == event.destination
        ]


# ---------------------------------------------------------------------- the rules
#
# Each rule returns the reason a frame is illegal, or None.  They run in the order
# listed for the frame's type (_RULES, at the end); the first reason wins.  A rule
# applies in both directions unless it is declared with @_sent_only: then it only
# checks frames we send, and the table of received frames leaves it out.

_SENT_ONLY: set[_Rule] = set()


def _sent_only(rule: _Rule) -> _Rule:
    """Declare that ``rule`` only checks the frames we send (it says why)."""
    _SENT_ONLY.add(rule)
    return rule


@_sent_only
def _receipt_requested(session: SessionState, event: FrameEvent, sending: bool) -> str | None:
    # Receipts a client awaits must be told apart (conformance 40), and their number is
    # bounded like everything a peer can make us remember (conformance 45).  Checked on
    # what we send (client frames only, so we are the client): the server keeps no list
    # of receipts to answer.
    receipt: str | None = getattr(event, "receipt", None)  # receipt_of(), inlined
    if receipt is None and event.headers:
        receipt = get_header(event.headers, "receipt")
    if receipt is None:
        return None
    if receipt in session.pending_receipts:
        return f"receipt id {receipt!r} is already awaited"
    limit = session.config.limits.max_pending_receipts
    if len(session.pending_receipts) >= limit:
        return (
            f"too many receipts awaited ({len(session.pending_receipts)}; "
            "Limits.max_pending_receipts)"
        )
    return None


@_sent_only
def _headers_present(session: SessionState, event: FrameEvent, sending: bool) -> str | None:
    # The headers the negotiated version requires (STOMP 1.2 "Frames and Headers"; e.g.
    # a 1.2 MESSAGE without subscription, which the client would refuse).  A received
    # frame was already checked when it was parsed (frame_to_event, conformance 94).
    rules = session.rules
    missing = missing_headers(event, rules)
    if missing is not None:
        assert rules is not None  # missing_headers needs rules to find anything
        return f"{event.command} needs the {missing!r} header in STOMP {rules.version}"
    return None


@_sent_only
def _connect_without_receipt(session: SessionState, event: FrameEvent, sending: bool) -> str | None:
    # STOMP 1.2 "Header receipt": "Any client frame other than CONNECT MAY specify a
    # receipt header" (conformance 39).  We do not refuse a peer's: the server answers
    # CONNECT with CONNECTED anyway.
    if receipt_of(event) is not None:
        return "CONNECT cannot carry a receipt header"
    return None


def _connect_offer(session: SessionState, event: FrameEvent, sending: bool) -> str | None:
    assert isinstance(event, Connect)
    if sending:
        # The offer was ordered and checked by accept_versions() (conformance 49).
        offered = [rules_for(version) for version in event.accept_version or ()]
        if event.host is None and any(rules.connect_needs_host for rules in offered):
            # STOMP 1.1/1.2 "CONNECT or STOMP Frame": host is REQUIRED (conformance 51).
            return "CONNECT needs a host (the virtual host) for STOMP 1.1+"
        if event.stomp_command and not any("STOMP" in rules.client_commands for rules in offered):
            # A server that speaks none of the offered versions with STOMP would not
            # know the command (conformance 53).
            return "the STOMP command does not exist in STOMP 1.0"
        return None
    # STOMP 1.2 "Protocol Negotiation": with no common version the server "MUST respond
    # with an ERROR frame ... and then it MUST close the connection".  A client that
    # sends no accept-version speaks 1.0.
    offered_versions = event.accept_version or (IMPLICIT_VERSION,)
    if negotiate_version(offered_versions, session.config.versions) is None:
        return (
            f"no common protocol version: client offers "
            f"{','.join(event.accept_version or ())}, server supports "
            f"{','.join(session.config.versions)}"
        )
    return None


def _connected_version(session: SessionState, event: FrameEvent, sending: bool) -> str | None:
    # STOMP 1.2 "Protocol Negotiation": the server answers with one of the versions the
    # client offered (conformance 55), and can only answer with one it speaks.
    assert isinstance(event, Connected)
    offered = session.offered
    if sending:
        if event.version not in offered or event.version not in session.config.versions:
            return (
                f"cannot answer with version {event.version!r}: the client offered "
                f"{','.join(offered)}, we support {','.join(session.config.versions)}"
            )
    elif event.version not in offered:
        return (
            f"server chose version {event.version!r}, which we did not offer ({','.join(offered)})"
        )
    return None


def _subscribe(session: SessionState, event: FrameEvent, sending: bool) -> str | None:
    assert isinstance(event, Subscribe)
    rules = session.rules
    assert rules is not None  # only legal once CONNECTED
    if event.ack not in rules.ack_modes:
        # STOMP 1.2 "SUBSCRIBE ack Header": auto, client or client-individual; 1.0 has
        # no client-individual (conformance 75).
        return f"ack mode {event.ack!r} does not exist in STOMP {rules.version}"
    key = _subscription_key(event)
    if key in session.subscriptions:
        # STOMP 1.2 "SUBSCRIBE id Header": "different subscriptions MUST use different
        # subscription identifiers" (conformance 76).
        return f"subscription id {key!r} is already in use"
    if len(session.subscriptions) >= session.config.limits.max_subscriptions:
        # Bounded bookkeeping: a peer cannot make us remember without limit.
        return "too many subscriptions (Limits.max_subscriptions)"
    return None


def _unsubscribe(session: SessionState, event: FrameEvent, sending: bool) -> str | None:
    # STOMP 1.2 "UNSUBSCRIBE": the id "MUST match the subscription identifier of an
    # existing subscription" (conformance 77); 1.0 may name it by destination.
    assert isinstance(event, Unsubscribe)
    key = _subscription_key(event)
    if key not in session.subscriptions and not session.keys_for_destination(event):
        return f"no live subscription {key!r} to unsubscribe"
    return None


def _ack_subscription(session: SessionState, event: FrameEvent, sending: bool) -> str | None:
    # STOMP 1.2 "SUBSCRIBE ack Header": in auto mode "the client does not need to send
    # the server ACK frames"; the server acknowledges itself, so an ACK or NACK there
    # is a mistake (conformance 80).
    assert isinstance(event, Ack)  # and Nack
    if event.subscription is not None and session.subscriptions.get(event.subscription) == "auto":
        return f"cannot {event.command} on 'auto' subscription {event.subscription!r}"
    return None


def _transaction_open(session: SessionState, event: FrameEvent, sending: bool) -> str | None:
    # STOMP 1.2 "BEGIN": the transaction id binds SEND, COMMIT, ABORT, ACK and NACK to a
    # transaction BEGIN opened; naming any other is a mistake (conformance 82).
    transaction: str | None = getattr(event, "transaction", None)
    if transaction is not None and transaction not in session.transactions:
        return f"{event.command} names transaction {transaction!r}, which is not open"
    return None


def _begin(session: SessionState, event: FrameEvent, sending: bool) -> str | None:
    assert isinstance(event, Begin)
    if event.transaction in session.transactions:
        # STOMP 1.2 "BEGIN": "different transactions MUST use different transaction
        # identifiers" (conformance 81).
        return f"transaction {event.transaction!r} is already open"
    if len(session.transactions) >= session.config.limits.max_subscriptions:
        # Bounded like subscriptions (the same limit).
        return "too many open transactions (Limits.max_subscriptions)"
    return None


#: The rules each frame type must pass, in order.  Client frames are checked in both
#: directions (our own before sending, the client's when we are the server); the
#: server's frames are checked when we send them, and when received by the parser's
#: required-header check (frame_to_event).  Rules marked @_sent_only skip received
#: frames (_CHECKS_RECEIVED).
_RULES: dict[type[FrameEvent], tuple[_Rule, ...]] = {
    Connect: (_connect_without_receipt, _connect_offer),
    Connected: (_connected_version,),
    # Connection.send's fast path skips these for a client's SEND in CONNECTED that asks
    # for no receipt and names no transaction that is not open: keep it in step
    # (tests/core/test_send_fast_path.py compares the two paths).
    Send: (_receipt_requested, _transaction_open),
    Subscribe: (_receipt_requested, _headers_present, _subscribe),
    Unsubscribe: (_receipt_requested, _headers_present, _unsubscribe),
    Ack: (_receipt_requested, _headers_present, _ack_subscription, _transaction_open),
    Nack: (_receipt_requested, _headers_present, _ack_subscription, _transaction_open),
    Begin: (_receipt_requested, _begin),
    Commit: (_receipt_requested, _transaction_open),
    Abort: (_receipt_requested, _transaction_open),
    Disconnect: (_receipt_requested,),
    Message: (_headers_present,),
    Receipt: (),
    Error: (),
}

# The rules by direction, looked up once per frame: the frames we send pass every rule
# of their type, the frames we receive all but the @_sent_only ones.
_CHECKS_SENT = _RULES
_CHECKS_RECEIVED = {
    cls: tuple(rule for rule in rules if rule not in _SENT_ONLY) for cls, rules in _RULES.items()
}


# ---------------------------------------------------------------------- the effects
#
# What a committed frame changes in the session, besides its state.  ``sending`` is
# True for a frame we sent.


def _on_connect(session: SessionState, event: FrameEvent, sending: bool) -> None:
    assert isinstance(event, Connect)
    # A CONNECT without accept-version offers 1.0 (STOMP 1.2 "Protocol Negotiation").
    session.offered = event.accept_version or (IMPLICIT_VERSION,)
    session.connect_heart_beat = event.heart_beat


def _on_connected(session: SessionState, event: FrameEvent, sending: bool) -> None:
    assert isinstance(event, Connected)
    rules = session.rules = rules_for(event.version)
    session.session, session.server = event.session, event.server
    if rules.heart_beats:  # conformance 59: a 1.0 session never heart-beats
        # STOMP 1.2 "Heart-beating": each side's interval from both CONNECT's and
        # CONNECTED's heart-beat headers (conformance 63-64).
        to_server, to_client = negotiate_heartbeats(session.connect_heart_beat, event.heart_beat)
        session.heartbeat = (
            (to_server, to_client) if session.role is _CLIENT else (to_client, to_server)
        )


def _on_receipt(session: SessionState, event: FrameEvent, sending: bool) -> None:
    assert isinstance(event, Receipt)
    session.pending_receipts.pop(event.receipt_id, None)


def _on_error(session: SessionState, event: FrameEvent, sending: bool) -> None:
    # STOMP 1.2 "ERROR": an ERROR caused by a frame with a receipt names it in
    # receipt-id; that receipt will never come (conformance 91).
    assert isinstance(event, Error)
    if event.receipt_id is not None:
        session.pending_receipts.pop(event.receipt_id, None)


def _on_subscribe(session: SessionState, event: FrameEvent, sending: bool) -> None:
    assert isinstance(event, Subscribe)
    key = _subscription_key(event)
    session.subscriptions[key] = event.ack
    session.subscription_destinations[key] = event.destination


def _on_unsubscribe(session: SessionState, event: FrameEvent, sending: bool) -> None:
    assert isinstance(event, Unsubscribe)
    keys = [_subscription_key(event)]
    if keys[0] not in session.subscriptions:
        keys = session.keys_for_destination(event)
    for key in keys:
        del session.subscriptions[key]
        del session.subscription_destinations[key]


def _on_begin(session: SessionState, event: FrameEvent, sending: bool) -> None:
    assert isinstance(event, Begin)
    session.transactions[event.transaction] = None


def _on_end_transaction(session: SessionState, event: FrameEvent, sending: bool) -> None:
    assert isinstance(event, Begin)  # Commit or Abort
    session.transactions.pop(event.transaction, None)


def _on_disconnect(session: SessionState, event: FrameEvent, sending: bool) -> None:
    # The RECEIPT carrying this id ends the graceful shutdown (STOMP 1.2 "DISCONNECT").
    session.disconnect_receipt = receipt_of(event)


#: What each frame type changes when it is committed, besides the state (None:
#: nothing).  Receipts the client asks for are recorded by SessionState.apply.
_EFFECTS: dict[type[FrameEvent], _Effect | None] = {
    Connect: _on_connect,
    Connected: _on_connected,
    Send: None,
    Subscribe: _on_subscribe,
    Unsubscribe: _on_unsubscribe,
    Ack: None,
    Nack: None,
    Begin: _on_begin,
    Commit: _on_end_transaction,
    Abort: _on_end_transaction,
    Disconnect: _on_disconnect,
    Message: None,
    Receipt: _on_receipt,
    Error: _on_error,
}

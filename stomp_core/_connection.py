"""The sans-IO STOMP connection: bytes in, events out; events in, bytes out.

Call order for drivers (after **any** input: ``receive_data``, ``receive_eof``,
``send``, ``handle_timer``):

1. drain :meth:`Connection.next_event` until it returns :data:`NEED_DATA`;
2. write :meth:`Connection.data_to_send` to the transport (call
   :meth:`Connection.send_failed` if that write was cancelled half-way);
3. re-arm the timer from :meth:`Connection.get_timer` and call
   :meth:`Connection.handle_timer` when it expires.

Time is an input: every ``now`` is float seconds on one monotonic clock chosen by the
driver.  The core never reads a clock, never sleeps and never closes anything; a
terminal event (``ConnectionClosed``, ``HeartbeatTimeout``, ``ConnectTimeout``,
``DisconnectTimeout``, or ``Error`` received by a client) tells the driver to close the
transport.
"""

from __future__ import annotations

import dataclasses
from collections import deque

from ._config import Config
from ._convert import event_from_user_frame, event_to_frame, frame_to_event, missing_headers
from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._events import (
    FRAME_EVENTS,
    Abort,
    Ack,
    Begin,
    Commit,
    Connect,
    Connected,
    ConnectionClosed,
    ConnectTimeout,
    Disconnect,
    DisconnectTimeout,
    Error,
    Event,
    FrameEvent,
    HeartbeatReceived,
    HeartbeatTimeout,
    Receipt,
    Send,
    Subscribe,
    Unsubscribe,
)
from ._frame import Frame, get_header
from ._heartbeat import HeartbeatSchedule, negotiate_heartbeats
from ._reader import HEARTBEAT, FrameReader
from ._state import RECEIVE, SEND, Role, State, next_state
from ._util import Sentinel
from ._versions import SUPPORTED_VERSIONS, VersionRules, negotiate_version, rules_for
from ._writer import serialize_frame, serialize_send

__all__ = ["CLIENT", "NEED_DATA", "SERVER", "Connection"]

CLIENT = Role.CLIENT
SERVER = Role.SERVER

_TERMINAL = (State.CLOSED, State.ERROR)


def _receipt_of(event: FrameEvent) -> str | None:
    # The typed field, else an extra header (a raw frame or a compat layer may put it there).
    receipt: str | None = getattr(event, "receipt", None)
    if receipt is None and event.headers:
        receipt = get_header(event.headers, "receipt")
    return receipt


def _subscription_key(event: Subscribe | Unsubscribe) -> str:
    # A 1.0 SUBSCRIBE may lack an id; the destination then names the subscription.
    return event.id if event.id is not None else event.destination or ""


class NEED_DATA(Sentinel, metaclass=Sentinel):
    """Returned by :meth:`Connection.next_event` when no complete event is available."""


class Connection:
    """One STOMP session over one transport connection, in the CLIENT or SERVER role.

    Args:
        role: :data:`CLIENT` or :data:`SERVER`.
        config: versions, limits, heart-beat tolerance and timeouts.
        now: when the transport connected; starts a server's wait for CONNECT
            (``config.connect_timeout``).  A client's wait starts when it sends CONNECT.

    Reconnecting means a new ``Connection``.
    """

    def __init__(self, role: Role, config: Config | None = None, *, now: float | None = None):
        if not isinstance(role, Role):
            raise LocalProtocolError(f"role must be CLIENT or SERVER, got {role!r}")
        self._role = role
        self._config = config if config is not None else Config()
        if not isinstance(self._config, Config):
            raise LocalProtocolError(f"config must be a Config, got {config!r}")
        self._state = State.IDLE
        self._reader = FrameReader(self._config.limits)
        self._out = bytearray()
        self._events: deque[Event] = deque()
        self._rules: VersionRules | None = None
        self._offered: tuple[str, ...] = ()
        self._connect_heart_beat: tuple[int, int] = (0, 0)
        self._heartbeat: tuple[int, int] = (0, 0)
        self._schedule: HeartbeatSchedule | None = None
        self._session: str | None = None
        self._server: str | None = None
        self._pending_receipts: dict[str, None] = {}
        self._disconnect_receipt: str | None = None
        self._subscriptions: dict[str, str] = {}
        self._subscription_destinations: dict[str, str] = {}
        self._transactions: dict[str, None] = {}
        self._eof = False
        self._eof_reported = False
        self._clean_close = False
        self._receive_paused = False
        self._last_receive_time = now if now is not None else 0.0
        self._error: RemoteProtocolError | None = None
        self._connect_deadline: float | None = None
        self._disconnect_deadline: float | None = None
        if role is SERVER and now is not None and self._config.connect_timeout is not None:
            self._connect_deadline = now + self._config.connect_timeout

    # ------------------------------------------------------------------ state

    @property
    def role(self) -> Role:
        """Our role."""
        return self._role

    @property
    def config(self) -> Config:
        """The configuration this connection was built with."""
        return self._config

    @property
    def state(self) -> State:
        """The session state (see :class:`~stomp_core.State`)."""
        return self._state

    @property
    def version(self) -> str | None:
        """The negotiated version once CONNECTED was exchanged, else ``None``."""
        return self._rules.version if self._rules is not None else None

    @property
    def offered_versions(self) -> tuple[str, ...]:
        """The versions the client offered in CONNECT (empty before it)."""
        return self._offered

    @property
    def proposed_version(self) -> str | None:
        """SERVER role: the version to put in CONNECTED (the highest common one)."""
        return negotiate_version(self._offered, self._config.versions)

    @property
    def heartbeat(self) -> tuple[int, int]:
        """The negotiated ``(outgoing, incoming)`` heart-beat intervals in ms (0 = none)."""
        return self._heartbeat

    @property
    def session(self) -> str | None:
        """The ``session`` header of CONNECTED, if any."""
        return self._session

    @property
    def server(self) -> str | None:
        """The ``server`` header of CONNECTED, if any."""
        return self._server

    @property
    def pending_receipts(self) -> tuple[str, ...]:
        """Receipt ids we asked for and have not received, oldest first."""
        return tuple(self._pending_receipts)

    @property
    def subscriptions(self) -> dict[str, str]:
        """Live subscriptions: id -> ack mode (a copy)."""
        return dict(self._subscriptions)

    @property
    def transactions(self) -> tuple[str, ...]:
        """Open transaction ids, oldest first."""
        return tuple(self._transactions)

    @property
    def receive_buffered(self) -> int:
        """Bytes received and not yet returned as events (held back by lazy parsing).

        A driver that reads ahead while it holds events back (back-pressure) bounds its
        memory with this.
        """
        return self._reader.buffered

    # ------------------------------------------------------------------ input

    def receive_data(self, data: bytes | bytearray | memoryview, *, now: float) -> None:
        """Feed bytes read from the transport.  Any non-empty data is peer activity.

        Raises:
            LocalProtocolError: data after :meth:`receive_eof`.
        """
        if self._eof:
            raise LocalProtocolError("receive_data() after receive_eof()")
        if not data:
            return
        self._last_receive_time = now
        if self._schedule is not None:
            # conformance 67: any new data, even part of a frame, shows the peer is alive.
            self._schedule.last_receive = now
        if self._state not in _TERMINAL:
            self._reader.feed(data)

    def receive_eof(self, *, now: float) -> None:
        """The transport was closed by the peer (or failed)."""
        del now  # part of the uniform signature; EOF needs no timing
        self._eof = True

    def next_event(self) -> Event | type[NEED_DATA]:
        """The next event, or :data:`NEED_DATA` when more bytes are needed.

        Parsing is lazy: one frame per call, so not calling this is back-pressure.

        Raises:
            RemoteProtocolError: the peer broke the protocol.  The connection is now in
                the sticky ``ERROR`` state (every later call raises again); in the
                SERVER role the ERROR frame for the peer is already queued.
        """
        if self._events:
            return self._events.popleft()
        if self._error is not None:
            raise self._error
        if self._state in _TERMINAL or (
            # A server holds further frames until it answered CONNECT: their escaping
            # depends on the version it picks.
            self._role is SERVER and self._state is State.CONNECTING
        ):
            return self._eof_event() if self._eof else NEED_DATA
        try:
            item = self._reader.next_frame()
            if item is None:
                if not self._eof:
                    return NEED_DATA
                if self._reader.in_frame:
                    raise RemoteProtocolError(
                        "connection closed in the middle of a frame "
                        f"({self._reader.buffered} bytes buffered)"
                    )
                return self._eof_event()
            if item is HEARTBEAT:
                return HeartbeatReceived()
            assert isinstance(item, Frame)
            return self._process_received(item)
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise self._error from None  # type: ignore[misc]

    def _eof_event(self) -> Event | type[NEED_DATA]:
        # Reported once; afterwards there is nothing more to read.
        if self._eof_reported:
            return NEED_DATA
        self._eof_reported = True
        pending = self.pending_receipts
        if self._state is not State.ERROR:  # ERROR (after send_failed) stays sticky
            self._close()
        return ConnectionClosed(clean=self._clean_close, pending_receipts=pending)

    def _fail(self, exc: RemoteProtocolError) -> None:
        if self._role is SERVER and self._state not in _TERMINAL:
            # Spec 1.2 "ERROR": the server sends ERROR, then closes the connection.
            error = Frame("ERROR", (("message", exc.message),), b"")
            try:
                self._out += serialize_frame(error, self._rules)
            except ProtocolError:  # pragma: no cover - a message with CR/LF in 1.0
                error = Frame("ERROR", (("message", "protocol error"),), b"")
                self._out += serialize_frame(error, self._rules)
            exc.error_frame = error
        self._state = State.ERROR
        self._stop_timers()
        self._error = exc

    def _process_received(self, frame: Frame) -> Event:
        state = self._state
        target = None
        if frame.command in FRAME_EVENTS:
            target = next_state(RECEIVE, self._role, state, frame.command)
        if target is None or (
            self._rules is not None
            and frame.command
            not in (
                self._rules.server_commands if self._role is CLIENT else self._rules.client_commands
            )
        ):
            raise RemoteProtocolError(
                f"unexpected {frame.command!r} frame from the {self._peer_name} "
                f"in state {state.name}"
            )
        event = frame_to_event(frame, self._rules)
        self._check_received(event)
        self._state = target
        self._after_received(event)
        return event

    @property
    def _peer_name(self) -> str:
        return "server" if self._role is CLIENT else "client"

    def _check_received(self, event: FrameEvent) -> None:
        if isinstance(event, Connected):
            if event.version not in self._offered:
                raise RemoteProtocolError(
                    f"server chose version {event.version!r}, which we did not offer "
                    f"({','.join(self._offered)})"
                )
        elif isinstance(event, Connect):
            offered = event.accept_version or ("1.0",)
            if negotiate_version(offered, self._config.versions) is None:
                raise RemoteProtocolError(
                    f"no common protocol version: client offers "
                    f"{','.join(event.accept_version or ())}, server supports "
                    f"{','.join(self._config.versions)}"
                )
        elif self._role is SERVER:
            self._check_client_frame(event, RemoteProtocolError)

    def _after_received(self, event: FrameEvent) -> None:
        if isinstance(event, Connected):
            self._connect_deadline = None
            self._rules = self._reader.rules = rules_for(event.version)
            self._session, self._server = event.session, event.server
            self._start_heartbeats(
                negotiate_heartbeats(self._connect_heart_beat, event.heart_beat),
                now=self._last_receive_time,
            )
        elif isinstance(event, Connect):
            self._connect_deadline = None
            self._offered = event.accept_version or ("1.0",)
            self._connect_heart_beat = event.heart_beat
        elif isinstance(event, Receipt):
            self._pending_receipts.pop(event.receipt_id, None)
            if self._state is State.DISCONNECTING and event.receipt_id == self._disconnect_receipt:
                self._clean_close = True
                self._close()
        elif isinstance(event, Error):
            if event.receipt_id is not None:
                self._pending_receipts.pop(event.receipt_id, None)
            self._clean_close = True  # spec 1.2: the server closes right after ERROR
            self._close()
        elif self._role is SERVER:
            self._track_client_frame(event)
            if isinstance(event, Disconnect):
                self._stop_timers()
                if event.receipt is None:
                    self._clean_close = True
                    self._close()

    # ------------------------------------------------------------------ output

    def send(self, event: FrameEvent | Frame, *, now: float) -> None:
        """Validate ``event`` and queue its bytes (fetch them with :meth:`data_to_send`).

        A :class:`Frame` with a STOMP command is checked like the matching event; one
        with another command is an extension frame, sent as is once connected.

        Raises:
            LocalProtocolError: the event is illegal now; nothing was queued and the
                state is unchanged.
        """
        if (
            type(event) is Send
            and self._state is State.CONNECTED
            and self._role is CLIENT
            and event.receipt is None
            and (event.transaction is None or event.transaction in self._transactions)
            and (not event.headers or get_header(event.headers, "receipt") is None)
        ):
            # A client's hot path: a SEND that asks for no receipt, in an open transaction
            # if any, is legal now and changes no state; only its bytes remain to check.
            data = serialize_send(event)
            if data is not None:
                self._out += data
                return
        if self._state in _TERMINAL:
            raise LocalProtocolError(f"cannot send: the connection is {self._state.name}")
        if isinstance(event, Frame):
            if event.command in FRAME_EVENTS:
                if event.body and not FRAME_EVENTS[event.command].has_body:
                    # conformance 19: only SEND, MESSAGE and ERROR carry a body; refuse
                    # rather than drop it silently.
                    raise LocalProtocolError(f"a {event.command} frame cannot carry a body")
                event = event_from_user_frame(event, self._rules)
            else:
                self._send_extension(event)
                return
        if not isinstance(event, FrameEvent):
            raise LocalProtocolError(f"cannot send {event!r}: not a frame event")
        target = next_state(SEND, self._role, self._state, event.command)
        if target is None or (
            self._rules is not None
            and event.command
            not in (
                self._rules.client_commands if self._role is CLIENT else self._rules.server_commands
            )
        ):
            raise LocalProtocolError(
                f"cannot send {event.command} in state {self._state.name}"
                + (f" with STOMP {self._rules.version}" if self._rules else "")
            )
        if isinstance(event, Connect):
            # conformance 49: accept-version is an increasing list.
            offered = event.accept_version or self._config.versions
            for version in offered:
                rules_for(version)
            ordered = tuple(sorted(set(offered), key=SUPPORTED_VERSIONS.index))
            if ordered != event.accept_version:
                event = dataclasses.replace(event, accept_version=ordered)
        receipt = _receipt_of(event)
        self._check_sent(event, receipt)
        data = serialize_frame(event_to_frame(event, self._rules), self._rules)
        # Nothing below may raise: the frame is accepted.
        self._out += data
        self._state = target
        self._after_sent(event, receipt, now)

    def _send_extension(self, frame: Frame) -> None:
        if next_state(SEND, self._role, self._state, frame.command) is None:
            raise LocalProtocolError(f"cannot send {frame.command!r} in state {self._state.name}")
        self._out += serialize_frame(frame, self._rules)

    def _check_sent(self, event: FrameEvent, receipt: str | None) -> None:
        if receipt is not None and isinstance(event, Connect):
            # conformance 39: CONNECT cannot ask for a receipt.
            raise LocalProtocolError("CONNECT cannot carry a receipt header")
        if receipt is not None and self._role is CLIENT:
            if receipt in self._pending_receipts:
                raise LocalProtocolError(f"receipt id {receipt!r} is already awaited")
            if len(self._pending_receipts) >= self._config.limits.max_pending_receipts:
                raise LocalProtocolError(
                    f"too many receipts awaited ({len(self._pending_receipts)}; "
                    "Limits.max_pending_receipts)"
                )
        if isinstance(event, Connect):
            offered = event.accept_version or ()
            modern = any(version != "1.0" for version in offered)
            if modern and event.host is None:
                # Spec 1.1/1.2 "CONNECT or STOMP Frame": host is REQUIRED (conformance 51).
                raise LocalProtocolError("CONNECT needs a host (the virtual host) for STOMP 1.1+")
            if event.stomp_command and not modern:
                raise LocalProtocolError("the STOMP command does not exist in STOMP 1.0")
        elif isinstance(event, Connected):
            if event.version not in self._offered or event.version not in self._config.versions:
                raise LocalProtocolError(
                    f"cannot answer with version {event.version!r}: the client offered "
                    f"{','.join(self._offered)}, we support {','.join(self._config.versions)}"
                )
        elif self._role is CLIENT:
            self._check_client_frame(event, LocalProtocolError)
        else:
            missing = missing_headers(event, self._rules)
            if missing is not None:
                # e.g. a 1.2 MESSAGE without 'subscription': the client would refuse it.
                raise LocalProtocolError(
                    f"{event.command} needs the {missing!r} header in STOMP {self.version}"
                )

    def _check_client_frame(
        self, event: FrameEvent, error: type[LocalProtocolError] | type[RemoteProtocolError]
    ) -> None:
        """Rules on client frames, checked when we send them or receive them."""
        rules = self._rules
        assert rules is not None  # only reachable once CONNECTED
        missing = missing_headers(event, rules)
        if missing is not None:
            raise error(f"{event.command} needs the {missing!r} header in STOMP {rules.version}")
        if isinstance(event, Subscribe):
            if event.ack not in rules.ack_modes:
                raise error(f"ack mode {event.ack!r} does not exist in STOMP {rules.version}")
            key = _subscription_key(event)
            if key in self._subscriptions:
                raise error(f"subscription id {key!r} is already in use")  # conformance 76
            if len(self._subscriptions) >= self._config.limits.max_subscriptions:
                raise error("too many subscriptions (Limits.max_subscriptions)")
        elif isinstance(event, Unsubscribe):
            key = _subscription_key(event)
            if key not in self._subscriptions and not self._keys_for_destination(event):
                raise error(f"no live subscription {key!r} to unsubscribe")  # conformance 77
        elif isinstance(event, Ack):  # and Nack
            if (
                event.subscription is not None
                and self._subscriptions.get(event.subscription) == "auto"
            ):
                # conformance 80: the server acknowledges 'auto' subscriptions itself.
                raise error(f"cannot {event.command} on 'auto' subscription {event.subscription!r}")
            self._check_transaction(event.transaction, event.command, error)
        elif isinstance(event, Begin) and type(event) is Begin:
            if event.transaction in self._transactions:
                raise error(f"transaction {event.transaction!r} is already open")  # item 81
            if len(self._transactions) >= self._config.limits.max_subscriptions:
                raise error("too many open transactions (Limits.max_subscriptions)")
        elif isinstance(event, (Begin, Send)):  # Commit, Abort
            self._check_transaction(event.transaction, event.command, error)

    def _keys_for_destination(self, event: Unsubscribe) -> list[str]:
        # Spec 1.0 "UNSUBSCRIBE": a client may name the subscription by its destination,
        # even when it gave the SUBSCRIBE an id.
        if event.id is not None:
            return []
        return [
            key
            for key, destination in self._subscription_destinations.items()
            if destination == event.destination
        ]

    def _check_transaction(
        self,
        transaction: str | None,
        command: str,
        error: type[LocalProtocolError] | type[RemoteProtocolError],
    ) -> None:
        if transaction is not None and transaction not in self._transactions:
            raise error(f"{command} names transaction {transaction!r}, which is not open")

    def _track_client_frame(self, event: FrameEvent) -> None:
        if isinstance(event, Subscribe):
            key = _subscription_key(event)
            self._subscriptions[key] = event.ack
            self._subscription_destinations[key] = event.destination
        elif isinstance(event, Unsubscribe):
            keys = [_subscription_key(event)]
            if keys[0] not in self._subscriptions:
                keys = self._keys_for_destination(event)
            for key in keys:
                del self._subscriptions[key]
                del self._subscription_destinations[key]
        elif isinstance(event, (Commit, Abort)):
            self._transactions.pop(event.transaction, None)
        elif isinstance(event, Begin):
            self._transactions[event.transaction] = None

    def _after_sent(self, event: FrameEvent, receipt: str | None, now: float) -> None:
        if self._role is CLIENT:
            if receipt is not None:
                self._pending_receipts[receipt] = None
            if isinstance(event, Connect):
                self._offered = event.accept_version or ()
                self._connect_heart_beat = event.heart_beat
                if self._config.connect_timeout is not None:
                    self._connect_deadline = now + self._config.connect_timeout
            elif isinstance(event, Disconnect):
                self._stop_timers()  # conformance 83: nothing after DISCONNECT
                if receipt is None:
                    self._clean_close = True
                    self._close()
                else:
                    self._disconnect_receipt = receipt
                    if self._config.disconnect_timeout is not None:
                        self._disconnect_deadline = now + self._config.disconnect_timeout
            else:
                self._track_client_frame(event)
        elif isinstance(event, Connected):
            self._connect_deadline = None
            self._rules = self._reader.rules = rules_for(event.version)
            self._session, self._server = event.session, event.server
            to_server, to_client = negotiate_heartbeats(self._connect_heart_beat, event.heart_beat)
            self._start_heartbeats((to_client, to_server), now=now)
        elif isinstance(event, Error) or self._state is State.CLOSED:
            # ERROR, or the RECEIPT answering DISCONNECT: we close after it.
            self._clean_close = True
            self._close()

    def _start_heartbeats(self, intervals: tuple[int, int], *, now: float) -> None:
        """Start heart-beating with ``(client-to-server, server-to-client)`` for a client,
        or ``(outgoing, incoming)`` already swapped for a server."""
        if self._rules is None or not self._rules.heart_beats:
            return  # conformance 59: a 1.0 session never heart-beats
        outgoing, incoming = intervals
        self._heartbeat = (outgoing, incoming)
        if outgoing == 0 and incoming == 0:
            return
        start = now
        self._schedule = HeartbeatSchedule(
            send_interval=outgoing / 1000,
            receive_interval=incoming / 1000,
            send_factor=self._config.heartbeat_send_factor,
            tolerance=self._config.heartbeat_tolerance,
            last_send=start,
            last_receive=start,
        )

    def _stop_timers(self) -> None:
        self._schedule = None
        self._connect_deadline = None
        if self._state is not State.DISCONNECTING:
            self._disconnect_deadline = None

    def _close(self) -> None:
        self._state = State.CLOSED
        self._stop_timers()
        self._disconnect_deadline = None

    def data_to_send(self, *, now: float) -> bytes:
        """Take the bytes to write, in order: frames, heart-beat EOLs, a server's ERROR."""
        if not self._out:
            return b""
        data = bytes(self._out)
        self._out.clear()
        if self._schedule is not None:
            self._schedule.last_send = now
        return data

    def send_failed(self) -> None:
        """A write was cancelled or failed half-way: the stream is corrupt, stop."""
        self._state = State.ERROR
        self._out.clear()
        self._stop_timers()
        self._disconnect_deadline = None

    def pause_receive_timeout(self, *, now: float) -> None:
        """The driver stopped reading on purpose (back-pressure from a slow consumer).

        While paused, the peer's heart-beats wait unread in the transport, so its
        silence proves nothing: no receive deadline is armed until
        :meth:`resume_receive_timeout`.  Our own heart-beats keep their deadline.
        """
        del now  # uniform signature; pausing needs no timing
        self._receive_paused = True

    def resume_receive_timeout(self, *, now: float) -> None:
        """Reading resumed: the peer gets a full ``interval * tolerance`` from ``now``."""
        self._receive_paused = False
        if self._schedule is not None:
            self._schedule.last_receive = max(self._schedule.last_receive, now)

    def _receive_deadline(self) -> float | None:
        if self._schedule is None or self._receive_paused:
            return None
        return self._schedule.receive_deadline()

    # ------------------------------------------------------------------ time

    def get_timer(self) -> float | None:
        """The earliest absolute deadline for :meth:`handle_timer`, or ``None``."""
        deadlines = [
            d for d in (self._connect_deadline, self._disconnect_deadline) if d is not None
        ]
        if self._schedule is not None:
            for deadline in (self._schedule.send_deadline(), self._receive_deadline()):
                if deadline is not None:
                    deadlines.append(deadline)
        return min(deadlines) if deadlines else None

    def handle_timer(self, *, now: float) -> None:
        """Act on every deadline that has passed: queue a heart-beat EOL, or time out.

        Timeouts become events (:class:`HeartbeatTimeout`, :class:`ConnectTimeout`,
        :class:`DisconnectTimeout`) returned by the next :meth:`next_event` calls, and
        close the session.
        """
        if self._connect_deadline is not None and now >= self._connect_deadline:
            self._close()
            self._events.append(ConnectTimeout())
            return
        if self._disconnect_deadline is not None and now >= self._disconnect_deadline:
            pending = self.pending_receipts
            self._close()
            self._events.append(DisconnectTimeout(pending_receipts=pending))
            return
        schedule = self._schedule
        if schedule is None:
            return
        receive_deadline = self._receive_deadline()
        if receive_deadline is not None and now >= receive_deadline:
            pending = self.pending_receipts
            self._close()
            self._events.append(HeartbeatTimeout(pending_receipts=pending))
            return
        send_deadline = schedule.send_deadline()
        if send_deadline is not None and now >= send_deadline:
            if not self._out:
                # spec 1.2: "the sender MUST send ... at least one EOL" (LF only: 1.1 has no CR).
                self._out += b"\n"
            schedule.last_send = now

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

Division of labour: :class:`~stomp_core._state.SessionState` decides whether each frame
is legal and what it changes (``_state.py`` holds every such rule); this module parses,
serializes, buffers, keeps the timers and reports events.  A frame in either direction
takes the same path through the session: ``check_command``, ``check``, ``apply``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from ._config import Config
from ._convert import (
    event_from_user_frame,
    event_to_frame,
    frame_to_event,
    message_from_frame,
    message_from_parts,
)
from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._events import (
    FRAME_EVENTS,
    Ack,
    Connect,
    ConnectionClosed,
    ConnectTimeout,
    DisconnectTimeout,
    Event,
    FrameEvent,
    HeartbeatReceived,
    HeartbeatTimeout,
    IncompleteMessage,
    Message,
    Nack,
    Send,
)
from ._frame import Frame, Headers, get_header
from ._heartbeat import HeartbeatSchedule
from ._metrics import Metrics
from ._reader import HEARTBEAT, FrameReader
from ._record import replace
from ._state import RECEIVE, TERMINAL, Role, SessionState, State
from ._util import Sentinel
from ._versions import accept_versions
from ._writer import serialize_frame, serialize_frame_head, serialize_send_head

__all__ = ["CLIENT", "NEED_DATA", "SERVER", "Connection"]

CLIENT = Role.CLIENT
SERVER = Role.SERVER

_CONNECTED = State.CONNECTED
# The client states in which a MESSAGE leaves the state as it is (taken from the
# tables: CONNECTED, DISCONNECTING); _process_received's shortcut applies there only.
_RECEIVES_MESSAGES = frozenset(
    state
    for (role, state), commands in RECEIVE.items()
    if role is CLIENT and commands.get("MESSAGE") is state
)

#: Bodies from this size on are queued as buffers of their own, never copied into the
#: output buffer (see :meth:`Connection.buffers_to_send`); below it one copy costs less
#: than the extra buffer a writer hands to the kernel.
_SEPARATE_BODY = 64 * 1024

#: How many checked SEND heads (one per destination and content type) a connection keeps
#: for send_message; past that it forgets them all and starts over.
_SEND_HEADS = 256


class NEED_DATA(Sentinel, metaclass=Sentinel):
    """Returned by :meth:`Connection.next_event` when no complete event is available."""


class Connection:
    """One STOMP session over one transport connection, in the CLIENT or SERVER role.

    Args:
        role: :data:`CLIENT` or :data:`SERVER`.
        config: versions, limits, heart-beat tolerance and timeouts.
        now: when the transport connected; starts a server's wait for CONNECT
            (``config.connect_timeout``).  A client's wait starts when it sends CONNECT.
        metrics: the counters to update (:class:`~stomp_core.Metrics`); a client's
            driver passes the same object to each of its connections, so that counts
            survive reconnects.  By default the connection counts on its own.

    Reconnecting means a new ``Connection``.
    """

    def __init__(
        self,
        role: Role,
        config: Config | None = None,
        *,
        now: float | None = None,
        metrics: Metrics | None = None,
    ):
        if not isinstance(role, Role):
            raise LocalProtocolError(f"role must be CLIENT or SERVER, got {role!r}")
        self._role = role
        self._config = config if config is not None else Config()
        if not isinstance(self._config, Config):
            raise LocalProtocolError(f"config must be a Config, got {config!r}")
        # The session's state and every rule on frames live in _state.SessionState;
        # this object parses, serializes, buffers and keeps the timers.
        self._session = SessionState(role, self._config)
        self._peer = SERVER if role is CLIENT else CLIENT
        self._reader = FrameReader(self._config.limits)
        self._out = bytearray()
        # Buffers that precede ``_out`` on the wire: the head before each large body,
        # then the body itself.  Whenever it is not empty, ``_out`` holds at least the
        # NUL that ends the last such body.
        self._out_parts: list[bytes] = []
        #: send_message's checked heads: destination, or (destination, content type), to
        #: the frame's first lines as bytes (see _send_head).
        self._send_heads: dict[str | tuple[str, str], bytes] = {}
        self._events: deque[Event] = deque()
        self._schedule: HeartbeatSchedule | None = None
        self._eof = False
        self._eof_reported = False
        self._receive_paused = False
        self._last_receive_time = now if now is not None else 0.0
        self._error: RemoteProtocolError | None = None
        self._connect_deadline: float | None = None
        self._disconnect_deadline: float | None = None
        self._metrics = metrics if metrics is not None else Metrics()
        #: Receipt id -> the ``now`` its frame was sent at, for the round-trip times
        #: (bounded like the session's pending receipts, Limits.max_pending_receipts).
        self._receipt_sent: dict[str, float] = {}
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
        return self._session.state

    @property
    def version(self) -> str | None:
        """The negotiated version once CONNECTED was exchanged, else ``None``."""
        return self._session.version

    @property
    def offered_versions(self) -> tuple[str, ...]:
        """The versions the client offered in CONNECT (empty before it)."""
        return self._session.offered

    @property
    def proposed_version(self) -> str | None:
        """SERVER role: the version to put in CONNECTED (the highest common one)."""
        return self._session.proposed_version()

    @property
    def heartbeat(self) -> tuple[int, int]:
        """The negotiated ``(outgoing, incoming)`` heart-beat intervals in ms (0 = none)."""
        return self._session.heartbeat

    @property
    def session(self) -> str | None:
        """The ``session`` header of CONNECTED, if any."""
        return self._session.session

    @property
    def server(self) -> str | None:
        """The ``server`` header of CONNECTED, if any."""
        return self._session.server

    @property
    def pending_receipts(self) -> tuple[str, ...]:
        """Receipt ids we asked for and have not received, oldest first."""
        return tuple(self._session.pending_receipts)

    @property
    def subscriptions(self) -> dict[str, str]:
        """Live subscriptions: id -> ack mode (a copy)."""
        return dict(self._session.subscriptions)

    @property
    def transactions(self) -> tuple[str, ...]:
        """Open transaction ids, oldest first."""
        return tuple(self._session.transactions)

    @property
    def metrics(self) -> Metrics:
        """The counters this connection updates (read them with ``metrics.snapshot()``)."""
        return self._metrics

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
        self._metrics.bytes_received += len(data)
        self._last_receive_time = now
        if self._schedule is not None:
            # conformance 67: any new data, even part of a frame, shows the peer is alive.
            self._schedule.last_receive = now
        if self._session.state not in TERMINAL:
            # After the session ended nothing is parsed: bytes are dropped, not buffered.
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
        state = self._session.state
        if state in TERMINAL or (
            # A server holds further frames until it answered CONNECT: their escaping
            # depends on the version it picks (STOMP 1.2 "Value Encoding").
            self._role is SERVER and state is State.CONNECTING
        ):
            return self._eof_event() if self._eof else NEED_DATA
        try:
            item = self._reader.next_frame()
            if isinstance(item, Frame):
                return self._process_received(item)
            return self._not_a_frame(item)
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise self._error from None  # type: ignore[misc]

    def next_frame_or_event(self) -> Event | Frame | type[NEED_DATA]:
        """As :meth:`next_event`, but a client's MESSAGE comes as the raw :class:`Frame`.

        For a compatibility layer whose users get a header mapping as the broker wrote
        it (stomp.py's listeners do): a MESSAGE received while connected or
        disconnecting is returned as the parsed frame (headers in wire order, repeats
        kept, values unescaped for the version; ``content-length`` among them), without
        the typed :class:`~stomp_core.Message` that would only be taken apart again.
        Such a MESSAGE changes nothing in the session (the tables of ``_state.py``), so
        only that event's checks are skipped: whether ``destination``, ``message-id``
        and (1.2) ``subscription`` are present (conformance 94) is the caller's to judge.
        Every other frame, and a MESSAGE in any other state, comes as
        :meth:`next_event` gives it.

        Raises:
            RemoteProtocolError: as :meth:`next_event`.
        """
        if self._events:
            return self._events.popleft()
        if self._error is not None:
            raise self._error
        state = self._session.state
        if state in TERMINAL or (self._role is SERVER and state is State.CONNECTING):
            return self._eof_event() if self._eof else NEED_DATA
        try:
            item = self._reader.next_frame()
            if isinstance(item, Frame):
                if (
                    item.command == "MESSAGE"
                    and state in _RECEIVES_MESSAGES
                    and self._role is CLIENT
                    and self._session.rules is not None
                ):
                    # The shortcut of _process_received, minus the event.
                    self._metrics.messages_received += 1
                    return item
                return self._process_received(item)
            return self._not_a_frame(item)
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise self._error from None  # type: ignore[misc]

    def take_messages(self) -> list[tuple[str, Headers, bytes]]:
        """The MESSAGEs :meth:`next_frame_or_event` would return next, in one call.

        One read usually brings several MESSAGEs: this parses every complete frame
        buffered (unless an earlier call did) and hands out the run of MESSAGEs at the
        front at once, each as the ``(command, headers, body)`` of the raw frame
        :meth:`next_frame_or_event` would have returned (headers in wire order, repeats
        kept, values unescaped).  A compatibility layer that turns every MESSAGE into
        its own type saves two calls and a :class:`Frame` object per message, and
        calling this first after :meth:`receive_data` saves a few calls per read (issue
        13).  It stops before anything else (another frame, a heart-beat, an event, a
        frame not complete yet): call :meth:`next_frame_or_event` for that, until it
        returns :data:`NEED_DATA`.

        Returns:
            the messages, in order; empty when the next item is not such a MESSAGE (or
            the connection is not a client's in CONNECTED or DISCONNECTING).

        Raises:
            RemoteProtocolError: as :meth:`next_frame_or_event`, when the first frame
                parsed is malformed (frames before a malformed one come first).
        """
        session = self._session
        if (
            self._events
            or self._role is not CLIENT
            or session.state not in _RECEIVES_MESSAGES
            or session.rules is None
        ):
            return []
        try:
            messages = self._reader.take_ready("MESSAGE", parse=True)
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise self._error from None  # type: ignore[misc]
        # Counted as next_frame_or_event counts each one.
        self._metrics.messages_received += len(messages)
        return messages

    def offer_messages(self, offer: Callable[[Message], bool]) -> int:
        """Hand the MESSAGEs :meth:`next_event` would return next to ``offer``, in order,
        while it takes them.

        The batch form of :meth:`next_event` for a client's receive loop (issue 13): one
        read's MESSAGE events are passed in one call, without a :class:`Frame` object or
        a :meth:`next_event` call each.  ``offer`` returns ``False`` to refuse a message
        (its subscription's buffer is full, or the caller wants the general path for
        it): that message and the ones after it stay, in order, for :meth:`next_event`.
        A MESSAGE without a header its version requires (conformance 94) also stays
        there, so that :meth:`next_event` reports it.  Stops before anything else
        (another frame, a heart-beat, an event, bytes not parsed yet).  Nothing is
        parsed here, so nothing is raised: a malformed frame after the run is
        :meth:`next_event`'s to report, from the driver's usual error path.

        Returns:
            how many messages ``offer`` took.
        """
        session = self._session
        rules = session.rules
        if (
            self._events
            or self._role is not CLIENT
            or session.state not in _RECEIVES_MESSAGES
            or rules is None
        ):
            return 0
        reader = self._reader
        parts = reader.take_ready("MESSAGE", parse=False)
        taken = 0
        for _command, headers, body in parts:
            message = message_from_parts(headers, body, rules)
            if message is None or not offer(message):
                reader.give_back(parts[taken:])
                break
            taken += 1
        # Counted as next_event counts each one.
        self._metrics.messages_received += taken
        return taken

    def _not_a_frame(self, item: type[HEARTBEAT] | None) -> Event | type[NEED_DATA]:
        """What the reader's answer other than a frame means: heart-beat, wait, or EOF.

        Raises:
            RemoteProtocolError: the connection closed in the middle of a frame.
        """
        if item is HEARTBEAT:
            self._metrics.heartbeats_received += 1
            return HeartbeatReceived()
        if not self._eof:
            return NEED_DATA
        if self._reader.in_frame:
            raise RemoteProtocolError(
                "connection closed in the middle of a frame "
                f"({self._reader.buffered} bytes buffered)"
            )
        return self._eof_event()

    def _eof_event(self) -> Event | type[NEED_DATA]:
        # Reported once; afterwards there is nothing more to read.
        if self._eof_reported:
            return NEED_DATA
        self._eof_reported = True
        pending = self.pending_receipts
        self._close()  # ERROR (after send_failed) stays sticky
        return ConnectionClosed(clean=self._session.clean_close, pending_receipts=pending)

    def _fail(self, exc: RemoteProtocolError) -> None:
        if self._role is SERVER and self._session.state not in TERMINAL:
            # STOMP 1.2 "ERROR": the server sends ERROR, then closes the connection.
            rules = self._session.rules
            error = Frame("ERROR", (("message", exc.message),), b"")
            try:
                self._out += serialize_frame(error, rules)
            except ProtocolError:  # pragma: no cover - a message with CR/LF in 1.0
                error = Frame("ERROR", (("message", "protocol error"),), b"")
                self._out += serialize_frame(error, rules)
            exc.error_frame = error
        self._session.fail()
        self._stop_timers()
        self._error = exc

    def _process_received(self, frame: Frame) -> Event:
        # The peer's side of the one event path (send() is ours): the tables, then the
        # frame's content, then its effects.
        session = self._session
        # One counter per frame: this is the receive hot path.
        command = frame.command
        if command == "MESSAGE" or command == "SEND":
            self._metrics.messages_received += 1
        elif command == "ERROR":
            self._metrics.errors_received += 1
            if self._receipt_sent:
                # An ERROR naming a receipt answers it (conformance 91): no round trip,
                # and nothing left to remember if the session goes on.
                self._receipt_answered(frame, measured=False)
        else:
            self._metrics.other_received += 1
            if command == "RECEIPT" and self._receipt_sent:
                self._receipt_answered(frame, measured=True)
        if (
            command == "MESSAGE"
            and self._role is CLIENT
            and session.state in _RECEIVES_MESSAGES
            and session.rules is not None
        ):
            # A client's hot path.  By the tables of _state.py a MESSAGE in CONNECTED
            # or DISCONNECTING leaves the state as it is, no rule checks a received
            # one and it has no effect (tests/core/test_message_fast_path.py pins
            # that): only building the event, with the headers the version requires
            # (conformance 94), remains.
            message = message_from_frame(frame, session.rules)
            if message is not None:
                return message
        peer = self._peer
        target = session.check_command(peer, frame.command)
        try:
            event = frame_to_event(frame, session.rules)
        except RemoteProtocolError as exc:
            if frame.command == "MESSAGE" and self._config.accept_incomplete_messages:
                # Only the client role gets here: the state table refuses MESSAGE from a
                # client.  A missing header is not a framing fault: the stream is intact.
                return IncompleteMessage(frame=frame, reason=exc.message)
            raise
        target = session.check(peer, event, target)
        before = session.state
        session.apply(peer, event, target)
        if target is not before:
            # A received frame has no ``now`` of its own: it arrived with the last data.
            self._enter(target, now=self._last_receive_time)
        return event

    # ------------------------------------------------------------------ output

    def send(self, event: FrameEvent | Frame, *, now: float) -> None:
        """Validate ``event`` and queue its bytes (fetch them with :meth:`data_to_send`).

        A :class:`Frame` with a STOMP command is checked like the matching event; one
        with another command is an extension frame, sent as is once connected.

        Raises:
            LocalProtocolError: the event is illegal now; nothing was queued and the
                state is unchanged.
        """
        session = self._session
        if (
            type(event) is Send
            and session.state is _CONNECTED
            and self._role is CLIENT
            and event.receipt is None
            and (event.transaction is None or event.transaction in session.transactions)
            and (not event.headers or get_header(event.headers, "receipt") is None)
        ):
            # A client's hot path.  By the SEND rules of _state.py (_RULES[Send]) a SEND
            # that asks for no receipt, in an open transaction if any, is legal in
            # CONNECTED and changes nothing but the output: only its bytes remain to
            # check.  Inlined rather than asked of the session: a method call
            # measured about 0.1 µs of this path's 1.2 µs.
            head = serialize_send_head(event)
            if head is not None:
                self._queue_frame(head, event.body)
                self._metrics.messages_sent += 1
                return
        session.check_can_send()
        if isinstance(event, Frame):
            if event.command not in FRAME_EVENTS:
                # An extension frame (conformance 85): sent as is, no state change.
                session.check_extension(event.command)
                self._queue_frame(serialize_frame_head(event, session.rules), event.body)
                self._metrics.other_sent += 1
                return
            event = event_from_user_frame(event, session.rules)
        if not isinstance(event, FrameEvent):
            raise LocalProtocolError(f"cannot send {event!r}: not a frame event")
        # Our side of the one event path: the tables, the content, the bytes, then the
        # effects.
        target = session.check_command(self._role, event.command)
        if isinstance(event, Connect):
            # No accept-version offers what we are configured for; either way the
            # header must list known versions in increasing order (conformance 49).
            ordered = accept_versions(event.accept_version or self._config.versions)
            if ordered != event.accept_version:
                event = replace(event, accept_version=ordered)
        target = session.check(self._role, event, target)
        frame = event_to_frame(event, session.rules)
        head = serialize_frame_head(frame, session.rules)
        # Nothing below may raise: the frame is accepted.
        self._queue_frame(head, frame.body)
        self._count_sent(event)
        before = session.state
        awaited = len(session.pending_receipts)
        session.apply(self._role, event, target)
        if len(session.pending_receipts) > awaited:
            # The frame asked for a RECEIPT (the newest pending one): start its clock.
            self._receipt_sent[next(reversed(session.pending_receipts))] = now
        if target is not before:
            self._enter(target, now=now)

    def send_message(
        self,
        destination: str,
        body: bytes,
        *,
        content_type: str | None = None,
        content_length: bool = True,
        now: float,
    ) -> bytes:
        """SEND ``body`` to ``destination`` and take the bytes to write, in one call.

        The same as ``send(Send(destination=destination, body=body,
        content_type=content_type, content_length=content_length), now=now)`` followed by
        ``data_to_send(now=now)``: the same bytes, errors, metrics and heart-beat
        bookkeeping, without building the event.  A client's hot path for a plain SEND;
        whatever it does not cover (another state or role, a name to escape or refuse,
        bytes already queued, a large body) takes that general path.

        Raises:
            LocalProtocolError: as :meth:`send`; nothing was queued.
        """
        if (
            self._session.state is _CONNECTED
            and self._role is CLIENT
            and type(destination) is str
            and type(body) is bytes
            and (content_type is None or type(content_type) is str)
            and not self._out
            and len(body) < _SEPARATE_BODY
        ):
            # By the SEND rules of _state.py a SEND without receipt or transaction is
            # legal in CONNECTED and changes nothing but the output (see send()).
            # Applications send to few destinations: their heads are checked once.
            head = self._send_heads.get(
                destination if content_type is None else (destination, content_type)
            )
            if head is None:
                head = self._send_head(destination, content_type)
            if head is not None:
                if content_length:
                    data = b"%s\ncontent-length:%d\n\n%s\x00" % (head, len(body), body)
                elif b"\x00" in body:
                    # Conformance 35: the general path adds a content-length.
                    data = b""
                else:
                    data = head + b"\n\n" + body + b"\x00"
                if data:
                    metrics = self._metrics
                    metrics.messages_sent += 1
                    metrics.bytes_sent += len(data)
                    if self._schedule is not None:
                        self._schedule.last_send = now
                    return data
        return self._send_message_event(destination, body, content_type, content_length, now)

    def _send_message_event(
        self,
        destination: str,
        body: bytes,
        content_type: str | None,
        content_length: bool,
        now: float,
    ) -> bytes:
        """:meth:`send_message` the general way: the :class:`Send` event, then its bytes."""
        event = Send(
            destination=destination,
            body=body,
            content_type=content_type,
            content_length=content_length,
        )
        self.send(event, now=now)
        return self.data_to_send(now=now)

    def _send_head(self, destination: str, content_type: str | None) -> bytes | None:
        """The first lines of a plain SEND (no final LF), checked and kept; ``None`` if
        the general path must decide (a value to escape or refuse).

        They are serialize_send_head's for such an event, in event_to_frame's header
        order (destination, content-type; content-length follows).
        """
        if content_type is None:
            text = "SEND\ndestination:" + destination
            lines = 1
        else:
            text = "SEND\ndestination:" + destination + "\ncontent-type:" + content_type
            lines = 2
        # As in serialize_send_head: exactly one colon per header line and no LF, CR,
        # backslash or NUL in a name or value leave nothing to escape or refuse in any
        # version (spec 1.2 "Value Encoding").
        if (
            not destination
            or text.count(":") != lines
            or text.count("\n") != lines
            or "\\" in text
            or "\r" in text
            or "\x00" in text
        ):
            return None
        try:
            head = text.encode("utf-8")
        except UnicodeEncodeError:
            return None
        heads = self._send_heads
        if len(heads) >= _SEND_HEADS:
            heads.clear()
        heads[destination if content_type is None else (destination, content_type)] = head
        return head

    def _queue_frame(self, head: bytes, body: bytes) -> None:
        out = self._out
        out += head
        if len(body) < _SEPARATE_BODY:
            out += body
        else:
            # Kept whole: a writer hands it to the kernel as is (buffers_to_send).
            self._out_parts += (bytes(out), body)
            out.clear()
        out += b"\x00"

    def _count_sent(self, event: FrameEvent) -> None:
        metrics = self._metrics
        kind = type(event)
        if kind is Send or kind is Message:
            metrics.messages_sent += 1
        elif kind is Nack:
            metrics.nacks += 1
        elif kind is Ack:
            metrics.acks += 1
        else:
            metrics.other_sent += 1

    def _receipt_answered(self, frame: Frame, *, measured: bool) -> None:
        # The answer arrived with the last data received (a frame has no ``now`` of its
        # own); the header may be missing, then a RECEIPT is refused further on.
        receipt_id = get_header(frame.headers, "receipt-id")
        sent = self._receipt_sent.pop(receipt_id, None) if receipt_id is not None else None
        if sent is not None and measured:
            self._metrics.receipt_round_trip(self._last_receive_time - sent)

    # ------------------------------------------------------------------ timers

    def _enter(self, state: State, *, now: float) -> None:
        """Arm or stop the timers for the state a frame just moved the session to."""
        config = self._config
        if state is State.CONNECTING:
            # A client now waits for CONNECTED; a server's wait for CONNECT is over (its
            # next deadline starts when it answers).
            self._connect_deadline = None
            if self._role is CLIENT and config.connect_timeout is not None:
                self._connect_deadline = now + config.connect_timeout
        elif state is _CONNECTED:
            # The version is settled: the reader now unescapes and accepts CR LF (or
            # not) by its rules, and heart-beating starts (STOMP 1.2 "Heart-beating").
            self._connect_deadline = None
            self._reader.rules = self._session.rules
            self._metrics.connections += 1
            self._start_heartbeats(now=now)
        elif state is State.DISCONNECTING:
            # Conformance 83: nothing is sent after DISCONNECT, heart-beats included; a
            # client waits a bounded time for the DISCONNECT's RECEIPT (conformance 84).
            self._stop_timers()
            if (
                self._role is CLIENT
                and self._session.disconnect_receipt is not None
                and config.disconnect_timeout is not None
            ):
                self._disconnect_deadline = now + config.disconnect_timeout
        else:  # CLOSED by a frame (ERROR, the RECEIPT of DISCONNECT, DISCONNECT)
            self._close()

    def _start_heartbeats(self, *, now: float) -> None:
        # The intervals were negotiated by the session (0 for a 1.0 session).
        outgoing, incoming = self._session.heartbeat
        if outgoing == 0 and incoming == 0:
            return
        self._schedule = HeartbeatSchedule(
            send_interval=outgoing / 1000,
            receive_interval=incoming / 1000,
            send_factor=self._config.heartbeat_send_factor,
            tolerance=self._config.heartbeat_tolerance,
            last_send=now,
            last_receive=now,
        )

    def _stop_timers(self) -> None:
        self._schedule = None
        self._connect_deadline = None
        if self._session.state is not State.DISCONNECTING:
            self._disconnect_deadline = None

    def _close(self) -> None:
        self._session.close()
        self._stop_timers()
        self._disconnect_deadline = None

    def data_to_send(self, *, now: float) -> bytes:
        """Take the bytes to write, in order: frames, heart-beat EOLs, a server's ERROR."""
        out = self._out
        if not out:
            return b""
        if self._out_parts:
            self._out_parts.append(bytes(out))
            data = b"".join(self._out_parts)
            self._out_parts = []
        else:
            data = bytes(out)
        out.clear()
        self._metrics.bytes_sent += len(data)
        if self._schedule is not None:
            self._schedule.last_send = now
        return data

    def buffers_to_send(self, *, now: float) -> list[bytes]:
        """Take the bytes to write as a list of buffers (empty: nothing to write).

        The same bytes as :meth:`data_to_send`, without joining them: a body of 64 KiB
        or more is a buffer of its own, the very object the application sent, so a
        driver that writes a list (``sendmsg``, ``writelines``) or one buffer after the
        other never copies it.  Where the buffers are cut says nothing about frames.
        """
        out = self._out
        if not out:
            return []
        parts = self._out_parts
        if parts:
            self._out_parts = []
            parts.append(bytes(out))
        else:
            parts = [bytes(out)]
        out.clear()
        self._metrics.bytes_sent += sum(map(len, parts))
        if self._schedule is not None:
            self._schedule.last_send = now
        return parts

    def send_failed(self) -> None:
        """A write was cancelled or failed half-way: the stream is corrupt, stop."""
        self._session.fail()
        self._out.clear()
        self._out_parts = []
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
        """Reading resumed: the peer gets a full ``interval * (1 + tolerance)`` from ``now``."""
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
        # Drivers ask after every frame they write or read: no list, no min().
        earliest = self._connect_deadline
        candidates: tuple[float | None, ...] = (self._disconnect_deadline,)
        if self._schedule is not None:
            candidates = (
                self._disconnect_deadline,
                self._schedule.send_deadline(),
                self._receive_deadline(),
            )
        for deadline in candidates:
            if deadline is not None and (earliest is None or deadline < earliest):
                earliest = deadline
        return earliest

    def handle_timer(self, *, now: float) -> None:
        """Act on every deadline that has passed: queue a heart-beat EOL, or time out.

        Timeouts become events (:class:`HeartbeatTimeout`, :class:`ConnectTimeout`,
        :class:`DisconnectTimeout`) returned by the next :meth:`next_event` calls, and
        close the session.
        """
        if self._connect_deadline is not None and now >= self._connect_deadline:
            # Conformance 58: no CONNECTED (or, for a server, no CONNECT) in time.
            self._close()
            self._events.append(ConnectTimeout())
            return
        if self._disconnect_deadline is not None and now >= self._disconnect_deadline:
            # Conformance 84: the RECEIPT of DISCONNECT may never come (STOMP 1.2
            # "Connection Lingering"); the session is over all the same.
            pending = self.pending_receipts
            self._close()
            self._events.append(DisconnectTimeout(pending_receipts=pending))
            return
        schedule = self._schedule
        if schedule is None:
            return
        receive_deadline = self._receive_deadline()
        if receive_deadline is not None and now >= receive_deadline:
            # Conformance 68, 72: silent for interval x tolerance, the peer is dead.
            pending = self.pending_receipts
            self._close()
            self._events.append(HeartbeatTimeout(pending_receipts=pending))
            return
        send_deadline = schedule.send_deadline()
        if send_deadline is not None and now >= send_deadline:
            if not self._out:
                # spec 1.2: "the sender MUST send ... at least one EOL" (LF only: 1.1 has no CR).
                self._out += b"\n"
                self._metrics.heartbeats_sent += 1
            schedule.last_send = now

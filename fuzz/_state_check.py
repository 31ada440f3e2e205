"""The state-machine invariant, shared by ``fuzz_state.py`` and the regression tests.

A client core and a server core are joined by a fake link: two byte queues that only
move when the program says so.  The input is a program of actions (one opcode byte
each, then its arguments; see :data:`ACTIONS`): the client or the server sends an
event built from the following bytes, some bytes of a queue are delivered, the
synthetic clock advances, a side handles its timers, a side closes its transport, a
side's write fails half-way (``send_failed``), or a side stops or resumes reading.
After each action both sides act as a driver would: drain ``next_event()``, write
``data_to_send()``.

Invariants (issue 8):

1. Only ``LocalProtocolError`` and ``RemoteProtocolError`` escape the core.
2. A ``LocalProtocolError`` from ``send`` leaves everything unchanged: state, version,
   heart-beats, receipts, subscriptions, transactions, timer, and nothing queued.
3. What one of our cores sends, the other accepts: a ``RemoteProtocolError`` is only
   legitimate after a write failed half-way or after the client sent an extension
   frame (servers refuse unknown commands).
4. ``handle_timer(now)`` acts on every expired deadline: afterwards ``get_timer()`` is
   ``None`` or later than ``now``.  A side that stopped reading
   (``pause_receive_timeout``, back-pressure) never times its peer out.
5. When the link is quiet (both queues empty) and neither side is in a terminal state,
   both are in the same state; once connected they agree on the version, the
   heart-beat intervals (mirrored), the live subscriptions and the open transactions.
"""

from __future__ import annotations

from collections.abc import Callable

from _cursor import Cursor

from stomp_core import (
    CLIENT,
    NEED_DATA,
    SERVER,
    Abort,
    Ack,
    Begin,
    Commit,
    Config,
    Connect,
    Connected,
    Connection,
    Disconnect,
    Error,
    Event,
    Frame,
    FrameEvent,
    HeartbeatTimeout,
    Limits,
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

__all__ = ["ACTIONS", "World", "check_state"]

_TERMINAL = (State.CLOSED, State.ERROR)
_VERSION_SETS: tuple[tuple[str, ...] | None, ...] = (
    ("1.0",),
    ("1.1",),
    ("1.2",),
    None,
    ("1.1", "1.2"),
    ("1.0", "1.2"),
)
_HEART_BEATS = ((0, 0), (100, 100), (50, 0), (0, 200), (1000, 1000), (1, 1))
_IDS = ("0", "1", "2")
_DESTINATIONS = ("/q/0", "/q/1", "/t/x")
_TRANSACTIONS = ("t0", "t1")
_RECEIPTS = ("r0", "r1", "r2", "r3")
_ACK_MODES = ("auto", "client", "client-individual", "bogus")
# Header text that every escaping rule has to get right.
_TRICKY = ("plain", "a:b", "back\\slash", "line\nfeed", "cr\rhere", "caf\u00e9", "")


def _maybe(cur: Cursor, options: tuple[str, ...]) -> str | None:
    pick = cur.u8() % (len(options) + 1)
    return options[pick] if pick < len(options) else None


def _extra(cur: Cursor) -> tuple[tuple[str, str], ...]:
    if not cur.flag():
        return ()
    return ((cur.choice(("x-h", "k:c", "k\\")), cur.choice(_TRICKY)),)


def _snapshot(conn: Connection) -> tuple[object, ...]:
    return (
        conn.state,
        conn.version,
        conn.heartbeat,
        conn.pending_receipts,
        conn.subscriptions,
        conn.transactions,
        conn.get_timer(),
    )


class World:
    """The two cores, the link between them and the clock."""

    def __init__(self) -> None:
        config = Config(
            limits=Limits(max_pending_receipts=3, max_subscriptions=3),
            connect_timeout=5.0,
            disconnect_timeout=2.0,
        )
        self.now = 0.0
        self.client = Connection(CLIENT, config)
        self.server = Connection(SERVER, config, now=self.now)
        # Bytes written by one side and not yet read by the other.
        self.to_server = bytearray()
        self.to_client = bytearray()
        # A side closed its transport: the peer reads EOF once the queue is empty.
        self.closed = {CLIENT: False, SERVER: False}
        self.eof_seen = {CLIENT: False, SERVER: False}
        self.failed = {CLIENT: False, SERVER: False}  # a RemoteProtocolError was raised
        # A driver applying back-pressure stops reading: pause_receive_timeout().
        self.paused = {CLIENT: False, SERVER: False}
        self.tainted = False  # a RemoteProtocolError is legitimate from now on
        self.message_ids: list[str] = []
        self.events: list[tuple[str, Event]] = []

    # -- plumbing ------------------------------------------------------------------

    def _flush(self, conn: Connection) -> None:
        data = conn.data_to_send(now=self.now)
        if data and not self.closed[conn.role]:
            (self.to_server if conn.role is CLIENT else self.to_client).extend(data)

    def _drain(self, conn: Connection) -> None:
        if self.failed[conn.role]:
            return
        while True:
            try:
                event = conn.next_event()
            except RemoteProtocolError as exc:
                if not self.tainted:
                    raise AssertionError(
                        f"{conn.role.name} refused what our other core sent: {exc}"
                    ) from exc
                assert conn.state is State.ERROR, conn.state
                self.failed[conn.role] = True
                return
            if event is NEED_DATA:
                return
            assert isinstance(event, Event), event
            assert not (isinstance(event, HeartbeatTimeout) and self.paused[conn.role]), (
                f"{conn.role.name} timed out the peer while not reading"
            )
            self.events.append((conn.role.name, event))
            if isinstance(event, Message) and conn.version is not None:
                self.message_ids.append(event.ack_id(conn.version))

    def settle(self) -> None:
        """What a driver does after any input, on both sides."""
        for conn in (self.client, self.server):
            self._drain(conn)
            self._flush(conn)

    def send(self, conn: Connection, event: FrameEvent | Frame) -> None:
        """Send ``event``; a refusal must change nothing (invariant 2)."""
        self._flush(conn)
        before = _snapshot(conn)
        try:
            conn.send(event, now=self.now)
        except LocalProtocolError:
            assert _snapshot(conn) == before, f"refused {event!r} but changed {before}"
            assert conn.data_to_send(now=self.now) == b"", f"refused {event!r} but queued"
            return
        if isinstance(event, Frame) and event.command not in _KNOWN_COMMANDS:
            self.tainted = True  # servers refuse extension frames (spec 1.2 "Frames")

    def deliver(self, receiver: Connection, n: int) -> None:
        """Move ``n`` bytes (255: all) to ``receiver``; EOF once a closed queue is empty."""
        if self.paused[receiver.role]:
            return  # not reading: the bytes wait in the transport
        queue = self.to_server if receiver is self.server else self.to_client
        peer = CLIENT if receiver is self.server else SERVER
        size = len(queue) if n == 255 else max(1, n)
        chunk = bytes(queue[:size])
        del queue[:size]
        if chunk:
            receiver.receive_data(chunk, now=self.now)
        if not queue and self.closed[peer] and not self.eof_seen[receiver.role]:
            self.eof_seen[receiver.role] = True
            receiver.receive_eof(now=self.now)

    def timer(self, conn: Connection) -> None:
        conn.handle_timer(now=self.now)
        deadline = conn.get_timer()
        assert deadline is None or deadline > self.now, (
            f"{conn.role.name}: handle_timer({self.now}) left deadline {deadline}"
        )

    def toggle_pause(self, conn: Connection) -> None:
        """Stop reading (back-pressure) or start again."""
        if self.paused[conn.role]:
            self.paused[conn.role] = False
            conn.resume_receive_timeout(now=self.now)
            if conn.state is State.CONNECTED and conn.heartbeat[1]:
                deadline = conn.get_timer()
                assert deadline is not None, "resumed, but no receive deadline"
        else:
            self.paused[conn.role] = True
            conn.pause_receive_timeout(now=self.now)

    def fail_write(self, conn: Connection) -> None:
        """The last write was cut: keep a prefix of what is in flight, then close."""
        queue = self.to_server if conn is self.client else self.to_client
        del queue[len(queue) // 2 :]
        conn.send_failed()
        self.closed[conn.role] = True
        self.tainted = True

    # -- invariant 5 ---------------------------------------------------------------

    def check_consistent(self) -> None:
        client, server = self.client, self.server
        if self.to_server or self.to_client or self.tainted:
            return
        if client.state in _TERMINAL or server.state in _TERMINAL:
            return
        if any(self.closed.values()):
            return
        assert client.state is server.state, (client.state, server.state)
        if client.state is State.CONNECTED:
            assert client.version == server.version, (client.version, server.version)
            assert client.heartbeat == server.heartbeat[::-1], (client.heartbeat, server.heartbeat)
            assert client.subscriptions == server.subscriptions, (
                client.subscriptions,
                server.subscriptions,
            )
            assert client.transactions == server.transactions, (
                client.transactions,
                server.transactions,
            )


_KNOWN_COMMANDS = frozenset(
    {
        "CONNECT", "STOMP", "CONNECTED", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK",
        "BEGIN", "COMMIT", "ABORT", "DISCONNECT", "MESSAGE", "RECEIPT", "ERROR",
    }
)  # fmt: skip


def known_bug(w: World, event: FrameEvent) -> bool:
    """Actions that hit a core bug already reported, so that fuzzing goes past it.

    Each entry has an ``xfail(strict=True)`` regression test in
    ``tests/core/test_fuzz_regressions.py``; delete the entry when that test passes.
    """
    # Finding 2 (a 1.2 MESSAGE without 'subscription' sent by the server core) is fixed
    # in b75f6b9: the server core refuses it.  No known bug remains.
    del w, event
    return False


# -- actions -----------------------------------------------------------------------


def _connect(w: World, cur: Cursor) -> None:
    versions = cur.choice(_VERSION_SETS)
    heart_beat = cur.choice(_HEART_BEATS)
    flags = cur.u8()
    w.send(
        w.client,
        Connect(
            accept_version=versions,
            host="/" if flags & 1 else None,
            login="guest" if flags & 2 else None,
            passcode=cur.choice(_TRICKY) if flags & 2 else None,
            heart_beat=heart_beat,
            stomp_command=bool(flags & 4),
        ),
    )


def _connected(w: World, cur: Cursor) -> None:
    heart_beat = cur.choice(_HEART_BEATS)
    pick = cur.u8()
    version = w.server.proposed_version if pick % 4 else cur.choice(("1.0", "1.1", "1.2"))
    w.send(w.server, Connected(version=version or "1.2", heart_beat=heart_beat, session="s"))


def _subscribe(w: World, cur: Cursor) -> None:
    w.send(
        w.client,
        Subscribe(
            destination=cur.choice(_DESTINATIONS),
            id=_maybe(cur, _IDS),
            ack=cur.choice(_ACK_MODES),
            receipt=_maybe(cur, _RECEIPTS),
            headers=_extra(cur),
        ),
    )


def _send(w: World, cur: Cursor) -> None:
    w.send(
        w.client,
        Send(
            destination=cur.choice(_DESTINATIONS),
            transaction=_maybe(cur, _TRANSACTIONS),
            receipt=_maybe(cur, _RECEIPTS),
            body=cur.take(cur.u8() % 32),
            content_length=cur.flag(),
            headers=_extra(cur),
        ),
    )


def _begin(w: World, cur: Cursor) -> None:
    w.send(w.client, Begin(transaction=cur.choice(_TRANSACTIONS), receipt=_maybe(cur, _RECEIPTS)))


def _ack(w: World, cur: Cursor) -> None:
    pool = tuple(w.message_ids[-4:]) or ("m0",)
    cls = Nack if cur.flag() else Ack
    w.send(
        w.client,
        cls(
            id=cur.choice(pool),
            subscription=_maybe(cur, _IDS),
            transaction=_maybe(cur, _TRANSACTIONS),
            receipt=_maybe(cur, _RECEIPTS),
        ),
    )


def _finish(w: World, cur: Cursor) -> None:
    cls = Commit if cur.flag() else Abort
    w.send(w.client, cls(transaction=cur.choice(_TRANSACTIONS), receipt=_maybe(cur, _RECEIPTS)))


def _unsubscribe(w: World, cur: Cursor) -> None:
    key = cur.u8()
    if key & 1:
        w.send(w.client, Unsubscribe(id=_IDS[key // 2 % len(_IDS)]))
    else:
        w.send(w.client, Unsubscribe(destination=_DESTINATIONS[key // 2 % len(_DESTINATIONS)]))


def _disconnect(w: World, cur: Cursor) -> None:
    w.send(w.client, Disconnect(receipt=_maybe(cur, _RECEIPTS)))


def _raw_frame(w: World, cur: Cursor) -> None:
    # A user-built Frame: a STOMP command (checked like its event) or an extension.
    command = cur.choice(("SEND", "SUBSCRIBE", "ACK", "BEGIN", "X-EXT", "DISCONNECT"))
    headers = (("destination", "/q/0"), ("id", cur.choice(_IDS)), ("transaction", "t0"))
    w.send(w.client, Frame(command, headers[: cur.u8() % 4], cur.take(cur.u8() % 8)))


def _message(w: World, cur: Cursor) -> None:
    subscriptions = (*(tuple(w.server.subscriptions) or _IDS), None)
    message = Message(
        destination=cur.choice(_DESTINATIONS),
        message_id=f"m{cur.u8() % 4}",
        subscription=cur.choice(subscriptions),  # None: not in STOMP 1.2
        ack=_maybe(cur, ("a0", "a1")),
        body=cur.take(cur.u8() % 32),
        content_length=cur.flag(),
        headers=_extra(cur),
    )
    if known_bug(w, message):
        return
    w.send(w.server, message)


def _receipt(w: World, cur: Cursor) -> None:
    pending = w.client.pending_receipts
    pick = cur.u8()
    receipt_id = pending[pick % len(pending)] if pending and pick & 1 else _RECEIPTS[pick % 4]
    w.send(w.server, Receipt(receipt_id=receipt_id))


def _error(w: World, cur: Cursor) -> None:
    w.send(
        w.server,
        Error(
            message=cur.choice(_TRICKY),
            receipt_id=_maybe(cur, _RECEIPTS),
            body=cur.take(cur.u8() % 16),
        ),
    )


def _to_server(w: World, cur: Cursor) -> None:
    w.deliver(w.server, cur.u8())


def _to_client(w: World, cur: Cursor) -> None:
    w.deliver(w.client, cur.u8())


def _tick(w: World, cur: Cursor) -> None:
    w.now += cur.u8() * 0.05


def _client_timer(w: World, cur: Cursor) -> None:
    w.timer(w.client)


def _server_timer(w: World, cur: Cursor) -> None:
    w.timer(w.server)


def _client_closes(w: World, cur: Cursor) -> None:
    w.closed[CLIENT] = True


def _server_closes(w: World, cur: Cursor) -> None:
    w.closed[SERVER] = True


def _client_write_fails(w: World, cur: Cursor) -> None:
    w.fail_write(w.client)


def _server_write_fails(w: World, cur: Cursor) -> None:
    w.fail_write(w.server)


def _client_pause(w: World, cur: Cursor) -> None:
    w.toggle_pause(w.client)


def _server_pause(w: World, cur: Cursor) -> None:
    w.toggle_pause(w.server)


#: Opcode -> action; the opcode byte is taken modulo the table's length.
ACTIONS: tuple[Callable[[World, Cursor], None], ...] = (
    _connect,  # 0
    _connected,  # 1
    _subscribe,  # 2
    _send,  # 3
    _begin,  # 4
    _ack,  # 5
    _finish,  # 6
    _unsubscribe,  # 7
    _disconnect,  # 8
    _raw_frame,  # 9
    _message,  # 10
    _receipt,  # 11
    _error,  # 12
    _to_server,  # 13
    _to_client,  # 14
    _tick,  # 15
    _client_timer,  # 16
    _server_timer,  # 17
    _client_closes,  # 18
    _server_closes,  # 19
    _client_write_fails,  # 20
    _server_write_fails,  # 21
    _client_pause,  # 22: pause or resume reading (back-pressure)
    _server_pause,  # 23
)


def check_state(data: bytes, *, max_actions: int = 200) -> World:
    """Run the program in ``data``; raises AssertionError (or the escaping error)."""
    world = World()
    cur = Cursor(data)
    for _ in range(max_actions):
        if not cur.remaining:
            break
        ACTIONS[cur.u8() % len(ACTIONS)](world, cur)
        world.settle()
        world.check_consistent()
    return world

"""A hypothesis state machine over a client core and a server core on a fake link.

The client's and the server's bytes sit in two queues that hypothesis delivers in
pieces of any size, while the synthetic clock advances and timers fire.  A small
model predicts what the client's core must accept and refuse.

Properties:

* Only ``LocalProtocolError`` escapes a ``send``; the model says when, and a refusal
  changes nothing (state, subscriptions, transactions, receipts, timer, output).
* What one of our cores sends, the other accepts: no ``RemoteProtocolError`` ever.
* The client's subscriptions, transactions and awaited receipts match the model.
* When both queues are empty and neither side is closed, both sides are in the same
  state and agree on version, heart-beats, subscriptions and transactions.
* ``handle_timer(now)`` leaves no deadline at or before ``now``; a client that stopped
  reading (back-pressure) never times the server out.
* Closing both transports ends both sides with one ``ConnectionClosed``.

The fuzz harness ``fuzz/fuzz_state.py`` checks the same invariants with
coverage-guided inputs; this machine runs in every test run.
"""

from __future__ import annotations

import hypothesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from stomp_core import (
    NEED_DATA,
    Abort,
    Ack,
    Begin,
    Commit,
    Config,
    Connect,
    Connected,
    Connection,
    ConnectionClosed,
    Disconnect,
    Error,
    Event,
    FrameEvent,
    HeartbeatTimeout,
    Limits,
    LocalProtocolError,
    Message,
    Nack,
    Receipt,
    Send,
    State,
    Subscribe,
    Unsubscribe,
)

from .helpers import ConnectionPair

_MAX = 3  # max_subscriptions and max_pending_receipts: small, so the limits are hit
_TERMINAL = (State.CLOSED, State.ERROR)
_ACK_MODES = {
    "1.0": ("auto", "client"),
    "1.1": ("auto", "client", "client-individual"),
    "1.2": ("auto", "client", "client-individual"),
}

ids = st.sampled_from(["0", "1", "2", "3"])
transactions = st.sampled_from(["t0", "t1", "t2", "t3"])
receipts = st.none() | st.sampled_from(["r0", "r1", "r2", "r3", "r4"])
heart_beats = st.sampled_from([(0, 0), (100, 100), (0, 1000), (1000, 0), (30, 50)])
header_text = st.sampled_from(["plain", "a:b", "back\\slash", "new\nline", "caf\u00e9", ""])


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


class ClientServerMachine(RuleBasedStateMachine):
    """A client and a server core joined by a lossless link that hypothesis drives."""

    def __init__(self) -> None:
        super().__init__()
        self._start()

    def _start(self) -> None:
        """A fresh pair and model (reconnecting means new connections)."""
        config = Config(
            limits=Limits(max_pending_receipts=_MAX, max_subscriptions=_MAX),
            connect_timeout=5.0,
            disconnect_timeout=2.0,
        )
        self.pair = ConnectionPair(client_config=config, server_config=config)
        self.to_server = bytearray()
        self.to_client = bytearray()
        # The model of the client's session.
        self.subscriptions: dict[str, str] = {}
        self.transactions: list[str] = []
        self.receipts: list[str] = []
        self.ack_ids: list[str] = []
        self.finished = False
        self.client_paused = False  # back-pressure: the client's driver stopped reading

    @property
    def client(self) -> Connection:
        return self.pair.client

    @property
    def server(self) -> Connection:
        return self.pair.server

    @property
    def now(self) -> float:
        return self.pair.now

    # -- plumbing ------------------------------------------------------------------

    def _events(self, conn: Connection) -> list[Event]:
        events = []
        while (event := conn.next_event()) is not NEED_DATA:  # never raises: invariant
            assert isinstance(event, Event)
            events.append(event)
        return events

    def _flush(self) -> None:
        self.to_server += self.client.data_to_send(now=self.now)
        self.to_client += self.server.data_to_send(now=self.now)

    def _after_client_events(self, events: list[Event]) -> None:
        for event in events:
            # Not reading proves nothing about the peer: no heart-beat timeout then.
            assert not (self.client_paused and isinstance(event, HeartbeatTimeout))
            if isinstance(event, (Receipt, Error)) and event.receipt_id in self.receipts:
                self.receipts.remove(event.receipt_id)
            if isinstance(event, Message):
                assert self.client.version is not None
                self.ack_ids.append(event.ack_id(self.client.version))

    def _send(self, conn: Connection, event: FrameEvent, *, ok: bool) -> bool:
        """Send ``event``; the model says whether the core must accept it."""
        before = _snapshot(conn)
        try:
            conn.send(event, now=self.now)
        except LocalProtocolError as exc:
            if ok:
                raise AssertionError(f"refused {event!r}: {exc}") from exc
            assert _snapshot(conn) == before
            assert conn.data_to_send(now=self.now) == b""
            return False
        assert ok, f"accepted {event!r}, which the model says is illegal"
        self._flush()
        return True

    def _client_ok(self, receipt: str | None = None) -> bool:
        if self.client.state is not State.CONNECTED:
            return False
        return receipt is None or (receipt not in self.receipts and len(self.receipts) < _MAX)

    def _client_sent(self, receipt: str | None) -> None:
        if receipt is not None:
            self.receipts.append(receipt)

    # -- client rules --------------------------------------------------------------

    @rule(
        versions=st.sampled_from([("1.0",), ("1.1",), ("1.2",), ("1.0", "1.1", "1.2")]),
        heart_beat=heart_beats,
        passcode=header_text,
    )
    def connect(
        self, versions: tuple[str, ...], heart_beat: tuple[int, int], passcode: str
    ) -> None:
        ok = self.client.state is State.IDLE and "\n" not in passcode
        event = Connect(accept_version=versions, host="/", heart_beat=heart_beat, passcode=passcode)
        self._send(self.client, event, ok=ok)

    @initialize(
        version=st.none() | st.sampled_from(["1.0", "1.1", "1.2"]),
        client_heart_beat=heart_beats,
        server_heart_beat=heart_beats,
    )
    def start(
        self,
        version: str | None,
        client_heart_beat: tuple[int, int],
        server_heart_beat: tuple[int, int],
    ) -> None:
        """Most runs start connected, so that the steps go deep into a session."""
        if version is not None:
            self.handshake(version, client_heart_beat, server_heart_beat)

    @precondition(
        lambda self: (
            self.client.state is State.IDLE
            and self.server.state is State.IDLE
            and not (self.to_server or self.to_client or self.client_paused)
        )
    )
    @rule(
        version=st.sampled_from(["1.0", "1.1", "1.2"]),
        client_heart_beat=heart_beats,
        server_heart_beat=heart_beats,
    )
    def handshake(
        self, version: str, client_heart_beat: tuple[int, int], server_heart_beat: tuple[int, int]
    ) -> None:
        """CONNECT and CONNECTED in one step, through the same link."""
        self.connect((version,), client_heart_beat, "pw")
        self.deliver_to_server(10_000)
        self.connected(server_heart_beat)
        self.deliver_to_client(10_000)
        assert self.client.state is self.server.state is State.CONNECTED

    @rule(sub_id=st.none() | ids, ack=st.sampled_from(["auto", "client", "client-individual"]))
    def subscribe(self, sub_id: str | None, ack: str) -> None:
        version = self.client.version
        key = sub_id if sub_id is not None else "/q"
        ok = (
            self._client_ok()
            and (sub_id is not None or version == "1.0")
            and ack in _ACK_MODES[version or "1.2"]
            and key not in self.subscriptions
            and len(self.subscriptions) < _MAX
        )
        if self._send(self.client, Subscribe(destination="/q", id=sub_id, ack=ack), ok=ok):
            self.subscriptions[key] = ack

    @rule(sub_id=ids)
    def unsubscribe(self, sub_id: str) -> None:
        ok = self._client_ok() and sub_id in self.subscriptions
        if self._send(self.client, Unsubscribe(id=sub_id), ok=ok):
            del self.subscriptions[sub_id]

    @rule(
        body=st.binary(max_size=40),
        transaction=st.none() | transactions,
        receipt=receipts,
        extra=header_text,
    )
    def send(self, body: bytes, transaction: str | None, receipt: str | None, extra: str) -> None:
        version = self.client.version
        encodable = version != "1.0" or "\n" not in extra
        ok = (
            self._client_ok(receipt)
            and encodable
            and (transaction is None or transaction in self.transactions)
        )
        event = Send(
            destination="/q",
            body=body,
            transaction=transaction,
            receipt=receipt,
            headers=(("x-extra", extra),),
        )
        if self._send(self.client, event, ok=ok):
            self._client_sent(receipt)

    @rule(transaction=transactions, receipt=receipts)
    def begin(self, transaction: str, receipt: str | None) -> None:
        ok = (
            self._client_ok(receipt)
            and transaction not in self.transactions
            and len(self.transactions) < _MAX
        )
        if self._send(self.client, Begin(transaction=transaction, receipt=receipt), ok=ok):
            self.transactions.append(transaction)
            self._client_sent(receipt)

    @rule(transaction=transactions, commit=st.booleans())
    def finish_transaction(self, transaction: str, commit: bool) -> None:
        ok = self._client_ok() and transaction in self.transactions
        event = (Commit if commit else Abort)(transaction=transaction)
        if self._send(self.client, event, ok=ok):
            self.transactions.remove(transaction)

    @rule(
        pick=st.integers(0, 3),
        subscription=st.none() | ids,
        transaction=st.none() | transactions,
        nack=st.booleans(),
    )
    def ack(self, pick: int, subscription: str | None, transaction: str | None, nack: bool) -> None:
        version = self.client.version
        ack_id = self.ack_ids[-1 - pick % len(self.ack_ids)] if self.ack_ids else "m0"
        ok = (
            self._client_ok()
            and not (nack and version == "1.0")
            and (subscription is not None or version != "1.1")
            and self.subscriptions.get(subscription or "") != "auto"
            and (transaction is None or transaction in self.transactions)
        )
        event = (Nack if nack else Ack)(
            id=ack_id, subscription=subscription, transaction=transaction
        )
        self._send(self.client, event, ok=ok)

    @rule(receipt=receipts)
    def disconnect(self, receipt: str | None) -> None:
        if self._send(self.client, Disconnect(receipt=receipt), ok=self._client_ok(receipt)):
            self._client_sent(receipt)

    # -- server rules --------------------------------------------------------------

    @precondition(lambda self: self.server.state is State.CONNECTING)
    @rule(heart_beat=heart_beats)
    def connected(self, heart_beat: tuple[int, int]) -> None:
        version = self.server.proposed_version
        assert version is not None
        event = Connected(version=version, heart_beat=heart_beat, session="s")
        self._send(self.server, event, ok=True)

    @precondition(lambda self: self.server.state is State.CONNECTED)
    @rule(pick=st.integers(0, 3), body=st.binary(max_size=40), message_id=ids)
    def message(self, pick: int, body: bytes, message_id: str) -> None:
        live = sorted(self.server.subscriptions) or ["0"]
        event = Message(
            destination="/q",
            message_id=f"m{message_id}",
            subscription=live[pick % len(live)],
            ack=f"a{message_id}" if self.server.version == "1.2" else None,
            body=body,
        )
        self._send(self.server, event, ok=True)

    @precondition(
        lambda self: (
            self.server.state in (State.CONNECTED, State.DISCONNECTING) and bool(self.receipts)
        )
    )
    @rule(pick=st.integers(0, 4))
    def receipt(self, pick: int) -> None:
        receipt_id = self.receipts[pick % len(self.receipts)]
        self._send(self.server, Receipt(receipt_id=receipt_id), ok=True)

    @precondition(
        lambda self: self.server.state in (State.CONNECTING, State.CONNECTED, State.DISCONNECTING)
    )
    @rule(message=header_text)
    def error(self, message: str) -> None:
        self._send(self.server, Error(message=message.replace("\n", " ")), ok=True)

    # -- the link and the clock ----------------------------------------------------

    @rule(size=st.integers(1, 64) | st.just(10_000))
    def deliver_to_server(self, size: int) -> None:
        chunk = bytes(self.to_server[:size])
        del self.to_server[:size]
        self.server.receive_data(chunk, now=self.now)
        self._events(self.server)
        self._flush()

    @rule(size=st.integers(1, 64) | st.just(10_000))
    def deliver_to_client(self, size: int) -> None:
        if self.client_paused:
            return  # not reading: the bytes wait in the transport
        chunk = bytes(self.to_client[:size])
        del self.to_client[:size]
        self.client.receive_data(chunk, now=self.now)
        self._after_client_events(self._events(self.client))
        self._flush()

    @rule()
    def toggle_client_reading(self) -> None:
        """Back-pressure: the client stops reading (or starts again)."""
        self.client_paused = not self.client_paused
        if self.client_paused:
            self.client.pause_receive_timeout(now=self.now)
        else:
            self.client.resume_receive_timeout(now=self.now)

    @rule(seconds=st.sampled_from([0.01, 0.05, 0.2, 1.0, 3.0]))
    def tick(self, seconds: float) -> None:
        self.pair.now += seconds
        for conn in (self.client, self.server):
            conn.handle_timer(now=self.now)
            deadline = conn.get_timer()
            assert deadline is None or deadline > self.now
        self._after_client_events(self._events(self.client))
        self._events(self.server)
        self._flush()

    @rule()
    def close_both(self) -> None:
        """Deliver everything, both transports close, then start over with a new pair."""
        self.finished = True
        self.client_paused = False  # the quiet-link invariant does not hold half-way
        self.deliver_to_server(10_000)
        self.deliver_to_client(10_000)
        for conn in (self.client, self.server):
            hypothesis.event(f"{conn.role.name} closes from {conn.state.name}")
            conn.receive_eof(now=self.now)
            events = self._events(conn)
            if conn is self.client:
                self._after_client_events(events)
            # EOF always ends a session with exactly one ConnectionClosed, last.
            assert [type(e) for e in events].count(ConnectionClosed) == 1, events
            assert isinstance(events[-1], ConnectionClosed)
            assert conn.state is State.CLOSED
            assert self._events(conn) == []
        self.client_matches_the_model()
        self._start()

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def client_matches_the_model(self) -> None:
        assert self.client.subscriptions == self.subscriptions
        assert self.client.transactions == tuple(self.transactions)
        assert self.client.pending_receipts == tuple(self.receipts)

    @invariant()
    def quiet_link_means_agreement(self) -> None:
        client, server = self.client, self.server
        if self.to_server or self.to_client or self.finished:
            return
        if client.state in _TERMINAL or server.state in _TERMINAL:
            return
        assert client.state is server.state
        if client.state is State.CONNECTED:
            assert client.version == server.version
            assert client.heartbeat == server.heartbeat[::-1]
            assert client.subscriptions == server.subscriptions
            assert client.transactions == server.transactions


ClientServerMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestClientServer = ClientServerMachine.TestCase

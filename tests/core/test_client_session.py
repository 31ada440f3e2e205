"""stomp_core.client: ClientOptions, ClientSession and its DialPlan (pure, no I/O)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from stomp_core import (
    Ack,
    Begin,
    Connected,
    ConnectionClosed,
    ConnectTimeout,
    DisconnectTimeout,
    Error,
    HeartbeatReceived,
    HeartbeatTimeout,
    LocalProtocolError,
    Message,
    Nack,
    Receipt,
    RemoteProtocolError,
    Send,
    State,
    Subscribe,
)
from stomp_core.client import (
    Backlog,
    BrokerError,
    ClientOptions,
    ClientSession,
    ClientState,
    ConnectFailed,
    ConnectionLost,
    Deliver,
    Dial,
    Ended,
    Endpoint,
    Ignored,
    Phase,
    ProtocolViolation,
    ReceiptDone,
    ReconnectPolicy,
    TlsContexts,
    TransactionState,
    Unhandled,
    Wait,
    connect_failed,
    parse_failure,
    parse_hosts,
    report_unhandled,
    send_builder,
)

A = Endpoint("a", 1)
B = Endpoint("b", 2)


@dataclasses.dataclass
class Sub:
    destination: str


def options(**settings: Any) -> ClientOptions:
    settings.setdefault("hosts", (A, B))
    return ClientOptions(**settings)


def session(**settings: Any) -> ClientSession[Sub, str]:
    return ClientSession(options(**settings), rng=lambda: 0.0)


def message(subscription: str | None = "s1", destination: str = "/q/a", mid: str = "m1") -> Message:
    return Message(
        destination=destination,
        message_id=mid,
        subscription=subscription,
        ack="ack-" + mid,
        body=b"x",
    )


def connected(version: str = "1.2") -> Connected:
    return Connected(version=version)


def started(s: ClientSession[Sub, str], version: str = "1.2") -> int:
    generation = s.connection_started(A)
    assert s.handle(connected(version), generation) == []
    return generation


# ------------------------------------------------------------------------------ options


def test_options_are_checked_and_normalised() -> None:
    headers = {"client-id": "c"}
    opts = options(
        hosts=parse_hosts("stomp://a:1"),
        connect_timeout=1,
        versions=["1.1", "1.2"],
        headers=headers,
        passcode="hunter2",
    )
    headers["client-id"] = "changed"
    assert opts.hosts == (Endpoint("a", 1, False),)
    assert opts.connect_timeout == 1.0
    assert isinstance(opts.connect_timeout, float)
    assert opts.versions == ("1.1", "1.2")
    assert opts.config.versions == ("1.1", "1.2")
    assert opts.config.connect_timeout == 1.0
    assert dict(opts.headers or {}) == {"client-id": "c"}
    assert "hunter2" not in repr(opts)
    connect = opts.connect_event()
    assert connect.host == "/"
    assert connect.accept_version == ("1.1", "1.2")
    assert connect.headers == (("client-id", "c"),)
    assert options(vhost="vh").connect_event().host == "vh"
    assert options().headers is None
    assert options().config.limits is not None


def test_options_refuse_bad_settings() -> None:
    with pytest.raises(ValueError, match="hosts is empty"):
        ClientOptions(hosts=())
    with pytest.raises(ValueError, match="ssl=False"):
        options(hosts=parse_hosts("stomp+ssl://a"), ssl=False)
    with pytest.raises(ValueError, match="receipt_timeout"):
        options(receipt_timeout=0)
    with pytest.raises(ValueError, match="write_timeout"):
        options(write_timeout=-1)
    assert options(write_timeout=2).write_timeout == 2.0
    with pytest.raises(ValueError, match="login"):
        options(headers={"login": "x"})


def test_options_tls() -> None:
    assert options().tls is None
    assert options(ssl=False).tls is False
    assert options(ssl=object()).tls is True
    tls = options(hosts=parse_hosts("stomp+ssl://a, stomp://b"))
    assert [tls.use_tls(e) for e in tls.hosts] == [True, False]


# ---------------------------------------------------------------------------- dial plan


def test_first_connect_makes_one_round_without_retry() -> None:
    s = session()
    plan = s.dial_plan(first=True)
    assert plan.next_step() == Dial(A, 0)
    assert plan.failed(ConnectFailed("a down")) == 1
    assert plan.next_step() == Dial(B, 1)
    assert plan.failed(ConnectFailed("b down")) == 2
    assert plan.attempts == 2
    with pytest.raises(ConnectFailed, match=r"could not connect to a:1, b:2 after 2") as info:
        plan.next_step()
    assert str(info.value.__cause__) == "b down"


def test_reconnect_waits_between_rounds_until_attempts_max() -> None:
    policy = ReconnectPolicy(initial=1.0, increase=1.0, jitter=0.0, attempts_max=3)
    s = session(reconnect=policy)
    plan = s.dial_plan(first=False)
    steps: list[object] = []
    for _ in range(4):
        step = plan.next_step()
        steps.append(step)
        if isinstance(step, Dial):
            plan.failed(ConnectFailed("down"))
    with pytest.raises(ConnectFailed, match="after 3 attempt"):
        plan.next_step()
    assert steps == [Dial(A, 0), Dial(B, 1), Wait(1.0), Dial(A, 2)]


def test_retry_first_connect_and_success() -> None:
    s = session(reconnect=ReconnectPolicy(retry_first_connect=True, jitter=0.0, initial=2.0))
    plan = s.dial_plan(first=True)
    plan.failed(ConnectFailed("a"))  # a failure counts even before next_step
    assert plan.next_step() == Dial(A, 1)
    assert plan.next_step() == Dial(B, 1)
    assert plan.next_step() == Wait(2.0)
    assert session(reconnect=None).reconnects_after(ConnectionLost("x")) is False
    assert s.reconnects_after(ConnectionLost("x")) is True
    assert s.reconnects_after(BrokerError("refused")) is False
    assert session(reconnect=None).dial_plan(first=False).next_step() == Dial(A, 0)


def test_a_refusal_ends_the_plan_at_once() -> None:
    plan = session(reconnect=ReconnectPolicy()).dial_plan(first=False)
    plan.next_step()
    assert plan.failed(ConnectionLost("dropped while starting")) == 1
    refused = ConnectFailed("no", refused=True)
    with pytest.raises(ConnectFailed) as info:
        plan.failed(refused)
    assert info.value is refused
    assert plan.attempts == 1


# ------------------------------------------------------------------------------ session


def test_ids_and_state() -> None:
    s = session()
    assert [s.next_receipt_id(), s.next_receipt_id()] == ["receipt-1", "receipt-2"]
    assert s.next_subscription_id() == "sub-1"
    assert s.next_transaction_id() == "tx-1"
    change = s.set_state(ClientState.RECONNECTING, endpoint=A, error=None, attempt=2)
    assert s.state is ClientState.RECONNECTING
    assert (change.state, change.endpoint, change.attempt) == (ClientState.RECONNECTING, A, 2)


def test_connection_generations_and_heartbeats() -> None:
    s = session()
    assert not s.live
    first = s.connection_started(A)
    assert (first, s.endpoint, s.live) == (1, A, False)
    s.handle(connected("1.1"), first)
    assert s.live
    assert s.connected is not None
    assert s.connected.version == "1.1"
    assert s.handle(HeartbeatReceived(), first) == []
    assert s.heartbeats_received == 1
    second = s.connection_started(B)
    assert second == 2
    assert not s.live
    # Late events of the first connection are ignored.
    assert s.handle(HeartbeatReceived(), first) == [
        Ignored("HeartbeatReceived from a replaced connection dropped")
    ]
    assert s.heartbeats_received == 1
    assert s.handle(Begin(transaction="t"), second) == []  # no frame a client receives


def test_messages_are_routed_by_id_then_destination() -> None:
    s = session()
    generation = started(s)
    one, two = Sub("/q/a"), Sub("/q/b")
    s.add_subscription("s1", one)
    s.add_subscription("s2", two)
    with pytest.raises(ValueError, match="already in use"):
        s.add_subscription("s1", one)
    assert dict(s.subscriptions) == {"s1": one, "s2": two}
    event = message("s2")
    assert s.handle(event, generation) == [Deliver(two, event, generation)]
    no_id = message(None, "/q/b")
    assert s.handle(no_id, generation) == [Deliver(two, no_id, generation)]
    unknown = message("nope")
    [outcome] = s.handle(unknown, generation)
    assert isinstance(outcome, Unhandled)
    assert "'nope'" in outcome.what


def test_unsubscribed_messages_are_expected_and_closing_drops_all() -> None:
    s = session()
    generation = started(s)
    s.add_subscription("s1", Sub("/q/a"))
    s.record(Subscribe(destination="/q/a", id="s1"))
    assert s.remove_subscription("s1", sent=True) is True
    assert s.handle(message("s1"), generation) == [Ignored("MESSAGE m1 dropped: unsubscribed")]
    assert dict(s.registry.subscriptions) == {}
    assert s.remove_subscription("s9", sent=False) is False
    s.add_subscription("s2", Sub("/q/b"))
    assert s.finish() == [Sub("/q/b")]
    assert s.closing
    assert dict(s.subscriptions) == {}
    [closing] = s.handle(message("s2"), generation)
    assert isinstance(closing, Ignored)


def test_receipts() -> None:
    s = session()
    generation = started(s)
    s.await_receipt("r1", "waiter-1")
    assert dict(s.receipts) == {"r1": "waiter-1"}
    assert s.handle(Receipt(receipt_id="r1"), generation) == [ReceiptDone("waiter-1", None)]
    [outcome] = s.handle(Receipt(receipt_id="r1"), generation)
    assert isinstance(outcome, Unhandled)
    assert "nobody asked for" in outcome.what
    s.await_receipt("r2", "waiter-2")
    s.give_up_receipt("r2")
    s.give_up_receipt("r2")  # twice: harmless
    [late] = s.handle(Receipt(receipt_id="r2"), generation)  # late, expected
    assert late == Ignored("RECEIPT 'r2' arrived after its wait ended")
    s.expect_receipt("bye")
    assert isinstance(s.handle(Receipt(receipt_id="bye"), generation)[0], Ignored)


def test_error_before_connected_is_a_refusal() -> None:
    s = session()
    generation = s.connection_started(A)
    [outcome] = s.handle(Error(message="bad login"), generation)
    assert isinstance(outcome, Ended)
    assert isinstance(outcome.reason, ConnectFailed)
    assert outcome.reason.refused
    assert "bad login" in outcome.reason.message


def test_error_after_connected_fails_its_receipt_and_ends() -> None:
    s = session()
    generation = started(s)
    s.await_receipt("r1", "w")
    outcomes = s.handle(Error(message="boom", receipt_id="r1"), generation)
    assert len(outcomes) == 2
    done, ended = outcomes
    assert isinstance(done, ReceiptDone)
    assert isinstance(done.error, BrokerError)
    assert isinstance(ended, Ended)
    assert ended.reason is done.error
    assert not ended.abort
    assert not s.live  # the connection is over for the session at once
    # (A core emits one ERROR per connection: each case on a connection of its own.)
    [only] = s.handle(Error(message="other", receipt_id="unknown"), started(s))
    assert isinstance(only, Ended)
    assert isinstance(only.reason, BrokerError)
    [plain] = s.handle(Error(message="plain"), started(s))
    assert isinstance(plain, Ended)
    assert isinstance(plain.reason, BrokerError)


@pytest.mark.parametrize("event", [HeartbeatTimeout(), ConnectTimeout(), DisconnectTimeout()])
def test_timeouts_abort(event: object) -> None:
    s = session()
    generation = started(s)
    [outcome] = s.handle(event, generation)  # type: ignore[arg-type]
    assert isinstance(outcome, Ended)
    assert outcome.abort
    assert outcome.reason is not None


def test_connection_closed() -> None:
    s = session()
    generation = started(s)
    [lost] = s.handle(ConnectionClosed(clean=True), generation)
    assert isinstance(lost, Ended)
    assert isinstance(lost.reason, ConnectionLost)
    s.buffer_full("s1")
    s.begin_closing()
    assert not s.stalled
    assert s.handle(ConnectionClosed(clean=True), generation) == [Ended(None)]
    [unclean] = s.handle(ConnectionClosed(clean=False), generation)
    assert isinstance(unclean, Ended)
    assert unclean.reason is not None


def test_can_send_only_on_the_current_live_connection_with_a_connected_core() -> None:
    s = session()
    first = s.connection_started(A)
    assert not s.can_send(first, State.CONNECTING)  # CONNECTED has not come
    s.handle(connected("1.2"), first)
    assert s.can_send(first, State.CONNECTED)
    # The core read EOF, an ERROR, or a frame was half-written: no longer CONNECTED,
    # before the driver hears that the transport is gone.
    assert not s.can_send(first, State.CLOSED)
    assert not s.can_send(first, State.ERROR)
    # Once the session reported the end, not even a CONNECTED core takes a frame.
    s.handle(ConnectionClosed(clean=False), first)
    assert not s.live
    assert not s.can_send(first, State.CONNECTED)
    second = s.connection_started(B)
    s.handle(connected("1.2"), second)
    assert not s.can_send(first, State.CONNECTED)  # a replaced connection
    assert s.can_send(second, State.CONNECTED)
    s.handle(Error(message="bye"), second)
    assert not s.can_send(second, State.CONNECTED)


def test_connection_lost_fails_receipts_and_transactions() -> None:
    s = session()
    started(s)
    s.await_receipt("r1", "w")
    tx = TransactionState("tx-1")
    tx.begin()
    s.record(Begin(transaction="tx-1"))
    s.transaction_begun(tx, generation=s.generation)
    assert tx.phase is Phase.OPEN
    reason = BrokerError("gone")
    [done] = s.connection_lost(reason)
    assert done.waiter == "w"
    assert isinstance(done.error, ConnectionLost)
    assert done.error.__cause__ is reason
    assert tx.phase is Phase.LOST
    assert s.registry.transactions == ()
    assert not s.live
    assert dict(s.receipts) == {}
    # None keeps the previous reason for losses.
    assert s.connection_lost(None)[0:] == []


def test_transactions_note_a_loss_they_can_see() -> None:
    s = session()
    generation = started(s)
    tx = TransactionState("tx-1")
    tx.begin()
    s.transaction_begun(tx, generation=generation)
    s.note_loss(tx, generation=generation)
    assert tx.phase is Phase.OPEN
    s.transaction_ended(tx)
    s.connection_started(B)  # a new connection: the old one's transaction is gone
    other = TransactionState("tx-2")
    other.begin()
    other.begun()
    s.note_loss(other, generation=generation)
    assert other.phase is Phase.LOST
    # Begun while the connection is down: lost at once.
    late = TransactionState("tx-3")
    late.begin()
    s.transaction_begun(late, generation=s.generation)
    assert late.phase is Phase.LOST


def test_acks_use_the_negotiated_version_and_refuse_stale_messages() -> None:
    s = session()
    generation = started(s, "1.1")
    event = message(None)
    ack = s.ack_event(event, generation=generation, subscription="s1", receipt="r")
    assert isinstance(ack, Ack)
    assert (ack.id, ack.subscription, ack.receipt) == ("m1", "s1", "r")
    nack = s.ack_event(message(), generation=generation, subscription="s1", nack=True)
    assert isinstance(nack, Nack)
    s.connection_started(B)
    with pytest.raises(ConnectionLost, match="earlier connection"):
        s.ack_event(event, generation=generation, subscription="s1")
    fresh = session()
    fresh_generation = fresh.connection_started(A)  # no CONNECTED yet: not live
    with pytest.raises(ConnectionLost, match="since been lost"):
        fresh.ack_event(message(), generation=fresh_generation, subscription="s1")


def test_back_pressure_accounting() -> None:
    s = session()
    assert not s.stalled
    s.buffer_full("s1")
    s.buffer_full("s2")
    assert s.stalled
    assert s.buffer_has_room("s1") is False
    assert s.buffer_has_room("s2") is True
    assert not s.stalled
    s.buffer_full("s3")
    s.remove_subscription("s3", sent=False)
    assert not s.stalled


def test_record_and_replay() -> None:
    s = session()
    s.record(Subscribe(destination="/q/a", id="s1", receipt="r"))
    s.record(Send(destination="/q/a", body=b""))
    assert [sub.receipt for sub in s.replay()] == [None]
    with pytest.raises(LocalProtocolError):
        s.record(Subscribe(destination="/q/a", id="s1"))


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def warning(self, msg: str, /, *args: object) -> None:
        self.lines.append("warning " + msg % args)

    def exception(self, msg: str, /, *args: object) -> None:
        self.lines.append("exception " + msg % args)


def test_report_unhandled() -> None:
    outcome = Unhandled(Receipt(receipt_id="r"), "RECEIPT 'r'")
    log = Log()
    report_unhandled(None, outcome, log)
    seen: list[object] = []
    report_unhandled(seen.append, outcome, log)

    def broken(event: object) -> None:
        raise RuntimeError("hook")

    report_unhandled(broken, outcome, log)
    assert seen == [outcome.event]
    assert log.lines == [
        "warning unhandled RECEIPT 'r'",
        "exception on_unhandled raised for RECEIPT 'r'",
    ]


def test_parse_failure_and_connect_failed() -> None:
    error = RemoteProtocolError("header line without ':'")
    violation = parse_failure(error, eof=False)
    assert isinstance(violation, ProtocolViolation)
    assert violation.__cause__ is error
    cut = parse_failure(error, eof=True)
    assert isinstance(cut, ConnectionLost)
    assert "mid-frame" in str(cut)
    assert cut.__cause__ is error
    refused = ConnectFailed("no", refused=True)
    assert connect_failed(refused) is refused
    wrapped = connect_failed(cut)
    assert isinstance(wrapped, ConnectFailed)
    assert "before CONNECTED" in str(wrapped)
    assert wrapped.__cause__ is cut


class Context:
    """Stands for ssl.SSLContext (the core never imports ssl)."""


def test_tls_contexts() -> None:
    made: list[Context] = []

    def make() -> Context:
        made.append(Context())
        return made[-1]

    hosts = parse_hosts("stomp+ssl://a, stomp://b")
    auto = TlsContexts(options(hosts=hosts), Context, make)
    assert auto.context(hosts[1]) is None
    first = auto.context(hosts[0])
    assert first is not None
    assert auto.context(hosts[0]) is first  # one default context, made once
    assert len(made) == 1
    given = Context()
    mine = TlsContexts(options(hosts=hosts, ssl=given), Context, make)
    assert mine.context(hosts[0]) is given
    assert mine.context(hosts[1]) is given  # ssl= set: TLS for every broker
    with pytest.raises(TypeError, match="ssl must be"):
        TlsContexts(options(ssl="yes"), Context, make)


def test_backlog_of_a_subscription() -> None:
    backlog: Backlog[int] = Backlog(2)
    assert backlog.capacity == 2
    assert backlog.poll() is None
    assert backlog.offer(1)
    backlog.put(2)
    assert backlog.full
    assert not backlog.offer(3)  # full: the driver holds it back
    assert list(backlog) == [1, 2]
    assert backlog.poll() == 1
    backlog.end()
    assert backlog.ended
    backlog.put(4)  # ended: ignored
    assert backlog.offer(5)  # ended: dropped, nothing to hold back
    assert backlog.poll() == 2  # what was buffered stays readable
    with pytest.raises(StopAsyncIteration):
        backlog.poll()


def test_a_blocked_backlog_unblocks_once_drained_to_half() -> None:
    # Resuming at the first free slot would stop and start the reader once per message.
    backlog: Backlog[int] = Backlog(4)
    for item in range(4):
        assert backlog.offer(item)
    assert not backlog.unblocked()  # full but nothing held back: not blocked
    assert not backlog.offer(4)  # held back: blocked
    assert backlog.poll() == 0
    assert not backlog.unblocked()  # 3 of 4
    assert backlog.poll() == 1
    assert backlog.unblocked()  # 2 of 4: the producer may go on
    assert not backlog.unblocked()  # once
    put: Backlog[int] = Backlog(2)
    put.put(1)
    put.put(2)  # filled by put(): blocked as well
    assert put.poll() == 1
    assert put.unblocked()
    by_bytes: Backlog[bytes] = Backlog(100, max_bytes=10, size=len)
    assert by_bytes.offer(b"a" * 4)
    assert by_bytes.offer(b"b" * 4)
    assert by_bytes.offer(b"c" * 4)
    assert not by_bytes.offer(b"d")
    assert by_bytes.poll() == b"a" * 4
    assert not by_bytes.unblocked()  # 8 bytes of 10: above half
    assert by_bytes.poll() == b"b" * 4
    assert by_bytes.unblocked()  # 4 bytes of 10
    observers: Backlog[int] = Backlog(1, drop_oldest=True)
    observers.put(1)
    observers.put(2)  # drops the oldest: never blocks
    assert observers.poll() == 2
    assert not observers.unblocked()


def test_add_is_put_unless_full() -> None:
    backlog: Backlog[int] = Backlog(2)
    assert backlog.add(1) is False  # room remains
    assert backlog.add(2) is True  # filled: blocked, as put() leaves it
    assert backlog.add(3) is None  # full: not added
    assert list(backlog) == [1, 2]
    assert backlog.poll() == 1
    assert backlog.unblocked()
    by_bytes: Backlog[bytes] = Backlog(100, max_bytes=10, size=len)
    assert by_bytes.add(b"a" * 6) is False
    assert by_bytes.add(b"b" * 6) is True  # 12 bytes of 10
    assert by_bytes.add(b"c") is None
    assert by_bytes.bytes == 12
    by_bytes.end()
    assert by_bytes.add(b"d") is False  # ended: dropped
    assert list(by_bytes) == [b"a" * 6, b"b" * 6]


def test_backlog_bounded_in_bytes_too() -> None:
    # Issue 14.7: a count alone lets a few huge bodies grow the client without bound.
    backlog: Backlog[bytes] = Backlog(100, max_bytes=10, size=len)
    assert backlog.max_bytes == 10
    assert backlog.offer(b"x" * 25)  # larger than the bound, but the backlog is empty
    assert (backlog.bytes, backlog.full) == (25, True)
    assert not backlog.offer(b"y")  # full in bytes, far below the count
    assert backlog.poll() == b"x" * 25
    assert (backlog.bytes, backlog.full) == (0, False)
    assert backlog.offer(b"a" * 6)
    assert not backlog.full
    assert backlog.offer(b"b" * 6)  # 12 >= 10: accepted, then full
    assert (backlog.bytes, backlog.full) == (12, True)
    assert [backlog.poll(), backlog.poll()] == [b"a" * 6, b"b" * 6]
    assert backlog.bytes == 0
    unbounded: Backlog[bytes] = Backlog(2)
    unbounded.put(b"zz")
    assert (unbounded.bytes, unbounded.max_bytes) == (0, None)
    assert unbounded.poll() == b"zz"
    with pytest.raises(ValueError, match="go together"):
        Backlog(2, max_bytes=10)
    with pytest.raises(ValueError, match="drop_oldest"):
        Backlog(2, drop_oldest=True, max_bytes=10, size=len)


def test_backlog_ending_with_an_error_and_dropping_the_oldest() -> None:
    backlog: Backlog[int] = Backlog(2, drop_oldest=True)
    for n in range(3):
        backlog.put(n)
    first, second = ConnectionLost("first"), ConnectionLost("second")
    backlog.end(first)
    backlog.end(second)
    assert [backlog.poll(), backlog.poll()] == [1, 2]
    with pytest.raises(ConnectionLost, match="first"):
        backlog.poll()


def test_send_builder_encodes_at_once_and_takes_the_receipt_later() -> None:
    build = send_builder("/q/a", "héllo", headers={"persistent": "true"}, transaction="tx-1")
    event = build("r-1")
    assert event.body == "héllo".encode()
    assert event.content_type == "text/plain;charset=utf-8"
    assert (event.transaction, event.receipt) == ("tx-1", "r-1")
    assert event.headers == (("persistent", "true"),)
    assert send_builder("/q/a", b"x")(None).receipt is None
    with pytest.raises(TypeError):
        send_builder("/q/a", 42)  # type: ignore[arg-type]

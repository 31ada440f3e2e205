"""stomp_core.client: the objects both async drivers share (ClientBase, SubscriptionBase,
MessageBase, TransactionBase, StateChangesBase), driven through fake hooks.

Every await in those objects is on a callable the driver passes down, so a fake client
that records what it is asked to send is enough; asyncio only runs the coroutines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from stomp_core import (
    CLIENT,
    NEED_DATA,
    Abort,
    Ack,
    Begin,
    Commit,
    Connect,
    Connected,
    Connection,
    Error,
    FrameEvent,
    HeartbeatTimeout,
    LocalProtocolError,
    LoggedConnection,
    Message,
    Nack,
    Receipt,
    Send,
    State,
    Subscribe,
    Unsubscribe,
)
from stomp_core.client import (
    BrokerError,
    ClientBase,
    ClientOptions,
    ClientState,
    ConnectFailed,
    ConnectionLost,
    Deliver,
    Endpoint,
    ExitAction,
    MessageBase,
    ReceiptDone,
    ReceiptTimeout,
    ReceivedMessage,
    ReconnectPolicy,
    StateChange,
    StateChangesBase,
    StompError,
    SubscriptionBase,
    TransactionBase,
)

A = Endpoint("a", 1)
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Sig:
    """A Signal for the tests: counts fires; wait() returns after the next one."""

    def __init__(self) -> None:
        self.fired = 0
        self._event: asyncio.Event | None = None

    def fire(self) -> None:
        self.fired += 1
        if self._event is not None:
            self._event.set()

    async def wait(self) -> None:
        self._event = asyncio.Event()
        await self._event.wait()


class Sub(SubscriptionBase["Msg"]):
    async def unsubscribe(self, *, receipt: bool = False) -> None:
        await self._hooks.unsubscribe(self, receipt)


class Msg(MessageBase[Sub]):
    __slots__ = ()


class Tx(TransactionBase):
    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if self._exit_action(exc) is ExitAction.COMMIT:
            await self.commit()


class Core:
    heartbeat = (1000, 2000)
    state = State.CONNECTED

    def __init__(self) -> None:
        self.subscriptions: dict[str, str] = {}

    def offer_messages(self, offer: Callable[[Message], bool]) -> int:
        return 0  # nothing parsed ahead (a real core: test_a_reads_messages_...)


class Link:
    """What the base client needs of a driver's link."""

    def __init__(self, generation: int = 1, endpoint: Endpoint = A) -> None:
        self.endpoint = endpoint
        self.core = Core()
        self.generation = generation
        self.ended = False
        self.endings: list[tuple[StompError | None, bool]] = []

    def end(self, reason: StompError | None, *, abort: bool) -> None:
        self.endings.append((reason, abort))


class Log:
    """A logger that keeps (level, message) pairs."""

    name = "fake_driver"

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.enabled = False  # for DEBUG (the frame log)

    def isEnabledFor(self, level: int) -> bool:
        return self.enabled and level == 10

    def _log(self, level: str, msg: str, *args: object) -> None:
        self.lines.append((level, msg % args))

    def debug(self, msg: str, /, *args: object) -> None:
        self._log("debug", msg, *args)

    def info(self, msg: str, /, *args: object) -> None:
        self._log("info", msg, *args)

    def warning(self, msg: str, /, *args: object) -> None:
        self._log("warning", msg, *args)

    def exception(self, msg: str, /, *args: object) -> None:
        self._log("exception", msg, *args)


class Client(ClientBase[Sub, Msg, Tx, StateChangesBase]):
    """Records every frame it is asked to send; ``fail`` makes the next send raise."""

    def __init__(self, checkpoint: Callable[[], Any] | None = None, **settings: Any) -> None:
        extra = {} if checkpoint is None else {"checkpoint": checkpoint}
        super().__init__(
            ClientOptions(hosts=(A,), **settings),
            rng=lambda: 0.0,
            subscription=Sub,
            message=Msg,
            transaction=Tx,
            signal=Sig,
            observer=StateChangesBase,
            log=Log(),
            frames=Log(),
            reply_token="tok",
            **extra,
        )
        self._link: Link | None = None
        self.delivered: list[Deliver[Sub]] = []
        self.resolved: list[ReceiptDone[str]] = []
        self.slept: list[float] = []
        #: What each dial does: an exception to raise, or None to connect.
        self.dials: list[BaseException | None] = []
        self.failed: list[StompError] = []
        self.sent: list[tuple[FrameEvent, int | None]] = []
        self.queued: list[tuple[FrameEvent, int]] = []
        self.calls: list[tuple[str, str, bool]] = []
        self.fail: BaseException | None = None
        self.refuse = False
        #: How long a reply wait may last (0: it times out); what each send then does.
        self.reply_wait = 5.0
        self.after_send: Callable[[FrameEvent], None] = lambda event: None
        self.gate: asyncio.Event | None = None  # a send waits for it when set

    async def _send(
        self, build: Callable[[str | None], FrameEvent], receipt: bool, generation: int | None
    ) -> int:
        if self.fail is not None:
            raise self.fail
        event = build("r-1" if receipt else None)
        if self.gate is not None:
            await self.gate.wait()
        self._session.record(event)  # as the drivers do once the core took it
        self.sent.append((event, generation))
        self.after_send(event)
        return self._session.generation

    def _check_sending(self) -> None:
        if self._session.closing:
            raise ConnectionLost("the client is closed")

    async def _unsubscribe(self, sub: Sub, receipt: bool) -> None:
        self.calls.append(("unsubscribe", sub.id, receipt))

    def _write_soon(self, link: Link, event: FrameEvent) -> None:
        if self.refuse:
            raise LocalProtocolError("the core refuses it")
        self.queued.append((event, link.generation))

    def _room(self, sub: Sub) -> None:
        self.calls.append(("room", sub.id, False))

    def _deliver(self, link: Any, outcome: Deliver[Sub]) -> None:
        self.delivered.append(outcome)

    def _resolve(self, done: ReceiptDone[str]) -> None:
        self.resolved.append(done)

    async def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    async def _wait_for(self, wait: Awaitable[None], seconds: float) -> bool:
        self.slept.append(seconds)
        try:
            await asyncio.wait_for(wait, self.reply_wait)
        except asyncio.TimeoutError:
            return False
        return True

    def _fail(self, error: StompError) -> None:
        self.failed.append(error)

    async def _dial(self, endpoint: Endpoint) -> Link:
        failure = self.dials.pop(0)
        if failure is not None:
            raise failure
        self._session.connection_started(endpoint)
        return Link(self._session.generation, endpoint)

    def connect(self) -> int:
        """A live connection, as the driver's handshake makes it."""
        generation = self._session.connection_started(A)
        self._session.handle(Connected(version="1.2", session="s-1", server="b/1"), generation)
        self._link = Link(generation)
        return generation


class WriterLink(Link):
    """A link the base client's own send path writes on (one turn at a time)."""

    def __init__(self, generation: int) -> None:
        super().__init__(generation)
        self.turn = asyncio.Lock()
        self.reason: StompError | None = None
        self.queued: list[FrameEvent] = []
        self.written: list[FrameEvent] = []
        self.flushed = asyncio.Event()
        #: Called with each frame written (a RECEIPT may come before the writer waits).
        self.on_write: Callable[[FrameEvent], None] = lambda event: None

    def send(self, event: FrameEvent) -> None:
        self.queued.append(event)

    async def flush(self) -> None:
        for event in self.queued:
            self.written.append(event)
            self.on_write(event)
        self.queued.clear()
        self.flushed.set()


class RefusingLink(WriterLink):
    """A new connection whose core refuses client-individual (STOMP 1.0) and "orphan"."""

    def send(self, event: FrameEvent) -> None:
        assert isinstance(event, Subscribe)
        if event.ack == "client-individual" or event.id == "orphan":
            raise LocalProtocolError("STOMP 1.0 has no client-individual")
        super().send(event)


class SendingClient(Client):
    """Sends through ClientBase's own send path, on a WriterLink."""

    _send = ClientBase._send  # type: ignore[assignment]
    _unsubscribe = ClientBase._unsubscribe  # type: ignore[assignment]

    def connect(self) -> int:
        generation = super().connect()
        self._link = WriterLink(generation)
        self._set_state(ClientState.CONNECTED, endpoint=A)
        return generation

    def _resolve(self, done: ReceiptDone[Any]) -> None:
        super()._resolve(done)
        ClientBase._resolve(self, done)


def message(sub: Sub, generation: int, mid: str = "m1", body: bytes = b"x") -> Msg:
    event = Message(
        destination="/q/a", message_id=mid, subscription=sub.id, ack="k-" + mid, body=body
    )
    return Msg(sub, event, generation)


# ------------------------------------------------------------------------------ client


def test_what_a_client_shows_before_and_after_connecting() -> None:
    client = Client()
    assert client.state is ClientState.CONNECTING
    assert (client.version, client.session, client.server, client.endpoint) == (None,) * 4
    assert client.heartbeat == (0, 0)
    client.connect()
    assert (client.version, client.session, client.server) == ("1.2", "s-1", "b/1")
    assert client.endpoint == A
    assert client.heartbeat == (1000, 2000)
    assert client.heartbeats_received == 0


def test_send_builds_the_frame_and_pins_a_transaction_to_its_connection() -> None:
    client = Client()
    generation = client.connect()
    run(client.send("/q/a", "hé", receipt=True))
    run(client.send("/q/a", b"raw", headers={"persistent": "true"}, transaction="tx-9"))
    (first, pinned), (second, unpinned) = client.sent
    assert isinstance(first, Send)
    assert first.receipt == "r-1"
    assert first.body == "hé".encode()
    assert isinstance(second, Send)
    assert second.transaction == "tx-9"
    assert second.receipt is None
    assert pinned is None
    assert unpinned is None
    tx = client.transaction()
    run(tx.begin())
    run(client.send("/q/a", "in tx", transaction=tx))
    event, pin = client.sent[-1]
    assert isinstance(event, Send)
    assert event.transaction == "tx-1"
    assert pin == generation


def test_subscribe_checks_arguments_and_registers_before_sending() -> None:
    client = Client(subscription_buffer=3, subscription_buffer_bytes=10)
    with pytest.raises(ValueError, match="ack must be"):
        client.subscribe("/q/a", ack="nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="buffer"):
        client.subscribe("/q/a", buffer=0)
    sub = client.subscribe("/q/a", ack="client", headers={"prefetch-count": "3"})
    assert (sub.id, sub.destination, sub.ack, sub.capacity) == ("sub-1", "/q/a", "client", 3)
    assert dict(sub.headers) == {"prefetch-count": "3"}
    assert client.subscribe("/q/b", id="mine", buffer=7).capacity == 7
    run(client._subscribe(sub, True))
    assert client._session.subscriptions["sub-1"] is sub
    event, _ = client.sent[-1]
    assert isinstance(event, Subscribe)
    assert (event.id, event.ack, event.receipt) == ("sub-1", "client", "r-1")
    assert ("prefetch-count", "3") in event.headers


def test_a_subscription_id_in_use_is_refused_as_both_error_types() -> None:
    client = Client()
    run(client._subscribe(client.subscribe("/q/a", id="x"), False))
    with pytest.raises(LocalProtocolError, match="already in use") as info:
        run(client._subscribe(client.subscribe("/q/b", id="x"), False))
    assert isinstance(info.value, ValueError)


def test_a_failed_subscribe_is_taken_back() -> None:
    client = Client()
    client.fail = ConnectionLost("gone")
    sub = client.subscribe("/q/a")
    with pytest.raises(ConnectionLost):
        run(client._subscribe(sub, False))
    assert sub.closed
    assert client._session.subscriptions == {}
    assert client.queued == []  # it never went out: nothing to take back


# ------------------------------------------------------------------------------ messages


def test_messages_ack_and_nack_with_the_versions_headers() -> None:
    client = Client()
    generation = client.connect()
    sub = client.subscribe("/q/a", ack="client-individual")
    msg = message(sub, generation)
    assert msg.subscription is sub
    assert msg.generation == generation
    assert msg.from_current_connection
    assert repr(msg) == "<Message 'm1' from '/q/a', 1 bytes>"
    run(msg.ack(receipt=True))
    run(msg.nack(transaction="tx-3"))
    (ack, _), (nack, _) = client.sent
    assert isinstance(ack, Ack)
    assert (ack.id, ack.receipt) == ("k-m1", "r-1")
    assert isinstance(nack, Nack)
    assert nack.transaction == "tx-3"


def test_a_message_of_an_earlier_connection_cannot_be_acked() -> None:
    client = Client()
    old = client.connect()
    msg = message(client.subscribe("/q/a", ack="client"), old)
    client.connect()
    assert not msg.from_current_connection
    with pytest.raises(ConnectionLost, match="earlier connection"):
        run(msg.ack())
    assert client.sent == []


# ------------------------------------------------------------------------------ subscriptions


def test_a_subscription_buffers_iterates_and_reports_room() -> None:
    client = Client()
    generation = client.connect()
    sub = client.subscribe("/q/a", buffer=2)
    signal = sub._signal
    assert isinstance(signal, Sig)
    first, second, third = (message(sub, generation, f"m{i}") for i in range(3))
    assert sub._offer(first)
    assert sub._offer(second)
    assert sub.full
    assert sub.buffered == 2
    assert signal.fired == 2
    assert not sub._offer(third)  # full: the driver holds it and stops reading
    assert run(sub.__anext__()) is first
    assert client.calls == [("room", "sub-1", False)]  # it was full
    sub._deliver(third)
    assert sub.buffered == 2

    async def consume() -> list[Msg]:
        return [m async for m in sub]

    async def scenario() -> list[Msg]:
        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        late = message(sub, generation, "m9")
        sub._deliver(late)  # wakes the waiting consumer
        await asyncio.sleep(0)
        sub._close()
        return await task

    assert [m.message_id for m in run(scenario())] == ["m1", "m2", "m9"]
    assert sub.closed
    assert repr(sub) == "<Subscription 'sub-1' to '/q/a' ack=auto closed>"
    with pytest.raises(ConnectionLost, match="is closed"):
        run(sub._get())


def test_a_subscription_ends_with_the_clients_error_and_closes_by_unsubscribing() -> None:
    client = Client()
    generation = client.connect()
    sub = client.subscribe("/q/a", receipt=True)
    assert repr(sub).endswith("live>")
    sub._deliver(message(sub, generation))
    sub._close(BrokerError("bad"))
    assert run(sub._get()).message_id == "m1"  # buffered messages first
    with pytest.raises(BrokerError):
        run(sub._get())
    run(sub.close())
    assert client.calls[-1] == ("unsubscribe", "sub-1", False)


def test_a_subscription_weighs_bodies_against_its_byte_bound() -> None:
    client = Client(subscription_buffer_bytes=4)
    generation = client.connect()
    sub = client.subscribe("/q/a")
    assert sub._offer(message(sub, generation, "m1", b"abc"))
    assert sub._offer(message(sub, generation, "m2", b"de"))
    assert sub.full  # 5 bytes of 4, with 2 of 100 messages
    assert not sub._offer(message(sub, generation, "m3", b""))


# ------------------------------------------------------------------------------ transactions


def test_a_transaction_begins_sends_acks_and_commits_on_its_connection() -> None:
    client = Client()
    generation = client.connect()
    sub = client.subscribe("/q/a", ack="client")
    msg = message(sub, generation)

    async def scenario() -> Tx:
        async with client.transaction(id="t") as tx:
            await tx.send("/q/b", "x", content_type="text/plain", receipt=True)
            await tx.ack(msg)
            await tx.nack(msg)
        return tx

    tx = run(scenario())
    kinds = [(type(event).__name__, pin) for event, pin in client.sent]
    assert kinds == [
        ("Begin", None),
        ("Send", generation),
        ("Ack", generation),
        ("Nack", generation),
        ("Commit", generation),
    ]
    begin, send, commit = client.sent[0][0], client.sent[1][0], client.sent[-1][0]
    assert isinstance(begin, Begin)
    assert begin.transaction == "t"
    assert isinstance(send, Send)
    assert send.transaction == "t"
    assert send.receipt == "r-1"
    assert isinstance(commit, Commit)
    assert commit.receipt == "r-1"
    assert repr(tx) == "<Transaction 't' committed>"
    with pytest.raises(RuntimeError):
        run(tx.send("/q/b"))


def test_a_failed_begin_leaves_the_transaction_unbegun() -> None:
    client = Client()
    client.connect()
    tx = client.transaction()
    tx._note_loss()  # nothing to lose before BEGIN
    client.fail = ConnectionLost("gone")
    with pytest.raises(ConnectionLost):
        run(tx.begin())
    client.fail = None
    run(tx.begin())
    assert isinstance(client.sent[-1][0], Begin)


def test_abort_by_hand_and_on_leaving() -> None:
    client = Client()
    client.connect()
    tx = client.transaction()
    run(tx.begin())
    assert tx._exit_action(RuntimeError("boom")) is ExitAction.ABORT
    run(tx.abort(receipt=True))
    abort, _ = client.sent[-1]
    assert isinstance(abort, Abort)
    assert abort.receipt == "r-1"
    with pytest.raises(RuntimeError):
        run(tx.abort())
    later = client.transaction()
    run(later.begin())
    later._abort_soon()  # what a driver does when leaving must not block
    assert client.queued == [(Abort(transaction="tx-2"), client._session.generation)]


def test_abort_after_the_connection_dropped_sends_nothing() -> None:
    checkpoints: list[int] = []

    async def checkpoint() -> None:
        checkpoints.append(1)

    client = Client(checkpoint=checkpoint)
    client.connect()
    tx = client.transaction()
    run(tx.begin())
    client._session.connection_lost(ConnectionLost("gone"))
    with pytest.raises(ConnectionLost):
        run(client.send("/q/a", transaction=tx))
    sent = len(client.sent)
    tx._abort_soon()  # leaving a lost transaction queues nothing
    assert client.queued == []
    run(tx.abort())
    assert len(client.sent) == sent
    assert checkpoints == [1]


def test_abort_swallows_a_lost_connection_and_requeues_when_interrupted() -> None:
    client = Client()
    client.connect()
    tx, other = client.transaction(), client.transaction()
    run(tx.begin())
    run(other.begin())
    client.fail = ConnectionLost("dropped while aborting")
    run(tx.abort())  # the broker aborts it with the connection
    client.fail = asyncio.CancelledError()
    with pytest.raises(asyncio.CancelledError):
        run(other.abort())
    assert client.queued == [(Abort(transaction="tx-2"), client._session.generation)]


# ------------------------------------------------------------------------------ observers


def test_state_changes_are_kept_bounded_and_end_after_closed() -> None:
    detached: list[StateChangesBase] = []
    signal = Sig()
    observer = StateChangesBase(signal, 2, detached.append)
    for state in (ClientState.CONNECTED, ClientState.RECONNECTING, ClientState.CONNECTED):
        observer.push(StateChange(state))

    async def scenario() -> list[ClientState]:
        async with observer as changes:
            task = asyncio.create_task(_states(changes))
            await asyncio.sleep(0)
            observer.push(StateChange(ClientState.CLOSED))
            return await task

    # The oldest change was dropped (maxlen 2); the iteration ended after CLOSED.
    assert run(scenario()) == [
        ClientState.RECONNECTING,
        ClientState.CONNECTED,
        ClientState.CLOSED,
    ]
    assert detached == [observer, observer]


async def _states(changes: StateChangesBase) -> list[ClientState]:
    return [change.state async for change in changes]


# ------------------------------------------------------------------------------ options


def test_options_from_the_arguments_of_open_connection() -> None:
    def open_connection(
        hosts: Any, *, login: str | None = None, ws_path: str | None = None, extra: int = 0
    ) -> ClientOptions:
        return ClientOptions.from_arguments(locals())

    options = open_connection("stomp://b:1,ws://c:2/ws", login="me", extra=5)
    assert [(e.host, e.port, e.path) for e in options.hosts] == [("b", 1, None), ("c", 2, "/ws")]
    assert options.login == "me"
    with_path = open_connection([("d", 3)], ws_path="/stomp")
    assert with_path.hosts[0].path == "/stomp"


# ------------------------------------------------------------------------------ lifecycle


def test_the_clients_repr_names_its_driver_broker_and_version() -> None:
    client = Client()
    assert repr(client) == "<fake_driver.Client connecting>"
    client.connect()
    assert repr(client) == "<fake_driver.Client connecting a:1 STOMP 1.2>"


def test_state_changes_reach_every_observer_until_closed() -> None:
    client = Client()
    first, second = client.state_changes(), client.state_changes()
    second.close()  # detached: sees nothing more
    client._set_state(ClientState.CONNECTED, endpoint=A)
    client._set_state(ClientState.CLOSED, error=ConnectionLost("bye"))
    assert client.state is ClientState.CLOSED
    assert client._observers == []

    async def read(observer: StateChangesBase) -> list[ClientState]:
        return [change.state async for change in observer]

    assert run(read(first)) == [ClientState.CONNECTED, ClientState.CLOSED]
    assert run(read(second)) == []
    assert ("info", "state closed (None: bye)") in client._log.lines  # type: ignore[attr-defined]


class QuietClient(Client):
    _late_observer_sees_closed = False


@pytest.mark.parametrize(("cls", "expected"), [(Client, [ClientState.CLOSED]), (QuietClient, [])])
def test_an_observer_made_after_closed(cls: type[Client], expected: list[ClientState]) -> None:
    client = cls()
    client._final_error = ConnectionLost("gone")
    client._set_state(ClientState.CLOSED)
    late = client.state_changes()
    assert run(_states(late)) == expected
    assert client._observers == []


class SilentDialClient(Client):
    _reports_each_dial = False


def test_connect_follows_the_dial_plan_and_reports_attempts() -> None:
    client = Client(reconnect=ReconnectPolicy(initial=2.0, jitter=0.0))
    client.dials = [ConnectionLost("reset"), None]
    observer = client.state_changes()
    link = run(client._connect(first=False))
    assert isinstance(link, Link)
    assert link.generation == 1
    assert client.slept == [2.0]
    observer.close()
    changes = [(c.state, c.attempt, c.error is not None) for c in _drain(observer)]
    assert changes == [
        (ClientState.RECONNECTING, 0, False),
        (ClientState.RECONNECTING, 1, True),
        (ClientState.RECONNECTING, 1, False),
    ]
    quiet = SilentDialClient()
    quiet.dials = [None]
    observer = quiet.state_changes()
    run(quiet._connect(first=True))
    observer.close()
    assert _drain(observer) == []


def test_connect_gives_up_and_never_retries_a_refusal() -> None:
    client = Client(reconnect=None)
    client.dials = [ConnectionLost("reset")]
    with pytest.raises(ConnectFailed, match="after 1 attempt"):
        run(client._connect(first=True))
    refusing = Client(reconnect=ReconnectPolicy(retry_first_connect=True))
    refused = ConnectFailed.from_error(Error(message="bad login"))
    refusing.dials = [refused]
    with pytest.raises(ConnectFailed) as info:
        run(refusing._connect(first=True))
    assert info.value is refused


def test_handle_hands_each_outcome_to_the_driver() -> None:
    unhandled: list[FrameEvent] = []
    client = Client(on_unhandled=unhandled.append)
    generation = client.connect()
    link = Link(generation)
    sub = client.subscribe("/q/a", id="s1")
    run(client._subscribe(sub, False))
    client._session.await_receipt("r-9", "waiter")
    client._handle(link, Message(destination="/q/a", message_id="m1", subscription="s1"))
    client._handle(link, Receipt(receipt_id="r-9"))
    client._handle(link, Receipt(receipt_id="nobody"))
    client._handle(link, Message(destination="/q/a", message_id="m2", subscription="s1"))
    assert [d.event.message_id for d in client.delivered] == ["m1", "m2"]
    assert [(r.waiter, r.error) for r in client.resolved] == [("waiter", None)]
    assert [type(e).__name__ for e in unhandled] == ["Receipt"]
    client._handle(Link(generation - 1), Receipt(receipt_id="old"))  # a replaced connection
    assert ("debug", "Receipt from a replaced connection dropped") in client._log.lines  # type: ignore[attr-defined]
    client._handle(link, Error(message="no such queue"))
    assert isinstance(link.endings[-1][0], BrokerError)
    assert ("warning", "the broker sent ERROR: no such queue") in client._log.lines  # type: ignore[attr-defined]
    client._handle(link, HeartbeatTimeout())
    assert link.endings[-1][1] is True  # a dead peer: abort


# -- a read's MESSAGEs in one pass (ClientBase._deliver_ready) ----------------------------


class CoreLink(Link):
    """A link over a real core, CONNECTED with ``version``."""

    def __init__(self, generation: int, core: Connection | None = None, version: str = "1.2"):
        super().__init__(generation)
        self.core = core if core is not None else Connection(CLIENT)  # type: ignore[assignment]
        self.core.send(Connect(host="/", accept_version=(version,)), now=0)
        self.core.receive_data(b"CONNECTED\nversion:%s\n\n\x00" % version.encode(), now=0)
        assert isinstance(self.core.next_event(), Connected)


class BufferingClient(Client):
    """Delivers into the subscriptions' buffers and holds one back when full, as
    stomp_trio does."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.held: list[Msg] = []

    def _deliver(self, link: Any, outcome: Deliver[Sub]) -> None:
        super()._deliver(link, outcome)
        sub = outcome.subscription
        message = Msg(sub, outcome.event, outcome.generation)
        if not sub._offer(message):
            self.held.append(message)
            self._session.buffer_full(sub.id)

    def pump(self, link: CoreLink) -> None:
        """A driver's drain loop: every event, until the core needs data or a buffer
        is full."""
        core: Connection = link.core  # type: ignore[assignment]
        while not self._session.stalled and (event := core.next_event()) is not NEED_DATA:
            self._handle(link, event)  # type: ignore[arg-type]


def _wire(*messages: tuple[str, str]) -> bytes:
    return b"".join(
        b"MESSAGE\ndestination:/q/%s\nmessage-id:%s\nsubscription:%s\n\n%s\x00\n"
        % (sub.encode(), mid.encode(), sub.encode(), mid.encode())
        for sub, mid in messages
    )


def _taken(sub: Sub) -> list[str]:
    taken = []
    while (message := sub._backlog.poll()) is not None:
        taken.append(message.message_id)
    return taken


def _subscribed(client: Client, *ids: str, capacity: int = 100) -> list[Sub]:
    subs = []
    for id in ids:
        sub = client.subscribe("/q/" + id, id=id, buffer=capacity)
        run(client._subscribe(sub, False))
        subs.append(sub)
    return subs


def test_a_reads_messages_reach_their_buffers_in_order_each_consumer_woken_once() -> None:
    unhandled: list[FrameEvent] = []
    client = BufferingClient(on_unhandled=unhandled.append)
    link = CoreLink(client.connect())
    a, b = _subscribed(client, "a", "b")
    core: Connection = link.core  # type: ignore[assignment]
    wire = _wire(("a", "1"), ("b", "2"), ("a", "3"), ("x", "4"), ("a", "5"), ("b", "6"))
    core.receive_data(wire + b"ERROR\nmessage:bye\n\n\x00" + _wire(("a", "7")), now=0)
    client.pump(link)
    # One next_event (m1), one batch (m2, m3), m4 (unknown) through _handle, one batch
    # (m5, m6), the ERROR ends the link in its place; m7 after it changes nothing.
    assert [d.event.message_id for d in client.delivered] == ["1"]
    assert (_taken(a), _taken(b)) == (["1", "3", "5"], ["2", "6"])
    assert [m.message_id for m in unhandled] == ["4"]  # type: ignore[attr-defined]
    assert isinstance(link.endings[0][0], BrokerError)
    # a: m1 (its own delivery), then once per batch; b: once per batch.
    assert (a._signal.fired, b._signal.fired) == (3, 2)  # type: ignore[attr-defined]
    assert core.metrics.snapshot().messages_received == 6  # nothing after the ERROR


def test_a_full_buffer_stops_a_batch_and_nothing_is_lost_or_reordered() -> None:
    client = BufferingClient()
    link = CoreLink(client.connect())
    (a,) = _subscribed(client, "a", capacity=3)
    link.core.receive_data(_wire(*(("a", str(i)) for i in range(8))), now=0)
    client.pump(link)
    # Three fill the buffer, the fourth is held (the driver pauses): the rest wait.
    assert [m.message_id for m in client.held] == ["3"]
    assert client._session.stalled
    assert _taken(a) == ["0", "1", "2"]
    assert a._backlog.unblocked()
    assert a._offer(client.held.pop())  # the driver delivers what it held
    client._session.buffer_has_room("a")
    client.pump(link)
    assert _taken(a) == ["3", "4", "5"]
    client._session.buffer_has_room("a")
    assert a._offer(client.held.pop())
    client.pump(link)
    assert _taken(a) == ["6", "7"]
    assert not client.held


class StallingClient(BufferingClient):
    """Stops at a full buffer as stomp_asyncio does: the buffer that fills stalls the
    session, and the pump then stops before the next message."""

    def _buffer_filled(self, sub: Sub) -> None:
        self._session.buffer_full(sub.id)


@pytest.mark.parametrize("capacity", [1, 3])
def test_a_batch_stops_where_its_buffer_fills(capacity: int) -> None:
    client = StallingClient()
    link = CoreLink(client.connect())
    a, b = _subscribed(client, "a", "b", capacity=capacity)
    messages = [("a", str(i)) for i in range(5)] + [("b", "5")]
    link.core.receive_data(_wire(*messages), now=0)
    client.pump(link)
    # With capacity 1 the first delivery (not batched) fills it and a held one follows.
    assert [m.message_id for m in client.held] == ([] if capacity == 3 else ["1"])
    assert client._session.stalled
    got = {"a": _taken(a), "b": _taken(b)}
    assert got == {"a": [str(i) for i in range(capacity)], "b": []}
    # A consumer that takes everything each time: every message once, in order.
    for _ in range(10):
        for message in client.held:
            assert message.subscription._offer(message)
        client.held.clear()
        client._session.buffer_has_room("a")
        client.pump(link)
        got["a"] += _taken(a)
        got["b"] += _taken(b)
    assert got == {"a": [str(i) for i in range(5)], "b": ["5"]}


def test_messages_go_one_by_one_when_replies_closing_or_an_old_connection_need_it() -> None:
    client = BufferingClient()
    link = CoreLink(client.connect())
    (a,) = _subscribed(client, "a")
    client._requests.used = True  # a reply is routed by the request table first
    link.core.receive_data(_wire(("a", "1"), ("a", "2")), now=0)
    client.pump(link)
    assert [d.event.message_id for d in client.delivered] == ["1", "2"]
    client._requests.used = False
    old = CoreLink(link.generation - 1)  # a replaced connection: dropped one by one
    old.core.receive_data(_wire(("a", "3"), ("a", "4")), now=0)
    client.pump(old)
    client._session.begin_closing()  # late MESSAGEs are dropped one by one
    link.core.receive_data(_wire(("a", "5"), ("a", "6")), now=0)
    client.pump(link)
    assert _taken(a) == ["1", "2"]
    assert [d.event.message_id for d in client.delivered] == ["1", "2"]
    dropped = [line for level, line in client._log.lines if "dropped" in line]  # type: ignore[attr-defined]
    assert len(dropped) == 4


def test_a_message_routed_by_destination_takes_the_general_path() -> None:
    client = BufferingClient()
    link = CoreLink(client.connect(), version="1.1")
    (a,) = _subscribed(client, "a")
    no_id = b"MESSAGE\ndestination:/q/a\nmessage-id:%d\n\n\x00"  # 1.1: id optional
    link.core.receive_data(_wire(("a", "1")) + no_id % 2 + _wire(("a", "3")), now=0)
    client.pump(link)
    assert _taken(a) == ["1", "2", "3"]
    assert [d.event.message_id for d in client.delivered] == ["1", "2"]


def test_a_logged_connection_logs_each_message_of_a_batch() -> None:
    lines: list[str] = []
    client = BufferingClient()
    link = CoreLink(client.connect(), core=LoggedConnection(CLIENT, write=lines.append))
    (a,) = _subscribed(client, "a", capacity=2)
    link.core.receive_data(_wire(("a", "1"), ("a", "2"), ("a", "3")), now=0)
    client.pump(link)
    assert _taken(a) == ["1", "2"]
    assert [m.message_id for m in client.held] == ["3"]
    received = [line for line in lines if "MESSAGE" in line]
    assert len(received) == 3  # each once, the refused one when next_event took it
    assert [line.count(f"message-id='{i}'") for i, line in enumerate(received, 1)] == [1] * 3


def _drain(observer: StateChangesBase) -> list[StateChange]:
    return list(observer._backlog)


def test_finish_ends_open_subscriptions_with_the_error_and_reports_closed_once() -> None:
    client = Client()
    client.connect()
    open_sub, closed_sub = client.subscribe("/q/a"), client.subscribe("/q/b")
    run(client._subscribe(open_sub, False))
    run(client._subscribe(closed_sub, False))
    closed_sub._close()
    observer = client.state_changes()
    error = ConnectionLost("gone for good")
    client._finish(error)
    client._finish(None)  # already closed: nothing more
    assert client._final_error is error
    assert client._session.subscriptions == {}
    with pytest.raises(ConnectionLost, match="gone for good"):
        run(open_sub._get())
    with pytest.raises(ConnectionLost, match="is closed"):
        run(closed_sub._get())
    assert [(c.state, c.endpoint, c.error) for c in _drain(observer)] == [
        (ClientState.CLOSED, A, error)
    ]


def test_reconnect_after_a_loss_or_fail_for_good() -> None:
    client = Client(reconnect=ReconnectPolicy(initial=1.0, jitter=0.0, attempts_max=1))
    client.dials = [None]
    link = run(client._reconnect(ConnectionLost("reset"), A))
    assert isinstance(link, Link)
    assert client.state is ClientState.RECONNECTING  # the driver reports CONNECTED
    assert run(client._reconnect(BrokerError("no"), A)) is None  # an ERROR: never again
    client.dials = [ConnectionLost("refused")]
    assert run(client._reconnect(ConnectionLost("reset"), A)) is None
    broker_error, gave_up = client.failed
    assert isinstance(broker_error, BrokerError)
    assert isinstance(gave_up, ConnectionLost)
    assert "reconnecting failed" in str(gave_up)
    assert isinstance(gave_up.__cause__, ConnectFailed)


def test_replay_drops_a_subscription_the_new_connection_refuses() -> None:
    client = Client()
    client.connect()
    kept, refused = client.subscribe("/q/a"), client.subscribe("/q/b", ack="client-individual")
    run(client._subscribe(kept, False))
    run(client._subscribe(refused, False))
    client._session.record(Subscribe(destination="/q/c", id="orphan"))  # nobody reads it
    link = RefusingLink(client._session.generation)
    run(client._replay(link))
    assert [e.destination for e in link.written] == ["/q/a"]
    assert list(client._session.subscriptions) == ["sub-1"]
    assert [e.id for e in client._session.replay()] == ["sub-1"]
    with pytest.raises(ConnectionLost, match="cannot subscribe again"):
        run(refused._get())


def test_a_closed_link_fails_its_receipts_only_if_it_is_the_current_one() -> None:
    client = Client()
    generation = client.connect()
    client._session.await_receipt("r-1", "waiter")
    client._link_closed(Link(generation - 1), ConnectionLost("old"))
    assert client.resolved == []
    client._link_closed(Link(generation), ConnectionLost("now"))
    assert [(d.waiter, type(d.error).__name__) for d in client.resolved] == [
        ("waiter", "ConnectionLost")
    ]


def test_only_the_live_connected_link_takes_frames() -> None:
    client = Client()
    assert not client._sendable(None)
    client.connect()
    link = client._link
    assert link is not None
    assert client._sendable(link)
    assert not client._sendable(Link(link.generation))  # not the live one
    link.ended = True
    assert not client._sendable(link)


def test_leaving_ends_the_subscriptions_and_expects_the_disconnect_receipt() -> None:
    client = Client()
    generation = client.connect()
    sub = client.subscribe("/q/a")
    run(client._subscribe(sub, False))
    disconnect = client._leave()
    assert disconnect.receipt is not None
    assert client._session.closing
    assert sub.closed
    outcomes = client._session.handle(Receipt(receipt_id=disconnect.receipt), generation)
    assert [type(o).__name__ for o in outcomes] == ["Ignored"]  # expected, not unhandled


def test_unsubscribe_soon_takes_back_only_what_the_broker_knows() -> None:
    client = Client()
    generation = client.connect()
    link = client._link
    assert link is not None
    known, unknown = client.subscribe("/q/a"), client.subscribe("/q/b")
    run(client._subscribe(known, False))
    run(client._subscribe(unknown, False))
    link.core.subscriptions["sub-1"] = "auto"  # its SUBSCRIBE went out on this link
    client._unsubscribe_soon(known)
    client._unsubscribe_soon(unknown)
    client._unsubscribe_soon(known)  # forgotten already: nothing more
    assert client.queued == [(Unsubscribe(id="sub-1"), generation)]
    assert known.closed
    assert unknown.closed
    assert [e.id for e in client._session.replay()] == []


def test_queue_refuses_a_gone_connection_and_what_the_core_refuses() -> None:
    client = Client()
    abort = Abort(transaction="t")
    assert not client._queue(abort, 1)  # no link yet
    generation = client.connect()
    assert not client._queue(abort, generation + 1)
    client.refuse = True
    assert not client._queue(abort, generation)
    client.refuse = False
    link = client._link
    assert link is not None
    link.ended = True
    assert not client._queue(abort, generation)
    assert client.queued == []


def test_an_interrupted_unsubscribe_is_queued_if_it_was_not_written() -> None:
    client = Client()
    generation = client.connect()
    link = client._link
    assert link is not None
    sub = client.subscribe("/q/a")
    run(client._send_unsubscribe(sub, link, True))
    event, pin = client.sent[-1]
    assert event == Unsubscribe(id="sub-1", receipt="r-1")
    assert pin == generation
    client.fail = asyncio.CancelledError()
    with pytest.raises(asyncio.CancelledError):
        run(client._send_unsubscribe(sub, link, False))
    assert client.queued == []  # the core no longer has it: it went out
    link.core.subscriptions["sub-1"] = "auto"
    with pytest.raises(asyncio.CancelledError):
        run(client._send_unsubscribe(sub, link, False))
    assert client.queued == [(Unsubscribe(id="sub-1"), generation)]


# ---------------------------------------------------------------------- request/reply


def reply_to(request: FrameEvent, body: bytes = b"pong", mid: str = "r1") -> Message:
    """The reply the broker delivers on the client's reply subscription."""
    assert isinstance(request, Send)
    return Message(
        destination=request.get("reply-to") or "",
        message_id=mid,
        subscription="/temp-queue/tok",
        body=body,
        headers=(("correlation-id", request.get("correlation-id") or ""),),
    )


def test_request_subscribes_once_sends_and_returns_the_reply() -> None:
    client = Client(receipt_timeout=7.0)
    generation = client.connect()
    link = Link(generation)

    async def scenario() -> list[bytes]:
        bodies = []
        for n in range(2):
            task = asyncio.ensure_future(client.request("/q/svc", f"ping {n}"))
            for _ in range(5):  # until the request waits for its reply
                await asyncio.sleep(0)
            assert not task.done()
            client._handle(link, reply_to(client.sent[-1][0], f"pong {n}".encode()))
            bodies.append((await task).body)
        return bodies

    assert run(scenario()) == [b"pong 0", b"pong 1"]
    subscribes = [e for e, _ in client.sent if isinstance(e, Subscribe)]
    assert [(s.destination, s.id, s.ack) for s in subscribes] == [
        ("/temp-queue/tok", "/temp-queue/tok", "auto")
    ]
    sends = [e for e, _ in client.sent if isinstance(e, Send)]
    assert [s.get("correlation-id") for s in sends] == ["tok-1", "tok-2"]
    assert client.slept == [7.0, 7.0]  # receipt_timeout is the default wait
    assert len(client._requests) == 0


def test_a_reply_that_came_during_the_send_needs_no_wait() -> None:
    client = Client()
    link = Link(client.connect())
    client.after_send = lambda event: (
        client._handle(link, reply_to(event)) if isinstance(event, Send) else None
    )
    assert run(client.request("/q/svc", "ping", timeout=3.0)).body == b"pong"


def test_on_rabbitmq_the_broker_subscribes_for_the_client() -> None:
    client = Client()
    generation = client._session.connection_started(A)
    client._session.handle(Connected(version="1.2", server="RabbitMQ/3.10.8"), generation)
    link = Link(generation)
    client.after_send = lambda event: client._handle(link, reply_to(event))
    assert run(client.request("/q/svc")).body == b"pong"
    assert [type(e) for e, _ in client.sent] == [Send]


def test_no_reply_in_time_raises_the_drivers_error_and_a_late_reply_is_dropped() -> None:
    client = Client()
    link = Link(client.connect())
    client.reply_wait = 0.0
    with pytest.raises(TimeoutError, match=r"no reply to the request sent to '/q/svc' within 2 s"):
        run(client.request("/q/svc", timeout=2.0))
    late = reply_to(client.sent[-1][0])
    client._handle(link, late)
    assert client.delivered == []
    assert client._log.lines[-1][0] == "debug"  # type: ignore[attr-defined]
    assert "dropped: no request waits for it" in client._log.lines[-1][1]  # type: ignore[attr-defined]


@pytest.mark.parametrize("reason", [None, ConnectionLost("the broker went away")])
def test_a_lost_connection_fails_the_waiting_requests(reason: StompError | None) -> None:
    client = Client()
    link = Link(client.connect())

    async def scenario() -> None:
        task = asyncio.ensure_future(client.request("/q/svc"))
        for _ in range(5):  # until the request waits for its reply
            await asyncio.sleep(0)
        assert not task.done()
        client._link_closed(link, reason)
        await task

    with pytest.raises(ConnectionLost) as raised:
        run(scenario())
    if reason is None:
        assert str(raised.value) == "the connection closed before the reply"
    else:
        assert raised.value is reason
    assert len(client._requests) == 0


def test_a_failed_subscribe_is_written_again_by_the_next_request() -> None:
    client = Client()
    link = Link(client.connect())
    client.fail = ConnectionLost("down")
    with pytest.raises(ConnectionLost):
        run(client.request("/q/svc"))
    client.fail = None
    client.after_send = lambda event: (
        client._handle(link, reply_to(event)) if isinstance(event, Send) else None
    )
    run(client.request("/q/svc"))
    assert [type(e) for e, _ in client.sent] == [Subscribe, Send]


def test_concurrent_first_requests_wait_for_the_one_subscribe() -> None:
    client = Client()
    link = Link(client.connect())
    client.after_send = lambda event: (
        client._handle(link, reply_to(event, mid=event.get("correlation-id") or ""))
        if isinstance(event, Send)
        else None
    )

    async def scenario() -> None:
        client.gate = asyncio.Event()
        first = asyncio.ensure_future(client.request("/q/svc", "1"))
        second = asyncio.ensure_future(client.request("/q/svc", "2"))
        for _ in range(5):
            await asyncio.sleep(0)
        assert client.sent == []  # the SUBSCRIBE is held; the second request waits for it
        client.gate.set()
        await asyncio.gather(first, second)

    run(scenario())
    assert [type(e) for e, _ in client.sent] == [Subscribe, Send, Send]


def test_other_frames_pass_once_requests_were_made() -> None:
    client = Client()
    link = Link(client.connect())
    sub = client.subscribe("/q/a", id="s1")
    run(client._subscribe(sub, False))
    client.after_send = lambda event: (
        client._handle(link, reply_to(event)) if isinstance(event, Send) else None
    )
    run(client.request("/q/svc"))
    client._handle(link, Message(destination="/q/a", message_id="m1", subscription="s1"))
    assert [d.event.message_id for d in client.delivered] == ["m1"]


def test_reply_answers_the_reply_to_with_the_correlation_id() -> None:
    client = Client()
    client.connect()
    request = Message(
        destination="/q/svc",
        message_id="m1",
        subscription="s1",
        headers=(("reply-to", "/reply-queue/x"), ("correlation-id", "c-7")),
    )
    run(client.reply(ReceivedMessage(request), "done", headers={"k": "v"}))
    ((event, _),) = client.sent
    assert isinstance(event, Send)
    assert (event.destination, event.body) == ("/reply-queue/x", b"done")
    assert (event.get("correlation-id"), event.get("k")) == ("c-7", "v")
    with pytest.raises(ValueError, match="has no reply-to"):
        run(
            client.reply(
                ReceivedMessage(Message(destination="/q", message_id="m2", subscription="s"))
            )
        )


def test_the_cores_of_a_client_share_its_counters_and_may_log_frames() -> None:
    client = Client()
    plain = client._new_core()
    frames = client._frames
    assert isinstance(frames, Log)
    frames.enabled = True
    logged = client._new_core()
    assert not isinstance(plain, LoggedConnection)
    assert isinstance(logged, LoggedConnection)
    assert plain.metrics is logged.metrics
    logged.send(Connect(host="/"), now=0.0)
    ((level, line),) = frames.lines
    assert level == "debug"
    assert line.startswith("sent CONNECT ")
    assert client.metrics().frames_sent == 1


# ------------------------------------------------------------------------ the send path


def test_the_send_path_writes_in_the_links_turn_and_awaits_the_receipt() -> None:
    client = SendingClient()
    generation = client.connect()
    link = client._link
    assert isinstance(link, WriterLink)

    async def main() -> None:
        await client.send("/q/a", "plain")
        receipted = asyncio.create_task(client.send("/q/a", "confirmed", receipt=True))
        link.flushed.clear()
        await link.flushed.wait()
        receipt_id = link.written[-1].receipt
        assert receipt_id is not None
        await asyncio.sleep(0)  # one round: the sender now waits for its receipt
        client._handle(link, Receipt(receipt_id=receipt_id))
        await receipted
        # Confirmed while the writer was still writing: it need not wait at all.
        link.on_write = lambda event: client._handle(link, Receipt(receipt_id=event.receipt))
        await client.send("/q/a", "confirmed at once", receipt=True)

    run(main())
    assert [e.receipt is None for e in link.written] == [True, False, False]
    assert client._session.generation == generation


def test_the_send_path_fails_a_receipt_wait_the_loss_ends_and_one_too_slow() -> None:
    client = SendingClient()
    client.connect()
    link = client._link
    assert isinstance(link, WriterLink)

    async def main() -> None:
        receipted = asyncio.create_task(client.send("/q/a", "x", receipt=True))
        await link.flushed.wait()
        client._link_closed(link, ConnectionLost("reset"))
        with pytest.raises(ConnectionLost, match="before RECEIPT"):
            await receipted

    run(main())
    client = SendingClient()
    client.connect()
    client.reply_wait = 0.0  # the fake's _wait_for times out at once
    with pytest.raises(ReceiptTimeout, match="no RECEIPT for"):
        run(client.send("/q/a", "x", receipt=True))
    assert dict(client._session.receipts) == {}  # given up: a late RECEIPT is expected


def test_the_send_path_refuses_a_gone_or_other_connection_and_sends_nothing() -> None:
    client = SendingClient()
    generation = client.connect()
    link = client._link
    assert isinstance(link, WriterLink)

    def build(receipt_id: str | None) -> FrameEvent:
        return Send(destination="/q/a", receipt=receipt_id)

    async def main() -> None:
        with pytest.raises(ConnectionLost, match="before the frame was sent"):
            await client._send(build, False, generation + 1)
        async with link.turn:  # another writer's turn, during which the link ends
            sending = asyncio.create_task(client._send(build, True, None))
            await asyncio.sleep(0)
            link.ended = True
            link.reason = ConnectionLost("reset")
        with pytest.raises(ConnectionLost, match="before the frame was sent: reset"):
            await sending

    run(main())
    assert link.written == []


def test_a_send_waits_for_the_next_link_and_gives_up_after_connect_timeout() -> None:
    client = SendingClient(connect_timeout=3.0)
    client.connect()
    link = client._link
    assert isinstance(link, WriterLink)

    async def main() -> None:
        client._link = None  # reconnecting
        sending = asyncio.create_task(client.send("/q/a", "after the reconnect"))
        for _ in range(3):  # a few rounds: the sender now waits for a link
            await asyncio.sleep(0)
        assert link.written == []
        client._publish(link)  # reconnected
        await sending

    run(main())
    assert len(link.written) == 1
    client._link = None
    client.reply_wait = 0.0  # the fake's _wait_for times out at once
    with pytest.raises(ConnectionLost, match="still reconnecting after 3 s"):
        run(client.send("/q/a", "never"))
    assert client.slept[-1] == 3.0
    client._session.begin_closing()
    with pytest.raises(ConnectionLost, match="the client is closed"):
        run(client.send("/q/a", "never"))


def test_unsubscribe_goes_out_only_where_the_broker_knows_the_subscription() -> None:
    client = SendingClient()
    client.connect()
    link = client._link
    assert isinstance(link, WriterLink)
    never_sent, sent = client.subscribe("/q/a"), client.subscribe("/q/b")
    run(client._subscribe(never_sent, False))
    run(client._subscribe(sent, False))
    link.core.subscriptions[sent.id] = "auto"  # the core saw only its SUBSCRIBE go out
    written = len(link.written)
    run(never_sent.unsubscribe())
    assert len(link.written) == written  # nothing to take back at the broker
    run(sent.unsubscribe(receipt=False))
    assert link.written[-1] == Unsubscribe(id=sent.id)

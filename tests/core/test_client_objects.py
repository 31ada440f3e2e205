"""stomp_core.client: the objects both async drivers share (ClientBase, SubscriptionBase,
MessageBase, TransactionBase, StateChangesBase), driven through fake hooks.

Every await in those objects is on a callable the driver passes down, so a fake client
that records what it is asked to send is enough; asyncio only runs the coroutines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from stomp_core import (
    Abort,
    Ack,
    Begin,
    Commit,
    Connected,
    FrameEvent,
    LocalProtocolError,
    Message,
    Nack,
    Send,
    Subscribe,
)
from stomp_core.client import (
    BrokerError,
    ClientBase,
    ClientOptions,
    ClientState,
    ConnectionLost,
    Endpoint,
    ExitAction,
    MessageBase,
    StateChange,
    StateChangesBase,
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


class Link:
    endpoint = A
    core = Core()


class Client(ClientBase[Sub, Msg, Tx, str]):
    """Records every frame it is asked to send; ``fail`` makes the next send raise."""

    def __init__(self, checkpoint: Callable[[], Any] | None = None, **settings: Any) -> None:
        extra = {} if checkpoint is None else {"checkpoint": checkpoint}
        super().__init__(
            ClientOptions(hosts=(A,), **settings),
            rng=lambda: 0.0,
            subscription=Sub,
            transaction=Tx,
            signal=Sig,
            **extra,
        )
        self._link = None
        self.sent: list[tuple[FrameEvent, int | None]] = []
        self.queued: list[tuple[FrameEvent, int]] = []
        self.calls: list[tuple[str, str, bool]] = []
        self.fail: BaseException | None = None

    async def _send(
        self, build: Callable[[str | None], FrameEvent], receipt: bool, generation: int | None
    ) -> int:
        if self.fail is not None:
            raise self.fail
        self.sent.append((build("r-1" if receipt else None), generation))
        return self._session.generation

    async def _unsubscribe(self, sub: Sub, receipt: bool) -> None:
        self.calls.append(("unsubscribe", sub.id, receipt))

    def _unsubscribe_soon(self, sub: Sub) -> None:
        self.calls.append(("unsubscribe_soon", sub.id, False))

    def _queue(self, event: FrameEvent, generation: int) -> bool:
        self.queued.append((event, generation))
        return True

    def _room(self, sub: Sub) -> None:
        self.calls.append(("room", sub.id, False))

    def connect(self) -> int:
        """A live connection, as the driver's handshake makes it."""
        generation = self._session.connection_started(A)
        self._session.handle(Connected(version="1.2", session="s-1", server="b/1"), generation)
        self._link = Link()
        return generation


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
    assert client.calls == [("unsubscribe_soon", "sub-1", False)]


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

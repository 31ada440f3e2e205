"""Tests of stomp_core._registry: what to restore after a reconnect."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stomp_core import SessionRegistry
from stomp_core._errors import LocalProtocolError
from stomp_core._events import (
    Abort,
    Ack,
    Begin,
    Commit,
    Connect,
    Disconnect,
    Nack,
    Send,
    Subscribe,
    Unsubscribe,
)
from stomp_core._frame import Frame
from stomp_core._limits import Limits

# --- subscriptions ------------------------------------------------------------------


def test_replay_gives_live_subscriptions_in_original_order() -> None:
    registry = SessionRegistry()
    a = Subscribe(destination="/queue/a", id="1", ack="client")
    b = Subscribe(destination="/topic/b", id="2", headers=(("prefetch-count", "10"),))
    c = Subscribe(destination="/queue/c", id="3")
    for event in (a, b, c):
        registry.record(event)
    registry.record(Unsubscribe(id="2"))
    assert registry.replay() == [a, c]
    assert list(registry.subscriptions) == ["1", "3"]


def test_replay_strips_receipts_and_keeps_everything_else() -> None:
    registry = SessionRegistry()
    sub = Subscribe(
        destination="/queue/a",
        id="s1",
        ack="client-individual",
        receipt="r-old",
        headers=(("prefetch-count", "5"), ("receipt", "r-extra"), ("x-repeat", "1")),
    )
    registry.record(sub)
    (replayed,) = registry.replay()
    assert replayed == Subscribe(
        destination="/queue/a",
        id="s1",
        ack="client-individual",
        headers=(("prefetch-count", "5"), ("x-repeat", "1")),
    )
    assert replayed.receipt is None
    assert replayed.get("receipt") is None
    # The recorded event itself is untouched, and replaying does not consume it.
    assert registry.subscriptions["s1"] is sub
    assert registry.replay() == [replayed]


def test_resubscribing_an_id_moves_it_to_the_end() -> None:
    registry = SessionRegistry()
    registry.record(Subscribe(destination="/a", id="1"))
    registry.record(Subscribe(destination="/b", id="2"))
    registry.record(Unsubscribe(id="1"))
    registry.record(Subscribe(destination="/a2", id="1"))
    assert [s.destination for s in registry.replay()] == ["/b", "/a2"]


def test_stomp10_subscription_without_id_is_keyed_by_destination() -> None:
    registry = SessionRegistry()
    registry.record(Subscribe(destination="/queue/a"))
    registry.record(Subscribe(destination="/queue/b", id="b1"))
    assert list(registry.subscriptions) == ["/queue/a", "b1"]
    registry.record(Unsubscribe(destination="/queue/a"))
    assert list(registry.subscriptions) == ["b1"]
    # An UNSUBSCRIBE with both uses the id, as the connection does.
    registry.record(Unsubscribe(id="b1", destination="/queue/ignored"))
    assert registry.replay() == []


def test_unsubscribe_of_unknown_subscription_is_a_no_op() -> None:
    registry = SessionRegistry()
    registry.record(Subscribe(destination="/a", id="1"))
    registry.record(Unsubscribe(id="nope"))
    registry.record(Unsubscribe(destination="/a"))  # keyed by id "1", not by destination
    assert list(registry.subscriptions) == ["1"]


def test_duplicate_subscription_is_refused_and_changes_nothing() -> None:
    registry = SessionRegistry()
    first = Subscribe(destination="/a", id="1")
    registry.record(first)
    with pytest.raises(LocalProtocolError, match="'1' is already live"):
        registry.record(Subscribe(destination="/other", id="1"))
    assert registry.replay() == [first]


def test_subscriptions_view_is_read_only_and_live() -> None:
    registry = SessionRegistry()
    view = registry.subscriptions
    with pytest.raises(TypeError):
        view["x"] = Subscribe(destination="/x", id="x")  # type: ignore[index]
    registry.record(Subscribe(destination="/a", id="1"))
    assert list(view) == ["1"]


def test_subscriptions_are_bounded() -> None:
    registry = SessionRegistry(max_subscriptions=2)
    assert registry.max_subscriptions == 2
    registry.record(Subscribe(destination="/a", id="1"))
    registry.record(Subscribe(destination="/b", id="2"))
    with pytest.raises(LocalProtocolError, match="more than 2 live subscriptions"):
        registry.record(Subscribe(destination="/c", id="3"))
    assert list(registry.subscriptions) == ["1", "2"]
    registry.record(Unsubscribe(id="1"))
    registry.record(Subscribe(destination="/c", id="3"))
    assert list(registry.subscriptions) == ["2", "3"]


def test_default_bound_comes_from_limits() -> None:
    assert SessionRegistry().max_subscriptions == Limits().max_subscriptions


@pytest.mark.parametrize("value", [0, -1, True, 1.5, None, "10"])
def test_bad_bound_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="max_subscriptions must be a positive int"):
        SessionRegistry(max_subscriptions=value)  # type: ignore[arg-type]


# --- transactions -----------------------------------------------------------------


def test_transactions_open_and_close() -> None:
    registry = SessionRegistry()
    registry.record(Begin(transaction="t1"))
    registry.record(Begin(transaction="t2"))
    registry.record(Begin(transaction="t3"))
    assert list(registry.transactions) == ["t1", "t2", "t3"]
    registry.record(Commit(transaction="t2"))
    registry.record(Abort(transaction="t1"))
    assert list(registry.transactions) == ["t3"]
    registry.record(Commit(transaction="unknown"))  # no-op
    registry.record(Abort(transaction="t1"))  # already closed: no-op
    assert list(registry.transactions) == ["t3"]


def test_transactions_are_never_replayed_but_dropped() -> None:
    # conformance item 100: the broker aborted them with the old connection.
    registry = SessionRegistry()
    sub = Subscribe(destination="/a", id="1")
    registry.record(Begin(transaction="t1"))
    registry.record(sub)
    registry.record(Begin(transaction="t2"))
    assert registry.replay() == [sub]
    assert registry.drop_transactions() == ["t1", "t2"]
    assert registry.transactions == ()
    assert registry.drop_transactions() == []
    assert registry.replay() == [sub]  # subscriptions survive


def test_duplicate_transaction_is_refused_and_changes_nothing() -> None:
    registry = SessionRegistry()
    registry.record(Begin(transaction="t1"))
    with pytest.raises(LocalProtocolError, match="'t1' is already open"):
        registry.record(Begin(transaction="t1"))
    assert registry.transactions == ("t1",)


def test_transactions_are_bounded_separately() -> None:
    registry = SessionRegistry(max_subscriptions=1)
    registry.record(Subscribe(destination="/a", id="1"))
    registry.record(Begin(transaction="t1"))
    with pytest.raises(LocalProtocolError, match="more than 1 open transactions"):
        registry.record(Begin(transaction="t2"))
    assert registry.transactions == ("t1",)
    registry.record(Commit(transaction="t1"))
    registry.record(Begin(transaction="t2"))
    assert registry.transactions == ("t2",)


def test_transactions_view_is_a_snapshot() -> None:
    registry = SessionRegistry()
    registry.record(Begin(transaction="t1"))
    snapshot = registry.transactions
    registry.record(Commit(transaction="t1"))
    assert snapshot == ("t1",)


# --- other events, clear, repr ----------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        Send(destination="/a", transaction="t1"),
        Ack(id="m1", subscription="1", transaction="t1"),
        Nack(id="m1", subscription="1"),
        Connect(host="/"),
        Disconnect(receipt="bye"),
        Frame("SUBSCRIBE", (("destination", "/raw"), ("id", "raw"))),
        Frame("BEGIN", (("transaction", "raw"),)),
        None,
        "SUBSCRIBE",
    ],
)
def test_other_events_are_ignored(event: object) -> None:
    registry = SessionRegistry()
    registry.record(Subscribe(destination="/a", id="1"))
    registry.record(Begin(transaction="t1"))
    registry.record(event)
    assert list(registry.subscriptions) == ["1"]
    assert registry.transactions == ("t1",)


def test_clear_forgets_everything() -> None:
    registry = SessionRegistry()
    registry.record(Subscribe(destination="/a", id="1"))
    registry.record(Begin(transaction="t1"))
    registry.clear()
    assert registry.replay() == []
    assert registry.transactions == ()


def test_repr() -> None:
    registry = SessionRegistry(max_subscriptions=5)
    registry.record(Subscribe(destination="/a", id="1"))
    registry.record(Begin(transaction="t1"))
    assert repr(registry) == (
        "SessionRegistry(subscriptions=['1'], transactions=['t1'], max_subscriptions=5)"
    )


# --- property: the registry follows a model ---------------------------------------

ids = st.sampled_from(["1", "2", "3", "4"])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("sub"), ids),
        st.tuples(st.just("unsub"), ids),
        st.tuples(st.just("begin"), ids),
        st.tuples(st.just("commit"), ids),
        st.tuples(st.just("abort"), ids),
    ),
    max_size=40,
)


@given(ops=operations)
def test_registry_matches_a_model(ops: list[tuple[str, str]]) -> None:
    registry = SessionRegistry(max_subscriptions=3)
    subs: dict[str, None] = {}
    txs: dict[str, None] = {}
    for op, key in ops:
        if op == "sub":
            if key in subs or len(subs) >= 3:
                with pytest.raises(LocalProtocolError):
                    registry.record(Subscribe(destination=f"/d{key}", id=key, receipt="r"))
            else:
                registry.record(Subscribe(destination=f"/d{key}", id=key, receipt="r"))
                subs[key] = None
        elif op == "unsub":
            registry.record(Unsubscribe(id=key))
            subs.pop(key, None)
        elif op == "begin":
            if key in txs or len(txs) >= 3:
                with pytest.raises(LocalProtocolError):
                    registry.record(Begin(transaction=key))
            else:
                registry.record(Begin(transaction=key))
                txs[key] = None
        else:
            registry.record((Commit if op == "commit" else Abort)(transaction=key))
            txs.pop(key, None)
    replayed = registry.replay()
    assert [s.id for s in replayed] == list(subs)
    assert all(s.receipt is None and s.destination == f"/d{s.id}" for s in replayed)
    assert registry.transactions == tuple(txs)
    assert registry.drop_transactions() == list(txs)

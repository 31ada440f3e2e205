"""Tests of stomp_core.client: which call is legal in which phase, and what is raised.

Exhaustive over the small space: every (phase, call) pair is checked against a table
written out by hand, so that a change of rule shows up as a failing pair.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stomp_core.client import ConnectionLost, ExitAction, Phase, TransactionState

CAUSE = ConnectionLost("the broker closed the connection unexpectedly")


def state_in(phase: Phase) -> TransactionState:
    """A transaction ``"tx-1"`` brought to ``phase`` through the legal calls only."""
    state = TransactionState("tx-1")
    if phase is Phase.NEW:
        return state
    state.begin()
    if phase is Phase.BEGINNING:
        return state
    state.begun()
    if phase is Phase.COMMITTED:
        state.commit()
    elif phase is Phase.ABORTED:
        assert state.abort()
    elif phase is Phase.LOST:
        state.lost(CAUSE)
    assert state.phase is phase
    return state


def test_state_in_reaches_every_phase() -> None:
    assert [state_in(phase).phase for phase in Phase] == list(Phase)


# -- the user's calls, every phase -------------------------------------------------------

NOT_OPEN = {
    Phase.NEW: "'tx-1' was never begun",
    Phase.BEGINNING: "'tx-1' is not open yet",
    Phase.COMMITTED: "'tx-1' was already committed",
    Phase.ABORTED: "'tx-1' was already aborted",
}
LOST = "'tx-1' was aborted by the broker: the connection was lost"


def _refused(state: TransactionState, call: Callable[[], object], phase: Phase) -> None:
    """``call`` raises what ``phase`` calls for and leaves the phase alone."""
    if phase is Phase.LOST:
        with pytest.raises(ConnectionLost, match=LOST):
            call()
    else:
        with pytest.raises(RuntimeError, match=NOT_OPEN[phase]):
            call()
    assert state.phase is phase


@pytest.mark.parametrize("phase", list(Phase))
def test_begin(phase: Phase) -> None:
    state = state_in(phase)
    if phase is Phase.NEW:
        state.begin()
        assert state.phase is Phase.BEGINNING
        return
    with pytest.raises(RuntimeError, match=f"'tx-1' was already begun \\({phase.value}\\)"):
        state.begin()
    assert state.phase is phase


@pytest.mark.parametrize("phase", list(Phase))
def test_check_use(phase: Phase) -> None:
    state = state_in(phase)
    if phase is Phase.OPEN:
        state.check_use()
        assert state.phase is Phase.OPEN
    else:
        _refused(state, state.check_use, phase)


@pytest.mark.parametrize("phase", list(Phase))
def test_commit(phase: Phase) -> None:
    state = state_in(phase)
    if phase is Phase.OPEN:
        state.commit()
        assert state.phase is Phase.COMMITTED
    else:
        _refused(state, state.commit, phase)


@pytest.mark.parametrize("phase", list(Phase))
def test_abort(phase: Phase) -> None:
    state = state_in(phase)
    if phase is Phase.OPEN:
        assert state.abort() is True
        assert state.phase is Phase.ABORTED
    elif phase is Phase.LOST:
        # The broker aborted it already: nothing to send, and still lost afterwards.
        assert state.abort() is False
        assert state.abort() is False
        assert state.phase is Phase.LOST
    else:
        _refused(state, state.abort, phase)


EXIT = {
    # phase: (left normally, left with an exception)
    Phase.NEW: (ExitAction.COMMIT, ExitAction.NOTHING),
    Phase.BEGINNING: (ExitAction.COMMIT, ExitAction.NOTHING),
    Phase.OPEN: (ExitAction.COMMIT, ExitAction.ABORT),
    Phase.COMMITTED: (ExitAction.NOTHING, ExitAction.NOTHING),
    Phase.ABORTED: (ExitAction.NOTHING, ExitAction.NOTHING),
    # Leaving normally commits, and the commit raises ConnectionLost (test_commit).
    Phase.LOST: (ExitAction.COMMIT, ExitAction.NOTHING),
}


@pytest.mark.parametrize("phase", list(Phase))
def test_exit_action(phase: Phase) -> None:
    state = state_in(phase)
    normal, raised = EXIT[phase]
    assert state.exit_action(raised=False) is normal
    assert state.exit_action(raised=True) is raised
    assert state.phase is phase  # deciding changes nothing


# -- the driver's reports, every phase ---------------------------------------------------


@pytest.mark.parametrize("phase", list(Phase))
def test_begun(phase: Phase) -> None:
    state = state_in(phase)
    state.begun()
    assert state.phase is (Phase.OPEN if phase is Phase.BEGINNING else phase)


@pytest.mark.parametrize("phase", list(Phase))
def test_lost(phase: Phase) -> None:
    state = state_in(phase)
    state.lost(None)
    if phase in (Phase.BEGINNING, Phase.OPEN, Phase.LOST):
        assert state.phase is Phase.LOST
    else:
        # Not begun, or finished before the drop: the loss changes nothing for it.
        assert state.phase is phase


@pytest.mark.parametrize("phase", [Phase.BEGINNING, Phase.LOST])
def test_begin_failed_allows_a_new_begin(phase: Phase) -> None:
    state = TransactionState("tx-1")
    state.begin()
    if phase is Phase.LOST:
        state.lost(CAUSE)  # the connection dropped while BEGIN was being written
    state.begin_failed()
    assert state.phase is Phase.NEW
    state.begin()
    state.begun()
    state.check_use()  # the loss reported during the failed BEGIN is forgotten
    assert state.phase is Phase.OPEN


# -- details -----------------------------------------------------------------------------


def test_a_loss_while_begin_is_written_leaves_it_lost() -> None:
    state = TransactionState("tx-1")
    state.begin()
    state.lost(CAUSE)
    state.begun()  # BEGIN went out, on a connection that is gone
    assert state.phase is Phase.LOST
    with pytest.raises(ConnectionLost, match=LOST):
        state.commit()


def test_connection_lost_chains_the_cause_and_is_fresh_each_time() -> None:
    state = state_in(Phase.LOST)
    errors = []
    for _ in range(2):
        with pytest.raises(ConnectionLost) as info:
            state.check_use()
        errors.append(info.value)
    first, second = errors
    assert first is not second
    assert first.__cause__ is CAUSE
    assert str(first) == f"transaction {LOST}: {CAUSE}"


def test_connection_lost_without_a_known_cause() -> None:
    state = state_in(Phase.OPEN)
    state.lost(None)
    with pytest.raises(ConnectionLost) as info:
        state.commit()
    assert info.value.__cause__ is None
    assert str(info.value) == f"transaction {LOST}"


def test_a_later_loss_does_not_replace_the_first_cause() -> None:
    state = state_in(Phase.LOST)
    state.lost(ConnectionLost("another"))
    with pytest.raises(ConnectionLost) as info:
        state.check_use()
    assert info.value.__cause__ is CAUSE


def test_repr_names_id_and_phase() -> None:
    assert repr(state_in(Phase.OPEN)) == "<TransactionState 'tx-1' open>"
    assert repr(TransactionState("batch-7")) == "<TransactionState 'batch-7' new>"

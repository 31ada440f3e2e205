"""Tests of stomp_core._backoff: stomp.py's reconnect schedule as a pure policy."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stomp_core import FOREVER, ReconnectBackoff, ReconnectSchedule


def fixed(value: float) -> Callable[[], float]:
    """A deterministic rng."""
    return lambda: value


# --- the formula --------------------------------------------------------------------


def test_defaults_are_stomppy_constructor_defaults() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0))
    assert (backoff.initial, backoff.increase, backoff.jitter) == (0.1, 0.5, 0.1)
    assert (backoff.maximum, backoff.attempts_max) == (60.0, 3)


def test_default_waits_grow_by_one_and_a_half_from_initial() -> None:
    # stomp.py: min(max, initial / (1 + inc) * (1 + inc) ** exp) with exp = 1, 2, ...
    backoff = ReconnectBackoff(rng=fixed(0.0))
    assert [backoff.base_delay(n) for n in range(1, 8)] == [
        0.1,
        0.15,
        0.225,
        0.3375,
        0.50625,
        0.759375,
        1.1390625,
    ]
    # rng() == 0 means no jitter at all
    assert [backoff.delay(n) for n in range(1, 8)] == [backoff.base_delay(n) for n in range(1, 8)]


def test_wait_is_capped_at_maximum_from_the_seventeenth() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0))
    assert backoff.base_delay(16) == 43.789389038085936
    assert backoff.base_delay(17) == 60.0
    assert backoff.base_delay(1000) == 60.0


def test_jitter_multiplies_after_the_cap() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.5))
    assert backoff.delay(1) == pytest.approx(0.1 * 1.05, rel=1e-15)
    assert backoff.delay(2) == pytest.approx(0.15 * 1.05, rel=1e-15)
    assert backoff.delay(17) == pytest.approx(63.0, rel=1e-15)
    full = ReconnectBackoff(rng=fixed(1.0))
    assert full.delay(17) == pytest.approx(66.0, rel=1e-15)


def test_rng_is_called_once_per_delay_and_not_for_base_delay() -> None:
    calls: list[int] = []

    def rng() -> float:
        calls.append(1)
        return 0.25

    backoff = ReconnectBackoff(rng=rng, jitter=0.4)
    assert backoff.delay(1) == pytest.approx(0.1 * 1.1, rel=1e-15)
    assert len(calls) == 1
    backoff.base_delay(3)
    assert len(calls) == 1


def test_custom_numbers() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0), initial=1.0, increase=1.0, maximum=30.0)
    assert [backoff.base_delay(n) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_zero_increase_gives_constant_waits() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0), initial=2.0, increase=0.0)
    assert {backoff.base_delay(n) for n in (1, 2, 50, 10**9)} == {2.0}


def test_maximum_below_initial_caps_the_first_wait() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0), initial=5.0, maximum=1.0)
    assert backoff.base_delay(1) == 1.0


def test_huge_n_does_not_overflow() -> None:
    # 1.5 ** 10**6 is beyond the float range: stomp.py avoided it by freezing its
    # exponent at the cap; here the overflow itself means "past the cap".
    assert ReconnectBackoff(rng=fixed(0.0)).base_delay(10**6) == 60.0
    assert ReconnectBackoff(rng=fixed(1.0)).delay(10**6) == pytest.approx(66.0, rel=1e-15)


def test_zero_initial_stays_zero_even_past_overflow() -> None:
    backoff = ReconnectBackoff(rng=fixed(1.0), initial=0.0)
    assert backoff.delay(1) == 0.0
    assert backoff.delay(10**6) == 0.0


def test_ints_are_accepted_for_seconds() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0), initial=1, increase=1, jitter=0, maximum=10)
    assert backoff.base_delay(3) == 4.0


# --- attempts ---------------------------------------------------------------------


def test_exhausted_counts_attempts_against_the_budget() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0), attempts_max=3)
    assert [backoff.exhausted(a) for a in range(6)] == [False, False, False, True, True, True]


def test_minus_one_means_forever() -> None:
    assert FOREVER == -1
    backoff = ReconnectBackoff(rng=fixed(0.0), attempts_max=-1)
    assert not backoff.exhausted(0)
    assert not backoff.exhausted(10**12)


def test_zero_attempts_gives_up_before_trying() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0), attempts_max=0)
    assert backoff.exhausted(0)
    assert backoff.schedule().next_delay() is None


# --- validation -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["initial", "increase", "jitter", "maximum"])
@pytest.mark.parametrize("value", [-0.1, -1, math.nan, math.inf, True, "1", None])
def test_bad_numbers_are_refused(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"ReconnectBackoff.{name}"):
        ReconnectBackoff(rng=fixed(0.0), **{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [-2, -100, 1.0, True, None, "3"])
def test_bad_attempts_max_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="attempts_max"):
        ReconnectBackoff(rng=fixed(0.0), attempts_max=value)  # type: ignore[arg-type]


def test_rng_must_be_callable() -> None:
    with pytest.raises(ValueError, match="rng must be callable"):
        ReconnectBackoff(rng=0.5)  # type: ignore[arg-type]


def test_rng_is_required() -> None:
    with pytest.raises(TypeError):
        ReconnectBackoff()  # type: ignore[call-arg]


@pytest.mark.parametrize("value", [-0.01, 1.01, math.nan, math.inf])
def test_rng_values_outside_unit_interval_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match=r"rng must return a float in \[0, 1\]"):
        ReconnectBackoff(rng=fixed(value)).delay(1)


@pytest.mark.parametrize("n", [0, -1, True, 1.0, None])
def test_bad_wait_numbers_are_refused(n: object) -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0))
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        backoff.base_delay(n)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        backoff.delay(n)  # type: ignore[arg-type]


@pytest.mark.parametrize("attempts", [-1, True, 0.0])
def test_bad_attempt_counts_are_refused(attempts: object) -> None:
    with pytest.raises(ValueError, match="attempts must be an int >= 0"):
        ReconnectBackoff(rng=fixed(0.0)).exhausted(attempts)  # type: ignore[arg-type]


def test_backoff_is_frozen_and_compares_without_rng() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        backoff.initial = 1.0  # type: ignore[misc]
    assert backoff == ReconnectBackoff(rng=fixed(0.9))
    assert backoff != ReconnectBackoff(rng=fixed(0.0), initial=0.2)
    assert "rng" not in repr(backoff)
    assert "initial=0.1" in repr(backoff)


# --- the schedule -----------------------------------------------------------------


def test_schedule_single_host_defaults() -> None:
    schedule = ReconnectBackoff(rng=fixed(0.0)).schedule()
    assert (schedule.attempts, schedule.waits, schedule.exhausted) == (0, 0, False)
    schedule.record_failure()
    assert schedule.next_delay() == 0.1
    schedule.record_failure()
    assert schedule.next_delay() == 0.15
    schedule.record_failure()
    # stomp.py would sleep 0.225 s here before giving up; we give up at once.
    assert schedule.exhausted
    assert schedule.next_delay() is None
    assert (schedule.attempts, schedule.waits) == (3, 2)


def test_schedule_reset_starts_afresh() -> None:
    schedule = ReconnectBackoff(rng=fixed(0.0), attempts_max=1).schedule()
    schedule.record_failure()
    assert schedule.next_delay() is None
    schedule.reset()
    assert (schedule.attempts, schedule.waits, schedule.exhausted) == (0, 0, False)
    schedule.record_failure()
    assert schedule.exhausted
    schedule.reset()
    assert schedule.next_delay() == 0.1


def test_schedule_forever_reaches_and_keeps_the_cap() -> None:
    schedule = ReconnectBackoff(rng=fixed(0.0), attempts_max=FOREVER).schedule()
    delays = []
    for _ in range(100):
        schedule.record_failure()
        delay = schedule.next_delay()
        assert delay is not None
        delays.append(delay)
    assert delays[:3] == [0.1, 0.15, 0.225]
    assert delays[16:] == [60.0] * 84


def test_schedule_records_past_the_budget() -> None:
    schedule = ReconnectSchedule(ReconnectBackoff(rng=fixed(0.0), attempts_max=1))
    schedule.record_failure()
    schedule.record_failure()
    assert schedule.attempts == 2
    assert schedule.next_delay() is None


def test_schedule_exposes_its_policy_and_repr() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0))
    schedule = backoff.schedule()
    assert schedule.backoff is backoff
    assert backoff.schedule() is not schedule
    schedule.record_failure()
    assert repr(schedule).startswith("ReconnectSchedule(attempts=1, waits=0, backoff=")


def run_driver_loop(
    backoff: ReconnectBackoff, hosts: list[str], *, check_in_round: bool
) -> tuple[list[str], list[float]]:
    """A driver's connect loop with every host failing; ``check_in_round`` as documented."""
    tried: list[str] = []
    waited: list[float] = []
    schedule = backoff.schedule()
    while not schedule.exhausted:  # stomp.py checks the budget before each round
        for host in hosts:
            if check_in_round and schedule.exhausted:
                break
            tried.append(host)
            schedule.record_failure()
        delay = schedule.next_delay()
        if delay is None:
            break
        waited.append(delay)
    return tried, waited


def test_two_hosts_exact_budget() -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0), attempts_max=3)
    tried, waited = run_driver_loop(backoff, ["a", "b"], check_in_round=True)
    assert tried == ["a", "b", "a"]
    assert waited == [0.1]


def test_two_hosts_stomppy_rounds() -> None:
    # stomp.py checks the budget between rounds only, so its last round overshoots.
    backoff = ReconnectBackoff(rng=fixed(0.0), attempts_max=3)
    tried, waited = run_driver_loop(backoff, ["a", "b"], check_in_round=False)
    assert tried == ["a", "b", "a", "b"]
    assert waited == [0.1]


# --- properties -------------------------------------------------------------------

seconds = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
factors = st.floats(min_value=0.0, max_value=10.0, allow_nan=False, allow_infinity=False)
unit = st.floats(min_value=0.0, max_value=1.0)


@given(initial=seconds, increase=factors, maximum=seconds, n=st.integers(1, 5000))
def test_base_delay_never_decreases_and_never_passes_the_cap(
    initial: float, increase: float, maximum: float, n: int
) -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0), initial=initial, increase=increase, maximum=maximum)
    assert 0.0 <= backoff.base_delay(n) <= backoff.base_delay(n + 1) <= maximum


@given(
    initial=seconds,
    increase=factors,
    jitter=factors,
    maximum=seconds,
    r=unit,
    n=st.integers(1, 5000),
)
def test_delay_between_base_and_jittered_cap(
    initial: float, increase: float, jitter: float, maximum: float, r: float, n: int
) -> None:
    backoff = ReconnectBackoff(
        rng=fixed(r), initial=initial, increase=increase, jitter=jitter, maximum=maximum
    )
    delay = backoff.delay(n)
    assert backoff.base_delay(n) <= delay <= maximum * (1.0 + jitter)


@given(attempts_max=st.integers(0, 60), host_count=st.integers(1, 6))
def test_attempts_are_bounded(attempts_max: int, host_count: int) -> None:
    backoff = ReconnectBackoff(rng=fixed(0.0), attempts_max=attempts_max)
    hosts = [f"h{i}" for i in range(host_count)]
    rounds = -(-attempts_max // host_count)  # ceil

    tried, waited = run_driver_loop(backoff, hosts, check_in_round=True)
    assert len(tried) == attempts_max
    assert len(waited) == max(rounds - 1, 0)

    tried, waited = run_driver_loop(backoff, hosts, check_in_round=False)
    assert len(tried) == rounds * host_count  # stomp.py's count
    assert len(waited) == max(rounds - 1, 0)


@given(failures=st.integers(0, 300))
def test_forever_never_gives_up(failures: int) -> None:
    schedule = ReconnectBackoff(rng=fixed(1.0), attempts_max=FOREVER).schedule()
    for _ in range(failures):
        schedule.record_failure()
        delay = schedule.next_delay()
        assert delay is not None
        assert delay <= 66.0 + 1e-9

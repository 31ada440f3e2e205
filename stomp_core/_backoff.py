"""Reconnect backoff: how long to wait between connection rounds, and when to give up.

This is a pure policy shared by every driver.  It never sleeps and never reads a clock;
the random source for the jitter is injected as a callable (drivers pass
``random.random``, tests pass ``lambda: 0.5``), so every delay is reproducible.

The numbers follow stomp.py's ``Transport.attempt_connection`` (the constructor
parameters ``reconnect_sleep_initial``, ``reconnect_sleep_increase``,
``reconnect_sleep_jitter``, ``reconnect_sleep_max`` and ``reconnect_attempts_max``):

* a *round* tries every candidate host once, in order (see ``_hosts.py``);
* every failed connection attempt to one host counts as one *attempt*;
* after a round in which every host failed, the driver waits, then starts another
  round, as long as fewer than ``attempts_max`` attempts were made (``-1``: forever);
* the n-th wait (n = 1, 2, ...) lasts
  ``min(maximum, initial / (1 + increase) * (1 + increase) ** n) * (1 + rng() * jitter)``,
  so the first wait is ``initial`` and each later one is ``1 + increase`` times longer
  until the cap; the jitter is applied *after* the cap, so a wait may reach
  ``maximum * (1 + jitter)``.

Deliberate differences from stomp.py, each fixing a behaviour its quirks list calls a bug:

* stomp.py also sleeps after the final failed round, just before giving up;
  :meth:`ReconnectSchedule.next_delay` answers ``None`` instead.
* stomp.py stops growing its exponent once a *jittered* wait reaches the cap (which keeps
  ``pow`` from overflowing); here the n-th wait depends on n alone and an overflow of
  ``(1 + increase) ** n`` is treated as "past the cap".  Both give ``maximum`` once the
  cap is reached; only the random stalls just below the cap differ.
* stomp.py did not count a missing certificate file as a failed attempt and retried
  forever (quirk 15): drivers count every failure through
  :meth:`ReconnectSchedule.record_failure`.

Bad arguments raise :class:`ValueError`: they are configuration mistakes, not protocol
errors, so they are not :class:`~stomp_core.LocalProtocolError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["FOREVER", "ReconnectBackoff", "ReconnectSchedule"]

#: The ``attempts_max`` value that means "never give up" (stomp.py's ``-1``).
FOREVER = -1


def _check_number(name: str, value: object) -> None:
    # bool is an int subclass, but ``jitter=True`` is surely a mistake.
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"ReconnectBackoff.{name} must be a finite number >= 0, got {value!r}")


def _check_index(name: str, value: object, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectBackoff:
    """The reconnect policy: wait lengths and the attempt budget (immutable).

    Defaults are stomp.py's constructor defaults, giving waits of about 0.1, 0.15,
    0.225, 0.3375, ... seconds (times 1 to 1.1 for the jitter), capped at 60 s, and
    giving up after 3 failed attempts.

    Args:
        rng: the random source for the jitter: a callable returning a float in
            ``[0, 1]`` (``random.random``).  Required, because the core imports no
            randomness; pass ``lambda: 0.0`` for no jitter.
        initial: the first wait, in seconds (``reconnect_sleep_initial``).
        increase: the growth per wait: each wait is ``1 + increase`` times the previous
            one (``reconnect_sleep_increase``).
        jitter: the largest random extra, as a fraction of the wait
            (``reconnect_sleep_jitter``).
        maximum: the cap on a wait before the jitter, in seconds (``reconnect_sleep_max``).
        attempts_max: how many failed connection attempts (one per host tried) are
            allowed before giving up; :data:`FOREVER` (``-1``) never gives up; ``0``
            gives up before trying (``reconnect_attempts_max``).

    Raises:
        ValueError: a number is negative, infinite, NaN or a bool; ``attempts_max`` is
            below ``-1``; or ``rng`` is not callable.
    """

    rng: Callable[[], float] = field(repr=False, compare=False)
    initial: float = 0.1
    increase: float = 0.5
    jitter: float = 0.1
    maximum: float = 60.0
    attempts_max: int = 3

    def __post_init__(self) -> None:
        if not callable(self.rng):
            raise ValueError(f"ReconnectBackoff.rng must be callable, got {self.rng!r}")
        for name in ("initial", "increase", "jitter", "maximum"):
            _check_number(name, getattr(self, name))
        _check_index("ReconnectBackoff.attempts_max", self.attempts_max, FOREVER)

    def base_delay(self, n: int) -> float:
        """The n-th wait before the jitter: ``min(maximum, initial * (1 + increase) ** (n - 1))``.

        Computed as stomp.py writes it, ``initial / (1 + increase) * (1 + increase) ** n``
        with its exponent starting at 1, so the numbers match it to the last bit.  Never
        decreases as ``n`` grows.

        Args:
            n: which wait, counting from 1.

        Raises:
            ValueError: ``n`` is not an int >= 1.
        """
        _check_index("n", n, 1)
        scale = self.initial / (1.0 + self.increase)
        try:
            grown = scale * (1.0 + self.increase) ** n
        except OverflowError:
            # The power left the float range, so the cap was passed long ago (unless
            # initial is 0, where every wait is 0).
            grown = math.inf if scale > 0 else 0.0
        return min(self.maximum, grown)

    def delay(self, n: int) -> float:
        """The n-th wait in seconds, jitter included; calls ``rng`` once.

        ``base_delay(n) * (1 + rng() * jitter)``: the jitter spreads reconnecting
        clients apart and may take a capped wait up to ``maximum * (1 + jitter)``.

        Args:
            n: which wait, counting from 1.

        Raises:
            ValueError: ``n`` is not an int >= 1, or ``rng`` returned a value outside
                ``[0, 1]``.
        """
        base = self.base_delay(n)
        r = self.rng()
        if not 0.0 <= r <= 1.0:  # also refuses NaN
            raise ValueError(f"ReconnectBackoff.rng must return a float in [0, 1], got {r!r}")
        return base * (1.0 + r * self.jitter)

    def exhausted(self, attempts: int) -> bool:
        """Whether the budget is spent after ``attempts`` failed connection attempts.

        stomp.py starts another round only while ``attempts < reconnect_attempts_max``,
        or forever when that is ``-1``.

        Raises:
            ValueError: ``attempts`` is not an int >= 0.
        """
        _check_index("attempts", attempts, 0)
        return self.attempts_max != FOREVER and attempts >= self.attempts_max

    def schedule(self) -> ReconnectSchedule:
        """A fresh :class:`ReconnectSchedule` following this policy."""
        return ReconnectSchedule(self)


class ReconnectSchedule:
    """The running state of one reconnect sequence: attempts made and waits taken.

    A driver uses it like this (``connect`` and ``sleep`` are the driver's own)::

        schedule = backoff.schedule()
        while True:
            for host in hosts:
                if schedule.exhausted:
                    break
                try:
                    return connect(host)   # success: call schedule.reset() later
                except OSError:
                    schedule.record_failure()
            delay = schedule.next_delay()
            if delay is None:
                raise ConnectFailed
            sleep(delay)

    Checking :attr:`exhausted` inside the round caps the attempts at exactly
    ``attempts_max``; stomp.py checks only between rounds, so with several hosts its
    last round may go past the budget.  A driver reproducing that leaves the check out.

    Args:
        backoff: the policy to follow.
    """

    __slots__ = ("_attempts", "_backoff", "_waits")

    def __init__(self, backoff: ReconnectBackoff) -> None:
        self._backoff = backoff
        self._attempts = 0
        self._waits = 0

    @property
    def backoff(self) -> ReconnectBackoff:
        """The policy followed."""
        return self._backoff

    @property
    def attempts(self) -> int:
        """Failed connection attempts recorded since the start or the last :meth:`reset`."""
        return self._attempts

    @property
    def waits(self) -> int:
        """Waits handed out by :meth:`next_delay` since the start or the last :meth:`reset`."""
        return self._waits

    @property
    def exhausted(self) -> bool:
        """Whether the attempt budget is spent (never, with ``attempts_max = -1``)."""
        return self._backoff.exhausted(self._attempts)

    def record_failure(self) -> None:
        """Count one failed connection attempt to one host, whatever the error was.

        Recording past the budget is allowed (a driver may finish its round).
        """
        self._attempts += 1

    def next_delay(self) -> float | None:
        """The wait before the next round, or ``None`` to give up.

        Call it after a round in which every host failed.  Once the budget is spent it
        returns ``None`` at once: waiting just to report a failure helps nobody.
        """
        if self.exhausted:
            return None
        self._waits += 1
        return self._backoff.delay(self._waits)

    def reset(self) -> None:
        """Start afresh, e.g. after a successful connection that later dropped."""
        self._attempts = 0
        self._waits = 0

    def __repr__(self) -> str:
        return (
            f"ReconnectSchedule(attempts={self._attempts}, waits={self._waits}, "
            f"backoff={self._backoff!r})"
        )

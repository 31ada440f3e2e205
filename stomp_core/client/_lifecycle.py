"""A client's observable lifecycle, its reconnect settings and its heart-beat tolerance."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from .._backoff import FOREVER, ReconnectBackoff, ReconnectSchedule
from ._addresses import Endpoint

__all__ = ["DEFAULT_HEARTBEAT_TOLERANCE", "ClientState", "ReconnectPolicy", "StateChange"]

#: The async drivers' default receive tolerance: the margin, in negotiated intervals, on
#: top of the one interval the core already lets a peer skip (ActiveMQ checks for its own
#: silence once per interval and beats only when the previous period had no write; see
#: ``HeartbeatSchedule.receive_deadline``).  1.5 is stomp.py's scale: a broker counts as
#: dead after 2.5 silent intervals.
DEFAULT_HEARTBEAT_TOLERANCE = 1.5


class ClientState(enum.Enum):
    """Where a client is in its life; every change is reported as a :class:`StateChange`.

    ``CONNECTING -> CONNECTED -> (RECONNECTING -> CONNECTED)* -> DISCONNECTING -> CLOSED``;
    ``CLOSED`` is also reached straight from any state when the connection fails for good.
    """

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTING = "disconnecting"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StateChange:
    """One lifecycle transition of a client.

    Args:
        state: the new state.
        endpoint: the broker involved (being dialled, or connected to), if any.
        error: why the connection was lost, an attempt failed, or the client closed
            (``None`` for a deliberate close or a success).
        attempt: the failed attempts so far in the current (re)connect sequence.
    """

    state: ClientState
    endpoint: Endpoint | None = None
    error: BaseException | None = None
    attempt: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectPolicy:
    """How a client reconnects after losing its connection.

    The waits follow stomp.py's formula (see ``stomp_core/_backoff.py``): the n-th wait is
    ``min(maximum, initial * (1 + increase) ** (n - 1)) * (1 + random() * jitter)``.  A
    round tries every host once; each failed host counts as one attempt.

    After a reconnect the client replays its live subscriptions; pending receipts and open
    transactions fail with :class:`ConnectionLost`, because the broker aborted them
    (conformance 100).  An ERROR frame from the broker is never retried: the broker
    deliberately ended the session, and retrying what it refused would loop.  A malformed
    frame (:class:`ProtocolViolation`) counts as a lost connection and is retried.

    Args:
        initial: the first wait, in seconds.
        increase: growth per wait (``0.5``: each wait is 1.5 times the previous).
        jitter: random extra, as a fraction of the wait, to spread reconnecting clients.
        maximum: cap on a wait before the jitter, in seconds.
        attempts_max: failed attempts before giving up; ``-1`` (the default) never gives
            up: a long-running consumer should ride out a broker restart, and the
            transitions stay observable through ``state_changes()``.
        retry_first_connect: also apply this policy to the first connection.  Off by
            default, so a wrong address fails at once instead of retrying.

    Raises:
        ValueError: a negative, infinite or NaN number, or ``attempts_max < -1``.
    """

    initial: float = 0.1
    increase: float = 0.5
    jitter: float = 0.1
    maximum: float = 60.0
    attempts_max: int = FOREVER
    retry_first_connect: bool = False

    def __post_init__(self) -> None:
        self.backoff(lambda: 0.0)  # validates every number

    def backoff(self, rng: Callable[[], float]) -> ReconnectBackoff:
        """The core's backoff for this policy, drawing jitter from ``rng`` (``random.random``)."""
        return ReconnectBackoff(
            rng=rng,
            initial=self.initial,
            increase=self.increase,
            jitter=self.jitter,
            maximum=self.maximum,
            attempts_max=self.attempts_max,
        )

    def schedule(self, rng: Callable[[], float]) -> ReconnectSchedule:
        """A fresh reconnect sequence (attempt counter and wait lengths) for this policy."""
        return self.backoff(rng).schedule()

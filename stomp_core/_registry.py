"""Session registry: what a client must restore after it reconnects.

A reconnect means a new :class:`~stomp_core.Connection` (and a new STOMP session), and the
broker forgets everything about the old one.  Drivers that reconnect on their own feed
every event they *sent* to :meth:`SessionRegistry.record`, and after the new CONNECTED
they send again what :meth:`SessionRegistry.replay` returns.

What is restored and what is not:

* Live subscriptions are replayed, in the order they were first made, so messages keep
  flowing to the same subscription ids.  The ``receipt`` is stripped from each replayed
  SUBSCRIBE: a new connection must not wait for a receipt id that belonged to the old one
  (drivers ask for a fresh receipt if they want one).
* Open transactions are never replayed: the broker aborts uncommitted transactions when a
  connection fails (conformance item 100), so replaying BEGIN, let alone COMMIT, would
  commit half a transaction.  :meth:`SessionRegistry.drop_transactions` hands their ids
  to the driver, which fails them towards the user.
* Ack ids of unacknowledged messages belong to the old session (conformance item 98):
  they are not tracked here.

A subscription is keyed by its ``id``; in STOMP 1.0 a SUBSCRIBE may omit the ``id`` and is
then keyed by its ``destination`` (spec 1.0 "UNSUBSCRIBE" names either), the same keys
:class:`~stomp_core.Connection` uses.  The registry is bounded like the connection
(``Limits.max_subscriptions``) so a runaway loop cannot grow it without limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ._errors import LocalProtocolError
from ._events import Abort, Begin, Commit, Send, Subscribe, Unsubscribe
from ._limits import Limits
from ._record import replace

__all__ = ["SessionRegistry"]


def _subscription_key(event: Subscribe | Unsubscribe) -> str:
    # Subscribe always has a destination; Unsubscribe has an id or a destination
    # (its constructor insists), so the fallback to "" is never taken in practice.
    if event.id is not None:
        return event.id
    return event.destination or ""


class SessionRegistry:
    """Live subscriptions and open transactions of one logical client session.

    Not thread-safe: drivers update it under the same lock as the connection.

    Args:
        max_subscriptions: the most live subscriptions, and separately the most open
            transactions, recorded at once.  Defaults to ``Limits.max_subscriptions``.

    Raises:
        ValueError: ``max_subscriptions`` is not a positive int.
    """

    __slots__ = ("_max", "_subscriptions", "_transactions")

    def __init__(self, *, max_subscriptions: int = Limits().max_subscriptions) -> None:
        if (
            not isinstance(max_subscriptions, int)
            or isinstance(max_subscriptions, bool)
            or max_subscriptions < 1
        ):
            raise ValueError(f"max_subscriptions must be a positive int, got {max_subscriptions!r}")
        self._max = max_subscriptions
        # dicts keep insertion order: replay and drop in the order things were made.
        self._subscriptions: dict[str, Subscribe] = {}
        self._transactions: dict[str, None] = {}

    @property
    def max_subscriptions(self) -> int:
        """The bound on live subscriptions (and on open transactions)."""
        return self._max

    @property
    def subscriptions(self) -> Mapping[str, Subscribe]:
        """Live subscriptions: key (``id``, or ``destination`` for 1.0) -> the SUBSCRIBE sent.

        A read-only live view, in subscription order.
        """
        return MappingProxyType(self._subscriptions)

    @property
    def transactions(self) -> tuple[str, ...]:
        """Open transaction ids, oldest first (a snapshot)."""
        return tuple(self._transactions)

    def record(self, event: object) -> None:
        """Update the registry with an event that was just sent.

        SUBSCRIBE adds a subscription and UNSUBSCRIBE removes it; BEGIN opens a
        transaction and COMMIT or ABORT closes it.  Every other event (and raw
        :class:`~stomp_core.Frame` objects) is ignored.  Removing something unknown is a
        no-op: the connection already refused such frames (conformance items 77, 82).

        Raises:
            LocalProtocolError: the SUBSCRIBE reuses a live key (conformance item 76) or
                the BEGIN an open transaction id (item 81), or the bound would be
                exceeded.  The registry is unchanged.
        """
        if type(event) is Send:
            return  # the common case, settled with one test instead of four
        if isinstance(event, Subscribe):
            key = _subscription_key(event)
            if key in self._subscriptions:
                raise LocalProtocolError(f"subscription {key!r} is already live")
            if len(self._subscriptions) >= self._max:
                raise LocalProtocolError(
                    f"more than {self._max} live subscriptions (max_subscriptions)"
                )
            self._subscriptions[key] = event
        elif isinstance(event, Unsubscribe):
            self._subscriptions.pop(_subscription_key(event), None)
        elif isinstance(event, (Commit, Abort)):  # subclasses of Begin: test them first
            self._transactions.pop(event.transaction, None)
        elif isinstance(event, Begin):
            if event.transaction in self._transactions:
                raise LocalProtocolError(f"transaction {event.transaction!r} is already open")
            if len(self._transactions) >= self._max:
                raise LocalProtocolError(
                    f"more than {self._max} open transactions (max_subscriptions)"
                )
            self._transactions[event.transaction] = None

    def replay(self) -> list[Subscribe]:
        """The SUBSCRIBE events to send again on a new connection, in original order.

        Each is the recorded event without its receipt (neither the ``receipt`` field nor
        a ``receipt`` extra header).  Transactions are never included (item 100).  The
        registry itself is unchanged.
        """
        return [
            replace(
                sub,
                receipt=None,
                headers=tuple((name, value) for name, value in sub.headers if name != "receipt"),
            )
            for sub in self._subscriptions.values()
        ]

    def drop_transactions(self) -> list[str]:
        """Forget the open transactions and return their ids, oldest first.

        Call it when the connection is lost: the broker has aborted them (item 100), and
        the driver should fail each one towards its user.
        """
        dropped = list(self._transactions)
        self._transactions.clear()
        return dropped

    def clear(self) -> None:
        """Forget everything, e.g. after a deliberate DISCONNECT ends the session."""
        self._subscriptions.clear()
        self._transactions.clear()

    def __repr__(self) -> str:
        return (
            f"SessionRegistry(subscriptions={list(self._subscriptions)!r}, "
            f"transactions={list(self._transactions)!r}, max_subscriptions={self._max})"
        )

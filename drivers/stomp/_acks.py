"""Which connection delivered each message that still waits for an ACK or NACK.

An ack id only means something on the connection that delivered the message (spec 1.2
"ACK": the ``id`` matches the MESSAGE's ``ack`` header; RabbitMQ's ids end in a
per-connection delivery tag), so an ACK or NACK for a message of an earlier connection
must never be written on a later one: it would settle *another* message (issue 14).  The
ledger remembers, for messages of subscriptions that need acknowledging, the connection
number (generation) they came on, and refuses an ack whose message came on another one.

Memory: only messages that need an ack are kept, and each is forgotten when acked (in
``client`` mode an ack also settles every earlier message of its subscription, spec 1.2
"SUBSCRIBE ack Header"); a bound caps what an application that never acks can pile up.
"""

from __future__ import annotations

import threading

__all__ = ["AckLedger"]

#: The most unsettled messages remembered; the oldest are forgotten beyond it.
MAX_PENDING = 100_000


class AckLedger:
    """Ack ids of delivered, unsettled messages and the connection each came on.

    Thread-safe: the I/O thread records deliveries, user threads check acks.
    """

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self._lock = threading.Lock()
        self._max = max_pending
        # ack id -> (generation, subscription key, cumulative); insertion ordered.
        self._pending: dict[str, tuple[int, str, bool]] = {}

    def delivered(self, ack_id: str, generation: int, subscription: str, cumulative: bool) -> None:
        """A message needing an ack arrived on connection ``generation``."""
        with self._lock:
            self._pending.pop(ack_id, None)  # a redelivery moves it to the new connection
            self._pending[ack_id] = (generation, subscription, cumulative)
            if len(self._pending) > self._max:
                del self._pending[next(iter(self._pending))]

    def stale(self, ack_id: str, generation: int) -> int | None:
        """The older connection that delivered ``ack_id``, or ``None`` if the ack may go.

        An id the ledger does not know (never delivered, or already settled) may go: the
        broker judges it, as before.  A stale id stays known (each later try is refused
        too) until the bound pushes it out.
        """
        with self._lock:
            entry = self._pending.get(ack_id)
            if entry is None or entry[0] == generation:
                return None
            return entry[0]

    def settled(self, ack_id: str) -> None:
        """An ACK or NACK of ``ack_id`` was written: forget it (and, cumulative, those before)."""
        with self._lock:
            entry = self._pending.get(ack_id)
            if entry is None:
                return
            generation, subscription, cumulative = entry
            done = [ack_id]
            if cumulative:
                # Spec 1.2 "SUBSCRIBE ack Header": in client mode an ACK covers every
                # message of the subscription delivered before it (earlier in the dict).
                for key, (gen, sub, _) in self._pending.items():
                    if key == ack_id:
                        break
                    if gen == generation and sub == subscription:
                        done.append(key)
            for key in done:
                del self._pending[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

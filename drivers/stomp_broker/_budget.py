"""Broker-wide bounds: what all connections together may make the broker hold.

Each connection is bounded on its own (the core's :class:`~stomp_core.Limits` on what one
frame may hold, ``max_outbound_bytes`` on what it leaves unread, ``max_unacked`` and
``max_transaction_frames``), but a few connections within those bounds can still exhaust
a development machine: eight clients each halfway through a 47 MiB frame held 376 MiB,
twelve stored 32 MiB messages 391 MiB, 100,000 subscriptions 136 MiB.  The
:class:`Budget` counts what the broker holds on behalf of all connections and says when a
new request would go beyond one of the broker-wide limits; the session then answers the
client whose request it is with an ERROR naming the limit and its value.

Defaults are sized for a development broker on a laptop (a production broker is
RabbitMQ or ActiveMQ, configured for its machine):

* ``max_connections`` 1,000: the usual per-process file descriptor limit is 1,024.
* ``max_inflight_bytes`` 128 MiB of partly received frames across connections: two frames
  of the core's largest size (``Limits.max_frame_size``, 64 MiB) arriving at once.
* ``max_stored_bytes`` 128 MiB of message bodies and headers held for consumers (queue
  backlogs, messages awaiting ACK, SENDs held by open transactions): two of the largest
  frames, or 2,000 messages of 64 KiB.
* ``max_subscriptions`` 10,000 across connections and ``max_subscriptions_per_connection``
  1,000: a subscription costs about 1 KiB; a development application uses a handful.
  Temporary queues (``/temp-queue/...``) are bounded by the same two numbers, counted on
  their own: each one is a queue plus, usually, the subscription that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Budget", "LimitReached", "Usage"]

MiB = 1024 * 1024

#: Broker constructor argument -> default (see the module docstring for the reasons).
DEFAULT_LIMITS: dict[str, int] = {
    "max_connections": 1_000,
    "max_inflight_bytes": 128 * MiB,
    "max_stored_bytes": 128 * MiB,
    "max_subscriptions": 10_000,
    "max_subscriptions_per_connection": 1_000,
}


class LimitReached(Exception):
    """A request would take the broker beyond one of its broker-wide limits.

    The text names the limit and its value; it becomes the ERROR frame's ``message``.
    """

    def __init__(self, name: str, value: int, detail: str) -> None:
        super().__init__(f"broker limit {name}={value} reached: {detail}")
        self.name = name
        self.value = value


@dataclass(frozen=True, slots=True)
class Usage:
    """What the broker holds now, as counted against its broker-wide limits.

    Attributes:
        connections: open client connections (the ones refused above
            ``max_connections`` included until they are closed).
        inflight_bytes: bytes of partly received frames, all connections together.
        stored_bytes: bytes of messages held for consumers: queue backlogs, messages
            awaiting ACK, SENDs held by open transactions (body plus header octets).
        subscriptions: live subscriptions, all connections together (the implicit
            ones that read temporary queues included).
        temp_queues: temporary queues, all connections together.
    """

    connections: int
    inflight_bytes: int
    stored_bytes: int
    subscriptions: int
    temp_queues: int = 0


class Budget:
    """The broker's counters and limits.  Everything runs on the event loop's thread.

    Args:
        max_connections: see :class:`~stomp_broker.Broker`.
        max_inflight_bytes: see :class:`~stomp_broker.Broker`.
        max_stored_bytes: see :class:`~stomp_broker.Broker`.
        max_subscriptions: see :class:`~stomp_broker.Broker`.
        max_subscriptions_per_connection: see :class:`~stomp_broker.Broker`.
    """

    def __init__(
        self,
        *,
        max_connections: int,
        max_inflight_bytes: int,
        max_stored_bytes: int,
        max_subscriptions: int,
        max_subscriptions_per_connection: int,
    ) -> None:
        self.max_connections = max_connections
        self.max_inflight_bytes = max_inflight_bytes
        self.max_stored_bytes = max_stored_bytes
        self.max_subscriptions = max_subscriptions
        self.max_subscriptions_per_connection = max_subscriptions_per_connection
        self.connections = 0
        self.inflight_bytes = 0
        self.stored_bytes = 0
        self.subscriptions = 0
        self.temp_queues = 0

    def usage(self) -> Usage:
        """A snapshot of the counters."""
        return Usage(
            connections=self.connections,
            inflight_bytes=self.inflight_bytes,
            stored_bytes=self.stored_bytes,
            subscriptions=self.subscriptions,
            temp_queues=self.temp_queues,
        )

    # ------------------------------------------------------------------ checks

    def check_connection(self) -> None:
        """Raise :class:`LimitReached` if one more connection is too many."""
        if self.connections >= self.max_connections:
            raise LimitReached(
                "max_connections",
                self.max_connections,
                f"{self.connections} connections are open",
            )

    def check_inflight(self) -> None:
        """Raise :class:`LimitReached` if partly received frames hold too much."""
        if self.inflight_bytes > self.max_inflight_bytes:
            raise LimitReached(
                "max_inflight_bytes",
                self.max_inflight_bytes,
                f"{self.inflight_bytes} bytes of partly received frames across connections",
            )

    def check_store(self, size: int) -> None:
        """Raise :class:`LimitReached` unless ``size`` more bytes may be stored."""
        if self.stored_bytes + size > self.max_stored_bytes:
            raise LimitReached(
                "max_stored_bytes",
                self.max_stored_bytes,
                f"{self.stored_bytes} bytes of messages stored, this one needs {size} more",
            )

    def check_subscription(self, held_by_connection: int) -> None:
        """Raise :class:`LimitReached` unless a connection holding ``held_by_connection``
        subscriptions may add one."""
        if held_by_connection >= self.max_subscriptions_per_connection:
            raise LimitReached(
                "max_subscriptions_per_connection",
                self.max_subscriptions_per_connection,
                f"this connection has {held_by_connection} subscriptions",
            )
        if self.subscriptions >= self.max_subscriptions:
            raise LimitReached(
                "max_subscriptions",
                self.max_subscriptions,
                f"{self.subscriptions} subscriptions across connections",
            )

    def check_temp_queue(self, held_by_connection: int) -> None:
        """Raise :class:`LimitReached` unless a connection holding ``held_by_connection``
        temporary queues may create one (the subscription limits bound them too)."""
        if held_by_connection >= self.max_subscriptions_per_connection:
            raise LimitReached(
                "max_subscriptions_per_connection",
                self.max_subscriptions_per_connection,
                f"this connection has {held_by_connection} temporary queues",
            )
        if self.temp_queues >= self.max_subscriptions:
            raise LimitReached(
                "max_subscriptions",
                self.max_subscriptions,
                f"{self.temp_queues} temporary queues across connections",
            )

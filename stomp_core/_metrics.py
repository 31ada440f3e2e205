"""Counters of one client (or server) connection: :class:`Metrics` and its snapshot.

A :class:`~stomp_core.Connection` updates the :class:`Metrics` object it was given as
frames pass through it; a driver gives the same object to every connection of one client,
so the counts survive reconnects and ``reconnects`` counts them.  Reading is
:meth:`Metrics.snapshot`, a frozen :class:`MetricsSnapshot`.

Counting must cost next to nothing on the hot paths (a SEND going out, a MESSAGE coming
in): each frame adds one to exactly one plain integer attribute, and totals such as
``frames_sent`` are sums worked out when a snapshot is taken.  Receipt round-trip times
need a clock, which the core does not have: they are the difference of the ``now`` values
the driver passed to :meth:`~stomp_core.Connection.send` (the frame asking for a receipt)
and to :meth:`~stomp_core.Connection.receive_data` (the bytes that brought the RECEIPT).
"""

from __future__ import annotations

from collections import deque

from ._record import Record

__all__ = ["DEFAULT_RTT_WINDOW", "Metrics", "MetricsSnapshot"]

#: Receipt round trips kept for the percentiles: the last thousand say how the broker
#: answers now, and sorting that many for a snapshot takes well under a millisecond.
DEFAULT_RTT_WINDOW = 1000


class MetricsSnapshot(Record):
    """The counters of one client at one moment (every driver returns this class).

    Counts are over the client's whole life, across reconnects.  ``frames_*`` count
    STOMP frames (not heart-beats); ``bytes_*`` count STOMP bytes, heart-beat EOLs
    included (over WebSocket, without the WebSocket framing).

    Attributes:
        frames_sent: frames handed to the connection to send.
        frames_received: frames parsed from the broker.
        bytes_sent: bytes taken from the connection to be written.
        bytes_received: bytes read from the broker.
        messages_sent: SEND frames sent (MESSAGE frames, in the server role).
        messages_received: MESSAGE frames received (SEND frames, in the server role).
        acks: ACK frames sent.
        nacks: NACK frames sent.
        heartbeats_sent: heart-beat EOLs sent (a frame due at the same time stands in for
            one, and is not counted here).
        heartbeats_received: heart-beat EOLs received.
        errors_received: ERROR frames received.
        connections: sessions opened (CONNECTED exchanged).
        reconnects: sessions opened after the first one (``connections - 1``, at least 0).
        receipts: receipt round trips measured (RECEIPT frames matched to their frame).
        receipt_rtt_p50: the median receipt round trip in seconds over the last
            ``window`` receipts, ``None`` before the first.
        receipt_rtt_p99: the 99th percentile of the same window, ``None`` before the
            first.
    """

    __slots__ = (
        "acks",
        "bytes_received",
        "bytes_sent",
        "connections",
        "errors_received",
        "frames_received",
        "frames_sent",
        "heartbeats_received",
        "heartbeats_sent",
        "messages_received",
        "messages_sent",
        "nacks",
        "receipt_rtt_p50",
        "receipt_rtt_p99",
        "receipts",
        "reconnects",
    )

    frames_sent: int
    frames_received: int
    bytes_sent: int
    bytes_received: int
    messages_sent: int
    messages_received: int
    acks: int
    nacks: int
    heartbeats_sent: int
    heartbeats_received: int
    errors_received: int
    connections: int
    reconnects: int
    receipts: int
    receipt_rtt_p50: float | None
    receipt_rtt_p99: float | None

    def __init__(
        self,
        *,
        frames_sent: int,
        frames_received: int,
        bytes_sent: int,
        bytes_received: int,
        messages_sent: int,
        messages_received: int,
        acks: int,
        nacks: int,
        heartbeats_sent: int,
        heartbeats_received: int,
        errors_received: int,
        connections: int,
        reconnects: int,
        receipts: int,
        receipt_rtt_p50: float | None,
        receipt_rtt_p99: float | None,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "frames_sent", frames_sent)
        set_field(self, "frames_received", frames_received)
        set_field(self, "bytes_sent", bytes_sent)
        set_field(self, "bytes_received", bytes_received)
        set_field(self, "messages_sent", messages_sent)
        set_field(self, "messages_received", messages_received)
        set_field(self, "acks", acks)
        set_field(self, "nacks", nacks)
        set_field(self, "heartbeats_sent", heartbeats_sent)
        set_field(self, "heartbeats_received", heartbeats_received)
        set_field(self, "errors_received", errors_received)
        set_field(self, "connections", connections)
        set_field(self, "reconnects", reconnects)
        set_field(self, "receipts", receipts)
        set_field(self, "receipt_rtt_p50", receipt_rtt_p50)
        set_field(self, "receipt_rtt_p99", receipt_rtt_p99)


class Metrics:
    """Live counters, updated by every :class:`~stomp_core.Connection` given this object.

    Create one per client and pass it to each of its connections
    (``Connection(CLIENT, config, metrics=metrics)``); read it with :meth:`snapshot`.
    The attributes are plain integers, public so that the core can add to them cheaply;
    anything else should treat them as read-only.

    Args:
        window: how many of the latest receipt round trips the percentiles cover.
    """

    __slots__ = (
        "acks",
        "bytes_received",
        "bytes_sent",
        "connections",
        "errors_received",
        "heartbeats_received",
        "heartbeats_sent",
        "messages_received",
        "messages_sent",
        "nacks",
        "other_received",
        "other_sent",
        "receipt_rtts",
        "receipts",
    )

    def __init__(self, *, window: int = DEFAULT_RTT_WINDOW) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.messages_sent = 0
        self.messages_received = 0
        self.acks = 0
        self.nacks = 0
        #: Frames sent that are none of SEND/MESSAGE, ACK, NACK.
        self.other_sent = 0
        #: Frames received that are none of MESSAGE/SEND, ERROR.
        self.other_received = 0
        self.errors_received = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.heartbeats_sent = 0
        self.heartbeats_received = 0
        self.connections = 0
        self.receipts = 0
        self.receipt_rtts: deque[float] = deque(maxlen=window)

    def __repr__(self) -> str:
        return f"<Metrics {self.snapshot()}>"

    def receipt_round_trip(self, seconds: float) -> None:
        """Record one receipt round trip (the core calls this when a RECEIPT matches)."""
        self.receipts += 1
        self.receipt_rtts.append(seconds)

    def snapshot(self) -> MetricsSnapshot:
        """The counters now, as a frozen object."""
        # sorted() copies the window in one C call, with no Python code in between, so
        # a driver thread appending meanwhile (the blocking driver's I/O thread) cannot
        # make it fail.
        rtts = sorted(self.receipt_rtts)
        return MetricsSnapshot(
            frames_sent=self.messages_sent + self.acks + self.nacks + self.other_sent,
            frames_received=self.messages_received + self.other_received + self.errors_received,
            bytes_sent=self.bytes_sent,
            bytes_received=self.bytes_received,
            messages_sent=self.messages_sent,
            messages_received=self.messages_received,
            acks=self.acks,
            nacks=self.nacks,
            heartbeats_sent=self.heartbeats_sent,
            heartbeats_received=self.heartbeats_received,
            errors_received=self.errors_received,
            connections=self.connections,
            reconnects=max(0, self.connections - 1),
            receipts=self.receipts,
            receipt_rtt_p50=_percentile(rtts, 0.50),
            receipt_rtt_p99=_percentile(rtts, 0.99),
        )


def _percentile(ordered: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``ordered`` (sorted), ``None`` if it is empty."""
    if not ordered:
        return None
    # Nearest rank: the smallest value with at least ``fraction`` of the samples at or
    # below it; ceil without math (the index is an int either way).
    rank = -(-len(ordered) * fraction // 1)
    return ordered[max(0, int(rank) - 1)]

"""Receive limits: how much a hostile or broken peer may make us buffer.

Every limit is checked while a frame is still incomplete, so a peer that sends an
endless header line or an enormous ``content-length`` is refused as soon as it crosses
the bound, not after we have buffered it all (conformance items 45 and 46).
"""

from __future__ import annotations

from ._errors import LocalProtocolError
from ._record import Record

__all__ = ["Limits"]


class Limits(Record):
    """Bounds on what the peer may make us hold.

    Defaults and their precedents:

    * ``max_frame_size`` 64 MiB: ActiveMQ's ``maxFrameSize`` defaults to 100 MiB and
      brokers commonly carry multi-megabyte bodies; 64 MiB admits the large binary payloads
      users move over STOMP while keeping one frame far below a small machine's memory.
    * ``max_header_count`` 1000: ActiveMQ allows 1000 headers (``maxHeaders``), Apollo 1000.
    * ``max_header_line`` 10 KiB: ActiveMQ's ``maxHeaderLength`` is 10 KiB; h11 caps a whole
      HTTP head at 16 KiB.
    * ``max_pending_receipts`` 10 000 and ``max_subscriptions`` 10 000: bookkeeping is
      bounded too (h2's ``MAX_CLOSED_STREAMS`` idea); far above any sane client.

    Args:
        max_frame_size: the largest frame (command, headers and body) accepted, in bytes.
        max_header_count: the most header lines one frame may carry.
        max_header_line: the longest command or header line, in bytes, EOL excluded.
        max_pending_receipts: the most receipts awaited at once.
        max_subscriptions: the most live subscriptions (and open transactions) at once.
    """

    __slots__ = (
        "max_frame_size",
        "max_header_count",
        "max_header_line",
        "max_pending_receipts",
        "max_subscriptions",
    )

    max_frame_size: int
    max_header_count: int
    max_header_line: int
    max_pending_receipts: int
    max_subscriptions: int

    def __init__(
        self,
        *,
        max_frame_size: int = 64 * 1024 * 1024,
        max_header_count: int = 1000,
        max_header_line: int = 10 * 1024,
        max_pending_receipts: int = 10_000,
        max_subscriptions: int = 10_000,
    ) -> None:
        for name, value in (
            ("max_frame_size", max_frame_size),
            ("max_header_count", max_header_count),
            ("max_header_line", max_header_line),
            ("max_pending_receipts", max_pending_receipts),
            ("max_subscriptions", max_subscriptions),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise LocalProtocolError(f"Limits.{name} must be a positive int, got {value!r}")
            object.__setattr__(self, name, value)

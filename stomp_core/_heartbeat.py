"""Heart-beat negotiation and deadlines, with time passed in (spec 1.1/1.2 "Heart-beating").

Nothing here reads a clock: the connection hands in ``now`` (float seconds on the
driver's monotonic clock) and asks for deadlines.
"""

from __future__ import annotations

from ._errors import RemoteProtocolError

__all__ = ["HeartbeatSchedule", "negotiate_heartbeats", "parse_heart_beat"]


#: The largest heart-beat interval accepted, in ms: Java's largest int (about 24.8 days;
#: the brokers are Java programs), far beyond any useful interval.
MAX_HEART_BEAT = 2**31 - 1
_MAX_DIGITS = len(str(MAX_HEART_BEAT))


def parse_heart_beat(value: str | None) -> tuple[int, int]:
    """Parse a ``heart-beat`` header value into ``(x, y)`` milliseconds.

    A missing header means ``0,0`` (spec 1.2: "the heart-beat header is OPTIONAL ... by
    default, no heart-beating").  Spaces around the numbers are tolerated (stomp.py sends
    none, some brokers do); anything else is a :class:`RemoteProtocolError`
    (conformance 60-62: a malformed header is a protocol error, decided here).
    """
    if value is None:
        return (0, 0)
    parts = value.split(",")
    if len(parts) == 2:
        x, y = (part.strip() for part in parts)
        if x.isdigit() and y.isdigit() and x.isascii() and y.isascii():
            return (_interval(x, value), _interval(y, value))
    raise RemoteProtocolError(f"malformed heart-beat header {value!r}: expected two integers 'x,y'")


def _interval(number: str, value: str) -> int:
    # Bounded before int(): it refuses over 4300 digits (ValueError; leading zeros
    # count), and a number too large for a float would break every deadline later.
    digits = number.lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS or int(digits) > MAX_HEART_BEAT:
        raise RemoteProtocolError(
            f"heart-beat interval larger than {MAX_HEART_BEAT} ms in {value[:60]!r}"
        )
    return int(digits)


def negotiate_heartbeats(client: tuple[int, int], server: tuple[int, int]) -> tuple[int, int]:
    """The negotiated ``(client-to-server, server-to-client)`` intervals in milliseconds.

    Spec 1.2 "Heart-beating": with the client's ``cx,cy`` and the server's ``sx,sy``, the
    client sends every ``max(cx, sy)`` ms unless ``cx`` or ``sy`` is 0, and the server
    sends every ``max(sx, cy)`` ms unless ``sx`` or ``cy`` is 0 (conformance 63-64).
    """
    cx, cy = client
    sx, sy = server
    to_server = 0 if cx == 0 or sy == 0 else max(cx, sy)
    to_client = 0 if sx == 0 or cy == 0 else max(sx, cy)
    return (to_server, to_client)


class HeartbeatSchedule:
    """Deadlines for sending and expecting heart-beats.

    Args:
        send_interval: seconds between our heart-beats, 0 for none.
        receive_interval: seconds between the peer's heart-beats, 0 for none.
        send_factor: we send after ``send_interval * send_factor`` of our own silence, a
            little early so that the peer sees "at least every n ms" despite scheduling
            jitter (conformance 66).
        tolerance: the margin, in intervals, on top of the one interval a peer may
            skip (see :meth:`receive_deadline`; spec: "SHOULD be tolerant and take into
            account an error margin"; conformance 68).
        last_send: when we last wrote bytes.
        last_receive: when we last received bytes (any bytes: conformance 67).
    """

    __slots__ = (
        "last_receive",
        "last_send",
        "receive_interval",
        "send_factor",
        "send_interval",
        "tolerance",
    )

    def __init__(
        self,
        *,
        send_interval: float,
        receive_interval: float,
        send_factor: float,
        tolerance: float,
        last_send: float,
        last_receive: float,
    ) -> None:
        self.send_interval = send_interval
        self.receive_interval = receive_interval
        self.send_factor = send_factor
        self.tolerance = tolerance
        self.last_send = last_send
        self.last_receive = last_receive

    def send_deadline(self) -> float | None:
        """When we must write an EOL if nothing else was written, or ``None``."""
        if not self.send_interval:
            return None
        return self.last_send + self.send_interval * self.send_factor

    def receive_deadline(self) -> float | None:
        """When the peer counts as dead if it stays silent, or ``None``.

        That is ``receive_interval * (1 + tolerance)`` after the last byte received.
        Spec 1.2 "Heart-beating" asks for a heart-beat "at least every n ms", but a peer
        that checks its own silence once per interval, and sends only when it wrote
        nothing during the whole previous interval, may stay silent for almost two
        intervals after any frame it sends.  ActiveMQ works so: measured at
        ``heart-beat:4000,4000``, its first heart-beat comes 8 s after CONNECTED, and
        after a MESSAGE sent 0.1 s after one of its heart-beats the next comes 7.9 s
        later.  ``interval * tolerance`` alone (1.5, stomp.py's scale) would declare such
        a healthy peer dead, so the peer gets that one skipped interval, then the margin.
        """
        if not self.receive_interval:
            return None
        return self.last_receive + self.receive_interval * (1 + self.tolerance)

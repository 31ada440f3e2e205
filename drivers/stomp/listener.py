"""Listeners: the callback interface of a connection, and the ready-made listeners.

A connection calls each registered listener's ``on_<event>`` method, listeners in sorted
name order, on the connection's reader thread (``on_connecting`` and ``on_send`` on the
thread that connects or sends).  A listener that raises is logged and the connection
carries on.  See :class:`ConnectionListener` for the callbacks and when they fire.

Unlike stomp.py, every wait offered here accepts a ``timeout``; the waits also end when
the connection's reader finishes (``on_receiver_loop_completed``) so that nothing can
wait for a receipt that will never come.
"""

from __future__ import annotations

import threading
import time

from . import exception, logging, utils  # noqa: F401  # exception, utils: stomp.py's names
from .utils import Frame, calculate_heartbeats, clean_headers

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = [
    "CombinedListener",
    "ConnectionListener",
    "HeartbeatListener",
    "PrintingListener",
    "Publisher",
    "StatsListener",
    "TestListener",
    "WaitingListener",
]


class Publisher:
    """Something listeners can be registered with (the connection, in practice).

    The base implementation does nothing; connections override every method.
    """

    def set_listener(self, name: str, listener: Any) -> None:
        """Register ``listener`` under ``name``."""

    def remove_listener(self, name: str) -> None:
        """Unregister the listener called ``name``."""

    def get_listener(self, name: str) -> Any:
        """The listener called ``name``, or ``None``."""
        return None


class ConnectionListener:
    """Base class of listeners: every callback is a no-op; override the ones you need.

    Typical sequences: connect ``on_connecting`` -> ``on_send`` (CONNECT) ->
    ``on_connected``; a graceful disconnect ``on_send`` (DISCONNECT) -> ``on_disconnected``
    -> ``on_receipt`` -> ``on_receiver_loop_completed``; the server closing the socket
    ``on_receiver_loop_completed`` -> ``on_disconnected``; a heart-beat timeout
    ``on_disconnected`` -> ``on_heartbeat_timeout`` -> ``on_receiver_loop_completed``.
    ``on_disconnected`` fires exactly once per connection.
    """

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """The transport (TCP, and TLS if configured) is open; CONNECT is about to be sent.

        Args:
            host_and_port: the broker address that answered.
        """

    def on_connected(self, frame: Frame) -> None:
        """The broker accepted the session (its CONNECTED frame)."""

    def on_disconnecting(self) -> None:
        """A disconnect is starting: DISCONNECT is about to be sent."""

    def on_disconnected(self) -> None:
        """The connection is gone (closed by us, by the broker, or a heart-beat timeout)."""

    def on_heartbeat_timeout(self) -> None:
        """The broker stayed silent too long; follows ``on_disconnected``."""

    def on_before_message(self, frame: Frame) -> None:
        """Called for each MESSAGE before any ``on_message``; edit ``frame`` in place."""

    def on_message(self, frame: Frame) -> None:
        """A MESSAGE arrived."""

    def on_receipt(self, frame: Frame) -> None:
        """A RECEIPT arrived."""

    def on_error(self, frame: Frame) -> None:
        """An ERROR frame arrived."""

    def on_send(self, frame: Frame) -> None:
        """A frame is about to be sent; headers may be changed in place.

        A heart-beat is reported as a frame whose ``cmd`` is ``None``.
        """

    def on_heartbeat(self) -> None:
        """A heart-beat (EOL) arrived from the broker."""

    def on_receiver_loop_completed(self, frame: Frame | None) -> None:
        """The reader thread is finishing; ``frame`` is ``None``."""


class HeartbeatListener(ConnectionListener):
    """stomp.py's heart-beat bookkeeping, kept for code that builds or inspects one.

    In this package the connection (through :mod:`stomp_core`) sends heart-beats and
    detects silent brokers; this listener only records what was negotiated and when the
    broker was last heard, and never closes anything.

    Args:
        transport: the transport it belongs to (may be ``None``).
        heartbeats: the client's ``(cx, cy)`` wish in milliseconds.
        heart_beat_receive_scale: tolerance factor for the receive interval.
    """

    def __init__(
        self,
        transport: Any,
        heartbeats: tuple[int, int],
        heart_beat_receive_scale: float = 1.5,
    ) -> None:
        _check_heartbeats(heartbeats)
        self.transport = transport
        self.heartbeats: tuple[int, int] = (int(heartbeats[0]), int(heartbeats[1]))
        self.heart_beat_receive_scale = heart_beat_receive_scale
        self.running = False
        self.received_heartbeat: float | None = None
        self.heartbeat_thread: threading.Thread | None = None
        self.next_outbound_heartbeat: float | None = None
        self.send_sleep: float = 0.0
        self.receive_sleep: float = 0.0
        self.disconnecting = False
        #: stomp.py stopped its heart-beat thread with this event; kept for code that waits
        #: on it or sets it (nothing here runs a thread).
        self.heartbeat_terminate_event = threading.Event()

    def on_connected(self, frame: Frame) -> None:
        """Record the negotiated intervals (spec 1.2 "Heart-beating")."""
        value = frame.headers.get("heart-beat")
        if not value:
            return
        server = tuple(v.strip() for v in str(value).split(","))
        if len(server) != 2:
            return
        self.heartbeats = calculate_heartbeats(server, self.heartbeats)
        self.send_sleep = self.heartbeats[0] / 1000
        self.receive_sleep = self.heartbeats[1] / 1000 * self.heart_beat_receive_scale
        now = time.monotonic()
        self.received_heartbeat = now + self.receive_sleep
        self.running = self.heartbeats != (0, 0)

    def on_disconnected(self) -> None:
        """Stop the bookkeeping."""
        self.running = False

    def on_disconnecting(self) -> None:
        """Note that a disconnect is under way."""
        self.disconnecting = True

    def _heard(self) -> None:
        now = time.monotonic()
        self.received_heartbeat = (
            now if self.received_heartbeat is None else max(self.received_heartbeat, now)
        )

    def on_message(self, frame: Frame) -> None:
        """Any frame from the broker proves it is alive."""
        self._heard()

    def on_receipt(self, *_: Any) -> None:
        """Any frame from the broker proves it is alive (stomp.py takes any arguments)."""
        self._heard()

    def on_error(self, *_: Any) -> None:
        """Any frame from the broker proves it is alive (stomp.py takes any arguments)."""
        self._heard()

    def on_heartbeat(self) -> None:
        """A heart-beat proves the broker is alive."""
        self._heard()

    def on_send(self, frame: Frame) -> None:
        """Add our wish to CONNECT/STOMP frames, as stomp.py's protocol does; note the send."""
        if frame.cmd in ("CONNECT", "STOMP") and self.heartbeats != (0, 0):
            frame.headers.setdefault("heart-beat", f"{self.heartbeats[0]},{self.heartbeats[1]}")
        self.next_outbound_heartbeat = time.monotonic() + self.send_sleep


def _check_heartbeats(heartbeats: object) -> None:
    if (
        not isinstance(heartbeats, (tuple, list))
        or len(heartbeats) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in heartbeats)
    ):
        raise ValueError(f"heartbeats must be a pair of non-negative ints (ms), got {heartbeats!r}")


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
        raise ValueError(f"timeout must be None or a non-negative number, got {timeout!r}")


class WaitingListener(ConnectionListener):
    """Waits for one receipt, or for the disconnection.

    Args:
        receipt: the receipt id to wait for.

    Attributes:
        receipt: the receipt id.
        received: whether it arrived and was not yet consumed by :meth:`wait_on_receipt`.
        disconnected: whether ``on_disconnected`` was seen (latched).
    """

    def __init__(self, receipt: str | None) -> None:
        self.receipt = receipt
        self.received = False
        self.disconnected = False
        self.receiver_loop_completed = False
        self._loops_completed = 0
        self.receipt_condition = threading.Condition()

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """A new connection starts: its reader has not finished."""
        with self.receipt_condition:
            self.receiver_loop_completed = False

    def on_receipt(self, frame: Frame) -> None:
        """Latch the receipt if it is ours."""
        if frame.headers.get("receipt-id") == self.receipt:
            with self.receipt_condition:
                self.received = True
                self.receipt_condition.notify_all()

    def on_disconnected(self) -> None:
        """Latch the disconnection."""
        with self.receipt_condition:
            self.disconnected = True
            self.receipt_condition.notify_all()

    def on_receiver_loop_completed(self, frame: Frame | None) -> None:
        """No receipt can arrive any more on this connection."""
        with self.receipt_condition:
            self.receiver_loop_completed = True
            self._loops_completed += 1
            self.receipt_condition.notify_all()

    def wait_on_receipt(self, timeout: float | None = None) -> bool:
        """Wait until the receipt arrives, then consume it (so one can wait again).

        Also returns when the connection's reader finished, since the receipt can then
        never arrive.

        Args:
            timeout: the most seconds to wait; ``None`` for no limit.

        Returns:
            Whether the receipt arrived.
        """
        _check_timeout(timeout)
        with self.receipt_condition:
            # Counting completions too: a reconnection may reset the flag before we wake.
            start = self._loops_completed
            self.receipt_condition.wait_for(
                lambda: (
                    self.received or self.receiver_loop_completed or self._loops_completed != start
                ),
                timeout,
            )
            received = self.received
            self.received = False
            return received

    def wait_on_disconnected(self, timeout: float | None = None) -> bool:
        """Wait until ``on_disconnected`` was seen.

        Args:
            timeout: the most seconds to wait; ``None`` for no limit.

        Returns:
            Whether the disconnection was seen.
        """
        _check_timeout(timeout)
        with self.receipt_condition:
            return self.receipt_condition.wait_for(lambda: self.disconnected, timeout)


class StatsListener(ConnectionListener):
    """Counts what happens on a connection.

    Attributes:
        errors: ERROR frames received.
        connections: transport connections opened (counted in ``on_connecting``).
        disconnects: disconnections.
        messages: MESSAGE frames received.
        messages_sent: frames sent (every frame, heart-beats included, as in stomp.py).
        heartbeat_timeouts: heart-beat timeouts.
        heartbeat_count: heart-beats received.
    """

    def __init__(self) -> None:
        self.errors = 0
        self.connections = 0
        self.disconnects = 0
        self.messages = 0
        self.messages_sent = 0
        self.heartbeat_timeouts = 0
        self.heartbeat_count = 0

    def on_disconnected(self) -> None:
        """Count a disconnection."""
        self.disconnects += 1
        logging.info("disconnected (x %s)", self.disconnects)

    def on_error(self, frame: Frame) -> None:
        """Count an ERROR frame."""
        logging.info("received an error %s [%s]", frame.body, clean_headers(frame.headers))
        self.errors += 1

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """Count a transport connection."""
        logging.info(
            "connecting %s %s (x %s)", host_and_port[0], host_and_port[1], self.connections
        )
        self.connections += 1

    def on_message(self, frame: Frame) -> None:
        """Count a MESSAGE."""
        self.messages += 1

    def on_send(self, frame: Frame) -> None:
        """Count a frame sent."""
        self.messages_sent += 1

    def on_heartbeat_timeout(self) -> None:
        """Count a heart-beat timeout."""
        logging.debug("received heartbeat timeout")
        self.heartbeat_timeouts += 1

    def on_heartbeat(self) -> None:
        """Count a heart-beat received."""
        self.heartbeat_count += 1

    def __str__(self) -> str:
        return (
            f"Connections: {self.connections}\n"
            f"Disconnects: {self.disconnects}\n"
            f"Messages sent: {self.messages_sent}\n"
            f"Messages received: {self.messages}\n"
            f"Heartbeats received: {self.heartbeat_count}\n"
            f"Errors: {self.errors}"
        )


class PrintingListener(ConnectionListener):
    """Prints one line per event (to stdout, or to the log), passcodes masked.

    Args:
        print_to_log: log at INFO level instead of printing.
    """

    def __init__(self, print_to_log: bool = False) -> None:
        self.print_to_log = print_to_log

    def __print(self, msg: str, *args: Any) -> None:
        if self.print_to_log:
            logging.info(msg, *args)
        else:
            print(msg % args)

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """Print the address."""
        self.__print("on_connecting %s %s", *host_and_port)

    def on_connected(self, frame: Frame) -> None:
        """Print the CONNECTED frame."""
        self.__print("on_connected %s %s", clean_headers(frame.headers), frame.body)

    def on_disconnected(self) -> None:
        """Print the event."""
        self.__print("on_disconnected")

    def on_heartbeat_timeout(self) -> None:
        """Print the event."""
        self.__print("on_heartbeat_timeout")

    def on_before_message(self, frame: Frame) -> None:
        """Print the MESSAGE."""
        self.__print("on_before_message %s %s", frame.headers, frame.body)

    def on_message(self, frame: Frame) -> None:
        """Print the MESSAGE."""
        self.__print("on_message %s %s", frame.headers, frame.body)

    def on_receipt(self, frame: Frame) -> None:
        """Print the RECEIPT."""
        self.__print("on_receipt %s %s", frame.headers, frame.body)

    def on_error(self, frame: Frame) -> None:
        """Print the ERROR."""
        self.__print("on_error %s %s", frame.headers, frame.body)

    def on_send(self, frame: Frame) -> None:
        """Print the frame about to be sent, with its passcode masked."""
        self.__print("on_send %s %s %s", frame.cmd, clean_headers(frame.headers), frame.body)

    def on_heartbeat(self) -> None:
        """Print the event."""
        self.__print("on_heartbeat")


class TestListener(StatsListener, WaitingListener, PrintingListener):
    """Stats, waiting and printing in one listener, plus the messages received.

    Args:
        receipt: the receipt id :meth:`WaitingListener.wait_on_receipt` waits for.
        print_to_log: log instead of printing.

    Attributes:
        message_list: ``(headers, body)`` of every MESSAGE received.
        timestamp: local time at construction as ``YYYYmmddHHMMSS`` (handy for unique
            destination names in tests).
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, receipt: str | None = None, print_to_log: bool = False) -> None:
        StatsListener.__init__(self)
        PrintingListener.__init__(self, print_to_log)
        WaitingListener.__init__(self, receipt)
        self.message_list: list[tuple[dict[str, Any], Any]] = []
        self.message_condition = threading.Condition()
        self.message_received = False
        self.heartbeat_condition = threading.Condition()
        self.heartbeat_received = False
        self.timestamp = time.strftime("%Y%m%d%H%M%S")

    def wait_for_message(self, timeout: float | None = None) -> bool:
        """Wait until a MESSAGE arrives (latched, reset on return).

        Args:
            timeout: the most seconds to wait; ``None`` for no limit.

        Returns:
            Whether a message arrived.
        """
        _check_timeout(timeout)
        with self.message_condition:
            received = self.message_condition.wait_for(lambda: self.message_received, timeout)
            self.message_received = False
            return received

    def get_latest_message(self) -> tuple[dict[str, Any], Any] | None:
        """The last ``(headers, body)`` received, or ``None``."""
        return self.message_list[-1] if self.message_list else None

    def wait_for_heartbeat(self, timeout: float | None = None) -> bool:
        """Wait until a heart-beat arrives (latched, reset on return).

        Args:
            timeout: the most seconds to wait; ``None`` for no limit.

        Returns:
            Whether a heart-beat arrived.
        """
        _check_timeout(timeout)
        with self.heartbeat_condition:
            received = self.heartbeat_condition.wait_for(lambda: self.heartbeat_received, timeout)
            self.heartbeat_received = False
            return received

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """Count, print and reset the waits."""
        StatsListener.on_connecting(self, host_and_port)
        PrintingListener.on_connecting(self, host_and_port)
        WaitingListener.on_connecting(self, host_and_port)

    def on_connected(self, frame: Frame) -> None:
        """Print."""
        PrintingListener.on_connected(self, frame)

    def on_disconnected(self) -> None:
        """Count, print and latch."""
        StatsListener.on_disconnected(self)
        PrintingListener.on_disconnected(self)
        WaitingListener.on_disconnected(self)

    def on_heartbeat_timeout(self) -> None:
        """Count and print."""
        StatsListener.on_heartbeat_timeout(self)
        PrintingListener.on_heartbeat_timeout(self)

    def on_before_message(self, frame: Frame) -> None:
        """Print."""
        PrintingListener.on_before_message(self, frame)

    def on_message(self, frame: Frame) -> None:
        """Count, print and remember the message."""
        StatsListener.on_message(self, frame)
        PrintingListener.on_message(self, frame)
        with self.message_condition:
            self.message_list.append((frame.headers, frame.body))
            self.message_received = True
            self.message_condition.notify_all()

    def on_receipt(self, frame: Frame) -> None:
        """Print and latch the receipt."""
        PrintingListener.on_receipt(self, frame)
        WaitingListener.on_receipt(self, frame)

    def on_error(self, frame: Frame) -> None:
        """Count and print."""
        StatsListener.on_error(self, frame)
        PrintingListener.on_error(self, frame)

    def on_send(self, frame: Frame) -> None:
        """Count and print."""
        StatsListener.on_send(self, frame)
        PrintingListener.on_send(self, frame)

    def on_heartbeat(self) -> None:
        """Count, print and latch."""
        StatsListener.on_heartbeat(self)
        PrintingListener.on_heartbeat(self)
        with self.heartbeat_condition:
            self.heartbeat_received = True
            self.heartbeat_condition.notify_all()

    def on_receiver_loop_completed(self, frame: Frame | None) -> None:
        """End the receipt wait."""
        WaitingListener.on_receiver_loop_completed(self, frame)


#: The name newer stomp.py releases give :class:`TestListener`.
CombinedListener = TestListener

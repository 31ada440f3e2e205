"""Publish 10,000 messages with receipts in flight and a progress display (blocking driver).

Each SEND asks for a RECEIPT; at most ``--window`` receipts are awaited at once, so the
publisher never runs further ahead of the broker than that, yet never waits for one
message's round trip before sending the next.  A progress line on stderr shows what is
sent and confirmed.  ``--verify`` reads the messages back and counts them.

    python docs/recipes/publisher.py --host 127.0.0.1 --port 61613 --count 10000
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import stomp
from stomp.utils import Frame


class ReceiptWindow(stomp.ConnectionListener):
    """Counts receipts and lets at most ``size`` sends wait for theirs."""

    def __init__(self, size: int) -> None:
        self.slots = threading.BoundedSemaphore(size)
        self.confirmed = 0
        self.errors: list[str] = []
        self.received = 0
        self.all_received = threading.Event()
        self.expected = 0

    def on_receipt(self, frame: Frame) -> None:
        # The reader thread calls this; a receipt frees one slot of the window.  (The
        # DISCONNECT's receipt is not one of ours.)
        if not frame.headers.get("receipt-id", "").startswith("publish-"):
            return
        self.confirmed += 1
        self.slots.release()

    def on_error(self, frame: Frame) -> None:
        self.errors.append(frame.headers.get("message", "ERROR"))
        self.slots.release()

    def on_message(self, frame: Frame) -> None:
        self.received += 1
        if self.received == self.expected:
            self.all_received.set()


def progress(sent: int, confirmed: int, total: int) -> None:
    print(f"\rsent {sent:>6}/{total}  confirmed {confirmed:>6}", end="", file=sys.stderr)


def publish(args: argparse.Namespace) -> None:
    """Publish ``args.count`` messages, then (with ``--verify``) read them back."""
    window = ReceiptWindow(args.window)
    conn = stomp.Connection([(args.host, args.port)], vhost=args.vhost)
    conn.set_listener("window", window)
    conn.connect(args.login, args.passcode, wait=True)
    started = time.monotonic()
    try:
        for n in range(args.count):
            # Blocks while `window` receipts are outstanding: the broker sets the pace.
            if not window.slots.acquire(timeout=30):
                raise TimeoutError(f"no receipt for 30 s ({window.confirmed} confirmed)")
            conn.send(args.queue, f"message {n}", receipt=f"publish-{n}")
            if n % 500 == 0:
                progress(n + 1, window.confirmed, args.count)
        for _ in range(args.window):  # wait until every slot came back
            if not window.slots.acquire(timeout=30):
                raise TimeoutError(f"receipts missing ({window.confirmed} confirmed)")
        progress(args.count, window.confirmed, args.count)
        print(file=sys.stderr)
        elapsed = time.monotonic() - started
        print(f"published {args.count}, confirmed {window.confirmed} in {elapsed:.1f} s")
        if window.errors:
            raise SystemExit(f"the broker refused messages: {window.errors[:3]}")
        if args.verify:
            window.expected = args.count
            conn.subscribe(args.queue, id="verify", ack="auto")
            if not window.all_received.wait(timeout=60):
                raise TimeoutError(f"only {window.received} messages came back")
            print(f"received back {window.received}")
    finally:
        conn.disconnect()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Broker address and credentials from the command line or STOMP_* variables."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env("STOMP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("STOMP_PORT", "61613")))
    parser.add_argument("--login", default=env("STOMP_LOGIN", "guest"))
    parser.add_argument("--passcode", default=env("STOMP_PASSCODE", "guest"))
    parser.add_argument("--vhost", default=env("STOMP_VHOST", "/"))
    parser.add_argument("--queue", default="/queue/recipes.published")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=200, help="receipts in flight")
    parser.add_argument("--verify", action="store_true", help="read the messages back")
    return parser.parse_args(argv)


if __name__ == "__main__":
    publish(parse_args())

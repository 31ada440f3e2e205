"""``stomp-demo``: a short STOMP exchange with the blocking driver, printing each step.

Uses the broker at ``STOMP_HOST``:``STOMP_PORT`` (default 127.0.0.1:61613) when one
listens there, else starts the embedded broker on that address for the length of the
demo.  Then: connect, subscribe, send, receive, acknowledge, send inside a transaction
and commit it, receive and acknowledge that too, disconnect.

Exits 0 when every step worked, 1 when one failed, 2 when the whole demo took longer
than ``--timeout`` seconds (every single wait is bounded too).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import socket
import sys
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import stomp

from ._thread import run_broker_in_thread

__all__ = ["main"]

#: Seconds any single step may wait (for CONNECTED, a receipt, a message).
STEP_TIMEOUT = 10.0


class _Recorder(stomp.ConnectionListener):
    """Hands the frames the listener thread sees to the demo's thread."""

    def __init__(self) -> None:
        self.connected: queue.Queue[Any] = queue.Queue()
        self.messages: queue.Queue[Any] = queue.Queue()
        self.receipts: queue.Queue[str] = queue.Queue()
        self.errors: queue.Queue[Any] = queue.Queue()

    def on_connected(self, frame: Any) -> None:
        self.connected.put(frame)

    def on_message(self, frame: Any) -> None:
        self.messages.put(frame)

    def on_receipt(self, frame: Any) -> None:
        self.receipts.put(frame.headers.get("receipt-id", ""))

    def on_error(self, frame: Any) -> None:
        self.errors.put(frame)


class DemoFailed(Exception):
    """A step of the demo did not happen in time."""


def _take(source: queue.Queue[Any], what: str, errors: queue.Queue[Any]) -> Any:
    try:
        return source.get(timeout=STEP_TIMEOUT)
    except queue.Empty:
        detail = ""
        with contextlib.suppress(queue.Empty):
            detail = f" (broker ERROR: {errors.get_nowait().headers.get('message')})"
        raise DemoFailed(f"no {what} within {STEP_TIMEOUT} s{detail}") from None


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2.0):
            return True
    except OSError:
        return False


def _run(host: str, port: int) -> None:
    step = 0

    def say(text: str) -> None:
        nonlocal step
        step += 1
        print(f"[{step}] {text}", flush=True)

    with contextlib.ExitStack() as stack:
        if _listening(host, port):
            say(f"a broker listens on {host}:{port}: using it")
        else:
            stack.enter_context(run_broker_in_thread(host=host, port=port, timeout=STEP_TIMEOUT))
            say(f"nothing listens on {host}:{port}: started the embedded broker (stomp_broker)")

        recorder = _Recorder()
        conn = stomp.Connection12([(host, port)], heartbeats=(2000, 2000), timeout=STEP_TIMEOUT)
        conn.set_listener("demo", recorder)
        conn.connect(
            os.environ.get("STOMP_LOGIN", "guest"),
            os.environ.get("STOMP_PASSCODE", "guest"),
            wait=True,
        )

        def leave() -> None:
            if conn.is_connected():  # a step failed: still close the session
                conn.disconnect()

        stack.callback(leave)
        connected = _take(recorder.connected, "CONNECTED", recorder.errors)
        say(
            f"connected with STOMP {connected.headers.get('version', '1.0')} "
            f"(server: {connected.headers.get('server', 'unnamed')})"
        )

        destination = f"/queue/stomp-demo-{uuid.uuid4().hex[:8]}"
        # durable/auto-delete: RabbitMQ would otherwise keep one queue per demo run.
        conn.subscribe(
            destination,
            id="demo",
            ack="client-individual",
            receipt="subscribed",
            headers={"durable": "false", "auto-delete": "true"},
        )
        _take(recorder.receipts, "RECEIPT for SUBSCRIBE", recorder.errors)
        say(f"subscribed to {destination} (ack: client-individual), confirmed by a receipt")

        conn.send(destination, "hello from stomp-sansio", content_type="text/plain")
        say("sent 'hello from stomp-sansio'")
        message = _take(recorder.messages, "MESSAGE", recorder.errors)
        say(f"received {message.body!r} (message-id {message.headers['message-id']})")
        conn.ack(message.headers["ack"], receipt="acked")
        _take(recorder.receipts, "RECEIPT for ACK", recorder.errors)
        say("acknowledged it")

        transaction = conn.begin()
        conn.send(destination, "sent inside a transaction", transaction=transaction)
        say(f"began transaction {transaction} and sent a message inside it")
        if not recorder.messages.empty():
            raise DemoFailed("a transactional message arrived before COMMIT")
        conn.commit(transaction, receipt="committed")
        _take(recorder.receipts, "RECEIPT for COMMIT", recorder.errors)
        say("committed the transaction")
        message = _take(recorder.messages, "MESSAGE", recorder.errors)
        conn.ack(message.headers["ack"])
        say(f"received {message.body!r} and acknowledged it")

        conn.disconnect()
        say("disconnected")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; return the exit status (0 on success)."""
    parser = argparse.ArgumentParser(prog="stomp-demo", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="give up after this many seconds"
    )
    args = parser.parse_args(argv)
    host = os.environ.get("STOMP_HOST", "127.0.0.1")
    try:
        port = int(os.environ.get("STOMP_PORT", "61613"))
    except ValueError:
        print("stomp-demo: STOMP_PORT must be a number", file=sys.stderr)
        return 1

    def give_up() -> None:
        print(f"stomp-demo FAILED: not done after {args.timeout} s", file=sys.stderr, flush=True)
        os._exit(2)  # the stuck thread may be anywhere: leave now

    watchdog = threading.Timer(args.timeout, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        _run(host, port)
    except Exception as exc:
        print(f"stomp-demo FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        watchdog.cancel()
    print("stomp-demo: all steps done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Request/reply over STOMP with ``reply-to`` and a temporary queue (blocking driver).

A service answers requests sent to ``--service``; the client sends each request with
``reply-to: /temp-queue/replies`` and a ``correlation-id``.  RabbitMQ creates a private,
auto-deleted queue for the client's connection, rewrites ``reply-to`` into an address the
service can send to, and delivers the replies on the client's connection without any
SUBSCRIBE.  The service needs no knowledge of the client: it sends to ``reply-to``.

RabbitMQ only: the embedded broker has no temporary queues yet.  (ActiveMQ also has
``/temp-queue/``, but the client must SUBSCRIBE to it first.)

    python docs/recipes/request_reply.py --host 127.0.0.1 --port 61613 --requests 5
"""

from __future__ import annotations

import argparse
import os
import threading
import uuid

import stomp
from stomp.utils import Frame


class Service(stomp.ConnectionListener):
    """Answers each request on the queue with the request's body in upper case."""

    def __init__(self, conn: stomp.Connection) -> None:
        self.conn = conn

    def on_message(self, frame: Frame) -> None:
        reply_to = frame.headers["reply-to"]
        self.conn.send(
            reply_to,
            str(frame.body).upper(),
            headers={"correlation-id": frame.headers["correlation-id"]},
        )
        self.conn.ack(frame.headers["message-id"], frame.headers["subscription"])


class Replies(stomp.ConnectionListener):
    """Hands each reply to the request waiting for it, by ``correlation-id``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting: dict[str, tuple[threading.Event, list[str]]] = {}

    def expect(self, correlation_id: str) -> tuple[threading.Event, list[str]]:
        with self.lock:
            slot = self.waiting[correlation_id] = (threading.Event(), [])
        return slot

    def on_message(self, frame: Frame) -> None:
        with self.lock:
            slot = self.waiting.pop(frame.headers.get("correlation-id", ""), None)
        if slot is None:
            return  # a late reply to a request that gave up waiting
        slot[1].append(str(frame.body))
        slot[0].set()


def request(conn: stomp.Connection, replies: Replies, service: str, body: str) -> str:
    """Send one request and wait (10 s at most) for its reply."""
    correlation_id = uuid.uuid4().hex
    arrived, reply = replies.expect(correlation_id)
    conn.send(
        service,
        body,
        headers={"reply-to": "/temp-queue/replies", "correlation-id": correlation_id},
    )
    if not arrived.wait(timeout=10):
        raise TimeoutError(f"no reply to {body!r}")
    return reply[0]


def main(args: argparse.Namespace) -> None:
    service_conn = stomp.Connection([(args.host, args.port)], vhost=args.vhost)
    service_conn.set_listener("service", Service(service_conn))
    service_conn.connect(args.login, args.passcode, wait=True)
    # A request sent before this SUBSCRIBE waits in the queue: the order does not matter.
    service_conn.subscribe(args.service, id="service", ack="client-individual")
    replies = Replies()
    client_conn = stomp.Connection([(args.host, args.port)], vhost=args.vhost)
    client_conn.set_listener("replies", replies)
    client_conn.connect(args.login, args.passcode, wait=True)
    try:
        for n in range(args.requests):
            reply = request(client_conn, replies, args.service, f"hello {n}")
            print(f"request 'hello {n}' -> reply {reply!r}")
    finally:
        client_conn.disconnect()
        service_conn.disconnect()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Broker address and credentials from the command line or STOMP_* variables."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env("STOMP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("STOMP_PORT", "61613")))
    parser.add_argument("--login", default=env("STOMP_LOGIN", "guest"))
    parser.add_argument("--passcode", default=env("STOMP_PASSCODE", "guest"))
    parser.add_argument("--vhost", default=env("STOMP_VHOST", "/"))
    parser.add_argument("--service", default="/queue/recipes.uppercase")
    parser.add_argument("--requests", type=int, default=5)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())

"""A slow consumer with a prefetch window and back-pressure (stomp_trio).

The broker pushes messages ahead of acks up to its *prefetch window*; the client buffers
at most ``buffer`` messages per subscription and, when that buffer is full, stops reading
the socket so TCP pushes back on the broker.  Keep the window at or below the buffer,
so that the window, not TCP, normally limits delivery.  The program publishes
``--count`` messages, consumes them slowly and reports the most messages ever waiting in
the client's buffer: never more than the window.

    python docs/recipes/prefetch_consumer.py --host 127.0.0.1 --port 61613 --window 10
"""

from __future__ import annotations

import argparse
import os

import trio

import stomp_trio


async def consume(args: argparse.Namespace) -> int:
    """Publish, then consume slowly; return the most messages buffered at once."""
    most_buffered = 0
    async with stomp_trio.open_connection(
        [(args.host, args.port)], login=args.login, passcode=args.passcode, vhost=args.vhost
    ) as client:
        for n in range(args.count):
            await client.send(args.queue, f"item {n}")
        await client.send(args.queue, "last", receipt=True)

        window = str(args.window)
        async with client.subscribe(
            args.queue,
            ack="client-individual",  # the window counts unacknowledged messages
            buffer=args.buffer,
            # RabbitMQ's and ActiveMQ's names for the window (the embedded broker reads both).
            headers={"prefetch-count": window, "activemq.prefetchSize": window},
        ) as subscription:
            received = 0
            async for message in subscription:
                most_buffered = max(most_buffered, subscription.buffered)
                await trio.sleep(args.delay)  # the slow part: the window fills meanwhile
                await message.ack()
                if message.text == "last":
                    break
                received += 1
    print(f"received {received} of {args.count}, at most {most_buffered} buffered")
    return most_buffered


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Broker address and credentials from the command line or STOMP_* variables."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env("STOMP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("STOMP_PORT", "61613")))
    parser.add_argument("--login", default=env("STOMP_LOGIN", "guest"))
    parser.add_argument("--passcode", default=env("STOMP_PASSCODE", "guest"))
    parser.add_argument("--vhost", default=env("STOMP_VHOST", "/"))
    parser.add_argument("--queue", default="/queue/recipes.prefetch")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--window", type=int, default=10, help="the broker's prefetch window")
    parser.add_argument("--buffer", type=int, default=20, help="the client's buffer")
    parser.add_argument("--delay", type=float, default=0.002, help="seconds per message")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if trio.run(consume, arguments) > arguments.window:
        raise SystemExit("more messages buffered than the prefetch window allows")

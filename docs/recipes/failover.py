"""Failover over a list of brokers, with automatic reconnection (stomp_asyncio).

``open_connection`` takes several addresses and tries them in order, so a broker that is
down is skipped; when the connection drops later, the client dials the list again with
backoff, subscribes again under the same ids and carries on.  The program watches the
connection's state changes, sends ``--count`` messages (each confirmed by a receipt; a
send that fails because the connection was lost is sent again) and receives them.

    python docs/recipes/failover.py --hosts 127.0.0.1:61613,127.0.0.1:61614 --count 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os

import stomp_asyncio


async def watch(changes: stomp_asyncio.StateChanges) -> None:
    """Print where the client connects, and why it reconnects."""
    async for change in changes:
        where = f" to {change.endpoint.host}:{change.endpoint.port}" if change.endpoint else ""
        why = f" ({change.error})" if change.error else ""
        print(f"state {change.state.value}{where}{why}")


async def send_until_confirmed(client: stomp_asyncio.Client, queue: str, body: str) -> None:
    """Send with a receipt; send again after a lost connection (at-least-once)."""
    while True:
        try:
            await client.send(queue, body, receipt=True)
            return
        except stomp_asyncio.ConnectionLost:
            continue  # the client reconnects by itself; the next attempt waits for it


async def main(args: argparse.Namespace) -> None:
    hosts = [(host, int(port)) for host, port in (a.rsplit(":", 1) for a in args.hosts.split(","))]
    client = stomp_asyncio.open_connection(
        hosts,
        login=args.login,
        passcode=args.passcode,
        vhost=args.vhost,
        connect_timeout=5.0,
        reconnect=stomp_asyncio.ReconnectPolicy(initial=0.1, maximum=2.0, attempts_max=20),
    )
    watcher = asyncio.create_task(watch(client.state_changes()))
    seen: set[str] = set()
    async with client, client.subscribe(args.queue, ack="client-individual", receipt=True) as sub:
        for n in range(args.count):
            await send_until_confirmed(client, args.queue, f"message {n}")
        while len(seen) < args.count:  # a message sent twice is counted once
            message = await sub.get(timeout=30)
            seen.add(message.text)
            # A message delivered on the old connection cannot be acked on the new one
            # (ConnectionLost): the broker delivers it again.
            with contextlib.suppress(stomp_asyncio.ConnectionLost):
                await message.ack()
    await watcher  # ends with the CLOSED state
    print(f"received all {len(seen)} messages")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Broker addresses and credentials from the command line or STOMP_* variables."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hosts",
        default=env("STOMP_HOSTS", "127.0.0.1:61613,127.0.0.1:61614"),
        help="host:port,host:port,... tried in order",
    )
    parser.add_argument("--login", default=env("STOMP_LOGIN", "guest"))
    parser.add_argument("--passcode", default=env("STOMP_PASSCODE", "guest"))
    parser.add_argument("--vhost", default=env("STOMP_VHOST", "/"))
    parser.add_argument("--queue", default="/queue/recipes.failover")
    parser.add_argument("--count", type=int, default=20)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))

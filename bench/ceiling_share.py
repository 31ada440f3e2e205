"""How fast a client can receive from a broker when the client itself costs CPU.

Issue 13 asks every driver to receive (ack=auto, a consumer that does nothing) at 0.9 of
the broker's raw ceiling: the rate at which a raw socket client that never parses a
frame drains a pre-filled queue.  On a machine with few cores that ceiling is the broker
using every core, and any CPU a client spends per message is taken from the broker.
This separates the two: a raw client drains the same kind of queue while spending a
fixed, known CPU time per message (a busy loop on ``time.thread_time``, nothing else),
so the rate any client can reach for a given cost per message is measured, whatever it
does with that time.

    python bench/ceiling_share.py --port 62613 --login admin --passcode password
    python bench/ceiling_share.py --costs 0,2,4,6,8 --rounds 3

Each round drains one queue per cost, in a shuffled order; the table gives each cost's
rate, its share of the rate at cost 0 in the same round, and the CPU time the client
really used per message (the cost plus reading and counting).  Compare with
``bench/e2e.py``'s "CPU us/msg" of a driver's ``recv-auto`` phase on the same broker.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid

from _alternate import add_broker_arguments
from thread_floor import BODY, DEADLINE, Raw, prefill


def drain(raw: Raw, destination: str, n: int, cost_us: float) -> tuple[float, float]:
    """Receive ``n`` MESSAGEs, spending ``cost_us`` of CPU on each; (msg/s, CPU us/msg)."""
    sock = raw.sock
    sock.settimeout(DEADLINE)
    raw.subscribe(destination)
    cost = cost_us * 1e-6
    clock = time.thread_time
    buffer = bytearray(1 << 16)
    seen = 0
    wall, cpu = time.perf_counter(), clock()
    while seen < n:
        size = sock.recv_into(buffer)
        if not size:
            raise SystemExit(f"the broker closed the connection after {seen} messages")
        count = buffer.count(b"\x00", 0, size)
        seen += count
        if cost:
            until = clock() + count * cost
            while clock() < until:
                pass
    wall, cpu = time.perf_counter() - wall, clock() - cpu
    return n / wall, cpu / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_broker_arguments(parser)
    parser.add_argument("--n", type=int, default=20000, help="messages per queue")
    parser.add_argument(
        "--costs", default="0,2,3,4,5,6,8", help="CPU us per message to spend, comma-separated"
    )
    args = parser.parse_args()
    costs = [float(c) for c in args.costs.split(",")]
    if 0.0 not in costs:
        costs.insert(0, 0.0)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(
        f"# {when}, broker {args.host}:{args.port}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}, {args.n} x {len(BODY)} B per queue"
    )
    print("| round | cost us/msg | msg/s | share of cost 0 | client CPU us/msg |")
    print("|---:|---:|---:|---:|---:|")
    shares: dict[float, list[float]] = {cost: [] for cost in costs}
    for number in range(1, args.rounds + 1):
        order = random.sample(costs, len(costs))
        rates: dict[float, tuple[float, float]] = {}
        for cost in order:
            queue = f"/queue/ceiling-share-{uuid.uuid4().hex}"
            prefill(args, queue)
            client = Raw(args)
            rates[cost] = drain(client, queue, args.n, cost)
            client.close()
        for cost in costs:
            rate, used = rates[cost]
            share = rate / rates[0.0][0]
            shares[cost].append(share)
            print(f"| {number} | {cost:g} | {rate:,.0f} | {share:.2f} | {used:.2f} |")
    print()
    print(
        "median share of the cost-0 rate: "
        + ", ".join(f"{cost:g} us {statistics.median(s):.2f}" for cost, s in shares.items())
    )


if __name__ == "__main__":
    main()

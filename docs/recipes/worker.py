"""A worker with client-individual acks, retries and a dead-letter queue (stomp_asyncio).

It publishes a few demo jobs, then works through them: a job that succeeds is acked; a
job that fails is sent back to the queue with its attempt count raised, and after
``--max-attempts`` failures it goes to the dead-letter queue ``<queue>.dlq`` instead.
Re-sending and acking happen in one STOMP transaction, so the job is never lost nor
doubled if the worker dies in between.  Finally it reads the dead letters back.

    python docs/recipes/worker.py --host 127.0.0.1 --port 61613 --queue /queue/jobs
"""

from __future__ import annotations

import argparse
import asyncio
import os

import stomp_asyncio

# The job kinds of the demo: "ok" succeeds, "flaky" fails on its first attempt only,
# "poison" always fails and ends in the dead-letter queue.
DEMO_JOBS = ["ok 1", "flaky 2", "ok 3", "poison 4", "flaky 5", "ok 6"]


class JobFailed(Exception):
    """The job could not be done this time."""


def handle(job: str, attempt: int) -> str:
    """Do one job; raise :class:`JobFailed` when it fails."""
    kind = job.split()[0]
    if kind == "poison" or (kind == "flaky" and attempt == 1):
        raise JobFailed(f"{job!r} failed on attempt {attempt}")
    return f"{job!r} done on attempt {attempt}"


async def work(args: argparse.Namespace) -> tuple[int, int]:
    """Publish the demo jobs, work through them; return (done, dead-lettered)."""
    jobs, dead_letters = args.queue, args.queue + ".dlq"
    done = dead = 0
    async with stomp_asyncio.open_connection(
        [(args.host, args.port)], login=args.login, passcode=args.passcode, vhost=args.vhost
    ) as client:
        for job in DEMO_JOBS:
            await client.send(jobs, job, headers={"x-attempt": "1"}, receipt=True)

        # client-individual: each ack settles one message; an unacked message goes back
        # to the queue if the worker dies.  The prefetch window bounds what it holds.
        async with client.subscribe(
            jobs, ack="client-individual", headers={"prefetch-count": "10"}
        ) as subscription:
            while done + dead < len(DEMO_JOBS):
                message = await subscription.get(timeout=30)
                attempt = int(message.headers.get("x-attempt", "1"))
                try:
                    print(handle(message.text, attempt))
                except JobFailed as failure:
                    retry = attempt < args.max_attempts
                    target = jobs if retry else dead_letters
                    headers = {"x-attempt": str(attempt + 1), "x-last-error": str(failure)}
                    async with client.transaction() as tx:  # re-send + ack, atomically
                        await tx.send(target, message.body, headers=headers)
                        await tx.ack(message)
                    print(f"{failure}: {'retrying' if retry else 'dead-lettered'}")
                    dead += not retry
                else:
                    await message.ack()
                    done += 1

        async with client.subscribe(dead_letters, ack="client-individual") as letters:
            for _ in range(dead):
                letter = await letters.get(timeout=30)
                print(f"dead letter {letter.text!r}: {letter.headers['x-last-error']}")
                await letter.ack()
    return done, dead


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Broker address and credentials from the command line or STOMP_* variables."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env("STOMP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("STOMP_PORT", "61613")))
    parser.add_argument("--login", default=env("STOMP_LOGIN", "guest"))
    parser.add_argument("--passcode", default=env("STOMP_PASSCODE", "guest"))
    parser.add_argument("--vhost", default=env("STOMP_VHOST", "/"))
    parser.add_argument("--queue", default="/queue/recipes.jobs")
    parser.add_argument("--max-attempts", type=int, default=3)
    return parser.parse_args(argv)


if __name__ == "__main__":
    done, dead = asyncio.run(work(parse_args()))
    print(f"done={done} dead={dead}")

"""The floor under the blocking driver's CPU per small send, on a real broker.

Issue 13 asks for at most half of stomp.py's CPU per ``conn.send(destination, body)``.
This measures, in the same process and on the same connection kind, what that half must
also pay for: writing one pre-encoded SEND frame per system call (``sock.send``), alone
and under one lock (any client that lets threads share a connection takes one), next to
``stomp.Connection12.send`` of whichever ``stomp`` the interpreter imports.  Each figure
is CPU time (user and system, every thread) per frame over ``--n`` frames, sent to a
topic nobody reads, so the broker keeps nothing.

    python bench/send_floor.py                       # ours and stomp.py, alternating
    python bench/send_floor.py --rounds 5 --port 62613 --login admin --passcode password

Ours runs from this checkout (``PYTHONPATH=<tree>:<tree>/drivers``), stomp.py from
``bench/.venv-stomppy`` (``bench/e2e.py`` creates it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _alternate import CLIENTS, add_broker_arguments, alternate

BODY = b"x" * 100


def _cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def _per_frame(run: Any, n: int) -> dict[str, float]:
    user0, sys0 = _cpu()
    run(n)
    user1, sys1 = _cpu()
    return {"user": (user1 - user0) / n * 1e6, "sys": (sys1 - sys0) / n * 1e6}


def child(args: argparse.Namespace) -> None:
    """One process: the raw floors, then ``stomp``'s send; JSON on stdout."""
    import stomp

    destination = f"/topic/send-floor-{uuid.uuid4().hex}"
    raw = socket.create_connection((args.host, args.port), timeout=30)
    raw.sendall(
        f"CONNECT\naccept-version:1.2\nhost:{args.vhost}\nlogin:{args.login}\n"
        f"passcode:{args.passcode}\nheart-beat:0,0\n\n\x00".encode()
    )
    if not raw.recv(65536).lstrip(b"\r\n").startswith(b"CONNECTED"):
        raise SystemExit("the broker refused the raw CONNECT")
    frame = (
        f"SEND\ndestination:{destination}\ncontent-length:{len(BODY)}\n\n".encode() + BODY + b"\x00"
    )
    lock = threading.Lock()
    send = raw.send

    def bare(n: int) -> None:
        for _ in range(n):
            send(frame)

    def locked(n: int) -> None:
        for _ in range(n):
            with lock:
                send(frame)

    # vhost=, not a host header: stomp.py replaces the header with the host's name.
    conn = stomp.Connection12([(args.host, args.port)], heartbeats=(10000, 10000), vhost=args.vhost)
    conn.connect(args.login, args.passcode, wait=True)

    def library(n: int) -> None:
        for _ in range(n):
            conn.send(destination, BODY)

    library(1000)  # warm-up: first-call costs out of the figure
    out = {
        "stomp": str(Path(stomp.__file__).parent),
        "bare sock.send": _per_frame(bare, args.n),
        "lock + sock.send": _per_frame(locked, args.n),
        "stomp send": _per_frame(library, args.n),
    }
    conn.disconnect()
    raw.close()
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_broker_arguments(parser)
    parser.add_argument("--n", type=int, default=50000)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"# {when}, broker {args.host}:{args.port}, load average {os.getloadavg()[0]:.2f}")
    print("# CPU us per frame, user + system (the system part in brackets)")
    print("| round | client | bare sock.send | lock + sock.send | stomp send | send / stomp.py's |")
    print("|---:|---|---:|---:|---:|---:|")
    for number, results in alternate(__file__, args.rounds, timeout=300):
        theirs = sum(results["stomp.py"]["stomp send"].values())
        for name in CLIENTS:
            r = results[name]
            cells = [
                f"{sum(r[k].values()):.2f} ({r[k]['sys']:.2f} sys)"
                for k in ("bare sock.send", "lock + sock.send", "stomp send")
            ]
            ratio = sum(r["stomp send"].values()) / theirs
            print(f"| {number} | {name} | {' | '.join(cells)} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()

"""What the floor benchmarks share: their broker options and the alternating runner.

``send_floor.py`` and ``thread_floor.py`` each run their measurements in a child
process, once with this checkout's ``stomp`` and once with stomp.py 9.0.0 (from
``bench/.venv-stomppy``, which ``bench/e2e.py`` creates), swapping the order every
round; the child prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STOMPPY = ROOT / "bench" / ".venv-stomppy" / "bin" / "python"
#: The clients, in the order of the odd rounds.
CLIENTS = ("ours", "stomp.py")


def add_broker_arguments(parser: argparse.ArgumentParser) -> None:
    """The broker to measure on (RabbitMQ's defaults), rounds, and the child's flag."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=61613)
    parser.add_argument("--login", default="guest")
    parser.add_argument("--passcode", default="guest")
    parser.add_argument("--vhost", default="/")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)


def alternate(script: str, rounds: int, timeout: float) -> Iterator[tuple[int, dict[str, Any]]]:
    """Run ``script --child`` (with this process's arguments) for both clients, per round.

    Yields:
        the round's number and each client's JSON answer, by client name.

    Raises:
        SystemExit: stomp.py's virtual environment is missing, or a child failed.
    """
    if not STOMPPY.exists():
        raise SystemExit(f"{STOMPPY} is missing: run bench/e2e.py once to create it")
    ours_env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'drivers'}"}
    theirs_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    runners = [("ours", sys.executable, ours_env), ("stomp.py", str(STOMPPY), theirs_env)]
    argv = [script, *sys.argv[1:], "--child"]
    for number in range(1, rounds + 1):
        results: dict[str, Any] = {}
        for name, python, env in runners if number % 2 else runners[::-1]:
            answer = subprocess.run(
                [python, *argv], env=env, capture_output=True, text=True, timeout=timeout
            )
            if answer.returncode != 0:
                raise SystemExit(f"{name} failed: {answer.stderr[-2000:]}")
            results[name] = json.loads(answer.stdout.strip().splitlines()[-1])
        yield number, results

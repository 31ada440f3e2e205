#!/usr/bin/env python3
"""Replay fuzz inputs through a harness's invariant check, without atheris.

    python fuzz/replay.py HARNESS PATH...        # files or directories
    python fuzz/replay.py parser-client fuzz/work/parser-client.crash-1234 -v

HARNESS is parser-client, parser-server, roundtrip or state.  With ``-v`` each input is
described (for the parser: mode, limits and chunks), which is what a regression test
needs.  Exit status 1 if any input breaks the invariant (its traceback is printed).
Also the way to measure line and branch coverage of a corpus::

    python -m coverage run --branch --source=stomp_core fuzz/replay.py parser-client \\
        fuzz/corpus/parser fuzz/work/parser-client
    python -m coverage report
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _parser_check import LIMITS, MODES, check_parser, split_input
from _roundtrip_check import check_roundtrip
from _state_check import check_state

from stomp_core import CLIENT, SERVER

CHECKS: dict[str, Callable[[bytes], object]] = {
    "parser-client": lambda data: check_parser(CLIENT, data),
    "parser-server": lambda data: check_parser(SERVER, data),
    "roundtrip": check_roundtrip,
    "state": check_state,
}


def describe(harness: str, data: bytes) -> str:
    """A human-readable view of one input."""
    if harness.startswith("parser"):
        kind, limits, chunks = split_input(data)
        return f"mode={MODES[kind]} limits={LIMITS[limits]}\n" + "\n".join(
            f"  chunk {i}: {chunk!r}" for i, chunk in enumerate(chunks)
        )
    return f"{len(data)} bytes: {data!r}"


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    if len(args) < 2 or args[0] not in CHECKS:
        print(__doc__, file=sys.stderr)
        return 2
    harness, check = args[0], CHECKS[args[0]]
    paths: list[Path] = []
    for arg in args[1:]:
        path = Path(arg)
        paths.extend(sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path])
    failures = 0
    for path in paths:
        data = path.read_bytes()
        if verbose:
            print(f"{path}: {describe(harness, data)}")
        try:
            check(data)
        except Exception:
            failures += 1
            print(f"FAIL {path}: {describe(harness, data)}", file=sys.stderr)
            traceback.print_exc()
    print(f"{len(paths)} inputs, {failures} failing", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

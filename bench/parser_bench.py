"""Benchmark of stomp_core's FrameReader: small frames/s, large-body MB/s, linearity.

Run from the repository root::

    python bench/parser_bench.py            # human-readable table
    python bench/parser_bench.py --json     # one JSON object per line (run_parser_bench.sh)

The loop is what a driver does: ``feed(chunk)`` then ``next_frame()`` until ``None``.
Chunks are prepared before the clock starts.  MB = 10**6 bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workloads import (
    BODY_CHUNKS,
    KIB,
    MIB,
    chunked,
    large_body_stream,
    small_frames_stream,
)

from stomp_core._frame import Frame
from stomp_core._limits import Limits
from stomp_core._reader import FrameReader
from stomp_core._versions import rules_for

# Large enough for the 64 MiB body plus its head.
LIMITS = Limits(max_frame_size=128 * MIB)


def parse_all(chunks: list[bytes]) -> tuple[int, int]:
    """Feed every chunk and pull every frame; return (frames, body bytes)."""
    reader = FrameReader(LIMITS)
    reader.rules = rules_for("1.2")
    feed = reader.feed
    next_frame = reader.next_frame
    frames = 0
    body_bytes = 0
    for chunk in chunks:
        feed(chunk)
        while (item := next_frame()) is not None:
            if type(item) is Frame:
                frames += 1
                body_bytes += len(item.body)
    return frames, body_bytes


def best_time(run: Callable[[], tuple[int, int]], repeat: int) -> tuple[float, tuple[int, int]]:
    """The fastest of ``repeat`` runs, and the run's result."""
    best = float("inf")
    result = (0, 0)
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def small_workload(count: int, chunk_size: int, repeat: int) -> dict[str, object]:
    data = small_frames_stream(count)
    chunks = chunked(data, chunk_size)
    seconds, (frames, _) = best_time(lambda: parse_all(chunks), repeat)
    assert frames == count, (frames, count)
    return {
        "workload": f"small MESSAGE x{count}, {chunk_size // KIB} KiB chunks",
        "unit": "frames/s",
        "value": frames / seconds,
        "seconds": seconds,
    }


def body_workload(size: int, label: str, chunk_size: int, repeat: int) -> dict[str, object]:
    data = large_body_stream(size)
    chunks = chunked(data, chunk_size)
    seconds, (frames, body_bytes) = best_time(lambda: parse_all(chunks), repeat)
    assert frames == 1, frames
    assert body_bytes == size, (body_bytes, size)
    return {
        "workload": f"{size // MIB} MiB body, {label} chunks",
        "unit": "MB/s",
        "value": len(data) / seconds / 1e6,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    parser.add_argument("--small-count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    results = [
        small_workload(args.small_count, 64 * KIB, args.repeat),
        small_workload(args.small_count, KIB, args.repeat),
    ]
    for size in (MIB, 64 * MIB):
        for label, chunk_size in BODY_CHUNKS:
            results.append(body_workload(size, label, chunk_size, args.repeat))

    # Linearity: 4x the input must take about 4x the time (ratio 4.0 = linear).
    n = args.small_count // 4
    t1 = small_workload(n, 64 * KIB, args.repeat)["seconds"]
    t4 = small_workload(4 * n, 64 * KIB, args.repeat)["seconds"]
    assert isinstance(t1, float)
    assert isinstance(t4, float)
    results.append(
        {
            "workload": f"linearity: small x{4 * n} / x{n} (64 KiB chunks)",
            "unit": "time ratio",
            "value": t4 / t1,
            "seconds": t4,
        }
    )
    b1 = body_workload(16 * MIB, "1KiB", KIB, args.repeat)["seconds"]
    b4 = body_workload(64 * MIB, "1KiB", KIB, args.repeat)["seconds"]
    assert isinstance(b1, float)
    assert isinstance(b4, float)
    results.append(
        {
            "workload": "linearity: 64 MiB / 16 MiB body (1 KiB chunks)",
            "unit": "time ratio",
            "value": b4 / b1,
            "seconds": b4,
        }
    )

    for result in results:
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['workload']:<50} {result['value']:>14,.1f} {result['unit']}")


if __name__ == "__main__":
    main()

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

# Large enough for the 256 MiB body of the linearity check plus its head.
LIMITS = Limits(max_frame_size=512 * MIB)


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


def best_time(
    run: Callable[[], tuple[int, int]], repeat: int
) -> tuple[float, float, tuple[int, int]]:
    """The fastest of ``repeat`` runs (wall clock and CPU time), and the run's result.

    CPU time (``process_time``) is reported beside wall-clock time because the machine
    may be shared: it does not count the time the process was not scheduled.
    """
    best_wall = best_cpu = float("inf")
    result = (0, 0)
    for _ in range(repeat):
        wall = time.perf_counter()
        cpu = time.process_time()
        result = run()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best_wall, best_cpu, result


def small_workload(count: int, chunk_size: int, repeat: int) -> dict[str, object]:
    data = small_frames_stream(count)
    chunks = chunked(data, chunk_size)
    seconds, cpu, (frames, _) = best_time(lambda: parse_all(chunks), repeat)
    assert frames == count, (frames, count)
    return {
        "workload": f"small MESSAGE x{count}, {chunk_size // KIB} KiB chunks",
        "unit": "frames/s",
        "value": frames / seconds,
        "cpu_value": frames / cpu,
        "seconds": seconds,
        "cpu_seconds": cpu,
    }


def body_workload(size: int, label: str, chunk_size: int, repeat: int) -> dict[str, object]:
    data = large_body_stream(size)
    chunks = chunked(data, chunk_size)
    seconds, cpu, (frames, body_bytes) = best_time(lambda: parse_all(chunks), repeat)
    assert frames == 1, frames
    assert body_bytes == size, (body_bytes, size)
    return {
        "workload": f"{size // MIB} MiB body, {label} chunks",
        "unit": "MB/s",
        "value": len(data) / seconds / 1e6,
        "cpu_value": len(data) / cpu / 1e6,
        "seconds": seconds,
        "cpu_seconds": cpu,
    }


def linearity(name: str, small: dict[str, object], big: dict[str, object]) -> dict[str, object]:
    """Time ratio of a 4x larger input (4.0 = linear)."""
    values = [small["seconds"], big["seconds"], small["cpu_seconds"], big["cpu_seconds"]]
    t1, t4, c1, c4 = (float(str(v)) for v in values)
    return {
        "workload": name,
        "unit": "time ratio",
        "value": t4 / t1,
        "cpu_value": c4 / c1,
        "seconds": t4,
        "cpu_seconds": c4,
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
    results.append(
        linearity(
            f"linearity: small x{4 * n} / x{n} (64 KiB chunks)",
            small_workload(n, 64 * KIB, args.repeat),
            small_workload(4 * n, 64 * KIB, args.repeat),
        )
    )
    for small, big in ((16, 64), (64, 256)):
        results.append(
            linearity(
                f"linearity: {big} MiB / {small} MiB body (1 KiB chunks)",
                body_workload(small * MIB, "1KiB", KIB, args.repeat),
                body_workload(big * MIB, "1KiB", KIB, args.repeat),
            )
        )

    for result in results:
        if args.json:
            print(json.dumps(result))
        else:
            print(
                f"{result['workload']:<50} {result['value']:>14,.1f} {result['unit']}"
                f"  (CPU time: {result['cpu_value']:,.1f})"
            )


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Parser benchmark: stomp_core's FrameReader against stomp.py's receive path, same
# workloads, same machine, same run.  Prints a side-by-side table and the ratio.
#
#   bash bench/run_parser_bench.sh              # full run (a few minutes)
#   SMALL_COUNT=20000 REPEAT=1 BUDGET=10 bash bench/run_parser_bench.sh   # quick look
#
# stomp.py runs from its own virtual environment, bench/.venv-stomppy (git-ignored),
# created here on first use with `pip install stomp.py`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-python3}"
venv="$here/.venv-stomppy"
small_count="${SMALL_COUNT:-100000}"
repeat="${REPEAT:-3}"
budget="${BUDGET:-30}"

if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv (stomp.py from PyPI)" >&2
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet stomp.py
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "stomp_core FrameReader..." >&2
(cd "$root" && "$python" "$here/parser_bench.py" --json \
    --small-count "$small_count" --repeat "$repeat") >"$out/ours.jsonl"
echo "stomp.py $("$venv/bin/python" -c 'import stomp; print(stomp.__version__)')..." >&2
# Run from bench/ so that the repository's own `stomp` package cannot shadow stomp.py.
(cd "$here" && "$venv/bin/python" "$here/stomppy_parser_bench.py" --json \
    --small-count "$small_count" --repeat "$repeat" --budget "$budget") >"$out/stomppy.jsonl"

"$python" - "$out/ours.jsonl" "$out/stomppy.jsonl" <<'EOF'
import json
import platform
import sys

ours = [json.loads(line) for line in open(sys.argv[1])]
theirs = {r["workload"]: r for r in map(json.loads, open(sys.argv[2]))}

print(f"python {platform.python_version()}, {platform.machine()}; best of the runs; "
      "MB = 10**6 bytes")
print("wall = wall-clock rate; cpu = rate over the process's CPU time")
header = (f"{'workload':<48} {'unit':<9} {'ours wall':>12} {'stomp.py wall':>14} "
          f"{'ratio':>8} {'ours cpu':>12} {'stomp.py cpu':>13} {'ratio':>8}")
print(header)
print("-" * len(header))
for r in ours:
    other = theirs.get(r["workload"])
    if other is None:
        print(f"{r['workload']:<48} {r['unit']:<9} {r['value']:>12,.1f} {'-':>14} {'-':>8} "
              f"{r['cpu_value']:>12,.1f} {'-':>13} {'-':>8}")
        continue
    mark = "" if other["complete"] else " *"
    print(f"{r['workload']:<48} {r['unit']:<9} {r['value']:>12,.1f} "
          f"{other['value']:>12,.1f}{mark:2} {r['value'] / other['value']:>7.1f}x "
          f"{r['cpu_value']:>12,.1f} {other['cpu_value']:>13,.1f} "
          f"{r['cpu_value'] / other['cpu_value']:>7.1f}x")
if not all(r["complete"] for r in theirs.values()):
    print("* stomp.py hit the time budget: rate over the bytes it got through (it only slows "
          "down as its buffer grows, so the real ratio is larger)")
EOF

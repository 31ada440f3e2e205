#!/usr/bin/env bash
# End-to-end send benchmark: this project's blocking driver against stomp.py, same sink
# server, same machine, same run.  stomp.py comes from bench/.venv-stomppy (created on
# first use, as run_parser_bench.sh does).
#
#   bash bench/run_send_bench.sh [COUNT]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
venv="$here/.venv-stomppy"
count="${1:-100000}"

if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv (stomp.py from PyPI)" >&2
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet stomp.py
fi
for run in 1 2 3; do
    echo "run $run" >&2
    "$python" "$here/send_bench.py" "$count"
    "$venv/bin/python" "$here/send_bench.py" "$count"
done

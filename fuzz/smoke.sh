#!/usr/bin/env bash
# CI fuzz smoke run: every harness for SECONDS each (default 60), from the committed
# seed corpus, in a throw-away work directory.  Fails on any finding, and prints the
# crashing input (base64) so that the CI log is enough to reproduce it.
#
#   bash fuzz/smoke.sh [SECONDS]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PY=${PYTHON:-python3}
seconds=${1:-60}

if ! "$PY" -c "import atheris" 2>/dev/null; then
    echo "fuzz smoke: atheris is not installed (pip install -e '.[fuzz]')" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/logs"
failed=()
for harness in parser-client parser-server roundtrip state; do
    log="$tmp/logs/$harness.log"
    echo "fuzz smoke: $harness for ${seconds}s" >&2
    if bash "$here/run.sh" "$harness" "$seconds" "$tmp/$harness" >"$log" 2>&1; then
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$log" >&2 || true
        grep -E '^#[0-9]+ +DONE' "$log" | tail -n 1 >&2 || true
    else
        failed+=("$harness")
        echo "fuzz smoke: $harness FOUND A PROBLEM:" >&2
        grep -v -E '^INFO: Instrumenting|^#[0-9]+' "$log" | tail -n 40 >&2
        for crash in "$tmp/$harness".crash-* "$tmp/$harness".timeout-* "$tmp/$harness".oom-*; do
            [ -f "$crash" ] || continue
            echo "input $(basename "$crash") (base64): $(base64 -w0 "$crash")" >&2
        done
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz smoke: findings in: ${failed[*]} (see fuzz/README.md to reproduce)" >&2
    exit 1
fi
echo "fuzz smoke: no findings" >&2

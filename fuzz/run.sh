#!/usr/bin/env bash
# Run one fuzz harness for a bounded time (see fuzz/README.md).
#
#   bash fuzz/run.sh HARNESS SECONDS [WORK_DIR] [extra libFuzzer flags...]
#
# HARNESS is parser-client, parser-server, roundtrip or state.  New corpus entries go to
# WORK_DIR (default fuzz/work/HARNESS), seeds are read from fuzz/corpus/<kind>, crash
# files are written to WORK_DIR.crash-<sha1>.  Exit status: 0 when the time ran out with
# no finding, non-zero on a finding (libFuzzer stops at the first one).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PY=${PYTHON:-python3}

harness=${1:?usage: run.sh HARNESS SECONDS [WORK_DIR] [libFuzzer flags...]}
seconds=${2:?usage: run.sh HARNESS SECONDS [WORK_DIR] [libFuzzer flags...]}
work=${3:-$here/work/$harness}
shift $(($# < 3 ? $# : 3))

case "$harness" in
    parser-client) script=fuzz_parser.py; args=(--role=client); seeds=parser ;;
    parser-server) script=fuzz_parser.py; args=(--role=server); seeds=parser ;;
    roundtrip) script=fuzz_roundtrip.py; args=(); seeds=roundtrip ;;
    state) script=fuzz_state.py; args=(); seeds=state ;;
    *) echo "unknown harness $harness (parser-client, parser-server, roundtrip, state)" >&2; exit 2 ;;
esac

mkdir -p "$work"
# -timeout: one input taking 10 s is a finding (quadratic parsing, a loop);
# -rss_limit_mb: so is memory growth past 1 GiB.
exec "$PY" "$here/$script" "${args[@]}" "$work" "$here/corpus/$seeds" \
    -dict="$here/stomp.dict" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -rss_limit_mb=1024 \
    -print_final_stats=1 \
    -artifact_prefix="$work." \
    "$@"

#!/usr/bin/env bash
# The whole test suite, as the README gives it and as CI runs it (.ci/run calls this).
#
#   bash scripts/test.sh            install, lint, type-check, start the real brokers,
#                                   run every test tier and a short fuzz smoke, stop brokers
#
# Environment:
#   VENV=DIR             the virtual environment to create or reuse (default .venv)
#   STOMP_NO_BROKERS=1   do not start RabbitMQ/ActiveMQ/the RabbitMQ cluster; the
#                        integration tier is then skipped, saying so
#   STOMP_KEEP_BROKERS=1 leave the brokers running at the end (they are reused if running)
#   FUZZ_SECONDS=N       seconds per fuzz harness in the smoke run (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n=== %s\n' "$*" >&2; }

log "virtual environment (editable install with test, lint, fuzz and docs extras)"
bash scripts/venv.sh test,lint,fuzz,docs
PY="$(cd "${VENV:-.venv}" && pwd)/bin/python"
export PYTHON="$PY"   # fuzz/*.sh and scripts/check_wheel.sh use it

log "ruff"
$PY -m ruff check .
$PY -m ruff format --check .

log "mypy --strict (stomp_core and drivers)"
$PY -m mypy

log "documentation site (warnings are errors, internal links checked)"; bash scripts/docs.sh

if [ "${STOMP_NO_BROKERS:-}" != "1" ] && [ -d scripts/brokers ]; then
    log "start real brokers (loopback only)"
    if [ "${STOMP_KEEP_BROKERS:-}" != "1" ]; then
        trap 'bash scripts/brokers/stop-all.sh >&2 || true' EXIT
    fi
    # Assign first: `eval "$(failing command)"` would succeed and hide the failure.
    rabbitmq_env="$(bash scripts/brokers/start-rabbitmq.sh)"
    activemq_env="$(bash scripts/brokers/start-activemq.sh)"
    cluster_env="$(bash scripts/brokers/start-rabbitmq-cluster.sh)"
    set -a
    eval "$rabbitmq_env"
    eval "$activemq_env"
    eval "$cluster_env"
    set +a
fi

# pytest exits 5 when it collected nothing: for us that is a failure, not a pass.
run_pytest() {
    local rc=0
    $PY -bb -m pytest "$@" || rc=$?
    if [ "$rc" -eq 5 ]; then
        echo "pytest collected no tests: failing" >&2
        return 1
    fi
    return "$rc"
}

log "core tests with 100% branch coverage of stomp_core"
run_pytest tests/core --cov=stomp_core --cov-branch --cov-report=term-missing --cov-fail-under=100

log "driver, compat and integration tests"
run_pytest tests --ignore=tests/core

log "packaging: sdist and wheel built, the wheel installed in a fresh venv and checked"
bash scripts/check_wheel.sh

if [ -f fuzz/smoke.sh ]; then
    log "fuzz smoke"
    bash fuzz/smoke.sh "${FUZZ_SECONDS:-60}"
fi
log "all green"

#!/usr/bin/env bash
# Stop the brokers started by start-rabbitmq.sh, start-rabbitmq-cluster.sh and
# start-activemq.sh: each with its own
# stop command first, then by the pid it recorded (never by process name).  A quiet
# no-op for a broker that is not installed or not running.  Every wait is bounded.
# Prints nothing on stdout; exit status non-zero when a broker refused to stop.
set -uo pipefail
SCRIPT_NAME=stop-all
# shellcheck source=_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/_lib.sh"
export ERL_EPMD_ADDRESS=127.0.0.1
[ "$(id -u)" = 0 ] || fail "run as root"
status=0

# ---- RabbitMQ ----------------------------------------------------------------------
RABBIT_PIDFILE=/var/lib/stomp-test-rabbitmq/rabbit@localhost.pid
if is_installed rabbitmq-server; then
    pid="$(cat "$RABBIT_PIDFILE" 2>/dev/null || true)"
    if alive "$pid" || port_open 61613; then
        say "stopping RabbitMQ (rabbitmqctl shutdown)"
        (cd /var/lib/rabbitmq && timeout 60 rabbitmqctl shutdown >&2) \
            || say "rabbitmqctl shutdown failed; falling back to the pid"
        if alive "$pid" && ! wait_dead "$pid" 30; then
            kill "$pid" 2>/dev/null || true
            wait_dead "$pid" 15 || { say "RabbitMQ pid $pid does not stop"; status=1; }
        fi
    fi
    # The two-node cluster of start-rabbitmq-cluster.sh: each node by its own pid file.
    # shellcheck source=_cluster_lib.sh
    . "$BROKERS_DIR/_cluster_lib.sh"
    for n in $NODES; do
        pid="$(node_pid "$n")"
        alive "$pid" || continue
        say "stopping $(node_name "$n") (rabbitmqctl shutdown)"
        ctl "$n" -q shutdown >&2 || say "rabbitmqctl shutdown failed; falling back to the pid"
        if alive "$pid" && ! wait_dead "$pid" 30; then
            kill "$pid" 2>/dev/null || true
            wait_dead "$pid" 15 || { say "$(node_name "$n") pid $pid does not stop"; status=1; }
        fi
    done
    # epmd serves every Erlang node on the machine: stop it only when none is left.
    if command -v epmd >/dev/null 2>&1 && epmd -names >/dev/null 2>&1 \
            && ! epmd -names 2>/dev/null | grep -q '^name '; then
        epmd -kill >/dev/null 2>&1 && say "stopped epmd"
    fi
fi

# ---- ActiveMQ ----------------------------------------------------------------------
ACTIVEMQ_INSTANCE=stomp-test
ACTIVEMQ_PIDFILE=/var/run/activemq/$ACTIVEMQ_INSTANCE.pid
if is_installed activemq; then
    pid="$(cat "$ACTIVEMQ_PIDFILE" 2>/dev/null || true)"
    if alive "$pid"; then
        say "stopping ActiveMQ (/etc/init.d/activemq stop $ACTIVEMQ_INSTANCE)"
        timeout 60 /etc/init.d/activemq stop "$ACTIVEMQ_INSTANCE" >&2 || true
        if ! wait_dead "$pid" 30; then
            kill "$pid" 2>/dev/null || true
            if ! wait_dead "$pid" 15; then
                kill -9 "$pid" 2>/dev/null || true
                wait_dead "$pid" 5 || { say "ActiveMQ pid $pid does not stop"; status=1; }
            fi
        fi
    fi
    rm -f "$ACTIVEMQ_PIDFILE"
fi

# Our processes are gone (or status is 1); a listener left on a default port belongs to
# something else, which is worth a word but not a failure.
for port in 61613 15674 61623 61633 62613 62614 62615; do
    if port_open "$port"; then
        say "note: 127.0.0.1:$port still accepts connections (not started by these scripts)"
    fi
done
exit "$status"

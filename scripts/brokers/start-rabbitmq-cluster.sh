#!/usr/bin/env bash
# Start a two-node RabbitMQ cluster (Debian package rabbitmq-server) for the failover
# tests, loopback only, beside the single node of start-rabbitmq.sh (which it leaves alone):
#   rabbit-a@localhost  STOMP 127.0.0.1:61623  AMQP 127.0.0.1:5682  distribution 127.0.0.1:25682
#   rabbit-b@localhost  STOMP 127.0.0.1:61633  AMQP 127.0.0.1:5692  distribution 127.0.0.1:25692
# (epmd 127.0.0.1:4369 is shared with every Erlang node on the machine.)  Each node has
# its own configuration, enabled-plugins file (rabbitmq_stomp only: no management, no
# Web-STOMP), data and log directories under $CLUSTER_BASE; both share an Erlang cookie
# of their own ($CLUSTER_BASE/.erlang.cookie).  rabbit-b joins rabbit-a with
# `rabbitmqctl join_cluster`.  Login guest/guest (loopback only), vhost "/".  A new quorum
# queue gets one replica, on the node it is declared through (see advanced.config below).
#
# Idempotent: when both nodes answer STOMP and form one cluster, it only prints the
# variables.  Otherwise it stops whatever is left of our nodes (by their pid files),
# starts both from empty data directories (test data only: a clean start avoids
# RabbitMQ's rule that the last node stopped must start first) and joins them.  Every
# wait is bounded ($CLUSTER_START_TIMEOUT s for a node to answer, default 60).
# Prints KEY=VALUE lines on stdout (nothing else goes to stdout); non-zero exit with the
# reason and the log tail on stderr.  Root only.  Stop with scripts/brokers/stop-all.sh.
set -euo pipefail
SCRIPT_NAME=start-rabbitmq-cluster
# shellcheck source=_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/_lib.sh"

# shellcheck source=_cluster_lib.sh
. "$BROKERS_DIR/_cluster_lib.sh"

need_root
started_ms=$(ms_now)

emit() {
    cat <<END
RABBITMQ_CLUSTER_HOST=127.0.0.1
RABBITMQ_CLUSTER_STOMP_PORTS=$(stomp_port a),$(stomp_port b)
RABBITMQ_CLUSTER_NODES=$(node_name a),$(node_name b)
RABBITMQ_CLUSTER_USER=guest
RABBITMQ_CLUSTER_PASSWORD=guest
RABBITMQ_CLUSTER_VHOST=/
RABBITMQ_CLUSTER_CTL=$BROKERS_DIR/rabbitmq-cluster-ctl.sh
END
}

# One cluster: node a's view lists both nodes as running.
clustered() {
    local status
    status="$(ctl a -q cluster_status --formatter json 2>/dev/null)" || return 1
    python3 -c '
import json, sys
running = set(json.loads(sys.argv[1]).get("running_nodes", []))
sys.exit(0 if set(sys.argv[2:]) <= running else 1)
' "$status" "$(node_name a)" "$(node_name b)"
}

# ---- 1. package ------------------------------------------------------------------
if ! is_installed rabbitmq-server; then
    install_packages rabbitmq-server
fi
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || fail "rabbitmq-server missing after the install"

# ---- 2. already up? ----------------------------------------------------------------
if node_answers a && node_answers b && clustered; then
    say "the cluster already answers STOMP on 127.0.0.1:$(stomp_port a) and :$(stomp_port b)"
    emit
    exit 0
fi

# ---- 3. stop what is left of an earlier run (by pid, bounded) ----------------------
for n in $NODES; do
    pid="$(node_pid "$n")"
    if alive "$pid"; then
        say "stopping $(node_name "$n") (pid $pid) before a clean start"
        ctl "$n" shutdown >&2 || true
        if ! wait_dead "$pid" 30; then
            kill "$pid" 2>/dev/null || true
            wait_dead "$pid" 15 || fail "$(node_name "$n") (pid $pid) does not stop"
        fi
    fi
done
for n in $NODES; do
    for port in "$(stomp_port "$n")" "$(amqp_port "$n")" "$(dist_port "$n")"; do
        port_open "$port" && fail "127.0.0.1:$port is taken by something else (not one of our nodes)"
    done
done

# ---- 4. configuration and empty data directories -----------------------------------
install -d -m 755 -o rabbitmq -g rabbitmq "$CLUSTER_BASE"
cookie="$CLUSTER_BASE/.erlang.cookie"
if [ ! -s "$cookie" ]; then
    python3 -c 'import secrets; print(secrets.token_hex(20).upper(), end="")' > "$cookie"
fi
chown rabbitmq:rabbitmq "$cookie"
chmod 400 "$cookie"
for n in $NODES; do
    dir="$CLUSTER_BASE/$n"
    rm -rf "$dir"
    install -d -o rabbitmq -g rabbitmq "$dir" "$dir/mnesia" "$dir/log"
    # Our variables come from node_env; an empty env file keeps /etc/rabbitmq's out.
    printf '# Written by scripts/brokers/%s.sh: see node_env there.\n' "$SCRIPT_NAME" \
        > "$dir/rabbitmq-env.conf"
    cat > "$dir/rabbitmq.conf" <<END
# Written by scripts/brokers/$SCRIPT_NAME.sh: node $(node_name "$n") of a test cluster,
# loopback only.
listeners.tcp.default = 127.0.0.1:$(amqp_port "$n")
loopback_users.guest = true
stomp.listeners.tcp.1 = 127.0.0.1:$(stomp_port "$n")
stomp.default_user = guest
stomp.default_pass = guest
END
    # A quorum queue needs a majority of its replicas: with two nodes, a queue on both
    # would stop when either node stops.  One replica per new quorum queue (on the node
    # that declares it: the default leader locator is client-local) keeps a queue
    # declared on the surviving node available.  RabbitMQ 3.10's STOMP adapter does not
    # pass x-quorum-initial-group-size, so this is the node-wide default instead.
    echo '[{rabbit, [{quorum_cluster_size, 1}]}].' > "$dir/advanced.config"
    echo '[rabbitmq_stomp].' > "$dir/enabled_plugins"
    chown rabbitmq:rabbitmq "$dir/rabbitmq-env.conf" "$dir/rabbitmq.conf" "$dir/advanced.config" \
        "$dir/enabled_plugins"
done

# ---- 5. start both nodes and wait for STOMP (bounded) -----------------------------
if ! epmd -names >/dev/null 2>&1; then
    su rabbitmq -s /bin/sh -c "ERL_EPMD_ADDRESS=127.0.0.1 epmd -address 127.0.0.1 -daemon" \
        || fail "could not start epmd on 127.0.0.1"
fi
for n in $NODES; do
    say "starting $(node_name "$n") (log $(log_file "$n"))"
    as_node "$n" timeout 60 /usr/lib/rabbitmq/bin/rabbitmq-server -detached >&2 \
        || fail "rabbitmq-server -detached failed for $(node_name "$n")"
done

for n in $NODES; do wait_node "$n"; done

# ---- 6. join b to a ----------------------------------------------------------------
say "joining $(node_name b) to $(node_name a)"
ctl b -q stop_app >&2 || fail "rabbitmqctl stop_app on $(node_name b) failed"
ctl b -q reset >&2 || fail "rabbitmqctl reset on $(node_name b) failed"
ctl b -q join_cluster "$(node_name a)" >&2 || fail "rabbitmqctl join_cluster failed"
ctl b -q start_app >&2 || fail "rabbitmqctl start_app on $(node_name b) failed"
wait_node b
clustered || fail "the nodes do not report one cluster after join_cluster"

pids=""
for n in $NODES; do pids="$pids $(node_pid "$n")"; done
# shellcheck disable=SC2086 # word splitting wanted: one argument per pid
no_public_listeners $pids

say "cluster ready after $(( ($(ms_now) - started_ms) / 1000 )) s: STOMP 127.0.0.1:$(stomp_port a) ($(node_name a)), 127.0.0.1:$(stomp_port b) ($(node_name b))"
emit

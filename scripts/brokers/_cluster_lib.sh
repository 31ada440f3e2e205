# Shared by the scripts that start, drive and stop the two-node test cluster.  Sourced
# after _lib.sh, never executed.
# shellcheck shell=bash

CLUSTER_BASE="${CLUSTER_BASE:-/var/lib/stomp-test-rabbitmq-cluster}"
CLUSTER_START_TIMEOUT="${CLUSTER_START_TIMEOUT:-60}"
NODES="a b"
export ERL_EPMD_ADDRESS=127.0.0.1

node_name() { echo "rabbit-$1@localhost"; }
stomp_port() { case "$1" in a) echo 61623 ;; b) echo 61633 ;; esac; }
amqp_port() { case "$1" in a) echo 5682 ;; b) echo 5692 ;; esac; }
dist_port() { case "$1" in a) echo 25682 ;; b) echo 25692 ;; esac; }

# node_env N: the environment of node N's server and of the CLI talking to it.
node_env() {
    local dir="$CLUSTER_BASE/$1"
    printf '%s\n' \
        "HOME=$CLUSTER_BASE" \
        "ERL_EPMD_ADDRESS=127.0.0.1" \
        "RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf" \
        "RABBITMQ_NODENAME=$(node_name "$1")" \
        "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1" \
        "RABBITMQ_NODE_PORT=$(amqp_port "$1")" \
        "RABBITMQ_DIST_PORT=$(dist_port "$1")" \
        "RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf" \
        "RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config" \
        "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins" \
        "RABBITMQ_MNESIA_BASE=$dir/mnesia" \
        "RABBITMQ_LOG_BASE=$dir/log" \
        "RABBITMQ_PID_FILE=$dir/rabbit.pid" \
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}" \
        "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
}

# as_node N CMD...: run CMD as the rabbitmq user in node N's environment.
as_node() {
    local n="$1" vars=()
    shift
    mapfile -t vars < <(node_env "$n")
    (cd "$CLUSTER_BASE" && runuser -u rabbitmq -- env "${vars[@]}" "$@")
}

# ctl N ARGS...: rabbitmqctl against node N, bounded.
ctl() {
    local n="$1"
    shift
    as_node "$n" timeout 60 /usr/lib/rabbitmq/bin/rabbitmqctl -n "$(node_name "$n")" "$@"
}

node_pid() { cat "$CLUSTER_BASE/$1/rabbit.pid" 2>/dev/null || true; }
log_file() { echo "$CLUSTER_BASE/$1/log/$(node_name "$1").log"; }

node_answers() {
    stomp_answers "$(stomp_port "$1")" --server RabbitMQ/ --login guest --passcode guest
}

# wait_node N: node N answers CONNECTED within $CLUSTER_START_TIMEOUT s, else fail.
wait_node() {
    local n="$1" deadline=$(( $(ms_now) + CLUSTER_START_TIMEOUT * 1000 )) pid
    until node_answers "$n"; do
        pid="$(node_pid "$n")"
        if [ -n "$pid" ] && ! alive "$pid"; then
            tail -n 40 "$(log_file "$n")" >&2 2>/dev/null || true
            fail "$(node_name "$n") died while starting (log: $(log_file "$n"))"
        fi
        if [ "$(ms_now)" -ge "$deadline" ]; then
            tail -n 40 "$(log_file "$n")" >&2 2>/dev/null || true
            fail "no CONNECTED from $(node_name "$n") within $CLUSTER_START_TIMEOUT s"
        fi
        sleep 0.5
    done
}

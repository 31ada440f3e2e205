#!/usr/bin/env bash
# Start RabbitMQ (Debian package rabbitmq-server) for the integration tests, loopback only:
#   STOMP      127.0.0.1:61613          plugin rabbitmq_stomp, STOMP 1.0 / 1.1 / 1.2
#   Web-STOMP  ws://127.0.0.1:15674/ws  plugin rabbitmq_web_stomp
#   (also listening, not for tests: AMQP 127.0.0.1:5672, Erlang distribution
#    127.0.0.1:25672, epmd 127.0.0.1:4369)
# Login guest/guest (allowed from loopback only, RabbitMQ's default); vhosts "/",
# "127.0.0.1" and "localhost": RabbitMQ reads the CONNECT `host` header as a vhost name
# and clients commonly send the address they dialled.
#
# Idempotent: installs the package when missing, rewrites the configuration, starts the
# node unless it already answers (a fresh start begins from an empty data directory of
# its own, $DATA_DIR: queues left by earlier runs would be recovered one by one and
# can keep the node booting for minutes), waits at most $BROKER_START_TIMEOUT s (default 120)
# for a real CONNECTED, then prints KEY=VALUE lines on stdout (nothing else goes to
# stdout).  Exit status non-zero on failure, with the reason and the log tail on stderr.
# Root only.  Stop with scripts/brokers/stop-all.sh.
set -euo pipefail
SCRIPT_NAME=start-rabbitmq
# shellcheck source=_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/_lib.sh"

STOMP_PORT=61613
WS_PORT=15674
AMQP_PORT=5672
DIST_PORT=25672
NODE=rabbit@localhost
LOG=/var/log/rabbitmq/$NODE.log
# Our own data directory, not Debian's /var/lib/rabbitmq/mnesia: emptied at every fresh
# start (see above); stop-all.sh reads the pid file from here.
DATA_DIR=/var/lib/stomp-test-rabbitmq
PIDFILE=$DATA_DIR/$NODE.pid
EXTRA_VHOSTS="127.0.0.1 localhost"
# Any epmd started from here (by us or by rabbitmq-server) binds loopback only.
export ERL_EPMD_ADDRESS=127.0.0.1

need_root
started_ms=$(ms_now)

emit() {
    cat <<END
RABBITMQ_HOST=127.0.0.1
RABBITMQ_STOMP_PORT=$STOMP_PORT
RABBITMQ_WS_URL=ws://127.0.0.1:$WS_PORT/ws
RABBITMQ_WS_PORT=$WS_PORT
RABBITMQ_USER=guest
RABBITMQ_PASSWORD=guest
RABBITMQ_VHOST=/
RABBITMQ_EXTRA_VHOSTS=${EXTRA_VHOSTS// /,}
END
}

ctl() { (cd /var/lib/rabbitmq && timeout 60 rabbitmqctl "$@"); }

# ---- 1. package ------------------------------------------------------------------
if ! is_installed rabbitmq-server; then
    install_packages rabbitmq-server
fi
command -v rabbitmq-server >/dev/null || fail "rabbitmq-server missing after the install"

# ---- 2. configuration (rewritten every time; loopback only) ---------------------
install -d -o rabbitmq -g rabbitmq /etc/rabbitmq
cat > /etc/rabbitmq/rabbitmq-env.conf <<END
# Written by scripts/brokers/$SCRIPT_NAME.sh.  A fixed node name keeps the data
# directory independent of the machine's hostname; the Erlang distribution listens on
# loopback only.
NODENAME=$NODE
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=$AMQP_PORT
DIST_PORT=$DIST_PORT
MNESIA_BASE=$DATA_DIR
PID_FILE=$PIDFILE
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
END
cat > /etc/rabbitmq/rabbitmq.conf <<END
# Written by scripts/brokers/$SCRIPT_NAME.sh: a test broker on loopback only.
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
loopback_users.guest = true
stomp.listeners.tcp.1 = 127.0.0.1:$STOMP_PORT
stomp.default_user = guest
stomp.default_pass = guest
web_stomp.tcp.ip = 127.0.0.1
web_stomp.tcp.port = $WS_PORT
END
chown rabbitmq:rabbitmq /etc/rabbitmq/rabbitmq-env.conf /etc/rabbitmq/rabbitmq.conf

ensure_vhosts() {
    local vh
    for vh in $EXTRA_VHOSTS; do
        # A CONNECT on the vhost is the cheapest check (rabbitmqctl boots a VM: ~1 s).
        stomp_answers "$STOMP_PORT" --server RabbitMQ/ --login guest --passcode guest --vhost "$vh" && continue
        say "creating vhost $vh (guest: all permissions)"
        ctl -q add_vhost "$vh" >&2 || true  # "already exists" is fine
        ctl -q set_permissions -p "$vh" guest ".*" ".*" ".*" >&2 \
            || fail "could not grant guest access to vhost $vh"
    done
}

# ---- 3. already up? ----------------------------------------------------------------
if stomp_answers "$STOMP_PORT" --server RabbitMQ/ --login guest --passcode guest; then
    say "RabbitMQ already answers STOMP on 127.0.0.1:$STOMP_PORT"
    ensure_vhosts
    emit
    exit 0
fi
if port_open "$STOMP_PORT"; then
    fail "127.0.0.1:$STOMP_PORT is taken by something that does not answer CONNECT like RabbitMQ"
fi

# ---- 4. plugins and start ----------------------------------------------------------
if ! grep -q 'rabbitmq_stomp' /etc/rabbitmq/enabled_plugins 2>/dev/null \
        || ! grep -q 'rabbitmq_web_stomp' /etc/rabbitmq/enabled_plugins 2>/dev/null; then
    say "enabling plugins rabbitmq_stomp, rabbitmq_web_stomp"
    (cd /var/lib/rabbitmq && timeout 60 rabbitmq-plugins enable --offline \
        rabbitmq_stomp rabbitmq_web_stomp >&2) || fail "rabbitmq-plugins enable failed"
fi
if ! epmd -names >/dev/null 2>&1; then
    su rabbitmq -s /bin/sh -c "ERL_EPMD_ADDRESS=127.0.0.1 epmd -address 127.0.0.1 -daemon" \
        || fail "could not start epmd on 127.0.0.1"
fi
rm -rf "$DATA_DIR"
install -d -o rabbitmq -g rabbitmq "$DATA_DIR"
# Debian's default limit (1024 descriptors) is below what RabbitMQ asks for; a node
# with many connections and queues then slows to a crawl instead of failing.
ulimit -n 65536 2>/dev/null || say "could not raise the open-file limit (now $(ulimit -n))"
say "starting the node (rabbitmq-server -detached; data $DATA_DIR; log $LOG)"
(cd /var/lib/rabbitmq && timeout 60 rabbitmq-server -detached >&2) \
    || fail "rabbitmq-server -detached failed"

# ---- 5. wait for a real CONNECTED (bounded) ---------------------------------------
deadline=$(( $(ms_now) + BROKER_START_TIMEOUT * 1000 ))
until stomp_answers "$STOMP_PORT" --server RabbitMQ/ --login guest --passcode guest; do
    if [ -s "$PIDFILE" ] && ! alive "$(cat "$PIDFILE" 2>/dev/null)"; then
        tail -n 40 "$LOG" >&2 2>/dev/null || true
        fail "the RabbitMQ node died while starting (log: $LOG)"
    fi
    if [ "$(ms_now)" -ge "$deadline" ]; then
        tail -n 40 "$LOG" >&2 2>/dev/null || true
        fail "no CONNECTED on 127.0.0.1:$STOMP_PORT within ${BROKER_START_TIMEOUT} s (log: $LOG)"
    fi
    sleep 0.5
done
# Web-STOMP starts with the node; allow it a few more seconds.
ws_deadline=$(( $(ms_now) + 15000 ))
until port_open "$WS_PORT"; do
    [ "$(ms_now)" -ge "$ws_deadline" ] && fail "Web-STOMP is not listening on 127.0.0.1:$WS_PORT"
    sleep 0.5
done
ensure_vhosts

pids="$(cat "$PIDFILE" 2>/dev/null || true)"
for p in $(pgrep -x epmd 2>/dev/null || true); do pids="$pids $p"; done
# shellcheck disable=SC2086 # word splitting wanted: one argument per pid
no_public_listeners $pids

say "RabbitMQ ready after $(( ($(ms_now) - started_ms) / 1000 )) s: STOMP 127.0.0.1:$STOMP_PORT, Web-STOMP ws://127.0.0.1:$WS_PORT/ws"
emit

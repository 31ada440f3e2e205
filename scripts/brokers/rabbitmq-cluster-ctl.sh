#!/usr/bin/env bash
# Drive one node of the test cluster of start-rabbitmq-cluster.sh (the failover tests
# call this to take a node away and bring it back):
#   rabbitmq-cluster-ctl.sh stop  a|b     rabbitmqctl stop_app: the node's listeners and
#                                         connections close, the Erlang VM stays up
#   rabbitmq-cluster-ctl.sh kill  a|b     SIGKILL the node's Erlang VM (a crash: nothing is
#                                         closed cleanly), wait (bounded) until it is gone
#   rabbitmq-cluster-ctl.sh start a|b     rabbitmqctl start_app, or boot the VM again if it
#                                         is gone, then wait (bounded) until the node
#                                         answers STOMP CONNECTED again
#   rabbitmq-cluster-ctl.sh ctl a|b ARGS  any other rabbitmqctl command against the node
# Root only.  Nothing on stdout but rabbitmqctl's own output for `ctl`.
set -euo pipefail
SCRIPT_NAME=rabbitmq-cluster-ctl
# shellcheck source=_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/_lib.sh"
# shellcheck source=_cluster_lib.sh
. "$BROKERS_DIR/_cluster_lib.sh"

[ "$(id -u)" = 0 ] || fail "run as root"
[ $# -ge 2 ] || fail "usage: $0 stop|kill|start|ctl a|b [rabbitmqctl arguments]"
action="$1" n="$2"
shift 2
case "$n" in a | b) ;; *) fail "unknown node '$n' (a or b)" ;; esac
case "$action" in
    stop) ctl "$n" -q stop_app >&2 ;;
    kill)
        pid="$(node_pid "$n")"
        alive "$pid" || fail "$(node_name "$n") is not running"
        kill -KILL "$pid"
        wait_dead "$pid" 15 || fail "$(node_name "$n") (pid $pid) survived SIGKILL"
        ;;
    start)
        if alive "$(node_pid "$n")"; then
            ctl "$n" -q start_app >&2
        else
            # The other node is still up, so this one rejoins the cluster as it boots.
            rm -f "$CLUSTER_BASE/$n/rabbit.pid"  # stale: wait_node would see it dead
            as_node "$n" timeout 60 /usr/lib/rabbitmq/bin/rabbitmq-server -detached >&2 \
                || fail "rabbitmq-server -detached failed for $(node_name "$n")"
        fi
        wait_node "$n"
        ;;
    ctl) ctl "$n" "$@" ;;
    *) fail "unknown action '$action' (stop, kill, start or ctl)" ;;
esac

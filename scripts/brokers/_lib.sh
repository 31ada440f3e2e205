# Helpers shared by the broker scripts in this folder.  Sourced, never executed.
# The caller sets SCRIPT_NAME first.  Progress and errors go to stderr: stdout is
# reserved for the KEY=VALUE lines that scripts/test.sh and CI `eval`.
# shellcheck shell=bash

BROKERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROBE="$BROKERS_DIR/stomp_probe.py"
# Upper bound for a broker to come up after it was launched (seconds).
BROKER_START_TIMEOUT="${BROKER_START_TIMEOUT:-120}"

say() { printf '[%s] %s\n' "$SCRIPT_NAME" "$*" >&2; }
fail() { printf '[%s] ERROR: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || fail "run as root: installs Debian packages and writes under /etc and /var"
    command -v python3 >/dev/null 2>&1 || fail "python3 is needed (readiness probe)"
}

ms_now() { date +%s%3N; }

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# Marker so that `apt-get update` runs at most once per boot across our scripts,
# even when both start scripts run one after the other.
APT_UPDATED_MARK=/run/stomp-test-brokers.apt-updated

apt_update_once() {
    [ -e "$APT_UPDATED_MARK" ] && return 0
    say "apt-get update (bounded: 300 s)"
    if timeout 300 apt-get update -q >&2; then
        mkdir -p "$(dirname "$APT_UPDATED_MARK")" && : > "$APT_UPDATED_MARK"
    else
        say "apt-get update failed or timed out; trying the install anyway"
    fi
}

# install_packages PKG...: apt-get install without starting any service.  Debian
# packages start their daemon on install with a default configuration that listens
# on every interface; a policy-rc.d answering 101 ("action forbidden") prevents that
# for the few seconds of the install.  Any pre-existing policy-rc.d is put back.
install_packages() {
    local policy=/usr/sbin/policy-rc.d saved="" rc=0 candidate
    if [ -e "$policy" ]; then
        saved="$(mktemp)"
        cp -p "$policy" "$saved"
    fi
    printf '#!/bin/sh\n# written by %s for the duration of an install\nexit 101\n' \
        "$SCRIPT_NAME" > "$policy"
    chmod 755 "$policy"
    export DEBIAN_FRONTEND=noninteractive
    candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
        apt_update_once
    fi
    say "apt-get install $* (bounded: 900 s)"
    if ! timeout 900 apt-get install -y -q --no-install-recommends \
            -o DPkg::Lock::Timeout=300 "$@" >&2; then
        # Stale package lists (404 on a superseded version): refresh once, retry once.
        rm -f "$APT_UPDATED_MARK"
        apt_update_once
        timeout 900 apt-get install -y -q --no-install-recommends \
            -o DPkg::Lock::Timeout=300 "$@" >&2 || rc=$?
    fi
    if [ -n "$saved" ]; then
        cp -p "$saved" "$policy"
        rm -f "$saved"
    else
        rm -f "$policy"
    fi
    [ "$rc" = 0 ] || fail "apt-get install $* failed (exit $rc)"
}

# stomp_answers PORT [probe args...]: one CONNECT attempt, CONNECTED within 3 s.
stomp_answers() {
    local port="$1"
    shift
    python3 "$PROBE" --host 127.0.0.1 --port "$port" --timeout 3 --quiet "$@" 2>/dev/null
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
    python3 -c '
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
except OSError:
    sys.exit(1)
' "$1" 2>/dev/null
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# wait_dead PID SECONDS: true once PID is gone, false if it outlived the bound.
wait_dead() {
    local deadline=$(( $(ms_now) + $2 * 1000 ))
    while alive "$1"; do
        [ "$(ms_now)" -ge "$deadline" ] && return 1
        sleep 0.2
    done
    return 0
}

# no_public_listeners PID...: fail if one of these processes listens on anything
# but loopback (the brokers must never be reachable from outside the machine).
no_public_listeners() {
    local bad
    command -v ss >/dev/null 2>&1 || return 0
    bad="$(ss -Hltnp 2>/dev/null | awk '{print $4, $6}' \
        | grep -E "pid=($(IFS='|'; echo "$*"))," \
        | awk '{print $1}' | grep -vE '^(127\.0\.0\.1|\[::1\]|\[::ffff:127\.0\.0\.1\]):' || true)"
    [ -z "$bad" ] || fail "non-loopback listener(s): $bad"
}

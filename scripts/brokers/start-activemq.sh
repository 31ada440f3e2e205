#!/usr/bin/env bash
# Start ActiveMQ Classic (Debian package activemq 5.17) for the integration tests, loopback
# only, as instance "stomp-test":
#   STOMP            127.0.0.1:62613 and [::1]:62613     STOMP 1.0 / 1.1 / 1.2
#   STOMP+SSL        127.0.0.1:62614   server authentication (certificate from make-certs.sh)
#   STOMP+SSL mTLS   127.0.0.1:62615   the client must present a certificate of the test CA
#   (also listening, not for tests: OpenWire 127.0.0.1:61616)
# No authentication plugin: any login is accepted (the tests use admin / password).
# No STOMP over WebSocket: Debian does not package activemq-http (use RabbitMQ's Web-STOMP).
#
# Idempotent: installs the package when missing, makes the certificates (make-certs.sh),
# rewrites the instance configuration, starts the broker unless it already answers (and
# restarts it when its certificates changed), waits at most $BROKER_START_TIMEOUT s
# (default 120) for a real CONNECTED on the plain and on both TLS ports, then prints
# KEY=VALUE lines on stdout (nothing else goes to stdout).  Root only.
# Stop with scripts/brokers/stop-all.sh.
set -euo pipefail
SCRIPT_NAME=start-activemq
# shellcheck source=_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/_lib.sh"

# The ports can be moved with the variables this script prints (e.g. when something else
# holds 62613); the defaults follow stomp.py's own test configuration.
STOMP_PORT=${ACTIVEMQ_STOMP_PORT:-62613}
SSL_PORT=${ACTIVEMQ_SSL_PORT:-62614}
MTLS_PORT=${ACTIVEMQ_MTLS_PORT:-62615}
OPENWIRE_PORT=61616
INSTANCE=stomp-test
CONF=/etc/activemq/instances-available/$INSTANCE
BASE=/var/lib/activemq/$INSTANCE
PIDFILE=/var/run/activemq/$INSTANCE.pid
CONSOLE_LOG=$BASE/console.log
STORE_PASSWORD=changeit  # protects nothing: test material

need_root
started_ms=$(ms_now)

# ---- 1. certificates and package -------------------------------------------------
certs="$(bash "$BROKERS_DIR/make-certs.sh")" || fail "make-certs.sh failed"
eval "$certs"
if ! is_installed activemq; then
    install_packages activemq
fi
[ -x /etc/init.d/activemq ] && [ -x /usr/bin/activemq ] \
    || fail "the activemq package is installed but its files are missing"

emit() {
    printf '%s\n' "$certs"
    cat <<END
ACTIVEMQ_HOST=127.0.0.1
ACTIVEMQ_STOMP_PORT=$STOMP_PORT
ACTIVEMQ_SSL_PORT=$SSL_PORT
ACTIVEMQ_MTLS_PORT=$MTLS_PORT
ACTIVEMQ_USER=admin
ACTIVEMQ_PASSWORD=password
END
}

# Java 17 is what ActiveMQ 5.17 is built for; fall back to the default `java`.
JAVA_HOME=""
for d in /usr/lib/jvm/java-17-openjdk-*; do
    if [ -x "$d/bin/java" ]; then JAVA_HOME="$d"; break; fi
done
if [ -z "$JAVA_HOME" ]; then
    java_bin="$(readlink -f "$(command -v java || true)" 2>/dev/null || true)"
    [ -n "$java_bin" ] || fail "no Java runtime (apt-get install default-jre-headless)"
    JAVA_HOME="$(dirname "$(dirname "$java_bin")")"
fi
KEYTOOL="$JAVA_HOME/bin/keytool"
[ -x "$KEYTOOL" ] || KEYTOOL="$(command -v keytool)" || fail "keytool not found"

# ---- 2. instance configuration (rewritten every time; loopback only) -------------
install -d "$CONF"
install -d -o activemq "$BASE" "$BASE/tmp"

# Key store from make-certs.sh; trust store = the test CA (for the mTLS port).  When
# either changes, a running broker must be restarted to see it.
certs_changed=0
if ! cmp -s "$STOMP_TEST_BROKER_P12" "$CONF/broker.p12"; then
    install -m 600 -o activemq "$STOMP_TEST_BROKER_P12" "$CONF/broker.p12"
    certs_changed=1
fi
if ! cmp -s "$STOMP_TEST_CA" "$CONF/trusted-ca.pem" || [ ! -s "$CONF/truststore.p12" ]; then
    rm -f "$CONF/truststore.p12"
    "$KEYTOOL" -importcert -noprompt -alias stomp-test-ca -file "$STOMP_TEST_CA" \
        -keystore "$CONF/truststore.p12" -storetype pkcs12 -storepass "$STORE_PASSWORD" \
        >/dev/null 2>&1 || fail "keytool could not make the trust store"
    install -m 644 "$STOMP_TEST_CA" "$CONF/trusted-ca.pem"
    chown activemq "$CONF/truststore.p12"
    certs_changed=1
fi

cat > "$CONF/activemq.xml" <<END
<!-- Written by scripts/brokers/$SCRIPT_NAME.sh: STOMP test broker, loopback only. -->
<beans
  xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">

  <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>

  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="stomp-test"
          useJmx="false" dataDirectory="\${activemq.base}/data">

    <persistenceAdapter>
      <kahaDB directory="\${activemq.base}/data/kahadb"/>
    </persistenceAdapter>

    <!-- Memory limit well below the heap: big bodies spool to disk instead of
         exhausting the JVM. -->
    <systemUsage>
      <systemUsage>
        <memoryUsage><memoryUsage limit="128 mb"/></memoryUsage>
        <storeUsage><storeUsage limit="4 gb"/></storeUsage>
        <tempUsage><tempUsage limit="4 gb"/></tempUsage>
      </systemUsage>
    </systemUsage>

    <!-- The default queue prefetch (1000) of 1 MiB messages does not fit the heap. -->
    <destinationPolicy>
      <policyMap>
        <policyEntries>
          <policyEntry queue="&gt;" queuePrefetch="200"/>
        </policyEntries>
      </policyMap>
    </destinationPolicy>

    <sslContext>
      <sslContext keyStore="file:\${activemq.conf}/broker.p12" keyStoreType="pkcs12"
                  keyStorePassword="$STORE_PASSWORD"
                  trustStore="file:\${activemq.conf}/truststore.p12" trustStoreType="pkcs12"
                  trustStorePassword="$STORE_PASSWORD"/>
    </sslContext>

    <transportConnectors>
      <transportConnector name="openwire" uri="tcp://127.0.0.1:$OPENWIRE_PORT"/>
      <transportConnector name="stomp" uri="stomp://127.0.0.1:$STOMP_PORT?transport.closeAsync=false"/>
      <transportConnector name="stomp-ipv6" uri="stomp://[::1]:$STOMP_PORT?transport.closeAsync=false"/>
      <transportConnector name="stomp-ssl" uri="stomp+ssl://127.0.0.1:$SSL_PORT?transport.closeAsync=false"/>
      <transportConnector name="stomp-mtls" uri="stomp+ssl://127.0.0.1:$MTLS_PORT?transport.closeAsync=false&amp;transport.needClientAuth=true"/>
    </transportConnectors>
  </broker>
</beans>
END

# The JVM resolves host names from this file only (-Djdk.net.hosts.file), never through
# DNS: without it ActiveMQ reverse-resolves ::1 and the hostname, and a query leaves
# the machine.
cat > "$CONF/jvm-hosts" <<END
127.0.0.1 localhost $(hostname 2>/dev/null || echo localhost)
::1 localhost ip6-localhost ip6-loopback
END

# /usr/bin/activemq reads the instance's options file instead of the package default.
cat > "$CONF/options" <<END
# Written by scripts/brokers/$SCRIPT_NAME.sh
STARTTIME=1
ACTIVEMQ_BASE="$BASE"
JAVA_HOME="$JAVA_HOME"
ACTIVEMQ_OPTS="-Xms64M -Xmx2G -Djava.net.preferIPv4Stack=false -Djdk.net.hosts.file=$CONF/jvm-hosts -Dorg.apache.activemq.UseDedicatedTaskRunner=true"
ACTIVEMQ_ARGS="start xbean:activemq.xml"
ACTIVEMQ_OUT="$CONSOLE_LOG"
END

# Debian's ActiveMQ logs through log4j 1.2 (log4j.properties in the instance directory).
cat > "$CONF/log4j.properties" <<END
# Written by scripts/brokers/$SCRIPT_NAME.sh
log4j.rootLogger=INFO, console
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d | %-5p | %m | %c | %t%n
END

install -d /etc/activemq/instances-enabled
ln -sfn "../instances-available/$INSTANCE" "/etc/activemq/instances-enabled/$INSTANCE"

all_ports_answer() {
    stomp_answers "$STOMP_PORT" --server ActiveMQ/ --login admin --passcode password \
        && stomp_answers "$SSL_PORT" --server ActiveMQ/ --login admin --passcode password \
            --tls --cafile "$STOMP_TEST_CA" \
        && stomp_answers "$MTLS_PORT" --server ActiveMQ/ --login admin --passcode password \
            --tls --cafile "$STOMP_TEST_CA" \
            --certfile "$STOMP_TEST_CLIENT_CERT" --keyfile "$STOMP_TEST_CLIENT_KEY"
}

stop_instance() {
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    timeout 60 /etc/init.d/activemq stop "$INSTANCE" >&2 || true
    if alive "$pid" && ! wait_dead "$pid" 30; then
        kill "$pid" 2>/dev/null || true
        wait_dead "$pid" 15 || fail "ActiveMQ (pid $pid) does not stop"
    fi
    rm -f "$PIDFILE"
}

# ---- 3. already up? ----------------------------------------------------------------
if [ "$certs_changed" = 0 ] && all_ports_answer; then
    say "ActiveMQ already answers on 127.0.0.1:$STOMP_PORT, :$SSL_PORT and :$MTLS_PORT"
    emit
    exit 0
fi
if alive "$(cat "$PIDFILE" 2>/dev/null || true)"; then
    say "restarting ActiveMQ (new certificates, or a port does not answer)"
    stop_instance
fi
for port in "$STOMP_PORT" "$SSL_PORT" "$MTLS_PORT"; do
    if port_open "$port"; then
        fail "127.0.0.1:$port is taken by something that is not our ActiveMQ instance"
    fi
done
rm -f "$PIDFILE"  # a stale pid file makes start-stop-daemon refuse to start
# Every fresh start begins with an empty message store: persistent messages and
# destinations left by earlier runs would otherwise be replayed at start-up.
rm -rf "$BASE/data"

# ---- 4. start (Debian's SysV script: runs the JVM as user activemq, no systemd) ----
: > "$CONSOLE_LOG"
chown activemq "$CONSOLE_LOG"
say "starting ActiveMQ instance $INSTANCE (console log $CONSOLE_LOG)"
timeout 60 /etc/init.d/activemq start "$INSTANCE" >&2 || fail "/etc/init.d/activemq start failed"

# ---- 5. wait for a real CONNECTED (bounded) ---------------------------------------
deadline=$(( $(ms_now) + BROKER_START_TIMEOUT * 1000 ))
until all_ports_answer; do
    if [ -s "$PIDFILE" ] && ! alive "$(cat "$PIDFILE")"; then
        tail -n 40 "$CONSOLE_LOG" >&2 2>/dev/null || true
        fail "the ActiveMQ JVM died while starting (log: $CONSOLE_LOG)"
    fi
    if [ "$(ms_now)" -ge "$deadline" ]; then
        tail -n 40 "$CONSOLE_LOG" >&2 2>/dev/null || true
        fail "no CONNECTED on ports $STOMP_PORT/$SSL_PORT/$MTLS_PORT within ${BROKER_START_TIMEOUT} s"
    fi
    sleep 0.5
done
no_public_listeners "$(cat "$PIDFILE")"

say "ActiveMQ ready after $(( ($(ms_now) - started_ms) / 1000 )) s: STOMP 127.0.0.1:$STOMP_PORT, STOMP+SSL :$SSL_PORT, mTLS :$MTLS_PORT"
emit

#!/usr/bin/env bash
# Make the TLS material of the integration tests (throw-away, test-only keys):
#   ca.pem / ca.key               the test CA ("STOMP test CA")
#   broker.pem / broker.key       broker certificate for localhost, 127.0.0.1 and ::1, signed
#                                 by the test CA; broker.p12 = key + chain for ActiveMQ
#   client.pem / client.key       client certificate (clientAuth), signed by the test CA
#   expired.pem / expired.key     signed by the test CA for the same names as the broker, but
#                                 valid only from 2020-01-01 to 2020-01-02
#   wrong-ca.pem / wrong-ca.key   a second CA that signed nothing we use (the "wrong CA" case)
# in $STOMP_TEST_CERT_DIR (default /var/lib/stomp-test-certs).
#
# Idempotent: keeps existing material while the broker certificate verifies against the
# CA and stays valid for at least 30 more days; otherwise makes everything anew.
# Prints KEY=VALUE lines on stdout (STOMP_TEST_CA, ...); progress on stderr.
# Needs openssl; root only when the directory needs root.
set -euo pipefail
SCRIPT_NAME=make-certs
# shellcheck source=_lib.sh
. "$(cd "$(dirname "$0")" && pwd)/_lib.sh"

DIR="${STOMP_TEST_CERT_DIR:-/var/lib/stomp-test-certs}"
# Password of broker.p12, which the JVM needs; it protects nothing (test material).
P12_PASSWORD=changeit

emit() {
    cat <<END
STOMP_TEST_CERT_DIR=$DIR
STOMP_TEST_CA=$DIR/ca.pem
STOMP_TEST_WRONG_CA=$DIR/wrong-ca.pem
STOMP_TEST_BROKER_CERT=$DIR/broker.pem
STOMP_TEST_BROKER_KEY=$DIR/broker.key
STOMP_TEST_BROKER_P12=$DIR/broker.p12
STOMP_TEST_CLIENT_CERT=$DIR/client.pem
STOMP_TEST_CLIENT_KEY=$DIR/client.key
STOMP_TEST_EXPIRED_CERT=$DIR/expired.pem
STOMP_TEST_EXPIRED_KEY=$DIR/expired.key
END
}

if ! command -v openssl >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || fail "openssl is needed (apt-get install openssl)"
    install_packages openssl
fi

up_to_date() {
    local f
    for f in ca.pem ca.key broker.pem broker.key broker.p12 client.pem client.key \
            expired.pem expired.key wrong-ca.pem wrong-ca.key; do
        [ -s "$DIR/$f" ] || return 1
    done
    openssl verify -CAfile "$DIR/ca.pem" "$DIR/broker.pem" "$DIR/client.pem" >/dev/null 2>&1 \
        && openssl x509 -checkend $(( 30 * 86400 )) -noout -in "$DIR/broker.pem" >/dev/null \
        && openssl x509 -checkend $(( 30 * 86400 )) -noout -in "$DIR/client.pem" >/dev/null
}

if up_to_date; then
    say "certificates in $DIR are current"
    emit
    exit 0
fi

say "making test certificates in $DIR"
install -d -m 755 "$DIR"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# new_ca NAME CN: a self-signed CA, valid 10 years.
new_ca() {
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/O=stomp-sansio tests/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$work/$1.key" -out "$work/$1.pem" 2>/dev/null \
        || fail "openssl: could not make CA $1"
}

# sign NAME CN EXTENSIONS [openssl ca date options...]: key + certificate signed by the
# test CA.  `openssl ca` (not `x509 -req`) because OpenSSL 3.0 can only back-date there.
sign() {
    local name="$1" cn="$2" ext="$3"
    shift 3
    openssl req -new -newkey rsa:2048 -nodes -subj "/O=stomp-sansio tests/CN=$cn" \
        -keyout "$work/$name.key" -out "$work/$name.csr" 2>/dev/null \
        || fail "openssl: could not make the key of $name"
    printf '%s\n' "$ext" > "$work/$name.ext"
    openssl ca -batch -notext -config "$work/ca.cnf" -extfile "$work/$name.ext" \
        -in "$work/$name.csr" -out "$work/$name.pem" "$@" 2>"$work/$name.log" \
        || { cat "$work/$name.log" >&2; fail "openssl ca: could not sign $name"; }
}

new_ca ca "STOMP test CA"
new_ca wrong-ca "STOMP unrelated CA"

mkdir -p "$work/db/new"
: > "$work/db/index.txt"
cat > "$work/ca.cnf" <<END
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $work/db
database = \$dir/index.txt
new_certs_dir = \$dir/new
rand_serial = yes
certificate = $work/ca.pem
private_key = $work/ca.key
default_md = sha256
default_days = 3650
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
organizationName = optional
commonName = supplied
END

server_ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
client_ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

sign broker localhost "$server_ext"
sign client stomp-test-client "$client_ext"
# Expired: usable as a broker certificate (same names) and as a client certificate.
sign expired localhost "$server_ext" -startdate 20200101000000Z -enddate 20200102000000Z

# ActiveMQ (Java) reads a PKCS#12 key store: the broker key with its chain.
openssl pkcs12 -export -name broker -inkey "$work/broker.key" -in "$work/broker.pem" \
    -certfile "$work/ca.pem" -passout "pass:$P12_PASSWORD" -out "$work/broker.p12" \
    || fail "openssl pkcs12: could not make broker.p12"

for f in ca wrong-ca broker client expired; do
    install -m 644 "$work/$f.pem" "$DIR/$f.pem"
    # Test-only keys, readable by whoever runs the tests.
    install -m 644 "$work/$f.key" "$DIR/$f.key"
done
install -m 644 "$work/broker.p12" "$DIR/broker.p12"
openssl verify -CAfile "$DIR/ca.pem" "$DIR/broker.pem" "$DIR/client.pem" >/dev/null \
    || fail "the new certificates do not verify against the new CA"
emit

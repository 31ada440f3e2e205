"""STOMP over TLS with a client certificate (mutual TLS), with stomp_asyncio.

The client checks the broker's certificate against ``--ca`` (and its host name), and
presents its own certificate ``--cert``/``--key``, which a broker configured for mutual
TLS requires.  With ``--embedded`` the program first starts the embedded broker with a
server context that requires client certificates of the same CA.

    python docs/recipes/tls_client_cert.py --host 127.0.0.1 --port 62615 \\
        --login admin --passcode password --ca ca.pem --cert client.pem --key client.key
    python docs/recipes/tls_client_cert.py --embedded --ca ca.pem --cert client.pem \\
        --key client.key --broker-cert broker.pem --broker-key broker.key
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import uuid

import stomp_asyncio
from stomp_broker import Broker


def client_context(ca: str, cert: str, key: str) -> ssl.SSLContext:
    """Verify the broker against ``ca`` (host name included); present ``cert``."""
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    return context


def broker_context(ca: str, cert: str, key: str) -> ssl.SSLContext:
    """The embedded broker's side: its own certificate, and client certificates required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca)
    context.load_cert_chain(cert, key)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


async def round_trip(args: argparse.Namespace, host: str, port: int) -> None:
    """Connect over mutual TLS, send one message to ourselves and receive it."""
    queue = f"/queue/recipes.tls-{uuid.uuid4().hex}"
    async with stomp_asyncio.open_connection(
        [(host, port)],
        ssl=client_context(args.ca, args.cert, args.key),
        login=args.login,
        passcode=args.passcode,
        vhost=args.vhost,
        reconnect=None,  # a refused certificate is final: fail at once, do not retry
    ) as client:
        print(f"connected over TLS to {host}:{port} with STOMP {client.version}")
        async with client.subscribe(queue, receipt=True) as subscription:
            await client.send(queue, "sealed", receipt=True)
            message = await subscription.get(timeout=10)
            print(f"received {message.text!r} over TLS")


async def main(args: argparse.Namespace) -> None:
    if not args.embedded:
        await round_trip(args, args.host, args.port)
        return
    server_ssl = broker_context(args.ca, args.broker_cert, args.broker_key)
    async with Broker(host="127.0.0.1", port=0, ssl=server_ssl) as broker:
        print(f"embedded broker with mutual TLS on {broker.host}:{broker.port}")
        await round_trip(args, broker.host, broker.port)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Broker address, credentials and PEM files from the command line or STOMP_* variables."""
    env = os.environ.get
    certs = env("STOMP_TEST_CERT_DIR", "/var/lib/stomp-test-certs")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env("STOMP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("STOMP_PORT", "62615")))
    parser.add_argument("--login", default=env("STOMP_LOGIN", "admin"))
    parser.add_argument("--passcode", default=env("STOMP_PASSCODE", "password"))
    parser.add_argument("--vhost", default=env("STOMP_VHOST"))
    parser.add_argument("--ca", default=f"{certs}/ca.pem")
    parser.add_argument("--cert", default=f"{certs}/client.pem")
    parser.add_argument("--key", default=f"{certs}/client.key")
    parser.add_argument("--embedded", action="store_true", help="start an embedded broker")
    parser.add_argument("--broker-cert", default=f"{certs}/broker.pem")
    parser.add_argument("--broker-key", default=f"{certs}/broker.key")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))

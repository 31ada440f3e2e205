#!/usr/bin/env python3
"""Readiness probe for the test brokers: wait until a STOMP CONNECT gets CONNECTED.

Standard library only, so the broker scripts need nothing but ``python3``.  It sends
one STOMP 1.2 CONNECT (spec 1.2 "Connecting") and succeeds when the first frame back
is CONNECTED; an ERROR frame, garbage, EOF or a timeout means "not ready yet".  With
``--wait`` it retries until the deadline (brokers refuse connections, or answer ERROR,
while they boot).  Every socket operation has a timeout, so the probe always ends.

Usage::

    stomp_probe.py --port 61613 [--host 127.0.0.1] [--login guest --passcode guest]
                   [--vhost /] [--tls --cafile CA.pem [--certfile C --keyfile K]]
                   [--server RabbitMQ/] [--timeout 3] [--wait 0] [--quiet]

Exit status 0 when CONNECTED arrived, 1 otherwise (the last failure on stderr).  Only
ever talks to the address it is given; the scripts pass loopback addresses only.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import ssl
import sys
import time

__all__ = ["main", "probe"]


def _connect_frame(vhost: str, login: str | None, passcode: str | None) -> bytes:
    # Heart-beats off: the probe lives for one round trip only.
    lines = ["CONNECT", "accept-version:1.0,1.1,1.2", f"host:{vhost}", "heart-beat:0,0"]
    if login is not None:
        lines.append(f"login:{login}")
    if passcode is not None:
        lines.append(f"passcode:{passcode}")
    return ("\n".join(lines) + "\n\n").encode() + b"\x00"


def probe(
    host: str,
    port: int,
    *,
    vhost: str = "/",
    login: str | None = None,
    passcode: str | None = None,
    tls: ssl.SSLContext | None = None,
    timeout: float = 3.0,
    server: str | None = None,
) -> str:
    """Send one CONNECT and return the CONNECTED frame's header block.

    ``server``, if given, must start the CONNECTED ``server`` header (e.g. ``ActiveMQ/``):
    something else answering on the broker's port is not the broker.

    Raises:
        OSError: the connection failed, closed early, timed out, or the broker
            answered something other than CONNECTED (from the expected server).
    """
    deadline = time.monotonic() + timeout
    raw = socket.create_connection((host, port), timeout=timeout)
    sock: socket.socket = raw
    try:
        if tls is not None:
            sock = tls.wrap_socket(raw, server_hostname=host)
        sock.sendall(_connect_frame(vhost, login, passcode))
        buffer = b""
        while b"\x00" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete frame within {timeout:.1f} s")
            sock.settimeout(remaining)
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed before a whole frame arrived: {buffer[:200]!r}")
            buffer += chunk
        # Heart-beat EOLs may precede the frame (spec 1.2 "Heart-beating").
        head = buffer.split(b"\x00", 1)[0].lstrip(b"\r\n").decode("utf-8", "replace")
        command = head.split("\n", 1)[0].strip()
        if command != "CONNECTED":
            raise ConnectionError(f"broker answered {command}: {head[:300]!r}")
        if server is not None:
            names = [line[7:] for line in head.split("\n") if line.startswith("server:")]
            if not names or not names[0].startswith(server):
                found = names[0] if names else "no server header"
                raise ConnectionError(f"CONNECTED from {found!r}, not {server!r}")
        # The answer is what counted; a hasty close after it does not matter.
        with contextlib.suppress(OSError):
            sock.sendall(b"DISCONNECT\n\n\x00")
        return head
    finally:
        sock.close()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--vhost", default="/")
    parser.add_argument("--login")
    parser.add_argument("--passcode")
    parser.add_argument("--tls", action="store_true", help="TLS with certificate verification")
    parser.add_argument("--cafile", help="CA certificate (PEM) that must have signed the broker's")
    parser.add_argument("--certfile", help="client certificate (PEM)")
    parser.add_argument("--keyfile", help="client private key (PEM)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per attempt")
    parser.add_argument("--wait", type=float, default=0.0, help="keep retrying this many seconds")
    parser.add_argument("--server", help="required start of the CONNECTED server header")
    parser.add_argument("--quiet", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parse_args(argv)
    context: ssl.SSLContext | None = None
    if args.tls:
        context = ssl.create_default_context(cafile=args.cafile)
        if args.certfile:
            context.load_cert_chain(args.certfile, args.keyfile)
    deadline = time.monotonic() + args.wait
    while True:
        try:
            head = probe(
                args.host,
                args.port,
                vhost=args.vhost,
                login=args.login,
                passcode=args.passcode,
                tls=context,
                timeout=args.timeout,
                server=args.server,
            )
        except OSError as exc:
            failure = exc
        else:
            if not args.quiet:
                print(head.replace("\n", " | "), file=sys.stderr)
            return 0
        if time.monotonic() >= deadline:
            print(
                f"stomp_probe: {args.host}:{args.port} did not answer CONNECT: {failure}",
                file=sys.stderr,
            )
            return 1
        time.sleep(0.25)  # bounded by the deadline above; a broker booting needs time


if __name__ == "__main__":
    sys.exit(main())

"""``stomp-broker`` / ``python -m stomp_broker``: run the embedded broker until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import ssl
import sys
from collections.abc import Sequence

from ._broker import Broker
from ._budget import DEFAULT_LIMITS

__all__ = ["main"]


def _heart_beat(value: str) -> tuple[int, int]:
    try:
        sx, sy = (int(part) for part in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'sx,sy' in milliseconds, got {value!r}"
        ) from None
    if sx < 0 or sy < 0:
        raise argparse.ArgumentTypeError("heart-beat intervals cannot be negative")
    return (sx, sy)


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _size(value: str) -> int:
    """A byte count: digits with an optional binary unit (``K``, ``M``, ``G``)."""
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    number = text[: len(text) - len(unit)]
    if not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive byte count like 128M, got {value!r}")
    return int(number) * _UNITS[unit]


def _count(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return int(value)


def _mib(name: str) -> str:
    return f"{DEFAULT_LIMITS[name] // 1024**2}M"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stomp-broker",
        description="Run the embedded STOMP broker (development and tests; Ctrl-C stops it).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=61613, help="port (0 picks a free one)")
    parser.add_argument(
        "--ws-port", type=int, help="also serve STOMP over WebSocket on this port (needs wsproto)"
    )
    parser.add_argument("--login", help="require this login (with --passcode)")
    parser.add_argument("--passcode", help="the passcode that goes with --login")
    parser.add_argument(
        "--heart-beat",
        type=_heart_beat,
        metavar="SX,SY",
        help="the broker's heart-beat offer in ms (default: mirror each client's wish)",
    )
    parser.add_argument("--ssl-cert", metavar="PEM", help="listen with TLS using this certificate")
    parser.add_argument("--ssl-key", metavar="PEM", help="the certificate's private key")
    limits = parser.add_argument_group(
        "broker-wide limits", "what all connections together may make the broker hold"
    )
    limits.add_argument(
        "--max-connections",
        type=_count,
        metavar="N",
        default=DEFAULT_LIMITS["max_connections"],
        help="open connections (default: %(default)s)",
    )
    limits.add_argument(
        "--max-inflight-bytes",
        type=_size,
        metavar="SIZE",
        default=DEFAULT_LIMITS["max_inflight_bytes"],
        help=f"bytes of partly received frames (default: {_mib('max_inflight_bytes')})",
    )
    limits.add_argument(
        "--max-stored-bytes",
        type=_size,
        metavar="SIZE",
        default=DEFAULT_LIMITS["max_stored_bytes"],
        help=f"bytes of messages kept for consumers (default: {_mib('max_stored_bytes')})",
    )
    limits.add_argument(
        "--max-subscriptions",
        type=_count,
        metavar="N",
        default=DEFAULT_LIMITS["max_subscriptions"],
        help="live subscriptions (default: %(default)s)",
    )
    limits.add_argument(
        "--max-subscriptions-per-connection",
        type=_count,
        metavar="N",
        default=DEFAULT_LIMITS["max_subscriptions_per_connection"],
        help="live subscriptions of one connection (default: %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    return parser


async def _serve(broker: Broker) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with broker:
            print(f"stomp-broker listening on {broker.host}:{broker.port}", flush=True)
            if broker.ws_port is not None:
                print(f"stomp-broker WebSocket on {broker.host}:{broker.ws_port}", flush=True)
            await stop.wait()
            print("stomp-broker stopping", flush=True)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the broker until SIGINT (Ctrl-C) or SIGTERM; return the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if (args.login is None) != (args.passcode is None):
        print("stomp-broker: --login and --passcode go together", file=sys.stderr)
        return 2
    context = None
    if args.ssl_cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.ssl_cert, args.ssl_key)
    broker = Broker(
        args.host,
        args.port,
        ssl=context,
        ws_port=args.ws_port,
        users={args.login: args.passcode} if args.login is not None else None,
        heart_beat=args.heart_beat,
        max_connections=args.max_connections,
        max_inflight_bytes=args.max_inflight_bytes,
        max_stored_bytes=args.max_stored_bytes,
        max_subscriptions=args.max_subscriptions,
        max_subscriptions_per_connection=args.max_subscriptions_per_connection,
    )
    try:
        asyncio.run(_serve(broker))
    except OSError as exc:
        print(f"stomp-broker: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

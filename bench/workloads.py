"""Byte streams shared by the parser benchmarks (stdlib only: stomp.py's venv imports it).

Every workload is a list of chunks, the way a socket would deliver them, prepared
before the clock starts so that only parsing is timed.
"""

from __future__ import annotations

import random

KIB = 1024
MIB = 1024 * 1024

#: The chunk sizes the large-body workloads are fed in.
BODY_CHUNKS = (("1KiB", KIB), ("64KiB", 64 * KIB), ("1MiB", MIB))


def message_frame(index: int, body: bytes) -> bytes:
    """A MESSAGE frame the way a broker sends it: 6 headers, content-length included."""
    head = (
        "MESSAGE\n"
        "destination:/queue/bench.parser\n"
        f"message-id:ID:broker-42-1700000000000-1:1:1:1:{index}\n"
        "subscription:sub-0\n"
        f"ack:ack-{index}\n"
        "content-type:text/plain;charset=utf-8\n"
        f"content-length:{len(body)}\n"
        "\n"
    )
    return head.encode("ascii") + body + b"\x00\n"


def small_frames_stream(count: int, body_size: int = 100) -> bytes:
    """``count`` MESSAGE frames with a ``body_size``-byte text body, each followed by an EOL."""
    body = (b"0123456789abcdefghijklmnopqrstuvwxyz" * (body_size // 36 + 1))[:body_size]
    return b"".join(message_frame(i, body) for i in range(count))


def large_body_stream(size: int, seed: int = 1) -> bytes:
    """One MESSAGE frame whose body is ``size`` random bytes (NULs included)."""
    rng = random.Random(seed)
    # randbytes() is limited to 2**31 bits per call: build big bodies in pieces.
    body = b"".join(rng.randbytes(min(16 * MIB, size - i)) for i in range(0, size, 16 * MIB))
    return message_frame(0, body)


def chunked(data: bytes, chunk_size: int) -> list[bytes]:
    """``data`` cut into ``chunk_size`` pieces (the last one shorter)."""
    return [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]

"""End-to-end send throughput of the blocking driver against stomp.py.

Runs under either package: ``import stomp`` picks up this project's driver in the
project's Python, and stomp.py in ``bench/.venv-stomppy`` (see ``run_send_bench.sh``).
A sink server on 127.0.0.1, in a child process so that its work is not counted, answers
CONNECT with CONNECTED and DISCONNECT with its RECEIPT, and discards the rest.  The
figure is the client's own cost per SEND (100-byte body, no receipts, no listeners;
without and with extra headers): CPU time of every thread of the client process (the
library's background threads included) over the sends.

    python bench/send_bench.py [COUNT]
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import stomp

_DISCONNECT = re.compile(rb"DISCONNECT\n([^\x00]*)\x00")


def sink() -> None:
    """The child: accept one client, answer CONNECT, count SEND frames until EOF."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    print(server.getsockname()[1], flush=True)
    server.settimeout(60)
    conn, _ = server.accept()
    with conn:
        data = b""
        while b"\x00" not in data:
            data += conn.recv(65536)
        conn.sendall(b"CONNECTED\nversion:1.1\n\n\x00")
        total = 0
        tail = b""
        recent = b""
        answered = False
        while chunk := conn.recv(1 << 20):
            # A command line may straddle two reads: keep the last few bytes.
            window = tail + chunk
            total += window.count(b"SEND\n")
            tail = window[-4:]
            # Answer DISCONNECT's receipt, so that neither client waits for it.
            recent = (recent + chunk)[-1024:]
            found = _DISCONNECT.search(recent)
            if found and not answered:
                receipt = re.search(rb"(?m)^receipt:(.*)$", found.group(1))
                if receipt:
                    conn.sendall(b"RECEIPT\nreceipt-id:" + receipt.group(1) + b"\n\n\x00")
                answered = True
    print(total, flush=True)


#: The workloads: extra headers on each SEND (none; two, as applications often add).
WORKLOADS: dict[str, dict[str, str] | None] = {
    "no extra headers": None,
    "2 extra headers": {"persistent": "true", "app-id": "bench"},
}


def measure(count: int, headers: dict[str, str] | None) -> tuple[float, float, str]:
    """Send ``count`` SENDs to a fresh sink; (msg/s wall, us CPU per send, sink count)."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--sink"], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    port = int(child.stdout.readline())
    conn = stomp.Connection([("127.0.0.1", port)], vhost="/")
    conn.connect(wait=True)
    body = "x" * 100
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        conn.send(destination="/queue/bench", body=body, headers=headers)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    conn.disconnect()
    try:
        counted = child.communicate(timeout=60)[0].strip()
    except subprocess.TimeoutExpired:
        child.kill()
        counted = "?"
    return count / wall, cpu / count * 1e6, counted


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    for label, headers in WORKLOADS.items():
        rate, cpu, counted = measure(count, headers)
        print(
            f"{stomp.__name__} {getattr(stomp, '__version__', '?')}, {label}: "
            f"{count} SENDs, {rate:,.0f} msg/s wall, {cpu:.1f} us CPU per send "
            f"(sink counted {counted})"
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["--sink"]:
        sink()
    else:
        main()

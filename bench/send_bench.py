"""End-to-end send throughput of the blocking driver against stomp.py.

Runs under either package: ``import stomp`` picks up this project's driver in the
project's Python, and stomp.py in ``bench/.venv-stomppy`` (see ``run_send_bench.sh``).
A sink server on 127.0.0.1 answers CONNECT with CONNECTED and discards the rest, so the
figure is the client's own cost per SEND (100-byte body, no receipts, no listeners).

    python bench/send_bench.py [COUNT]
"""

from __future__ import annotations

import socket
import sys
import threading
import time

import stomp


def _sink(server: socket.socket, received: list[int], done: threading.Event) -> None:
    conn, _ = server.accept()
    with conn:
        data = b""
        while b"\x00" not in data:
            data += conn.recv(65536)
        conn.sendall(b"CONNECTED\nversion:1.1\n\n\x00")
        total = 0
        while chunk := conn.recv(1 << 20):
            total += chunk.count(b"SEND\n")
        received.append(total)
        done.set()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received: list[int] = []
    done = threading.Event()
    threading.Thread(target=_sink, args=(server, received, done), daemon=True).start()
    conn = stomp.Connection([server.getsockname()], vhost="/")
    conn.connect(wait=True)
    body = "x" * 100
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        conn.send(destination="/queue/bench", body=body)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    conn.disconnect()
    done.wait(30)
    print(
        f"{stomp.__name__} {getattr(stomp, '__version__', '?')}: {count} SENDs, "
        f"{count / wall:,.0f} msg/s wall, {cpu / count * 1e6:.1f} us CPU per send "
        f"(sink counted {received[0] if received else '?'})"
    )


if __name__ == "__main__":
    main()

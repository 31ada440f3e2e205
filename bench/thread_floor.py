"""The floor under a threaded client's round trip and receive, on a real broker.

Issue 13 asks the blocking driver for at most 0.6x of stomp.py's CPU per round trip and
0.5x per received message.  stomp.py's API fixes a threading model: listeners run on a
thread the library owns, and the application waits on its own primitives (a
``threading.Event`` set by a listener, say).  So a round trip wakes two threads: the
reader, when the MESSAGE arrives, and the application's thread, from the listener.  This
measures, in one process and on the same broker, what that model costs when the library
does nothing at all: pre-encoded frames, MESSAGEs counted by their NUL byte, never
parsed.  Next to it, the same work through ``stomp.Connection12`` of whichever ``stomp``
the interpreter imports.  Each figure is CPU time (user and system, every thread) per
round trip or per message.

Floors measured (all with raw sockets, ``heart-beat:0,0``):

* ``rtt, one thread``: send, then read the MESSAGE on the same thread (no wake-up of
  another thread; what a client without a listener thread could pay);
* ``rtt, reader thread``: the reader blocks in ``recv`` and sets an event per MESSAGE,
  the sender waits on it: stomp.py's model, nothing else;
* ``rtt, reader thread + select``: the same reader waiting in ``select`` on the socket
  and a wake-up socket first, as a reader that other threads can interrupt does;
* ``rtt, lean Python``: the reader-thread model with the least Python per frame a client
  can run (format the SEND, split at NUL, a header dict, a frame object, a listener
  call), none of a real client's checks, timers or error handling;
* ``rtt, lean + core``: the lean round trip with this project's core doing the protocol
  (``Connection.send_message`` for the SEND; every read fed to the connection and its
  MESSAGEs taken as parsed frames): the core's cost in the model, without the driver;
* ``recv, reader thread``: a pre-filled queue drained by a reader thread (ack=auto) while
  the main thread waits for the count, with how many reads it took;
* ``recv, lean + core``: the same drained through the core, each MESSAGE parsed and
  handed to a listener as a frame with a header dict.

The ``lean + core`` figures need ``stomp_core``: they are ``-`` in stomp.py's process.

    python bench/thread_floor.py                     # ours and stomp.py, alternating
    python bench/thread_floor.py --rounds 5 --port 62613 --login admin --passcode password

Ours runs from this checkout (``PYTHONPATH=<tree>:<tree>/drivers``), stomp.py from
``bench/.venv-stomppy`` (``bench/e2e.py`` creates it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _alternate import CLIENTS, add_broker_arguments, alternate

BODY = b"x" * 100
DEADLINE = 120.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Raw:
    """A STOMP 1.2 connection on a bare socket: pre-encoded frames, nothing parsed."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.sock = socket.create_connection((args.host, args.port), timeout=DEADLINE)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(
            f"CONNECT\naccept-version:1.2\nhost:{args.vhost}\nlogin:{args.login}\n"
            f"passcode:{args.passcode}\nheart-beat:0,0\n\n\x00".encode()
        )
        reply = self.read_frame()
        if not reply.startswith(b"CONNECTED"):
            raise SystemExit(f"the broker refused the raw CONNECT: {reply[:200]!r}")

    def read_frame(self) -> bytes:
        data = b""
        while b"\x00" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit(f"the broker closed the connection: {data[:200]!r}")
            data += chunk
        return data.lstrip(b"\r\n")

    def subscribe(self, destination: str) -> None:
        self.sock.sendall(f"SUBSCRIBE\nid:0\ndestination:{destination}\nack:auto\n\n\x00".encode())

    def fill(self, destination: str, n: int) -> None:
        """``n`` messages into ``destination``; returns once the broker confirmed the last."""
        head = f"SEND\ndestination:{destination}\ncontent-length:{len(BODY)}\n".encode()
        frame = head + b"\n" + BODY + b"\x00"
        for start in range(0, n - 1, 1000):
            self.sock.sendall(frame * min(1000, n - 1 - start))
        self.sock.sendall(head + b"receipt:filled\n\n" + BODY + b"\x00")
        if not self.read_frame().startswith(b"RECEIPT"):
            raise SystemExit("no RECEIPT for the fill")

    def close(self) -> None:
        self.sock.sendall(b"DISCONNECT\n\n\x00")
        self.sock.close()


def prefill(args: argparse.Namespace, destination: str) -> None:
    """``args.n`` messages into ``destination`` on a connection of their own."""
    filler = Raw(args)
    filler.fill(destination, args.n)
    filler.close()


class Countdown:
    """A listener that counts MESSAGEs and sets ``done`` at the ``n``-th."""

    def __init__(self, n: int) -> None:
        self.left = n
        self.done = threading.Event()

    def on_message(self, frame: Any) -> None:
        self.left -= 1
        if not self.left:
            self.done.set()


def send_frame(destination: str) -> bytes:
    return (
        f"SEND\ndestination:{destination}\ncontent-length:{len(BODY)}\n\n".encode() + BODY + b"\x00"
    )


def rtt_one_thread(args: argparse.Namespace, queue: str) -> float:
    raw = Raw(args)
    raw.subscribe(queue)
    frame = send_frame(queue)
    buffer = bytearray(65536)
    recv_into, send = raw.sock.recv_into, raw.sock.send
    start = _cpu()
    for _ in range(args.rtt_n):
        send(frame)
        while True:
            size = recv_into(buffer)
            if not size:
                raise SystemExit("the broker closed the connection")
            if buffer.count(b"\x00", 0, size):
                break
    used = _cpu() - start
    raw.close()
    return used / args.rtt_n * 1e6


def rtt_reader_thread(args: argparse.Namespace, queue: str, *, with_select: bool) -> float:
    raw = Raw(args)
    raw.subscribe(queue)
    frame = send_frame(queue)
    got = threading.Event()
    wake_r, wake_w = socket.socketpair()
    sock = raw.sock
    sock.settimeout(None)

    def reader() -> None:
        buffer = bytearray(65536)
        watch = [sock, wake_r]
        while True:
            if with_select:
                ready = select.select(watch, [], [], 10.0)[0]
                if wake_r in ready:
                    return
            size = sock.recv_into(buffer)
            if not size:
                return
            for _ in range(buffer.count(b"\x00", 0, size)):
                got.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    send = sock.send
    start = _cpu()
    for _ in range(args.rtt_n):
        got.clear()
        send(frame)
        if not got.wait(DEADLINE):
            raise SystemExit("a raw round trip timed out")
    used = _cpu() - start
    wake_w.send(b"x")  # ends the reader in select
    sock.sendall(b"DISCONNECT\n\n\x00")
    sock.shutdown(socket.SHUT_RDWR)  # ends the reader in recv
    thread.join(DEADLINE)
    sock.close()
    wake_r.close()
    wake_w.close()
    return used / args.rtt_n * 1e6


class _Frame:
    __slots__ = ("body", "command", "headers")

    def __init__(self, command: str, headers: dict[str, str], body: bytes) -> None:
        self.command, self.headers, self.body = command, headers, body


def rtt_lean_python(args: argparse.Namespace, queue: str) -> float:
    """The reader-thread round trip with the least Python a client can do per frame.

    The sender formats the SEND with one ``%`` under a lock; the reader splits each
    frame at its NULs, decodes the head into a command and a header dict, builds a
    small frame object and calls a listener's ``on_message`` (which sets the event).
    No validation, escaping, heart-beats, timers, errors, acks or partial frames.
    """
    raw = Raw(args)
    raw.subscribe(queue)
    got = threading.Event()
    sock = raw.sock
    sock.settimeout(None)

    class Listener:
        def on_message(self, frame: _Frame) -> None:
            got.set()

    listeners = {"echo": Listener()}

    def reader() -> None:
        pending = b""
        while True:
            data = sock.recv(65536)
            if not data:
                return
            *frames, pending = (pending + data).split(b"\x00")
            for frame in frames:
                head, _, body = frame.lstrip(b"\r\n").partition(b"\n\n")
                command, *lines = head.decode().split("\n")
                headers = dict(line.split(":", 1) for line in lines)
                message = _Frame(command, headers, body)
                for listener in listeners.values():
                    method = getattr(listener, "on_" + command.lower(), None)
                    if method is not None:
                        method(message)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    lock = threading.Lock()
    template = b"SEND\ndestination:%s\ncontent-length:%d\n\n%s\x00"
    destination = queue.encode()
    send = sock.send
    start = _cpu()
    for _ in range(args.rtt_n):
        got.clear()
        with lock:
            send(template % (destination, len(BODY), BODY))
        if not got.wait(DEADLINE):
            raise SystemExit("a lean round trip timed out")
    used = _cpu() - start
    sock.sendall(b"DISCONNECT\n\n\x00")
    sock.shutdown(socket.SHUT_RDWR)
    thread.join(DEADLINE)
    sock.close()
    return used / args.rtt_n * 1e6


def _connected_core(stomp_core: Any, args: argparse.Namespace) -> Any:
    """A client ``stomp_core.Connection`` in the CONNECTED state, for a raw socket.

    ``Raw`` already ran the handshake on the wire; the core runs its own on paper (its
    CONNECT is dropped, the broker's CONNECTED is played to it), so its state, version
    rules and bookkeeping are those of a real session.
    """
    core = stomp_core.Connection(stomp_core.CLIENT)
    core.send(stomp_core.Connect(host=args.vhost, accept_version=("1.2",)), now=time.monotonic())
    core.data_to_send(now=time.monotonic())
    core.receive_data(b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\x00", now=time.monotonic())
    if not isinstance(core.next_event(), stomp_core.Connected):
        raise SystemExit("the core did not take the CONNECTED")
    return core


def _core_frames(stomp_core: Any, core: Any, data: bytes) -> list[Any]:
    """Feed one read to ``core``; its MESSAGEs as frames, as a compatibility layer takes
    them (``take_messages`` first, ``next_frame_or_event`` for anything else)."""
    core.receive_data(data, now=time.monotonic())
    frames: list[Any] = []
    while True:
        run = core.take_messages()
        if run:
            frames += [stomp_core.Frame(*parts) for parts in run]
            continue
        item = core.next_frame_or_event()
        if item is stomp_core.NEED_DATA:
            return frames
        if isinstance(item, stomp_core.Frame):
            frames.append(item)


def rtt_lean_core(args: argparse.Namespace, queue: str) -> float | None:
    """The lean round trip with this project's core doing the protocol.

    As ``rtt, lean Python``, but the sender takes its bytes from
    ``stomp_core.Connection.send_message`` and the reader feeds every read to the same
    connection and takes its MESSAGEs as parsed frames (every header line split,
    checked and unescaped; the session's state, metrics and heart-beat bookkeeping kept):
    what the core costs in the threading model, without the driver's timers, keeper
    thread, errors and listener registry.  ``None`` where ``stomp_core`` is not
    importable (stomp.py's environment).
    """
    try:
        import stomp_core
    except ImportError:
        return None
    raw = Raw(args)
    sock = raw.sock
    core = _connected_core(stomp_core, args)
    raw.subscribe(queue)
    got = threading.Event()
    sock.settimeout(None)

    class Listener:
        def on_message(self, frame: _Frame) -> None:
            got.set()

    listeners = {"echo": Listener()}
    lock = threading.Lock()
    monotonic = time.monotonic

    def reader() -> None:
        while True:
            data = sock.recv(65536)
            if not data:
                return
            with lock:
                frames = _core_frames(stomp_core, core, data)
            for frame in frames:
                message = _Frame(frame.command, dict(frame.headers), frame.body)
                for listener in listeners.values():
                    method = getattr(listener, "on_" + frame.command.lower(), None)
                    if method is not None:
                        method(message)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    send = sock.send
    send_message = core.send_message
    start = _cpu()
    for _ in range(args.rtt_n):
        got.clear()
        with lock:
            send(send_message(queue, BODY, now=monotonic()))
        if not got.wait(DEADLINE):
            raise SystemExit("a lean core round trip timed out")
    used = _cpu() - start
    sock.sendall(b"DISCONNECT\n\n\x00")
    sock.shutdown(socket.SHUT_RDWR)
    thread.join(DEADLINE)
    sock.close()
    return used / args.rtt_n * 1e6


def _drain_with(
    raw: Raw, queue: str, reader: Callable[[], None], done: threading.Event, who: str
) -> float:
    """Run ``reader`` on its own thread, subscribe, wait for ``done``: the CPU it took."""
    start = _cpu()
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    raw.subscribe(queue)
    if not done.wait(DEADLINE):
        raise SystemExit(f"{who} did not get every message")
    used = _cpu() - start
    thread.join(DEADLINE)
    raw.close()
    return used


def recv_reader_thread(args: argparse.Namespace, queue: str) -> dict[str, float]:
    prefill(args, queue)
    raw = Raw(args)
    sock = raw.sock
    sock.settimeout(None)
    done = threading.Event()
    reads = 0

    def reader() -> None:
        nonlocal reads
        buffer = bytearray(1 << 20)
        seen = 0
        while seen < args.n:
            size = sock.recv_into(buffer)
            if not size:
                return
            reads += 1
            seen += buffer.count(b"\x00", 0, size)
        done.set()

    used = _drain_with(raw, queue, reader, done, "the raw reader")
    return {"us": used / args.n * 1e6, "reads": reads}


def recv_lean_core(args: argparse.Namespace, queue: str) -> float | None:
    """``recv, reader thread`` with this project's core parsing every MESSAGE.

    The reader feeds each read to ``stomp_core.Connection`` and hands each parsed
    MESSAGE, as a frame object with a header dict, to a listener that counts: what the
    core costs per message in the threading model, without the driver.  ``None`` where
    ``stomp_core`` is not importable.
    """
    try:
        import stomp_core
    except ImportError:
        return None
    prefill(args, queue)
    raw = Raw(args)
    sock = raw.sock
    sock.settimeout(None)
    core = _connected_core(stomp_core, args)
    listener = Countdown(args.n)
    lock = threading.Lock()

    def reader() -> None:
        while listener.left:
            data = sock.recv(65536)
            if not data:
                return
            with lock:
                frames = _core_frames(stomp_core, core, data)
            for frame in frames:
                listener.on_message(_Frame(frame.command, dict(frame.headers), frame.body))

    return _drain_with(raw, queue, reader, listener.done, "the lean core reader") / args.n * 1e6


def library_rtt(conn: Any, queue: str, n: int) -> float:
    got = threading.Event()

    class Echo:
        def on_message(self, frame: Any) -> None:
            got.set()

    conn.set_listener("rtt", Echo())
    conn.subscribe(queue, id="rtt", ack="auto")
    for _ in range(100):  # warm-up
        got.clear()
        conn.send(queue, BODY)
        got.wait(DEADLINE)
    start = _cpu()
    for _ in range(n):
        got.clear()
        conn.send(queue, BODY)
        if not got.wait(DEADLINE):
            raise SystemExit("a library round trip timed out")
    used = _cpu() - start
    conn.unsubscribe(id="rtt")
    conn.remove_listener("rtt")
    return used / n * 1e6


def library_recv(args: argparse.Namespace, conn: Any, queue: str) -> float:
    prefill(args, queue)
    counter = Countdown(args.n)
    conn.set_listener("recv", counter)
    start = _cpu()
    conn.subscribe(queue, id="recv", ack="auto")
    if not counter.done.wait(DEADLINE):
        raise SystemExit(f"the library received {args.n - counter.left} of {args.n}")
    used = _cpu() - start
    conn.unsubscribe(id="recv")
    return used / args.n * 1e6


def child(args: argparse.Namespace) -> None:
    """One process: the raw floors, then ``stomp``'s round trip and receive; JSON out."""
    import stomp

    def queue() -> str:
        return f"/queue/thread-floor-{uuid.uuid4().hex}"

    rtt_queue = queue()
    rtt_one_thread(args, rtt_queue)  # warm-up: the broker creates the queue
    out: dict[str, Any] = {
        "stomp": str(Path(stomp.__file__).parent),
        "rtt, one thread": rtt_one_thread(args, rtt_queue),
        "rtt, reader thread": rtt_reader_thread(args, rtt_queue, with_select=False),
        "rtt, reader thread + select": rtt_reader_thread(args, rtt_queue, with_select=True),
        "rtt, lean Python": rtt_lean_python(args, rtt_queue),
        "rtt, lean + core": rtt_lean_core(args, rtt_queue),
    }
    recv = recv_reader_thread(args, queue())
    out["recv, reader thread"] = recv["us"]
    out["recv, lean + core"] = recv_lean_core(args, queue())
    out["recv reads"] = recv["reads"]
    conn = stomp.Connection12([(args.host, args.port)], heartbeats=(10000, 10000), vhost=args.vhost)
    conn.connect(args.login, args.passcode, wait=True)
    out["stomp rtt"] = library_rtt(conn, rtt_queue, args.rtt_n)
    out["stomp recv"] = library_recv(args, conn, queue())
    conn.disconnect()
    print(json.dumps(out))


COLUMNS = (
    "rtt, one thread",
    "rtt, reader thread",
    "rtt, reader thread + select",
    "rtt, lean Python",
    "rtt, lean + core",
    "stomp rtt",
    "recv, reader thread",
    "recv, lean + core",
    "stomp recv",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_broker_arguments(parser)
    parser.add_argument("--rtt-n", type=int, default=3000, help="round trips per figure")
    parser.add_argument("--n", type=int, default=20000, help="messages received per figure")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"# {when}, broker {args.host}:{args.port}, load average {os.getloadavg()[0]:.2f}")
    print("# CPU us (user + system, every thread) per round trip / per received message")
    print("| round | client | " + " | ".join(COLUMNS) + " | raw reads | library / stomp.py's |")
    print("|---:|---|" + "---:|" * (len(COLUMNS) + 2))
    ratios: dict[str, list[float]] = {"stomp rtt": [], "stomp recv": []}
    floors: dict[str, list[float]] = {
        "rtt, reader thread": [],
        "rtt, lean Python": [],
        "rtt, lean + core": [],
        "recv, reader thread": [],
        "recv, lean + core": [],
    }
    for number, results in alternate(__file__, args.rounds, timeout=900):
        theirs = results["stomp.py"]
        for name in CLIENTS:
            got = results[name]
            mine = " / ".join(
                f"{got[key] / theirs[key]:.2f}x" for key in ("stomp rtt", "stomp recv")
            )
            cells = " | ".join("-" if got[key] is None else f"{got[key]:.1f}" for key in COLUMNS)
            print(f"| {number} | {name} | {cells} | {got['recv reads']} | {mine} |")
        for key in ratios:
            ratios[key].append(results["ours"][key] / theirs[key])
        pairs = (
            ("rtt, reader thread", "stomp rtt"),
            ("rtt, lean Python", "stomp rtt"),
            ("rtt, lean + core", "stomp rtt"),
            ("recv, reader thread", "stomp recv"),
            ("recv, lean + core", "stomp recv"),
        )
        for key, library in pairs:
            # The floor of both children (the same code, whichever library is imported),
            # as a share of stomp.py's figure in the same round.
            for got in results.values():
                if got[key] is not None:  # "lean + core" needs stomp_core
                    floors[key].append(got[key] / theirs[library])
    print()
    median: Callable[[list[float]], float] = statistics.median
    print(
        f"ours / stomp.py, median over {args.rounds} rounds: round trip "
        f"{median(ratios['stomp rtt']):.2f}x, receive {median(ratios['stomp recv']):.2f}x"
    )
    print(
        "the raw reader-thread floor / stomp.py's figure, median: round trip "
        f"{median(floors['rtt, reader thread']):.2f}x (lean Python "
        f"{median(floors['rtt, lean Python']):.2f}x, lean + core "
        f"{median(floors['rtt, lean + core']):.2f}x), receive "
        f"{median(floors['recv, reader thread']):.2f}x (lean + core "
        f"{median(floors['recv, lean + core']):.2f}x)"
    )


if __name__ == "__main__":
    main()

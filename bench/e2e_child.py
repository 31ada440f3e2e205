"""One measured phase of ``bench/e2e.py``, in a fresh process; prints one JSON line.

Runs under whichever interpreter has the client library: the project's Python (with
``PYTHONPATH=<tree>:<tree>/drivers``) for ``stomp``, ``stomp_trio``, ``stomp_asyncio``
and the raw socket client; ``bench/.venv-stomppy`` for stomp.py; ``bench/.venv-stompman``
for stompman.  Standard library only besides the client under test, so the same file works
in every virtual environment.

    python bench/e2e_child.py '<json spec>'

The spec names the ``client``, the ``phase`` and its parameters (see ``bench/e2e.py``).
The answer is ``{"ok": true, ...}`` with ``wall`` (seconds of the measured part), ``cpu``
(user + system seconds of the whole process, every thread, over the measured part),
``maxrss_kb`` (peak RSS of the process, ``ru_maxrss``), ``import_ms`` and per phase extras,
or ``{"ok": false, "error": "..."}``.  Every wait is bounded by the spec's ``deadline``.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import sys
import threading
import time
import traceback
from typing import Any

Spec = dict[str, Any]

SMALL_BODY_SIZE = 100


def _cpu() -> float:
    # CLOCK_PROCESS_CPUTIME_ID: every thread of the process, in ns (os.times() ticks are
    # 10 ms, too coarse for a short phase).
    return time.process_time()


def _system_cpu() -> float:
    # The kernel's part of the CPU time (system calls, loopback TCP), every thread: what
    # no Python-level change can cut.  getrusage counts in microseconds.
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


class Clock:
    """Wall and CPU time of the measured part (connect and import are left out)."""

    def __init__(self) -> None:
        self.wall0 = time.perf_counter()
        self.cpu0 = _cpu()
        self.sys0 = _system_cpu()
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> None:
        self.marks[name] = time.perf_counter() - self.wall0

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.wall0
        cpu = _cpu() - self.cpu0
        system = _system_cpu() - self.sys0
        return {"wall": wall, "cpu": cpu, "sys": system, **self.marks}


def body_of(size: int) -> bytes:
    # No NUL inside: the raw receiver counts frames by their terminating NUL.
    return b"x" * size


def percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    if not ordered:
        return {}

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    return {"p50": at(0.50), "p99": at(0.99)}


# --------------------------------------------------------------------------- raw socket


class RawClient:
    """A STOMP 1.2 client that writes pre-encoded frames and never parses a MESSAGE.

    It measures what the broker can do on this machine (the ceiling): frames are built
    once, written in large batches, and delivered MESSAGE frames are counted by their NUL
    bytes (bodies here never contain NUL).
    """

    def __init__(self, spec: Spec) -> None:
        self.sock = socket.create_connection((spec["host"], spec["port"]), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.deadline: float = time.monotonic() + spec["deadline"]
        connect = (
            "CONNECT\naccept-version:1.2\n"
            f"host:{spec['vhost']}\nlogin:{spec['login']}\npasscode:{spec['passcode']}\n"
            "heart-beat:0,0\n\n\x00"
        )
        self.sock.sendall(connect.encode())
        reply = self._read_frame()
        if not reply.startswith(b"CONNECTED"):
            raise RuntimeError(f"raw CONNECT refused: {reply[:300]!r}")

    def _remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left

    def _read_frame(self) -> bytes:
        data = b""
        while b"\x00" not in data:
            self.sock.settimeout(self._remaining())
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError(f"broker closed the connection: {data[:300]!r}")
            data += chunk
        return data.lstrip(b"\r\n")

    def send_many(self, destination: str, count: int, size: int) -> None:
        """``count`` SENDs, a receipt on the last; returns once the RECEIPT arrived."""
        body = body_of(size)
        head = f"SEND\ndestination:{destination}\ncontent-length:{size}\n".encode()
        frame = head + b"\n" + body + b"\x00"
        last = head + b"receipt:raw-last\n\n" + body + b"\x00"
        batch = max(1, (256 * 1024) // len(frame))
        self.sock.settimeout(self._remaining())
        sent = 0
        while sent < count - 1:
            n = min(batch, count - 1 - sent)
            self.sock.sendall(frame * n)
            sent += n
        self.sock.sendall(last)
        reply = self._read_frame()
        if not reply.startswith(b"RECEIPT"):
            raise RuntimeError(f"expected RECEIPT, got {reply[:300]!r}")

    def count_messages(self, destination: str, count: int, idle: float | None = None) -> int:
        """Subscribe (ack=auto); count frames until ``count``, or ``idle`` s of silence."""
        frame = f"SUBSCRIBE\nid:raw\ndestination:{destination}\nack:auto\n\n\x00"
        self.sock.sendall(frame.encode())
        seen = 0
        first = True
        # One buffer for every read: recv(n) would allocate n bytes per call, and the
        # broker's small writes make that one allocation per message or two.
        buffer = bytearray(1 << 20)
        recv_into = self.sock.recv_into
        while seen < count:
            self.sock.settimeout(min(self._remaining(), idle) if idle else self._remaining())
            try:
                size = recv_into(buffer)
            except TimeoutError:
                if idle:
                    return seen
                raise
            if not size:
                raise RuntimeError("broker closed the connection")
            if first:
                first = False
                if bytes(buffer[:size]).lstrip(b"\r\n").startswith(b"ERROR"):
                    raise RuntimeError(f"broker sent ERROR: {bytes(buffer[:300])!r}")
            seen += buffer.count(b"\x00", 0, size)
        return seen

    def close(self) -> None:
        try:
            self.sock.sendall(b"DISCONNECT\n\n\x00")
        finally:
            self.sock.close()


def run_raw(spec: Spec) -> dict[str, Any]:
    phase, queue, n, size = spec["phase"], spec["queue"], spec["n"], spec["size"]
    # The ceiling is a "fill" then a "count", each in a fresh process, exactly as a client's
    # receive phase follows its pre-fill: both sides then start equally cold.
    client = RawClient(spec)
    clock = Clock()
    if phase == "fill":
        client.send_many(queue, n, size)
        result = clock.stop()
    elif phase == "count":
        result = {"count": client.count_messages(queue, n), **clock.stop()}
    elif phase == "drain":
        result = {"count": client.count_messages(queue, n, idle=spec.get("idle", 3.0))}
    else:
        raise ValueError(f"raw client has no phase {phase!r}")
    client.close()
    return result


# --------------------------------------------------------------------------- blocking


def run_blocking(spec: Spec) -> dict[str, Any]:
    """The stomp.py API: this project's ``stomp`` or stomp.py 9.0.0, same code."""
    import stomp  # the measured import: see main()

    phase, queue, n, size = spec["phase"], spec["queue"], spec["n"], spec["size"]
    deadline = spec["deadline"]
    hb = spec["heartbeat"]
    conn = stomp.Connection12(
        [(spec["host"], spec["port"])], heartbeats=(hb, hb), vhost=spec["vhost"]
    )
    got = threading.Event()
    done = threading.Event()
    state: dict[str, Any] = {"count": 0, "error": None}
    body = body_of(size)

    class Listener:
        def on_receipt(self, frame: Any) -> None:
            if frame.headers.get("receipt-id") == "last":
                done.set()

        def on_error(self, frame: Any) -> None:
            state["error"] = f"ERROR frame: {frame.headers} {frame.body!r:.200}"
            done.set()
            got.set()

        def on_disconnected(self) -> None:
            if not done.is_set():
                state["error"] = state["error"] or "disconnected"
                done.set()
                got.set()

    class Counter(Listener):
        def on_message(self, frame: Any) -> None:
            state["count"] += 1
            if state["count"] == n:
                done.set()

    class Acker(Listener):
        def on_message(self, frame: Any) -> None:
            headers = frame.headers
            conn.ack(headers.get("ack") or headers["message-id"])
            state["count"] += 1
            if state["count"] == n:
                done.set()

    class Echo(Listener):
        def on_message(self, frame: Any) -> None:
            got.set()

    listener = {"recv-client": Acker, "rtt": Echo}.get(phase, Counter)()
    conn.set_listener("bench", listener)
    conn.connect(spec["login"], spec["passcode"], wait=True)
    result: dict[str, Any] = {}
    clock = Clock()
    if phase in ("send", "big-send"):
        for _ in range(n - 1):
            conn.send(queue, body)
        conn.send(queue, body, receipt="last")
        clock.mark("client_wall")
        if not done.wait(deadline):
            raise TimeoutError("no RECEIPT for the last SEND")
    elif phase in ("recv-auto", "recv-client", "big-recv"):
        ack = "client-individual" if phase == "recv-client" else "auto"
        conn.subscribe(queue, id="1", ack=ack)
        if not done.wait(deadline):
            raise TimeoutError(f"received {state['count']} of {n}")
    elif phase == "rtt":
        conn.subscribe(queue, id="1", ack="auto")
        latencies: list[float] = []
        end = time.monotonic() + deadline
        for _ in range(n):
            got.clear()
            start = time.perf_counter()
            conn.send(queue, body)
            if not got.wait(max(0.0, end - time.monotonic())):
                raise TimeoutError(f"round trip {len(latencies) + 1} of {n} timed out")
            latencies.append(time.perf_counter() - start)
        result.update(percentiles(latencies))
    else:
        raise ValueError(f"no phase {phase!r}")
    result.update(clock.stop())
    if state["error"]:
        raise RuntimeError(state["error"])
    conn.disconnect()
    return result


# --------------------------------------------------------------------------- ours, async


async def _ours_async(spec: Spec, lib: Any, timeout: Any) -> dict[str, Any]:
    """``stomp_trio`` and ``stomp_asyncio``: the same API; ``timeout`` bounds the phase."""
    phase, queue, n, size = spec["phase"], spec["queue"], spec["n"], spec["size"]
    hb = spec["heartbeat"]
    body = body_of(size)
    result: dict[str, Any] = {}
    async with (
        lib.open_connection(
            f"stomp://{spec['host']}:{spec['port']}",
            login=spec["login"],
            passcode=spec["passcode"],
            vhost=spec["vhost"],
            heartbeats=(hb, hb),
            versions=("1.2",),
            reconnect=None,
            receipt_timeout=spec["deadline"],
        ) as client,
        timeout(spec["deadline"]),
    ):
        clock = Clock()
        if phase in ("send", "big-send"):
            for _ in range(n - 1):
                await client.send(queue, body)
            clock.mark("client_wall")
            await client.send(queue, body, receipt=True)
        elif phase in ("recv-auto", "recv-client", "big-recv"):
            ack = "client-individual" if phase == "recv-client" else "auto"
            count = 0
            async with client.subscribe(queue, ack=ack) as sub:
                async for message in sub:
                    if ack != "auto":
                        await message.ack()
                    count += 1
                    if count == n:
                        break
        elif phase == "rtt":
            latencies: list[float] = []
            async with client.subscribe(queue, ack="auto") as sub:
                for _ in range(n):
                    start = time.perf_counter()
                    await client.send(queue, body)
                    await sub.get()
                    latencies.append(time.perf_counter() - start)
            result.update(percentiles(latencies))
        else:
            raise ValueError(f"no phase {phase!r}")
        result.update(clock.stop())
    return result


def run_ours_trio(spec: Spec) -> dict[str, Any]:
    import contextlib

    import trio

    import stomp_trio

    @contextlib.asynccontextmanager
    async def fail_after(seconds: float) -> Any:
        with trio.fail_after(seconds):
            yield

    return trio.run(_ours_async, spec, stomp_trio, fail_after)


def run_ours_asyncio(spec: Spec) -> dict[str, Any]:
    import asyncio

    import stomp_asyncio

    return asyncio.run(_ours_async(spec, stomp_asyncio, asyncio.timeout))


# --------------------------------------------------------------------------- stompman


async def _stompman(spec: Spec) -> dict[str, Any]:
    import asyncio

    import stompman  # type: ignore[import-not-found,unused-ignore]  # in its own venv

    phase, queue, n, size = spec["phase"], spec["queue"], spec["n"], spec["size"]
    # stompman's heart-beat sender loops on sleep(interval): 0 would spin; the harness
    # gives every client the same non-zero wish.
    hb = spec["heartbeat"]
    body = body_of(size)
    params = stompman.ConnectionParameters(
        host=spec["host"], port=spec["port"], login=spec["login"], passcode=spec["passcode"]
    )
    result: dict[str, Any] = {}
    async with stompman.Client(
        [params], heartbeat=stompman.Heartbeat(hb, hb), connect_retry_attempts=1
    ) as client:
        async with asyncio.timeout(spec["deadline"]):
            clock = Clock()
            if phase in ("send", "big-send"):
                for _ in range(n - 1):
                    await client.send(body, queue)
                clock.mark("client_wall")
                await client.send(body, queue, receipt_timeout=spec["deadline"])
            elif phase in ("recv-auto", "recv-client", "big-recv"):
                ack = "client-individual" if phase == "recv-client" else "auto"
                done = asyncio.Event()
                count = 0

                async def handler(frame: Any) -> None:
                    nonlocal count
                    count += 1
                    if count == n:
                        done.set()

                # With client-individual, stompman ACKs each message after its handler.
                sub = await client.subscribe(
                    queue, handler, ack=ack, on_suppressed_exception=lambda exc, frame: None
                )
                await done.wait()
                await sub.unsubscribe()
            elif phase == "rtt":
                latencies: list[float] = []
                arrived = asyncio.Event()

                async def echo(frame: Any) -> None:
                    arrived.set()

                sub = await client.subscribe(
                    queue, echo, ack="auto", on_suppressed_exception=lambda exc, frame: None
                )
                for _ in range(n):
                    arrived.clear()
                    start = time.perf_counter()
                    await client.send(body, queue)
                    await arrived.wait()
                    latencies.append(time.perf_counter() - start)
                await sub.unsubscribe()
                result.update(percentiles(latencies))
            else:
                raise ValueError(f"no phase {phase!r}")
            result.update(clock.stop())
    return result


def run_stompman(spec: Spec) -> dict[str, Any]:
    import asyncio

    return asyncio.run(_stompman(spec))


# --------------------------------------------------------------------------- main

RUNNERS = {
    "raw": run_raw,
    "stomp": run_blocking,
    "stomp.py": run_blocking,
    "stomp_trio": run_ours_trio,
    "stomp_asyncio": run_ours_asyncio,
    "stompman": run_stompman,
}

#: What each client imports: timed once, before anything else, in a fresh process.
IMPORTS = {
    "raw": None,
    "stomp": "stomp",
    "stomp.py": "stomp",
    "stomp_trio": "stomp_trio",
    "stomp_asyncio": "stomp_asyncio",
    "stompman": "stompman",
}


def _profiled(run: Any, spec: Spec) -> dict[str, Any]:
    """Run under cProfile in every thread; write the merged stats to ``spec['profile']``.

    The figures are CPU time per thread, summed over threads; the profiler's own cost
    inflates them (compare profiles with each other, not with unprofiled runs).
    """
    import contextlib
    import cProfile
    import pstats

    profiles: list[cProfile.Profile] = []

    def start_in_thread(frame: Any, event: str, arg: Any) -> None:
        sys.setprofile(None)
        profile = cProfile.Profile(time.thread_time)
        profiles.append(profile)
        profile.enable()

    threading.setprofile(start_in_thread)
    # Each thread's own CPU clock: waiting for a lock or the socket costs nothing.
    main = cProfile.Profile(time.thread_time)
    main.enable()
    try:
        result: dict[str, Any] = run(spec)
        return result
    finally:
        main.disable()
        threading.setprofile(None)  # type: ignore[arg-type,unused-ignore]
        stats = pstats.Stats(main)
        for profile in profiles:
            with contextlib.suppress(TypeError, ValueError):
                stats.add(profile)  # fails for a thread that never ran a Python call
        stats.dump_stats(spec["profile"])


def main() -> None:
    spec: Spec = json.loads(sys.argv[1])
    client = spec["client"]
    out: dict[str, Any] = {"client": client, "phase": spec["phase"]}
    try:
        module = IMPORTS[client]
        if module is not None:
            start = time.perf_counter()
            __import__(module)
            out["import_ms"] = (time.perf_counter() - start) * 1e3
            # Which package ran (the harness checks that a peer is not our tree).
            out["imported_from"] = sys.modules[module].__file__
        run = RUNNERS[client]
        if spec.get("profile"):
            out.update(_profiled(run, spec))
        else:
            out.update(run(spec))
        out["ok"] = True
    except BaseException as exc:  # report every failure as data, never a hang
        out["ok"] = False
        if isinstance(exc, TimeoutError) or type(exc).__name__ == "TooSlowError":  # trio's
            out["error"] = f"timeout{': ' if str(exc) else ''}{exc}"[:500]
        else:
            out["error"] = f"{type(exc).__name__}: {exc}"[:500]
        out["traceback"] = traceback.format_exc()[-2000:]
    out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out), flush=True)
    # Do not wait for lingering library threads: the answer is out.
    os._exit(0)


if __name__ == "__main__":
    main()

"""End-to-end benchmark: this project's drivers against stomp.py and stompman, on real brokers.

    python bench/e2e.py --quick                      # smoke run: embedded broker, small N
    python bench/e2e.py --rounds 3 --brokers rabbitmq,activemq
    python bench/e2e.py --help

On first use it creates ``bench/.venv-stomppy`` (stomp.py 9.0.0) and
``bench/.venv-stompman`` (stompman 3.16.0), both git-ignored.  Then, for every round,
broker and phase, it runs ours and the peer alternately (who goes first alternates from
round to round), each phase in a fresh process (``bench/e2e_child.py``):

* blocking ``stomp`` (ours) against stomp.py 9.0.0 (the same code runs both: drop-in);
* ``stomp_trio`` and ``stomp_asyncio`` (ours) against stompman 3.16.0 (asyncio).

Ours runs from the checkout this file lives in (``PYTHONPATH=<tree>:<tree>/drivers``).
Each measured process reports wall time and the CPU time of the whole process (every
thread) over the measured part, and its peak RSS.  The broker's ceiling, measured in the
same round by a raw socket client (pre-encoded SEND frames, a receipt on the last;
MESSAGE frames counted by their NUL, never parsed), shows how close each client gets.
On a machine with few cores that ceiling is the broker using every core while the raw
client uses almost none, so a client's own CPU lowers the rate it gets;
``--pin-broker PID`` gives the broker one CPU and the clients the others, to tell a
client that cannot keep up from one that takes CPU the broker would have used
(``bench/ceiling_share.py`` measures that share directly).

Every child has a deadline: one that overruns is killed and reported as
``failed (timeout)``; a failed phase never stops the others.  Queue names are unique per
run (RabbitMQ keeps the emptied queues ``bench-e2e-*``; delete them at leisure).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
CHILD = HERE / "e2e_child.py"

#: Peers, each in its own virtual environment under bench/ (git-ignored).
VENVS = {
    "stomp.py": (HERE / ".venv-stomppy", "stomp.py==9.0.0"),
    "stompman": (HERE / ".venv-stompman", "stompman==3.16.0"),
}

#: Ours in a venv of its own (``--ours-venv``): nothing installed but what the drivers
#: measured need, like the peers' venvs, so that the bare interpreter they start from
#: (its site-packages, .pth files, editable-install finders) weighs the same.
OURS_VENV = HERE / ".venv-ours"
OURS = ("stomp", "stomp_trio", "stomp_asyncio")

#: Driver -> (ours, peer).
PAIRS = {
    "stomp": ("stomp", "stomp.py"),
    "trio": ("stomp_trio", "stompman"),
    "asyncio": ("stomp_asyncio", "stompman"),
}

BROKERS = {
    "rabbitmq": {
        "host": "127.0.0.1",
        "port": 61613,
        "login": "guest",
        "passcode": "guest",
        "vhost": "/",
    },
    "activemq": {
        "host": "127.0.0.1",
        "port": 62613,
        "login": os.environ.get("ACTIVEMQ_USER", "admin"),
        "passcode": os.environ.get("ACTIVEMQ_PASSWORD", "password"),
        "vhost": "localhost",
    },
    "embedded": {
        "host": "127.0.0.1",
        "port": 0,
        "login": "guest",
        "passcode": "guest",
        "vhost": "/",
    },
}

PHASES = ("send", "recv-auto", "recv-client", "rtt", "big-send", "big-recv")
ALL_PHASES = ("ceiling", *PHASES)

MiB = 1 << 20

#: cProfile files written by this run (``--profile``).
PROFILES: list[str] = []


@dataclass
class Settings:
    rounds: int
    n: int
    rtt_n: int
    big_n: int
    brokers: list[str]
    phases: list[str]
    drivers: list[str]
    heartbeat: int
    timeout: float | None
    profile: str | None
    json_out: str | None
    ours_venv: bool = False
    pin_broker: int | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])


# --------------------------------------------------------------------------- environments


#: Set by main(): the interpreter for our clients (this one, or OURS_VENV's).
_ours_python = sys.executable


def ours_python(drivers: Iterable[str]) -> str:
    """OURS_VENV's interpreter, built on first use (trio added when it is measured)."""
    python = OURS_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {OURS_VENV}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(OURS_VENV)], check=True)
    if "trio" in drivers:
        import trio  # the version this checkout is tested with

        check = subprocess.run([str(python), "-c", "import trio"], capture_output=True)
        if check.returncode:
            requirement = f"trio=={trio.__version__}"
            pip = [str(python), "-m", "pip", "install", "--quiet", requirement]
            subprocess.run(pip, check=True)
    return str(python)


def compile_tree() -> None:
    """Write our bytecode (git-ignored __pycache__), as an installed package has it.

    The peers' venvs hold the .pyc files pip wrote; without ours (PYTHONDONTWRITEBYTECODE
    set, say) every child would compile our sources again and the import figure would
    measure the compiler.
    """
    for folder in ("stomp_core", "drivers"):
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(TREE / folder)],
            check=True,
            stdout=subprocess.DEVNULL,
        )


def peer_python(client: str) -> str:
    """The interpreter that runs ``client``; peers' venvs are built on first use."""
    if client in OURS:
        return _ours_python
    if client not in VENVS:
        return sys.executable
    venv, requirement = VENVS[client]
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} ({requirement})", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", requirement], check=True)
    return str(python)


def child_env(client: str | None = None) -> dict[str, str]:
    """The environment of a child (``client``'s): our tree on the path, except for peers.

    A peer must not get it: PYTHONPATH comes before site-packages, so stomp.py's child
    would import *our* ``stomp`` from ``drivers/`` (both are ``import stomp``) and the
    blocking rows would compare the tree with itself.
    """
    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    if client in VENVS:
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = f"{TREE}{os.pathsep}{TREE / 'drivers'}"
    return env


def start_embedded() -> tuple[subprocess.Popen[str], int]:
    """The embedded broker in its own process (so its CPU is not the client's)."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "--serve-embedded"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        raise RuntimeError(f"the embedded broker did not start: {line!r}")
    return proc, int(line)


def serve_embedded() -> None:
    """``--serve-embedded``: run stomp_broker with limits a benchmark does not hit."""
    import asyncio

    from stomp_broker import Broker

    async def serve() -> None:
        broker = Broker(
            "127.0.0.1",
            0,
            max_queue_messages=10_000_000,
            max_unacked=1_000_000,
            # Large bodies queue up in front of a consumer: let them.
            max_outbound_bytes=256 * MiB,
        )
        async with broker:
            print(broker.port, flush=True)
            # Until the harness closes our stdin (or dies).
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(serve())


# --------------------------------------------------------------------------- children


def deadline_for(settings: Settings, phase: str, n: int) -> float:
    if settings.timeout is not None:
        return settings.timeout
    # Generous: stompman parses byte by byte and needs ~0.2 s of CPU per 1 MiB received.
    per = {"big-send": 0.1, "big-recv": 0.4, "rtt": 0.005}.get(phase, 0.001)
    return 30.0 + n * per


def spawn(client: str, spec: dict[str, Any]) -> subprocess.Popen[str]:
    spec = {**spec, "client": client}
    return subprocess.Popen(
        [peer_python(client), str(CHILD), json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(client),
    )


def collect(proc: subprocess.Popen[str], deadline: float) -> dict[str, Any]:
    """The child's JSON answer, or a failure; a child past its deadline is killed."""
    try:
        out, err = proc.communicate(timeout=deadline + 15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"ok": False, "error": "timeout"}
    for line in reversed(out.splitlines()):
        if line.startswith("{"):
            return json.loads(line)  # type: ignore[no-any-return]
    return {"ok": False, "error": f"no answer (exit {proc.returncode}): {err.strip()[-300:]}"}


def run_child(client: str, spec: dict[str, Any]) -> dict[str, Any]:
    result = collect(spawn(client, spec), spec["deadline"])
    imported = str(result.get("imported_from") or "")
    if client in VENVS and imported.startswith(str(TREE / "drivers")):
        # The peer ran our code: its figures would be ours (see child_env).
        return {"ok": False, "error": f"{client} imported this tree's {imported}"}
    return result


class Round:
    """One round on one broker: each phase for each client, plus the ceiling."""

    def __init__(self, settings: Settings, broker: str, address: dict[str, Any], number: int):
        self.settings = settings
        self.broker = broker
        self.address = address
        self.number = number
        #: (client, phase) -> the child's answer
        self.results: dict[tuple[str, str], dict[str, Any]] = {}

    def spec(
        self, phase: str, queue: str, n: int, size: int, client: str | None = None
    ) -> dict[str, Any]:
        address = dict(self.address)
        if client == "stompman":
            # stompman always sends the host it dials as CONNECT's ``host`` (RabbitMQ's
            # virtual host): the raw helpers that fill or drain its queues must use the same.
            address["vhost"] = address["host"]
        return {
            **address,
            "phase": phase,
            "queue": queue,
            "n": n,
            "size": size,
            "heartbeat": self.settings.heartbeat,
            "deadline": deadline_for(self.settings, phase, n),
        }

    def queue(self, client: str, phase: str) -> str:
        return f"/queue/bench-e2e-{self.settings.run_id}-{client}-{phase}"

    def drain(self, queue: str, n: int, idle: float, client: str) -> dict[str, Any]:
        spec = self.spec("drain", queue, n, 0, client)
        spec["idle"] = idle
        return run_child("raw", spec)

    def measure(self, client: str, phase: str, profile: str | None = None) -> dict[str, Any]:
        """Run one phase of ``client`` with its helpers; ``profile``: a cProfile file."""
        s = self.settings
        queue = self.queue(client, phase)
        n = n_for(s, phase)
        size = MiB if phase.startswith("big") else 100
        spec = self.spec(phase, queue, n, size)
        if profile is not None:
            spec["profile"] = profile
        helper = None
        if phase in ("recv-auto", "recv-client"):
            fill = run_child("raw", self.spec("fill", queue, n, size, client))
            if not fill["ok"]:
                return {"ok": False, "error": f"prefill: {fill['error']}"}
        elif phase == "big-recv":
            # A raw producer alongside: a queue prefilled with N MiB would make some
            # brokers block the producer (ActiveMQ's producer flow control).
            helper = spawn("raw", self.spec("fill", queue, n, size, client))
        elif phase == "big-send":
            helper = spawn("raw", self.spec("drain", queue, n, size, client))
        result = run_child(client, spec)
        if helper is not None:
            answer = collect(helper, spec["deadline"])
            if result["ok"] and not answer["ok"]:
                result = {"ok": False, "error": f"helper: {answer['error']}"}
        if phase == "send" or not result["ok"]:
            # Leave the queue empty: send fills it; a failed phase may leave anything.
            self.drain(queue, n, 1.0 if not result["ok"] else 3.0, client)
        return result

    def run(self) -> None:
        s = self.settings
        if "ceiling" in s.phases:
            queue = self.queue("raw", "ceiling")
            fill = run_child("raw", self.spec("fill", queue, s.n, 100))
            count = run_child("raw", self.spec("count", queue, s.n, 100)) if fill["ok"] else fill
            if not count["ok"]:
                self.drain(queue, s.n, 1.0, "raw")
            self.results[("raw", "ceiling")] = {
                "ok": fill["ok"] and count["ok"],
                "error": fill.get("error") or count.get("error"),
                "wall": fill.get("wall"),
                "recv_wall": count.get("wall"),
            }
            report_progress(self, "raw", "ceiling")
        clients: list[str] = []
        for driver in s.drivers:
            ours, peer = PAIRS[driver]
            pair = [ours, peer] if self.number % 2 else [peer, ours]
            clients += [c for c in pair if c not in clients]
        for phase in s.phases:
            if phase == "ceiling":
                continue
            for client in clients:
                self.results[(client, phase)] = self.measure(client, phase)
                report_progress(self, client, phase)
                if s.profile == f"{client}:{phase}" and self.number == 1:
                    # An extra run: the profiler's cost must not reach the table.
                    path = HERE / f"e2e-{client}-{phase}-{self.broker}.prof"
                    answer = self.measure(client, phase, str(path))
                    PROFILES.append(str(path))
                    if not answer["ok"]:
                        print(f"  profile run failed: {answer['error']}", file=sys.stderr)


def report_progress(rnd: Round, client: str, phase: str) -> None:
    r = rnd.results[(client, phase)]
    what = "ok" if r["ok"] else f"failed ({r['error']})"
    print(
        f"  round {rnd.number} {rnd.broker} {phase} {client}: {what}",
        file=sys.stderr,
        flush=True,
    )


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Metric:
    phase: str
    name: str
    better: str  # "lower" or "higher"


def metric_values(phase: str, r: dict[str, Any], n: int) -> dict[str, float]:
    """The figures a phase's answer yields (units in the names)."""
    if not r.get("ok"):
        return {}
    out: dict[str, float] = {}
    if phase == "ceiling":
        out["raw send msg/s (receipt)"] = n / r["wall"]
        out["raw receive msg/s"] = n / r["recv_wall"]
        return out
    per = r["cpu"] / n * 1e6
    if phase in ("send", "big-send"):
        if phase == "send":
            out["msg/s at the client"] = n / r.get("client_wall", r["wall"])
            out["msg/s confirmed (receipt)"] = n / r["wall"]
            out["CPU us/msg"] = per
            if "import_ms" in r:
                out["import ms"] = r["import_ms"]
        else:
            out["MB/s confirmed"] = n * MiB / 1e6 / r["wall"]
            out["CPU us/msg"] = per
    elif phase in ("recv-auto", "recv-client"):
        out["msg/s"] = n / r["wall"]
        out["CPU us/msg"] = per
    elif phase == "big-recv":
        out["MB/s"] = n * MiB / 1e6 / r["wall"]
        out["CPU us/msg"] = per
        out["peak RSS MB"] = r["maxrss_kb"] / 1024
    elif phase == "rtt":
        out["p50 us"] = r["p50"] * 1e6
        out["p99 us"] = r["p99"] * 1e6
        out["CPU us/rt"] = per
    if "sys" in r and r["cpu"] > 0:
        # The system calls' share (kernel time): the part no Python-level change cuts.
        out["kernel % of CPU"] = 100 * r["sys"] / r["cpu"]
    return out


HIGHER_IS_BETTER = ("msg/s", "MB/s")


def n_for(settings: Settings, phase: str) -> int:
    return {"rtt": settings.rtt_n, "big-send": settings.big_n, "big-recv": settings.big_n}.get(
        phase, settings.n
    )


Row = tuple[str, str, str, str]  # broker, phase, metric, driver


def round_rows(settings: Settings, rnd: Round) -> dict[Row, tuple[float | None, float | None, str]]:
    """(broker, phase, metric, driver) -> (ours, peer, note) for one round."""
    rows: dict[Row, tuple[float | None, float | None, str]] = {}
    ceiling = metric_values("ceiling", rnd.results.get(("raw", "ceiling"), {}), settings.n)
    for phase in settings.phases:
        if phase == "ceiling":
            for name, value in ceiling.items():
                rows[(rnd.broker, phase, name, "raw")] = (value, None, "")
            continue
        n = n_for(settings, phase)
        for driver in settings.drivers:
            ours, peer = PAIRS[driver]
            a = rnd.results.get((ours, phase), {"ok": False, "error": "not run"})
            b = rnd.results.get((peer, phase), {"ok": False, "error": "not run"})
            va, vb = metric_values(phase, a, n), metric_values(phase, b, n)
            note = "; ".join(
                f"{who}: failed ({r['error']})" for who, r in ((ours, a), (peer, b)) if not r["ok"]
            )
            for name in dict.fromkeys([*va, *vb]) or ["-"]:
                rows[(rnd.broker, phase, name, driver)] = (va.get(name), vb.get(name), note)
            if phase == "recv-auto" and "raw receive msg/s" in ceiling and "msg/s" in va:
                share = va["msg/s"] / ceiling["raw receive msg/s"]
                rows[(rnd.broker, phase, "ours / raw ceiling", driver)] = (share, None, "")
    return rows


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def print_round(settings: Settings, rnd: Round, rows: dict[Row, Any]) -> None:
    print(f"\n### Round {rnd.number}, {rnd.broker}\n")
    print("| phase | metric | driver | ours | peer | ours/peer |")
    print("|---|---|---|---:|---:|---:|")
    for (_, phase, name, driver), (a, b, note) in rows.items():
        label = f"{driver} vs {PAIRS[driver][1]}" if driver in PAIRS else driver
        r = ratio(a, b)
        tail = f" {note}" if note else ""
        print(
            f"| {phase} | {name} | {label} | {fmt(a)} | {fmt(b)} | "
            f"{fmt(r) + 'x' if r is not None else '-'}{tail} |"
        )
    sys.stdout.flush()


def summarise(settings: Settings, all_rows: list[dict[Row, Any]]) -> list[str]:
    """Min/median/max over rounds of the ratio, with the medians of both sides."""
    keys: dict[Row, None] = {}
    for rows in all_rows:
        keys.update(dict.fromkeys(rows))
    lines = [
        "| broker | phase | metric | driver | ours (median) | peer (median) | "
        "ours/peer min | median | max | failed rounds |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in keys:
        broker, phase, name, driver = key
        ours = [r[key][0] for r in all_rows if key in r and r[key][0] is not None]
        peer = [r[key][1] for r in all_rows if key in r and r[key][1] is not None]
        ratios = [x for r in all_rows if key in r if (x := ratio(r[key][0], r[key][1])) is not None]
        spread = ("-", "-", "-")
        if ours and (driver not in PAIRS or name.startswith("ours /")):
            # A figure with no peer (the ceiling, our share of it): its own spread.
            spread = (fmt(min(ours)), f"**{fmt(statistics.median(ours))}**", fmt(max(ours)))
        failed = sum(1 for r in all_rows if key in r and r[key][2])
        med = statistics.median
        label = f"{driver} vs {PAIRS[driver][1]}" if driver in PAIRS else driver
        cells = [
            fmt(med(ours)) if ours else "-",
            fmt(med(peer)) if peer else "-",
            *(
                (f"{fmt(min(ratios))}x", f"**{fmt(med(ratios))}x**", f"{fmt(max(ratios))}x")
                if ratios
                else spread
                if ours
                else ("-", "-", "-")
            ),
            str(failed) if failed else "",
        ]
        lines.append(f"| {broker} | {phase} | {name} | {label} | " + " | ".join(cells) + " |")
    return lines


def print_profile(path: str, top: int = 25) -> None:
    import pstats

    print(f"\n### Profile {Path(path).name} (all threads, by own time)\n")
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(top)


# --------------------------------------------------------------------------- main


#: Options whose default depends on ``--quick``: name -> (default, quick default).
QUICK: dict[str, tuple[Any, Any]] = {
    "rounds": (3, 1),
    "n": (20_000, 2_000),
    "rtt_n": (5_000, 300),
    "big_n": (1_000, 20),
    "brokers": ("rabbitmq,activemq,embedded", "embedded"),
}


def parse(argv: Sequence[str]) -> Settings:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, help="rounds (default 3; --quick: 1)")
    p.add_argument(
        "--n", type=int, help="small messages (100-byte bodies) per phase (20000; --quick: 2000)"
    )
    p.add_argument("--rtt-n", type=int, help="round trips (5000; --quick: 300)")
    p.add_argument(
        "--big-n", type=int, help="1 MiB messages per phase, peak RSS after (1000; --quick: 20)"
    )
    p.add_argument("--brokers", help=f"of {','.join(BROKERS)} (default: all; --quick: embedded)")
    p.add_argument("--phases", default=",".join(ALL_PHASES), help=f"of {','.join(ALL_PHASES)}")
    p.add_argument("--drivers", default=",".join(PAIRS), help=f"of {','.join(PAIRS)}")
    p.add_argument(
        "--heartbeat", type=int, default=10_000, help="ms, both directions, every client"
    )
    p.add_argument("--timeout", type=float, help="deadline of every child, s (default: by N)")
    p.add_argument(
        "--profile",
        metavar="CLIENT:PHASE",
        help="cProfile that child (every thread), e.g. stomp:recv-auto; prints the top functions",
    )
    p.add_argument("--json", dest="json_out", help="also write every raw answer to this file")
    p.add_argument(
        "--ours-venv",
        action="store_true",
        help="run ours in bench/.venv-ours (nothing else installed, like the peers' venvs), "
        "not in this interpreter; compares import time and peak RSS like with like",
    )
    p.add_argument(
        "--pin-broker",
        type=int,
        metavar="PID",
        help="run every thread of process PID (the broker) on the first CPU and this "
        "benchmark and its children on the others, restored at the end (Linux): shows "
        "whether a client keeps up with a broker that it does not take CPU from",
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 1 round, embedded broker, small N"
    )
    p.set_defaults(**{name: None for name in QUICK})
    args = p.parse_args(argv)
    for name, (full, quick) in QUICK.items():
        if getattr(args, name) is None:  # not given: the mode's default
            setattr(args, name, quick if args.quick else full)

    def split(value: str, allowed: Iterable[str], what: str) -> list[str]:
        items = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [v for v in items if v not in allowed]
        if unknown:
            p.error(f"unknown {what}: {', '.join(unknown)}")
        return items

    return Settings(
        rounds=args.rounds,
        n=args.n,
        rtt_n=args.rtt_n,
        big_n=args.big_n,
        brokers=split(args.brokers, BROKERS, "broker"),
        phases=split(args.phases, ALL_PHASES, "phase"),
        drivers=split(args.drivers, PAIRS, "driver"),
        heartbeat=args.heartbeat,
        timeout=args.timeout,
        profile=args.profile,
        json_out=args.json_out,
        ours_venv=args.ours_venv,
        pin_broker=args.pin_broker,
    )


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"nproc {os.cpu_count()}, CPU {cpu}, load average {load}, Python {sys.version.split()[0]}"
    )


def _threads_of(pid: int) -> list[int]:
    return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]


@contextlib.contextmanager
def pinned(broker_pid: int | None) -> Iterator[str]:
    """The broker's threads on the first CPU, this process (and so its children) on
    the rest; every affinity as it was afterwards.  Yields a line for the report."""
    if broker_pid is None:
        yield ""
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--pin-broker needs at least two CPUs")
    broker_cpus, client_cpus = {cpus[0]}, set(cpus[1:])
    before = {tid: os.sched_getaffinity(tid) for tid in _threads_of(broker_pid)}
    mine = os.sched_getaffinity(0)
    try:
        for tid in _threads_of(broker_pid):  # threads started later inherit it
            os.sched_setaffinity(tid, broker_cpus)
        os.sched_setaffinity(0, client_cpus)
        yield (
            f"# broker pid {broker_pid} on CPU {sorted(broker_cpus)}, "
            f"clients on {sorted(client_cpus)}"
        )
    finally:
        os.sched_setaffinity(0, mine)
        for tid in _threads_of(broker_pid):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, before.get(tid, mine | set(cpus)))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--serve-embedded"]:
        serve_embedded()
        return 0
    settings = parse(argv)
    global _ours_python
    if settings.ours_venv:
        _ours_python = ours_python(settings.drivers)
    compile_tree()
    for driver in settings.drivers:
        peer_python(PAIRS[driver][1])  # build the venvs before anything is timed
    started = time.time()
    print(
        f"# bench/e2e.py, run {settings.run_id}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
        f"# {machine()}\n"
        f"# rounds {settings.rounds}, N {settings.n}, round trips {settings.rtt_n}, "
        f"1 MiB messages {settings.big_n}, heart-beat {settings.heartbeat} ms, "
        f"ours run by {_ours_python}",
        flush=True,
    )
    all_rows: list[dict[Row, Any]] = []
    raw: list[dict[str, Any]] = []
    embedded: subprocess.Popen[str] | None = None
    with pinned(settings.pin_broker) as note:
        if note:
            print(note, flush=True)
        try:
            for number in range(1, settings.rounds + 1):
                rows: dict[Row, Any] = {}
                for broker in settings.brokers:
                    address = dict(BROKERS[broker])
                    if broker == "embedded" and embedded is None:
                        embedded, address["port"] = start_embedded()
                        BROKERS["embedded"]["port"] = address["port"]
                    rnd = Round(settings, broker, address, number)
                    rnd.run()
                    broker_rows = round_rows(settings, rnd)
                    print_round(settings, rnd, broker_rows)
                    rows.update(broker_rows)
                    raw += [
                        {"round": number, "broker": broker, "client": c, "phase": p, **r}
                        for (c, p), r in rnd.results.items()
                    ]
                all_rows.append(rows)
        finally:
            if embedded is not None:
                assert embedded.stdin is not None
                embedded.stdin.close()  # the broker stops at EOF on its stdin
                try:
                    embedded.wait(10)
                except subprocess.TimeoutExpired:
                    embedded.kill()
                    embedded.wait()
    print(f"\n## Summary over {settings.rounds} round(s) (ratios: ours / peer)\n")
    print("\n".join(summarise(settings, all_rows)))
    print(f"\n# {machine()}; took {time.time() - started:.0f} s")
    if settings.json_out:
        Path(settings.json_out).write_text(json.dumps(raw, indent=1))
    if PROFILES:
        for path in PROFILES:
            print_profile(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

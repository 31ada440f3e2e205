"""Finding the real brokers of the integration tier.

The brokers are described by the ``KEY=VALUE`` lines that ``scripts/brokers/start-*.sh``
print (CI ``eval``s them into the environment).  When a variable is missing and we run
as root, the start script is run here (it is idempotent: a no-op when the broker already
answers).  Otherwise the tests fail with the command that starts the broker; they are
skipped only when ``STOMP_NO_BROKERS=1`` (``scripts/test.sh`` then starts no broker) or
``STOMP_SKIP_INTEGRATION=1`` asks for it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = [
    "REPO",
    "SCRIPTS",
    "Broker",
    "BrokerUnavailable",
    "Cluster",
    "TlsFiles",
    "find_activemq",
    "find_rabbitmq",
    "find_rabbitmq_cluster",
    "find_tls_files",
    "probe_connected",
    "skip_reason",
    "skip_requested",
]

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "brokers"
# A start script installs packages on a fresh machine: bounded, but generous.
START_TIMEOUT = 900.0


class BrokerUnavailable(Exception):
    """A broker could not be found or started; the message says how to start it."""


def skip_reason() -> str | None:
    """Why the integration tier is skipped on request, or ``None`` to run it."""
    if os.environ.get("STOMP_NO_BROKERS") == "1":
        return "STOMP_NO_BROKERS=1: no real broker may be started, integration tier skipped"
    if os.environ.get("STOMP_SKIP_INTEGRATION") == "1":
        return "STOMP_SKIP_INTEGRATION=1: integration tier skipped on request"
    return None


def skip_requested() -> bool:
    """Whether the person running the tests asked to skip the integration tier."""
    return skip_reason() is not None


@dataclass(frozen=True)
class Broker:
    """One real broker's plain STOMP endpoint and how it behaves.

    Attributes:
        name: ``"rabbitmq"`` or ``"activemq"`` (also the test id).
        host: loopback address to dial.
        port: plain STOMP port.
        login: user name for CONNECT.
        passcode: password for CONNECT.
        vhost: the CONNECT ``host`` header value.
        nack_requeues: RabbitMQ redelivers a NACKed message; ActiveMQ sends it to the
            dead-letter queue ``ActiveMQ.DLQ`` (persistent messages) instead.
        ssl_port: STOMP over TLS, server authentication only (ActiveMQ).
        mtls_port: STOMP over TLS requiring a client certificate (ActiveMQ).
    """

    name: str
    host: str
    port: int
    login: str
    passcode: str
    vhost: str
    nack_requeues: bool
    ssl_port: int | None = None
    mtls_port: int | None = None


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files made by ``scripts/brokers/make-certs.sh``."""

    ca: str
    wrong_ca: str
    client_cert: str
    client_key: str
    expired_cert: str
    expired_key: str
    broker_cert: str
    broker_key: str


def _how_to_start(script: str) -> str:
    return (
        f'start it (as root) with:  set -a; eval "$(bash scripts/brokers/{script})"; set +a\n'
        "then run the tests from the same shell (or run pytest as root and it is started "
        "for you); set STOMP_NO_BROKERS=1 to skip the integration tier on purpose"
    )


def _run_start_script(script: str) -> None:
    """Run a start script and export its KEY=VALUE lines into ``os.environ``."""
    if os.geteuid() != 0:
        raise BrokerUnavailable(
            f"not running as root, so cannot run {script}; {_how_to_start(script)}"
        )
    try:
        done = subprocess.run(
            ["bash", str(SCRIPTS / script)],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokerUnavailable(f"{script} did not finish within {START_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        raise BrokerUnavailable(f"{script} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    for line in done.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.isidentifier():
            os.environ[key] = value


_probe_module: ModuleType | None = None


def _probe() -> ModuleType:
    # The scripts' own readiness probe, so "ready" means the same thing everywhere.
    global _probe_module
    if _probe_module is None:
        spec = importlib.util.spec_from_file_location("stomp_probe", SCRIPTS / "stomp_probe.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules.setdefault("stomp_probe", module)
        spec.loader.exec_module(module)
        _probe_module = module
    return _probe_module


def probe_connected(
    host: str, port: int, login: str, passcode: str, vhost: str, server: str | None = None
) -> str | None:
    """One CONNECT; ``None`` when CONNECTED came back (from ``server``), else why not."""
    try:
        _probe().probe(
            host, port, vhost=vhost, login=login, passcode=passcode, timeout=5.0, server=server
        )
    except OSError as exc:
        return str(exc)
    return None


def _ensure(
    script: str, required: tuple[str, ...], check: tuple[str, str, str, str, str], server: str
) -> None:
    """Make sure the variables exist and the broker (``server`` in CONNECTED) answers,
    starting it if we may."""
    missing = [name for name in required if not os.environ.get(name)]
    if missing:
        _run_start_script(script)
        missing = [name for name in required if not os.environ.get(name)]
        if missing:
            raise BrokerUnavailable(f"{script} did not print {', '.join(missing)}")
    host, port, login, passcode, vhost = (os.environ[name] for name in check)
    why = probe_connected(host, int(port), login, passcode, vhost, server)
    if why is not None and os.geteuid() == 0:
        # Variables from an earlier shell, broker since stopped: the script restarts it.
        _run_start_script(script)
        why = probe_connected(host, int(port), login, passcode, vhost, server)
    if why is not None:
        raise BrokerUnavailable(
            f"no STOMP CONNECTED from {host}:{port}: {why}; {_how_to_start(script)}"
        )


def find_rabbitmq() -> Broker:
    """RabbitMQ's STOMP endpoint, started if needed (see the module docstring)."""
    names = (
        "RABBITMQ_HOST",
        "RABBITMQ_STOMP_PORT",
        "RABBITMQ_USER",
        "RABBITMQ_PASSWORD",
        "RABBITMQ_VHOST",
    )
    _ensure("start-rabbitmq.sh", names, names, "RabbitMQ/")
    env = os.environ
    return Broker(
        name="rabbitmq",
        host=env["RABBITMQ_HOST"],
        port=int(env["RABBITMQ_STOMP_PORT"]),
        login=env["RABBITMQ_USER"],
        passcode=env["RABBITMQ_PASSWORD"],
        vhost=env["RABBITMQ_VHOST"],
        nack_requeues=True,
    )


def find_activemq() -> Broker:
    """ActiveMQ's STOMP endpoints, started if needed (see the module docstring)."""
    check = (
        "ACTIVEMQ_HOST",
        "ACTIVEMQ_STOMP_PORT",
        "ACTIVEMQ_USER",
        "ACTIVEMQ_PASSWORD",
        "ACTIVEMQ_HOST",
    )
    required = (*check[:4], "ACTIVEMQ_SSL_PORT", "ACTIVEMQ_MTLS_PORT", "STOMP_TEST_CA")
    _ensure("start-activemq.sh", required, check, "ActiveMQ/")
    env = os.environ
    return Broker(
        name="activemq",
        host=env["ACTIVEMQ_HOST"],
        port=int(env["ACTIVEMQ_STOMP_PORT"]),
        login=env["ACTIVEMQ_USER"],
        passcode=env["ACTIVEMQ_PASSWORD"],
        # ActiveMQ ignores the host header; send the address we dial, as clients do.
        vhost=env["ACTIVEMQ_HOST"],
        nack_requeues=False,
        ssl_port=int(env["ACTIVEMQ_SSL_PORT"]),
        mtls_port=int(env["ACTIVEMQ_MTLS_PORT"]),
    )


def find_tls_files() -> TlsFiles:
    """The test certificates (made by start-activemq.sh through make-certs.sh)."""
    names = {
        "ca": "STOMP_TEST_CA",
        "wrong_ca": "STOMP_TEST_WRONG_CA",
        "client_cert": "STOMP_TEST_CLIENT_CERT",
        "client_key": "STOMP_TEST_CLIENT_KEY",
        "expired_cert": "STOMP_TEST_EXPIRED_CERT",
        "expired_key": "STOMP_TEST_EXPIRED_KEY",
        "broker_cert": "STOMP_TEST_BROKER_CERT",
        "broker_key": "STOMP_TEST_BROKER_KEY",
    }
    if any(not os.environ.get(var) for var in names.values()):
        _run_start_script("start-activemq.sh")
    values = {field: os.environ.get(var, "") for field, var in names.items()}
    absent = [path for path in values.values() if not path or not Path(path).is_file()]
    if absent:
        raise BrokerUnavailable(
            f"test certificates missing ({', '.join(absent) or 'variables unset'}); "
            + _how_to_start("start-activemq.sh")
        )
    return TlsFiles(**values)


@dataclass(frozen=True)
class Cluster:
    """The two-node RabbitMQ cluster of ``scripts/brokers/start-rabbitmq-cluster.sh``.

    Attributes:
        host: loopback address of both nodes.
        ports: each node's STOMP port, in the order of ``nodes``.
        nodes: the Erlang node names (``rabbit-a@localhost``, ``rabbit-b@localhost``).
        login: user name for CONNECT.
        passcode: password for CONNECT.
        vhost: the CONNECT ``host`` header value.
        ctl: ``rabbitmq-cluster-ctl.sh``, which stops and starts one node (``a`` or ``b``).
    """

    host: str
    ports: tuple[int, ...]
    nodes: tuple[str, ...]
    login: str
    passcode: str
    vhost: str
    ctl: str


CLUSTER_SCRIPT = "start-rabbitmq-cluster.sh"


def _cluster_from_env() -> Cluster:
    env = os.environ
    return Cluster(
        host=env["RABBITMQ_CLUSTER_HOST"],
        ports=tuple(int(port) for port in env["RABBITMQ_CLUSTER_STOMP_PORTS"].split(",")),
        nodes=tuple(env["RABBITMQ_CLUSTER_NODES"].split(",")),
        login=env["RABBITMQ_CLUSTER_USER"],
        passcode=env["RABBITMQ_CLUSTER_PASSWORD"],
        vhost=env["RABBITMQ_CLUSTER_VHOST"],
        ctl=env["RABBITMQ_CLUSTER_CTL"],
    )


def _cluster_problem(cluster: Cluster) -> str | None:
    for node, port in zip(cluster.nodes, cluster.ports, strict=True):
        why = probe_connected(
            cluster.host, port, cluster.login, cluster.passcode, cluster.vhost, "RabbitMQ/"
        )
        if why is not None:
            return f"no STOMP CONNECTED from {node} at {cluster.host}:{port}: {why}"
    return None


def find_rabbitmq_cluster() -> Cluster:
    """The two-node cluster, both nodes answering; started (or restarted) if needed and
    we are root (the start script is idempotent)."""
    names = (
        "RABBITMQ_CLUSTER_HOST",
        "RABBITMQ_CLUSTER_STOMP_PORTS",
        "RABBITMQ_CLUSTER_NODES",
        "RABBITMQ_CLUSTER_USER",
        "RABBITMQ_CLUSTER_PASSWORD",
        "RABBITMQ_CLUSTER_VHOST",
        "RABBITMQ_CLUSTER_CTL",
    )
    if any(not os.environ.get(name) for name in names):
        _run_start_script(CLUSTER_SCRIPT)
        missing = [name for name in names if not os.environ.get(name)]
        if missing:
            raise BrokerUnavailable(f"{CLUSTER_SCRIPT} did not print {', '.join(missing)}")
    cluster = _cluster_from_env()
    why = _cluster_problem(cluster)
    if why is not None and os.geteuid() == 0:
        _run_start_script(CLUSTER_SCRIPT)
        cluster = _cluster_from_env()
        why = _cluster_problem(cluster)
    if why is not None:
        raise BrokerUnavailable(f"{why}; {_how_to_start(CLUSTER_SCRIPT)}")
    return cluster

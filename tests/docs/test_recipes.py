"""The recipes of the documentation (docs/recipes/*.py) run as users run them.

Each recipe is a complete program; it runs here as a subprocess against the embedded
broker and against RabbitMQ (127.0.0.1:61613, guest/guest, vhost "/").  The RabbitMQ
variants are skipped only when ``STOMP_NO_BROKERS=1`` or ``RABBITMQ_STOMP_PORT`` is not
set, as for the integration tier; the TLS recipe also runs against ActiveMQ's mutual-TLS
port when ``ACTIVEMQ_MTLS_PORT`` is set.  Every destination name is unique per run, so
parallel runs do not meet.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from stomp_broker import FaultRule, Faults, RunningBroker

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "docs" / "recipes"
# A recipe that hangs fails with its output instead of hanging the suite.
RECIPE_TIMEOUT = 180.0


@dataclass(frozen=True)
class Target:
    """Where a recipe connects: ``--host/--port/--login/--passcode/--vhost``."""

    name: str
    host: str
    port: int
    login: str = "guest"
    passcode: str = "guest"
    vhost: str = "/"

    def args(self) -> list[str]:
        return [
            *("--host", self.host, "--port", str(self.port)),
            *("--login", self.login, "--passcode", self.passcode, "--vhost", self.vhost),
        ]


def rabbitmq_target() -> Target:
    """RabbitMQ from the environment, or skip (STOMP_NO_BROKERS=1 or not configured)."""
    if os.environ.get("STOMP_NO_BROKERS") == "1" or not os.environ.get("RABBITMQ_STOMP_PORT"):
        pytest.skip("RabbitMQ not configured (STOMP_NO_BROKERS=1 or no RABBITMQ_STOMP_PORT)")
    env = os.environ
    return Target(
        "rabbitmq",
        env.get("RABBITMQ_HOST", "127.0.0.1"),
        int(env["RABBITMQ_STOMP_PORT"]),
        env.get("RABBITMQ_USER", "guest"),
        env.get("RABBITMQ_PASSWORD", "guest"),
        env.get("RABBITMQ_VHOST", "/"),
    )


@pytest.fixture(params=["embedded", "rabbitmq"])
def target(request: pytest.FixtureRequest, broker: RunningBroker) -> Target:
    """Each recipe test runs once per broker."""
    if request.param == "rabbitmq":
        return rabbitmq_target()
    host, port = broker
    return Target("embedded", host, port)


def unique(kind: str = "queue") -> str:
    return f"/{kind}/docs-recipe-{uuid.uuid4().hex}"


def run_recipe(name: str, *args: str) -> str:
    """Run ``docs/recipes/<name>``; its stdout when it exits 0, else fail with its output."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "drivers")])}
    try:
        done = subprocess.run(
            [sys.executable, str(RECIPES / name), *args],
            capture_output=True,
            text=True,
            timeout=RECIPE_TIMEOUT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"{name} did not finish in {RECIPE_TIMEOUT} s:\n{timeout.stdout}")
    if done.returncode != 0:
        pytest.fail(f"{name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def test_worker_retries_then_dead_letters(target: Target) -> None:
    out = run_recipe("worker.py", *target.args(), "--queue", unique(), "--max-attempts", "3")
    # Every "flaky" job is retried once and done; the "poison" job fails three times.
    assert out.count("done on attempt 2") == 2
    assert len(re.findall(r"^'poison 4' failed on attempt", out, re.MULTILINE)) == 3
    assert "'poison 4' failed on attempt 3: dead-lettered" in out
    assert "dead letter 'poison 4': 'poison 4' failed on attempt 3" in out
    assert out.strip().endswith("done=5 dead=1")


def test_publisher_10000_with_receipts_in_flight(target: Target) -> None:
    out = run_recipe(
        "publisher.py", *target.args(), "--queue", unique(), "--count", "10000", "--verify"
    )
    assert re.search(r"^published 10000, confirmed 10000 in [\d.]+ s$", out, re.MULTILINE)
    assert "received back 10000" in out


def test_request_reply_over_a_temporary_queue() -> None:
    # RabbitMQ only: the embedded broker has no /temp-queue/ yet (the page says so).
    rabbitmq = rabbitmq_target()
    out = run_recipe("request_reply.py", *rabbitmq.args(), "--service", unique(), "--requests", "5")
    for n in range(5):
        assert f"request 'hello {n}' -> reply 'HELLO {n}'" in out


def test_prefetch_window_bounds_the_client_buffer(target: Target) -> None:
    out = run_recipe(
        "prefetch_consumer.py",
        *target.args(),
        *("--queue", unique(), "--count", "200", "--window", "10", "--buffer", "20"),
    )
    found = re.search(r"^received 200 of 200, at most (\d+) buffered$", out, re.MULTILINE)
    assert found, out
    # The broker never ran more than the window ahead of our acks.
    assert 1 <= int(found.group(1)) <= 10


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The test PEM files: the integration tier's, or made here by make-certs.sh."""
    directory = os.environ.get("STOMP_TEST_CERT_DIR", "")
    if not (directory and Path(directory, "client.pem").is_file()):
        directory = str(tmp_path_factory.mktemp("certs"))
        subprocess.run(
            ["bash", str(REPO / "scripts" / "brokers" / "make-certs.sh")],
            env={**os.environ, "STOMP_TEST_CERT_DIR": directory},
            capture_output=True,
            check=True,
            timeout=120,
        )
    return {
        name: str(Path(directory, file))
        for name, file in [
            ("--ca", "ca.pem"),
            ("--cert", "client.pem"),
            ("--key", "client.key"),
            ("--broker-cert", "broker.pem"),
            ("--broker-key", "broker.key"),
        ]
    }


def _pem_args(files: dict[str, str], *names: str) -> list[str]:
    return [part for name in names for part in (name, files[name])]


def test_tls_client_certificate_embedded_broker(tls_files: dict[str, str]) -> None:
    out = run_recipe(
        "tls_client_cert.py",
        "--embedded",
        *_pem_args(tls_files, "--ca", "--cert", "--key", "--broker-cert", "--broker-key"),
    )
    assert "embedded broker with mutual TLS on 127.0.0.1:" in out
    assert "received 'sealed' over TLS" in out


def test_tls_client_certificate_is_required_by_the_embedded_broker(
    tls_files: dict[str, str],
) -> None:
    # The same program without a client certificate the broker trusts must fail: the
    # recipe's success above proves that mutual TLS, not plain TLS, was in use.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "drivers")])}
    wrong_ca = tls_files["--ca"].replace("ca.pem", "wrong-ca.pem")
    done = subprocess.run(
        [
            sys.executable,
            str(RECIPES / "tls_client_cert.py"),
            "--embedded",
            *_pem_args(tls_files, "--ca", "--broker-cert", "--broker-key"),
            # a client certificate of another CA: the broker must refuse it
            *("--cert", wrong_ca, "--key", wrong_ca.replace(".pem", ".key")),
        ],
        capture_output=True,
        text=True,
        timeout=RECIPE_TIMEOUT,
        env=env,
        check=False,
    )
    assert done.returncode != 0
    assert "received 'sealed'" not in done.stdout


def test_tls_client_certificate_activemq(tls_files: dict[str, str]) -> None:
    port = os.environ.get("ACTIVEMQ_MTLS_PORT")
    if os.environ.get("STOMP_NO_BROKERS") == "1" or not port:
        pytest.skip("ActiveMQ not configured (STOMP_NO_BROKERS=1 or no ACTIVEMQ_MTLS_PORT)")
    out = run_recipe(
        "tls_client_cert.py",
        *("--host", os.environ.get("ACTIVEMQ_HOST", "127.0.0.1"), "--port", port),
        *("--login", os.environ.get("ACTIVEMQ_USER", "admin")),
        *("--passcode", os.environ.get("ACTIVEMQ_PASSWORD", "password")),
        *_pem_args(tls_files, "--ca", "--cert", "--key"),
    )
    assert f"connected over TLS to 127.0.0.1:{port}" in out
    assert "received 'sealed' over TLS" in out


def _closed_port() -> int:
    """A loopback port where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_failover_skips_a_dead_broker(target: Target) -> None:
    dead = _closed_port()
    hosts = f"127.0.0.1:{dead},{target.host}:{target.port}"
    out = run_recipe(
        "failover.py",
        *("--hosts", hosts, "--login", target.login, "--passcode", target.passcode),
        *("--vhost", target.vhost, "--queue", unique(), "--count", "20"),
    )
    assert f"state connecting to 127.0.0.1:{dead} (could not connect" in out
    assert f"state connected to {target.host}:{target.port}" in out
    assert "received all 20 messages" in out


def test_failover_reconnects_after_a_drop(broker_factory: Callable[..., RunningBroker]) -> None:
    # The broker drops the first connection after its 10th frame, in the middle of the
    # run: the client reconnects and every message still arrives.
    host, port = broker_factory(
        fault_rules=[FaultRule(index=1, faults=Faults(close_after_frames=10))]
    )
    dead = _closed_port()
    out = run_recipe(
        "failover.py", "--hosts", f"127.0.0.1:{dead},{host}:{port}", "--queue", unique()
    )
    assert "state reconnecting" in out
    assert "received all 20 messages" in out


def test_every_recipe_is_tested() -> None:
    tested = {"worker.py", "publisher.py", "request_reply.py", "prefetch_consumer.py"}
    tested |= {"tls_client_cert.py", "failover.py"}
    assert {path.name for path in RECIPES.glob("*.py")} == tested

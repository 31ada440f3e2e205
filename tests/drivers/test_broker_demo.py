"""The README's main job: ``stomp-demo`` runs a whole exchange and says so."""

from __future__ import annotations

import os
import socket
import subprocess

from stomp_broker import RunningBroker
from tests.console import console_script

STEPS = [
    "connected with STOMP 1.2 (server: stomp_broker/",
    "subscribed to /queue/stomp-demo-",
    "sent 'hello from stomp-sansio'",
    "received 'hello from stomp-sansio'",
    "acknowledged it",
    "began transaction ",
    "committed the transaction",
    "received 'sent inside a transaction' and acknowledged it",
    "disconnected",
    "stomp-demo: all steps done",
]


def run_demo(port: int) -> subprocess.CompletedProcess[str]:
    command = console_script("stomp-demo")
    env = {**os.environ, "STOMP_HOST": "127.0.0.1", "STOMP_PORT": str(port)}
    return subprocess.run(
        [command, "--timeout", "60"], capture_output=True, text=True, env=env, timeout=90
    )


def check_steps(stdout: str) -> None:
    position = 0
    for step in STEPS:
        found = stdout.find(step, position)
        assert found >= 0, f"missing or out of order: {step!r} in\n{stdout}"
        position = found + len(step)


def test_demo_starts_the_embedded_broker_when_none_listens() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on that port now (it was only bound, never listened on).
    result = run_demo(port)
    assert result.returncode == 0, result.stderr
    assert f"nothing listens on 127.0.0.1:{port}: started the embedded broker" in result.stdout
    check_steps(result.stdout)


def test_demo_uses_a_broker_that_already_listens(broker: RunningBroker) -> None:
    result = run_demo(broker.port)
    assert result.returncode == 0, result.stderr
    assert f"a broker listens on 127.0.0.1:{broker.port}: using it" in result.stdout
    check_steps(result.stdout)


def test_demo_fails_with_a_broker_that_refuses_the_session(
    broker: RunningBroker,
) -> None:
    broker.faults.connect_error = "no demo today"
    result = run_demo(broker.port)
    assert result.returncode == 1
    assert "stomp-demo FAILED" in result.stderr

"""Issue 17 parts 2-4 on real brokers, in all three client drivers and the CLI.

RabbitMQ refuses a wrong passcode with ERROR ``message:Bad CONNECT`` and the reason in
the body ("Access refused for user 'guest'"): the exception's text must carry both.
ActiveMQ's TLS port with the wrong CA: the ssl library's reason.  The metrics snapshot
counts a real broker's receipts and messages the same way in every driver.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from broker_env import Broker, TlsFiles

import stomp
import stomp_asyncio
import stomp_trio
from stomp_core import MetricsSnapshot

WAIT = 20.0
DRIVERS = ("asyncio", "stomp", "trio")
ROOT = Path(__file__).resolve().parents[2]


def _connect_error(
    driver: str,
    host: str,
    port: int,
    *,
    login: str | None,
    passcode: str | None,
    vhost: str,
    ca: str | None = None,
) -> str:
    """The text of what connecting raises, in ``driver``."""
    if driver == "stomp":
        conn = stomp.Connection([(host, port)], reconnect_attempts_max=1, timeout=WAIT, vhost=vhost)
        if ca is not None:
            conn.set_ssl([(host, port)], ca_certs=ca)
        try:
            with pytest.raises(stomp.exception.ConnectFailedException) as caught:
                conn.connect(login, passcode, wait=True)
        finally:
            conn.disconnect()
        return str(caught.value)
    options: dict[str, Any] = dict(
        login=login,
        passcode=passcode,
        vhost=vhost,
        reconnect=None,
        connect_timeout=WAIT,
        ssl=ssl.create_default_context(cafile=ca) if ca is not None else None,
    )
    if driver == "trio":

        async def run_trio() -> None:
            async with stomp_trio.open_connection([(host, port)], **options):
                pass  # pragma: no cover - refused

        with pytest.raises(stomp_trio.ConnectFailed) as trio_caught:
            trio.run(run_trio)
        return str(trio_caught.value)

    async def run_asyncio() -> None:
        async with stomp_asyncio.open_connection([(host, port)], **options):
            pass  # pragma: no cover - refused

    with pytest.raises(stomp_asyncio.ConnectFailed) as asyncio_caught:
        asyncio.run(asyncio.wait_for(run_asyncio(), WAIT))
    return str(asyncio_caught.value)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(ROOT / "drivers"), env.get("PYTHONPATH", "")]
    )
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "stomp", *args],
        input="",
        capture_output=True,
        text=True,
        timeout=WAIT * 2,
        env=env,
        check=False,
    )


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_wrong_passcode_on_rabbitmq_says_access_refused(rabbitmq: Broker, driver: str) -> None:
    text = _connect_error(
        driver,
        rabbitmq.host,
        rabbitmq.port,
        login=rabbitmq.login,
        passcode="not-the-passcode",
        vhost=rabbitmq.vhost,
    )
    assert "Bad CONNECT" in text
    assert f"Access refused for user '{rabbitmq.login}'" in text
    assert "not-the-passcode" not in text


def test_the_cli_says_access_refused(rabbitmq: Broker) -> None:
    done = _cli("-H", rabbitmq.host, "-P", str(rabbitmq.port), "-U", rabbitmq.login, "-W", "not-it")
    shown = done.stdout + done.stderr
    assert done.returncode == 1
    assert f"Access refused for user '{rabbitmq.login}'" in shown
    assert "not-it" not in shown


@pytest.mark.parametrize("driver", DRIVERS)
def test_tls_with_the_wrong_ca_gives_the_ssl_librarys_reason(
    activemq: Broker, tls_files: TlsFiles, driver: str
) -> None:
    assert activemq.ssl_port is not None
    text = _connect_error(
        driver,
        activemq.host,
        activemq.ssl_port,
        login=activemq.login,
        passcode=activemq.passcode,
        vhost=activemq.vhost,
        ca=tls_files.wrong_ca,
    )
    assert f"{activemq.host}:{activemq.ssl_port}" in text
    assert "CERTIFICATE_VERIFY_FAILED" in text


def test_the_cli_gives_the_ssl_librarys_reason(activemq: Broker, tls_files: TlsFiles) -> None:
    assert activemq.ssl_port is not None
    done = _cli(
        "-H",
        activemq.host,
        "-P",
        str(activemq.ssl_port),
        "--ssl",
        "--ssl-ca-file",
        tls_files.wrong_ca,
    )
    assert done.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in done.stdout + done.stderr


# -- metrics ---------------------------------------------------------------------------


def _blocking(broker: Broker, queue: str) -> MetricsSnapshot:
    conn = stomp.Connection12([(broker.host, broker.port)], heartbeats=(0, 0), vhost=broker.vhost)
    cond = threading.Condition()
    seen: dict[str, list[Any]] = {"message": [], "receipt": []}

    class Recorder(stomp.ConnectionListener):
        def on_message(self, frame: Any) -> None:
            with cond:
                seen["message"].append(frame)
                cond.notify_all()

        def on_receipt(self, frame: Any) -> None:
            with cond:
                seen["receipt"].append(frame)
                cond.notify_all()

    def wait(kind: str, count: int) -> None:
        with cond:
            assert cond.wait_for(lambda: len(seen[kind]) >= count, WAIT), seen

    conn.set_listener("recorder", Recorder())
    conn.connect(broker.login, broker.passcode, wait=True)
    try:
        conn.subscribe(queue, id="1", ack="client-individual")
        for number in range(3):
            conn.send(queue, f"body {number}", receipt=f"r-{number}")
        wait("receipt", 3)
        wait("message", 2)
        first, second = seen["message"][:2]
        conn.ack(first.headers["ack"], receipt="r-ack")
        conn.ack(second.headers["ack"], receipt="r-ack2")
        wait("receipt", 5)
    finally:
        conn.disconnect()
    return conn.metrics()


async def _trio(broker: Broker, queue: str) -> MetricsSnapshot:
    with trio.fail_after(WAIT):
        async with (
            stomp_trio.open_connection(
                [(broker.host, broker.port)],
                login=broker.login,
                passcode=broker.passcode,
                vhost=broker.vhost,
                heartbeats=(0, 0),
            ) as client,
            client.subscribe(queue, ack="client-individual", receipt=True) as sub,
        ):
            for number in range(3):
                await client.send(queue, f"body {number}", receipt=True)
            for _ in range(2):
                message = await sub.get()
                await message.ack(receipt=True)
    return client.metrics()


async def _asyncio(broker: Broker, queue: str) -> MetricsSnapshot:
    async with (
        stomp_asyncio.open_connection(
            [(broker.host, broker.port)],
            login=broker.login,
            passcode=broker.passcode,
            vhost=broker.vhost,
            heartbeats=(0, 0),
        ) as client,
        client.subscribe(queue, ack="client-individual", receipt=True) as sub,
    ):
        for number in range(3):
            await client.send(queue, f"body {number}", receipt=True)
        for _ in range(2):
            message = await sub.get()
            await message.ack(receipt=True)
    return client.metrics()


SCENARIOS: dict[str, Callable[[Broker, str], MetricsSnapshot]] = {
    "stomp": _blocking,
    "trio": lambda broker, queue: trio.run(_trio, broker, queue),
    "asyncio": lambda broker, queue: asyncio.run(asyncio.wait_for(_asyncio(broker, queue), WAIT)),
}


@pytest.mark.parametrize("driver", DRIVERS)
def test_metrics_on_rabbitmq(rabbitmq: Broker, driver: str) -> None:
    snapshot = SCENARIOS[driver](rabbitmq, f"/queue/metrics-{uuid.uuid4()}")
    assert (snapshot.messages_sent, snapshot.acks, snapshot.nacks) == (3, 2, 0)
    # The third message may or may not have been delivered (prefetch) before leaving.
    assert 2 <= snapshot.messages_received <= 3
    assert (snapshot.connections, snapshot.reconnects, snapshot.errors_received) == (1, 0, 0)
    # Three SENDs, two ACKs and the DISCONNECT asked for a receipt; RabbitMQ confirms each.
    assert snapshot.receipts >= 5
    assert snapshot.receipt_rtt_p50 is not None
    assert snapshot.receipt_rtt_p99 is not None
    assert 0 <= snapshot.receipt_rtt_p50 <= snapshot.receipt_rtt_p99 < WAIT
    assert snapshot.bytes_sent > 0
    assert snapshot.bytes_received > 0
    assert snapshot.frames_sent >= 8  # CONNECT, SUBSCRIBE, 3 SEND, 2 ACK, DISCONNECT


# -- an ERROR on an open connection ------------------------------------------------------


@pytest.mark.parametrize("driver", ["asyncio", "trio"])
def test_an_error_on_an_open_connection_says_what_rabbitmq_said(
    rabbitmq: Broker, driver: str
) -> None:
    # RabbitMQ answers a SUBSCRIBE to a destination it does not know with ERROR
    # message:Unknown destination, the details in the body, and closes.
    options: dict[str, Any] = dict(
        login=rabbitmq.login, passcode=rabbitmq.passcode, vhost=rabbitmq.vhost, reconnect=None
    )
    where = [(rabbitmq.host, rabbitmq.port)]

    async def trio_main() -> None:
        with trio.fail_after(WAIT):
            async with (
                stomp_trio.open_connection(where, **options) as client,
                client.subscribe("/nowhere/at-all", receipt=True),
            ):
                pass  # pragma: no cover - refused

    async def asyncio_main() -> None:
        async with (
            stomp_asyncio.open_connection(where, **options) as client,
            client.subscribe("/nowhere/at-all", receipt=True),
        ):
            pass  # pragma: no cover - refused

    def run() -> None:
        if driver == "trio":
            trio.run(trio_main)
        else:
            asyncio.run(asyncio.wait_for(asyncio_main(), WAIT))

    # Both drivers raise the core's exception types (the subscription's receipt wait
    # fails with ConnectionLost, its cause the BrokerError).
    with pytest.raises(stomp_trio.StompError) as caught:
        run()
    text = str(caught.value)
    assert "Unknown destination" in text
    assert "'/nowhere/at-all' is not a valid destination" in text


# -- the frame log -----------------------------------------------------------------------

FRAME_LOGGERS = {
    "stomp": "stomp.py",
    "trio": "stomp_trio.frames",
    "asyncio": "stomp_asyncio.frames",
}


@pytest.mark.parametrize("driver", DRIVERS)
def test_the_frame_log_on_rabbitmq(
    rabbitmq: Broker, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=FRAME_LOGGERS[driver])
    queue = f"/queue/log-{uuid.uuid4()}"
    SCENARIOS[driver](rabbitmq, queue)
    lines = [r.getMessage() for r in caplog.records if r.name == FRAME_LOGGERS[driver]]
    # The blocking driver sends STOMP, as stomp.py does.
    connect = next(line for line in lines if line.startswith(("sent CONNECT ", "sent STOMP ")))
    assert "passcode='********'" in connect
    assert f"passcode='{rabbitmq.passcode}'" not in caplog.text
    connected = next(line for line in lines if line.startswith("received CONNECTED "))
    assert "server='RabbitMQ" in connected
    sends = [line for line in lines if line.startswith("sent SEND ")]
    assert len(sends) == 3
    assert all(f"destination='{queue}'" in line for line in sends)
    assert sends[0].endswith("body=b'body 0'")
    assert sum(line.startswith("received MESSAGE ") for line in lines) >= 2
    assert sum(line.startswith("sent ACK ") for line in lines) == 2
    assert sum(line.startswith("received RECEIPT ") for line in lines) >= 5

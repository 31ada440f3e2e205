"""A first connect with defaults works in every driver, on every broker (issue 15, step 6).

Nobody passes ``vhost``: the CONNECT ``host`` header is each driver's default, which must be
``"/"`` (``stomp_core.client.DEFAULT_VHOST``; the blocking driver's 1.1 default): a stock
RabbitMQ has that vhost only, ActiveMQ and the embedded broker ignore the header.

The RabbitMQ under test also has vhosts named ``127.0.0.1`` and ``localhost`` (made by the
broker scripts for other tests), so a client that sent the dialled name would still get in
there.  The proof that the default is ``"/"`` is therefore a meeting on that vhost: what a
default client sends, a client that explicitly asks for ``"/"`` receives, and the other
way round.  RabbitMQ keeps vhosts apart, so on any other vhost the message would never
arrive and the wait would run out.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import trio
from broker_env import Broker

import stomp
import stomp_asyncio
import stomp_trio
from stomp_broker import run_broker_in_thread

WAIT = 10.0
#: "stomp" is stomp.Connection (STOMP 1.1), "stomp12" stomp.Connection12, whose CONNECT
#: stomp.py filled with the broker's host name.
DRIVERS = ("stomp", "stomp12", "trio", "asyncio")
STOMP_CLASSES = {"stomp": stomp.Connection, "stomp12": stomp.Connection12}


@pytest.fixture(scope="module")
def embedded() -> Iterator[Broker]:
    """The embedded broker, as a :class:`Broker` record (it checks no login)."""
    with run_broker_in_thread() as (host, port):
        yield Broker(
            name="embedded",
            host=host,
            port=port,
            login="guest",
            passcode="guest",
            vhost="",  # unused: the point is to send none
            nack_requeues=True,
        )


# -- the three drivers, each with defaults only (no vhost, no version) -------------------


def _stomp_send(
    cls: type[stomp.Connection | stomp.Connection12], broker: Broker, destination: str, body: bytes
) -> None:
    conn = cls([(broker.host, broker.port)])
    conn.connect(broker.login, broker.passcode, wait=True)
    try:
        conn.send(destination, body)
    finally:
        # DISCONNECT waits for its RECEIPT, which the broker sends after the SEND before it.
        conn.disconnect(receipt="bye")


def _stomp_receive(
    cls: type[stomp.Connection | stomp.Connection12], broker: Broker, destination: str
) -> bytes:
    conn = cls([(broker.host, broker.port)])
    listener = stomp.listener.TestListener(print_to_log=False)
    conn.set_listener("t", listener)
    conn.connect(broker.login, broker.passcode, wait=True)
    try:
        conn.subscribe(destination, id="1", ack="auto")
        assert listener.wait_for_message(WAIT), f"nothing on {destination} in {WAIT} s"
        latest = listener.get_latest_message()
        assert latest is not None
        body = latest[1]
        return body if isinstance(body, bytes) else str(body).encode()
    finally:
        conn.disconnect(receipt="bye")


def _trio_send(broker: Broker, destination: str, body: bytes) -> None:
    async def main() -> None:
        with trio.fail_after(WAIT):
            async with stomp_trio.open_connection(
                [(broker.host, broker.port)], login=broker.login, passcode=broker.passcode
            ) as client:
                await client.send(destination, body, receipt=True)

    trio.run(main)


def _trio_receive(broker: Broker, destination: str) -> bytes:
    async def main() -> bytes:
        with trio.fail_after(WAIT):
            async with (
                stomp_trio.open_connection(
                    [(broker.host, broker.port)], login=broker.login, passcode=broker.passcode
                ) as client,
                client.subscribe(destination) as sub,
            ):
                return (await sub.get()).body

    return trio.run(main)


async def _asyncio_send(
    broker: Broker, destination: str, body: bytes, vhost: str | None = None
) -> None:
    async with stomp_asyncio.open_connection(
        [(broker.host, broker.port)], login=broker.login, passcode=broker.passcode, vhost=vhost
    ) as client:
        await client.send(destination, body, receipt=True)


async def _asyncio_receive(broker: Broker, destination: str, vhost: str | None = None) -> bytes:
    async with (
        stomp_asyncio.open_connection(
            [(broker.host, broker.port)], login=broker.login, passcode=broker.passcode, vhost=vhost
        ) as client,
        client.subscribe(destination) as sub,
    ):
        return (await sub.get(WAIT)).body


def send_with_defaults(driver: str, broker: Broker, destination: str, body: bytes) -> None:
    if driver in STOMP_CLASSES:
        _stomp_send(STOMP_CLASSES[driver], broker, destination, body)
    elif driver == "trio":
        _trio_send(broker, destination, body)
    else:
        asyncio.run(asyncio.wait_for(_asyncio_send(broker, destination, body), WAIT))


def receive_with_defaults(driver: str, broker: Broker, destination: str) -> bytes:
    if driver in STOMP_CLASSES:
        return _stomp_receive(STOMP_CLASSES[driver], broker, destination)
    if driver == "trio":
        return _trio_receive(broker, destination)
    return asyncio.run(asyncio.wait_for(_asyncio_receive(broker, destination), WAIT))


# -- the tests ---------------------------------------------------------------------------


def _queue() -> str:
    return f"/queue/default-host-{uuid.uuid4().hex}"


@pytest.mark.parametrize("driver", DRIVERS)
def test_defaults_meet_explicit_slash_vhost_on_rabbitmq(driver: str, rabbitmq: Broker) -> None:
    # Default client -> a client that asked for vhost "/" explicitly.
    destination, body = _queue(), f"from default {driver}".encode()
    send_with_defaults(driver, rabbitmq, destination, body)
    received = asyncio.run(
        asyncio.wait_for(_asyncio_receive(rabbitmq, destination, vhost="/"), WAIT)
    )
    assert received == body
    # And back: explicit "/" -> the default client.
    destination, body = _queue(), f"to default {driver}".encode()
    asyncio.run(asyncio.wait_for(_asyncio_send(rabbitmq, destination, body, vhost="/"), WAIT))
    assert receive_with_defaults(driver, rabbitmq, destination) == body


@pytest.mark.parametrize("driver", DRIVERS)
def test_defaults_work_on_activemq(driver: str, activemq: Broker) -> None:
    destination, body = _queue(), f"activemq {driver}".encode()
    send_with_defaults(driver, activemq, destination, body)
    assert receive_with_defaults(driver, activemq, destination) == body


@pytest.mark.parametrize("driver", DRIVERS)
def test_defaults_work_on_the_embedded_broker(driver: str, embedded: Broker) -> None:
    destination, body = _queue(), f"embedded {driver}".encode()
    send_with_defaults(driver, embedded, destination, body)
    assert receive_with_defaults(driver, embedded, destination) == body

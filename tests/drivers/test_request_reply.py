"""Request/reply in the async drivers (issue 17 item 5): ``client.request()`` and
``client.reply()`` on the embedded broker, RabbitMQ and ActiveMQ.

The brokers differ in how the requester gets its replies (RabbitMQ subscribes the
connection to ``/temp-queue/<name>`` implicitly and refuses a SUBSCRIBE to it; ActiveMQ
delivers only to one), so each scenario runs on all three.  A real broker is skipped
when its environment (``scripts/brokers/start-*.sh``) is not loaded.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import trio

import stomp_asyncio
import stomp_core.client as stomp_core_client
import stomp_trio
from stomp_broker import FaultRule, Faults, RunningBroker
from stomp_core.client import CORRELATION_ID, ReceivedMessage

#: A bound on every wait for a reply that must come.
PATIENCE = 10.0
#: A wait for a reply that must not come in time.
SHORT = 0.3


@dataclass(frozen=True)
class Target:
    url: str
    login: str | None
    passcode: str | None


TARGETS = [
    "embedded",
    pytest.param("rabbitmq", marks=pytest.mark.integration),
    pytest.param("activemq", marks=pytest.mark.integration),
]


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> Target:
    """Where to connect: the embedded broker, or a real one from its environment."""
    name = request.param
    if name == "embedded":
        broker: RunningBroker = request.getfixturevalue("broker")
        return Target(f"stomp://{broker.host}:{broker.port}", None, None)
    prefix = name.upper()
    port = os.environ.get(f"{prefix}_STOMP_PORT")
    if port is None:
        pytest.skip(f"{prefix}_STOMP_PORT is not set (scripts/brokers/start-{name}.sh)")
    host = os.environ.get(f"{prefix}_HOST", "127.0.0.1")
    return Target(
        f"stomp://{host}:{port}",
        os.environ.get(f"{prefix}_USER"),
        os.environ.get(f"{prefix}_PASSWORD"),
    )


def queue() -> str:
    return f"/queue/rr-{uuid.uuid4().hex}"


def dropped(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == logger and "dropped: no request waits" in r.getMessage()
    ]


# -- asyncio -----------------------------------------------------------------------------


def test_asyncio_request_reply(target: Target, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="stomp_asyncio")
    work = queue()

    async def main() -> None:
        async with (
            stomp_asyncio.open_connection(
                target.url, login=target.login, passcode=target.passcode
            ) as server,
            stomp_asyncio.open_connection(
                target.url, login=target.login, passcode=target.passcode
            ) as requester,
            server.subscribe(work, receipt=True) as sub,
        ):

            async def serve(count: int) -> list[dict[str, str]]:
                seen = []
                for _ in range(count):
                    request = await sub.get(PATIENCE)
                    seen.append(dict(request.headers))
                    await server.reply(request, request.text.upper(), headers={"served": "yes"})
                return seen

            # Two requests at once: each gets its own reply.
            serving = asyncio.ensure_future(serve(2))
            first, second = await asyncio.gather(
                requester.request(work, "one", timeout=PATIENCE),
                requester.request(work, "two", timeout=PATIENCE, headers={"x-n": "2"}),
            )
            seen = await serving
            assert (first.text, second.text) == ("ONE", "TWO")
            assert first.headers["served"] == "yes"
            assert first.headers[CORRELATION_ID] != second.headers[CORRELATION_ID]
            assert {h[CORRELATION_ID] for h in seen} == {
                first.headers[CORRELATION_ID],
                second.headers[CORRELATION_ID],
            }
            assert all(h["reply-to"] for h in seen)
            assert [h.get("x-n") for h in seen if h.get("x-n")] == ["2"]

            # Nobody answers in time: the driver's timeout error.
            with pytest.raises(asyncio.TimeoutError, match="no reply"):
                await requester.request(work, "late", timeout=SHORT)
            # The answer comes after all: dropped; the next request gets its own.
            late = await sub.get(PATIENCE)
            await server.reply(late, "too late")
            serving = asyncio.ensure_future(serve(1))
            third = await requester.request(work, "three", timeout=PATIENCE)
            await serving
            assert third.text == "THREE"

            with pytest.raises(ValueError, match="reply-to"):
                await requester.request(work, "x", headers={"reply-to": "/queue/mine"})
            with pytest.raises(ValueError, match="no reply-to"):
                await server.reply(third, "x")

    asyncio.run(main())
    assert len(dropped(caplog, "stomp_asyncio")) == 1


# -- trio --------------------------------------------------------------------------------


def test_trio_request_reply(target: Target, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="stomp_trio")
    work = queue()

    async def main() -> None:
        async with (
            stomp_trio.open_connection(
                target.url, login=target.login, passcode=target.passcode
            ) as server,
            stomp_trio.open_connection(
                target.url, login=target.login, passcode=target.passcode
            ) as requester,
            server.subscribe(work, receipt=True) as sub,
        ):
            seen: list[dict[str, str]] = []

            async def serve(count: int) -> None:
                for _ in range(count):
                    with trio.fail_after(PATIENCE):
                        request = await sub.get()
                    seen.append(dict(request.headers))
                    await server.reply(request, request.text.upper(), headers={"served": "yes"})

            replies: dict[str, ReceivedMessage] = {}

            async def ask(body: str) -> None:
                replies[body] = await requester.request(work, body, timeout=PATIENCE)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve, 2)
                nursery.start_soon(ask, "one")
                nursery.start_soon(ask, "two")
            assert {body: reply.text for body, reply in replies.items()} == {
                "one": "ONE",
                "two": "TWO",
            }
            assert replies["one"].headers["served"] == "yes"
            assert len({h[CORRELATION_ID] for h in seen}) == 2
            assert all(h["reply-to"] for h in seen)

            with pytest.raises(trio.TooSlowError, match="no reply"):
                await requester.request(work, "late", timeout=SHORT)
            with trio.fail_after(PATIENCE):
                late = await sub.get()
            await server.reply(late, "too late")
            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve, 1)
                nursery.start_soon(ask, "three")
            assert replies["three"].text == "THREE"

            with pytest.raises(ValueError, match="correlation-id"):
                await requester.request(work, "x", headers={"correlation-id": "mine"})
            with pytest.raises(ValueError, match="no reply-to"):
                await server.reply(replies["three"], "x")

    trio.run(main)
    assert len(dropped(caplog, "stomp_trio")) == 1


# -- across a reconnect (embedded broker: its first connection drops after the reply) ------


FAST = stomp_core_client.ReconnectPolicy(initial=0.02, increase=0.5, jitter=0.0, maximum=0.2)


def reply_subscriptions(session: stomp_core_client.ClientSession[Any, Any]) -> list[str]:
    return [s.destination for s in session.replay() if s.destination.startswith("/temp-queue/")]


async def reconnected(changes: AsyncIterator[stomp_core_client.StateChange]) -> None:
    """Wait until the client went through RECONNECTING and is CONNECTED again."""
    states = []
    async for change in changes:
        states.append(change.state)
        if stomp_core_client.ClientState.RECONNECTING in states and (
            change.state is stomp_core_client.ClientState.CONNECTED
        ):
            return


def test_asyncio_requests_after_a_reconnect(broker_factory: Any) -> None:
    broker = broker_factory(fault_rules=[FaultRule(faults=Faults(close_after_frames=2), index=1)])
    url = f"stomp://{broker.host}:{broker.port}"
    work = queue()

    async def main() -> None:
        # The requester is the broker's first connection: CONNECTED, the first reply, gone.
        async with (
            stomp_asyncio.open_connection(url, reconnect=FAST) as requester,
            stomp_asyncio.open_connection(url) as server,
            server.subscribe(work, receipt=True) as sub,
        ):

            async def serve(count: int) -> None:
                for _ in range(count):
                    request = await sub.get(PATIENCE)
                    await server.reply(request, request.text.upper())

            serving = asyncio.ensure_future(serve(2))
            changes = requester.state_changes()
            assert (await requester.request(work, "one", timeout=PATIENCE)).text == "ONE"
            # The reply subscription is replayed on the new connection.
            assert len(reply_subscriptions(requester._session)) == 1
            await asyncio.wait_for(reconnected(changes), PATIENCE)
            assert (await requester.request(work, "two", timeout=PATIENCE)).text == "TWO"
            await serving
            assert requester._link is not None
            assert requester._link.generation == 2

    asyncio.run(main())


def test_trio_requests_after_a_reconnect(broker_factory: Any) -> None:
    broker = broker_factory(fault_rules=[FaultRule(faults=Faults(close_after_frames=2), index=1)])
    url = f"stomp://{broker.host}:{broker.port}"
    work = queue()

    async def main() -> None:
        async with (
            stomp_trio.open_connection(url, reconnect=FAST) as requester,
            stomp_trio.open_connection(url) as server,
            server.subscribe(work, receipt=True) as sub,
        ):

            async def serve(count: int) -> None:
                for _ in range(count):
                    with trio.fail_after(PATIENCE):
                        request = await sub.get()
                    await server.reply(request, request.text.upper())

            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve, 2)
                changes = requester.state_changes()
                assert (await requester.request(work, "one", timeout=PATIENCE)).text == "ONE"
                assert len(reply_subscriptions(requester._session)) == 1
                with trio.fail_after(PATIENCE):
                    await reconnected(changes)
                assert (await requester.request(work, "two", timeout=PATIENCE)).text == "TWO"
            assert requester._session.generation == 2

    trio.run(main)


# -- a request whose connection drops (the broker closes it once the SEND arrived) ------
# The reply would come on the temporary queue, which goes with the connection, so the
# request fails with ConnectionLost at once instead of waiting out its (long) timeout.

LONG = 600.0  # the request's own timeout: never reached when the test passes
DROP_AFTER_SEND = FaultRule(
    faults=Faults(close_after_received=3), index=1
)  # CONNECT, SUBSCRIBE, SEND


def test_asyncio_request_fails_when_its_connection_drops(broker_factory: Any) -> None:
    broker = broker_factory(fault_rules=[DROP_AFTER_SEND])
    url = f"stomp://{broker.host}:{broker.port}"

    async def main() -> None:
        async with stomp_asyncio.open_connection(url, reconnect=FAST) as requester:
            with pytest.raises(stomp_asyncio.ConnectionLost):
                await asyncio.wait_for(requester.request(queue(), "x", timeout=LONG), PATIENCE)
            assert len(requester._requests) == 0

    asyncio.run(main())


def test_trio_request_fails_when_its_connection_drops(broker_factory: Any) -> None:
    broker = broker_factory(fault_rules=[DROP_AFTER_SEND])
    url = f"stomp://{broker.host}:{broker.port}"

    async def main() -> None:
        async with stomp_trio.open_connection(url, reconnect=FAST) as requester:
            with pytest.raises(stomp_trio.ConnectionLost), trio.fail_after(PATIENCE):
                await requester.request(queue(), "x", timeout=LONG)
            assert len(requester._requests) == 0

    trio.run(main)

"""stomp_otel (issue 17 item 1): OpenTelemetry spans for the three client drivers.

Each driver sends and receives through a broker (the embedded one, and RabbitMQ when its
environment is loaded) with the SDK's in-memory exporter: the SEND span (PRODUCER) and
the MESSAGE span (CONSUMER) must be one trace across the broker, the consumer's span a
child of (and linked to) the producer's, through the ``traceparent`` header.  Failures
mark the operation's span as ERROR; ``uninstrument()`` puts every original method back.
Skipped only if the OpenTelemetry SDK is not installed (the ``test`` extra has it).
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk.trace", reason="opentelemetry-sdk is not installed")

import trio
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

import stomp
import stomp_asyncio
import stomp_core.client
import stomp_trio
from stomp_broker import Faults, RunningBroker
from stomp_otel import StompInstrumentor, message_context
from stomp_otel._instrumentor import TARGETS

PATIENCE = 10.0


class Finished(SpanProcessor):
    """Lets a test wait (with a deadline) for a span that ends on another thread."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.changed = threading.Condition()

    def on_end(self, span: ReadableSpan) -> None:
        with self.changed:
            self.names.append(span.name)
            self.changed.notify_all()

    def wait_for(self, name: str) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: name in self.names, PATIENCE), name


@dataclass
class Tracing:
    exporter: InMemorySpanExporter
    finished: Finished
    provider: TracerProvider

    def spans(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.spans(name)
        assert len(found) == 1, [s.name for s in self.exporter.get_finished_spans()]
        return found[0]


@pytest.fixture
def tracing() -> Iterator[Tracing]:
    exporter = InMemorySpanExporter()
    finished = Finished()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(finished)
    StompInstrumentor().instrument(tracer_provider=provider)
    try:
        yield Tracing(exporter, finished, provider)
    finally:
        StompInstrumentor().uninstrument()


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    login: str | None
    passcode: str | None

    @property
    def url(self) -> str:
        return f"stomp://{self.host}:{self.port}"


@pytest.fixture(params=["embedded", pytest.param("rabbitmq", marks=pytest.mark.integration)])
def target(request: pytest.FixtureRequest) -> Target:
    """The embedded broker, or RabbitMQ from its environment (skipped without it)."""
    if request.param == "embedded":
        broker: RunningBroker = request.getfixturevalue("broker")
        return Target(broker.host, broker.port, None, None)
    port = os.environ.get("RABBITMQ_STOMP_PORT")
    if port is None:
        pytest.skip("RABBITMQ_STOMP_PORT is not set (scripts/brokers/start-rabbitmq.sh)")
    env = os.environ
    return Target(
        env.get("RABBITMQ_HOST", "127.0.0.1"),
        int(port),
        env.get("RABBITMQ_USER", "guest"),
        env.get("RABBITMQ_PASSWORD", "guest"),
    )


def queue() -> str:
    return f"/queue/otel-{uuid.uuid4().hex}"


def check_linked(
    tracing: Tracing, destination: str, consumer_operation: str, headers: dict[str, Any]
) -> tuple[ReadableSpan, ReadableSpan]:
    """The SEND span and the consumer span of one message, one trace across the broker."""
    send = tracing.one(f"send {destination}")
    consumer = tracing.one(f"{consumer_operation} {destination}")
    assert send.kind is SpanKind.PRODUCER
    assert consumer.kind is SpanKind.CONSUMER
    assert send.context is not None
    assert consumer.context is not None
    assert consumer.parent is not None
    # The producer's context came through the broker in the MESSAGE's headers.
    assert f"{send.context.span_id:016x}" in headers["traceparent"]
    assert consumer.context.trace_id == send.context.trace_id
    assert consumer.parent.span_id == send.context.span_id
    assert [link.context.span_id for link in consumer.links] == [send.context.span_id]
    assert send.attributes is not None
    assert consumer.attributes is not None
    assert dict(send.attributes) | {"server.port": 0} == {
        "messaging.system": "stomp",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.destination.name": destination,
        "messaging.message.body.size": 5,
        "messaging.message.conversation_id": "c-1",
        "server.address": "127.0.0.1",
        "server.port": 0,
    }
    expected = {
        "messaging.system": "stomp",
        "messaging.operation.type": consumer_operation,
        "messaging.operation.name": consumer_operation,
        "messaging.destination.name": destination,
        "messaging.message.body.size": 5,
        "messaging.message.conversation_id": "c-1",
        "messaging.message.id": headers["message-id"],
        "messaging.destination.subscription.name": headers["subscription"],
    }
    assert {k: consumer.attributes[k] for k in expected} == expected
    assert send.status.status_code is StatusCode.UNSET
    assert consumer.status.status_code is StatusCode.UNSET
    return send, consumer


# -- the trace crosses the broker, in every driver -----------------------------------------


def test_asyncio_producer_and_consumer_linked(tracing: Tracing, target: Target) -> None:
    destination = queue()

    async def main() -> dict[str, str]:
        async with (
            stomp_asyncio.open_connection(
                target.url, login=target.login, passcode=target.passcode
            ) as client,
            client.subscribe(destination, receipt=True) as sub,
        ):
            await client.send(destination, "hello", headers={"correlation-id": "c-1"})
            message = await sub.get(PATIENCE)
            context = trace.get_current_span(message_context(message)).get_span_context()
            assert context.span_id == tracing.one(f"send {destination}").context.span_id  # type: ignore[union-attr]
            return dict(message.headers)

    headers = asyncio.run(main())
    check_linked(tracing, destination, "receive", headers)


def test_trio_producer_and_consumer_linked(tracing: Tracing, target: Target) -> None:
    destination = queue()

    async def main() -> dict[str, str]:
        async with (
            stomp_trio.open_connection(
                target.url, login=target.login, passcode=target.passcode
            ) as client,
            client.subscribe(destination, receipt=True) as sub,
        ):
            await client.send(destination, b"hello", headers={"correlation-id": "c-1"})
            with trio.fail_after(PATIENCE):
                async for message in sub:
                    return dict(message.headers)
        raise AssertionError("no message")

    headers = trio.run(main)
    check_linked(tracing, destination, "receive", headers)


def test_blocking_producer_and_consumer_linked(tracing: Tracing, target: Target) -> None:
    destination = queue()
    answers = queue()
    received: list[dict[str, Any]] = []
    conn = stomp.Connection([(target.host, target.port)])

    class Answering(stomp.ConnectionListener):
        def on_message(self, frame: Any) -> None:
            if frame.headers["destination"] == destination:
                received.append(dict(frame.headers))
                # Sent while the process span is current: a child of it.
                conn.send(answers, "answer")

    conn.set_listener("answering", Answering())
    conn.connect(target.login, target.passcode, wait=True)
    try:
        conn.subscribe(destination, id="s-1", ack="auto")
        conn.send(destination, "hello", headers={"correlation-id": "c-1"})
        tracing.finished.wait_for(f"process {destination}")
    finally:
        conn.disconnect()
    _, process = check_linked(tracing, destination, "process", received[0])
    answer = tracing.one(f"send {answers}")
    assert answer.parent is not None
    assert process.context is not None
    assert answer.parent.span_id == process.context.span_id


def test_request_reply_traced(tracing: Tracing, target: Target) -> None:
    """request() and reply() send through the traced send(); the reply's span is named
    for a temporary destination, and both carry the correlation id."""
    work = queue()

    async def main() -> None:
        async with (
            stomp_asyncio.open_connection(
                target.url, login=target.login, passcode=target.passcode
            ) as service,
            stomp_asyncio.open_connection(
                target.url, login=target.login, passcode=target.passcode
            ) as client,
            service.subscribe(work, receipt=True) as requests,
        ):

            async def serve() -> None:
                request = await requests.get(PATIENCE)
                await service.reply(request, "pong")

            server = asyncio.ensure_future(serve())
            assert (await client.request(work, "ping", timeout=PATIENCE)).text == "pong"
            await server

    asyncio.run(main())
    request = tracing.one(f"send {work}")
    reply = tracing.one("send (temporary)")
    assert request.attributes is not None
    assert reply.attributes is not None
    correlation_id = request.attributes["messaging.message.conversation_id"]
    assert reply.attributes["messaging.message.conversation_id"] == correlation_id
    assert reply.attributes["messaging.destination.temporary"] is True
    assert tracing.one(f"receive {work}").parent.span_id == request.context.span_id  # type: ignore[union-attr]


# -- failures mark the operation's span ------------------------------------------------------


def test_asyncio_send_errors(tracing: Tracing, broker_factory: Any) -> None:
    refusing: RunningBroker = broker_factory(faults=Faults(error_on=frozenset({"SEND"})))
    silent: RunningBroker = broker_factory(faults=Faults(drop_frames=frozenset({"RECEIPT"})))
    refused, timed_out, lost = queue(), queue(), queue()

    async def main() -> None:
        async with stomp_asyncio.open_connection(
            f"stomp://{silent.host}:{silent.port}", receipt_timeout=0.2
        ) as client:
            with pytest.raises(stomp_asyncio.ReceiptTimeout):
                await client.send(timed_out, "x", receipt=True)
        with pytest.raises(stomp_asyncio.ConnectionLost):
            await client.send(lost, "x")
        with pytest.raises(stomp_asyncio.BrokerError):
            async with stomp_asyncio.open_connection(
                f"stomp://{refusing.host}:{refusing.port}", reconnect=None
            ) as client:
                await client.send(refused, "x", receipt=True)

    asyncio.run(main())
    for destination, error in [
        (refused, "BrokerError"),
        (timed_out, "ReceiptTimeout"),
        (lost, "ConnectionLost"),
    ]:
        span = tracing.one(f"send {destination}")
        assert span.status.status_code is StatusCode.ERROR
        assert (span.status.description or "").startswith(error)
        assert [event.name for event in span.events] == ["exception"]


def test_asyncio_receive_error(tracing: Tracing, broker_factory: Any) -> None:
    """The client fails for good (a broker ERROR): the iteration raises, marked ERROR."""
    refusing: RunningBroker = broker_factory(faults=Faults(error_on=frozenset({"SEND"})))
    destination = queue()
    failures: list[BaseException] = []

    async def consume(sub: stomp_asyncio.Subscription) -> None:
        try:
            async for _ in sub:
                pass
        except stomp_asyncio.BrokerError as error:
            failures.append(error)

    async def fail() -> asyncio.Future[None]:
        async with (
            stomp_asyncio.open_connection(
                f"stomp://{refusing.host}:{refusing.port}", reconnect=None
            ) as client,
            client.subscribe(destination, receipt=True) as sub,
        ):
            consumer = asyncio.ensure_future(consume(sub))
            await client.send(destination, "x")  # answered with ERROR: the client fails
            await asyncio.wait_for(asyncio.shield(consumer), PATIENCE)
        return consumer

    async def main() -> None:
        with pytest.raises(stomp_asyncio.BrokerError):
            await fail()
        await asyncio.gather(*[t for t in asyncio.all_tasks() if t is not asyncio.current_task()])

    asyncio.run(main())
    assert len(failures) == 1
    span = tracing.one(f"receive {destination}")
    assert span.kind is SpanKind.CONSUMER
    assert span.status.status_code is StatusCode.ERROR
    assert (span.status.description or "").startswith("BrokerError")


def test_trio_send_errors(tracing: Tracing, broker_factory: Any) -> None:
    silent: RunningBroker = broker_factory(faults=Faults(drop_frames=frozenset({"RECEIPT"})))
    timed_out = queue()

    async def main() -> None:
        async with stomp_trio.open_connection(
            f"stomp://{silent.host}:{silent.port}", receipt_timeout=0.2
        ) as client:
            with pytest.raises(stomp_trio.ReceiptTimeout):
                await client.send(timed_out, "x", receipt=True)

    trio.run(main)
    span = tracing.one(f"send {timed_out}")
    assert span.status.status_code is StatusCode.ERROR


def test_blocking_send_error(tracing: Tracing, broker: RunningBroker) -> None:
    conn = stomp.Connection([(broker.host, broker.port)])
    destination = queue()
    with pytest.raises(stomp.exception.NotConnectedException):
        conn.send(destination, "x")
    span = tracing.one(f"send {destination}")
    assert span.status.status_code is StatusCode.ERROR


# -- on and off -------------------------------------------------------------------------------


def originals() -> list[object]:
    import importlib

    return [
        vars(getattr(importlib.import_module(module), owner))[method]
        for module, owner, method, _ in TARGETS
    ]


def test_uninstrument_restores_the_originals(broker: RunningBroker) -> None:
    before = originals()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = StompInstrumentor()
    assert not instrumentor.is_instrumented_by_opentelemetry
    instrumentor.instrument(tracer_provider=provider)
    wrapped = originals()
    assert all(a is not b for a, b in zip(before, wrapped, strict=True))
    StompInstrumentor().instrument(tracer_provider=provider)  # a second call: no change
    assert originals() == wrapped
    assert StompInstrumentor().is_instrumented_by_opentelemetry
    StompInstrumentor().uninstrument()
    assert all(a is b for a, b in zip(before, originals(), strict=True))
    assert not instrumentor.is_instrumented_by_opentelemetry
    instrumentor.uninstrument()  # harmless
    assert instrumentor.instrumentation_dependencies() == ("opentelemetry-api >= 1.20",)

    # Off again: no span, no trace header.
    destination = queue()

    async def main() -> dict[str, str]:
        async with (
            stomp_asyncio.open_connection(f"stomp://{broker.host}:{broker.port}") as client,
            client.subscribe(destination, receipt=True) as sub,
        ):
            await client.send(destination, "hello")
            return dict((await sub.get(PATIENCE)).headers)

    assert "traceparent" not in asyncio.run(main())
    assert exporter.get_finished_spans() == ()


def test_a_traceparent_of_the_caller_is_kept(tracing: Tracing, broker: RunningBroker) -> None:
    destination = queue()
    own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    async def main() -> dict[str, str]:
        async with (
            stomp_asyncio.open_connection(f"stomp://{broker.host}:{broker.port}") as client,
            client.subscribe(destination, receipt=True) as sub,
        ):
            await client.send(destination, "hello", headers={"traceparent": own})
            return dict((await sub.get(PATIENCE)).headers)

    assert asyncio.run(main())["traceparent"] == own
    receive = tracing.one(f"receive {destination}")
    assert receive.parent is not None
    assert receive.parent.span_id == 0xB7AD6B7169203331


def test_context_of_something_without_headers() -> None:
    assert message_context(object()) == Context()


def test_public_surface() -> None:
    import stomp_otel

    # What is wrapped is what both async drivers' classes run.
    for driver in (stomp_asyncio, stomp_trio):
        assert driver.Client.send is stomp_core.client.ClientBase.send
        assert driver.Subscription.__anext__ is stomp_core.client.SubscriptionBase.__anext__

    assert stomp_otel.__all__ == ["StompInstrumentor", "message_context"]
    assert [(module, owner, method) for module, owner, method, _ in TARGETS] == [
        ("stomp_core.client", "ClientBase", "send"),
        ("stomp_core.client", "SubscriptionBase", "__anext__"),
        ("stomp.protocol", "_Frames", "send"),
        ("stomp.transport", "BaseTransport", "notify"),
    ]

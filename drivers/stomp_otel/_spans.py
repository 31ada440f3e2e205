"""The spans: attributes, context propagation in STOMP headers, and the method wrappers.

Semantic conventions followed: OpenTelemetry "Semantic conventions for messaging spans"
(``messaging.*`` attributes, span names ``"{operation} {destination}"``, PRODUCER spans
for sending, CONSUMER spans for receiving and processing).  STOMP has no message-id
before the broker assigns one, so SEND spans carry none.

Context propagation: the W3C Trace Context headers (``traceparent``, ``tracestate``;
plus ``baggage`` with the default propagators) go into the SEND frame's headers, which
brokers pass on to the MESSAGE frames (spec 1.2 "SEND": headers a broker does not know
are kept).  Whatever the configured global propagator writes is used, as every
OpenTelemetry instrumentation does; a header the caller set itself is never replaced.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer

__all__ = [
    "SYSTEM",
    "async_receive",
    "async_send",
    "blocking_notify",
    "blocking_send",
    "message_context",
]

#: ``messaging.system`` of every span.
SYSTEM = "stomp"
#: Destinations that live as long as one connection: RabbitMQ's and ActiveMQ's
#: ``reply-to`` names (the embedded broker uses RabbitMQ's).  Their names are random, so
#: spans are named ``"send (temporary)"``, as the conventions ask, to keep the number of
#: span names small.
TEMPORARY_PREFIXES = ("/temp-queue/", "/temp-topic/", "/reply-queue/", "/remote-temp-")

F = TypeVar("F", bound=Callable[..., Any])


# -- attributes ---------------------------------------------------------------------------


def _size(body: object, encoding: str = "utf-8") -> int | None:
    if isinstance(body, str):
        return len(body.encode(encoding, "replace"))
    if isinstance(body, (bytes, bytearray, memoryview)):
        return len(body)
    return None


def _attributes(
    operation: str,
    destination: str,
    *,
    body: object = None,
    encoding: str = "utf-8",
    headers: Mapping[str, Any] | None = None,
    message_id: str | None = None,
    subscription: str | None = None,
    server: tuple[str, int] | None = None,
) -> dict[str, str | int | bool]:
    """The ``messaging.*`` (and ``server.*``) attributes of one span."""
    attributes: dict[str, str | int | bool] = {
        "messaging.system": SYSTEM,
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.destination.name": destination,
    }
    if destination.startswith(TEMPORARY_PREFIXES):
        attributes["messaging.destination.temporary"] = True
    size = _size(body, encoding)
    if size is not None:
        attributes["messaging.message.body.size"] = size
    if message_id is not None:
        attributes["messaging.message.id"] = message_id
    if headers is not None:
        correlation_id = headers.get("correlation-id")
        if correlation_id is not None:
            attributes["messaging.message.conversation_id"] = str(correlation_id)
    if subscription is not None:
        attributes["messaging.destination.subscription.name"] = subscription
    if server is not None:
        attributes["server.address"], attributes["server.port"] = server
    return attributes


def _name(operation: str, destination: str) -> str:
    """The span name: ``"{operation} {destination}"``, ``"{operation} (temporary)"``."""
    if destination.startswith(TEMPORARY_PREFIXES):
        return f"{operation} (temporary)"
    return f"{operation} {destination}"


def _failed(span: Span, error: BaseException) -> None:
    """Mark ``span`` as failed by ``error`` (a broker ERROR, a receipt timeout, a lost
    connection, an invalid frame...)."""
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))


# -- propagation --------------------------------------------------------------------------


def _trace_headers(headers: Iterable[str]) -> dict[str, str]:
    """The propagation headers of the current context that ``headers`` does not set."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    for name in headers:
        carrier.pop(name, None)
    return carrier


def message_context(message: object) -> Context:
    """The trace context a received message carries (its producer's SEND span).

    Use it to parent your own processing span::

        with tracer.start_as_current_span("handle", context=message_context(message)):
            ...

    Args:
        message: a ``stomp_asyncio.Message``, a ``stomp_trio.Message``, the reply from
            ``request()`` or a ``stomp`` listener's frame: anything with a ``headers``
            mapping.
    """
    headers = getattr(message, "headers", None)
    return propagate.extract(headers if isinstance(headers, Mapping) else {})


def _links(context: Context) -> list[Link]:
    producer = trace.get_current_span(context).get_span_context()
    return [Link(producer)] if producer.is_valid else []


def _endpoint(client: object) -> tuple[str, int] | None:
    endpoint = getattr(client, "endpoint", None)
    if endpoint is None:
        return None
    return (str(endpoint.host), int(endpoint.port))


# -- stomp_asyncio and stomp_trio -----------------------------------------------------------


def async_send(tracer: Tracer, original: F) -> F:
    """Wrap ``Client.send``: a PRODUCER span, its context injected into the headers."""

    @functools.wraps(original)
    async def send(self: Any, destination: str, body: Any = b"", **options: Any) -> None:
        headers: Mapping[str, str] | None = options.get("headers")
        attributes = _attributes(
            "send", destination, body=body, headers=headers, server=_endpoint(self)
        )
        with tracer.start_as_current_span(
            _name("send", str(destination)),
            kind=SpanKind.PRODUCER,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            options["headers"] = {**_trace_headers(headers or ()), **(headers or {})}
            try:
                await original(self, destination, body, **options)
            except Exception as error:
                _failed(span, error)
                raise

    return send  # type: ignore[return-value]


def async_receive(tracer: Tracer, original: F) -> F:
    """Wrap ``Subscription.__anext__``: a CONSUMER ``receive`` span per message handed to
    the iterator, parented by (and linked to) the producer's context; an ERROR one when
    the iteration fails (the client failed for good: broker ERROR, lost connection)."""

    @functools.wraps(original)
    async def __anext__(self: Any) -> Any:
        try:
            message = await original(self)
        except StopAsyncIteration:
            raise
        except Exception as error:
            span = tracer.start_span(
                _name("receive", self.destination),
                kind=SpanKind.CONSUMER,
                attributes=_attributes("receive", self.destination, subscription=self.id),
            )
            _failed(span, error)
            span.end()
            raise
        context = propagate.extract(message.headers)
        tracer.start_span(
            _name("receive", message.destination),
            context=context,
            kind=SpanKind.CONSUMER,
            links=_links(context),
            attributes=_attributes(
                "receive",
                message.destination,
                body=message.body,
                headers=message.headers,
                message_id=message.message_id,
                subscription=self.id,
            ),
        ).end()
        return message

    return __anext__  # type: ignore[return-value]


# -- stomp (blocking) ---------------------------------------------------------------------


def blocking_send(tracer: Tracer, original: F) -> F:
    """Wrap the blocking driver's ``send``: a PRODUCER span for the write of the frame."""

    @functools.wraps(original)
    def send(
        self: Any,
        destination: str,
        body: Any,
        content_type: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        transport = getattr(self, "transport", None)
        attributes = _attributes(
            "send",
            str(destination),
            body=body,
            encoding=getattr(transport, "encoding", "utf-8"),
            headers={**(headers or {}), **keyword_headers},
            server=getattr(transport, "current_host_and_port", None),
        )
        with tracer.start_as_current_span(
            _name("send", str(destination)),
            kind=SpanKind.PRODUCER,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            keyword_headers.update(_trace_headers([*(headers or ()), *keyword_headers]))
            try:
                original(self, destination, body, content_type, headers, **keyword_headers)
            except Exception as error:
                _failed(span, error)
                raise

    return send  # type: ignore[return-value]


def blocking_notify(tracer: Tracer, original: F) -> F:
    """Wrap ``BaseTransport.notify``: a CONSUMER ``process`` span around the listeners'
    ``on_message`` calls, current while they run (so what they send continues the
    trace), parented by (and linked to) the producer's context."""

    @functools.wraps(original)
    def notify(self: Any, frame_type: str, frame: Any = None) -> None:
        if frame_type != "message" or frame is None:
            original(self, frame_type, frame)
            return
        headers = frame.headers
        destination = str(headers.get("destination", ""))
        context = propagate.extract(headers)
        message_id = headers.get("message-id")
        subscription = headers.get("subscription")
        with tracer.start_as_current_span(
            _name("process", destination),
            context=context,
            kind=SpanKind.CONSUMER,
            links=_links(context),
            attributes=_attributes(
                "process",
                destination,
                body=frame.body,
                encoding=getattr(self, "encoding", "utf-8"),
                headers=headers,
                message_id=None if message_id is None else str(message_id),
                subscription=None if subscription is None else str(subscription),
                server=getattr(self, "current_host_and_port", None),
            ),
        ):
            original(self, frame_type, frame)

    return notify  # type: ignore[return-value]

"""stomp_otel: OpenTelemetry tracing for ``stomp``, ``stomp_trio`` and ``stomp_asyncio``.

Install the extra (``pip install stomp-sansio[otel]``, which needs only
``opentelemetry-api``), configure an SDK as usual, then turn it on once::

    from stomp_otel import StompInstrumentor

    StompInstrumentor().instrument(tracer_provider=provider)

Every SEND is then a PRODUCER span (``send /queue/x``) whose context travels in the
frame's ``traceparent``/``tracestate`` headers; every received MESSAGE is a CONSUMER span
(``receive /queue/x`` in the async drivers, ``process /queue/x`` around a blocking
listener's ``on_message``) in the producer's trace.  Failures (a broker ERROR, a
receipt timeout, a lost connection) mark the span of the operation they fail with
status ERROR.  :func:`message_context` gives a received message's trace context to
parent your own spans.  See the "Tracing" recipe of the documentation.
"""

from __future__ import annotations

from ._instrumentor import StompInstrumentor
from ._spans import message_context

__all__ = ["StompInstrumentor", "message_context"]

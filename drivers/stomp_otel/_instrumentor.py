"""``StompInstrumentor``: turns the spans on for ``stomp``, ``stomp_trio`` and
``stomp_asyncio`` at once, and off again.

Like the OpenTelemetry contrib instrumentations it replaces library methods with
wrappers (and puts the originals back), so a program that never calls
:meth:`StompInstrumentor.instrument` pays nothing: the drivers contain no tracing code.
The methods wrapped are the drivers' public entry points for sending and receiving:

* ``send`` of both async clients (``stomp_core.client.ClientBase.send``, which
  ``stomp_asyncio.Client`` and ``stomp_trio.Client`` inherit): a ``send`` span (PRODUCER);
  ``request()`` and ``reply()`` send through it, so they are traced too;
* ``__anext__`` of both drivers' subscriptions (``stomp_core.client.SubscriptionBase``,
  also behind ``get()``): a ``receive`` span (CONSUMER) per message handed to the
  consumer;
* the blocking driver's ``send`` (every ``stomp`` connection class inherits it): a
  ``send`` span; and its listener dispatch (``notify``): a ``process`` span (CONSUMER)
  around the listeners' ``on_message``.

None of them needs trio, so instrumenting works where trio is not installed.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from opentelemetry import trace
from opentelemetry.trace import Tracer, TracerProvider

from stomp_core import __version__

from ._spans import async_receive, async_send, blocking_notify, blocking_send

__all__ = ["StompInstrumentor"]

Wrap = Callable[[Tracer, Any], Any]

#: (module, class, method, wrapper factory): what :meth:`StompInstrumentor.instrument`
#: replaces.
TARGETS: tuple[tuple[str, str, str, Wrap], ...] = (
    # Both async drivers' Client and Subscription inherit these.
    ("stomp_core.client", "ClientBase", "send", async_send),
    ("stomp_core.client", "SubscriptionBase", "__anext__", async_receive),
    ("stomp.protocol", "_Frames", "send", blocking_send),
    ("stomp.transport", "BaseTransport", "notify", blocking_notify),
)


class StompInstrumentor:
    """OpenTelemetry tracing for the three STOMP client drivers.

    ::

        from stomp_otel import StompInstrumentor

        StompInstrumentor().instrument(tracer_provider=provider)  # all drivers
        ...
        StompInstrumentor().uninstrument()  # the drivers' own methods again

    The instrumentation is process-wide (it wraps classes), so every instance shares
    one state, as with the contrib instrumentors.
    """

    _lock: ClassVar[threading.Lock] = threading.Lock()
    #: (class, method name, original) of what is wrapped now; ``None``: not instrumented.
    _originals: ClassVar[list[tuple[type, str, Any]] | None] = None

    @property
    def is_instrumented_by_opentelemetry(self) -> bool:
        """Whether the drivers are instrumented now."""
        return StompInstrumentor._originals is not None

    def instrumentation_dependencies(self) -> tuple[str, ...]:
        """The packages this instrumentation needs (the contrib instrumentors' API)."""
        return ("opentelemetry-api >= 1.20",)

    def instrument(self, *, tracer_provider: TracerProvider | None = None, **_: Any) -> None:
        """Wrap the drivers' methods; a second call without :meth:`uninstrument` does
        nothing.

        Args:
            tracer_provider: where spans go; default: the global tracer provider.
        """
        with self._lock:
            if StompInstrumentor._originals is not None:
                return
            tracer = trace.get_tracer(
                "stomp_otel",
                __version__,
                tracer_provider=tracer_provider,
                schema_url="https://opentelemetry.io/schemas/1.27.0",
            )
            originals: list[tuple[type, str, Any]] = []
            for module_name, class_name, method, wrap in TARGETS:
                owner = getattr(importlib.import_module(module_name), class_name)
                original = owner.__dict__[method]
                originals.append((owner, method, original))
                setattr(owner, method, wrap(tracer, original))
            StompInstrumentor._originals = originals

    def uninstrument(self, **_: Any) -> None:
        """Put the drivers' own methods back; nothing happens if not instrumented."""
        with self._lock:
            originals = StompInstrumentor._originals
            StompInstrumentor._originals = None
            for owner, method, original in reversed(originals or ()):
                setattr(owner, method, original)

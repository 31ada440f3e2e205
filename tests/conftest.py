"""Shared fixtures: an embedded broker for every driver's tests.

``broker``: a :class:`~stomp_broker.RunningBroker` in a background thread (unpacks as
``(host, port)``; its ``faults`` can be switched at run time).  ``broker_factory(**options)``
starts more of them, with :class:`~stomp_broker.Broker` options (users, faults, bounds...),
stopped at teardown.  ``async_broker(**options)`` is the in-process one for asyncio code:
``async with async_broker() as b: ... b.host, b.port``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from stomp_broker import Broker, RunningBroker, run_broker_in_thread

# Closing connections are aborted fast in tests: nothing should wait 5 s for a client.
_TEST_OPTIONS: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "close_timeout": 1.0}


@pytest.fixture
def broker_factory() -> Iterator[Callable[..., RunningBroker]]:
    """Start brokers in background threads; all are stopped (bounded) at teardown."""
    with ExitStack() as stack:

        def start(**options: Any) -> RunningBroker:
            return stack.enter_context(run_broker_in_thread(**{**_TEST_OPTIONS, **options}))

        yield start


@pytest.fixture
def broker(broker_factory: Callable[..., RunningBroker]) -> RunningBroker:
    """A default embedded broker on 127.0.0.1 and a free port, in a background thread."""
    return broker_factory()


@pytest.fixture
def async_broker() -> Callable[..., Broker]:
    """A factory of in-process brokers for asyncio code (use with ``async with``)."""

    def make(**options: Any) -> Broker:
        return Broker(**{**_TEST_OPTIONS, **options})

    return make

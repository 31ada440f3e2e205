"""Fixtures of the integration tier: real RabbitMQ and ActiveMQ on loopback.

The matrix is three fixtures: ``driver`` (each implementation's adapter, see
``adapter_api.py``), ``version`` (STOMP 1.0, 1.1, 1.2) and ``broker`` (RabbitMQ,
ActiveMQ).  A test that asks for ``connect`` runs once per combination.  To add a driver,
write its adapter and add it to :data:`DRIVERS`.

The brokers come from the variables printed by ``scripts/brokers/start-*.sh`` (or are
started here when we are root; see ``broker_env.py``).  An absent broker makes the tests
fail with the command that starts it; ``STOMP_NO_BROKERS=1`` (or
``STOMP_SKIP_INTEGRATION=1``) skips them instead, saying so.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from adapter_api import ConnectFn, Driver, Session, TlsOptions
from asyncio_adapter import AsyncioDriver
from broker_env import (
    Broker,
    BrokerUnavailable,
    Cluster,
    TlsFiles,
    find_activemq,
    find_rabbitmq,
    find_rabbitmq_cluster,
    find_tls_files,
    skip_reason,
)
from core_adapter import CoreDriver
from stomp_adapter import StompDriver
from trio_adapter import TrioDriver

#: Every implementation in the matrix: name -> adapter factory.
DRIVERS: dict[str, Callable[[], Driver]] = {
    "asyncio": AsyncioDriver,
    "core": CoreDriver,
    "stomp": StompDriver,
    "trio": TrioDriver,
}
VERSIONS = ("1.0", "1.1", "1.2")
BROKERS = ("rabbitmq", "activemq")

_HERE = Path(__file__).resolve().parent
_Found = TypeVar("_Found")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Honour ``STOMP_NO_BROKERS=1`` / ``STOMP_SKIP_INTEGRATION=1``: an explicit request,
    never CI's default."""
    del config
    reason = skip_reason()
    if reason is None:
        return
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(marker)


def _found(finder: Callable[[], _Found]) -> _Found:
    try:
        return finder()
    except BrokerUnavailable as exc:
        problem = str(exc)
    # Outside the except block: the failure then carries no chained traceback.
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def rabbitmq() -> Broker:
    """RabbitMQ's STOMP endpoint."""
    return _found(find_rabbitmq)


@pytest.fixture(scope="session")
def activemq() -> Broker:
    """ActiveMQ's STOMP endpoints (plain, TLS, mutual TLS)."""
    return _found(find_activemq)


@pytest.fixture(scope="session")
def rabbitmq_cluster() -> Cluster:
    """The two-node RabbitMQ cluster (both nodes answering STOMP)."""
    return _found(find_rabbitmq_cluster)


@pytest.fixture(scope="session")
def tls_files(activemq: Broker) -> TlsFiles:
    """The test CA, the unrelated CA, client and expired certificates."""
    del activemq  # the ActiveMQ start script makes the certificates
    try:
        return find_tls_files()
    except BrokerUnavailable as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


@pytest.fixture(params=BROKERS)
def broker(request: pytest.FixtureRequest) -> Broker:
    """Each real broker in turn."""
    found = request.getfixturevalue(request.param)
    assert isinstance(found, Broker)
    return found


@pytest.fixture(params=VERSIONS, ids=lambda v: f"stomp{v}")
def version(request: pytest.FixtureRequest) -> str:
    """Each STOMP version in turn (tests may narrow it with ``parametrize``)."""
    value = request.param
    assert isinstance(value, str)
    return value


@pytest.fixture(params=sorted(DRIVERS))
def driver(request: pytest.FixtureRequest) -> Driver:
    """Each implementation's adapter in turn."""
    return DRIVERS[request.param]()


@pytest.fixture
def closing() -> Iterator[Callable[[Session], Session]]:
    """``closing(session)`` returns the session and closes it when the test ends."""
    sessions: list[Session] = []

    def _register(session: Session) -> Session:
        sessions.append(session)
        return session

    yield _register
    for session in sessions:
        session.close()


@pytest.fixture
def connect(
    driver: Driver, broker: Broker, version: str, closing: Callable[[Session], Session]
) -> ConnectFn:
    """``connect(**options)``: a session to this test's broker with this test's driver and
    version (options as :meth:`Driver.connect`); every session is closed afterwards."""

    def _connect(**options: object) -> Session:
        target = options.pop("broker", broker)
        assert isinstance(target, Broker)
        chosen = str(options.pop("version", version))
        return closing(driver.connect(target, version=chosen, **options))  # type: ignore[arg-type]

    return _connect


@pytest.fixture
def queue() -> str:
    """A queue name no other test (or earlier run) uses."""
    return f"/queue/stomp-it.{uuid.uuid4().hex[:12]}"


@pytest.fixture
def tls_options(tls_files: TlsFiles) -> Callable[..., TlsOptions]:
    """``tls_options(ca_file=..., cert_file=..., key_file=...)``; the CA defaults to the
    test CA that signed the broker's certificate."""

    def _make(
        ca_file: str | None = None, cert_file: str | None = None, key_file: str | None = None
    ) -> TlsOptions:
        return TlsOptions(ca_file=ca_file or tls_files.ca, cert_file=cert_file, key_file=key_file)

    return _make

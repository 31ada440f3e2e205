"""The small test-facing interface every driver under test implements.

The integration tests talk to a broker only through :class:`Driver` and
:class:`Session`, so adding a driver to the matrix means writing one adapter (a few dozen
lines mapping these calls onto the driver's own API) and adding it to ``DRIVERS`` in
``conftest.py``; no test is copied.

Every blocking call has a deadline; none sleeps to wait for something.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from broker_env import Broker

__all__ = [
    "ConnectFn",
    "ConnectRefused",
    "Driver",
    "Received",
    "Session",
    "SessionDied",
    "TlsOptions",
]


class ConnectRefused(Exception):
    """Connecting failed: transport, TLS, or an ERROR frame answering CONNECT.

    Adapters raise it ``from`` the driver's own exception, so a test can look at the
    cause (for example the :class:`ssl.SSLCertVerificationError`).
    """


class SessionDied(Exception):
    """The connection ended while the test expected it to be alive."""


@dataclass(frozen=True)
class TlsOptions:
    """TLS for a connection, as files (every driver builds its own context from them).

    Verification of the broker's certificate and host name is always on.
    """

    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context with these files (for drivers that take one)."""
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file is not None:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context


@dataclass(frozen=True)
class Received:
    """A MESSAGE as the tests see it, whatever the driver."""

    destination: str
    message_id: str
    subscription: str | None
    ack_id: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The first value of header ``name``, if present."""
        return self.headers.get(name)


class Session(Protocol):
    """One connected STOMP session."""

    @property
    def version(self) -> str:
        """The negotiated protocol version."""
        ...

    @property
    def heartbeat(self) -> tuple[int, int]:
        """Negotiated ``(we send every, we expect every)`` in ms; ``(0, 0)`` for none."""
        ...

    @property
    def heartbeats_received(self) -> int:
        """How many heart-beats arrived from the broker so far."""
        ...

    def send(
        self,
        destination: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """SEND; with ``receipt`` wait (at most ``timeout``) for its RECEIPT."""
        ...

    def subscribe(
        self,
        destination: str,
        sub_id: str,
        *,
        ack: str = "auto",
        headers: dict[str, str] | None = None,
        receipt: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """SUBSCRIBE; with ``receipt`` wait for its RECEIPT (the subscription is live)."""
        ...

    def unsubscribe(
        self, sub_id: str, *, receipt: str | None = None, timeout: float = 10.0
    ) -> None:
        """UNSUBSCRIBE; with ``receipt`` wait for its RECEIPT."""
        ...

    def get_message(self, timeout: float) -> Received | None:
        """The next MESSAGE, or ``None`` if none arrived within ``timeout`` seconds."""
        ...

    def ack(self, message: Received, *, transaction: str | None = None) -> None:
        """ACK ``message``."""
        ...

    def nack(self, message: Received, *, receipt: str | None = None, timeout: float = 10.0) -> None:
        """NACK ``message`` (1.1+); with ``receipt`` wait for its RECEIPT."""
        ...

    def begin(self, transaction: str) -> None:
        """BEGIN a transaction."""
        ...

    def commit(
        self, transaction: str, *, receipt: str | None = None, timeout: float = 10.0
    ) -> None:
        """COMMIT; with ``receipt`` wait for its RECEIPT."""
        ...

    def abort(self, transaction: str, *, receipt: str | None = None, timeout: float = 10.0) -> None:
        """ABORT; with ``receipt`` wait for its RECEIPT."""
        ...

    def hold(self, seconds: float) -> None:
        """Stay connected and idle for ``seconds``, heart-beating as negotiated.

        Raises:
            SessionDied: the connection ended (heart-beat timeout, broker close).
        """
        ...

    def disconnect(self, *, receipt: str | None = None, timeout: float = 10.0) -> bool:
        """DISCONNECT; with ``receipt`` return whether its RECEIPT arrived in time."""
        ...

    def close(self) -> None:
        """Drop the transport without DISCONNECT (cleanup; idempotent)."""
        ...


class Driver(Protocol):
    """Makes sessions with one implementation (the core, the stomp driver, ...)."""

    name: str

    def connect(
        self,
        broker: Broker,
        *,
        version: str,
        port: int | None = None,
        login: str | None = None,
        passcode: str | None = None,
        heartbeats: tuple[int, int] = (0, 0),
        heartbeat_tolerance: float | None = None,
        tls: TlsOptions | None = None,
        timeout: float = 10.0,
    ) -> Session:
        """Connect to ``broker`` (``port`` overrides its plain port) offering ``version`` only.

        ``heartbeat_tolerance`` is the factor of the negotiated interval after which a
        silent broker counts as dead (``None``: the driver's default).

        Raises:
            ConnectRefused: the connection or the STOMP handshake failed.
        """
        ...


#: The ``connect`` fixture: ``connect(**options)`` opens a :class:`Session` with the test's
#: driver, version and broker (options as :meth:`Driver.connect`).
ConnectFn = Callable[..., Session]

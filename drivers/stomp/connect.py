"""The connection classes: ``stomp.Connection`` (STOMP 1.1), ``Connection10``, ``Connection12``.

Each is a :class:`BaseConnection` (listener registry, TLS settings, context manager) plus
the frame builders of its version (:mod:`stomp.protocol`) over a
:class:`~stomp.transport.Transport`.  The constructors take stomp.py's parameters, in its
order, plus one keyword-only addition, ``auto_reconnect``.

Example::

    import stomp

    conn = stomp.Connection([("localhost", 61613)], heartbeats=(4000, 4000))
    conn.set_listener("", MyListener())
    conn.connect("user", "secret", wait=True)
    conn.subscribe("/queue/test", id="1", ack="auto")
    conn.send("/queue/test", "hello")
    conn.disconnect()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType

from stomp_core import MetricsSnapshot

from .listener import Publisher, WaitingListener
from .protocol import Protocol10, Protocol11, Protocol12
from .transport import Transport
from .utils import get_uuid

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = [
    "BaseConnection",
    "StompConnection10",
    "StompConnection11",
    "StompConnection12",
]


def __getattr__(name: str) -> Any:
    # stomp.py's connect module star-imports its transport, so code may find the
    # default TLS version here; it loads with ssl, on first use (issue 13).
    if name == "DEFAULT_SSL_VERSION":
        from . import transport

        return transport.DEFAULT_SSL_VERSION
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_DISCONNECT_LISTENER = "ZZZZZ-disconnect-listener"


class BaseConnection(Publisher):
    """What every connection class offers besides the frames: listeners, TLS, ``with``.

    Args:
        transport: the transport.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def __enter__(self) -> BaseConnection:
        self.disconnect_receipt_id = get_uuid()
        self.disconnect_listener = WaitingListener(self.disconnect_receipt_id)
        self.set_listener(_DISCONNECT_LISTENER, self.disconnect_listener)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        # Never hangs (stomp.py issue #436): disconnect() is bounded and also closes a
        # connection that never got CONNECTED or is already gone.
        try:
            self.disconnect(self.disconnect_receipt_id)
        finally:
            if self.get_listener(_DISCONNECT_LISTENER) is not None:
                self.remove_listener(_DISCONNECT_LISTENER)

    def disconnect(
        self,
        receipt: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Close the connection (the connection classes send DISCONNECT; this base has
        no protocol, so it does nothing, as in stomp.py)."""

    def set_listener(self, name: str, listener: Any) -> None:
        """Register ``listener`` under ``name`` (listeners are called in name order)."""
        self.transport.set_listener(name, listener)

    def remove_listener(self, name: str) -> None:
        """Unregister the listener called ``name`` (``KeyError`` if there is none)."""
        self.transport.remove_listener(name)

    def get_listener(self, name: str) -> Any:
        """The listener called ``name``, or ``None``."""
        return self.transport.get_listener(name)

    def is_connected(self) -> bool:
        """Whether the STOMP session is open."""
        return self.transport.is_connected()

    def metrics(self) -> MetricsSnapshot:
        """The connection's counters now, over all its reconnects (frames, bytes,
        messages, acks, heart-beats, reconnects, receipt round trips): see
        :class:`stomp_core.MetricsSnapshot`.  Not in stomp.py."""
        return self.transport.metrics.snapshot()

    def set_receipt(self, receipt_id: str, value: str | None) -> None:
        """Remember what a receipt id was for (a falsy value forgets it)."""
        self.transport.set_receipt(receipt_id, value)

    def set_ssl(
        self,
        for_hosts: Iterable[tuple[str, int]] = (),
        key_file: str | None = None,
        cert_file: str | None = None,
        ca_certs: str | None = None,
        cert_validator: Callable[[Any, str], tuple[bool, str]] | None = None,
        ssl_version: int | None = None,
        password: str | bytes | None = None,
        verify: bool = True,
    ) -> None:
        """Use TLS; see :meth:`stomp.transport.Transport.set_ssl`."""
        self.transport.set_ssl(
            for_hosts, key_file, cert_file, ca_certs, cert_validator, ssl_version, password, verify
        )

    def get_ssl(self, host_and_port: tuple[str, int] | None = None) -> dict[str, Any] | None:
        """The TLS settings of a host (default: the current one), or ``None``."""
        return self.transport.get_ssl(host_and_port)


class StompConnection10(BaseConnection, Protocol10):
    """A STOMP 1.0 connection (no heart-beats, no NACK, no ``vhost``).

    Args: as :class:`StompConnection11`, without ``heartbeats``, ``vhost`` and
    ``heart_beat_receive_scale``.
    """

    def __init__(
        self,
        host_and_ports: Sequence[tuple[str, int]] | None = None,
        prefer_localhost: bool = True,
        try_loopback_connect: bool = True,
        reconnect_sleep_initial: float = 0.1,
        reconnect_sleep_increase: float = 0.5,
        reconnect_sleep_jitter: float = 0.1,
        reconnect_sleep_max: float = 60.0,
        reconnect_attempts_max: int | None = None,
        timeout: float | None = None,
        keepalive: Any = None,
        auto_decode: bool = True,
        encoding: str = "utf-8",
        auto_content_length: bool = True,
        bind_host_port: tuple[str, int] | None = None,
        *,
        auto_reconnect: bool = False,
    ) -> None:
        transport = Transport(
            host_and_ports,
            prefer_localhost,
            try_loopback_connect,
            reconnect_sleep_initial,
            reconnect_sleep_increase,
            reconnect_sleep_jitter,
            reconnect_sleep_max,
            reconnect_attempts_max,
            timeout,
            keepalive,
            None,
            auto_decode,
            encoding,
            bind_host_port=bind_host_port,
            version="1.0",
            auto_reconnect=auto_reconnect,
        )
        BaseConnection.__init__(self, transport)
        Protocol10.__init__(self, transport, auto_content_length)
        transport.reconnect_hook = self._replay

    # The protocol's, not BaseConnection's placeholder (first in the bases).
    disconnect = Protocol10.disconnect


class _HeartbeatingConnection(BaseConnection):
    """What the 1.1 and 1.2 connection classes share: the constructor.

    Private: in stomp.py a 1.2 connection is not a 1.1 one, so the two classes share
    this base instead of deriving from each other.

    Args:
        host_and_ports: brokers to try, in order (``[("localhost", 61613)]``).
        prefer_localhost: try local hosts first.
        try_loopback_connect: also try ``127.0.0.1`` for a local host name.
        reconnect_sleep_initial: first wait between connection rounds, seconds.
        reconnect_sleep_increase: growth of the waits (0.5 = +50 % per round).
        reconnect_sleep_jitter: random extra, as a fraction of the wait.
        reconnect_sleep_max: cap on a wait, seconds.
        reconnect_attempts_max: failed attempts before giving up (``-1``: never;
            ``None``: 3 for the first connect, no limit after a drop).
        timeout: seconds for connecting, for CONNECTED, for the DISCONNECT receipt and
            for a write the broker takes nothing of (``None``: 30 s; 10 s for the
            receipt).
        heartbeats: ``(cx, cy)`` in ms: how often we can send, how often we want to
            receive (spec 1.1 "Heart-beating"); ``(0, 0)``: none.
        keepalive: TCP keep-alive: ``True``, ``("linux", idle, intvl, cnt)``,
            ``("mac", intvl)``.
        vhost: the ``host`` header of CONNECT.
        auto_decode: deliver bodies as ``str`` (decoded with ``encoding``), else bytes.
        encoding: the body encoding, in both directions.
        auto_content_length: add ``content-length`` (in encoded bytes) to SEND frames.
        heart_beat_receive_scale: the broker is dead after its interval times this.
        bind_host_port: local ``(host, port)`` to connect from.
        auto_reconnect: after an unexpected drop, reconnect with the ``reconnect_*``
            waits, CONNECT again with the same arguments and replay the live
            subscriptions.  Unless ``reconnect_attempts_max`` is given, the attempts
            after a drop never run out (a broker restart takes seconds): the waits
            grow to ``reconnect_sleep_max`` and ``disconnect()`` ends them.
            Listeners see ``on_disconnected`` then ``on_connecting`` and
            ``on_connected`` again; receipts awaited on the old connection never arrive.
    """

    def __init__(
        self,
        host_and_ports: Sequence[tuple[str, int]] | None = None,
        prefer_localhost: bool = True,
        try_loopback_connect: bool = True,
        reconnect_sleep_initial: float = 0.1,
        reconnect_sleep_increase: float = 0.5,
        reconnect_sleep_jitter: float = 0.1,
        reconnect_sleep_max: float = 60.0,
        reconnect_attempts_max: int | None = None,
        timeout: float | None = None,
        heartbeats: tuple[int, int] = (0, 0),
        keepalive: Any = None,
        vhost: str | None = None,
        auto_decode: bool = True,
        encoding: str = "utf-8",
        auto_content_length: bool = True,
        heart_beat_receive_scale: float = 1.5,
        bind_host_port: tuple[str, int] | None = None,
        *,
        auto_reconnect: bool = False,
    ) -> None:
        transport = self._new_transport(
            host_and_ports,
            prefer_localhost,
            try_loopback_connect,
            reconnect_sleep_initial,
            reconnect_sleep_increase,
            reconnect_sleep_jitter,
            reconnect_sleep_max,
            reconnect_attempts_max,
            timeout,
            keepalive,
            vhost,
            auto_decode,
            encoding,
            bind_host_port=bind_host_port,
            version=self._protocol_version(),
            heart_beat_receive_scale=heart_beat_receive_scale,
            auto_reconnect=auto_reconnect,
        )
        BaseConnection.__init__(self, transport)
        # Protocol12 has no constructor of its own: both versions start here.
        Protocol11.__init__(
            self,  # type: ignore[arg-type]  # the subclasses are Protocol11s
            transport,
            heartbeats,
            auto_content_length,
            heart_beat_receive_scale,
        )
        transport.reconnect_hook = self._replay  # type: ignore[attr-defined]  # a Protocol

    @staticmethod
    def _protocol_version() -> str:
        return "1.1"

    def _new_transport(self, *args: Any, **kwargs: Any) -> Transport:
        """Build the transport (the WebSocket adapter builds another kind)."""
        return Transport(*args, **kwargs)


class StompConnection11(_HeartbeatingConnection, Protocol11):
    """A STOMP 1.1 connection (``stomp.Connection``); see :class:`_HeartbeatingConnection`."""

    # The protocol's, not BaseConnection's placeholder (first in the bases).
    disconnect = Protocol11.disconnect


class StompConnection12(_HeartbeatingConnection, Protocol12):
    """A STOMP 1.2 connection; same parameters as :class:`StompConnection11`."""

    disconnect = Protocol12.disconnect

    @staticmethod
    def _protocol_version() -> str:
        return "1.2"

    @staticmethod
    def is_eol(c: bytes) -> bool:
        """Whether ``c`` is an EOL (LF or CR LF, spec 1.2 "Augmented BNF")."""
        return c in (b"\n", b"\r\n")

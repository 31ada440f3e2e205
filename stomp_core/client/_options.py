"""The settings of one client, checked once: :class:`ClientOptions`.

Both async drivers take the same keyword arguments in ``open_connection``; they build one
:class:`ClientOptions` from them and hand it down, so every setting is named, defaulted,
checked and documented here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from .._config import Config
from .._events import Connect
from .._limits import Limits
from ._addresses import Endpoint, parse_hosts, use_tls
from ._arguments import check_client_arguments
from ._frames import build_connect
from ._lifecycle import DEFAULT_HEARTBEAT_TOLERANCE, ReconnectPolicy
from ._routing import UnhandledHook

__all__ = ["ClientOptions", "TlsContexts"]

C = TypeVar("C")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """Everything a client was given, checked at construction.

    Args:
        hosts: the brokers, tried in order (:func:`parse_hosts` turns URLs and
            ``(host, port)`` pairs into :class:`Endpoint` objects).
        login: user name.
        passcode: password; never logged nor shown by ``repr``.
        vhost: the CONNECT ``host`` header (virtual host); ``None`` sends
            :data:`~stomp_core.client.DEFAULT_VHOST` (``"/"``).
        versions: STOMP versions to offer; the broker picks the highest.
        heartbeats: ``(cx, cy)`` in ms: how often we can send, how often we want to hear
            from the broker (spec 1.2 "Heart-beating"); ``(0, 0)`` for none.
        heartbeat_tolerance: the broker counts as dead after ``1 + tolerance``
            negotiated intervals of silence (default 1.5, stomp.py's scale: 2.5
            intervals; the one extra interval covers ActiveMQ, which lets up to two
            intervals pass between its frames; see :data:`DEFAULT_HEARTBEAT_TOLERANCE`).
        ssl: ``True`` for TLS with the system's CAs, an ``ssl.SSLContext`` for your own
            settings, ``False`` for plain TCP (refused for a ``stomp+ssl://`` URL),
            ``None``: as the URL says.  The core never imports ``ssl``: the driver checks
            the type and makes the context.
        connect_timeout: seconds for TCP and TLS, and again for CONNECTED; also how long
            an operation waits for a reconnect in progress.
        disconnect_timeout: seconds to wait for the RECEIPT of DISCONNECT.
        receipt_timeout: seconds to wait for any other RECEIPT.
        write_timeout: the one overall deadline of every write (a frame, with whatever
            was queued before it), in seconds.  A broker that reads too slowly or not at
            all (its heart-beats do not help: they prove it writes, not that it reads)
            makes the write raise :class:`ConnectionLost`; the stream then holds a
            partial frame, so the connection is dropped and the reconnect policy
            applies.  Large bodies to slow brokers may need more.
        reconnect: the :class:`ReconnectPolicy`, or ``None`` to fail at the first loss.
        subscription_buffer: messages buffered per subscription before the client stops
            reading from the broker (back-pressure).
        subscription_buffer_bytes: the same bound in bytes of MESSAGE bodies (default
            16 MiB): a message count alone lets 100 large bodies waiting for an idle
            consumer grow the client by gigabytes.  One message larger than this is
            still taken when the buffer is empty, so a big body never stalls the
            subscription.
        headers: extra CONNECT headers (e.g. ``{"client-id": "..."}``).
        limits: receive limits for the core (frame size, header count, ...).
        on_unhandled: called with every frame event the client cannot place: a MESSAGE
            for a subscription it does not know, a RECEIPT nobody asked for
            (conformance 88, 89); ``None`` logs a warning.

    Raises:
        ValueError: an empty host list, a bad number, a TLS downgrade, or CONNECT headers
            that clash with the other settings.
        TypeError: ``reconnect`` or ``on_unhandled`` of the wrong type.
    """

    hosts: tuple[Endpoint, ...]
    login: str | None = None
    passcode: str | None = field(default=None, repr=False)
    vhost: str | None = None
    versions: tuple[str, ...] = ("1.0", "1.1", "1.2")
    heartbeats: tuple[int, int] = (10_000, 10_000)
    heartbeat_tolerance: float = DEFAULT_HEARTBEAT_TOLERANCE
    ssl: object = None
    connect_timeout: float = 10.0
    disconnect_timeout: float = 10.0
    receipt_timeout: float = 10.0
    write_timeout: float = 30.0
    reconnect: ReconnectPolicy | None = ReconnectPolicy()  # noqa: RUF009 - frozen
    subscription_buffer: int = 100
    subscription_buffer_bytes: int = 16 * 1024 * 1024
    headers: Mapping[str, str] | None = None
    limits: Limits | None = None
    on_unhandled: UnhandledHook | None = None
    #: The core configuration of every connection (derived from the settings above).
    config: Config = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.hosts:
            raise ValueError("no broker given: hosts is empty")
        for endpoint in self.hosts:
            use_tls(endpoint, self.tls)  # refuses a silent downgrade, before any dial
        check_client_arguments(
            connect_timeout=self.connect_timeout,
            disconnect_timeout=self.disconnect_timeout,
            receipt_timeout=self.receipt_timeout,
            write_timeout=self.write_timeout,
            subscription_buffer=self.subscription_buffer,
            subscription_buffer_bytes=self.subscription_buffer_bytes,
            reconnect=self.reconnect,
            on_unhandled=self.on_unhandled,
        )
        set_ = object.__setattr__
        set_(self, "hosts", tuple(self.hosts))
        set_(self, "versions", tuple(self.versions))
        set_(self, "connect_timeout", float(self.connect_timeout))
        set_(self, "disconnect_timeout", float(self.disconnect_timeout))
        set_(self, "receipt_timeout", float(self.receipt_timeout))
        set_(self, "write_timeout", float(self.write_timeout))
        # A private copy: the caller's dict may change after the client was made.
        set_(self, "headers", MappingProxyType(dict(self.headers)) if self.headers else None)
        set_(
            self,
            "config",
            Config(
                versions=self.versions,
                limits=self.limits if self.limits is not None else Limits(),
                heartbeat_tolerance=self.heartbeat_tolerance,
                connect_timeout=self.connect_timeout,
                disconnect_timeout=self.disconnect_timeout,
            ),
        )
        self.connect_event()  # checks the headers and heart-beats now, not at the dial

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, Any]) -> ClientOptions:
        """The options of an ``open_connection`` call, from its arguments by name (the
        drivers pass ``locals()``).

        ``hosts``: ``"stomp://host:61613"``, ``"stomp+ssl://host:61614"``, several URLs
        separated by commas, or a list of URLs and ``(host, port)`` pairs, tried in order
        (failover); ``"ws://host:15674/ws"`` and ``"wss://..."`` speak STOMP over
        WebSocket (needs wsproto), as does a ``(host, port)`` pair given a ``ws_path``
        (the request path, e.g. ``"/ws"``); see :func:`parse_hosts`.  Every other
        argument named like a field of this class (``login`` ... ``on_unhandled``) is
        that setting, with the same default.  ``vhost`` defaults to ``"/"``; the
        passcode is never logged.  ``on_unhandled`` runs in the connection's own
        callbacks: keep it short and non-blocking; what it raises is logged and the
        connection carries on.  Other names (a driver's own, such as
        ``stream_factory``) are left out.
        """
        settings = {
            f.name: arguments[f.name]
            for f in fields(cls)
            if f.init and f.name != "hosts" and f.name in arguments
        }
        hosts = parse_hosts(arguments["hosts"], ws_path=arguments.get("ws_path"))
        return cls(hosts=tuple(hosts), **settings)

    @property
    def tls(self) -> bool | None:
        """The ``ssl`` setting reduced to what :func:`use_tls` takes (a context is ``True``)."""
        return None if self.ssl is None else self.ssl is not False

    def use_tls(self, endpoint: Endpoint) -> bool:
        """Whether to dial ``endpoint`` over TLS."""
        return use_tls(endpoint, self.tls)

    def connect_event(self) -> Connect:
        """The CONNECT to send on every connection attempt."""
        return build_connect(
            vhost=self.vhost,
            login=self.login,
            passcode=self.passcode,
            versions=self.versions,
            heartbeats=self.heartbeats,
            headers=self.headers,
        )


class TlsContexts(Generic[C]):
    """The TLS context of each broker of a client (``C`` is ``ssl.SSLContext``).

    The core never imports ``ssl``: the driver passes the context type and the factory
    of the default context.  ``options.ssl`` decides: a context of that type is used for
    every TLS broker; ``True``, or ``None`` with a ``stomp+ssl://`` URL, uses one default
    context, made on first use (loading the system CAs is slow) with certificate and
    host name verification on (stomp.py's quirk list calls TLS without verification a
    bug).

    Args:
        options: the client's settings.
        context_type: ``ssl.SSLContext``.
        make_default: ``ssl.create_default_context``.

    Raises:
        TypeError: ``options.ssl`` is neither a context, a bool nor ``None``.
    """

    __slots__ = ("_default", "_given", "_make_default", "_options")

    def __init__(
        self, options: ClientOptions, context_type: type[C], make_default: Callable[[], C]
    ) -> None:
        ssl = options.ssl
        if ssl is not None and not isinstance(ssl, (bool, context_type)):
            raise TypeError(f"ssl must be an SSLContext, True, False or None, got {ssl!r}")
        self._options = options
        self._given = ssl if isinstance(ssl, context_type) else None
        self._make_default = make_default
        self._default: C | None = None

    def context(self, endpoint: Endpoint) -> C | None:
        """The TLS context for ``endpoint``, or ``None`` for plain TCP."""
        if not self._options.use_tls(endpoint):
            return None
        if self._given is not None:
            return self._given
        if self._default is None:
            self._default = self._make_default()
        return self._default

"""Transports: the listener registry and the socket side of a connection.

:class:`BaseTransport` keeps the listeners and dispatches callbacks (sorted by listener
name, as stomp.py does; a listener that raises is logged and the others still run).
:class:`Transport` opens the TCP (and TLS) connection, trying the candidate hosts with the
reconnect backoff, and runs one :class:`~stomp._session.Session` per connection on top of
:mod:`stomp_core`, which owns the protocol: parsing, heart-beats, receipts and the connect
and disconnect deadlines.
"""

from __future__ import annotations

import codecs
import errno
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence

import stomp_core
from stomp_core import (
    Config,
    Connected,
    FrameEvent,
    LocalProtocolError,
    State,
    frame_log,
)

from . import _frames, exception, logging  # noqa: F401  # exception: stomp.py's name
from ._acks import AckLedger
from ._session import Session
from ._sockets import apply_keepalive, check_keepalive
from .exception import ConnectFailedException, NotConnectedException
from .listener import ConnectionListener, Publisher
from .utils import Frame, _localhost_names, default_create_thread, is_eol_default

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl
    from ssl import SSLError
    from typing import Any

    #: The TLS protocol used when ``set_ssl`` is not told otherwise.
    DEFAULT_SSL_VERSION: int | None
    LOCALHOST_NAMES: list[str]


# These module attributes are stomp.py's, computed the way it computes them, so that code
# (and stomp.py's own tests) that patches or reloads them sees the same names.
try:
    from socket import SO_KEEPALIVE, SOL_SOCKET, SOL_TCP, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL

    del SO_KEEPALIVE, SOL_SOCKET, SOL_TCP, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL
    #: Whether Linux-style keep-alive options (idle, interval, count) exist here.
    LINUX_KEEPALIVE_AVAIL = True
except ImportError:
    LINUX_KEEPALIVE_AVAIL = False
#: Whether macOS-style keep-alive (an interval on ``IPPROTO_TCP``) can be tried here.
MAC_KEEPALIVE_AVAIL = hasattr(socket, "IPPROTO_TCP")


def __getattr__(name: str) -> Any:
    # stomp.py's ``ssl``, ``SSLError`` and ``DEFAULT_SSL_VERSION`` (the TLS protocol used
    # when ``set_ssl`` is not told otherwise: ``ssl.PROTOCOL_TLS_CLIENT``, ``None`` where
    # the ssl module lacks it) load with the ssl module, on first use (PEP 562): ssl is
    # a fifth of ``import stomp`` and only TLS connections need it (issue 13).
    if name == "LOCALHOST_NAMES":
        return _localhost_names()  # stomp.utils' list, found on first use
    if name not in ("ssl", "SSLError", "DEFAULT_SSL_VERSION"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import ssl

    values = {
        "ssl": ssl,
        "SSLError": ssl.SSLError,
        "DEFAULT_SSL_VERSION": getattr(ssl, "PROTOCOL_TLS_CLIENT", None),
    }
    globals().update(values)  # later lookups skip this function
    return values[name]


# importlib.reload() runs this body again in the same namespace: forget what the first
# use computed, so that a reload after patching ssl (as stomp.py's tests do) sees it.
for _lazy in ("ssl", "SSLError", "DEFAULT_SSL_VERSION"):
    globals().pop(_lazy, None)
del _lazy


__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_SSL_VERSION",
    "LINUX_KEEPALIVE_AVAIL",
    "MAC_KEEPALIVE_AVAIL",
    "BaseTransport",
    "SSLError",
    "Transport",
    "ssl",
]
#: Seconds allowed for a TCP+TLS connect, for CONNECTED after CONNECT, and for a blocked
#: write, when the ``timeout`` argument is ``None`` (stomp.py had no such bound at all).
DEFAULT_CONNECT_TIMEOUT = 30.0
#: Failed attempts of a first connect when ``reconnect_attempts_max`` is not given
#: (stomp.py's default; reconnecting after a drop then has no limit).
FIRST_CONNECT_ATTEMPTS = 3
#: Seconds allowed for the RECEIPT of DISCONNECT when ``timeout`` is ``None``.
DEFAULT_DISCONNECT_TIMEOUT = 10.0
#: Extra seconds a closing connection gets before its socket is forced shut.
_GRACE = 2.0
#: A connection that lived this long after CONNECTED resets the reconnect backoff.
_STABLE_AFTER = 5.0

#: The methods stomp.py users override in their own transports (its WebSocket adapter is
#: built that way); see :attr:`Transport.overridden_hooks`.
_HOOKS = (
    "send",
    "receive",
    "cleanup",
    "process_frame",
    "set_connected",
    "disconnect_socket",
    "wait_for_connection",
)

_CALLBACK_ARITY = {
    "connecting": 1,
    "connected": 1,
    "disconnecting": 0,
    "disconnected": 0,
    "heartbeat_timeout": 0,
    "before_message": 1,
    "message": 1,
    "receipt": 1,
    "error": 1,
    "send": 1,
    "heartbeat": 0,
    "receiver_loop_completed": 1,
}


#: The callbacks of :class:`ConnectionListener`, all no-ops.
_BASE_CALLBACKS = {
    name: value for name, value in vars(ConnectionListener).items() if name.startswith("on_")
}

_PLAIN_LOOKUP: Any = object.__getattribute__


def _attribute_lookup(cls: type) -> Any:
    # A class with its own __getattribute__ (a proxy, a mock) may answer any name.
    return cls.__getattribute__


if TYPE_CHECKING:
    #: One callback kind's plan: the method name, whether it takes the frame, and the
    #: listeners to try, each with its instance ``__dict__`` when only that could hold the
    #: method (see :func:`_plan`), else ``None``.
    _Plan = tuple[str, int, list[tuple[str, Any, "dict[str, Any] | None"]]]
    _DispatchCache = tuple[dict[str, Any], list[tuple[str, Any]], dict[str, _Plan]]


def _plan(frame_type: str, listeners: list[tuple[str, Any]]) -> _Plan:
    """Whom :meth:`BaseTransport.notify` calls for ``frame_type``, listeners sorted by name.

    A listener whose class leaves ``on_<frame_type>`` to :class:`ConnectionListener`'s
    no-op, or lacks it, is not called (a message passes two such callbacks per
    listener, ``on_before_message`` and ``on_message``, and most listeners override
    one or neither); only its instance ``__dict__`` is looked at, on each call, in case
    the method was set on the object since.  Everything else is looked up on each call,
    as stomp.py does.  (Not seen until the registry changes: a method added to such a
    listener's *class* after it was registered.)
    """
    attr = "on_" + frame_type
    noop = _BASE_CALLBACKS.get(attr)
    targets: list[tuple[str, Any, dict[str, Any] | None]] = []
    for name, listener in listeners:
        cls = type(listener)
        if _attribute_lookup(cls) is _PLAIN_LOOKUP and not hasattr(cls, "__getattr__"):
            found = getattr(cls, attr, None)
            if found is None or found is noop:
                instance_dict = getattr(listener, "__dict__", None)
                if isinstance(instance_dict, dict):
                    targets.append((name, listener, instance_dict))
                continue
        targets.append((name, listener, None))
    return attr, _CALLBACK_ARITY.get(frame_type, 1), targets


def _check_timeout(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be None or a positive number of seconds, got {value!r}")
    return float(value)


class _TLSSetupError(Exception):
    """The ``set_ssl`` settings cannot make a TLS context (a missing file, say)."""


def _make_ssl_context(params: dict[str, Any]) -> ssl.SSLContext:
    """A TLS client context from ``set_ssl``'s stored settings (verification on by default).

    Raises:
        OSError: a file is missing or unreadable (``ssl.SSLError``: not a certificate).
        ValueError, TypeError: an unusable argument.
    """
    for name in ("key_file", "cert_file", "ca_certs"):
        path = params[name]
        if path is not None and not os.path.isfile(path):
            raise FileNotFoundError(errno.ENOENT, f"{name} does not exist", path)
    validator = params["cert_validator"]
    if validator is not None and not callable(validator):
        raise TypeError("cert_validator must be callable")
    import ssl  # only TLS connections load it (issue 13: import time)

    ssl_version = params["ssl_version"]
    ca_certs = params["ca_certs"]
    if ssl_version is None or ssl_version == getattr(ssl, "PROTOCOL_TLS_CLIENT", None):
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_certs)
    else:
        context = ssl.SSLContext(ssl_version)
        if ca_certs is not None:
            context.load_verify_locations(ca_certs)
        else:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = True
    if not params["verify"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert_file = params["cert_file"]
    if cert_file is not None:
        context.load_cert_chain(cert_file, params["key_file"] or cert_file, params["password"])
    return context


class BaseTransport(Publisher):
    """Listener registry and callback dispatch, shared by every transport.

    Args:
        auto_decode: decode received bodies to ``str`` (with ``encoding``).
        encoding: the body encoding, both directions.
        is_eol_fc: kept for compatibility; the core recognises LF and CR LF heart-beats.
    """

    def __init__(
        self,
        auto_decode: bool = True,
        encoding: str = "utf-8",
        is_eol_fc: Callable[[bytes], bool] = is_eol_default,
    ) -> None:
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise ValueError(f"unknown encoding {encoding!r}") from None
        self.auto_decode = auto_decode
        self.encoding = encoding
        self.is_eol = is_eol_fc
        self.listeners: dict[str, Any] = {}
        self._listeners_lock = threading.Lock()
        #: The registry as last seen, sorted by name, and per callback kind whom to call
        #: (see :meth:`notify`).
        self._dispatch_cache: _DispatchCache | None = None
        self.running = False
        self.connected = False
        self.connection_error = False
        self.current_host_and_port: tuple[str, int] | None = None
        self.create_thread_fc: Callable[[Callable[[], None]], Any] = default_create_thread
        self.blocking: bool | None = None
        self._receipts: dict[str, str] = {}
        #: The counters of every connection this transport opens (``conn.metrics()``).
        self.metrics = stomp_core.Metrics()
        #: stomp.py's flags and the selector/queue of its non-blocking TLS mode: kept so
        #: that code reading them works (this transport needs neither).
        self.disconnecting = False
        self.notified_on_disconnect = False
        self.sel: Any = None
        self.send_queue: Any = None

    def override_threading(self, create_thread_fc: Callable[[Callable[[], None]], Any]) -> None:
        """Use ``create_thread_fc(callable)`` to start this transport's threads.

        It must start running the callable (in a thread, a pool, ...) and return at once;
        it is called twice per connection (the I/O loop, which also calls the listeners,
        and the heart-beat keeper), so a pool needs at least two workers per connection.
        """
        if not callable(create_thread_fc):
            raise TypeError("create_thread_fc must be callable")
        self.create_thread_fc = create_thread_fc

    def set_listener(self, name: str, listener: Any) -> None:
        """Register ``listener`` under ``name``, replacing any listener of that name."""
        if not isinstance(name, str):
            raise TypeError(f"a listener name must be a str, got {name!r}")
        if listener is None:
            # stomp.py asserts; raised explicitly so that ``python -O`` keeps the check.
            raise AssertionError("listener must not be None")
        with self._listeners_lock:
            self.listeners[name] = listener

    def remove_listener(self, name: str) -> None:
        """Unregister the listener called ``name``.

        Raises:
            KeyError: no listener has that name.
        """
        with self._listeners_lock:
            del self.listeners[name]

    def get_listener(self, name: str) -> Any:
        """The listener called ``name``, or ``None``."""
        with self._listeners_lock:
            return self.listeners.get(name)

    def set_receipt(self, receipt_id: str, value: str | None) -> None:
        """Remember what ``receipt_id`` was for (a falsy value forgets it)."""
        if value:
            self._receipts[receipt_id] = value
        else:
            self._receipts.pop(receipt_id, None)

    def notify(self, frame_type: str, frame: Any = None) -> None:
        """Call ``on_<frame_type>`` on every listener that has it, sorted by name.

        A listener that raises is logged with its traceback; the others still run and
        the connection carries on (stomp.py tore the connection down).
        """
        registered = self.listeners
        if not registered:
            return
        self._call_listeners(self._plan(registered, frame_type), frame_type, frame)

    def _call_listeners(self, plan: _Plan, frame_type: str, frame: Any) -> bool:
        """Call each listener's ``on_<frame_type>`` that ``plan`` lists, in order.

        Returns:
            whether any was called.
        """
        attr, arity, targets = plan
        called = False
        for name, listener, instance_dict in targets:
            if instance_dict is not None and attr not in instance_dict:
                continue  # its class has nothing for this callback, nor has it since
            method = getattr(listener, attr, None)
            if method is None:
                continue
            called = True
            try:
                if arity:
                    method(frame)
                else:
                    method()
            except Exception:
                logging.exception("listener %r raised in on_%s; carrying on", name, frame_type)
        return called

    def notify_message(self, frame: Frame) -> None:
        """``notify("before_message", frame)``, then ``notify("message", frame)``.

        The same calls in the same order, for every received MESSAGE (the I/O thread's
        hot path): the registry is compared once for both callbacks unless an
        ``on_before_message`` ran (it may have changed the listeners).
        """
        registered = self.listeners
        if not registered:
            return
        if type(self).notify is not _OWN_NOTIFY or "notify" in self.__dict__:
            # ``notify`` is overridden or wrapped (a subclass, stomp_otel's process
            # span): it must see every MESSAGE, as in stomp.py.
            self.notify("before_message", frame)
            self.notify("message", frame)
            return
        # _plan compares the registry with the cached copy and rebuilds the cache if
        # it changed: once here, for both callbacks.
        before = self._plan(registered, "before_message")
        if before[2] and self._call_listeners(before, "before_message", frame):
            self.notify("message", frame)  # compared again: that listener may edit them
            return
        cache = self._dispatch_cache
        assert cache is not None  # built by _plan just now
        plan = cache[2].get("message") or self._plan(registered, "message")
        self._call_listeners(plan, "message", frame)

    def _plan(self, registered: dict[str, Any], frame_type: str) -> _Plan:
        cache = self._dispatch_cache
        if cache is None or cache[0] != registered:
            with self._listeners_lock:
                # Kept while the registry is unchanged (compared as a copy: code may
                # edit ``listeners`` directly, as in stomp.py).
                cache = (dict(registered), sorted(registered.items()), {})
                self._dispatch_cache = cache
        plan = cache[2].get(frame_type)
        if plan is None:
            plan = cache[2][frame_type] = _plan(frame_type, cache[1])
        return plan

    def has_callback(self, frame_type: str) -> bool:
        """Whether :meth:`notify` would call some listener's ``on_<frame_type>``."""
        registered = self.listeners
        if not registered:
            return False
        # _plan's cache read inline: the SEND fast path asks this for every frame.
        cache = self._dispatch_cache
        plan = cache[2].get(frame_type) if cache is not None and cache[0] == registered else None
        if plan is None:
            plan = self._plan(registered, frame_type)
        attr, _, targets = plan
        for _name, _listener, instance_dict in targets:
            if instance_dict is None or attr in instance_dict:
                return True
        return False

    def process_frame(self, f: Frame, frame_str: bytes | None) -> None:
        """Hand a received frame to the listeners (``on_<command>``).

        The connection calls this for every CONNECTED, MESSAGE (``on_before_message``
        first), RECEIPT, ERROR and heart-beat (``Frame("heartbeat")``), on its I/O
        thread, so a subclass that overrides it sees every frame, as in stomp.py.

        Args:
            f: the frame.
            frame_str: its raw bytes when known (``None`` here: the core parsed them).
        """
        frame_type = (f.cmd or "").lower()
        if frame_type in ("connected", "message", "receipt", "error", "heartbeat"):
            if frame_type == "message":
                self.notify("before_message", f)
            self.notify(frame_type, f)
        else:
            logging.warning(
                "unknown response frame type: %r (frame length was %d)",
                frame_type,
                len(frame_str or b""),
            )

    def is_connected(self) -> bool:
        """Whether a STOMP session is open (CONNECTED received, not closed since)."""
        return self.connected

    def set_connected(self, connected: bool) -> None:
        """Record whether the STOMP session is open (called on CONNECTED and on close)."""
        self.connected = connected

    def wait_for_connection(self, timeout: float | None = None) -> None:
        """Wait until ``connected`` (see :meth:`Transport.wait_for_connection`).

        Raises:
            ConnectFailedException: not connected after ``timeout`` seconds (default 30).
        """
        deadline = time.monotonic() + (DEFAULT_CONNECT_TIMEOUT if timeout is None else timeout)
        while self.running and not self.connected and not self.connection_error:
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        if not self.connected:
            raise ConnectFailedException("not connected")

    def send(self, encoded_frame: bytes) -> None:
        """Write encoded bytes to the connection (a hook; this base class has no socket)."""

    def receive(self) -> bytes | None:
        """Read bytes from the connection (a hook; this base class has no socket)."""
        return None

    def cleanup(self) -> None:
        """Release the connection's resources when it ended (a hook; nothing here)."""

    def attempt_connection(self) -> Any:
        """Open the network connection (a hook; this base class has no socket)."""
        return None

    def disconnect_socket(self) -> None:
        """Close the network connection (a hook; this base class has no socket)."""

    def start(self) -> None:
        """Open the transport connection (see :class:`Transport`)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Close the transport connection (see :class:`Transport`)."""
        raise NotImplementedError

    def transmit(self, frame: Frame) -> None:
        """Send a frame (see :class:`Transport`)."""
        raise NotImplementedError


#: ``BaseTransport.notify`` as defined here, before anyone wraps it.
_OWN_NOTIFY = BaseTransport.notify


class Transport(BaseTransport):
    """A STOMP connection over TCP, optionally TLS, driven by :mod:`stomp_core`.

    Args mirror stomp.py's ``Transport``; the extra keyword-only ones are set by the
    connection classes:

    Args:
        host_and_ports: brokers to try, ``[("localhost", 61613)]`` by default.
        prefer_localhost: try local hosts first.
        try_loopback_connect: add a ``127.0.0.1`` twin for local hosts.
        reconnect_sleep_initial: first wait between connection rounds, seconds.
        reconnect_sleep_increase: growth factor of the waits (0.5 = +50 % per round).
        reconnect_sleep_jitter: random extra, as a fraction of the wait.
        reconnect_sleep_max: cap on a wait, seconds.
        reconnect_attempts_max: failed attempts (one per host tried) before giving up;
            ``-1`` = forever.  ``None`` (the default): stomp.py's 3 for a first connect,
            and no limit for reconnecting after a drop (``auto_reconnect``), which
            then retries until :meth:`stop`.
        timeout: seconds for a TCP/TLS connect, for CONNECTED after CONNECT, for the
            RECEIPT of DISCONNECT and for writing one frame, all of it within that one
            deadline (``None``: 30 s, 10 s for the receipt).  Unlike stomp.py 8.2 it never
            closes an idle connection.
        keepalive: TCP keep-alive: ``True``, ``("linux", idle, intvl, cnt)`` or
            ``("mac", intvl)``.
        vhost: the ``host`` header of CONNECT (1.1, 1.2).
        auto_decode: decode bodies to ``str``.
        encoding: body encoding, both directions.
        recv_bytes: accepted for compatibility; reads take up to 64 KiB.
        is_eol_fc: accepted for compatibility.
        bind_host_port: local ``(host, port)`` to bind before connecting.
        version: the STOMP version, ``"1.0"``, ``"1.1"`` or ``"1.2"``.
        heart_beat_receive_scale: the broker is dead after its interval times this.
        auto_reconnect: reconnect after an unexpected drop (see the connection classes).
    """

    # The class whose methods are the defaults (set below; a reload of this module makes
    # a new class, and objects of the old one must still compare with their own).
    _hooks_defined_by: type[Transport]

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
        vhost: str | None = None,
        auto_decode: bool = True,
        encoding: str = "utf-8",
        recv_bytes: int = 1024,
        is_eol_fc: Callable[[bytes], bool] = is_eol_default,
        bind_host_port: tuple[str, int] | None = None,
        *,
        version: str = "1.1",
        heart_beat_receive_scale: float = 1.5,
        auto_reconnect: bool = False,
    ) -> None:
        super().__init__(auto_decode, encoding, is_eol_fc)
        # The core's host helpers load on first use (issue 13: import time).
        from stomp_core import candidate_hosts, is_local_host

        given: list[tuple[str, int]] | None = None
        if host_and_ports is not None:
            if isinstance(host_and_ports, (str, bytes)):
                raise ValueError(f"host_and_ports must be a list of pairs, got {host_and_ports!r}")
            given = [(hp[0], hp[1]) for hp in host_and_ports]
        self.host_and_ports: list[tuple[str, int]] = candidate_hosts(
            given,
            prefer_localhost=prefer_localhost,
            try_loopback_connect=try_loopback_connect,
            local_names=_localhost_names(),
        )
        # An auto-added 127.0.0.1 entry stands for a local host given by the user: it
        # gets that host's TLS settings and name (stomp.py tried it in plain TCP).
        self._twin_of: dict[tuple[str, int], tuple[str, int]] = {}
        for host, port in self.host_and_ports:
            if given is not None and (host, port) not in given:
                for original in given:
                    if original[1] == port and is_local_host(original[0], _localhost_names()):
                        self._twin_of[(host, port)] = original
                        break
        # The waits are stomp.py's.  The attempts: a first connect keeps stomp.py's
        # budget by default (3, about half a second: a wrong address fails fast); after
        # a drop there is no limit by default, because a broker restart takes seconds
        # and a reconnecting client must ride it out (stomp_core.client's
        # ReconnectPolicy default, as in the async drivers); disconnect() ends it.
        # Imported here, not with the module: stomp_core.client is the async drivers'
        # session layer (about 10 ms to import), and this driver needs only its policy.
        from dataclasses import replace  # loaded with stomp_core.client anyway

        from stomp_core.client import ReconnectPolicy

        after_drop = ReconnectPolicy(
            initial=reconnect_sleep_initial,
            increase=reconnect_sleep_increase,
            jitter=reconnect_sleep_jitter,
            maximum=reconnect_sleep_max,
        )
        if reconnect_attempts_max is not None:
            after_drop = replace(after_drop, attempts_max=reconnect_attempts_max)
        first = replace(
            after_drop,
            attempts_max=FIRST_CONNECT_ATTEMPTS
            if reconnect_attempts_max is None
            else reconnect_attempts_max,
        )
        import random  # on first use (issue 13: import time)

        self.backoff = first.backoff(random.random)
        self._drop_backoff = after_drop.backoff(random.random)
        self._after_drop = False
        self.timeout = _check_timeout("timeout", timeout)
        self.keepalive = keepalive
        check_keepalive(keepalive)
        if vhost is not None and not isinstance(vhost, str):
            raise TypeError(f"vhost must be a str, got {vhost!r}")
        self.vhost = vhost
        self.recv_bytes = recv_bytes
        if bind_host_port is not None and (
            not isinstance(bind_host_port, (tuple, list)) or len(bind_host_port) != 2
        ):
            raise ValueError(f"bind_host_port must be a (host, port) pair, got {bind_host_port!r}")
        self.bind_host_port = None if bind_host_port is None else tuple(bind_host_port)
        self.version = version
        self.auto_reconnect = bool(auto_reconnect)
        self.connect_timeout = self.timeout if self.timeout is not None else DEFAULT_CONNECT_TIMEOUT
        try:
            self.config = Config(
                versions=(version,),
                heartbeat_tolerance=heart_beat_receive_scale,
                accept_incomplete_messages=True,  # stomp.py delivers them
                connect_timeout=self.connect_timeout,
                disconnect_timeout=(
                    self.timeout if self.timeout is not None else DEFAULT_DISCONNECT_TIMEOUT
                ),
                # stomp.py keeps the session after an ERROR; the broker decides.
                error_ends_session=False,
            )
        except LocalProtocolError as exc:
            raise ValueError(exc.message) from None
        self.heartbeats: tuple[int, int] = (0, 0)
        self.socket: socket.socket | None = None
        # Named as stomp.py names it (``_Transport__ssl_params``): code and tests read it.
        self.__ssl_params: dict[tuple[str, int], dict[str, Any]] = {}
        # Built at the first connect to a host, from its parameters (id of the dict).
        self.__ssl_contexts: dict[int, ssl.SSLContext] = {}
        self._last_host_and_port: tuple[str, int] | None = None
        self._session: Session | None = None
        self._stopping = threading.Event()
        self._quick_drops = 0
        #: The number of the current connection (1 for the first), for the ack ledger.
        self._generation = 0
        self._acks = AckLedger()
        #: ``ack_mode_of(subscription key)``: the ack mode a subscription was made with
        #: (``None``: unknown); set by the protocol, read on the I/O thread.
        self.ack_mode_of: Callable[[str], str | None] | None = None
        #: Called (with no argument) on the I/O thread after an automatic reconnect, to
        #: send CONNECT again and replay the subscriptions; set by the connection.
        self.reconnect_hook: Callable[[], None] | None = None
        #: The stomp.py hooks this object's class overrides (a user's transport): the
        #: connection then calls them where stomp.py would.
        self.overridden_hooks: frozenset[str] = frozenset(
            name
            for name in _HOOKS
            if getattr(type(self), name) is not getattr(self._hooks_defined_by, name)
        )

    def use_version(self, version: str) -> None:
        """Speak STOMP ``version`` from the next connection on (the protocol's own)."""
        if version != self.version:
            self.version = version
            from dataclasses import replace  # loaded with stomp_core.client anyway

            self.config = replace(self.config, versions=(version,))

    # ------------------------------------------------------------------ threads

    @property
    def receiver_thread(self) -> Any:
        """The current connection's I/O thread handle (stomp.py 9.0: ``io_thread``)."""
        session = self._session
        return None if session is None else session.io_thread

    @property
    def io_thread(self) -> Any:
        """Same as :attr:`receiver_thread`."""
        return self.receiver_thread

    @property
    def session(self) -> Session | None:
        """The current connection's session, if any."""
        return self._session

    # ------------------------------------------------------------------ connecting

    def is_connected(self) -> bool:
        """Whether the STOMP session is open: socket open and CONNECTED received."""
        session = self._session
        return (
            session is not None
            and not session.closed
            and session.state in (State.CONNECTED, State.DISCONNECTING)
        )

    def start(self) -> None:
        """Open a connection (trying the hosts with backoff) and start its threads.

        Listeners get ``on_connecting`` on the calling thread once the socket (and TLS)
        is up.  If a connection is already open, nothing happens.

        Raises:
            ConnectFailedException: every attempt failed, or a certificate file is
                missing.
        """
        current = self._session
        if current is not None and not current.closed:
            logging.warning("already connected to %s:%s", *current.host_and_port)
            return
        self.running = True
        self._stopping.clear()
        opened = self.attempt_connection()
        if opened is None:
            # A stomp.py-style override: it sets self.socket and current_host_and_port.
            if self.socket is None or self.current_host_and_port is None:
                self.running = False
                raise ConnectFailedException("attempt_connection() opened no socket")
            opened = (self.socket, self.current_host_and_port)
        sock, host_and_port = opened
        session = Session(self, sock, host_and_port, self.config, **self._session_options(sock))
        self._generation += 1
        self._session = session
        self.socket = sock
        self.connection_error = False
        self.current_host_and_port = self._last_host_and_port = host_and_port
        session.start(self.create_thread_fc)
        logging.info("established connection to host %s, port %s", *host_and_port)
        self.notify("connecting", host_and_port)

    def attempt_connection(self) -> tuple[socket.socket, tuple[str, int]]:
        """Try the hosts in order, in rounds separated by the backoff waits.

        Raises:
            ConnectFailedException: the attempt budget is spent, :meth:`stop` was called,
                or a certificate file is missing (not worth retrying).
        """
        schedule = (self._drop_backoff if self._after_drop else self.backoff).schedule()
        last_error: BaseException | None = None
        while self.running:
            for host_and_port in self.host_and_ports:
                if schedule.exhausted or not self.running:
                    break
                try:
                    return self._open(host_and_port), host_and_port
                except _TLSSetupError as exc:
                    # A missing file or a bad set_ssl argument: no retry can fix it.
                    self.running = False
                    raise ConnectFailedException(f"cannot connect: {exc}") from exc.__cause__
                except (OSError, ValueError) as exc:
                    schedule.record_failure()
                    last_error = exc
                    logging.warning(
                        "could not connect to host %s, port %s: %s",
                        *host_and_port,
                        exc,
                        exc_info=logging.verbose,
                    )
            delay = schedule.next_delay()
            if delay is None or self._stopping.wait(delay):
                break
        self.running = False
        hosts = ", ".join(f"{h}:{p}" for h, p in self.host_and_ports)
        raise ConnectFailedException(f"could not connect to {hosts}: {last_error}") from last_error

    def _open(self, host_and_port: tuple[str, int]) -> socket.socket:
        limit = self.connect_timeout
        # The TLS settings first: a missing certificate file fails before any network I/O.
        context = self._ssl_context(host_and_port)
        sock = socket.create_connection(
            host_and_port, timeout=limit, source_address=self.bind_host_port
        )
        try:
            # TCP_NODELAY stays off, as in stomp.py: one sendall per frame, and Nagle's
            # coalescing roughly doubles throughput for streams of small SEND frames.
            apply_keepalive(sock, self.keepalive)
            named = self._twin_of.get(host_and_port, host_and_port)
            if context is not None:
                params = self.get_ssl(host_and_port) or {}
                # SNI and host-name verification use the name the user gave.
                sock = context.wrap_socket(sock, server_hostname=named[0])
                validator = params.get("cert_validator")
                if validator is not None:
                    ok, message = validator(sock.getpeercert(), named[0])
                    if not ok:
                        import ssl  # loaded already: the socket was wrapped

                        raise ssl.SSLError(f"certificate rejected by cert_validator: {message}")
            sock.settimeout(limit)
            return sock
        except BaseException:
            sock.close()
            raise

    def _session_options(self, sock: socket.socket) -> dict[str, Any]:
        """Extra arguments for the :class:`Session` of a new socket (adapters add some)."""
        return {}

    # ------------------------------------------------------------------ TLS

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
        """Use TLS for ``for_hosts`` (all hosts if empty).

        Certificates and host names are verified by default (against ``ca_certs``, or
        the system's trust store); ``verify=False`` turns verification off.  As in
        stomp.py the settings are stored here and used at connect time, so the files
        may be created later; a file that is still missing (or unusable) at connect
        time fails that connect at once, without the reconnect retries.

        Args:
            for_hosts: the ``(host, port)`` pairs that speak TLS.
            key_file: the client's private key (defaults to ``cert_file``).
            cert_file: the client's certificate, for mutual TLS.
            ca_certs: CA bundle to verify the broker with.
            cert_validator: ``f(peercert, host) -> (ok, message)`` run after the handshake.
            ssl_version: an ``ssl.PROTOCOL_*`` constant; ``None`` (the default) means
                :data:`DEFAULT_SSL_VERSION`, a secure default context.
            password: the private key's password.
            verify: verify the broker's certificate and host name.
        """
        params = {
            "key_file": key_file,
            "cert_file": cert_file,
            "ca_certs": ca_certs,
            "cert_validator": cert_validator,
            "ssl_version": ssl_version,
            "password": password,
            "verify": verify,
        }
        hosts = [(hp[0], hp[1]) for hp in for_hosts] or list(self.host_and_ports)
        for host_and_port in hosts:
            self.__ssl_params[host_and_port] = params

    def get_ssl(self, host_and_port: tuple[str, int] | None = None) -> dict[str, Any] | None:
        """The TLS settings of ``host_and_port``, or ``None``.

        The default is the current host, or after a disconnect the host last connected
        to (stomp.py kept its host until the socket was gone).
        """
        key = host_and_port or self.current_host_and_port or self._last_host_and_port
        if key is None:
            return None
        key = (key[0], key[1])
        params = self.__ssl_params.get(key) or self.__ssl_params.get(self._twin_of.get(key, key))
        return params

    def _ssl_context(self, host_and_port: tuple[str, int]) -> ssl.SSLContext | None:
        """The TLS context for ``host_and_port`` (``None``: plain TCP).

        Raises:
            _TLSSetupError: the stored settings cannot make a context.
        """
        params = self.get_ssl(host_and_port)
        if params is None:
            return None
        context = self.__ssl_contexts.get(id(params))
        if context is None:
            try:
                context = _make_ssl_context(params)
            except (OSError, ValueError, TypeError) as exc:
                raise _TLSSetupError(f"TLS settings for {host_and_port}: {exc}") from exc
            self.__ssl_contexts[id(params)] = context
        return context

    # ------------------------------------------------------------------ sending

    def transmit(self, frame: Frame) -> None:
        """Show ``frame`` to the listeners' ``on_send``, then send it.

        Frames other than CONNECT wait (at most the connect timeout) for CONNECTED if
        it has not arrived yet.

        Raises:
            NotConnectedException: there is no open connection.
            ValueError: the frame is not valid for the protocol version.
            TypeError: the body is neither ``str`` nor ``bytes``.
        """
        session = self._session
        if session is None or session.closed:
            raise NotConnectedException("not connected")
        command = frame.cmd
        ack_id = None
        if command in ("ACK", "NACK"):
            ack_id = self._check_ack(frame)
        if self.listeners:
            self.notify("send", frame)
        session.send(
            _frames.core_frame(frame, self.encoding),
            wait_connected=None if command in ("CONNECT", "STOMP") else self.connect_timeout,
        )
        if ack_id is not None:
            self._acks.settled(ack_id)
        if logging.logger.isEnabledFor(logging.DEBUG):
            logging.debug(
                "%s",
                frame_log.format_parts(command or "", frame.headers.items(), frame.body, sent=True),
            )

    def transmit_message(
        self, destination: str, body: bytes, content_type: str | None, content_length: bool
    ) -> None:
        """Send a plain SEND for the protocol's fast path (no listener has ``on_send``).

        Raises:
            NotConnectedException: there is no open connection.
            ValueError: the frame is not valid for the protocol version.
        """
        session = self._session
        if session is None or session.closed:
            raise NotConnectedException("not connected")
        session.send_message(
            destination, body, content_type, content_length, wait_connected=self.connect_timeout
        )

    def _ack_id(self, headers: dict[str, Any]) -> str | None:
        # Spec 1.2 "ACK": the id is the MESSAGE's ack header; 1.0 and 1.1 ack by message-id.
        value = headers.get("id" if self.version == "1.2" else "message-id")
        return None if value is None else str(value)

    def _check_ack(self, frame: Frame) -> str | None:
        """The ack id of an ACK/NACK ``frame``, refused if its message came on another connection.

        Raises:
            NotConnectedException: the message was delivered on an earlier connection:
                its ack id means nothing (or another message) on this one, and the
                broker redelivers the message anyway.
        """
        ack_id = self._ack_id(frame.headers)
        if ack_id is None:
            return None
        if self._acks.stale(ack_id, self._generation) is not None:
            message = (
                f"{frame.cmd} of {ack_id!r} not sent: that message came on an earlier "
                "connection, which was lost; the broker redelivers it (on this connection "
                "the id could settle another message)"
            )
            logging.warning("%s", message)
            raise NotConnectedException(message)
        return ack_id

    def messages_received(self, session: Session, frames: Iterable[Frame]) -> None:
        """``session`` delivers these MESSAGEs (I/O thread): note those that need an ack."""
        if session is not self._session:
            return
        lookup = self.ack_mode_of
        # One read's messages mostly share a subscription: its mode is looked up once.
        last_key: Any = None
        last_mode: str | None = None
        for frame in frames:
            headers = frame.headers
            key = headers.get("subscription") or headers.get("destination")
            if key is None or lookup is None:
                mode = None
            elif key == last_key:
                mode = last_mode
            else:
                mode = last_mode = lookup(str(key))
                last_key = key
            if mode is None and "ack" in headers:
                mode = "client-individual"  # spec 1.2: an ack header means an ack is needed
            if mode != "client" and mode != "client-individual":
                continue
            ack_id = self._ack_id(headers if self.version != "1.2" else {"id": headers.get("ack")})
            if ack_id is not None:
                self._acks.delivered(ack_id, self._generation, str(key), mode == "client")

    def send(self, encoded_frame: bytes) -> None:
        """Write encoded bytes to the connection (stomp.py's hook).

        Every write of the connection goes through an override of this method (called
        with the connection's write lock held, so it must not wait for another
        sender); called directly, it writes bytes the protocol does not see: only
        whole frames or EOLs keep the stream valid, so prefer :meth:`transmit`.

        Raises:
            NotConnectedException: there is no open connection.
        """
        session = self._session
        if session is None:
            raise NotConnectedException("not connected")
        if session.in_send_hook():
            session.write_from_hook(encoded_frame)  # an override's super().send()
        else:
            session.send_raw(bytes(encoded_frame))

    def receive(self) -> bytes | None:
        """Read what arrived on the socket (stomp.py's hook).

        The connection's I/O thread reads through an override of this method; called
        directly, it takes bytes the protocol then never sees.

        Returns:
            the bytes, ``b""`` at end of file.

        Raises:
            NotConnectedException: there is no open connection.
        """
        sock = self.socket
        if sock is None:
            raise NotConnectedException("not connected")
        return sock.recv(max(int(self.recv_bytes), 65536))

    def cleanup(self) -> None:
        """Called on the I/O thread once a connection ended and its socket is closed."""

    def shutdown_queue(self) -> None:
        """Nothing to shut down: stomp.py's send queue of its TLS mode does not exist here."""

    # ------------------------------------------------------------------ receiving

    def frame_from_event(self, event: FrameEvent) -> Frame:
        """A received frame event as stomp.py's :class:`~stomp.utils.Frame` (for the session)."""
        return _frames.frame_from_event(event, auto_decode=self.auto_decode, encoding=self.encoding)

    def session_connected(self, session: Session, event: Connected) -> None:
        """``session`` received CONNECTED (its I/O thread, core lock held)."""
        self.connected = True  # set_connected() overrides run with the listeners
        self.heartbeats = session.heartbeat

    def session_closed(self, session: Session) -> None:
        """``session`` closed its socket (core lock held): update the flags stomp.py had."""
        if session is self._session:
            self.connected = False
            self.connection_error = session.connection_error is not None
            self.current_host_and_port = None
            if not self.auto_reconnect or session.disconnect_requested:
                self.running = False

    def session_ended(self, session: Session) -> None:
        """On the finished I/O thread: reconnect if asked to, else stop running."""
        if session is not self._session:
            return
        if not (self.auto_reconnect and self.running and not session.disconnect_requested):
            self.running = False
            return
        # Listeners see on_disconnected before the new on_connecting.
        if not session.on_dispatcher_thread():
            session.dispatch_done.wait(DEFAULT_CONNECT_TIMEOUT)
        # A broker that drops us right after CONNECTED (say, it refuses a replayed
        # subscription) must not get a tight reconnect loop: quick drops back off.
        lived = time.monotonic() - (session.connected_at or 0.0)
        self._quick_drops = self._quick_drops + 1 if lived < _STABLE_AFTER else 0
        if self._quick_drops and self._stopping.wait(self.backoff.delay(self._quick_drops)):
            return  # stop() was called meanwhile
        self._after_drop = True
        try:
            self.start()
            if self.reconnect_hook is not None:
                self.reconnect_hook()
        except Exception as exc:
            logging.error("automatic reconnection failed: %s", exc)
            self.running = False
        finally:
            self._after_drop = False
        current = self._session
        if not self.running and current is not None and current is not session:
            current.abort()  # disconnect() raced with the reconnection: undo it

    def wait_for_connection(
        self, timeout: float | None = None, *, session: Session | None = None
    ) -> None:
        """Wait until CONNECTED arrived and the listeners' ``on_connected`` ran.

        Args:
            timeout: seconds; ``None`` uses the connect timeout.
            session: the connection to wait for (default: the current one).

        Raises:
            ConnectFailedException: the broker refused (ERROR), closed the connection, or
                the deadline passed (the connection is then closed).
        """
        if session is None:
            session = self._session
        if session is None:
            raise ConnectFailedException("not connected")
        limit = self.connect_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        if not session.wait_connected(limit):
            reason = session.connection_error
            if not session.closed:
                # Still connecting (or a timeout the I/O thread has yet to report).
                reason = "no CONNECTED frame from {}:{} within {} s".format(
                    *session.host_and_port, limit
                )
                session.abort()
            raise ConnectFailedException(reason or "the connection was closed")
        if not session.on_dispatcher_thread():
            session.connected_dispatched.wait(max(0.0, deadline - time.monotonic()))

    def stop(self, timeout: float | None = None) -> None:
        """Close the connection and wait (bounded) until its threads finished.

        Never hangs: after ``timeout`` (default: the disconnect timeout) the socket is
        forced shut.  Called from inside a listener it does not wait for the listener
        dispatch to finish (that would wait for itself).
        """
        self.running = False
        self._stopping.set()
        session = self._session
        if session is None:
            return
        session.request_disconnect()
        if session.on_dispatcher_thread():
            # Called from a listener: the I/O thread is the caller, so it cannot wait
            # for itself; it closes the connection once the listener returned.
            return
        limit = timeout if timeout is not None else (self.config.disconnect_timeout or 10.0)
        if not session.io_done.wait(limit + _GRACE):
            session.abort()
            session.io_done.wait(_GRACE)

    def disconnect_socket(self) -> None:
        """Close the socket at once, without DISCONNECT (the broker sees a drop)."""
        session = self._session
        if session is not None:
            session.request_disconnect()
            session.abort()


Transport._hooks_defined_by = Transport

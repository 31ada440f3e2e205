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
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from stomp_core import (
    Config,
    Connected,
    FrameEvent,
    LocalProtocolError,
    ReconnectBackoff,
    State,
    candidate_hosts,
    is_local_host,
)

from . import _frames, logging
from ._session import Session
from ._sockets import LINUX_KEEPALIVE_AVAIL, MAC_KEEPALIVE_AVAIL, apply_keepalive, check_keepalive
from .exception import ConnectFailedException, NotConnectedException
from .listener import Publisher
from .utils import LOCALHOST_NAMES, Frame, default_create_thread, is_eol_default

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_SSL_VERSION",
    "LINUX_KEEPALIVE_AVAIL",
    "MAC_KEEPALIVE_AVAIL",
    "BaseTransport",
    "Transport",
]

#: The TLS protocol used when ``set_ssl`` is not told otherwise.
DEFAULT_SSL_VERSION: int | None = ssl.PROTOCOL_TLS_CLIENT
#: Seconds allowed for a TCP+TLS connect, for CONNECTED after CONNECT, and for a blocked
#: write, when the ``timeout`` argument is ``None`` (stomp.py had no such bound at all).
DEFAULT_CONNECT_TIMEOUT = 30.0
#: Seconds allowed for the RECEIPT of DISCONNECT when ``timeout`` is ``None``.
DEFAULT_DISCONNECT_TIMEOUT = 10.0
#: Extra seconds a closing connection gets before its socket is forced shut.
_GRACE = 2.0
#: A connection that lived this long after CONNECTED resets the reconnect backoff.
_STABLE_AFTER = 5.0

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


def _check_timeout(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be None or a positive number of seconds, got {value!r}")
    return float(value)


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
        self.running = False
        self.connected = False
        self.connection_error = False
        self.current_host_and_port: tuple[str, int] | None = None
        self.create_thread_fc: Callable[[Callable[[], None]], Any] = default_create_thread
        self.blocking: bool | None = None
        self._receipts: dict[str, str] = {}

    def override_threading(self, create_thread_fc: Callable[[Callable[[], None]], Any]) -> None:
        """Use ``create_thread_fc(callable)`` to start this transport's threads.

        It must start running the callable (in a thread, a pool, ...) and return at once;
        it is called twice per connection (the I/O loop and the listener dispatcher), so
        a pool needs at least two workers per connection.
        """
        if not callable(create_thread_fc):
            raise TypeError("create_thread_fc must be callable")
        self.create_thread_fc = create_thread_fc

    def set_listener(self, name: str, listener: Any) -> None:
        """Register ``listener`` under ``name``, replacing any listener of that name."""
        if not isinstance(name, str):
            raise TypeError(f"a listener name must be a str, got {name!r}")
        if listener is None:
            raise ValueError("listener must not be None")
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
        if not self.listeners:
            return
        arity = _CALLBACK_ARITY.get(frame_type, 1)
        with self._listeners_lock:
            listeners = sorted(self.listeners.items())
        for name, listener in listeners:
            method = getattr(listener, "on_" + frame_type, None)
            if method is None:
                continue
            try:
                if arity:
                    method(frame)
                else:
                    method()
            except Exception:
                logging.exception("listener %r raised in on_%s; carrying on", name, frame_type)

    def is_connected(self) -> bool:
        """Whether a STOMP session is open (CONNECTED received, not closed since)."""
        return self.connected

    def start(self) -> None:
        """Open the transport connection (see :class:`Transport`)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Close the transport connection (see :class:`Transport`)."""
        raise NotImplementedError

    def transmit(self, frame: Frame) -> None:
        """Send a frame (see :class:`Transport`)."""
        raise NotImplementedError


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
            ``-1`` = forever.
        timeout: seconds for a TCP/TLS connect, for CONNECTED after CONNECT, for the
            RECEIPT of DISCONNECT and for a write the broker takes nothing of
            (``None``: 30 s, 10 s for the receipt).  Unlike stomp.py 8.2 it never
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

    def __init__(
        self,
        host_and_ports: Sequence[tuple[str, int]] | None = None,
        prefer_localhost: bool = True,
        try_loopback_connect: bool = True,
        reconnect_sleep_initial: float = 0.1,
        reconnect_sleep_increase: float = 0.5,
        reconnect_sleep_jitter: float = 0.1,
        reconnect_sleep_max: float = 60.0,
        reconnect_attempts_max: int = 3,
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
        given: list[tuple[str, int]] | None = None
        if host_and_ports is not None:
            if isinstance(host_and_ports, (str, bytes)):
                raise ValueError(f"host_and_ports must be a list of pairs, got {host_and_ports!r}")
            given = [(hp[0], hp[1]) for hp in host_and_ports]
        self.host_and_ports: list[tuple[str, int]] = candidate_hosts(
            given,
            prefer_localhost=prefer_localhost,
            try_loopback_connect=try_loopback_connect,
            local_names=LOCALHOST_NAMES,
        )
        # An auto-added 127.0.0.1 entry stands for a local host given by the user: it
        # gets that host's TLS settings and name (stomp.py tried it in plain TCP).
        self._twin_of: dict[tuple[str, int], tuple[str, int]] = {}
        for host, port in self.host_and_ports:
            if given is not None and (host, port) not in given:
                for original in given:
                    if original[1] == port and is_local_host(original[0], LOCALHOST_NAMES):
                        self._twin_of[(host, port)] = original
                        break
        self.backoff = ReconnectBackoff(
            rng=random.random,
            initial=reconnect_sleep_initial,
            increase=reconnect_sleep_increase,
            jitter=reconnect_sleep_jitter,
            maximum=reconnect_sleep_max,
            attempts_max=reconnect_attempts_max,
        )
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
        self._ssl_params: dict[tuple[str, int], dict[str, Any]] = {}
        self._ssl_contexts: dict[tuple[str, int], ssl.SSLContext] = {}
        self._session: Session | None = None
        self._stopping = threading.Event()
        self._quick_drops = 0
        #: Called (with no argument) on the I/O thread after an automatic reconnect, to
        #: send CONNECT again and replay the subscriptions; set by the connection.
        self.reconnect_hook: Callable[[], None] | None = None

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
        sock, host_and_port = self.attempt_connection()
        session = Session(self, sock, host_and_port, self.config, **self._session_options(sock))
        self._session = session
        self.socket = sock
        self.connection_error = False
        self.current_host_and_port = host_and_port
        session.start(self.create_thread_fc)
        logging.info("established connection to host %s, port %s", *host_and_port)
        self.notify("connecting", host_and_port)

    def attempt_connection(self) -> tuple[socket.socket, tuple[str, int]]:
        """Try the hosts in order, in rounds separated by the backoff waits.

        Raises:
            ConnectFailedException: the attempt budget is spent, :meth:`stop` was called,
                or a certificate file is missing (not worth retrying).
        """
        schedule = self.backoff.schedule()
        last_error: BaseException | None = None
        while self.running:
            for host_and_port in self.host_and_ports:
                if schedule.exhausted or not self.running:
                    break
                try:
                    return self._open(host_and_port), host_and_port
                except FileNotFoundError as exc:
                    raise ConnectFailedException(f"cannot connect: {exc}") from exc
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
        sock = socket.create_connection(
            host_and_port, timeout=limit, source_address=self.bind_host_port
        )
        try:
            # TCP_NODELAY stays off, as in stomp.py: one sendall per frame, and Nagle's
            # coalescing roughly doubles throughput for streams of small SEND frames.
            apply_keepalive(sock, self.keepalive)
            named = self._twin_of.get(host_and_port, host_and_port)
            context = self._ssl_context(host_and_port)
            if context is not None:
                params = self.get_ssl(host_and_port) or {}
                # SNI and host-name verification use the name the user gave.
                sock = context.wrap_socket(sock, server_hostname=named[0])
                validator = params.get("cert_validator")
                if validator is not None:
                    ok, message = validator(sock.getpeercert(), named[0])
                    if not ok:
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
        ssl_version: int | None = DEFAULT_SSL_VERSION,
        password: str | bytes | None = None,
        verify: bool = True,
    ) -> None:
        """Use TLS for ``for_hosts`` (all hosts if empty).

        Certificates and host names are verified by default (against ``ca_certs``, or
        the system's trust store); ``verify=False`` turns verification off.  Files are
        checked here, so a wrong path fails at once instead of at every retry.

        Args:
            for_hosts: the ``(host, port)`` pairs that speak TLS.
            key_file: the client's private key (defaults to ``cert_file``).
            cert_file: the client's certificate, for mutual TLS.
            ca_certs: CA bundle to verify the broker with.
            cert_validator: ``f(peercert, host) -> (ok, message)`` run after the handshake.
            ssl_version: an ``ssl.PROTOCOL_*`` constant.
            password: the private key's password.
            verify: verify the broker's certificate and host name.

        Raises:
            FileNotFoundError: a named file does not exist.
            ssl.SSLError: a file could not be loaded.
        """
        for name, path in (
            ("key_file", key_file),
            ("cert_file", cert_file),
            ("ca_certs", ca_certs),
        ):
            if path is not None and not os.path.isfile(path):
                raise FileNotFoundError(errno.ENOENT, f"set_ssl: {name} does not exist", path)
        if cert_validator is not None and not callable(cert_validator):
            raise TypeError("cert_validator must be callable")
        if ssl_version in (None, ssl.PROTOCOL_TLS_CLIENT):
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_certs)
        else:
            context = ssl.SSLContext(ssl_version)
            if ca_certs is not None:
                context.load_verify_locations(ca_certs)
            else:
                context.load_default_certs(ssl.Purpose.SERVER_AUTH)
            context.verify_mode = ssl.CERT_REQUIRED
            context.check_hostname = True
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if cert_file is not None:
            context.load_cert_chain(cert_file, key_file or cert_file, password)
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
            self._ssl_params[host_and_port] = params
            self._ssl_contexts[host_and_port] = context

    def get_ssl(self, host_and_port: tuple[str, int] | None = None) -> dict[str, Any] | None:
        """The TLS settings of ``host_and_port`` (default: the current host), or ``None``."""
        key = host_and_port if host_and_port is not None else self.current_host_and_port
        if key is None:
            return None
        key = (key[0], key[1])
        return self._ssl_params.get(key) or self._ssl_params.get(self._twin_of.get(key, key))

    def _ssl_context(self, host_and_port: tuple[str, int]) -> ssl.SSLContext | None:
        return self._ssl_contexts.get(host_and_port) or self._ssl_contexts.get(
            self._twin_of.get(host_and_port, host_and_port)
        )

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
        if self.listeners:
            self.notify("send", frame)
        command = frame.cmd
        session.send(
            _frames.core_frame(frame, self.encoding),
            wait_connected=None if command in ("CONNECT", "STOMP") else self.connect_timeout,
        )
        if logging.logger.isEnabledFor(logging.DEBUG):
            logging.debug("sent frame: %r", frame)

    def send(self, encoded_frame: bytes) -> None:
        """Write raw bytes to the connection, bypassing the protocol (stomp.py's hook).

        Only whole frames or EOLs keep the stream valid; prefer :meth:`transmit`.

        Raises:
            NotConnectedException: there is no open connection.
        """
        session = self._session
        if session is None:
            raise NotConnectedException("not connected")
        session.send_raw(bytes(encoded_frame))

    # ------------------------------------------------------------------ receiving

    def _frame_from_event(self, event: FrameEvent) -> Frame:
        return _frames.frame_from_event(event, auto_decode=self.auto_decode, encoding=self.encoding)

    def _on_core_connected(self, session: Session, event: Connected) -> None:
        self.connected = True
        self.heartbeats = session.core.heartbeat

    def _on_session_closed(self, session: Session) -> None:
        if session is self._session:
            self.connected = False
            self.connection_error = session.connection_error is not None
            self.current_host_and_port = None
            if not self.auto_reconnect or session.disconnect_requested:
                self.running = False

    def _session_ended(self, session: Session) -> None:
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
        try:
            self.start()
            if self.reconnect_hook is not None:
                self.reconnect_hook()
        except Exception as exc:
            logging.error("automatic reconnection failed: %s", exc)
            self.running = False
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
            if session.state in (State.IDLE, State.CONNECTING) and not session.closed:
                reason = f"no CONNECTED frame within {limit} s"
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
        session.disconnect_requested = True
        limit = timeout if timeout is not None else (self.config.disconnect_timeout or 10.0)
        if not session.io_done.wait(limit + _GRACE):
            session.abort()
            session.io_done.wait(_GRACE)
        if not session.on_dispatcher_thread():
            session.dispatch_done.wait(_GRACE)

    def disconnect_socket(self) -> None:
        """Close the socket at once, without DISCONNECT (the broker sees a drop)."""
        session = self._session
        if session is not None:
            session.disconnect_requested = True
            session.abort()

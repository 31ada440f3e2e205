"""The broker: listening sockets, their sessions and the destinations, on asyncio.

Transports plug in below :class:`~stomp_broker._session.Session`: this module gives it
asyncio TCP (optionally TLS) connections through :class:`_StompProtocol`, and
``_websocket.py`` gives it STOMP over WebSocket on a second port (``ws_port``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import socket
import ssl as ssl_module
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType

from stomp_core import SUPPORTED_VERSIONS, Config, Limits, __version__

from ._budget import DEFAULT_LIMITS, Budget, LimitReached, Usage
from ._destinations import Router
from ._faults import FaultRule, Faults, select_faults
from ._session import Session, Settings, Transport

__all__ = ["Broker"]

log = logging.getLogger("stomp_broker")


class _StompProtocol(asyncio.Protocol):
    """Feeds one TCP/TLS connection to its :class:`Session`."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._session: Session | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._session = self._broker._open_session(
            transport, peer=transport.get_extra_info("peername")
        )

    def data_received(self, data: bytes) -> None:
        if self._session is not None:
            self._session.receive_data(data)

    def eof_received(self) -> bool:
        if self._session is not None:
            self._session.receive_eof()
        return False  # let asyncio close our side once the buffer is written

    def connection_lost(self, exc: Exception | None) -> None:
        if self._session is not None:
            self._session.connection_lost()

    def pause_writing(self) -> None:
        if self._session is not None:
            self._session.pause_writing()

    def resume_writing(self) -> None:
        if self._session is not None:
            self._session.resume_writing()


class Broker:
    """An embedded STOMP 1.0/1.1/1.2 broker for development and tests.

    Use it as an async context manager; it listens once entered::

        async with Broker() as broker:
            print(broker.host, broker.port)

    Destinations: ``/topic/...`` fans out to the current subscribers; any other name is a
    queue (competing consumers, round-robin, kept until a subscriber takes it).  See the
    package docstring for the full behaviour and bounds.

    Args:
        host: the address to listen on (one address: with a name that resolves to
            several, ``port=0`` would give each its own port).
        port: the port; ``0`` picks a free one (read it back from :attr:`port`).
        ssl: listen with TLS using this server-side context (WebSocket too: ``wss``).
        ws_port: also serve STOMP over WebSocket on this port of ``host`` (``0``: a free
            one, see :attr:`ws_port`); any request path; sub-protocols ``v12.stomp``,
            ``v11.stomp``, ``v10.stomp`` restrict the STOMP version.  Needs wsproto.
        users: ``login -> passcode``; when given, CONNECT must carry a matching pair,
            else it gets ERROR and the connection is closed.
        heart_beat: the broker's ``(sx, sy)`` in CONNECTED; ``None`` mirrors the client's
            wish so the negotiated intervals are exactly what the client asked for.
        versions: the STOMP versions spoken.
        limits: what one client frame may hold (the core's :class:`~stomp_core.Limits`).
        connect_timeout: seconds a new connection has to send CONNECT (``None``: forever).
        max_queue_messages: messages one queue keeps for absent or busy subscribers;
            a SEND beyond it gets ERROR.
        max_unacked: unacknowledged messages per ``client`` subscription (a smaller
            ``prefetch-count`` header wins); queues stop there, a topic subscription
            beyond it gets ERROR.
        max_transaction_frames: SEND/ACK/NACK frames one transaction may hold.
        max_outbound_bytes: bytes waiting for one client to read, the frame being
            written excepted (so a larger message still reaches a consumer that reads);
            beyond it the client gets ERROR ("slow consumer") and is disconnected.
        close_timeout: seconds a closing connection has to read its last bytes (the
            ERROR) and close its side before it is aborted.
        max_connections: open connections; CONNECT on one more gets ERROR.
        max_inflight_bytes: bytes of partly received frames, all connections together;
            the connection whose frame goes beyond it gets ERROR.
        max_stored_bytes: bytes of messages the broker keeps (queue backlogs, messages
            awaiting ACK, SENDs held by open transactions: body plus header octets);
            a SEND that would go beyond it gets ERROR.  Messages given back (NACK,
            disconnect) may exceed it for a while: they were accepted already.
        max_subscriptions: live subscriptions, all connections together; SUBSCRIBE
            beyond it gets ERROR.
        max_subscriptions_per_connection: live subscriptions of one connection.
        faults: fault switches for every connection (see :class:`Faults`).
        fault_rules: per-connection faults, the first matching rule wins.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl: ssl_module.SSLContext | None = None,
        ws_port: int | None = None,
        users: Mapping[str, str] | None = None,
        heart_beat: tuple[int, int] | None = None,
        versions: tuple[str, ...] = SUPPORTED_VERSIONS,
        limits: Limits | None = None,
        connect_timeout: float | None = 30.0,
        max_queue_messages: int = 10_000,
        max_unacked: int = 10_000,
        max_transaction_frames: int = 10_000,
        max_outbound_bytes: int = 8 * 1024 * 1024,
        close_timeout: float = 5.0,
        max_connections: int = DEFAULT_LIMITS["max_connections"],
        max_inflight_bytes: int = DEFAULT_LIMITS["max_inflight_bytes"],
        max_stored_bytes: int = DEFAULT_LIMITS["max_stored_bytes"],
        max_subscriptions: int = DEFAULT_LIMITS["max_subscriptions"],
        max_subscriptions_per_connection: int = DEFAULT_LIMITS["max_subscriptions_per_connection"],
        faults: Faults | None = None,
        fault_rules: Iterable[FaultRule] = (),
    ) -> None:
        for name, value in (
            ("max_queue_messages", max_queue_messages),
            ("max_unacked", max_unacked),
            ("max_transaction_frames", max_transaction_frames),
            ("max_outbound_bytes", max_outbound_bytes),
            ("max_connections", max_connections),
            ("max_inflight_bytes", max_inflight_bytes),
            ("max_stored_bytes", max_stored_bytes),
            ("max_subscriptions", max_subscriptions),
            ("max_subscriptions_per_connection", max_subscriptions_per_connection),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not close_timeout > 0:
            raise ValueError(f"close_timeout must be positive, got {close_timeout!r}")
        self._requested = (host, port)
        self._ws_requested = ws_port
        self._ssl = ssl
        self._settings = Settings(
            core_config=Config(
                versions=versions,
                limits=limits if limits is not None else Limits(),
                connect_timeout=connect_timeout,
            ),
            users=dict(users) if users is not None else None,
            heart_beat=heart_beat,
            max_unacked=max_unacked,
            max_transaction_frames=max_transaction_frames,
            max_outbound_bytes=max_outbound_bytes,
            close_timeout=close_timeout,
            server_name=f"stomp_broker/{__version__}",
        )
        self._budget = Budget(
            max_connections=max_connections,
            max_inflight_bytes=max_inflight_bytes,
            max_stored_bytes=max_stored_bytes,
            max_subscriptions=max_subscriptions,
            max_subscriptions_per_connection=max_subscriptions_per_connection,
        )
        self._router = Router(max_queue_messages=max_queue_messages, budget=self._budget)
        #: Fault switches for every connection that no rule matches; mutable at run time.
        self.faults = faults if faults is not None else Faults()
        #: Per-connection fault rules, first match wins; append or remove at run time.
        self.fault_rules: list[FaultRule] = list(fault_rules)
        self._server: asyncio.Server | None = None
        self._ws_server: asyncio.Server | None = None
        self._listening = asyncio.Event()
        self._address: tuple[str, int] | None = None
        self._ws_bound: int | None = None
        self._sessions: set[Session] = set()
        self._no_sessions = asyncio.Event()
        self._no_sessions.set()
        self._sessions_changed = asyncio.Event()
        self._indexes = itertools.count(1)
        self._reopen: asyncio.TimerHandle | None = None
        self._port_holds: list[socket.socket] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Broker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Start listening (done by ``async with``)."""
        if self._server is not None or self._closed:
            raise RuntimeError("the broker is already started, or closed")
        host, port = self._requested
        self._server = await self._listen(host, port, self.protocol)
        name = self._server.sockets[0].getsockname()
        self._address = (str(name[0]), int(name[1]))
        log.info("listening on %s:%d%s", *self._address, " (TLS)" if self._ssl else "")
        if self._ws_requested is not None:
            self._ws_server = await self._listen(host, self._ws_requested, self._ws_protocol)
            self._ws_bound = int(self._ws_server.sockets[0].getsockname()[1])
            log.info("STOMP over WebSocket on %s:%d", host, self._ws_bound)
        self._listening.set()

    async def _listen(
        self, host: str, port: int, factory: Callable[[], asyncio.Protocol]
    ) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(factory, host, port, ssl=self._ssl, reuse_address=True)

    def _ws_protocol(self) -> asyncio.Protocol:
        from ._websocket import WebSocketProtocol  # wsproto only when WebSocket is used

        return WebSocketProtocol(
            versions=self.versions,
            handshake_timeout=self.handshake_timeout,
            open_session=self._open_session,
        )

    async def _stop_accepting(self) -> None:
        loop = asyncio.get_running_loop()
        for server in (self._server, self._ws_server):
            for sock in server.sockets if server is not None else ():
                loop.remove_reader(sock.fileno())
        # A connection accepted just now is handed to its transport by a task that runs
        # at the next turn of the loop: let it.  Closing the server first would fail that
        # task's assertion (asyncio's Server._attach, CPython 3.11) where nobody sees it:
        # the socket would stay open unserved and its client wait for CONNECTED in vain.
        await asyncio.sleep(0)

    def _close_listeners(self, *, hold_ports: bool = False) -> list[asyncio.Server]:
        servers = [s for s in (self._server, self._ws_server) if s is not None]
        self._server = self._ws_server = None
        self._listening.clear()
        addresses = [(sock.family, sock.getsockname()) for s in servers for sock in s.sockets]
        for server in servers:
            # Not wait_closed() here: since Python 3.12 it also waits for open connections.
            server.close()
        if hold_ports:
            holds = (_hold_port(family, name) for family, name in addresses)
            self._port_holds.extend(sock for sock in holds if sock is not None)
        return servers

    def _release_ports(self) -> None:
        for sock in self._port_holds:
            sock.close()
        self._port_holds.clear()

    async def aclose(self) -> None:
        """Stop listening, close every connection, and wait (bounded) until they are gone."""
        if self._closed:
            return
        self._closed = True
        if self._reopen is not None:
            self._reopen.cancel()
        for task in list(self._tasks):
            task.cancel()
        await self._stop_accepting()
        servers = self._close_listeners()
        self._release_ports()
        for session in list(self._sessions):
            session.shutdown()
        # Each closing connection is aborted after close_timeout at the latest.
        try:
            await asyncio.wait_for(self._no_sessions.wait(), self._settings.close_timeout + 1)
        except asyncio.TimeoutError:  # pragma: no cover - abort() always ends a transport
            log.warning("%d connections did not close in time", len(self._sessions))
        for server in servers:
            await asyncio.wait_for(server.wait_closed(), self._settings.close_timeout)

    # ------------------------------------------------------------------ introspection

    @property
    def host(self) -> str:
        """The address the broker listens on."""
        return self._bound()[0]

    @property
    def port(self) -> int:
        """The port the broker listens on (the real one when started with ``port=0``)."""
        return self._bound()[1]

    def _bound(self) -> tuple[str, int]:
        if self._address is None:
            raise RuntimeError("the broker is not started")
        return self._address

    @property
    def ws_port(self) -> int | None:
        """The WebSocket port (the real one when started with ``ws_port=0``), if any."""
        self._bound()
        return self._ws_bound

    @property
    def versions(self) -> tuple[str, ...]:
        """The STOMP versions the broker speaks."""
        return self._settings.core_config.versions

    @property
    def handshake_timeout(self) -> float | None:
        """Seconds a WebSocket client has to complete its handshake (``connect_timeout``)."""
        return self._settings.core_config.connect_timeout

    @property
    def connection_count(self) -> int:
        """Open client connections."""
        return len(self._sessions)

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted now."""
        return self._server is not None

    async def wait_connections(self, count: int, timeout: float) -> None:
        """Wait until at most ``count`` client connections are open.

        Tests use it to know the broker has seen a disconnect (and given back the
        unacknowledged messages of that connection).

        Raises:
            TimeoutError: still more than ``count`` after ``timeout`` seconds.
        """

        async def settle() -> None:
            while len(self._sessions) > count:
                await self._sessions_changed.wait()

        try:
            await asyncio.wait_for(settle(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"{len(self._sessions)} connections still open after {timeout} s"
            ) from None

    def queue_depth(self, destination: str) -> int:
        """Messages waiting in queue ``destination`` for a subscriber."""
        return self._router.queue_depth(destination)

    def usage(self) -> Usage:
        """What the broker holds now, as counted against its broker-wide limits."""
        return self._budget.usage()

    # ------------------------------------------------------------------ faults

    async def refuse_connections(self, duration: float | None = None) -> None:
        """Stop listening: new connections are refused; open ones carry on.

        Args:
            duration: listen again on the same port after this many seconds;
                ``None`` waits for :meth:`accept_connections`.
        """
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        await self._stop_accepting()
        self._close_listeners(hold_ports=True)
        if duration is not None:
            self._reopen = asyncio.get_running_loop().call_later(duration, self._reopen_later)

    def drop_connections(self) -> int:
        """Abort every open connection at once (a broker crash, for reconnection tests).

        Unacknowledged queue messages go back to their queues as on any disconnect.

        Returns:
            How many connections were dropped.
        """
        sessions = list(self._sessions)
        for session in sessions:
            session.drop()
        return len(sessions)

    def _reopen_later(self) -> None:
        self._reopen = None
        task = asyncio.get_running_loop().create_task(self.accept_connections())
        self._tasks.add(task)
        task.add_done_callback(self._reopened)

    def _reopened(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Nobody awaits this task: say why the broker stays deaf (wait_listening times out).
            log.error("could not listen again: %s", task.exception())

    async def accept_connections(self) -> None:
        """Listen again on the same address after :meth:`refuse_connections`."""
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        if self._server is None and not self._closed:
            host, port = self._bound()
            self._server = await self._listen(host, port, self.protocol)
            if self._ws_bound is not None:
                self._ws_server = await self._listen(host, self._ws_bound, self._ws_protocol)
            self._release_ports()
            self._listening.set()

    async def wait_listening(self, timeout: float) -> None:
        """Wait until the broker accepts connections (after :meth:`refuse_connections`).

        Raises:
            TimeoutError: it did not within ``timeout`` seconds.
        """
        try:
            await asyncio.wait_for(self._listening.wait(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"the broker did not listen again within {timeout} s") from None

    # ------------------------------------------------------------------ sessions

    def protocol(self) -> asyncio.Protocol:
        """A fresh protocol for one client connection over any asyncio transport.

        The listener uses the same; call it to serve a transport the broker did not
        accept itself (an in-memory pair in tests, a WebSocket adapter).  The transport
        must offer ``write``, ``close``, ``abort`` and ``get_write_buffer_size``.
        """
        return _StompProtocol(self)

    def _open_session(
        self, transport: Transport, *, peer: object, versions: tuple[str, ...] | None = None
    ) -> Session:
        index = next(self._indexes)
        refusal = None
        try:
            self._budget.check_connection()
        except LimitReached as exc:
            refusal = str(exc)
            log.info("connection %d from %s: %s", index, peer, refusal)
        # Counted while open, refused or not (the session gives it back when it is gone).
        self._budget.connections += 1
        config = self._settings.core_config
        if versions is not None:
            # A WebSocket sub-protocol picked the version already.
            # (Only sub-protocols of our own versions are accepted, so some remain.)
            allowed = tuple(v for v in config.versions if v in versions)
            config = dataclasses.replace(config, versions=allowed)
        session = Session(
            transport=transport,
            settings=self._settings,
            config=config,
            router=self._router,
            budget=self._budget,
            index=index,
            refusal=refusal,
            select_faults=self._select_faults,
            on_closed=self._session_closed,
        )
        self._sessions.add(session)
        self._no_sessions.clear()
        log.debug("connection %d from %s", index, peer)
        session.start()
        if self._closed:
            session.shutdown()
        return session

    def _select_faults(self, index: int, login: str | None, connected: bool) -> Faults:
        return select_faults(self.fault_rules, self.faults, index, login, connected=connected)

    def _session_closed(self, session: Session) -> None:
        self._sessions.discard(session)
        changed, self._sessions_changed = self._sessions_changed, asyncio.Event()
        changed.set()
        log.debug("connection %d closed", session.index)
        if not self._sessions:
            self._no_sessions.set()


def _hold_port(family: int, name: tuple[object, ...]) -> socket.socket | None:
    """Keep a refused listener's port bound (but not listening) until it listens again.

    Connecting to it is refused as before, but the kernel no longer hands the free port
    to some other socket as its ephemeral source port (any outgoing connection on the
    machine, or a client connecting to itself), which would make listening again fail
    with "address in use".  Both sockets set SO_REUSEADDR and this one never listens, so
    the new listener binds beside it.
    """
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(name)
    except OSError as exc:  # the port was taken in the instant it was free
        sock.close()
        log.warning("could not hold port %r while refusing connections: %s", name, exc)
        return None
    return sock

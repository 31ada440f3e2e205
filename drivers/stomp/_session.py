"""One transport connection driven by :mod:`stomp_core`: the I/O thread and the keeper.

Threads (both created with the transport's ``create_thread_fc``):

* the **I/O thread** waits for the socket.  On plain TCP it blocks in ``recv`` itself
  (one system call per wake-up, as stomp.py's receiver); on TLS, WebSocket or with
  stomp.py's ``receive`` hook it waits in ``select`` on the socket and on a wake-up socket
  pair, with a timeout taken from ``core.get_timer()``.  It feeds received bytes to the
  core, pulls events, handles the core's timers that have passed (heart-beats, connect
  and disconnect deadlines), and then calls the
  listeners itself, in order, outside every lock (as stomp.py's receiver thread does:
  handing each frame to a second thread cost a wake-up per message, the largest part of
  a round trip).  While it runs listeners the core's receive timeout is paused (the
  broker's heart-beats wait unread in the socket, so its silence proves nothing), and
  no more is read: memory stays bounded by one read, and TCP pushes back on the broker;
* the **keeper thread** sleeps until the core's next deadline.  While the I/O thread is
  busy in a listener, or blocked in ``recv``, it handles the timers in its place, so our
  heart-beats still leave on time (spec 1.2 "Heart-beating") however slow the listener
  or quiet the broker; a timeout that ends the session shuts the socket down, which ends
  the I/O thread's ``recv``.  With ``select`` it leaves the timers to the I/O thread
  otherwise.  It wakes about once per heart-beat interval.

Two locks, always taken in this order: ``_write_lock`` serialises writes to the socket
(``core.send`` + ``data_to_send`` + ``sendall`` happen under it, so frames from many
threads never interleave and leave in the order the core produced them), and ``cond``
guards the core.  ``sendall`` runs outside ``cond``, so while a write is blocked (a slow
peer) the I/O thread still reads, counts heart-beats and delivers messages.  A TLS or
WebSocket connection reads under ``_write_lock`` too: an SSL object must not be read and
written at once.  Only the I/O thread closes the socket (under ``_write_lock``, so no
writer ever uses a recycled descriptor); others shut it down to wake it.
"""

from __future__ import annotations

import contextlib
import select
import socket
import sys
import threading
import time
from collections.abc import Callable

import stomp_core
from stomp_core import (
    CLIENT,
    NEED_DATA,
    Config,
    Connected,
    ConnectionClosed,
    ConnectTimeout,
    DisconnectTimeout,
    Error,
    FrameEvent,
    HeartbeatReceived,
    HeartbeatTimeout,
    LocalProtocolError,
    ProtocolError,
    Receipt,
    State,
    frame_log,
)

from . import logging
from ._frames import frames_from_parts
from ._sockets import set_kernel_send_timeout, use_kernel_timeouts
from .exception import NotConnectedException
from .utils import HEARTBEAT_FRAME, Frame

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # SessionOwner only describes; nothing checks it at run time


__all__ = ["Session", "SessionOwner"]

#: How much one ``recv`` takes.
RECV_BYTES = 64 * 1024
#: How many of the first received bytes an error about a non-STOMP answer quotes.
HEAD_BYTES = 64
#: The longest the I/O and keeper threads sleep before looking around again.
POLL_CAP = 1.0

# Bound once for send_message, the hot path (a module global, not two attribute lookups).
_CONNECTED = State.CONNECTED
_monotonic = time.monotonic


def _run_hook(hook: Callable[..., Any], *args: Any) -> None:
    # A user's hook that raises must not kill the connection's threads (as listeners).
    try:
        hook(*args)
    except Exception:
        logging.exception("transport hook %s raised; carrying on", getattr(hook, "__name__", hook))


class SessionOwner(Protocol):
    """What a :class:`Session` needs from the object that opened it (the transport).

    The session calls down into nothing else: it reports its life through the three
    ``session_*`` callbacks and reaches the listeners and stomp.py's overridable hooks
    through these names, so it does not depend on :mod:`stomp.transport`.
    """

    listeners: dict[str, Any]
    #: Decode received bodies to ``str`` with ``encoding``.
    auto_decode: bool
    encoding: str
    #: The counters the session's core connection adds to (one object per transport).
    metrics: stomp_core.Metrics
    #: The stomp.py hooks the owner's class overrides; the session calls those.
    overridden_hooks: frozenset[str]

    def notify(self, frame_type: str, frame: Any = None) -> None: ...
    def notify_message(self, frame: Frame) -> None: ...
    def frame_from_event(self, event: FrameEvent) -> Frame: ...
    def session_connected(self, session: Session, event: Connected) -> None: ...
    def messages_received(self, session: Session, frames: list[Frame]) -> None: ...
    def session_closed(self, session: Session) -> None: ...
    def session_ended(self, session: Session) -> None: ...

    # stomp.py's hooks, called only when overridden (see ``overridden_hooks``).
    def send(self, encoded_frame: bytes) -> None: ...
    def receive(self) -> bytes | None: ...
    def set_connected(self, connected: bool) -> None: ...
    def process_frame(self, f: Frame, frame_str: bytes | None) -> None: ...
    def cleanup(self) -> None: ...
    def disconnect_socket(self) -> None: ...


class Session:
    """One socket, one :class:`stomp_core.Connection`, and the two threads around them.

    Args:
        transport: the owner (listeners, frame conversion, stomp.py's hooks).
        sock: a connected socket (TLS already wrapped).
        host_and_port: the broker address.
        config: the core configuration.
        ws: an open WebSocket adapter to stack under the core, or ``None`` for TCP.
        initial: STOMP bytes that arrived with the WebSocket handshake.
    """

    def __init__(
        self,
        transport: SessionOwner,
        sock: socket.socket,
        host_and_port: tuple[str, int],
        config: Config,
        *,
        ws: Any = None,
        initial: bytes = b"",
    ) -> None:
        self.transport = transport
        #: A :class:`stomp_core.websocket.WebSocketAdapter` (open) for STOMP over WebSocket.
        self._ws = ws
        self._initial = initial
        self._eof_fed = False
        #: The first bytes received, kept to name what came instead of CONNECTED.
        self._head = b""
        self.sock = sock
        self.host_and_port = host_and_port
        self.core = stomp_core.Connection(CLIENT, config, metrics=transport.metrics)
        # An SSLSocket exists only once ssl was imported, and only TLS imports it (issue
        # 13: import time).
        ssl_module = sys.modules.get("ssl")
        self._tls = ssl_module is not None and isinstance(sock, ssl_module.SSLSocket)
        #: What a read that found nothing raises.
        self._would_block: tuple[type[Exception], ...] = (BlockingIOError, TimeoutError)
        if self._tls:
            assert ssl_module is not None
            self._would_block += (ssl_module.SSLWantReadError, ssl_module.SSLWantWriteError)
        # Reads must exclude writes on TLS (one SSL object) and WebSocket (pongs).
        self._exclusive_io = self._tls or ws is not None
        #: The most seconds one write (a whole frame) may take: one overall deadline.
        self._write_timeout = sock.gettimeout()
        self._kernel_timeouts = False
        if not self._tls and self._write_timeout:
            # Plain TCP: the kernel bounds blocked writes, saving a poll() per frame.
            # (TLS keeps Python's timeout: reads there switch the socket to
            # non-blocking and back.)
            self._kernel_timeouts = use_kernel_timeouts(sock, self._write_timeout)
        # The lock under ``cond``, taken directly on the send path (a Condition's own
        # ``with`` costs a Python-level call each way).
        self._core_lock = threading.Lock()
        self.cond = threading.Condition(self._core_lock)
        self._write_lock = threading.Lock()
        #: The I/O thread has heart-beat bytes to write but a sender held the socket.
        self._flush_pending = False
        #: Plain TCP in blocking mode: the I/O thread waits in ``recv`` itself, with no
        #: ``select`` before it (one system call per wake-up less); the keeper minds the
        #: timers meanwhile, and whoever must stop the thread shuts the socket down.
        #: TLS (a readable socket may hold no application data), WebSocket and
        #: stomp.py's ``receive`` hook keep ``select`` and the wake-up socket pair.
        self._blocking_reads = (
            not self._tls
            and ws is None
            and "receive" not in transport.overridden_hooks
            and sock.gettimeout() is None
        )
        #: The socket pair that ends a ``select`` early (``_wake``); not needed when
        #: reads block (shutting the socket down ends them).
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        if not self._blocking_reads:
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)
        self._armed: float | None = None
        #: Callbacks to run, in order, once the lock is released (I/O thread; the
        #: keeper adds the end callbacks if it closes the session).
        self._pending: list[tuple[str, Any]] = []
        #: The I/O thread is running listeners: the core's receive timeout is paused
        #: and the keeper minds the timers (set and cleared under ``cond``).
        self._receive_paused = False
        self._keeper_wake = threading.Event()
        #: When the keeper wakes next (monotonic); the I/O thread wakes it sooner when a
        #: deadline moved earlier (heart-beats negotiated by CONNECTED, say).
        self._keeper_due = 0.0
        #: When bytes last arrived (monotonic seconds), ``None`` before any did.
        self.last_received: float | None = None
        #: True once the socket is closed (the I/O thread is finishing).
        self.closed = False
        self._broken = False
        #: An ERROR frame answered CONNECT, or CONNECTED never came.
        self.connection_error: str | None = None
        self.disconnect_requested = False
        #: CONNECTED was received (the session may have closed since).
        self.was_connected = False
        #: When CONNECTED was received (monotonic seconds).
        self.connected_at: float | None = None
        self.disconnect_receipt: str | None = None
        self.connected_dispatched = threading.Event()
        self.io_done = threading.Event()
        self.dispatch_done = threading.Event()
        self.dispatcher_ident: int | None = None
        self.io_thread: Any = None
        self.keeper_thread: Any = None
        # stomp.py's hooks that the transport's class overrides (a user's transport).
        hooks: frozenset[str] = transport.overridden_hooks
        self._hooks: frozenset[str] = hooks
        self._send_hook: Callable[[bytes], None] | None = (
            transport.send if "send" in hooks else None
        )
        self._send_hook_thread: int | None = None
        #: send_message may write the core's bytes as they are (no WebSocket, no hook).
        self._plain_writes = ws is None and self._send_hook is None

    # ------------------------------------------------------------------ threads

    def start(self, create_thread: Callable[[Callable[[], None]], Any]) -> None:
        """Start the keeper and the I/O thread."""
        self.keeper_thread = create_thread(self._keeper_loop)
        self.io_thread = create_thread(self._io_loop)

    def _wake(self) -> None:
        """Make whoever waits for the core's next deadline look at it again."""
        if self._wake_w is None:  # blocking reads: the keeper minds the deadlines
            self._keeper_wake.set()
            return
        # OSError: buffer full (already awake) or closed (finished).
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _io_loop(self) -> None:
        self.dispatcher_ident = threading.get_ident()
        try:
            self._io_loop_body()
        except Exception:  # pragma: no cover - a bug; never leave waiters hanging
            logging.exception("stomp I/O thread failed")
            with self.cond:
                if not self.closed:
                    self._finish_locked(("receiver_loop_completed", None), ("disconnected", None))
                pending, self._pending = self._pending, []
            self._dispatch(pending)
        finally:
            self._keeper_wake.set()
            with self._write_lock:
                self.sock.close()
            if self._wake_r is not None and self._wake_w is not None:
                self._wake_r.close()
                self._wake_w.close()
            self.io_done.set()
            self.dispatch_done.set()
        self.run_end_hooks()
        self.transport.session_ended(self)

    def _io_loop_body(self) -> None:
        """Read, parse, handle timers and call the listeners until the session closed.

        One pass: wait (select, bounded by the core's timer), then one locked section
        that reads, feeds the core, handles expired timers and converts every event
        now available, then (unlocked) the heart-beat write and the listeners.
        """
        sock = self.sock
        wake_r = self._wake_r
        watch = [sock] if wake_r is None else [sock, wake_r]
        cond = self.cond
        # The lock under ``cond``, taken directly: a Condition's own ``with`` costs a
        # Python-level call each way, twice per read (the notify calls need the lock
        # held, not the Condition's ``with``).
        core_lock = self._core_lock
        core = self.core
        monotonic = time.monotonic
        select_ = select.select
        tls = self._tls
        blocking_reads = self._blocking_reads
        recv = sock.recv
        if self._initial:
            with cond:
                core.receive_data(self._initial, now=monotonic())
        with cond:
            self._pump_locked()
            timer = core.get_timer()
            self._armed = timer
        pending_tls = False
        # When the listeners finished, for the core (told under the next lock).
        resume_at: float | None = None
        while True:
            pending = self._pending
            if pending:
                self._pending = []
                self._dispatch(pending)
                if self._receive_paused:
                    # The listeners are done: the broker's silence counts again, from
                    # now on (it gets a full interval).  The core hears it in the next
                    # locked section (one lock round trip per read less); unless reads
                    # block (the keeper then keeps the timers), the keeper leaves the
                    # timers to this thread from now on, and the wait below is bounded
                    # by ``timer``, taken before the pause: no later than any deadline
                    # the core will give (a sender that sets an earlier one wakes us),
                    # so at worst this thread wakes early once.
                    self._receive_paused = False
                    resume_at = monotonic()
                    if blocking_reads:
                        # The next locked section may be far off (recv waits for the
                        # broker): the core and the keeper must count its silence now.
                        with core_lock:
                            core.resume_receive_timeout(now=resume_at)
                            timer = self._armed = core.get_timer()
                        resume_at = None
                        if timer is not None and timer < self._keeper_due:
                            self._keeper_wake.set()
            if self.closed:
                return
            data: bytes | None = None
            if blocking_reads:
                # Wait in recv itself; EOF, a shutdown (close, abort, a timeout the
                # keeper found) or an error all end it.
                try:
                    data = recv(RECV_BYTES)
                except (BlockingIOError, TimeoutError):
                    pass  # SO_RCVTIMEO (use_kernel_timeouts): look around, read again
                except OSError as exc:
                    if not self.closed and not self.disconnect_requested:
                        logging.warning("lost connection to %s:%s: %s", *self.host_and_port, exc)
                    data = b""
                readable: list[Any] = []
                now = monotonic()
            elif pending_tls:
                now = monotonic()
                readable = [sock]
            else:
                now = monotonic()
                timeout = POLL_CAP if timer is None else min(POLL_CAP, max(0.0, timer - now))
                if self._flush_pending:
                    timeout = min(timeout, 0.01)
                try:
                    readable = select_(watch, [], [], timeout)[0]
                except (OSError, ValueError):  # socket shut down or closed under us
                    readable = [sock]
                if readable and readable[-1] is wake_r:
                    self._drain_wake()
            read = bool(readable) and readable[0] is sock
            # TLS and WebSocket: a read must not run alongside a write (see above).
            exclusive = self._write_lock if read and self._exclusive_io else None
            if exclusive is not None:
                exclusive.acquire()
            try:
                with core_lock:
                    if resume_at is not None:
                        core.resume_receive_timeout(now=resume_at)
                        resume_at = None
                    if self.closed:
                        continue  # run the final callbacks, then return
                    if self._broken:
                        self._finish_locked(
                            ("receiver_loop_completed", None), ("disconnected", None)
                        )
                        continue
                    if read:
                        data = self._recv_locked()
                    if data is not None:
                        self._ingest_locked(data)
                    expired = timer is not None and monotonic() >= timer
                    if expired:
                        core.handle_timer(now=monotonic())
                    self._pump_locked()
                    timer = core.get_timer()
                    self._armed = timer
                    pending_tls = tls and sock.pending() > 0  # type: ignore[attr-defined]
                    if self._pending and not self.closed:
                        # Listeners run next, unlocked: the broker's heart-beats wait
                        # in the socket meanwhile, so its silence must not count.
                        self._receive_paused = True
                        core.pause_receive_timeout(now=now)
                        if timer is not None and timer < self._keeper_due:
                            self._keeper_wake.set()  # it must mind an earlier deadline
            finally:
                if exclusive is not None:
                    exclusive.release()
            if (expired or self._flush_pending) and self._flush() and self.transport.listeners:
                # stomp.py showed each heart-beat EOL to on_send as a frame with no
                # command, headers or body.
                self._pending.append(("send", Frame(None, {}, None)))

    def _dispatch(self, pending: list[tuple[str, Any]]) -> None:
        """Call the listeners for ``pending``, in order, outside every lock (I/O thread)."""
        notify = self.transport.notify
        notify_message = self.transport.notify_message
        hooks = self._hooks
        for kind, frame in pending:
            if hooks:
                self._dispatch_to_hooks(kind, frame)
            elif kind == "message":
                notify_message(frame)  # on_before_message, then on_message
            else:
                notify(kind, frame)
            if kind == "connected":
                self.connected_dispatched.set()

    def _keeper_loop(self) -> None:
        """Mind the core's timers while the I/O thread cannot (keeper thread).

        Wakes at the core's next deadline (at most :data:`POLL_CAP` apart).  It acts when
        the I/O thread is busy in a listener, or always when that thread waits in
        ``recv`` (``_blocking_reads``): our heart-beat EOLs then leave on time however
        long the listener or the broker's silence lasts.  A connect, disconnect or
        heart-beat timeout is noted in the core, and the I/O thread reports it: when it
        is back from the listener, or at once, as the keeper shuts the socket down under
        its ``recv``.
        """
        cond = self.cond
        core = self.core
        wake = self._keeper_wake
        always = self._blocking_reads
        while True:
            with cond:
                if self.closed:
                    return
                wake.clear()
                act = False
                now = time.monotonic()
                if always or self._receive_paused:
                    timer = core.get_timer()
                    if timer is not None and now >= timer:
                        core.handle_timer(now=now)
                        act = True
                        if always and core.state is State.CLOSED:
                            # A timeout ended the session: end the I/O thread's recv
                            # (it reads EOF, then finds the timeout's event first).
                            with contextlib.suppress(OSError):
                                self.sock.shutdown(socket.SHUT_RDWR)
                timer = core.get_timer()
                delay = POLL_CAP if timer is None else min(POLL_CAP, max(0.001, timer - now))
                self._keeper_due = now + delay
            # With blocking reads no one else retries a heart-beat a sender's write held
            # up (_flush_pending): the keeper does, every 10 ms until it is out.
            if act or (always and self._flush_pending):
                beats = self._flush()
                if beats and self.transport.listeners:
                    self.transport.notify("send", Frame(None, {}, None))
                if always and self._flush_pending:
                    delay = min(delay, 0.01)
                    self._keeper_due = time.monotonic() + delay
            wake.wait(delay)

    def _write(self, data: bytes) -> None:
        """Write ``data`` to the socket, through the transport's ``send`` override if any."""
        hook = self._send_hook
        if hook is None:
            self._send_all(data)
            return
        self._send_hook_thread = threading.get_ident()
        try:
            hook(data)
        finally:
            self._send_hook_thread = None

    def _send_all(self, data: bytes, start: float | None = None) -> None:
        """Write all of ``data`` within one deadline of ``_write_timeout`` seconds.

        The deadline counts from ``start`` (monotonic seconds; default: now).

        ``sendall`` restarts the socket's timeout for every partial write, so a broker
        that takes a little now and then (or a big frame into a full buffer) stretched
        the bound to several timeouts.  Each ``send`` here gets only what is left.

        Raises:
            TimeoutError: the deadline passed before everything was written.
            OSError: the connection failed.
        """
        sock = self.sock
        limit = self._write_timeout
        if not limit:
            sock.sendall(data)
            return
        if start is None:
            start = time.monotonic()
        sent = sock.send(data)  # nearly always all of it: one system call per frame
        if sent == len(data):
            return
        deadline = start + limit
        view = memoryview(data)[sent:]
        try:
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("write deadline passed")
                self._set_send_timeout(remaining)
                view = view[sock.send(view) :]
        finally:
            self._set_send_timeout(limit)

    def _set_send_timeout(self, seconds: float) -> None:
        if self._kernel_timeouts:
            set_kernel_send_timeout(self.sock, seconds)
        else:
            self.sock.settimeout(max(seconds, 0.001))

    def write_from_hook(self, data: bytes) -> None:
        """Write ``data`` for the ``send`` override this session called (lock held).

        Raises:
            OSError: the write failed or missed its deadline (the session handles it).
        """
        self._send_all(bytes(data))

    def in_send_hook(self) -> bool:
        """Whether the caller runs inside the ``send`` override this session called."""
        return self._send_hook_thread == threading.get_ident()

    def _recv_bytes(self) -> bytes:
        if "receive" in self._hooks:
            # stomp.py's hook: None or b"" both mean the connection is gone.
            return self.transport.receive() or b""
        return self.sock.recv(RECV_BYTES)

    def _drain_wake(self) -> None:
        try:
            while self._wake_r is not None and self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    def _recv_locked(self) -> bytes | None:
        """One read: bytes, ``b""`` at EOF, or ``None`` when nothing was ready."""
        sock = self.sock
        try:
            if self._tls:
                # A readable TLS socket may hold only a handshake record (a TLS 1.3
                # session ticket): a timed recv would then wait, holding the lock that
                # senders need.  Read without waiting, then restore the write timeout.
                sock.settimeout(0)
                try:
                    return self._recv_bytes()
                finally:
                    sock.settimeout(self._write_timeout)
            return self._recv_bytes()
        except self._would_block:
            return None
        except OSError as exc:
            if not self.closed and not self.disconnect_requested:
                logging.warning("lost connection to %s:%s: %s", *self.host_and_port, exc)
            return b""

    def _reading(self) -> contextlib.AbstractContextManager[object]:
        """The lock a read needs besides ``cond``: the write lock on TLS and WebSocket."""
        return self._write_lock if self._exclusive_io else contextlib.nullcontext()

    def _ingest_locked(self, data: bytes) -> None:
        """Feed transport bytes (``b""``: end of file) to the core, unwrapping WebSocket."""
        now = time.monotonic()
        if self._eof_fed:
            return
        eof = not data
        ws = self._ws
        if ws is not None:
            if data:
                try:
                    ws.receive_data(data)
                except stomp_core.RemoteProtocolError as exc:
                    logging.error("WebSocket error from %s:%s: %s", *self.host_and_port, exc)
                    eof = True
            else:
                ws.receive_eof()
            reply = ws.data_to_send()  # pongs, the close handshake
            if reply:
                with contextlib.suppress(OSError):
                    self.sock.sendall(reply)
            data = ws.stomp_data()
            eof = eof or ws.closed
        if data:
            self.last_received = now
            if not self.was_connected and len(self._head) < HEAD_BYTES:
                self._head += data[: HEAD_BYTES - len(self._head)]
            self.core.receive_data(data, now=now)
        if eof:
            self._eof_fed = True
            self.core.receive_eof(now=now)

    def _outgoing(self, data: bytes) -> bytes:
        """The bytes to write for ``data`` from the core (one WebSocket message, if any).

        Raises:
            ConnectionError: the WebSocket is no longer open.
        """
        ws = self._ws
        if ws is None or not data:
            return data
        try:
            ws.send_stomp(data)
        except LocalProtocolError as exc:
            raise ConnectionError(exc.message) from None
        out: bytes = ws.data_to_send()
        return out

    def _flush(self) -> bool:
        """Write what the core queued on its own (heart-beat EOLs), if no sender is busy.

        Returns:
            whether heart-beat bytes were written (listeners see them in ``on_send``).
        """
        if not self._write_lock.acquire(blocking=False):
            # A sender is writing: its bytes count as activity for the peer, and ours
            # go out with the next write (ours or its data_to_send) soon after.
            self._flush_pending = True
            return False
        try:
            self._flush_pending = False
            with self.cond:
                if self.closed:
                    return False
                beats = self.core.data_to_send(now=time.monotonic())
                data = self._outgoing(beats)
            if data:
                self._write(data)
            # Only heart-beat EOLs get here (senders drain their own frames).
            return bool(beats)
        except OSError as exc:
            logging.warning("sending to %s:%s failed: %s", *self.host_and_port, exc)
            # Marked broken, not finished here: the keeper may be the caller, and only
            # the I/O thread notes callbacks; it closes the session on its next pass.
            self._send_failed_locked()
            return False
        finally:
            self._write_lock.release()

    # ------------------------------------------------------------------ events

    def _pump_locked(self) -> None:
        """Pull every event the core has now and note their callbacks (lock held).

        What one read brought (at most :data:`RECV_BYTES`, or one large body): the I/O
        thread reads nothing more until the listeners have seen it all.
        """
        core = self.core
        next_item = core.next_frame_or_event
        take_messages = core.take_messages
        raw_frame = stomp_core.Frame
        transport = self.transport
        pending = self._pending
        auto_decode = transport.auto_decode
        encoding = transport.encoding
        debug = logging.logger.isEnabledFor(logging.DEBUG)
        while not self.closed:
            try:
                # The hot path: the read's run of MESSAGEs, parsed and handed out in
                # one call (Connection.take_messages); the frames listeners get are
                # made from them directly.  Anything else comes from next_frame_or_event,
                # a MESSAGE too when its body came in pieces.
                parts = take_messages()
                if not parts:
                    event = next_item()
                    if type(event) is raw_frame:
                        parts = [(event.command, event.headers, event.body)]
                if parts:
                    frames = frames_from_parts(parts, auto_decode, encoding)
                    if debug:
                        for frame in frames:
                            self._log_message(frame)
                    transport.messages_received(self, frames)
                    pending += [("message", frame) for frame in frames]
                    continue
            except ProtocolError as exc:
                logging.error("protocol error from %s:%s: %s", *self.host_and_port, exc)
                if not self.was_connected:
                    # Say what came instead of CONNECTED (an HTTP server, TLS on a
                    # plain port...), not just that the connection closed.
                    self.connection_error = (
                        f"protocol error: {exc}: the server at {self.host_and_port[0]}:"
                        f"{self.host_and_port[1]} did not answer CONNECT with a STOMP frame; "
                        f"it sent {self._head!r}"
                    )
                self._finish_locked(("receiver_loop_completed", None), ("disconnected", None))
                return
            if event is NEED_DATA:
                return
            self._handle_event_locked(event)

    def _handle_event_locked(self, event: Any) -> None:
        transport = self.transport
        if isinstance(event, HeartbeatReceived):
            if logging.logger.isEnabledFor(logging.DEBUG):
                logging.debug("%s", frame_log.format_parts("heartbeat", (), None, sent=False))
            self._pending.append(("heartbeat", None))
        elif isinstance(event, Receipt):
            frame = transport.frame_from_event(event)
            if self.core.state is State.CLOSED and event.receipt_id == self.disconnect_receipt:
                # stomp.py's order for a graceful close: disconnected, receipt, loop end.
                self._finish_locked(
                    ("disconnected", None), ("receipt", frame), ("receiver_loop_completed", None)
                )
            else:
                self._pending.append(("receipt", frame))
        elif isinstance(event, Connected):
            self.was_connected = True
            self.connected_at = time.monotonic()
            transport.session_connected(self, event)
            self._pending.append(("connected", transport.frame_from_event(event)))
            self.cond.notify_all()
        elif isinstance(event, Error):
            frame = transport.frame_from_event(event)
            if self.core.version is None:
                # The message header and the body's first line: RabbitMQ's header alone
                # ("Bad CONNECT") does not say what to fix.
                # stomp_core.client is the async drivers' session layer: imported
                # here, on a refused CONNECT, not with the driver (issue 13).
                from stomp_core.client import error_text

                said = error_text(event.message, event.body, event.content_type)
                self.connection_error = f"the broker refused the connection: {said or 'ERROR'}"
            self._pending.append(("error", frame))
            if self.core.state is State.CLOSED:
                # An ERROR answering CONNECT or DISCONNECT ends the session.  One while
                # connected does not (Config.error_ends_session=False): spec 1.2 says the
                # server closes the connection after it, and we see that EOF when it
                # does; RabbitMQ keeps the session instead (unknown destination), and
                # so does stomp.py.
                self._finish_locked(("receiver_loop_completed", None), ("disconnected", None))
        elif isinstance(event, HeartbeatTimeout):
            logging.warning("heart-beat timeout: no data from %s:%s", *self.host_and_port)
            self._finish_locked(
                ("disconnected", None),
                ("heartbeat_timeout", None),
                ("receiver_loop_completed", None),
            )
        elif isinstance(event, ConnectTimeout):
            self.connection_error = "no CONNECTED frame from {}:{} within {} s".format(
                *self.host_and_port, self.core.config.connect_timeout
            )
            logging.warning("%s", self.connection_error)
            self._finish_locked(("receiver_loop_completed", None), ("disconnected", None))
        elif isinstance(event, DisconnectTimeout):
            logging.warning("no receipt for DISCONNECT from %s:%s", *self.host_and_port)
            self._finish_locked(("disconnected", None), ("receiver_loop_completed", None))
        elif isinstance(event, ConnectionClosed):
            if not event.clean and not self.disconnect_requested:
                logging.warning("connection to %s:%s closed by the peer", *self.host_and_port)
            self._finish_locked(("receiver_loop_completed", None), ("disconnected", None))

    def _log_message(self, frame: Frame) -> None:
        """Log a received MESSAGE (DEBUG), and what the spec says it lacks."""
        headers = frame.headers
        logging.debug(
            "%s", frame_log.format_parts("MESSAGE", headers.items(), frame.body, sent=False)
        )
        # Spec 1.2 "MESSAGE" (conformance 94): the server MUST send these.  stomp.py
        # delivers the frame whatever its headers; so do we (the framing was sound),
        # with a note for whoever debugs the broker.
        required: tuple[str, ...] = ("destination", "message-id")
        if self.core.version == "1.2":
            required += ("subscription",)
        missing = [name for name in required if name not in headers]
        if missing:
            logging.debug(
                "delivering a MESSAGE from %s:%s although it lacks %s",
                *self.host_and_port,
                ", ".join(missing),
            )

    def _finish_locked(self, *end_events: tuple[str, Any]) -> None:
        """Close the socket once and note the final callbacks (lock held)."""
        if self.closed:
            return
        self.closed = True
        if self._ws is not None and self._ws.open and self._write_lock.acquire(blocking=False):
            try:
                self._ws.close()
                with contextlib.suppress(OSError):
                    self.sock.sendall(self._ws.data_to_send())
            finally:
                self._write_lock.release()
        # Shut down, not close: a writer may still hold the socket; the I/O thread
        # closes it when it ends, under the write lock.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.transport.session_closed(self)
        self.cond.notify_all()
        self._pending.extend(end_events)
        self._keeper_wake.set()

    def _dispatch_to_hooks(self, kind: str, frame: Any) -> None:
        """Dispatch one item through the transport's stomp.py hooks (a user's transport)."""
        transport = self.transport
        hooks = self._hooks
        if "set_connected" in hooks and kind in ("connected", "disconnected"):
            _run_hook(transport.set_connected, kind == "connected")
        if kind in ("connected", "message", "receipt", "error", "heartbeat"):
            # stomp.py hands heart-beats to process_frame as a "heartbeat" frame.
            _run_hook(transport.process_frame, HEARTBEAT_FRAME if frame is None else frame, None)
        else:
            transport.notify(kind, frame)

    def run_end_hooks(self) -> None:
        """On the finished I/O thread: stomp.py's ``cleanup`` and ``disconnect_socket`` hooks."""
        transport = self.transport
        if "cleanup" in self._hooks:
            _run_hook(transport.cleanup)
        if "disconnect_socket" in self._hooks and self.disconnect_requested:
            _run_hook(transport.disconnect_socket)

    # ------------------------------------------------------------------ sending

    def send(
        self, frame: stomp_core.Frame | stomp_core.Send, *, wait_connected: float | None
    ) -> None:
        """Hand ``frame`` to the core and write it, under the lock.

        Args:
            frame: the frame (listeners already saw it).
            wait_connected: if the session is still waiting for CONNECTED, wait at most
                this long for it first (stomp.py let frames follow CONNECT at once; the
                core, rightly, does not, so we hold them until the session is open).

        Raises:
            NotConnectedException: the connection is closed or was never opened.
            ValueError: the core refused the frame (a missing or illegal header).
        """
        if wait_connected is not None and self.core.state is State.CONNECTING:
            self._wait_open(wait_connected)
        command = frame.command
        with self._write_lock:
            with self._core_lock:
                state = self.core.state
                if self.closed or self._broken or state is State.CLOSED or state is State.ERROR:
                    raise NotConnectedException("not connected")
                if state is State.CONNECTING and command not in ("CONNECT", "STOMP"):
                    raise NotConnectedException("not connected: CONNECTED has not arrived")
                now = time.monotonic()
                try:
                    self.core.send(frame, now=now)
                except LocalProtocolError as exc:
                    if self.core.state is not State.CONNECTED and command != "CONNECT":
                        raise NotConnectedException(f"not connected: {exc.message}") from None
                    raise ValueError(exc.message) from None
                data = self.core.data_to_send(now=now)
                if self._ws is not None:
                    data = self._outgoing(data)
                # Only CONNECT and DISCONNECT start deadlines (connect and receipt
                # waits); any other frame can only push the heart-beat deadline later.
                rearm = False
                if command in ("CONNECT", "STOMP", "DISCONNECT"):
                    timer = self.core.get_timer()
                    rearm = timer is not None and (self._armed is None or timer < self._armed)
            try:
                if self._send_hook is None:
                    self._send_all(data)  # _write without a hook, one call less
                else:
                    self._write(data)
            except OSError as exc:
                self._send_failed_locked()
                raise NotConnectedException(self._send_failure(exc)) from exc
        if rearm:
            self._wake()

    def send_message(
        self,
        destination: str,
        body: bytes,
        content_type: str | None,
        content_length: bool,
        *,
        wait_connected: float | None,
    ) -> None:
        """SEND ``body`` to ``destination``: :meth:`send` for a plain SEND, made cheaper.

        An open TCP session without stomp.py's ``send`` hook takes one lock section: the
        core builds the frame and its bytes in one call (``Connection.send_message``),
        and they are written at once.  Anything else (not yet CONNECTED, closed, a
        WebSocket, the hook) goes through :meth:`send` with the event.

        Raises:
            NotConnectedException: as :meth:`send`.
            ValueError: as :meth:`send`.
        """
        core = self.core
        if self._plain_writes:
            # acquire/release rather than ``with``: half the cost of the two lock pairs
            # (0.16 against 0.32 us here), on the path every small SEND takes.
            write_lock = self._write_lock
            core_lock = self._core_lock
            write_lock.acquire()
            try:
                core_lock.acquire()
                try:
                    open_ = core.state is _CONNECTED and not self.closed and not self._broken
                    if open_:
                        now = _monotonic()
                        try:
                            data = core.send_message(
                                destination,
                                body,
                                content_type=content_type,
                                content_length=content_length,
                                now=now,
                            )
                        except LocalProtocolError as exc:
                            # CONNECTED stays: the frame itself is wrong, as in send().
                            raise ValueError(exc.message) from None
                finally:
                    core_lock.release()
                if open_:
                    try:
                        self._send_all(data, now)
                    except OSError as exc:
                        self._send_failed_locked()
                        raise NotConnectedException(self._send_failure(exc)) from exc
                    return
            finally:
                write_lock.release()
        try:
            event = stomp_core.Send(
                destination=destination,
                body=body,
                content_type=content_type,
                content_length=content_length,
            )
        except LocalProtocolError as exc:
            raise ValueError(exc.message) from None
        self.send(event, wait_connected=wait_connected)

    def _wait_open(self, timeout: float) -> None:
        """Wait at most ``timeout`` seconds while the session is still CONNECTING."""
        with self.cond:
            deadline = time.monotonic() + timeout
            while self.core.state is State.CONNECTING and not self.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.cond.wait(remaining)

    def _send_failure(self, exc: OSError) -> str:
        if isinstance(exc, (BlockingIOError, TimeoutError)):
            # The kernel's or Python's write timeout: the peer stopped reading.
            return (
                f"sending failed: the frame could not be written within the write "
                f"timeout of {self._write_timeout:g} s (the broker stopped reading)"
            )
        return f"sending failed: {exc}"

    def _send_failed_locked(self) -> None:
        # A partial write corrupts the stream (STYLE 11): mark the connection broken and
        # let the I/O thread close it and report it.  The write lock is held.
        with self.cond:
            self.core.send_failed()
            self._broken = True
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
        self._wake()

    def send_raw(self, data: bytes) -> None:
        """Write bytes the core does not see (stomp.py's ``transport.send`` hook), locked.

        Raises:
            NotConnectedException: the connection is closed.
        """
        with self._write_lock:
            with self.cond:
                if self.closed or self._broken:
                    raise NotConnectedException("not connected")
                out = self._outgoing(data)
            try:
                self._write(out)
            except OSError as exc:
                self._send_failed_locked()
                raise NotConnectedException(self._send_failure(exc)) from exc

    def abort(self) -> None:
        """Shut the socket down so that the I/O thread finishes (and reports it)."""
        with self.cond:
            if self.closed:
                return
            self._broken = True
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
        self._wake()

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the session left CONNECTING; whether CONNECTED arrived."""
        deadline = time.monotonic() + timeout
        with self.cond:
            # Until the I/O thread reported CONNECTED or the end, with its reason: the
            # core's state alone may already say CLOSED (the keeper found the connect
            # deadline passed) before the I/O thread noted why.
            while not self.was_connected and not self.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.cond.wait(remaining)
            return self.was_connected

    def request_disconnect(self, receipt_id: str | None = None) -> None:
        """The user is closing this connection (a drop is then expected, not reported).

        Args:
            receipt_id: the receipt asked for by DISCONNECT, if one is being sent: its
                RECEIPT ends the session gracefully.
        """
        self.disconnect_requested = True
        if receipt_id is not None:
            self.disconnect_receipt = receipt_id

    @property
    def heartbeat(self) -> tuple[int, int]:
        """The negotiated ``(send, receive)`` heart-beat intervals in ms."""
        return self.core.heartbeat

    @property
    def state(self) -> State:
        """The core's session state."""
        return self.core.state

    def on_dispatcher_thread(self) -> bool:
        """Whether the caller is this session's I/O thread (i.e. runs inside a listener)."""
        return threading.get_ident() == self.dispatcher_ident

"""A scripted fake STOMP broker for the blocking driver's tests, and tests of the fake itself.

The fake listens on 127.0.0.1, port 0.  A test runs a *script* (a function taking a
:class:`Peer`) in a thread for each accepted connection; the script reads frames and
answers by hand, so each test decides exactly what the broker says and when.  Every wait
has a deadline, and :meth:`FakeServer.close` re-raises what a script raised.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

WAIT = 10.0  # the longest any test waits for something that should happen


@dataclass
class WireFrame:
    """A frame as the fake broker read it (headers unescaped only if asked)."""

    command: str
    headers: dict[str, str]
    body: bytes
    raw: bytes
    all_headers: list[tuple[str, str]] = field(default_factory=list)


class Peer:
    """One accepted connection, seen from the fake broker."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.heartbeats = 0
        self.heartbeat_times: list[float] = []
        self.eof = False

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, ssl.SSLWantReadError):
            return False
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    def read_frame(self, timeout: float = WAIT) -> WireFrame:
        """The next frame; heart-beat EOLs before it are counted in :attr:`heartbeats`."""
        deadline = time.monotonic() + timeout
        while True:
            while self.buffer[:1] in (b"\n", b"\r"):
                if self.buffer[:1] == b"\n":
                    self.heartbeats += 1
                    self.heartbeat_times.append(time.monotonic())
                del self.buffer[:1]
            frame = self._parse()
            if frame is not None:
                return frame
            if not self._fill(deadline):
                raise AssertionError(
                    f"no frame within {timeout} s (eof={self.eof}, buffered={bytes(self.buffer)!r})"
                )

    def _parse(self) -> WireFrame | None:
        end = self.buffer.find(b"\n\n")
        crlf = self.buffer.find(b"\r\n\r\n")
        if end < 0 and crlf < 0:
            return None
        if end < 0 or (0 <= crlf < end):
            head, body_start = bytes(self.buffer[:crlf]), crlf + 4
        else:
            head, body_start = bytes(self.buffer[:end]), end + 2
        lines = head.decode().replace("\r\n", "\n").split("\n")
        command, pairs = lines[0], [tuple(line.split(":", 1)) for line in lines[1:]]
        headers: dict[str, str] = {}
        for name, value in pairs:
            headers.setdefault(name, value)
        length = headers.get("content-length")
        if length is not None:
            stop = body_start + int(length)
            if len(self.buffer) < stop + 1:
                return None
            assert self.buffer[stop] == 0, "content-length does not end at a NUL"
        else:
            stop = self.buffer.find(b"\0", body_start)
            if stop < 0:
                return None
        body = bytes(self.buffer[body_start:stop])
        raw = bytes(self.buffer[: stop + 1])
        del self.buffer[: stop + 1]
        return WireFrame(command, headers, body, raw, [(n, v) for n, v in pairs])

    def expect(self, command: str, timeout: float = WAIT) -> WireFrame:
        """Read the next frame and check its command."""
        frame = self.read_frame(timeout)
        assert frame.command == command, f"expected {command}, got {frame.command}: {frame.raw!r}"
        return frame

    def send(self, data: bytes) -> None:
        """Write raw bytes."""
        self.sock.sendall(data)

    def send_frame(
        self, command: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> None:
        """Write one frame (no escaping: the test gives wire values)."""
        lines = [command] + [f"{k}:{v}" for k, v in (headers or {}).items()]
        self.send(("\n".join(lines) + "\n\n").encode() + body + b"\0")

    def connected(
        self, version: str = "1.1", heart_beat: str | None = None, command: str | None = None
    ) -> WireFrame:
        """Read CONNECT/STOMP and answer CONNECTED."""
        frame = self.read_frame()
        assert frame.command in ((command,) if command else ("CONNECT", "STOMP")), frame.raw
        headers = {"version": version} if version != "1.0" else {}
        if heart_beat is not None:
            headers["heart-beat"] = heart_beat
        self.send_frame("CONNECTED", headers)
        return frame

    def wait_eof(self, timeout: float = WAIT) -> None:
        """Wait until the client closed the connection (frames read meanwhile are dropped)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            self.buffer.clear()
            if not self._fill(deadline) and not self.eof:
                raise AssertionError("the client did not close the connection")

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


Script = Callable[[Peer], None]


class FakeServer:
    """A fake broker: run a script per accepted connection, in order."""

    def __init__(self, *scripts: Script, tls: ssl.SSLContext | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.tls = tls
        self.scripts = list(scripts)
        self.errors: list[BaseException] = []
        self.peers: list[Peer] = []
        self.done = threading.Event()
        self.sni: list[str | None] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        """``("127.0.0.1", port)``."""
        return ("127.0.0.1", self.port)

    def _run(self) -> None:
        try:
            for script in self.scripts:
                self.listener.settimeout(WAIT)
                try:
                    sock, _ = self.listener.accept()
                except TimeoutError:
                    raise AssertionError("the client never connected") from None
                if self.tls is not None:
                    sock.settimeout(WAIT)
                    try:
                        sock = self.tls.wrap_socket(sock, server_side=True)
                    except (ssl.SSLError, OSError) as exc:
                        self.errors.append(exc)
                        sock.close()
                        continue
                peer = Peer(sock)
                self.peers.append(peer)
                try:
                    script(peer)
                finally:
                    peer.close()
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            self.done.set()

    def close(self, check: bool = True) -> None:
        """Wait for the scripts (with a deadline), stop listening, re-raise failures."""
        finished = self.done.wait(WAIT)
        self.listener.close()
        if check:
            for error in self.errors:
                if not isinstance(error, ssl.SSLError):
                    raise error
            assert finished, "the fake broker's scripts did not finish"


@contextlib.contextmanager
def fake_server(*scripts: Script, tls: ssl.SSLContext | None = None) -> Iterator[FakeServer]:
    """Run a :class:`FakeServer` for the duration of a ``with`` block."""
    server = FakeServer(*scripts, tls=tls)
    try:
        yield server
    finally:
        server.close()


def free_port() -> int:
    """A port on 127.0.0.1 with (very probably) nothing listening."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port: int = sock.getsockname()[1]
    return port


# --- tests of the fake itself ----------------------------------------------------------


def test_peer_parses_frames_heartbeats_and_content_length() -> None:
    def script(peer: Peer) -> None:
        frame = peer.expect("SEND")
        assert frame.headers == {"destination": "/q", "content-length": "3"}
        assert frame.body == b"a\0b"
        assert peer.heartbeats == 2
        peer.expect("DISCONNECT")

    with fake_server(script) as server, socket.create_connection(server.address) as client:
        client.sendall(b"\n\r\nSEND\ndestination:/q\ncontent-length:3\n\na\0b\0")
        client.sendall(b"DISCONNECT\n\n\0")
        server.done.wait(WAIT)


def test_fake_server_reports_script_failures() -> None:
    def script(peer: Peer) -> None:
        peer.expect("CONNECT", timeout=0.2)

    server = FakeServer(script)
    with socket.create_connection(server.address), pytest.raises(AssertionError, match="no frame"):
        server.close()

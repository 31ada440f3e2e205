"""A loopback TLS front end for a plain STOMP port, presenting a chosen certificate.

ActiveMQ has one key store for all its TLS ports, so it cannot show an expired
certificate on one port and a valid one on another.  This front end can: it terminates
TLS with the certificate it is given and forwards the plaintext to the broker's plain
STOMP port, so a client sees a real broker behind whichever certificate the test picks.
Port 0, 127.0.0.1 only; every thread is joined by :meth:`TlsFrontend.close`.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import threading

__all__ = ["TlsFrontend"]

_POLL = 0.1  # seconds: how often the threads look at the stop flag


class TlsFrontend:
    """Accepts TLS on ``127.0.0.1:<port>`` and relays to ``target`` in plaintext.

    Args:
        certfile: the certificate chain (PEM) to present.
        keyfile: its private key (PEM).
        target: the ``(host, port)`` of the plain STOMP endpoint behind.
    """

    def __init__(self, certfile: str, keyfile: str, target: tuple[str, int]) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(certfile, keyfile)
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_POLL)
        self.port: int = self._listener.getsockname()[1]
        #: Server-side handshake failures, for tests that want to see them.
        self.handshake_errors: list[Exception] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(
            target=self._accept_loop, name="tls-frontend", daemon=True
        )
        self._accepter.start()

    def __enter__(self) -> TlsFrontend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, end every relay, join every thread (bounded)."""
        self._stop.set()
        self._accepter.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(10.0)
        try:
            tls = self._context.wrap_socket(client, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            self.handshake_errors.append(exc)
            client.close()
            return
        try:
            upstream = socket.create_connection(self._target, timeout=10.0)
        except OSError:
            tls.close()
            return
        with tls, upstream:
            self._relay(tls, upstream)

    def _relay(self, tls: ssl.SSLSocket, upstream: socket.socket) -> None:
        tls.setblocking(False)
        upstream.setblocking(False)
        peers = {tls: upstream, upstream: tls}
        with selectors.DefaultSelector() as selector:
            selector.register(tls, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            while not self._stop.is_set():
                ready = selector.select(_POLL)
                # TLS may hold decrypted bytes the selector cannot see.
                if tls.pending():
                    ready.append((selector.get_key(tls), selectors.EVENT_READ))
                for key, _mask in ready:
                    source = key.fileobj
                    assert isinstance(source, socket.socket)
                    try:
                        data = source.recv(65536)
                    except (ssl.SSLWantReadError, BlockingIOError):
                        continue
                    except OSError:
                        return
                    if not data:
                        return
                    destination = peers[source]
                    destination.setblocking(True)
                    destination.settimeout(10.0)
                    with contextlib.suppress(OSError):
                        destination.sendall(data)
                    destination.setblocking(False)

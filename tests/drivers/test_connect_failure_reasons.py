"""Every failed connection attempt says why, in both async drivers (issue 14.12).

Scripted loopback servers in a thread: one that closes each connection at once (a TLS
handshake cut short), one whose certificate the client does not trust.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator

import pytest
import trio

import stomp_asyncio
import stomp_trio

#: The inner message ends with the reason: empty (the bug) would end in ": ".
REASON = r"could not connect to 127\.0\.0\.1:\d+: \S"


def _serve(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                handle(conn)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(10)
        listener.close()


@pytest.fixture
def closing_port() -> Iterator[int]:
    """Accepts and closes: the TLS handshake meets EOF."""
    yield from _serve(lambda conn: None)


@pytest.fixture
def untrusted_tls_port() -> Iterator[int]:
    """A TLS server whose certificate is signed by a CA the client does not trust."""
    cert, key = os.environ.get("STOMP_TEST_BROKER_CERT"), os.environ.get("STOMP_TEST_BROKER_KEY")
    if not cert or not key:
        pytest.skip("STOMP_TEST_BROKER_CERT/KEY unset (start-activemq.sh prints them)")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with context.wrap_socket(conn, server_side=True):
                pass
        except (OSError, ssl.SSLError):
            pass  # the client refused our certificate: that is the point

    yield from _serve(handle)


def _trio_error(url: str, **kwargs: object) -> str:
    async def main() -> str:
        with trio.fail_after(30), pytest.raises(stomp_trio.ConnectFailed) as info:
            async with stomp_trio.open_connection(url, connect_timeout=5, **kwargs):  # type: ignore[arg-type]
                pass
        return str(info.value)

    return trio.run(main)


def _asyncio_error(url: str, **kwargs: object) -> str:
    async def main() -> str:
        with pytest.raises(stomp_asyncio.ConnectFailed) as info:
            async with stomp_asyncio.open_connection(url, connect_timeout=5, **kwargs):  # type: ignore[arg-type]
                pass
        return str(info.value)

    return asyncio.run(asyncio.wait_for(main(), 30))


@pytest.mark.parametrize("error_of", [_trio_error, _asyncio_error], ids=["trio", "asyncio"])
def test_a_tls_handshake_cut_short_says_why(
    error_of: Callable[..., str], closing_port: int
) -> None:
    message = error_of(f"stomp+ssl://127.0.0.1:{closing_port}")
    assert re.search(REASON, message), message


@pytest.mark.parametrize("error_of", [_trio_error, _asyncio_error], ids=["trio", "asyncio"])
def test_an_untrusted_certificate_says_so(
    error_of: Callable[..., str], untrusted_tls_port: int
) -> None:
    wrong_ca = os.environ.get("STOMP_TEST_WRONG_CA")
    if not wrong_ca:
        pytest.skip("STOMP_TEST_WRONG_CA not set")
    context = ssl.create_default_context(cafile=wrong_ca)
    message = error_of(f"stomp+ssl://127.0.0.1:{untrusted_tls_port}", ssl=context)
    assert "CERTIFICATE_VERIFY_FAILED" in message, message


@pytest.mark.parametrize("error_of", [_trio_error, _asyncio_error], ids=["trio", "asyncio"])
def test_a_refused_connection_says_so(error_of: Callable[..., str]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    message = error_of(f"stomp://127.0.0.1:{port}")
    assert "refused" in message.lower() or "Errno 111" in message, message

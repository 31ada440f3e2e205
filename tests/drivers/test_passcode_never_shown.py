"""A passcode that cannot be sent is never shown (issue 14, item 10).

A passcode read from a file often keeps its trailing newline.  CONNECT headers are not
escaped (STOMP 1.2, "Value Encoding"), so the core refuses it; the text of what every
driver raises, and everything any of them logs, must name the header without quoting
its value.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
import trio

import stomp
import stomp_asyncio
import stomp_trio
from stomp_broker import run_broker_in_thread

SECRET = "hunter2-from-a-file\n"


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    with run_broker_in_thread() as (host, port):
        yield host, port


def _assert_hidden(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    shown = f"{error!s} {error!r} {error.__cause__!r} {error.__context__!r} {caplog.text}"
    assert "hunter2" not in shown
    assert "passcode" in str(error)


def test_blocking(address: tuple[str, int], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    conn = stomp.Connection([address], reconnect_attempts_max=1)
    with pytest.raises(stomp.exception.ConnectFailedException) as caught:
        conn.connect("user", SECRET, wait=True)
    conn.disconnect()
    _assert_hidden(caught.value, caplog)


def test_asyncio(address: tuple[str, int], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def main() -> None:
        url = "stomp://{}:{}".format(*address)
        async with stomp_asyncio.open_connection(url, login="user", passcode=SECRET):
            pass  # pragma: no cover - the connect is refused

    with pytest.raises(stomp_asyncio.LocalProtocolError) as caught:
        asyncio.run(main())
    _assert_hidden(caught.value, caplog)


def test_trio(address: tuple[str, int], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def main() -> None:
        url = "stomp://{}:{}".format(*address)
        async with stomp_trio.open_connection(url, login="user", passcode=SECRET):
            pass  # pragma: no cover - the connect is refused

    with pytest.raises(stomp_trio.LocalProtocolError) as caught:
        trio.run(main)
    _assert_hidden(caught.value, caplog)

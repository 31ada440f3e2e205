"""A small user program that scripts/check_wheel.sh type-checks with ``mypy --strict``
against the installed wheel (not the source tree): it proves that every package ships
``py.typed`` and that the public names a user reaches for carry types.

It is not a test module (pytest does not collect it) and it is never run.
"""

from __future__ import annotations

import asyncio

import trio

import stomp
import stomp_asyncio
import stomp_broker
import stomp_core
import stomp_trio


class Printer(stomp.ConnectionListener):
    def on_message(self, frame: stomp.utils.Frame) -> None:
        print(frame.body)


def blocking(host: str, port: int) -> None:
    conn = stomp.Connection([(host, port)], heartbeats=(4000, 4000))
    conn.set_listener("printer", Printer())
    conn.connect("guest", "guest", wait=True)
    conn.subscribe("/queue/typed", id="1", ack="auto")
    conn.send("/queue/typed", "hello")
    conn.disconnect()


def core() -> bytes:
    connection = stomp_core.Connection(stomp_core.CLIENT)
    connection.send(stomp_core.Connect(host="/", heart_beat=(0, 0)), now=0.0)
    data: bytes = connection.data_to_send(now=0.0)
    event = connection.next_event()
    assert event is stomp_core.NEED_DATA
    return data


async def with_asyncio(url: str) -> None:
    async with stomp_asyncio.open_connection(url) as client:
        await client.send("/queue/typed", "hello", receipt=True)


async def with_trio(url: str) -> None:
    async with stomp_trio.open_connection(url) as client:
        await client.send("/queue/typed", "hello", receipt=True)


async def with_broker() -> int:
    async with stomp_broker.Broker(host="127.0.0.1", port=0) as broker:
        port: int = broker.port
        return port


def main() -> None:
    core()
    asyncio.run(with_asyncio("stomp://127.0.0.1:61613"))
    trio.run(with_trio, "stomp://127.0.0.1:61613")
    print(asyncio.run(with_broker()))

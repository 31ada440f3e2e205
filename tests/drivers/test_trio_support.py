"""A scripted fake broker for the trio driver's unit tests, and tests of the fake itself.

The fake is the core's SERVER role over an in-memory stream pair: no sockets, no real
time.  :class:`Network` is a ``stream_factory`` for :func:`stomp_trio.open_connection`;
each dial makes a stream pair and hands the server end to the test as a
:class:`FakeBroker`, which the test scripts frame by frame (``expect``, ``send``,
``accept``).  Tests run under ``MockClock(autojump_threshold=0)``: whenever every task
is blocked the clock jumps to the next deadline, so heart-beats and timeouts happen
instantly and deterministically.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import trio
import trio.testing

import stomp_core as sc

E = TypeVar("E", bound=sc.Event)

#: The longest (mock) time any wait in a test may take.
WAIT = 60.0


class FakeBroker:
    """The server end of one dialled connection, driven by ``stomp_core`` (SERVER role)."""

    def __init__(self, stream: trio.abc.Stream, host: str, port: int) -> None:
        self.stream = stream
        self.host = host
        self.port = port
        self.core = sc.Connection(
            sc.SERVER, sc.Config(connect_timeout=None), now=trio.current_time()
        )
        self.heartbeats = 0
        self.heartbeat_times: list[float] = []
        self.received: list[sc.Event] = []
        self.eof = False

    async def _fill(self) -> None:
        try:
            data = await self.stream.receive_some(65536)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            data = b""
        if data:
            self.core.receive_data(data, now=trio.current_time())
        else:
            self.eof = True
            self.core.receive_eof(now=trio.current_time())

    async def next_event(self, *, heartbeats: bool = False) -> sc.Event:
        """The next event from the client (heart-beats counted and skipped by default)."""
        with trio.fail_after(WAIT):
            while True:
                event = self.core.next_event()
                if event is sc.NEED_DATA or not isinstance(event, sc.Event):
                    await self._fill()
                    continue
                if isinstance(event, sc.HeartbeatReceived):
                    self.heartbeats += 1
                    self.heartbeat_times.append(trio.current_time())
                    if not heartbeats:
                        continue
                self.received.append(event)
                return event

    async def expect(self, cls: type[E]) -> E:
        """The next event, which must be a ``cls``."""
        event = await self.next_event()
        assert isinstance(event, cls), f"expected {cls.__name__}, got {event!r}"
        return event

    async def send(self, event: sc.FrameEvent | sc.Frame) -> None:
        """Send a frame to the client."""
        self.core.send(event, now=trio.current_time())
        await self.flush()

    async def flush(self) -> None:
        data = self.core.data_to_send(now=trio.current_time())
        if data:
            await self.stream.send_all(data)

    async def send_raw(self, data: bytes) -> None:
        """Bytes the core would never send (heart-beats, garbage)."""
        await self.stream.send_all(data)

    async def accept(
        self,
        *,
        heart_beat: tuple[int, int] = (0, 0),
        version: str | None = None,
        session: str | None = "session-1",
    ) -> sc.Connect:
        """Read CONNECT and answer CONNECTED (highest common version unless given)."""
        connect = await self.expect(sc.Connect)
        chosen = version or self.core.proposed_version
        assert chosen is not None
        await self.send(
            sc.Connected(version=chosen, session=session, server="fake/1.0", heart_beat=heart_beat)
        )
        return connect

    async def reply_receipt(self, event: sc.FrameEvent) -> None:
        """Answer the RECEIPT ``event`` asked for."""
        receipt = event.get("receipt")
        assert receipt is not None, f"{event!r} asked for no receipt"
        await self.send(sc.Receipt(receipt_id=receipt))

    async def finish_disconnect(self) -> sc.Disconnect:
        """Expect DISCONNECT, confirm it, close."""
        disconnect = await self.expect(sc.Disconnect)
        await self.reply_receipt(disconnect)
        await self.close()
        return disconnect

    async def message(
        self,
        subscription: sc.Subscribe,
        body: bytes,
        *,
        message_id: str,
        ack: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Deliver a MESSAGE on ``subscription``."""
        await self.send(
            sc.Message(
                destination=subscription.destination,
                message_id=message_id,
                subscription=subscription.id,
                ack=ack,
                body=body,
                headers=headers,
            )
        )

    async def close(self) -> None:
        await trio.aclose_forcefully(self.stream)


class Network:
    """A ``stream_factory`` over memory streams; the test accepts each dial.

    Args:
        refuse: how many dials fail with ``ConnectionRefusedError`` before one succeeds.
        pair: the stream pair maker (``memory_stream_pair`` or ``lockstep_stream_pair``).
    """

    def __init__(
        self,
        *,
        refuse: int = 0,
        pair: Callable[[], tuple[Any, Any]] = trio.testing.memory_stream_pair,
    ) -> None:
        self.refuse = refuse
        self.pair = pair
        self.dials: list[tuple[str, int, float]] = []
        self._send, self._receive = trio.open_memory_channel[FakeBroker](math.inf)

    async def __call__(self, host: str, port: int) -> trio.abc.Stream:
        await trio.lowlevel.checkpoint()
        self.dials.append((host, port, trio.current_time()))
        if self.refuse:
            self.refuse -= 1
            raise ConnectionRefusedError(f"refused: {host}:{port}")
        client, server = self.pair()
        self._send.send_nowait(FakeBroker(server, host, port))
        stream: trio.abc.Stream = client
        return stream

    async def accept(self) -> FakeBroker:
        """The server end of the next dial."""
        with trio.fail_after(WAIT):
            return await self._receive.receive()


def options(network: Network, **overrides: Any) -> dict[str, Any]:
    """``open_connection`` keyword arguments for tests: the fake network, no heart-beats."""
    base: dict[str, Any] = {"stream_factory": network, "heartbeats": (0, 0)}
    base.update(overrides)
    return base


# --------------------------------------------------------------------- tests of the fake


@pytest.mark.trio
async def test_fake_broker_accepts_and_answers_with_core_frames() -> None:
    network = Network()
    client_stream = await network("example", 1)
    broker = await network.accept()
    client = sc.Connection(sc.CLIENT)
    client.send(sc.Connect(host="example", accept_version=("1.2",)), now=0.0)
    await client_stream.send_all(client.data_to_send(now=0.0))
    connect = await broker.accept()
    assert connect.host == "example"
    client.receive_data(await client_stream.receive_some(), now=0.0)
    connected = client.next_event()
    assert isinstance(connected, sc.Connected)
    assert connected.version == "1.2"


@pytest.mark.trio
async def test_network_refuses_the_first_dials() -> None:
    network = Network(refuse=2)
    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            await network("h", 1)
    await network("h", 1)
    assert [d[:2] for d in network.dials] == [("h", 1)] * 3

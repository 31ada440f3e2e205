"""Shared helpers for the core tests: a client/server pair on a fake link."""

from __future__ import annotations

from dataclasses import dataclass, field

from stomp_core import (
    CLIENT,
    NEED_DATA,
    SERVER,
    Config,
    Connect,
    Connected,
    Connection,
    Event,
)


def drain(conn: Connection) -> list[Event]:
    """Every event available now."""
    events: list[Event] = []
    while (event := conn.next_event()) is not NEED_DATA:
        assert isinstance(event, Event)
        events.append(event)
    return events


@dataclass
class ConnectionPair:
    """A client and a server core joined by a perfect in-memory link."""

    client_config: Config = field(default_factory=Config)
    server_config: Config = field(default_factory=Config)
    now: float = 0.0

    def __post_init__(self) -> None:
        self.client = Connection(CLIENT, self.client_config)
        self.server = Connection(SERVER, self.server_config, now=self.now)

    def to_server(self) -> list[Event]:
        """Move the client's pending bytes to the server; return the server's events."""
        self.server.receive_data(self.client.data_to_send(now=self.now), now=self.now)
        return drain(self.server)

    def to_client(self) -> list[Event]:
        """Move the server's pending bytes to the client; return the client's events."""
        self.client.receive_data(self.server.data_to_send(now=self.now), now=self.now)
        return drain(self.client)

    def connect(
        self,
        version: str = "1.2",
        *,
        client_heart_beat: tuple[int, int] = (0, 0),
        server_heart_beat: tuple[int, int] = (0, 0),
    ) -> None:
        """Run the CONNECT/CONNECTED exchange, negotiating ``version``."""
        self.client.send(
            Connect(accept_version=(version,), host="/", heart_beat=client_heart_beat),
            now=self.now,
        )
        [connect] = self.to_server()
        assert isinstance(connect, Connect)
        self.server.send(
            Connected(version=version, heart_beat=server_heart_beat, session="s-1"),
            now=self.now,
        )
        [connected] = self.to_client()
        assert isinstance(connected, Connected)
        assert self.client.version == self.server.version == version

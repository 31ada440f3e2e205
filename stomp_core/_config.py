"""Per-connection configuration."""

from __future__ import annotations

from ._errors import LocalProtocolError
from ._limits import Limits
from ._record import Record
from ._versions import SUPPORTED_VERSIONS, check_versions

__all__ = ["Config"]


def _check_seconds(name: str, value: float | None, *, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise LocalProtocolError(
            f"Config.{name} must be a positive number of seconds, got {value!r}"
        )


#: Limits are immutable, so every Config may share the default one.
_DEFAULT_LIMITS = Limits()


class Config(Record):
    """How one :class:`~stomp_core.Connection` behaves.

    Args:
        versions: the versions we speak.  A client offers them in CONNECT when the
            :class:`~stomp_core.Connect` event leaves ``accept_version`` unset; a server
            picks the highest one the client also offers.
        limits: receive limits (:class:`~stomp_core.Limits`).
        heartbeat_tolerance: the peer is dead after ``interval * (1 + tolerance)`` of
            silence: one interval a peer that heart-beats only after a whole silent
            interval may skip (ActiveMQ does), then the margin.  1.5 is stomp.py's
            ``heart_beat_receive_scale`` (see ``HeartbeatSchedule.receive_deadline``).
        heartbeat_send_factor: we send a heart-beat after ``interval * factor`` of our own
            silence; 0.8 keeps us inside "at least every n ms" under scheduling jitter
            (stompest uses the same margin).
        connect_timeout: seconds to wait for CONNECTED after sending CONNECT (client) or
            for CONNECT after the connection started (server, counted from the ``now``
            given to the constructor); ``None`` waits forever.
        disconnect_timeout: seconds to wait for the RECEIPT of a DISCONNECT that asked for
            one; ``None`` waits forever.
        error_ends_session: a client takes an ERROR received while connected as the end
            of the session (spec 1.2 "ERROR": the server "MUST then close the
            connection").  ``False`` keeps the session open until the server does close
            it: RabbitMQ keeps it after an ERROR for, e.g., an unknown destination, and
            stomp.py's users carry on using it.  An ERROR answering CONNECT, or during
            DISCONNECT, always ends it.
        accept_incomplete_messages: (client) report a well-framed MESSAGE that lacks
            ``destination``, ``message-id`` or (1.2) ``subscription`` as an
            :class:`~stomp_core.IncompleteMessage` event instead of failing the
            connection with :class:`~stomp_core.RemoteProtocolError` (stomp.py delivers
            such frames; its drop-in needs them).
    """

    __slots__ = (
        "accept_incomplete_messages",
        "connect_timeout",
        "disconnect_timeout",
        "error_ends_session",
        "heartbeat_send_factor",
        "heartbeat_tolerance",
        "limits",
        "versions",
    )

    versions: tuple[str, ...]
    limits: Limits
    heartbeat_tolerance: float
    heartbeat_send_factor: float
    connect_timeout: float | None
    disconnect_timeout: float | None
    error_ends_session: bool
    accept_incomplete_messages: bool

    def __init__(
        self,
        *,
        versions: tuple[str, ...] = SUPPORTED_VERSIONS,
        limits: Limits = _DEFAULT_LIMITS,
        heartbeat_tolerance: float = 1.5,
        heartbeat_send_factor: float = 0.8,
        connect_timeout: float | None = 30.0,
        disconnect_timeout: float | None = 10.0,
        error_ends_session: bool = True,
        accept_incomplete_messages: bool = False,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "versions", check_versions(versions))
        set_field(self, "limits", limits)
        set_field(self, "heartbeat_tolerance", heartbeat_tolerance)
        set_field(self, "heartbeat_send_factor", heartbeat_send_factor)
        set_field(self, "connect_timeout", connect_timeout)
        set_field(self, "disconnect_timeout", disconnect_timeout)
        set_field(self, "error_ends_session", error_ends_session)
        set_field(self, "accept_incomplete_messages", accept_incomplete_messages)
        if not isinstance(self.limits, Limits):
            raise LocalProtocolError(f"Config.limits must be a Limits, got {self.limits!r}")
        _check_seconds("heartbeat_tolerance", self.heartbeat_tolerance, allow_none=False)
        if self.heartbeat_tolerance < 1:
            raise LocalProtocolError("Config.heartbeat_tolerance must be >= 1")
        _check_seconds("heartbeat_send_factor", self.heartbeat_send_factor, allow_none=False)
        if self.heartbeat_send_factor > 1:
            raise LocalProtocolError("Config.heartbeat_send_factor must be <= 1")
        _check_seconds("connect_timeout", self.connect_timeout, allow_none=True)
        _check_seconds("disconnect_timeout", self.disconnect_timeout, allow_none=True)
        if not isinstance(self.error_ends_session, bool):
            raise LocalProtocolError(
                f"Config.error_ends_session must be a bool, got {self.error_ends_session!r}"
            )

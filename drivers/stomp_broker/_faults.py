"""Fault injection: switches that make the broker misbehave on purpose, for driver tests.

A :class:`Faults` object is plain mutable data.  The broker reads it again each time it
is about to act (answer a CONNECT, write a frame, send a heart-beat), so a test may flip a
switch at run time, from any thread, and the next frame sees it.  Assigning an attribute
is atomic in CPython; nothing else is shared.

Which faults apply to a connection: the first :class:`FaultRule` in
``Broker.fault_rules`` that matches it (by the connection's index, counted from 1 in
accept order, and/or by the ``login`` of its CONNECT), else ``Broker.faults``.  A rule
matching on ``login`` only applies once the CONNECT arrived.

Two broker-wide actions complete the switches: ``Broker.refuse_connections(seconds)``
closes the listening socket (clients get "connection refused") and opens it again on the
same port afterwards; ``Broker.drop_connections()`` cuts every open connection at once, as
a broker crash would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MALFORMED_FRAME", "FaultRule", "Faults", "select_faults"]

#: What ``Faults.send_malformed_after`` writes: a MESSAGE whose second header line has no
#: colon, which spec 1.2 "Augmented BNF" (``header = header-name ":" header-value``) does
#: not allow, so a conforming client must treat it as a protocol error.
MALFORMED_FRAME = b"MESSAGE\ndestination:/queue/malformed\nthis header has no colon\n\n\x00"


@dataclass(slots=True, kw_only=True)
class Faults:
    """Misbehaviours of the broker towards one connection (or all of them).

    Outgoing frames are counted per connection from 1, CONNECTED included; heart-beat
    EOLs and dropped frames are not frames for the count.

    Args:
        close_after_frames: close the socket right after the broker wrote this many frames
            (``0``: as soon as the connection is accepted).
        close_mid_frame: with ``close_after_frames``, write the first half of the next
            frame before closing, so the client sees EOF in the middle of a frame.
        close_after_received: close the socket once this many frames arrived from the
            client (counted from 1, CONNECT included), without processing that frame.
        stop_heartbeats: never write heart-beat EOLs (the client should time out).
        delay_frames: hold every outgoing write, frames and heart-beats alike, this many
            seconds (order is kept).
        drop_frames: commands whose frames are silently not written, e.g.
            ``{"RECEIPT"}`` or ``{"MESSAGE"}``; ``"*"`` drops every frame.
        send_malformed_after: write :data:`MALFORMED_FRAME` right after frame number
            ``n`` (``1``: right after CONNECTED; ``0``: before CONNECTED), once per
            connection; the broker carries on normally afterwards.
        connect_error: answer CONNECT with an ERROR carrying this ``message`` (and close),
            as a broker that refuses the session does.
        error_on: client commands answered with ERROR (and close) instead of being
            carried out, e.g. ``{"SEND"}``; the ERROR carries the frame's receipt id.
    """

    close_after_frames: int | None = None
    close_mid_frame: bool = False
    close_after_received: int | None = None
    stop_heartbeats: bool = False
    delay_frames: float = 0.0
    drop_frames: frozenset[str] = field(default_factory=frozenset)
    send_malformed_after: int | None = None
    connect_error: str | None = None
    error_on: frozenset[str] = field(default_factory=frozenset)

    def drops(self, command: str) -> bool:
        """Whether a frame with ``command`` is to be dropped."""
        return command in self.drop_frames or "*" in self.drop_frames


@dataclass(slots=True, kw_only=True)
class FaultRule:
    """Faults for the connections that match; every given criterion must match.

    Args:
        faults: what to apply to a matching connection.
        index: the connection's number, counted from 1 in the order the broker accepted
            connections (reconnections count as new connections).
        login: the ``login`` header of the connection's CONNECT.
    """

    faults: Faults
    index: int | None = None
    login: str | None = None

    def matches(self, index: int, login: str | None, *, connected: bool) -> bool:
        """Whether this rule applies to connection ``index`` that sent ``login``."""
        if self.index is not None and self.index != index:
            return False
        if self.login is not None:
            return connected and self.login == login
        return True


def select_faults(
    rules: list[FaultRule], default: Faults, index: int, login: str | None, *, connected: bool
) -> Faults:
    """The faults for one connection: the first matching rule's, else ``default``."""
    for rule in list(rules):  # a copy: another thread may append while we look
        if rule.matches(index, login, connected=connected):
            return rule.faults
    return default

"""Pure helpers shared by the async client drivers (``stomp_asyncio`` and ``stomp_trio``).

Both drivers present the same API (``open_connection``, ``send``, ``subscribe``,
``transaction``, ``state_changes``) and the same exceptions.  What they share without any
I/O lives here, so that the two stay identical by construction.  One module per job:

* ``_errors``: the exceptions users see (:class:`StompError` and its subclasses),
  :func:`close_reason`, which maps the core's terminal events onto them, and
  :func:`connection_lost`, a :class:`ConnectionLost` with its cause chained;
* ``_addresses``: broker addresses: :func:`parse_hosts` turns ``"stomp://host:port"``,
  ``"stomp+ssl://host:port"`` or ``(host, port)`` pairs into :class:`Endpoint` objects, and
  :func:`use_tls` decides per endpoint whether to dial TLS;
* ``_bodies``: :func:`encode_body` (a ``str`` body becomes UTF-8 with
  ``text/plain;charset=utf-8``, conformance 37) and :func:`decode_text` (``text/*`` without
  charset is UTF-8, an explicit ``charset`` is honoured, conformance 38);
* ``_frames``: :class:`IdCounter`, a deterministic counter for receipt, subscription and
  transaction ids (never ``uuid4``: reproducible tests and logs); the frames built from user
  arguments, :func:`build_connect`, :func:`build_ack` and :func:`ack_for` (an ACK naming the
  routed subscription when a 1.0 MESSAGE did not); :func:`message_headers` of a received
  frame;
* ``_lifecycle``: observable lifecycle (:class:`ClientState` and :class:`StateChange`),
  :class:`ReconnectPolicy`, the user-facing reconnect settings over the core's backoff
  (``_backoff.py``; the random source for the jitter is injected by the driver), and
  ``DEFAULT_HEARTBEAT_TOLERANCE``;
* ``_arguments``: checked arguments (:func:`check_client_arguments`,
  :func:`check_subscribe_arguments`);
* ``_routing``: received frames: :func:`route_message` finds a MESSAGE's subscription and
  :class:`Leftovers` tells the frames nobody waits for that are expected from those that
  go to the ``on_unhandled`` hook (:data:`UnhandledHook`, conformance 88, 89).

Both drivers use every helper here (``message_headers`` and ``decode_text`` through
``stomp_core.client.ReceivedMessage``).  Nothing here reads a clock, draws random
numbers, logs or touches a socket.
"""

from __future__ import annotations

from ._addresses import DEFAULT_PORT, DEFAULT_TLS_PORT, Endpoint, parse_hosts, use_tls
from ._arguments import ACK_MODES, check_client_arguments, check_subscribe_arguments
from ._bodies import charset_of, decode_text, encode_body
from ._errors import (
    BrokerError,
    ConnectFailed,
    ConnectionLost,
    ProtocolViolation,
    ReceiptTimeout,
    StompError,
    close_reason,
    connection_lost,
)
from ._frames import DEFAULT_VHOST, IdCounter, ack_for, build_ack, build_connect, message_headers
from ._lifecycle import DEFAULT_HEARTBEAT_TOLERANCE, ClientState, ReconnectPolicy, StateChange
from ._received import ReceivedMessage
from ._routing import Leftovers, UnhandledHook, route_message
from ._transaction import ExitAction, Phase, TransactionState

__all__ = [
    "ACK_MODES",
    "DEFAULT_HEARTBEAT_TOLERANCE",
    "DEFAULT_PORT",
    "DEFAULT_TLS_PORT",
    "DEFAULT_VHOST",
    "BrokerError",
    "ClientState",
    "ConnectFailed",
    "ConnectionLost",
    "Endpoint",
    "ExitAction",
    "IdCounter",
    "Leftovers",
    "Phase",
    "ProtocolViolation",
    "ReceiptTimeout",
    "ReceivedMessage",
    "ReconnectPolicy",
    "StateChange",
    "StompError",
    "TransactionState",
    "UnhandledHook",
    "ack_for",
    "build_ack",
    "build_connect",
    "charset_of",
    "check_client_arguments",
    "check_subscribe_arguments",
    "close_reason",
    "connection_lost",
    "decode_text",
    "encode_body",
    "message_headers",
    "parse_hosts",
    "route_message",
    "use_tls",
]

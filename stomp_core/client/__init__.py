"""stomp_core.client: what a STOMP client does above the frame level, without I/O.

The core (:class:`stomp_core.Connection`) speaks frames.  A client also routes messages
to subscriptions, waits for receipts, resubscribes after a reconnect, refuses stale acks,
fails what was pending when a connection drops, applies back-pressure and decides when to
dial which broker.  :class:`ClientSession` does all of that for one client, across its
connections; the async drivers (``stomp_trio``, ``stomp_asyncio``) are I/O shells over it:
they own sockets, tasks and timers, feed it events and carry out the outcomes it returns.
Like the rest of the core it reads no clock, draws no random numbers (the driver passes
``rng``), logs nothing and touches no socket.

What is here:

* :class:`ClientOptions`: every setting of a client, checked once (the drivers'
  ``open_connection`` arguments), and :class:`TlsContexts`, the TLS context per broker;
* :class:`ClientSession`, its :class:`DialPlan` (:class:`Dial` and :class:`Wait` steps)
  and the outcomes of :meth:`ClientSession.handle` (:class:`Deliver`,
  :class:`ReceiptDone`, :class:`Unhandled`, :class:`Ignored`, :class:`Ended`;
  :func:`report_unhandled`);
* the exceptions users of both async drivers catch: :class:`StompError` and its
  subclasses :class:`ConnectFailed`, :class:`BrokerError`, :class:`ConnectionLost`,
  :class:`ReceiptTimeout`, :class:`ProtocolViolation` (each driver re-exports them);
* the lifecycle (:class:`ClientState`, :class:`StateChange`) and the reconnect settings
  (:class:`ReconnectPolicy`);
* :class:`TransactionState`: which transaction call is legal when;
* :class:`ClientHooks`: the callables a client passes down to its objects;
* the objects users of both async drivers hold, written once over those hooks: each
  driver's class derives from :class:`ClientBase`, :class:`SubscriptionBase`,
  :class:`MessageBase`, :class:`TransactionBase` or :class:`StateChangesBase` and adds
  only how its tasks wait (a :class:`Signal`) and are cancelled;
* :class:`Backlog`: what waits for a consumer (a subscription's buffer, an observer's
  changes);
* :class:`ReceivedMessage`: the read-only view of a MESSAGE both drivers' messages extend;
* helpers: broker addresses (:func:`parse_hosts`, :class:`Endpoint`, :func:`use_tls`),
  bodies (:func:`encode_body`, :func:`decode_text`), frames built from user arguments
  (:func:`build_connect` with :data:`DEFAULT_VHOST`, :func:`send_builder`,
  :func:`build_ack`, :func:`ack_for`),
  argument checks and the routing rules (:func:`route_message`, :class:`Leftovers`);
* request/reply: :class:`PendingRequests` (the reply queue, correlation ids, replies
  routed to their request, late ones dropped), :class:`ReplyArrived`,
  :func:`reply_destination`, :func:`reply_headers` and :func:`subscribes_for_replies`;
* what the drivers' links decide alike: :func:`reads_ahead` (:data:`READ_AHEAD`),
  :func:`rearms`, :func:`unsent_buffers`, :func:`write_timed_out` and :func:`exception_to_raise`.
"""

from __future__ import annotations

from ._addresses import (
    DEFAULT_PORT,
    DEFAULT_TLS_PORT,
    DEFAULT_WS_PORT,
    DEFAULT_WSS_PORT,
    Endpoint,
    parse_hosts,
    use_tls,
)
from ._arguments import ACK_MODES, AckMode, check_client_arguments, check_subscribe_arguments
from ._backlog import Backlog
from ._bodies import charset_of, decode_text, encode_body
from ._client_base import ClientBase
from ._errors import (
    BrokerError,
    ConnectFailed,
    ConnectionLost,
    ProtocolViolation,
    ReceiptTimeout,
    StompError,
    close_reason,
    connect_failed,
    connection_lost,
    dial_failed,
    error_text,
    failure_reason,
    parse_failure,
)
from ._frames import (
    DEFAULT_VHOST,
    IdCounter,
    ack_for,
    build_ack,
    build_connect,
    message_headers,
    send_builder,
)
from ._hooks import ClientHooks, SendFrame
from ._lifecycle import DEFAULT_HEARTBEAT_TOLERANCE, ClientState, ReconnectPolicy, StateChange
from ._links import (
    READ_AHEAD,
    exception_to_raise,
    reads_ahead,
    rearms,
    starts_deadline,
    unsent_buffers,
    write_timed_out,
)
from ._objects import (
    MessageBase,
    Signal,
    StateChangesBase,
    SubscriptionBase,
    TransactionBase,
)
from ._options import ClientOptions, TlsContexts
from ._received import ReceivedMessage
from ._replies import (
    CORRELATION_ID,
    REPLY_TO,
    TEMP_QUEUE_PREFIX,
    PendingRequests,
    ReplyArrived,
    reply_destination,
    reply_headers,
    subscribes_for_replies,
)
from ._routing import Leftovers, UnhandledHook, route_message
from ._session import (
    ClientSession,
    Deliver,
    Dial,
    DialPlan,
    Ended,
    Ignored,
    Outcome,
    ReceiptDone,
    Unhandled,
    Wait,
    report_unhandled,
)
from ._transaction import ExitAction, Phase, TransactionState

__all__ = [
    "ACK_MODES",
    "CORRELATION_ID",
    "DEFAULT_HEARTBEAT_TOLERANCE",
    "DEFAULT_PORT",
    "DEFAULT_TLS_PORT",
    "DEFAULT_VHOST",
    "DEFAULT_WSS_PORT",
    "DEFAULT_WS_PORT",
    "READ_AHEAD",
    "REPLY_TO",
    "TEMP_QUEUE_PREFIX",
    "AckMode",
    "Backlog",
    "BrokerError",
    "ClientBase",
    "ClientHooks",
    "ClientOptions",
    "ClientSession",
    "ClientState",
    "ConnectFailed",
    "ConnectionLost",
    "Deliver",
    "Dial",
    "DialPlan",
    "Ended",
    "Endpoint",
    "ExitAction",
    "IdCounter",
    "Ignored",
    "Leftovers",
    "MessageBase",
    "Outcome",
    "PendingRequests",
    "Phase",
    "ProtocolViolation",
    "ReceiptDone",
    "ReceiptTimeout",
    "ReceivedMessage",
    "ReconnectPolicy",
    "ReplyArrived",
    "SendFrame",
    "Signal",
    "StateChange",
    "StateChangesBase",
    "StompError",
    "SubscriptionBase",
    "TlsContexts",
    "TransactionBase",
    "TransactionState",
    "Unhandled",
    "UnhandledHook",
    "Wait",
    "ack_for",
    "build_ack",
    "build_connect",
    "charset_of",
    "check_client_arguments",
    "check_subscribe_arguments",
    "close_reason",
    "connect_failed",
    "connection_lost",
    "decode_text",
    "dial_failed",
    "encode_body",
    "error_text",
    "exception_to_raise",
    "failure_reason",
    "message_headers",
    "parse_failure",
    "parse_hosts",
    "reads_ahead",
    "rearms",
    "reply_destination",
    "reply_headers",
    "report_unhandled",
    "route_message",
    "send_builder",
    "starts_deadline",
    "subscribes_for_replies",
    "unsent_buffers",
    "use_tls",
    "write_timed_out",
]

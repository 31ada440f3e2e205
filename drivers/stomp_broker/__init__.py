"""stomp_broker: an embedded STOMP 1.0/1.1/1.2 broker for development and tests.

The SERVER role of :mod:`stomp_core` driven by asyncio.  It starts in milliseconds, needs
no configuration and can misbehave on purpose (:class:`Faults`).  It is a development and
test default, not a production broker: at scale, run RabbitMQ or ActiveMQ.

Starting it::

    async with Broker(host="127.0.0.1", port=0) as broker:   # in asyncio code
        ...  # broker.host, broker.port

    with run_broker_in_thread() as (host, port):              # in blocking code
        ...

    $ stomp-broker --host 127.0.0.1 --port 61613 [--ws-port 15674]   # Ctrl-C stops it

Behaviour:

* ``/topic/...`` destinations fan out to their current subscribers and keep nothing;
  every other destination is a queue: each message goes to one subscriber, round-robin,
  and waits (up to ``max_queue_messages`` per queue, then the sender gets ERROR) until a
  subscriber can take it.
* Temporary queues for request/reply, as on RabbitMQ: ``reply-to:/temp-queue/<name>`` on
  a SEND makes a queue private to the sender, read by an implicit subscription whose id is
  ``/temp-queue/<name>``; receivers see ``reply-to:/reply-queue/<random>``.  The owner may
  also SUBSCRIBE to ``/temp-queue/<name>`` (ActiveMQ's way); nobody else may subscribe; the
  queue goes with its connection and later SENDs to it are dropped.
* Ack modes ``auto``, ``client`` (cumulative, NACK too) and ``client-individual``;
  queue messages NACKed, or unacknowledged at UNSUBSCRIBE or disconnect, go back to the
  head of the queue and are delivered again with the header ``redelivered:true``.
* Transactions: SEND, ACK and NACK inside BEGIN..COMMIT are held and carried out at
  COMMIT, all or nothing; ABORT or disconnect drops them.
* Receipts for every frame that asks; ERROR then close on any protocol error, refused
  login (``users``), full queue, unknown ACK/NACK id, or a slow consumer whose unread
  bytes exceed ``max_outbound_bytes``.  Closing half-closes first and keeps reading until
  the client closes (``close_timeout`` at most), so the ERROR is not lost to a reset.
* Broker-wide limits, whatever the number of connections: ``max_connections``,
  ``max_inflight_bytes`` (partly received frames), ``max_stored_bytes`` (messages kept),
  ``max_subscriptions`` and ``max_subscriptions_per_connection`` (temporary queues are
  bounded by the last two as well, counted apart); beyond one, the
  request gets an ERROR naming the limit and its value.  :meth:`Broker.usage` returns
  the counts (a :class:`Usage`); a connection gives everything back when it closes.
* Heart-beats through the core's timers (the broker mirrors the client's wish by
  default); optional TLS (``ssl=``); STOMP over WebSocket on a second port
  (``ws_port=``, needs wsproto); ``Broker.protocol()`` serves any other asyncio
  transport (in-memory pairs in tests).
* A message whose headers the consumer's version cannot carry (a newline in a header
  sent with 1.2, delivered to a 1.0 consumer) fails that consumer with ERROR and stays in
  its queue.

Fault injection, for testing drivers (see :class:`Faults`)::

    with run_broker_in_thread(faults=Faults(close_after_frames=3)) as broker:
        broker.faults.stop_heartbeats = True           # flip switches at run time
        broker.add_fault_rule(FaultRule(login="flaky", faults=Faults(delay_frames=0.5)))
        broker.refuse_connections(2.0)                 # "connection refused" for 2 s
"""

from __future__ import annotations

from stomp_core import __version__ as __version__

from ._broker import Broker as Broker
from ._budget import Usage as Usage
from ._faults import MALFORMED_FRAME as MALFORMED_FRAME
from ._faults import FaultRule as FaultRule
from ._faults import Faults as Faults
from ._thread import RunningBroker as RunningBroker
from ._thread import run_broker_in_thread as run_broker_in_thread

__all__ = [
    "MALFORMED_FRAME",
    "Broker",
    "FaultRule",
    "Faults",
    "RunningBroker",
    "Usage",
    "__version__",
    "run_broker_in_thread",
]

"""stomp_trio: a STOMP 1.0/1.1/1.2 client for trio, built on the sans-IO ``stomp_core``.

::

    import stomp_trio

    async with stomp_trio.open_connection("stomp://localhost:61613") as client:
        async with client.subscribe("/queue/orders", ack="client-individual") as sub:
            await client.send("/queue/orders", "hello", receipt=True)
            async for message in sub:
                print(message.text)
                await message.ack()
                break

The connection's background work runs in a nursery owned by ``open_connection``;
heart-beats and timeouts come from the core, timed by ``trio.current_time()`` (so
``trio.testing.MockClock`` drives them).  The API is ``stomp_asyncio``'s (the same
classes of ``stomp_core.client`` underneath), but for two trio rules
(docs/async-clients.md):

* ``Subscription.get()`` takes no ``timeout``: bound it with a cancel scope
  (``with trio.fail_after(5): await sub.get()``), as trio's style (ASYNC109) asks.
* Leaving ``open_connection`` *by cancellation* closes the connection at once, without
  DISCONNECT: a cancelled scope stays cancelled, so a goodbye would need a shield that
  makes the caller's deadline late by up to ``disconnect_timeout`` (trio's cleanup rule,
  ``trio.abc.AsyncResource.aclose``, is to close promptly).  The broker redelivers what
  was not acknowledged.  Leaving normally or by an exception sends DISCONNECT and waits
  for its RECEIPT.
"""

from __future__ import annotations

from stomp_core import LocalProtocolError as LocalProtocolError
from stomp_core.client import AckMode as AckMode
from stomp_core.client import BrokerError as BrokerError
from stomp_core.client import ClientState as ClientState
from stomp_core.client import ConnectFailed as ConnectFailed
from stomp_core.client import ConnectionLost as ConnectionLost
from stomp_core.client import Endpoint as Endpoint
from stomp_core.client import ProtocolViolation as ProtocolViolation
from stomp_core.client import ReceiptTimeout as ReceiptTimeout
from stomp_core.client import ReconnectPolicy as ReconnectPolicy
from stomp_core.client import StateChange as StateChange
from stomp_core.client import StompError as StompError

from ._client import Client as Client
from ._observe import StateChanges as StateChanges
from ._options import open_connection as open_connection
from ._subscription import Message as Message
from ._subscription import Subscription as Subscription
from ._transaction import Transaction as Transaction
from ._transport import StreamFactory as StreamFactory

__all__ = [
    "AckMode",
    "BrokerError",
    "Client",
    "ClientState",
    "ConnectFailed",
    "ConnectionLost",
    "Endpoint",
    "LocalProtocolError",
    "Message",
    "ProtocolViolation",
    "ReceiptTimeout",
    "ReconnectPolicy",
    "StateChange",
    "StateChanges",
    "StompError",
    "StreamFactory",
    "Subscription",
    "Transaction",
    "open_connection",
]

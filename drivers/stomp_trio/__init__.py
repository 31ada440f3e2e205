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
classes of ``stomp_core.client`` underneath), but for two trio rules:

* ``Subscription.get()`` takes no ``timeout``: trio bounds waits with cancel scopes
  (``with trio.fail_after(5): await sub.get()``); a timeout parameter on an async
  function is what trio's style (and the ASYNC109 lint) rules out.
* Leaving ``open_connection`` *by cancellation* closes the connection at once, without
  DISCONNECT.  A trio cancellation is a state: every checkpoint in the cancelled scope
  raises again, so a goodbye would need a shield, and a shielded wait of up to
  ``disconnect_timeout`` would make the caller's deadline late by that much.  trio's
  contract for cleanup under cancellation (``trio.abc.AsyncResource.aclose``) is to close
  promptly; the broker treats the dropped connection like a DISCONNECT without receipt
  (unacknowledged messages are redelivered).  Leaving normally or by an exception still
  sends DISCONNECT and waits for its RECEIPT.
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

"""stomp_asyncio: a STOMP 1.0/1.1/1.2 client for asyncio over the sans-IO ``stomp_core``.

Example::

    import asyncio
    import stomp_asyncio

    async def main() -> None:
        async with stomp_asyncio.open_connection(
            "stomp://localhost:61613", login="guest", passcode="guest"
        ) as client:
            async with client.subscribe("/queue/demo", ack="client-individual") as sub:
                await client.send("/queue/demo", "hello", receipt=True)
                async for message in sub:
                    print(message.text)
                    await message.ack()
                    break

    asyncio.run(main())

The API has the same shape as ``stomp_trio``.  The clock is ``loop.time()``; heart-beats,
the CONNECTED wait and the DISCONNECT-receipt wait are the core's timers, re-armed with
``loop.call_at`` after every input.  Logging goes to the ``stomp_asyncio`` logger;
passcodes are never logged.
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
    "Subscription",
    "Transaction",
    "open_connection",
]

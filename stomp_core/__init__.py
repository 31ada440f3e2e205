"""stomp_core: a sans-IO implementation of STOMP 1.0, 1.1 and 1.2.

Bytes in, events out; events in, bytes out.  No sockets, threads, clocks or logging:
drivers (``stomp``, ``stomp_trio``, ``stomp_asyncio``, ``stomp_broker``) do the I/O and
pass the time in.  See :class:`Connection` for the call order.

Example (client role)::

    conn = Connection(CLIENT)
    conn.send(Connect(host="/", heart_beat=(10_000, 10_000)), now=t)
    transport.write(conn.data_to_send(now=t))
    conn.receive_data(chunk, now=t)
    while (event := conn.next_event()) is not NEED_DATA:
        handle(event)
"""

from __future__ import annotations

from ._config import Config as Config
from ._connection import CLIENT as CLIENT
from ._connection import NEED_DATA as NEED_DATA
from ._connection import SERVER as SERVER
from ._connection import Connection as Connection
from ._convert import event_headers as event_headers
from ._errors import LocalProtocolError as LocalProtocolError
from ._errors import ProtocolError as ProtocolError
from ._errors import RemoteProtocolError as RemoteProtocolError
from ._events import Abort as Abort
from ._events import Ack as Ack
from ._events import Begin as Begin
from ._events import Commit as Commit
from ._events import Connect as Connect
from ._events import Connected as Connected
from ._events import ConnectionClosed as ConnectionClosed
from ._events import ConnectTimeout as ConnectTimeout
from ._events import Disconnect as Disconnect
from ._events import DisconnectTimeout as DisconnectTimeout
from ._events import Error as Error
from ._events import Event as Event
from ._events import FrameEvent as FrameEvent
from ._events import HeartbeatReceived as HeartbeatReceived
from ._events import HeartbeatTimeout as HeartbeatTimeout
from ._events import IncompleteMessage as IncompleteMessage
from ._events import Message as Message
from ._events import Nack as Nack
from ._events import Receipt as Receipt
from ._events import Send as Send
from ._events import Subscribe as Subscribe
from ._events import Unsubscribe as Unsubscribe
from ._frame import Frame as Frame
from ._frame import Headers as Headers
from ._heartbeat import negotiate_heartbeats as negotiate_heartbeats
from ._limits import Limits as Limits
from ._metrics import Metrics as Metrics
from ._metrics import MetricsSnapshot as MetricsSnapshot
from ._state import Role as Role
from ._state import State as State
from ._version import __version__ as __version__
from ._versions import SUPPORTED_VERSIONS as SUPPORTED_VERSIONS

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs more
# than several of the modules above (issue 13: import time).
TYPE_CHECKING = False

# Reconnect policies, host lists and the session registry are for drivers that reconnect,
# the frame log for those that log frames; a program that only speaks STOMP should not
# pay for importing them (issue 13: import time), so they load on first use (PEP 562).
# Type checkers see ordinary imports.
if TYPE_CHECKING:
    from ._backoff import FOREVER as FOREVER
    from ._backoff import ReconnectBackoff as ReconnectBackoff
    from ._backoff import ReconnectSchedule as ReconnectSchedule
    from ._framelog import FrameLog as FrameLog
    from ._framelog import LoggedConnection as LoggedConnection
    from ._framelog import frame_log as frame_log
    from ._hosts import DEFAULT_HOST_AND_PORTS as DEFAULT_HOST_AND_PORTS
    from ._hosts import LOCALHOST_NAMES as LOCALHOST_NAMES
    from ._hosts import LOOPBACK_ADDRESS as LOOPBACK_ADDRESS
    from ._hosts import candidate_hosts as candidate_hosts
    from ._hosts import is_local_host as is_local_host
    from ._registry import SessionRegistry as SessionRegistry
else:
    _LAZY = {
        "FrameLog": "_framelog",
        "LoggedConnection": "_framelog",
        "frame_log": "_framelog",
        "FOREVER": "_backoff",
        "ReconnectBackoff": "_backoff",
        "ReconnectSchedule": "_backoff",
        "DEFAULT_HOST_AND_PORTS": "_hosts",
        "LOCALHOST_NAMES": "_hosts",
        "LOOPBACK_ADDRESS": "_hosts",
        "candidate_hosts": "_hosts",
        "is_local_host": "_hosts",
        "SessionRegistry": "_registry",
    }

    def __getattr__(name: str) -> object:
        module_name = _LAZY.get(name)
        if module_name is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        module = __import__(f"{__name__}.{module_name}", fromlist=[name])
        value = getattr(module, name)
        globals()[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CLIENT",
    "DEFAULT_HOST_AND_PORTS",
    "FOREVER",
    "LOCALHOST_NAMES",
    "LOOPBACK_ADDRESS",
    "NEED_DATA",
    "SERVER",
    "SUPPORTED_VERSIONS",
    "Abort",
    "Ack",
    "Begin",
    "Commit",
    "Config",
    "Connect",
    "ConnectTimeout",
    "Connected",
    "Connection",
    "ConnectionClosed",
    "Disconnect",
    "DisconnectTimeout",
    "Error",
    "Event",
    "Frame",
    "FrameEvent",
    "FrameLog",
    "Headers",
    "HeartbeatReceived",
    "HeartbeatTimeout",
    "IncompleteMessage",
    "Limits",
    "LocalProtocolError",
    "LoggedConnection",
    "Message",
    "Metrics",
    "MetricsSnapshot",
    "Nack",
    "ProtocolError",
    "Receipt",
    "ReconnectBackoff",
    "ReconnectSchedule",
    "RemoteProtocolError",
    "Role",
    "Send",
    "SessionRegistry",
    "State",
    "Subscribe",
    "Unsubscribe",
    "__version__",
    "candidate_hosts",
    "event_headers",
    "frame_log",
    "is_local_host",
    "negotiate_heartbeats",
]

"""Adapters: other transports under the same connection API.

* :mod:`stomp.adapter.ws`: STOMP over WebSocket (needs ``wsproto``:
  ``pip install 'stomp-sansio[websocket]'``).
"""

from __future__ import annotations

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs about
# 10 ms over a bare interpreter (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["multicast", "ws"]


def __getattr__(name: str) -> Any:
    # stomp.py imported both adapters with the package; importing them on first use
    # keeps ``import stomp`` cheap (and ws needs no wsproto until a connection is made).
    if name in __all__:
        # importlib (with the warnings module it loads) only when an adapter is asked
        # for (issue 13: import time).
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Adapters: other transports under the same connection API.

* :mod:`stomp.adapter.ws`: STOMP over WebSocket (needs ``wsproto``:
  ``pip install 'stomp-sansio[websocket]'``).
"""

from __future__ import annotations

__all__: list[str] = []

"""The read-only view of a received MESSAGE that the async drivers hand to users.

Both ``stomp_asyncio.Message`` and ``stomp_trio.Message`` derive from
:class:`ReceivedMessage` and add only what needs their I/O (``ack``, ``nack``, whether the
message came on the live connection).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .._events import Message
from ._bodies import decode_text
from ._frames import message_headers

__all__ = ["ReceivedMessage"]


class ReceivedMessage:
    """A MESSAGE as an application reads it.

    Attributes:
        event: the core's :class:`~stomp_core.Message` event (every header, typed).
    """

    __slots__ = ("_headers", "event")

    def __init__(self, event: Message) -> None:
        self._headers: Mapping[str, str] | None = None
        self.event = event

    @property
    def body(self) -> bytes:
        """The body octets."""
        return self.event.body

    @property
    def text(self) -> str:
        """The body decoded by its content type's charset, UTF-8 without one (conformance 38).

        Raises:
            UnicodeDecodeError: the body is not text in that charset.
            ValueError: the charset is unknown.
        """
        return decode_text(self.event.body, self.event.content_type)

    @property
    def headers(self) -> Mapping[str, str]:
        """Every header, read-only; the first occurrence wins (spec 1.2 "Repeated Header
        Entries")."""
        if self._headers is None:
            self._headers = MappingProxyType(message_headers(self.event))
        return self._headers

    @property
    def destination(self) -> str:
        """Where the message was sent (``destination``)."""
        return self.event.destination

    @property
    def message_id(self) -> str:
        """The broker's id of the message (``message-id``)."""
        return self.event.message_id

    @property
    def content_type(self) -> str | None:
        """The MIME type of the body (``content-type``), if the broker gave one."""
        return self.event.content_type

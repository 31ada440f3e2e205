"""The raw frame: a command, headers in wire order, and a body.

Events (``_events.py``) are the typed view; :class:`Frame` is what the parser produces
and the serializer consumes, and what a user may send for extension commands
(conformance item 85).  Headers are a tuple of ``(name, value)`` pairs so that wire
order and repeated names survive (spec 1.2 "Repeated Header Entries": the first
occurrence is the value, and all of them stay visible).
"""

from __future__ import annotations

# collections.abc's Mapping from the module that defines it: importing collections.abc
# would import the whole collections package (issue 13: import time).
from _collections_abc import Mapping

from ._errors import LocalProtocolError
from ._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Frame", "Headers", "get_header", "normalize_headers"]

#: Headers in wire order; repeats allowed.
Headers = tuple[tuple[str, str], ...]

if TYPE_CHECKING:
    # What callers may pass as headers: a mapping or an iterable of pairs.
    HeadersInput = Mapping[str, str] | Iterable[tuple[str, str]] | None


def normalize_headers(headers: HeadersInput) -> Headers:
    """Turn a mapping or an iterable of pairs into :data:`Headers`, checking types."""
    if headers is None:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    result = []
    for item in items:
        try:
            name, value = item
        except (TypeError, ValueError):
            raise LocalProtocolError(
                f"a header must be a (name, value) pair, got {item!r}"
            ) from None
        if not isinstance(name, str) or not isinstance(value, str):
            raise LocalProtocolError(
                f"header names and values must be str, got {name!r}: {value!r}"
            )
        result.append((name, value))
    return tuple(result)


def get_header(headers: Headers, name: str, default: str | None = None) -> str | None:
    """The value of the first occurrence of ``name`` (spec 1.2 "Repeated Header Entries")."""
    for key, value in headers:
        if key == name:
            return value
    return default


class Frame(Record):
    """A raw STOMP frame.

    Args:
        command: the command line, e.g. ``"SEND"``; case-sensitive (spec 1.2 "Frames").
        headers: ``(name, value)`` pairs in wire order, repeats allowed, already unescaped.
        body: the body octets.
    """

    __slots__ = ("body", "command", "headers")
    __match_args__ = ("command", "headers", "body")

    command: str
    headers: Headers
    body: bytes

    def __init__(self, command: str, headers: Headers = (), body: bytes = b"") -> None:
        set_field = object.__setattr__
        set_field(self, "command", command)
        set_field(self, "headers", headers)
        set_field(self, "body", body)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of the first header called ``name``, or ``default``."""
        return get_header(self.headers, name, default)

    def get_all(self, name: str) -> list[str]:
        """Every value of the headers called ``name``, in wire order."""
        return [value for key, value in self.headers if key == name]

"""A byte cursor: turns a fuzz input into a program of small choices.

libFuzzer mutates bytes; the harnesses read those bytes as a program (a mode byte,
lengths, choices).  Reading past the end yields zeros instead of failing, so every
input is a valid program and a truncated input is just a shorter one.  The layout is
our own (not ``atheris.FuzzedDataProvider``) so that the seed corpus can be written by
hand in ``make_corpus.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

__all__ = ["Cursor"]

_T = TypeVar("_T")


class Cursor:
    """Read small integers, choices and byte strings from ``data``, front to back."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        """How many bytes are left."""
        return len(self._data) - self._pos

    def u8(self) -> int:
        """The next byte, or 0 past the end."""
        if self._pos >= len(self._data):
            return 0
        value = self._data[self._pos]
        self._pos += 1
        return value

    def u16(self) -> int:
        """The next two bytes, big-endian."""
        return self.u8() << 8 | self.u8()

    def flag(self) -> bool:
        """One byte read as a boolean (odd = true)."""
        return bool(self.u8() & 1)

    def choice(self, options: Sequence[_T]) -> _T:
        """One of ``options``, picked by the next byte."""
        return options[self.u8() % len(options)]

    def take(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer at the end)."""
        chunk = self._data[self._pos : self._pos + n]
        self._pos += len(chunk)
        return chunk

    def blob(self) -> bytes:
        """A length byte then that many bytes."""
        return self.take(self.u8())

    def text(self) -> str:
        """A length-prefixed UTF-8 string; invalid sequences become U+FFFD."""
        return self.blob().decode("utf-8", "replace")

    def rest(self) -> bytes:
        """Every byte left."""
        chunk = self._data[self._pos :]
        self._pos = len(self._data)
        return chunk

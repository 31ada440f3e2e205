"""What waits for a consumer: :class:`Backlog`, the buffer of a subscription (bounded,
back-pressure) or of a state observer (bounded, the oldest dropped).

The drivers add only the wake-up (an ``asyncio`` future, a ``trio`` event): whether an
item is there, whether the iteration has ended and with which error, is decided here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = ["Backlog"]

T = TypeVar("T")


class Backlog(Generic[T]):
    """A FIFO of items for one consumer, which can end (cleanly or with an error).

    Args:
        capacity: the bound.  A subscription's buffer never exceeds it: the driver stops
            reading from the broker when it is :attr:`full` (back-pressure).
        drop_oldest: instead, let :meth:`put` drop the oldest item at the bound (state
            observers: a stalled observer loses the oldest changes, never the client).

    Items already in the backlog stay readable after :meth:`end`; the iteration ends once
    they are taken.
    """

    __slots__ = ("_capacity", "_ended", "_error", "_items")

    def __init__(self, capacity: int, *, drop_oldest: bool = False) -> None:
        self._capacity = capacity
        self._items: deque[T] = deque(maxlen=capacity if drop_oldest else None)
        self._ended = False
        self._error: BaseException | None = None

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        """The waiting items, oldest first, without taking them."""
        return iter(self._items)

    @property
    def capacity(self) -> int:
        """The bound."""
        return self._capacity

    @property
    def full(self) -> bool:
        """Whether the backlog holds ``capacity`` items."""
        return len(self._items) >= self._capacity

    @property
    def ended(self) -> bool:
        """Whether :meth:`end` was called (items may still wait)."""
        return self._ended

    def put(self, item: T) -> None:
        """Add ``item`` (past the bound too, unless ``drop_oldest``); ignored once ended."""
        if not self._ended:
            self._items.append(item)

    def offer(self, item: T) -> bool:
        """Add ``item`` unless full; ``False`` means: hold it back and stop reading.  Once
        ended, the item is dropped (nobody will read it) and ``True`` is returned."""
        if self._ended:
            return True
        if self.full:
            return False
        self._items.append(item)
        return True

    def end(self, error: BaseException | None = None) -> None:
        """No more items will come; with ``error``, the iteration raises it at its end
        (the first error given wins)."""
        self._ended = True
        if error is not None and self._error is None:
            self._error = error

    def poll(self) -> T | None:
        """The next item, or ``None`` if the consumer must wait.

        Raises:
            BaseException: the error given to :meth:`end`, once the items are taken.
            StopAsyncIteration: the backlog ended cleanly and is empty.
        """
        if self._items:
            return self._items.popleft()
        if self._error is not None:
            raise self._error
        if self._ended:
            raise StopAsyncIteration
        return None

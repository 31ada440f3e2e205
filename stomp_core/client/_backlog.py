"""What waits for a consumer: :class:`Backlog`, the buffer of a subscription (bounded,
back-pressure) or of a state observer (bounded, the oldest dropped).

The drivers add only the wake-up (an ``asyncio`` future, a ``trio`` event): whether an
item is there, whether the iteration has ended and with which error, is decided here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
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
        max_bytes: a second bound, in bytes as counted by ``size``: the backlog is also
            :attr:`full` once it holds that many.  A count alone lets a few huge bodies
            (30 x 16 MiB to an idle consumer) grow the client by hundreds of MiB.  An
            item is still accepted into an empty backlog whatever its size, so a body
            larger than the bound never deadlocks the subscription: the backlog holds
            at most ``max_bytes`` plus one item.
        size: the size of an item in bytes (e.g. a MESSAGE's body); required with
            ``max_bytes``.

    Items already in the backlog stay readable after :meth:`end`; the iteration ends once
    they are taken.
    """

    __slots__ = (
        "_blocked",
        "_bytes",
        "_capacity",
        "_ended",
        "_error",
        "_items",
        "_max_bytes",
        "_size",
    )

    def __init__(
        self,
        capacity: int,
        *,
        drop_oldest: bool = False,
        max_bytes: int | None = None,
        size: Callable[[T], int] | None = None,
    ) -> None:
        if (max_bytes is None) != (size is None):
            raise ValueError("max_bytes and size go together")
        if max_bytes is not None and drop_oldest:
            raise ValueError("a byte bound applies to back-pressure, not drop_oldest")
        self._capacity = capacity
        self._items: deque[T] = deque(maxlen=capacity if drop_oldest else None)
        self._ended = False
        self._error: BaseException | None = None
        self._max_bytes = max_bytes
        self._size = size
        self._bytes = 0
        self._blocked = False

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
    def max_bytes(self) -> int | None:
        """The byte bound, or ``None``."""
        return self._max_bytes

    @property
    def bytes(self) -> int:
        """The bytes held, as counted by ``size`` (0 without a byte bound)."""
        return self._bytes

    @property
    def full(self) -> bool:
        """Whether the backlog holds ``capacity`` items or ``max_bytes`` bytes."""
        if len(self._items) >= self._capacity:
            return True
        return self._max_bytes is not None and self._bytes >= self._max_bytes

    def _append(self, item: T) -> None:
        if self._size is not None:
            self._bytes += self._size(item)
        self._items.append(item)

    @property
    def ended(self) -> bool:
        """Whether :meth:`end` was called (items may still wait)."""
        return self._ended

    def put(self, item: T) -> None:
        """Add ``item`` (past the bound too, unless ``drop_oldest``); ignored once ended.
        Filling the backlog blocks it (see :meth:`unblocked`)."""
        if not self._ended:
            self._append(item)
            if self._items.maxlen is None and self.full:
                self._blocked = True

    def offer(self, item: T) -> bool:
        """Add ``item`` unless full; ``False`` means: hold it back and stop reading (the
        backlog is blocked until :meth:`unblocked`).  Once ended, the item is dropped
        (nobody will read it) and ``True`` is returned."""
        if self._ended:
            return True
        if self.full:
            self._blocked = True
            return False
        self._append(item)
        return True

    def add(self, item: T) -> bool | None:
        """:meth:`put` unless full, in one call (a read's batch of messages,
        ``ClientBase._deliver_ready``).

        Returns:
            ``None``: full, nothing added (nothing blocked either: the caller's general
            path decides); ``True``: added, and that filled the backlog (blocked, as by
            :meth:`put`); ``False``: added (or dropped, once ended), room remains.
        """
        if self._ended:
            return False
        items = self._items
        max_bytes = self._max_bytes
        if len(items) >= self._capacity or (max_bytes is not None and self._bytes >= max_bytes):
            return None
        if self._size is not None:
            self._bytes += self._size(item)
        items.append(item)
        if len(items) >= self._capacity or (max_bytes is not None and self._bytes >= max_bytes):
            self._blocked = True
            return True
        return False

    def unblocked(self) -> bool:
        """Whether the consumer has drained a blocked backlog to half its bounds: then
        ``True`` once, and the producer may go on (deliver what it held, read again).

        Half, not one free slot: resuming at the first free slot would stop and start
        the reader once per message while a consumer is slower than the broker.
        """
        if not self._blocked or len(self._items) > self._capacity // 2:
            return False
        if self._max_bytes is not None and self._bytes > self._max_bytes // 2:
            return False
        self._blocked = False
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
            item = self._items.popleft()
            if self._size is not None:
                self._bytes -= self._size(item)
            return item
        if self._error is not None:
            raise self._error
        if self._ended:
            raise StopAsyncIteration
        return None

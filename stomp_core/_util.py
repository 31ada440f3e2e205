"""Small shared helpers: sentinels."""

from __future__ import annotations

# A name TYPE_CHECKING is true for type checkers; importing typing for it costs more
# than the rest of this module (issue 13: import time).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Sentinel"]


class Sentinel(type):
    """Metaclass for sentinels: ``class NEED_DATA(Sentinel, metaclass=Sentinel)``.

    A sentinel is its own type, so ``type(x) is NEED_DATA`` and ``x is NEED_DATA`` both
    work and type checkers can narrow on it (the h11 trick).
    """

    def __new__(
        cls: type[Sentinel], name: str, bases: tuple[type, ...], namespace: dict[str, Any]
    ) -> Sentinel:
        assert bases == (Sentinel,)
        v = super().__new__(cls, name, bases, namespace)
        v.__class__ = v  # type: ignore[assignment]
        return v

    def __repr__(self) -> str:
        return self.__name__

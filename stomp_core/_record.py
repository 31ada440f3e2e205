"""Immutable records that behave as frozen, slotted dataclasses, without ``dataclasses``.

Events, frames and settings were frozen dataclasses.  Importing ``dataclasses`` (with the
``inspect``, ``ast``, ``dis`` and ``tokenize`` it pulls in) and running the decorator,
which compiles an ``__init__``, ``__setattr__``, ``__delattr__``, ``__eq__``, ``__hash__``
and ``__repr__`` per class and builds each slotted class twice, was most of
``import stomp_core`` (issue 13: the target is 10 ms).  A :class:`Record` subclass writes
its ``__init__`` out and declares its fields in ``__slots__``; everything else is written
once here.

What users of the dataclasses could rely on still holds: keyword-only (or positional)
construction with defaults, equality and hashing over the fields, the dataclass
``repr``, :class:`dataclasses.FrozenInstanceError` on assignment, and
``dataclasses.fields``, ``replace`` and ``asdict``: ``__dataclass_fields__`` is built by
the ``dataclasses`` module itself the first time something asks for it.
"""

from __future__ import annotations

# A name ``TYPE_CHECKING`` is true for type checkers; importing ``typing`` for it would
# cost what this module saves.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import Field
    from typing import Any, ClassVar, TypeVar

    _R = TypeVar("_R", bound="Record")

__all__ = ["Record", "field_names", "replace"]

_NAMES: dict[type, tuple[str, ...]] = {}
_COMPARED: dict[type, tuple[str, ...]] = {}
_SHOWN: dict[type, tuple[str, ...]] = {}
_SHADOWS: dict[type, type] = {}


def field_names(cls: type) -> tuple[str, ...]:
    """The fields of a :class:`Record` class in dataclass order: base classes' first.

    A class's own fields are its ``__slots__``, in the order its body annotates them
    (``__slots__`` itself is kept sorted); a slot without an annotation comes last.
    """
    names = _NAMES.get(cls)
    if names is None:
        found: list[str] = []
        for klass in reversed(cls.__mro__):
            slots = klass.__dict__.get("__slots__", ())
            # Not inspect.get_annotations: importing inspect is what this module avoids.
            annotated = klass.__dict__.get("__annotations__", {})  # noqa: RUF063
            found.extend(name for name in annotated if name in slots)
            found.extend(name for name in slots if name not in annotated)
        names = _NAMES[cls] = tuple(found)
    return names


def _fields_except(
    cache: dict[type, tuple[str, ...]], cls: type, hidden: tuple[str, ...]
) -> tuple[str, ...]:
    names = cache.get(cls)
    if names is None:
        names = cache[cls] = tuple(n for n in field_names(cls) if n not in hidden)
    return names


def _compared(cls: type[Record]) -> tuple[str, ...]:
    # The fields __eq__ and __hash__ use (a dataclass field with compare=False is left out).
    return _fields_except(_COMPARED, cls, cls._not_compared)


def _shown(cls: type[Record]) -> tuple[str, ...]:
    # The fields __repr__ shows (a dataclass field with repr=False is left out).
    return _fields_except(_SHOWN, cls, cls._not_shown)


def _frozen_error(name: str) -> Exception:
    from dataclasses import FrozenInstanceError  # only when someone tries to assign

    return FrozenInstanceError(f"cannot assign to field {name!r}")


class _FromDataclasses:
    # ``cls.__dataclass_fields__`` and ``cls.__dataclass_params__``: what
    # ``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass`` read, and what
    # ``@dataclass`` reads on the base classes of an application's subclass.  Taken on
    # first access from a dataclass that ``dataclasses.make_dataclass`` builds over the
    # same names, annotations, defaults and repr/compare flags, so that they are the
    # module's own objects, right for the running Python version.

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, instance: object, owner: type[Record]) -> Any:
        shadow = _SHADOWS.get(owner)
        if shadow is None:
            shadow = _SHADOWS[owner] = _make_shadow(owner)
        return getattr(shadow, self.attribute)


def _make_shadow(cls: type[Record]) -> type:
    import dataclasses
    import inspect

    annotations: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        annotations.update(inspect.get_annotations(klass))
    names = field_names(cls)
    parameters = inspect.signature(cls).parameters if names else {}
    specs = []
    for name in names:
        default = parameters[name].default
        spec = dataclasses.field(
            default=dataclasses.MISSING if default is inspect.Parameter.empty else default,
            repr=name not in cls._not_shown,
            compare=name not in cls._not_compared,
        )
        specs.append((name, annotations[name], spec))
    return dataclasses.make_dataclass(
        cls.__name__, specs, frozen=True, kw_only=not cls.__match_args__
    )


def replace(record: _R, **changes: Any) -> _R:
    """``dataclasses.replace`` for a :class:`Record`, without importing ``dataclasses``
    unless ``record`` is of an application's ``@dataclass`` subclass (whose own fields
    only ``dataclasses`` knows).
    """
    cls = record.__class__
    if "__dataclass_fields__" in cls.__dict__:
        import dataclasses

        return dataclasses.replace(record, **changes)
    values = {name: getattr(record, name) for name in field_names(cls)}
    values.update(changes)
    return cls(**values)


class Record:
    """Base class of the core's immutable records (see the module docstring).

    A subclass annotates its own fields in its body (their order is the dataclass field
    order) and lists them in ``__slots__``, sets them in an explicit ``__init__`` through
    ``object.__setattr__`` (or the slot descriptors), and may name fields left out of the
    repr (``_not_shown``) or of equality (``_not_compared``).  A positional record sets
    ``__match_args__`` to its fields; keyword-only records leave it empty.
    """

    __slots__ = ()

    #: Keyword-only records match by keyword only, as kw_only dataclasses do.
    __match_args__: ClassVar[tuple[str, ...]] = ()
    _not_shown: ClassVar[tuple[str, ...]] = ()
    _not_compared: ClassVar[tuple[str, ...]] = ()

    if TYPE_CHECKING:
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    else:
        __dataclass_fields__ = _FromDataclasses("__dataclass_fields__")
        __dataclass_params__ = _FromDataclasses("__dataclass_params__")

    def __setattr__(self, name: str, value: object) -> None:
        raise _frozen_error(name)

    def __delattr__(self, name: str) -> None:
        raise _frozen_error(name)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = _compared(self.__class__)
        return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in _compared(self.__class__)))

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in _shown(self.__class__))
        return f"{self.__class__.__qualname__}({shown})"

    # copy and pickle: the default would restore the slots with setattr, which is frozen.
    def __getstate__(self) -> tuple[object, ...]:
        return tuple(getattr(self, n) for n in field_names(self.__class__))

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(field_names(self.__class__), state, strict=True):
            object.__setattr__(self, name, value)

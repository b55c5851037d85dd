"""Records: classes declared as frozen, slotted dataclasses are, built without `dataclasses`.

`@record` makes what `@dataclass(frozen=True, slots=True)` makes: an `__init__` taking the
annotated fields in order (defaults, `field(default_factory=...)`, `field(init=False)`,
`__post_init__`), `__slots__`, field-wise `__eq__` and `__hash__`, a `__repr__`,
`__match_args__`, and assignment refused with `FrozenInstanceError`. Type checkers see a
frozen dataclass (PEP 681), and so does `dataclasses` when asked (`fields`, `replace`,
`asdict`: it is imported then).

Why not `dataclasses`: importing it imports `inspect` (and `ast`, `dis`, `tokenize`), and each
class it builds compiles six methods. On the processes every agent hook starts (`emit`, `wait`),
that was about a third of all the work: 46M instructions to import it and 3.5M per class,
against 0.2M per class here (one compiled `__init__`; the other methods are shared closures).
"""

from __future__ import annotations

from operator import attrgetter

# typing is left out at run time: every `waitbus emit` pays for each module it imports.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
else:
    def dataclass_transform(**_options: object) -> object:
        return lambda function: function


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record (as dataclasses' error of the same name)."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Field:
    """How one field is built, compared and shown; made by `field()`."""

    __slots__ = ("compare", "default", "default_factory", "init", "repr")

    def __init__(self, default: object, default_factory: Callable[[], object] | None,
                 init: bool, repr: bool, compare: bool) -> None:
        if default is not MISSING and default_factory is not None:
            msg = "give a field a default or a default_factory, not both"
            raise ValueError(msg)
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | None = None,
          init: bool = True, repr: bool = True, compare: bool = True) -> Any:
    """A field's default, factory, and whether `__init__`, `__repr__` and `__eq__` use it."""
    return Field(default, default_factory, init, repr, compare)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T], /) -> type[T]:
    """Build a record from a class with annotated fields (see the module's docstring)."""
    built: type[T] = _build(cls)
    return built


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the record `obj` with `changes` (as `dataclasses.replace`)."""
    fields: dict[str, Field] = type(obj).__record_fields__  # type: ignore[attr-defined]
    for name, spec in fields.items():
        if name in changes and not spec.init:
            msg = f"field {name} is not set through __init__: replace() cannot change it"
            raise ValueError(msg)
        if spec.init and name not in changes:
            changes[name] = getattr(obj, name)
    return type(obj)(**changes)


def _build(cls: type) -> type:
    body = dict(cls.__dict__)
    fields: dict[str, Field] = {}
    for name, annotation in body.get("__annotations__", {}).items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        given = body.pop(name, MISSING)
        fields[name] = given if isinstance(given, Field) else Field(given, None, True, True,
                                                                     True)
    if any(hasattr(base, "__record_fields__") for base in cls.__mro__[1:]):
        msg = f"{cls.__qualname__}: a record cannot extend another record"
        raise TypeError(msg)
    body.pop("__dict__", None)
    body.pop("__weakref__", None)
    body["__slots__"] = tuple(fields)
    body["__record_fields__"] = fields
    body["__dataclass_fields__"] = _DataclassFields()
    body["__match_args__"] = tuple(name for name, spec in fields.items() if spec.init)
    body["__init__"] = _init(cls, fields, post_init="__post_init__" in body)
    shown = [name for name, spec in fields.items() if spec.repr]
    body.setdefault("__repr__", _repr(shown))
    compared = [name for name, spec in fields.items() if spec.compare]
    key = _key(compared)
    body.setdefault("__eq__", _eq(key))
    body.setdefault("__hash__", lambda self: hash(key(self)))
    body["__setattr__"] = _refuse_set
    body["__delattr__"] = _refuse_delete
    body["__getstate__"] = _getstate
    body["__setstate__"] = _setstate
    built: type = type(cls)(cls.__name__, cls.__bases__, body)
    built.__qualname__ = cls.__qualname__
    return built


class _DataclassFields:
    """`__dataclass_fields__`, built on first use, so `dataclasses.fields`, `replace`, `asdict`
    and `is_dataclass` take a record for the dataclass it is declared as."""

    def __get__(self, obj: object, cls: type) -> dict[str, object]:
        import dataclasses

        out: dict[str, object] = {}
        for name, spec in cls.__record_fields__.items():  # type: ignore[attr-defined]
            made: Any = dataclasses.field(
                default=dataclasses.MISSING if spec.default is MISSING else spec.default,
                default_factory=spec.default_factory or dataclasses.MISSING,
                init=spec.init, repr=spec.repr, compare=spec.compare)
            made.name, made.type = name, cls.__annotations__[name]
            made._field_type = getattr(dataclasses, "_FIELD")  # noqa: B009 - private, as fields() reads it
            out[name] = made
        type.__setattr__(cls, "__dataclass_fields__", out)  # built once per class
        return out


def _init(cls: type, fields: dict[str, Field], *, post_init: bool) -> Callable[..., None]:
    """`__init__`, compiled: set each field as the constructor of a dataclass does."""
    scope: dict[str, object] = {"MISSING": MISSING, "_set": object.__setattr__}
    params: list[str] = []
    lines: list[str] = []
    for name, spec in fields.items():
        value = name
        if spec.default_factory is not None:
            scope[f"_factory_{name}"] = spec.default_factory
            if spec.init:
                params.append(f"{name}=MISSING")
                value = f"_factory_{name}() if {name} is MISSING else {name}"
            else:
                value = f"_factory_{name}()"
        elif spec.default is not MISSING:
            scope[f"_default_{name}"] = spec.default
            if spec.init:
                params.append(f"{name}=_default_{name}")
            else:
                value = f"_default_{name}"
        elif spec.init:
            if params and "=" in params[-1]:
                msg = f"{cls.__qualname__}: field {name} without a default follows one with one"
                raise TypeError(msg)
            params.append(name)
        else:
            continue  # init=False and no default: left unset, as dataclasses leaves it
        lines.append(f"    _set(self, {name!r}, {value})")
    if post_init:
        lines.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(lines or ["    pass"])
    exec(compile(source, f"<record {cls.__qualname__}>", "exec"), scope)  # noqa: S102
    init: Callable[..., None] = scope["__init__"]  # type: ignore[assignment]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _key(names: list[str]) -> Callable[[object], tuple[object, ...]]:
    """The compared fields of a record, as a tuple."""
    if not names:
        return lambda _obj: ()
    get = attrgetter(*names)
    if len(names) == 1:
        return lambda obj: (get(obj),)
    return get


def _eq(key: Callable[[object], tuple[object, ...]]) -> Callable[[object, object], object]:
    def __eq__(self: object, other: object) -> object:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) == key(other)
    return __eq__


def _repr(names: list[str]) -> Callable[[object], str]:
    def __repr__(self: object) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({shown})"
    return __repr__


def _getstate(self: object) -> tuple[object, ...]:
    return tuple(getattr(self, name) for name in type(self).__record_fields__)  # type: ignore[attr-defined]


def _setstate(self: object, state: tuple[object, ...]) -> None:
    """Unpickle (pickle cannot assign to a frozen record's slots itself)."""
    for name, value in zip(type(self).__record_fields__, state, strict=True):  # type: ignore[attr-defined]
        object.__setattr__(self, name, value)


def _refuse_set(self: object, name: str, _value: object) -> None:
    msg = f"cannot assign to field {name!r}"
    raise FrozenInstanceError(msg)


def _refuse_delete(self: object, name: str) -> None:
    msg = f"cannot delete field {name!r}"
    raise FrozenInstanceError(msg)

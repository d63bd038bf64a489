"""Python annotations -> TypeRef, one field at a time, errors collected not raised."""

from __future__ import annotations

import enum
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, ForwardRef

from fraiseql.errors import DefinitionError
from fraiseql.schema.definitions import (
    KNOWN_CLASSES,
    EnumDefinition,
    FieldOptions,
    TypeDefinition,
    definition_of,
    location_of,
)
from fraiseql.schema.model import TypeRef
from fraiseql.schema.scalars import SCALARS

_SUPPORTED = ("str, int, float, bool, ID, UUID, datetime, date, time, Decimal, JSON, "
              "IPAddress, CIDR, MacAddress, LTree, DateRange, TSVector, Vector")


class AnnotationError(Exception):
    """An annotation that cannot become a GraphQL type; message and fix."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


def evaluate(annotation: Any, namespace: dict[str, Any]) -> Any:
    """Evaluate a string or ForwardRef annotation against the declaring module."""
    if isinstance(annotation, ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        try:
            # The declaring module wins; other modules' classes are only a fallback.
            return eval(annotation, {**KNOWN_CLASSES, **namespace})  # noqa: S307
        except NameError as exc:
            missing = getattr(exc, "name", None) or str(exc)
            raise AnnotationError(
                f"the name {missing!r} in annotation {annotation!r} is not defined",
                f"declare or import {missing} (a @fraiseql.type class) in that module") from None
    return annotation


def to_ref(annotation: Any, namespace: dict[str, Any], nullable: bool = False) -> TypeRef:
    """Resolve one annotation; raises AnnotationError with a suggested fix."""
    annotation = evaluate(annotation, namespace)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            names = " | ".join(getattr(m, "__name__", str(m)) for m in members)
            raise AnnotationError(f"the union {names} is not supported here",
                                  "use one type, optionally `| None`")
        return to_ref(members[0], namespace, nullable=len(members) < len(typing.get_args(annotation)))
    if origin in (list, typing.List, typing.Sequence):  # noqa: UP006
        (item,) = typing.get_args(annotation) or (None,)
        if item is None:
            raise AnnotationError("a bare list has no item type", "write list[ItemType]")
        return TypeRef("list", nullable, of=to_ref(item, namespace))
    if annotation in SCALARS:
        info = SCALARS[annotation]
        return TypeRef("scalar", nullable, info.graphql.name, scalar=info, python=annotation)
    definition = definition_of(annotation) if inspect.isclass(annotation) else None
    if isinstance(definition, EnumDefinition):
        return TypeRef("enum", nullable, definition.name, python=annotation)
    if isinstance(definition, TypeDefinition):
        kind = "object" if definition.kind == "type" else definition.kind
        return TypeRef(kind, nullable, definition.name, python=annotation)
    name = getattr(annotation, "__name__", repr(annotation))
    if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
        raise AnnotationError(f"enum {name} is not declared", f"decorate {name} with @fraiseql.enum")
    if inspect.isclass(annotation):
        raise AnnotationError(f"{name} is not a GraphQL type",
                              f"decorate {name} with @fraiseql.type, or use one of: {_SUPPORTED}")
    raise AnnotationError(f"{annotation!r} is not a supported annotation", f"use one of: {_SUPPORTED}")


def class_fields(cls: type) -> list[tuple[str, Any, Any]]:
    """(name, raw annotation, class default) for every public annotated field, bases first."""
    seen: dict[str, tuple[str, Any, Any]] = {}
    for klass in reversed(cls.__mro__):
        for name, annotation in klass.__dict__.get("__annotations__", {}).items():
            if name.startswith("_") or "ClassVar" in str(annotation):
                continue
            seen[name] = (name, annotation, klass.__dict__.get(name, inspect.Parameter.empty))
    return list(seen.values())


def field_default(raw: Any) -> tuple[FieldOptions, bool, Any]:
    """Split a class attribute into (options, has_default, default)."""
    from fraiseql.schema.definitions import UNSET
    if isinstance(raw, FieldOptions):
        options = raw
    else:
        options = FieldOptions(default=UNSET if raw is inspect.Parameter.empty else raw)
    return options, options.default is not UNSET, options.default


def definition_error(owner: Any, what: str, exc: AnnotationError,
                     field: str | None = None) -> DefinitionError:
    """A DefinitionError pointing at the owner's (or its field's) file and line."""
    return DefinitionError(f"{what}: {exc.message}", where=location_of(owner, field),
                           fix=exc.fix)


Collector = Callable[[DefinitionError], None]

"""Typed checks for values read from user files: settings YAML, checkpoint configs, manifests.

One rule everywhere: a value is checked against the type its schema declares (a dataclass field,
a constructor's annotation, a manifest field) *before* anything uses it, and a mismatch is a
:class:`~dynapose.errors.DynaPoseError` naming the file, the key, the expected and the found
type. Numbers must be finite; ``bool`` is not accepted where a number is expected (YAML reads
``yes`` as true), nor a number where a bool is.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Mapping
from typing import Any, Union

from dynapose.errors import DynaPoseError

Source = str | os.PathLike[str] | None


def describe(value: Any) -> str:
    """A short description of a found value for error messages: its type and (short) repr."""
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{type(value).__name__} {shown}"


def type_name(tp: Any) -> str:
    """A readable name of a type annotation (int, float, list of str, ...)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(a) for a in args if a is not type(None)) + (
            " or null" if type(None) in args else "")
    if origin in (list, tuple):
        inner = [a for a in args if a is not Ellipsis]
        return f"a list of {_plural(type_name(inner[0]))}" if inner else "a list"
    if origin in (dict, Mapping):
        return "a mapping"
    if tp is Any:
        return "any value"
    if tp is float:
        return "a number"
    if tp is int:
        return "an integer"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    return getattr(tp, "__name__", str(tp))


def _plural(name: str) -> str:
    words = {"an integer": "integers", "a number": "numbers", "a string": "strings",
             "true or false": "booleans", "a mapping": "mappings"}
    return words.get(name, name)


def matches(value: Any, tp: Any) -> bool:
    """Whether `value` (as parsed from JSON/YAML) fits the annotation `tp`."""
    if tp is Any:
        return True
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return any(matches(value, a) for a in args)
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value))
    if tp is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        inner = [a for a in args if a is not Ellipsis]
        return not inner or all(matches(v, inner[0]) for v in value)
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, dict):
            return False
        if len(args) == 2:
            return all(matches(k, args[0]) and matches(v, args[1]) for k, v in value.items())
        return True
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True  # an annotation this checker does not know: leave it to the consumer


def check_value(key: str, value: Any, tp: Any, source: Source) -> None:
    """Raise DynaPoseError when `value` (setting `key` of `source`) does not fit `tp`."""
    if not matches(value, tp):
        extra = ""
        if tp is float and isinstance(value, float) and not math.isfinite(value):
            extra = " (finite)"
        raise DynaPoseError(f"{key}: expected {type_name(tp)}{extra}, found {describe(value)}",
                            source)


def field_types(cls: type) -> dict[str, Any]:
    """{field name: resolved annotation} of the dataclass `cls`."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def check_mapping(data: Any, schema: Mapping[str, Any], source: Source, what: str,
                  required: tuple[str, ...] | None = None, known_only: bool = True,
                  prefix: str = "") -> None:
    """Check that `data` (`what`, e.g. "the manifest") is a mapping whose keys are in `schema`
    ({key: annotation}), holding every key of `required`, each value of the annotated type.
    Keys are named in messages as `prefix` + key (e.g. "model.config.input_size")."""
    if not isinstance(data, dict):
        raise DynaPoseError(f"{what} must be a mapping, found {describe(data)}", source)
    if known_only:
        unknown = sorted(str(k) for k in data if k not in schema)
        if unknown:
            raise DynaPoseError(f"{what}: unknown key(s) {', '.join(prefix + k for k in unknown)}"
                                f" (known: {', '.join(schema)})", source)
    missing = [prefix + k for k in (required or ()) if k not in data]
    if missing:
        raise DynaPoseError(f"{what} lacks {', '.join(missing)}", source)
    for key, value in data.items():
        if key in schema:
            check_value(prefix + key, value, schema[key], source)

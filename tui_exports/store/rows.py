"""Turning rows into model dataclasses and back, driven by the dataclass type hints."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from .. import model
from .db import iso, parse_iso

T = TypeVar("T")


def _base(tp: Any) -> Any:
    """``X | None`` → ``X``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


@cache
def _hints(cls: type) -> dict[str, Any]:
    return {name: _base(tp) for name, tp in typing.get_type_hints(cls, vars(model)).items()}


def _load_nested(tp: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return from_dict(tp, value)
    return value


@cache
def _plan(cls: type) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """Per field: its name and the converter its type needs (None: the value as read)."""
    hints = _hints(cls)
    return tuple((f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls))  # type: ignore[arg-type]


def _converter(tp: Any) -> Callable[[Any], Any] | None:
    """``_convert_in`` for one type, decided once per field instead of once per value."""
    # the converter itself for the scalar types (from_row never converts None): what
    # _convert_in would call, without its dispatch on every value of every row of a walk
    if tp is datetime:
        return parse_iso
    if tp in (bool, Path) or (isinstance(tp, type) and issubclass(tp, Enum)):
        return tp
    origin = typing.get_origin(tp)
    inner = typing.get_args(tp)[0] if origin is tuple and typing.get_args(tp) else None
    if dataclasses.is_dataclass(inner):  # JSON list of objects (a question's answers): the hot path
        return lambda value: tuple(
            from_row(inner, i) if isinstance(i, dict) else i
            for i in (json.loads(value) if isinstance(value, str) else value)
        )
    if origin is tuple or origin is dict or tp is dict:
        return lambda value: _convert_in(tp, value)
    return None


def from_row(cls: type[T], row: dict[str, Any], **extra: Any) -> T:
    """Build ``cls`` from a row; unknown columns are ignored, JSON columns decoded."""
    kwargs: dict[str, Any] = {}
    for name, convert in _plan(cls):
        if name in extra:
            kwargs[name] = extra[name]
        elif name in row:
            value = row[name]
            kwargs[name] = value if value is None or convert is None else convert(value)
    return cls(**kwargs)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    return from_row(cls, data)


def _convert_in(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    if tp is datetime:
        return parse_iso(value)
    if tp is bool:
        return bool(value)
    if tp is Path:
        return Path(value)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    origin = typing.get_origin(tp)
    if origin is tuple:
        items = json.loads(value) if isinstance(value, str) else value
        inner = typing.get_args(tp)[0] if typing.get_args(tp) else Any
        if typing.get_origin(inner) is tuple:
            return tuple(tuple(i) for i in items)
        return tuple(_load_nested(inner, i) for i in items)
    if origin is dict or tp is dict:
        return json.loads(value) if isinstance(value, str) else value
    return value


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def to_row(obj: Any, **extra: Any) -> dict[str, Any]:
    """A dataclass as a row: dates as ISO text, tuples/dicts as JSON, bools as 0/1."""
    row: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, datetime):
            value = iso(value)
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, bool):
            value = int(value)
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, (tuple, list, dict)):
            value = json.dumps(_plain(value))
        row[f.name] = value
    row.update(extra)
    return row

"""Rails-style request parameters: bracket keys into nested dicts and lists.

``select[pages][]=1&select[pages][]=2&select[all_quizzes]=1`` →
``{"select": {"pages": ["1", "2"], "all_quizzes": "1"}}``, as Rack's ``normalize_params``
does it: ``k[]`` appends, ``k[sub]`` nests, a repeated plain key keeps the last value,
``k[][a]=1&k[][b]=2`` builds a list of hashes (a new hash starts when a key repeats).
A key used both as a scalar and as a hash or list is an error (Rack answers 400 too).
"""

from __future__ import annotations

import re
from typing import Any, Iterable

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 32


class ParamError(ValueError):
    """Parameters that cannot form one nested hash (answered with 400)."""


def split_key(key: str) -> list[str]:
    """``select[pages][]`` → ``["select", "pages", ""]``; a malformed key stays one literal name."""
    m = _KEY.match(key)
    if not m:
        return [key]
    parts = [m.group(1), *_SEGMENT.findall(m.group(2))]
    if len(parts) > MAX_DEPTH:
        raise ParamError(f"parameter {key!r} is nested too deeply")
    return parts


def nest(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Fold ``(key, value)`` pairs, in order, into one nested dict."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = split_key(key)
        _assign(out, parts[0], parts[1:], value, key)
    return out


def _assign(container: dict[str, Any], name: str, rest: list[str], value: Any, key: str) -> None:
    current = container.get(name)
    if not rest:
        if isinstance(current, (dict, list)):
            raise ParamError(f"parameter {key!r} is given both as a value and as a hash or list")
        container[name] = value
        return
    if rest[0] == "":
        if current is None:
            current = container[name] = []
        elif not isinstance(current, list):
            raise ParamError(f"parameter {key!r}: expected a list for {name!r}")
        if len(rest) == 1:
            current.append(value)
            return
        if rest[1] == "":
            raise ParamError(f"parameter {key!r}: lists of lists are not supported")
        last = current[-1] if current else None
        if not isinstance(last, dict) or _has_path(last, rest[1:]):
            last = {}
            current.append(last)
        _assign(last, rest[1], rest[2:], value, key)
        return
    if current is None:
        current = container[name] = {}
    elif not isinstance(current, dict):
        raise ParamError(f"parameter {key!r}: expected a hash for {name!r}")
    _assign(current, rest[0], rest[1:], value, key)


def _has_path(d: dict[str, Any], path: list[str]) -> bool:
    """Does ``d`` already hold a scalar at ``path`` (so a repeated key starts a new hash)?"""
    for i, part in enumerate(path):
        if part == "" or not isinstance(d, dict) or part not in d:
            return False
        if i == len(path) - 1:
            return not isinstance(d[part], (dict, list))
        d = d[part]
    return False

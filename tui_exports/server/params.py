"""Rails-style request parameters: bracket keys into nested dicts and lists.

``select[pages][]=1&select[pages][]=2&select[all_quizzes]=1`` →
``{"select": {"pages": ["1", "2"], "all_quizzes": "1"}}``, as Rack's ``normalize_params``
does it: ``k[]`` appends, ``k[sub]`` nests, a repeated plain key keeps the last value,
``k[][a]=1&k[][b]=2`` builds a list of hashes (a new hash starts when a key repeats).
A key used both as a scalar and as a hash or list is an error (Rack answers 400 too), and so
is a key whose brackets do not pair up (``select[pages=1``): Rack would keep it as a literal
name nobody reads, and the request would go on as if it had not been given.

Ids are ASCII digits that fit SQLite's 64-bit integers (:func:`parse_id`): ``١`` or ``²`` are
not ids, nor is a number past 2^63 - 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..engine.select import MAX_ID

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 32


class ParamError(ValueError):
    """Parameters that cannot form one nested hash (answered with 400)."""


def parse_id(value: Any) -> int | None:
    """An id as given in a path or parameter: ASCII digits, 1 .. 2^63 - 1; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    n = int(value)
    return n if 0 < n <= MAX_ID else None


def split_key(key: str) -> list[str]:
    """``select[pages][]`` → ``["select", "pages", ""]``; a key with brackets that do not pair up
    (``select[pages``, ``select]pages[``) is refused, never read as some other name."""
    m = _KEY.match(key)
    if not m:
        if "[" in key or "]" in key:
            raise ParamError(f"parameter {key!r} is malformed: its brackets do not pair up")
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


# ---------------------------------------------------------------- pagination (lib/api.rb)
PER_PAGE = 10
MAX_PER_PAGE = 100
_RUBY_INT = re.compile(r"^\s*([+-]?)([0-9]+)")
MAX_PAGE = 2**31 - 1


class InvalidPage(ValueError):
    """A ``page`` that is not a page number (Canvas answers 404: Folio's InvalidPage)."""


def ruby_to_i(value: Any) -> int:
    """Ruby's ``String#to_i``: the leading integer, else 0 (``"abc"`` → 0, ``"5x"`` → 5)."""
    if isinstance(value, int):
        return value
    m = _RUBY_INT.match(value) if isinstance(value, str) else None
    if not m:
        return 0
    digits = m.group(2).lstrip("0") or "0"
    n = int(digits) if len(digits) <= 18 else 10**18  # only ever clamped: no 5,000-digit ints
    return -n if m.group(1) == "-" else n


def page_params(params: dict[str, Any]) -> tuple[int, int]:
    """``(page, per_page)`` of a request, as Canvas's ``Api.per_page_for`` and Folio read them.

    ``per_page`` is ``(params[:per_page] || 10).to_i.clamp(1, 100)``: given but not a number
    (``abc``, empty) it is 1. ``page`` absent (or empty) is the first page; anything but a
    whole number from 1 up (``0``, ``-1``, ``abc``) raises :class:`InvalidPage`."""
    raw_pp = params.get("per_page")
    per_page = PER_PAGE if raw_pp is None or isinstance(raw_pp, (dict, list)) else ruby_to_i(raw_pp)
    raw_page = params.get("page")
    if raw_page is None or raw_page == "":
        page = 1
    elif (
        isinstance(raw_page, str)
        and (digits := raw_page.strip()).isascii()
        and digits.isdigit()
        and len(digits) <= 10
        and 1 <= int(digits) <= MAX_PAGE
    ):
        page = int(digits)
    else:
        raise InvalidPage(f"page {raw_page!r} is not a page number")
    return page, min(MAX_PER_PAGE, max(1, per_page))

"""A large TOML file read one table at a time: the ``[[pages]]`` … ``[[modules]]`` of a course.toml.

``tomllib`` reads a document whole; a generated course of 30,000 pages holds 30 MB of dicts for
it.  :class:`TomlTables` reads the file once to check it and to note where each array of tables
(``[[name]]``) lies, in byte spans, keeping the small values (``[course]``, inline arrays); each
walk of an array (:meth:`TomlTables.tables`) reads its spans again, one element at a time.

The file is cut at header lines.  A line that looks like a header inside a multi-line string or
array is no header: the text before it then ends inside an open string or array and does not
parse, so the cut is not made and the text runs on to the next header.  Whatever the cutting
cannot read as TOML reads (a table split across the file, ``[a]`` declared twice, a cut that never
parses) is read whole instead, by the caller's reader: the same result or the same error, held.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: A header line: ``[[`` (array of tables) or ``[``, and the first key of its name (bare or quoted),
#: then ``.`` (a dotted name) or ``]``.
_HEADER = re.compile(rb"""[ \t]*\[(\[?)[ \t]*([A-Za-z0-9_-]+|"[^"\\\r\n]*"|'[^'\r\n]*')[ \t]*([.\]])""")
#: Header-like lines inside one element (in its strings) before its text is read whole.
_MAX_FALSE_CUTS = 16

#: ``[[name]]`` or ``[name]`` (None before the first header), whether it is ``[[…]]``, the bytes
#: the chunk spans and what it holds.
Chunk = tuple[str | None, bool, int, int, dict[str, Any]]


class _Whole(Exception):
    """The file is not cut as it is written: read it whole."""


class TomlTables:
    """The top-level values of the TOML file at ``path``, arrays of tables walked from the file.

    ``read_whole(path)`` reads the file whole (raising the one-line error for a bad file); it is
    used when the file cannot be cut (see the module's note); ``error(message)`` is raised when
    the file changes while it is read."""

    def __init__(
        self, path: Path, read_whole: Callable[[Path], dict[str, Any]], error: Callable[[str], Exception]
    ):
        self.path = Path(path)
        self._error = error
        self.small: dict[str, Any] = {}  # what is not an array of tables: kept
        self.runs: dict[str, list[tuple[int, int]]] = {}  # [[name]] → its spans of bytes
        try:
            self._index()
        except _Whole:
            self.small, self.runs = read_whole(self.path), {}

    def get(self, name: str, default: Any = None) -> Any:
        """A top-level value other than an array of tables (``[course]``, ``users = [...]``)."""
        return self.small.get(name, default)

    def tables(self, name: str) -> Iterator[Any]:
        """The elements of the array ``name`` in file order, read from the file as they are walked."""
        if name not in self.runs:
            yield from self.small.get(name, [])
            return
        for start, end in self.runs[name]:
            try:
                for top, array, _, _, doc in self._chunks(start, end):
                    if array and top == name:
                        yield from doc.get(name, [])
            except _Whole:
                raise self._error(f"{self.path}: changed while it was read") from None

    # ------------------------------------------------------------------ reading
    def _index(self) -> None:
        for top, array, start, end, doc in self._chunks(0, self.path.stat().st_size):
            for name, value in doc.items():
                if array and name == top and name not in self.small:
                    spans = self.runs.setdefault(name, [])
                    if spans and spans[-1][1] == start:
                        spans[-1] = (spans[-1][0], end)
                    else:
                        spans.append((start, end))
                elif name in self.small or name in self.runs:
                    raise _Whole  # one name in two places: tomllib says whether that is allowed
                else:
                    self.small[name] = value

    def _chunks(self, start: int, end: int) -> Iterator[Chunk]:
        """Each header's text between ``start`` and ``end`` (byte offsets at line starts), parsed."""
        with open(self.path, "rb") as f:
            f.seek(start)
            pos = begin = start
            lines: list[bytes] = []
            top: str | None = None
            array = False
            false_cuts = 0
            for line in f:
                if pos >= end:
                    break
                m = _HEADER.match(line) if b"[" in line[:64] else None
                if m is not None:
                    name, is_array = _name(m.group(2)), m.group(1) == b"["
                    new_element = is_array and m.group(3) == b"]"
                    if lines and (new_element or name != top):
                        doc = _parse(lines)
                        if doc is not None:
                            yield top, array, begin, pos, doc
                            lines, begin, false_cuts = [], pos, 0
                        else:
                            false_cuts += 1
                            if false_cuts > _MAX_FALSE_CUTS:
                                raise _Whole
                    if not lines:
                        top, array = name, new_element
                lines.append(line)
                pos += len(line)
            if lines:
                doc = _parse(lines)
                if doc is None:
                    raise _Whole  # a bad file: its error, in its own words, comes from the whole read
                yield top, array, begin, pos, doc


def _name(key: bytes) -> str:
    if key[:1] in (b'"', b"'"):
        key = key[1:-1]
    return key.decode("utf-8", "replace")


def _parse(lines: list[bytes]) -> dict[str, Any] | None:
    """The TOML of ``lines``, or None when it does not parse (it ends inside a string or array)."""
    try:
        return tomllib.loads(b"".join(lines).decode("utf-8"))
    except tomllib.TOMLDecodeError:
        return None
    except (UnicodeDecodeError, RecursionError):
        raise _Whole from None

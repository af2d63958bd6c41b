"""Reading untrusted XML, and walking it by local name.

One parser for every XML file of a package: no network, no DTD loaded, no entity expanded,
no huge trees.  A document that declares entities is refused (XXE, billion laughs) rather
than parsed with them left in.  Elements are matched by local name, so CC 1.0–1.3, Canvas's
mixed namespaces and namespace-less files from other tools read the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import BinaryIO

from lxml import etree

_PARSER_OPTIONS = dict(
    no_network=True,
    resolve_entities=False,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_blank_text=True,
)
_STRAY_SPACE = re.compile(rb'(xmlns(?::[\w.-]+)?\s*=\s*)(["\'])\s*([^"\']*?)\s*\2')


class XmlProblem(ValueError):
    """An XML file that cannot be used; the message says why in a few words."""


def parse_xml(data: bytes, warn=None, where: str = "") -> etree._Element:
    """Parse ``data`` safely; a namespace URI with stray spaces is mended (and ``warn``-ed).
    A large document is read with :func:`parse_xml_stream` instead."""
    mended = _mend(data)
    if mended != data:  # lxml refuses such a URI; read it without the spaces, once
        data = mended
        if warn is not None:
            warn(_stray_space_warning(where))
    try:
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as e:
        raise XmlProblem(f"not well-formed XML ({_first_line(e)})") from None
    except ValueError as e:  # e.g. a str with an encoding declaration
        raise XmlProblem(str(e)) from None
    _refuse_entities(root)
    return root


def parse_xml_stream(
    stream: BinaryIO,
    warn=None,
    where: str = "",
    prune: Callable[[etree._Element], bool] | None = None,
    start: Callable[[etree._Element], None] | None = None,
    tags: tuple[str, ...] | None = None,
) -> etree._Element:
    """:func:`parse_xml` of a stream, read a chunk at a time: the document's bytes are never held
    whole, and with ``prune`` neither is its tree.  ``start(element)`` sees each element as it
    opens (its attributes only).  ``tags`` (local names) limits both to those elements: the
    others are read by lxml alone, which is several times quicker for a large file.  The same
    checks: no network, no DTD, no entities, namespace URIs mended."""
    source = _Mended(stream, warn, where)
    events = etree.iterparse(
        source,
        events=("start", "end") if start is not None else ("end",),
        tag=[f"{{*}}{t}" for t in tags] if tags else None,
        **_PARSER_OPTIONS,
    )
    checked = False
    try:
        for event, el in events:
            if not checked:  # the DTD is read before the first element: refuse entities there
                _refuse_entities(el)
                checked = True
            if not isinstance(el.tag, str):
                continue
            if event == "start":
                start(el)
            elif prune is not None and prune(el):
                parent = el.getparent()
                el.clear()
                if parent is not None:
                    parent.remove(el)
    except etree.XMLSyntaxError as e:
        raise XmlProblem(f"not well-formed XML ({_first_line(e)})") from None
    root = events.root
    if not checked:
        _refuse_entities(root)
    return root


def _refuse_entities(el: etree._Element) -> None:
    dtd = el.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise XmlProblem(
            "it declares XML entities, which are refused (they can read local files or expand without end)"
        )


class _Mended:
    """A stream of XML with every namespace URI's stray spaces taken out (``warn``-ed once).

    Each chunk is mended up to its last ``<``: a tag's attributes never hold one, so no
    ``xmlns`` declaration is cut in two; the rest waits for the next chunk."""

    CHUNK = 1 << 16

    def __init__(self, stream: BinaryIO, warn, where: str):
        self.stream, self.warn, self.where = stream, warn, where
        self.held = b""  # read, not mended yet
        self.ready = b""  # mended, not handed out yet
        self.warned = False
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else self.CHUNK
        while len(self.ready) < size and not self.eof:
            chunk = self.stream.read(self.CHUNK)
            data = self.held + chunk
            if not chunk:
                self.eof, self.held = True, b""
                self.ready += self._mend(data)
                break
            cut = data.rfind(b"<")
            if cut <= 0 and len(data) > self.CHUNK * 4:
                cut = len(data)  # no tag in sight: pass it on as it is
            if cut <= 0:
                self.held = data
                continue
            self.held = data[cut:]
            self.ready += self._mend(data[:cut])
        out, self.ready = self.ready[:size], self.ready[size:]
        return out

    def _mend(self, data: bytes) -> bytes:
        mended = _mend(data)
        if mended != data and not self.warned and self.warn is not None:
            self.warned = True
            self.warn(_stray_space_warning(self.where))
        return mended


def _mend(data: bytes) -> bytes:
    """``data`` with the stray spaces of every namespace URI taken out (lxml refuses them)."""
    return _STRAY_SPACE.sub(lambda m: m.group(1) + m.group(2) + m.group(3) + m.group(2), data)


def _stray_space_warning(where: str) -> str:
    return f"{where}: a namespace URI has stray spaces; read without them"


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


def local(el) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def children(el, name: str) -> list:
    return [c for c in el if local(c) == name] if el is not None else []


def child(el, name: str):
    for c in el if el is not None else ():
        if local(c) == name:
            return c
    return None


def descendants(el, name: str) -> list:
    return [d for d in el.iter() if local(d) == name] if el is not None else []


def text_of(el, name: str | None = None) -> str:
    """The text of ``el`` (or of its child ``name``), ``""`` when absent."""
    if name is not None:
        el = child(el, name)
    return (el.text or "") if el is not None else ""


def flat(el) -> dict[str, str]:
    """Leaf children as a dict (Canvas's metadata files are mostly flat)."""
    if el is None:
        return {}
    return {local(c): (c.text or "") for c in el if isinstance(c.tag, str) and len(c) == 0}


def text_bool(value: str | None, default: bool = False) -> bool:
    """A flag written as text ("true", "1", "yes"); ``default`` when blank."""
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("true", "1", "yes")


def text_float(value: str | None) -> float | None:
    """A number written as text; None when blank or not a number."""
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def text_int(value: str | None, default: int = 0) -> int:
    """A whole number written as text ("3", "3.0"); ``default`` when blank or not a number."""
    try:
        return int(float(value)) if value not in (None, "") else default
    except ValueError:
        return default


def text_datetime(value: str | None) -> datetime | None:
    """An ISO 8601 time written as text, in UTC (one without a zone is taken as UTC); None when blank or bad."""
    if not value or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)

"""Parsing and serialising HTML body fragments (shared by importers and exporters).

libxml2's HTML parser builds no element deeper than 256 open elements: what is nested deeper,
its text too, is dropped without a word.  A body nested past :data:`MAX_DEPTH` is flattened
before it is parsed: the tags past that depth go, their text stays (:func:`flatten_deep`)."""

from __future__ import annotations

import re
from collections.abc import Callable

import lxml.html
from lxml import etree

#: the deepest nesting kept as elements (libxml2 keeps 256; the ePub sanitizer walks 48 of them)
MAX_DEPTH = 200

_TAG = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^<>]*?(/?)>", re.S)
_VOID = frozenset(
    "area base br col embed hr img input keygen link meta param source track wbr basefont bgsound frame".split()
)


def parse_fragment(html: str) -> etree._Element:
    """Parse an HTML body fragment into a ``<div>`` wrapper (lenient, like a browser)."""
    return lxml.html.fragment_fromstring(flatten_deep(html or ""), create_parent="div")


def too_deep(html: str | None) -> bool:
    """Whether this body nests elements past :data:`MAX_DEPTH` (exporters warn, naming the item)."""
    return bool(html) and flatten_deep(html) is not html


def deep_warning(what: str, *htmls: str | None) -> str | None:
    """The warning an export gives for an item whose HTML was flattened (None when none was)."""
    if any(too_deep(h) for h in htmls):
        return f"{what}: its HTML is nested deeper than {MAX_DEPTH} elements; past that depth it was flattened (its text is kept)"
    return None


def flatten_deep(html: str, limit: int = MAX_DEPTH) -> str:
    """The body with every tag nested past ``limit`` left out and its text kept; the very
    same string when nothing is that deep (the common case costs a count of ``<``)."""
    if html.count("<") <= limit:
        return html
    out: list[str] = []
    open_tags: list[str] = []
    dropped: dict[str, int] = {}
    last = 0
    changed = False
    for m in _TAG.finditer(html):
        closing, name, self_closing = m.group(1), (m.group(2) or "").lower(), m.group(3)
        if not name or name in _VOID or self_closing:
            continue  # a comment, a void element: no depth
        keep = True
        if closing:
            if dropped.get(name):
                dropped[name] -= 1
                keep = False
            elif name in open_tags:  # closes it, and whatever the parser would close with it
                del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name) :]
        elif len(open_tags) >= limit:
            dropped[name] = dropped.get(name, 0) + 1
            keep = False
        else:
            open_tags.append(name)
        if not keep:
            out.append(html[last : m.start()])
            last = m.end()
            changed = True
    if not changed:
        return html
    out.append(html[last:])
    return "".join(out)


def serialize_fragment(root: etree._Element) -> str:
    """The inner HTML of a wrapper made by :func:`parse_fragment`."""
    out = [root.text or ""]
    for child in root:
        out.append(lxml.html.tostring(child, encoding="unicode"))
    return "".join(out)


def rewrite_attrs(html: str, new_value: Callable[[str, str], str | None], attrs=("href", "src")) -> str:
    """``html`` with each ``href``/``src`` value replaced by ``new_value(attribute, value)`` (None:
    kept as it was); the same string back when nothing changed (and when it has no such links)."""
    if not html or not any(a in html for a in attrs):
        return html
    root = parse_fragment(html)
    changed = False
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in attrs:
            value = el.get(attr)
            if value is None:
                continue
            new = new_value(attr, value)
            if new is not None and new != value:
                el.set(attr, new)
                changed = True
    return serialize_fragment(root) if changed else html

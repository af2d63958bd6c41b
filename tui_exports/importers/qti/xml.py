"""Safe XML for untrusted QTI: no network, no entities, no DTD, bounded depth; namespace-blind lookups.

QTI 1.2 comes with the ``ims_qtiasiv1p2`` namespace (Canvas, CC profile), without any (the IMS
examples, Respondus), or with a DOCTYPE that points at a DTD: every lookup here matches local
names (``{*}``), and the parser never fetches the DTD nor expands an entity.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

#: libxml2 refuses deeper trees itself (256 without ``huge_tree``); the readers never recurse.
_INT = re.compile(r"[+-]?\d{1,18}")


def parser() -> etree.XMLParser:
    """A parser for strangers' XML: no network, no entity expansion (XXE, billion laughs), no DTD."""
    return etree.XMLParser(
        no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False, dtd_validation=False
    )


def parse_bytes(data: bytes) -> etree._Element:
    """The root element of ``data``; raises ``etree.XMLSyntaxError`` (or ValueError) when it is not XML."""
    root = etree.fromstring(data, parser())
    if root is None:
        raise ValueError("no root element")
    return root


def local(el: object) -> str:
    """The local name of an element ('' for comments, entities and processing instructions)."""
    tag = getattr(el, "tag", None)
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def kids(el: etree._Element, name: str) -> list[etree._Element]:
    return el.findall(f"{{*}}{name}")


def kid(el: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element down ``path`` (local names), or None."""
    for name in path:
        if el is None:
            return None
        el = el.find(f"{{*}}{name}")
    return el


def under(el: etree._Element, name: str) -> list[etree._Element]:
    """Every descendant called ``name`` (local name), in document order."""
    return [x for x in el.iter(f"{{*}}{name}") if x is not el]


def text(el: etree._Element | None) -> str:
    """The text of an element and its children (entities left unexpanded are dropped)."""
    if el is None:
        return ""
    parts = [el.text or ""]
    for child in el:  # libxml2 caps the depth (256), so this recursion is bounded
        if isinstance(child.tag, str):
            parts.append(text(child))
        parts.append(child.tail or "")  # an unexpanded entity, a comment: only what follows it
    return "".join(parts)


def fields(el: etree._Element | None) -> dict[str, str]:
    """``qtimetadatafield`` label → entry of a ``qtimetadata`` (or of any element holding fields)."""
    out: dict[str, str] = {}
    if el is None:
        return out
    for f in under(el, "qtimetadatafield"):
        label = text(kid(f, "fieldlabel")).strip()
        if label and label not in out:
            out[label] = text(kid(f, "fieldentry")).strip()
    return out


def number(value: str | None) -> int | float | None:
    """A number from strangers' text: an int when it is written as one, None when it is not a
    finite number (``1e999``, a 5,000-digit id, ``NaN``, ``5%``)."""
    if value is None:
        return None
    value = value.strip()
    if _INT.fullmatch(value):
        return int(value)
    if len(value) > 40:
        return None
    try:
        f = float(value)
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def decimal(value: str | None) -> Decimal | None:
    n = number(value)
    if n is None:
        return None
    try:
        return Decimal(value.strip())  # type: ignore[union-attr]
    except InvalidOperation:
        return None


def flag(value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("true", "yes", "1"):
        return True
    if v in ("false", "no", "0"):
        return False
    return None

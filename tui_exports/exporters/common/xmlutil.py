"""Small lxml helpers shared by the CC and QTI writers.

Course text comes from users and may hold characters XML 1.0 cannot carry (control
characters, lone surrogates); lxml refuses those, so every value goes through
:func:`clean` before it reaches a tree.  Dates and booleans are formatted the way
Canvas's ``CCHelper`` does so importers that know Canvas read them back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO

from lxml import etree

XSI = "http://www.w3.org/2001/XMLSchema-instance"
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
CANVAS_SCHEMA_LOCATION = f"{CANVAS_NS} https://canvas.instructure.com/xsd/cccv1p0.xsd"

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(value: Any) -> str:
    """``value`` as text that XML 1.0 can hold (invalid characters dropped)."""
    if value is None:
        return ""
    if type(value) is not str:
        value = str(value)
    if value.isascii() and value.isprintable():  # the common case: nothing to drop, no regex
        return value
    return _INVALID_XML.sub("", value)


def ims_datetime(value: datetime | None) -> str:
    """Canvas's ``ims_datetime``: UTC ``YYYY-MM-DDTHH:MM:SS`` (naive values are taken as UTC)."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def text_value(value: Any) -> str:
    """Ruby's ``to_s`` for the values Canvas writes: booleans lower-case, floats with ``.0``."""
    if type(value) is str:
        return clean(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return ims_datetime(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else "0.0"
    return clean(value)


class Builder:
    """Appends namespaced children: ``b.sub(parent, "title", "x")`` (one namespace per document)."""

    def __init__(self, namespace: str | None):
        self.ns = namespace
        self._tags: dict[str, str] = {}

    def tag(self, name: str) -> str:
        tag = self._tags.get(name)
        if tag is None:
            tag = self._tags[name] = f"{{{self.ns}}}{name}" if self.ns else name
        return tag

    def root(
        self,
        name: str,
        /,
        nsmap: dict[str | None, str] | None = None,
        schema_location: str | None = None,
        **attrs: Any,
    ) -> etree._Element:
        nsmap = dict(nsmap or {})
        if self.ns and None not in nsmap:
            nsmap[None] = self.ns
        if schema_location:
            nsmap.setdefault("xsi", XSI)
        el = etree.Element(self.tag(name), nsmap=nsmap)
        for key, value in attrs.items():
            el.set(key, text_value(value))
        if schema_location:
            el.set(f"{{{XSI}}}schemaLocation", schema_location)
        return el

    def sub(self, parent: etree._Element, name: str, text: Any = None, /, **attrs: Any) -> etree._Element:
        if attrs:
            attrib = {key: text_value(value) for key, value in attrs.items() if value is not None}
            el = etree.SubElement(parent, self.tag(name), attrib)
        else:
            el = etree.SubElement(parent, self.tag(name))
        if text is not None:
            el.text = text_value(text)
        return el

    def fields(self, parent: etree._Element, pairs: list[tuple[str, Any]]) -> None:
        """One child per ``(name, value)``; ``None`` gives an empty element, as Canvas writes."""
        for name, value in pairs:
            self.sub(parent, name, value)

    def set_fields(self, parent: etree._Element, obj: Any, names: tuple[str, ...]) -> None:
        """One child per attribute of ``obj`` named in ``names`` that is set; Canvas leaves
        out the others (dates not set)."""
        for name in names:
            value = getattr(obj, name)
            if value:
                self.sub(parent, name, value)


canvas = Builder(CANVAS_NS)


class Node:
    """An element of a document written as text (:class:`TextBuilder`): its tag, its start tag
    as written (attributes escaped, without the closing ``>``), its text and its children.
    ``memo`` (None, or a dict) keeps the element's XML per indentation level, for an element
    that goes into more than one document."""

    __slots__ = ("tag", "start", "text", "children", "memo")

    def __init__(self, tag: str, start: str, text: str | None = None):
        self.tag = tag
        self.start = start
        self.text = text
        self.children: list[Node] = []
        self.memo: dict[int, str] | None = None

    def find(self, tag: str) -> Node | None:
        """The first child named ``tag``."""
        return next((c for c in self.children if c.tag == tag), None)


_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}
)
_ATTR_SPECIAL = frozenset('&<>"\r\n\t')


def _start(name: str, attrs: dict[str, Any]) -> str:
    """``<name a="v"…`` with each value as :func:`text_value` gives it, escaped as libxml2
    escapes attributes; None values left out."""
    start = "<" + name
    for key, value in attrs.items():
        if value is None:
            continue
        if not (type(value) is str and value.isascii() and value.isprintable()):
            value = text_value(value)
        if not _ATTR_SPECIAL.isdisjoint(value):
            value = value.translate(_ATTR_ESCAPES)
        start += f' {key}="{value}"'
    return start


class TextBuilder:
    """:class:`Builder`'s twin for documents of many small elements (QTI items): the same
    ``sub`` and ``fields``, building :class:`Node` s that :func:`render` writes as text, byte
    for byte what lxml writes for the same tree after ``etree.indent``, at a fraction of the
    cost of lxml's elements.  Tags are written bare: the namespace is the root's default."""

    def __init__(self, namespace: str):
        self.ns = namespace

    def root(self, name: str, /, schema_location: str | None = None, **attrs: Any) -> Node:
        head: dict[str, Any] = {"xmlns": self.ns}
        if schema_location:
            head["xmlns:xsi"] = XSI
        head.update(attrs)
        if schema_location:
            head["xsi:schemaLocation"] = schema_location
        return Node(name, _start(name, head))

    @staticmethod
    def element(name: str, /, **attrs: Any) -> Node:
        """A detached element."""
        return Node(name, _start(name, attrs) if attrs else "<" + name)

    @staticmethod
    def sub(parent: Node, name: str, text: Any = None, /, **attrs: Any) -> Node:
        if text is not None and not (type(text) is str and text.isascii() and text.isprintable()):
            text = text_value(text)
        el = Node(name, _start(name, attrs) if attrs else "<" + name, text)
        parent.children.append(el)
        return el

    def fields(self, parent: Node, pairs: list[tuple[str, Any]]) -> None:
        for name, value in pairs:
            self.sub(parent, name, value)


def _escape_text(text: str) -> str:
    """libxml2's escaping of element text."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


_INDENTS = ["\n" + "  " * n for n in range(32)]


def _render(node: Node, level: int, out: list[str]) -> None:
    memo = node.memo
    if memo is not None:
        xml = memo.get(level)
        if xml is None:
            part: list[str] = []
            node.memo = None
            _render(node, level, part)
            node.memo = memo
            xml = memo[level] = "".join(part)
        out.append(xml)
        return
    text, children = node.text, node.children
    if not children:
        out.append(node.start + "/>" if text is None else f"{node.start}>{_escape_text(text)}</{node.tag}>")
        return
    if level + 2 >= len(_INDENTS):
        _INDENTS.extend("\n" + "  " * n for n in range(len(_INDENTS), level + 3))
    inner, outer = _INDENTS[level + 1], _INDENTS[level]
    # etree.indent keeps text that is not blank, else it puts the children's indentation there
    out.append(node.start + ">" + (_escape_text(text) if text and text.strip(" \t\n\r") else inner))
    deeper = level + 1
    for child in children:
        if child.children or child.memo is not None:
            _render(child, deeper, out)
        elif child.text is None:
            out.append(child.start + "/>")
        else:
            out.append(f"{child.start}>{_escape_text(child.text)}</{child.tag}>")
        out.append(inner)
    out[-1] = outer
    out.append(f"</{node.tag}>")


def render(node: Node, level: int = 0) -> str:
    """``node`` as lxml writes the same element (``etree.tostring`` after
    ``etree.indent(space="  ", level=level)``), without a tail."""
    out: list[str] = []
    _render(node, level, out)
    return "".join(out)


def xml_document(root: Node) -> bytes:
    """A document as :meth:`PackageWriter.write_xml <..package.PackageWriter.write_xml>` writes
    it: the declaration, the UTF-8 text with two-space indentation, a final newline."""
    return XML_DECLARATION + render(root).encode("utf-8") + b"\n"


def canvas_root(name: str, **attrs: Any) -> etree._Element:
    """Root of a Canvas-namespace metadata file (``cccv1p0``, no schema available offline)."""
    return canvas.root(name, schema_location=CANVAS_SCHEMA_LOCATION, **attrs)


def render_child(node: Node, level: int) -> bytes:
    """``node`` as it reads inside its document at depth ``level`` (as :func:`child_xml` writes
    an lxml child): after a newline and the two-space indentation of its depth."""
    return ("\n" + "  " * level + render(node, level)).encode("utf-8")


def child_xml(child: etree._Element, indent: bool = True) -> bytes:
    """``child`` as it reads inside its document: without its tail and without repeating the
    namespace declarations of its ancestors (lxml repeats every one in scope on the start tag
    of an element serialised alone); if ``indent``, after a newline and the two-space
    indentation of its depth, and indented inside."""
    prefix = b""
    if indent:
        level = sum(1 for _ in child.iterancestors())
        etree.indent(child, space="  ", level=level)
        prefix = b"\n" + b"  " * level
    text = etree.tostring(child, encoding="UTF-8", with_tail=False)
    parent = child.getparent()
    probe = etree.SubElement(parent, child.tag)
    start = etree.tostring(probe, encoding="UTF-8")[:-2]  # "<tag xmlns…" without "/>"
    parent.remove(probe)
    bare = start.split(b" ", 1)[0]
    if not text.startswith(start) or text[len(start) : len(start) + 1] not in (b" ", b">", b"/"):
        raise ValueError(f"{child.tag} declares namespaces of its own")
    return prefix + bare + text[len(start) :]


def write_streamed(
    dst: BinaryIO,
    root: etree._Element,
    fills: Mapping[etree._Element, Iterable[etree._Element | bytes]],
    *,
    indent: bool,
    encoding: str = "UTF-8",
    trailer: bytes = b"",
    **options: Any,
) -> None:
    """Write ``root`` to ``dst`` as ``etree.tostring(root, encoding, **options)`` (after
    two-space indentation if ``indent``) would, byte for byte, without ever holding the big
    parts of it.

    Each element of ``fills`` is empty in ``root`` and gets its children from its iterable,
    in document order.  The iterable yields either an element it has just appended to that
    parent (written and removed before the next is built) or children already serialised
    by :func:`child_xml`, as bytes.  The children may not declare namespaces of their own.
    """
    fills = list(fills.items())
    mark = f"tui-exports fill {uuid.uuid4().hex} "  # no comment of the document can be taken for it
    for n, (parent, _) in enumerate(fills):
        if len(parent) or parent.text is not None:
            raise ValueError("an element to fill must be empty: its children come from the iterable")
        parent.append(etree.Comment(f"{mark}{n}"))
    if indent:
        etree.indent(root, space="  ")
    text = etree.tostring(root, encoding=encoding, **options)
    if not fills:
        dst.write(text + trailer)
        return
    for parent, _ in fills:
        parent.remove(parent[0])
        parent.text = None
    pieces = re.split(rb"<!--" + mark.encode() + rb"(\d+)-->", text)
    if len(pieces) != 2 * len(fills) + 1:
        raise ValueError("an element to fill is not in the document")
    pending = pieces[0]  # not yet written: held back until it is known whether the fill is empty
    for n, after in zip(pieces[1::2], pieces[2::2], strict=True):
        parent, children = fills[int(n)]
        if indent:
            pending = pending[: pending.rindex(b"\n")]  # the placeholder's own indentation
        wrote_any = False
        for child in children:
            if not wrote_any:
                dst.write(pending)
                wrote_any = True
            if isinstance(child, bytes):
                dst.write(child)
            else:
                dst.write(child_xml(child, indent))
                parent.remove(child)
        if wrote_any:
            pending = after
        else:  # no children: the empty-element form, as tostring gives
            dst.write(pending[:-1] + b"/>")
            pending = after[after.index(b">") + 1 :]
    dst.write(pending + trailer)

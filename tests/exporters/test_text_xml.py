"""QTI documents are written as text (``TextBuilder``), not as lxml trees: the bytes must be
those lxml writes for the same tree, escaping, empties and indentation included."""

from __future__ import annotations

import pytest
from lxml import etree

from tui_exports.exporters.common.xmlutil import XML_DECLARATION, Builder, TextBuilder, xml_document

NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
AWKWARD = [
    "plain",
    "",
    "   ",
    " \n\t ",
    "a & b < c > d \"e\" 'f'",
    "line\r\nbreak\ttab",
    "Ünïcödé ✓ \u2028 \x85 emoji 🎉",
    "<div><p>HTML &amp; &nbsp; text</p></div>",
    "bad \x00\x01\x0b control \ud800 chars",
    7,
    2.5,
    True,
]


def build(b, root):
    """The same calls on either builder: nested, leaves with each awkward value as text and as
    an attribute, empty elements, attributes left out when None."""
    for n, value in enumerate(AWKWARD):
        group = b.sub(root, "section", ident=f"s{n}", title=value)
        b.sub(group, "mattext", value, texttype="text/html", skipped=None)
        b.sub(group, "empty")
        inner = b.sub(b.sub(group, "deep"), "deeper")
        b.fields(inner, [("a", value), ("b", None), ("c", n)])
        b.sub(root, "lonely", value)
    return root


@pytest.mark.parametrize("location", [None, f"{NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd"])
def test_a_text_document_is_byte_for_byte_what_lxml_writes(location):
    tree = build(Builder(NS), Builder(NS).root("questestinterop", schema_location=location))
    etree.indent(tree, space="  ")
    expected = XML_DECLARATION + etree.tostring(tree, encoding="UTF-8") + b"\n"
    text = TextBuilder(NS)
    written = xml_document(build(text, text.root("questestinterop", schema_location=location)))
    assert written == expected
    assert etree.fromstring(written).findtext(f"{{{NS}}}section/{{{NS}}}mattext") == "plain"


def test_a_node_shared_by_two_documents_is_written_right_at_each_depth():
    b = TextBuilder(NS)
    shared = b.element("item", ident="i1")
    b.sub(b.sub(shared, "presentation"), "mattext", "x & y")
    shared.memo = {}
    flat, nested = b.root("questestinterop"), b.root("questestinterop")
    flat.children.append(shared)
    b.sub(b.sub(nested, "section"), "section").children.append(shared)
    for root in (flat, nested, flat):
        tree = etree.fromstring(xml_document(root))
        etree.indent(tree, space="  ")
        assert xml_document(root) == XML_DECLARATION + etree.tostring(tree, encoding="UTF-8") + b"\n"

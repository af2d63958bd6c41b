"""QTI documents, module_meta.xml's modules and the head of page documents are written as
text, not as lxml trees: the bytes must be those lxml writes for the same tree, escaping,
empties and indentation included."""

from __future__ import annotations

import lxml.html
import pytest
from lxml import etree
from lxml.html import builder as E

from tui_exports.exporters.cc.content import html_page
from tui_exports.exporters.common.xmlutil import XML_DECLARATION, Builder, TextBuilder, xml_document
from tui_exports.html_fragments import parse_fragment

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


BODIES = [
    "",
    "   ",
    "plain text & more",
    "<p>a &amp; b &lt; c &nbsp; Ünïcödé ✓ 🎉</p>\n<script>if (a < b && c) {}</script>  tail <b>x</b>\n",
    '<table><tr><td>1<td>2</table><img src="x.png" alt="a &quot;q&quot;"><br><!-- note --><p>unclosed',
    "<div class='c'><ul><li>one<li>two</ul></div><style>p > a {}</style><pre>\n  kept\n</pre>",
    "<html><body><p>a whole document</p></body></html>",
]
TITLES = ["Plain title", 'Quotes "and" apostrophes\'', "Ünïcödé <title> & co", "line\nbreak"]


@pytest.mark.parametrize("title", TITLES)
def test_a_page_document_is_what_lxml_writes_for_the_whole_tree(title):
    """html_page writes the head as text around the body's own serialisation when nothing
    needs escaping: the bytes must be those of the document built and written by lxml."""
    meta = [("identifier", "g0123"), ("editing_roles", title), ("front_page", None)]
    for body in BODIES:
        head = E.HEAD(E.META(charset="utf-8"), E.TITLE(title))
        head.extend(E.META(name=name, content=value) for name, value in meta if value)
        doc = E.HTML(head, E.BODY())
        wrapper = parse_fragment(body)
        doc[1].text = wrapper.text
        doc[1].extend(list(wrapper))
        expected = lxml.html.tostring(doc, encoding="utf-8", method="html", doctype="<!DOCTYPE html>")
        assert html_page(body, title, meta) == expected, (title, body)
        assert html_page(parse_fragment(body), title, meta) == expected, (title, body)

"""Documents written part by part: the bytes must be exactly those of the whole tree.

module_meta.xml, imsmanifest.xml, nav.xhtml and toc.ncx of a big course have thousands
of nodes each; they are streamed so memory does not grow with the course, and no reader
may see a difference.
"""

from __future__ import annotations

import copy
import io
import zipfile
from datetime import datetime

import pytest
from lxml import etree

from tui_exports.exporters.common.manifest import Manifest
from tui_exports.exporters.common.package import PackageWriter
from tui_exports.exporters.common.xmlutil import (
    XML_DECLARATION,
    canvas,
    canvas_root,
    child_xml,
    write_streamed,
)

WHEN = datetime(2026, 1, 1)


def _module(parent: etree._Element, n: int) -> etree._Element:
    """A child shaped like a module of module_meta.xml: text needing escapes, nesting, empties."""
    m = canvas.sub(parent, "module", identifier=f"g{n}")
    canvas.fields(m, [("title", f'Week {n} & "more" <b>Ünï</b>\n'), ("position", n), ("locked", False)])
    canvas.sub(m, "empty")
    items = canvas.sub(m, "items")
    for i in range(n):
        canvas.sub(
            canvas.sub(items, "item", identifier=f"t{n}-{i}", title='a "b" <c>'), "url", "https://x/?a=1&b=2"
        )
    return m


def _tree(count: int) -> etree._Element:
    root = canvas_root("modules")
    for n in range(count):
        _module(root, n)
    return root


def _whole(root: etree._Element) -> bytes:
    """What PackageWriter.write_xml writes for the whole tree."""
    root = copy.deepcopy(root)
    etree.indent(root, space="  ")
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8") + b"\n"


def _zip_entry(tmp_path, write) -> bytes:
    with PackageWriter(tmp_path / "p.zip", WHEN) as pkg:
        write(pkg)
    with zipfile.ZipFile(tmp_path / "p.zip") as z:
        return z.read("x.xml")


@pytest.mark.parametrize("count", [0, 1, 5])
def test_children_built_one_at_a_time_give_the_bytes_of_the_whole_tree(tmp_path, count):
    shell = _tree(0)
    sizes = []

    def children():
        for n in range(count):
            child = _module(shell, n)
            sizes.append(len(shell))
            yield child

    streamed = _zip_entry(tmp_path, lambda pkg: pkg.write_xml_streamed("x.xml", shell, {shell: children()}))
    assert streamed == _whole(_tree(count))
    assert sizes == [1] * count  # each child was written and removed before the next was built
    assert len(shell) == 0 and shell.text is None
    if count == 0:
        assert streamed.endswith(b"/>\n")  # the empty-element form


def _manifest_like(fill_orgs: bool, fill_resources: bool, orgs: int, resources: int):
    """A manifest-shaped tree, whole, and the same with some elements left empty to fill."""
    ns = "urn:cp"
    whole = etree.Element(f"{{{ns}}}manifest", nsmap={None: ns, "lom": "urn:lom"}, identifier="m")
    etree.SubElement(etree.SubElement(whole, f"{{{ns}}}metadata"), "{urn:lom}lom").text = "x"
    org = etree.SubElement(
        etree.SubElement(whole, f"{{{ns}}}organizations"), f"{{{ns}}}item", identifier="LM"
    )
    res = etree.SubElement(whole, f"{{{ns}}}resources")
    whole.append(etree.Comment(" a warning "))
    shell = copy.deepcopy(whole)

    def org_item(parent, n):
        el = etree.SubElement(parent, f"{{{ns}}}item", identifier=f"o{n}")
        etree.SubElement(el, f"{{{ns}}}title").text = f"Module {n} <&>"
        return el

    def resource(parent, n):
        el = etree.SubElement(parent, f"{{{ns}}}resource", identifier=f"r{n}", type="webcontent")
        etree.SubElement(etree.SubElement(el, f"{{{ns}}}metadata"), "{urn:lom}lom").text = "é"
        etree.SubElement(el, f"{{{ns}}}file", href=f"f{n}.html")
        return el

    for n in range(orgs):
        org_item(org, n)
    for n in range(resources):
        resource(res, n)
    s_org, s_res = shell[1][0], shell[2]
    fills, serialised = {}, []
    if fill_orgs:
        fills[s_org] = (org_item(s_org, n) for n in range(orgs))
    else:
        for n in range(orgs):
            org_item(s_org, n)
    if fill_resources:
        for n in range(resources):  # already serialised, as the manifest's spool holds them
            serialised.append(child_xml(resource(s_res, n)))
            s_res.remove(s_res[-1])
        fills[s_res] = iter(serialised)
    else:
        for n in range(resources):
            resource(s_res, n)
    return whole, shell, fills


@pytest.mark.parametrize("orgs,resources", [(0, 0), (0, 2), (3, 0), (2, 3)])
@pytest.mark.parametrize("fill_orgs,fill_resources", [(True, True), (True, False), (False, True)])
def test_several_fills_at_different_depths_with_elements_or_bytes(
    tmp_path, orgs, resources, fill_orgs, fill_resources
):
    whole, shell, fills = _manifest_like(fill_orgs, fill_resources, orgs, resources)
    assert _zip_entry(tmp_path, lambda pkg: pkg.write_xml_streamed("x.xml", shell, fills)) == _whole(whole)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_unindented_documents_with_a_doctype_stream_the_same_bytes(count):
    """nav.xhtml and toc.ncx are written unindented, with a declaration (and a doctype)."""
    x = "http://www.w3.org/1999/xhtml"

    def doc():
        html = etree.Element(
            f"{{{x}}}html", nsmap={None: x, "epub": "http://www.idpf.org/2007/ops"}, lang="en"
        )
        nav = etree.SubElement(etree.SubElement(html, f"{{{x}}}body"), f"{{{x}}}nav")
        nav.set("{http://www.idpf.org/2007/ops}type", "toc")
        return html, etree.SubElement(nav, f"{{{x}}}ol")

    def li(parent, n):
        item = etree.SubElement(parent, f"{{{x}}}li")
        etree.SubElement(item, f"{{{x}}}a", href=f"c{n}.xhtml").text = f"Chapter {n} & <more>"
        return item

    options = dict(xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")
    html, ol = doc()
    for n in range(count):
        li(ol, n)
    expected = etree.tostring(html, **options)
    html, ol = doc()
    out = io.BytesIO()
    write_streamed(out, html, {ol: (li(ol, n) for n in range(count))}, indent=False, **options)
    assert out.getvalue() == expected
    assert out.getvalue().count(b"xmlns") == 2  # the root's two, never repeated on an item


def test_what_cannot_be_streamed_is_refused(tmp_path):
    def write(root, fills):
        return _zip_entry(tmp_path, lambda pkg: pkg.write_xml_streamed("x.xml", root, fills))

    with pytest.raises(ValueError, match="must be empty"):  # a child already there
        write(_tree(1), {_tree(1): iter(())})
    root = _tree(0)
    root.text = "  "
    with pytest.raises(ValueError, match="must be empty"):  # text, even blank, would be lost
        write(root, {root: iter(())})
    root = _tree(0)
    with pytest.raises(ValueError, match="not in the document"):  # its children would vanish
        write(root, {_tree(0): iter([b"<x/>"])})
    other = _tree(0)

    def foreign():
        yield etree.SubElement(other, "{urn:other}module", nsmap={"o": "urn:other"})

    with pytest.raises(ValueError, match="namespaces of its own"):
        write(other, {other: foreign()})


def test_a_comment_like_the_placeholder_is_left_alone(tmp_path):
    root = _tree(0)
    root.append(etree.Comment("tui-exports fill 0"))
    fill = canvas.sub(root, "items")
    expected = copy.deepcopy(root)
    for n in range(2):
        _module(expected[1], n)
    streamed = _zip_entry(
        tmp_path,
        lambda pkg: pkg.write_xml_streamed("x.xml", root, {fill: (_module(fill, n) for n in range(2))}),
    )
    assert streamed == _whole(expected)


def test_the_manifest_holds_no_resource_in_memory(tmp_path):
    """Each resource is serialised as it is added; the written manifest is the whole tree's."""
    ns = "urn:cp"
    with Manifest(ns, "m1", {None: ns, "lom": "urn:lom"}, f"{ns} cp.xsd", tmp_path) as manifest:
        expected = copy.deepcopy(manifest.root)
        b = manifest.b
        for n in range(3):
            manifest.resource(
                f"r{n}",
                "webcontent",
                href=f"p{n}.html",
                files=[f"p{n}.html", "x.css"],
                dependencies=["d"] if n else (),
                metadata=(lambda md: etree.SubElement(md, "{urn:lom}lom")) if n == 2 else None,
            )
            assert len(manifest.resources) == 0
        manifest.add_comments(["Skipped page -- gone"])
        res = expected[2]
        for n in range(3):
            el = b.sub(res, "resource", identifier=f"r{n}", type="webcontent", href=f"p{n}.html")
            if n == 2:
                etree.SubElement(b.sub(el, "metadata"), "{urn:lom}lom")
            b.sub(el, "file", href=f"p{n}.html")
            b.sub(el, "file", href="x.css")
            if n:
                b.sub(el, "dependency", identifierref="d")
        expected.append(etree.Comment(" Skipped page - - gone "))
        with PackageWriter(tmp_path / "p.zip", WHEN) as pkg:
            manifest.write(pkg, "x.xml")
    assert len(manifest.identifiers) == 3 and all(f"r{n}" in manifest.identifiers for n in range(3))
    with zipfile.ZipFile(tmp_path / "p.zip") as z:
        assert z.read("x.xml") == _whole(expected)


def test_a_resource_that_fails_leaves_nothing_behind(tmp_path):
    """A bad item is skipped by the exporter; the manifest must not keep half of it."""
    ns = "urn:cp"
    with Manifest(ns, "m1", {None: ns}, f"{ns} cp.xsd", tmp_path) as manifest:

        def broken(md):
            raise RuntimeError("bad metadata")

        with pytest.raises(RuntimeError):
            manifest.resource("bad", "webcontent", href="bad.html", metadata=broken)
        manifest.resource("good", "webcontent", href="good.html")
        assert len(manifest.resources) == 0 and len(manifest.identifiers) == 1
        assert "good" in manifest.identifiers and "bad" not in manifest.identifiers
        with PackageWriter(tmp_path / "p.zip", WHEN) as pkg:
            manifest.write(pkg, "x.xml")
    with zipfile.ZipFile(tmp_path / "p.zip") as z:
        text = z.read("x.xml")
    assert b'identifier="good"' in text and b"bad" not in text


def test_a_spool_that_cannot_be_written_fails_the_manifest(tmp_path, monkeypatch):
    """A resource half written to a full disk would corrupt the manifest: it is not written."""
    ns = "urn:cp"
    with Manifest(ns, "m1", {None: ns}, f"{ns} cp.xsd", tmp_path) as manifest:
        manifest.resource("one", "webcontent", href="one.html")

        def full(data):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(
            manifest, "_spool", type("Full", (), {"write": staticmethod(full), "close": lambda self: None})()
        )
        with pytest.raises(OSError):
            manifest.resource("two", "webcontent", href="two.html")
        with PackageWriter(tmp_path / "p.zip", WHEN) as pkg:
            with pytest.raises(OSError, match="could not be spooled: .*No space left"):
                manifest.write(pkg, "x.xml")

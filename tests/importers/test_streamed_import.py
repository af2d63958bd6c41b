"""What the import streams: a manifest and a module_meta.xml larger than ``[import] max_xml_mb``
are read a chunk at a time (never held whole), and ``import_path`` owns the one transaction, the
importing teacher's enrollment and the blobs written, whatever the kind of package."""

from __future__ import annotations

import io
import os
import re

import pytest
from cartridge_kit import manifest, state, write_zip

from tui_exports.importers import PackageError, import_path
from tui_exports.importers.xmltools import parse_xml_stream
from tui_exports.model import Role, User

CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
PAGES = 300


def canvas_cartridge(path, pages: int = PAGES):
    """A Canvas cartridge of ``pages`` pages, every one an item of one module."""
    resources = "".join(
        f'<resource identifier="r{i}" type="webcontent" href="wiki_content/page-{i}.html">'
        f'<file href="wiki_content/page-{i}.html"/></resource>'
        for i in range(pages)
    )
    org = "".join(
        f'<item identifier="i{i}" identifierref="r{i}"><title>Page {i}</title></item>' for i in range(pages)
    )
    items = "".join(
        f'<item identifier="i{i}"><content_type>WikiPage</content_type><title>Page {i}</title>'
        f"<identifierref>r{i}</identifierref><position>{i + 1}</position><indent>{i % 2}</indent></item>"
        for i in range(pages)
    )
    module_meta = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<modules xmlns=" {CANVAS_NS} ">'
        f'<module identifier="m1"><title>Everything</title><position>1</position><items>{items}</items></module>'
        f'<module identifier="m2"><title>Second</title><prerequisites><prerequisite type="context_module">'
        f"<identifierref>m1</identifierref></prerequisite></prerequisites><items/></module></modules>"
    )
    bodies = {
        f"wiki_content/page-{i}.html": f"<html><head><title>Page {i}</title></head><body><p>Body {i}"
        f'{f""" <a href="$WIKI_REFERENCE$/pages/page-{i - 1}">back</a>""" if i else ""}</p></body></html>'
        for i in range(pages)
    }
    return write_zip(
        path,
        {
            "imsmanifest.xml": manifest(resources, f'<item identifier="top"><title>Mod</title>{org}</item>'),
            "course_settings/canvas_export.txt": "",
            "course_settings/module_meta.xml": module_meta,
            **bodies,
        },
    )


def test_a_manifest_and_module_meta_past_max_xml_mb_are_streamed(library, tmp_path):
    pkg = canvas_cartridge(tmp_path / "big.imscc")
    library.home.config_file.write_text("[import]\nmax_xml_mb = 0.02\n", encoding="utf-8")  # 20 KB

    report = import_path(library, pkg)

    cid = report.course_id
    c = library.content.course_content(cid)
    pages = {p.url: p for p in c["pages"]}
    assert len(pages) == PAGES and pages["page-7"].title == "Page 7"
    assert f'href="/courses/{cid}/pages/page-6"' in pages["page-7"].body
    (first, second) = c["modules"]
    assert (first.name, second.name, second.prerequisite_ids) == ("Everything", "Second", (first.id,))
    items = first.items
    assert [(it.title, it.position, it.indent) for it in items[:3]] == [
        ("Page 0", 1, 0),
        ("Page 1", 2, 1),
        ("Page 2", 3, 0),
    ]
    assert len(items) == PAGES and {it.content_id for it in items} == {p.id for p in pages.values()}
    stray = [w for w in report.warnings if "stray spaces" in w]
    assert stray == ["course_settings/module_meta.xml: a namespace URI has stray spaces; read without them"]


def test_stray_spaces_in_a_namespace_are_mended_across_the_chunks_of_a_stream():
    inner = b'<c xmlns:q=" urn:z ">t</c>'
    doc = b'<?xml version="1.0"?><a xmlns=" urn:x "><b>' + inner * 20_000 + b"</b></a>"

    class Trickle(io.BytesIO):  # hands out 7 bytes at a time, whatever is asked
        def read(self, n=-1):
            return super().read(7)

    warned: list[str] = []
    root = parse_xml_stream(Trickle(doc), warned.append, "x.xml")
    assert root.tag == "{urn:x}a" and len(root[0]) == 20_000 and root[0][-1].nsmap["q"] == "urn:z"
    assert warned == ["x.xml: a namespace URI has stray spaces; read without them"]


@pytest.fixture
def teacher(library):
    library.content.insert_user(User(id=7, name="Teacher"), key="t")
    return 7


def _course_folder(tmp_path):
    folder = tmp_path / "course"
    (folder / "files").mkdir(parents=True)
    (folder / "course.toml").write_text("[course]\nname='X'\ncourse_code='X'\n", encoding="utf-8")
    (folder / "files" / "new.bin").write_bytes(os.urandom(64))
    return folder


def _qti_zip(tmp_path):
    qti = (
        '<questestinterop><assessment ident="a1" title="Quiz"><section ident="root">'
        '<item ident="q1" title="Q"><presentation><material><mattext>2+2?</mattext></material>'
        '<response_str ident="r"><render_fib/></response_str></presentation></item>'
        "</section></assessment></questestinterop>"
    )
    return write_zip(tmp_path / "quiz.zip", {"a1.xml": qti, "media/pic.bin": os.urandom(64)})


def _cartridge(tmp_path):
    res = '<resource identifier="f" type="webcontent" href="web_resources/f.bin"><file href="web_resources/f.bin"/></resource>'
    return write_zip(
        tmp_path / "c.imscc", {"imsmanifest.xml": manifest(res, ""), "web_resources/f.bin": os.urandom(64)}
    )


KINDS = {"course folder": _course_folder, "QTI zip": _qti_zip, "cartridge": _cartridge}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_package_enrols_the_importer_once(library, tmp_path, teacher, kind):
    report = import_path(library, KINDS[kind](tmp_path), teacher_id=teacher)
    enrolled = library.content.enrollments_in_course(report.course_id)
    assert [(e.user_id, e.role) for e in enrolled] == [(teacher, Role.TEACHER)]


@pytest.mark.parametrize("kind", KINDS)
def test_a_failure_after_the_reader_leaves_no_course_and_no_blob(
    library, tmp_path, teacher, monkeypatch, kind
):
    package = KINDS[kind](tmp_path)
    before = state(library)
    from tui_exports.store.content import ContentStore

    def full(self, enrollment):  # every row and blob is written: then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ContentStore, "enroll", full)
    with pytest.raises(PackageError, match="No space left"):
        import_path(library, package, teacher_id=teacher)
    assert state(library) == before


def test_a_bomb_found_while_the_central_directory_streams_is_refused_in_its_own_words(library, tmp_path):
    pkg = write_zip(
        tmp_path / "bomb.imscc", {"imsmanifest.xml": manifest("", ""), "zeros.bin": b"\0" * (8 << 20)}
    )
    with pytest.raises(PackageError) as refused:
        import_path(library, pkg)
    reason = (
        r": entry 'zeros.bin' expands \d+ times \(more than \[import\] max_ratio \d+\): a zip bomb\? refused"
    )
    assert re.fullmatch(re.escape(str(pkg)) + reason, str(refused.value))

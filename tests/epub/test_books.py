"""Whole books: EPUBCheck-clean, and showing what Canvas's ePub shows (spec §3.4–3.5)."""

from __future__ import annotations

import re
import zipfile
from datetime import timedelta

import pytest
from ebooklib import epub as ebook
from lxml import etree

from tui_exports.exporters.epub import package_book, render_book
from tui_exports.model import ExportCanceled

from .conftest import build, describe, epub_of, read_entry
from .snapshots import EXPORTED_AT, CourseBuilder, astronomy

BAD = ("FATAL", "ERROR", "WARNING")


def fixed_books(tmp_path):
    """The books every run checks: by module (teacher, student), by type (setting), no modules, empty."""
    course = astronomy(tmp_path / "blobs")
    plain = CourseBuilder(
        tmp_path / "blobs", course_id=7, name="History: 1600/1700 <Seminar>", locale="fr_CA"
    )
    plain.page("intro", "Introduction", "<p>Bonjour</p>")
    for n in range(120):  # enough text for several parts, each page linking to the last one
        plain.page(
            f"p{n}", f"Chapitre {n}", f'<p>{"texte " * 900}<a href="{plain.page_link("p119")}">fin</a></p>'
        )
    plain.assignment("Essay", due_at=EXPORTED_AT + timedelta(days=2))
    empty = CourseBuilder(tmp_path / "blobs", course_id=8, name="Empty", locale="not a locale")
    snapshots = {
        "modules-teacher": course.snapshot(),
        "modules-student": course.snapshot(student=True),
        "by-type-setting": course.snapshot(by_content_type=True),
        "no-modules": plain.snapshot(),
        "empty": empty.snapshot(),
    }
    return {name: build(snap, tmp_path / name) for name, snap in snapshots.items()}


@pytest.mark.slow
def test_every_fixed_book_passes_epubcheck(tmp_path, epubcheck):
    books = fixed_books(tmp_path)
    reports = epubcheck([epub_of(r) for r in books.values()])
    for name, result in books.items():
        bad = [m for m in reports[epub_of(result)] if m["severity"] in BAD]
        assert not bad, f"{name}:\n{describe(bad)}"


def chapter_texts(epub_path) -> dict[str, str]:
    with zipfile.ZipFile(epub_path) as zf:
        return {n: zf.read(n).decode() for n in zf.namelist() if n.endswith(".xhtml")}


def test_module_book_content_and_order(tmp_path):
    result = build(astronomy(tmp_path / "blobs").snapshot(), tmp_path / "out")
    book = ebook.read_epub(str(epub_of(result)))
    spine = [book.get_item_with_id(idref).get_name() for idref, _ in book.spine]
    assert spine[:4] == ["title.xhtml", "toc.xhtml", "syllabus.xhtml", "announcements.xhtml"]
    assert len(spine) == 4 + 3  # three published modules; the draft module is left out
    texts = chapter_texts(epub_of(result))
    everything = "".join(texts.values())
    assert "Draft page" not in everything and "Hidden draft" not in everything
    assert "In a draft module" not in everything
    assert "SECRET-QUESTION-TEXT" not in everything  # quizzes are metadata only
    assert "Page in no module" not in everything  # left out when organising by module
    assert "Future news" not in everything  # delayed announcement not posted yet
    week3 = texts[f"OEBPS/{spine[6]}"]
    assert "This module is locked until" in week3 and "Galaxies" in week3
    assert week3.count("<a ") == 1 and "<section" not in week3  # locked: titles only, no links or bodies
    week1 = texts[f"OEBPS/{spine[4]}"]
    assert "Submitting: Online Upload, Online Text Entry" in week1 and "Grading: Points" in week1
    assert "Allowed attempts: Unlimited" in week1 and "Time limit: 30 minutes" in week1
    assert "Grading: Pass/Fail" in week1
    assert '<li class="indent-1"><a href=' in week1 and ">Telescopes</a>" in week1
    ann = texts["OEBPS/announcements.xhtml"]
    assert ann.index("Observatory night") < ann.index("Welcome to the course")  # newest first
    toc = texts["OEBPS/toc.xhtml"]  # written element by element: the same as the whole tree
    assert '<body><h1 id="toc">Table of Contents</h1><h2 class="note">Course Modules</h2>' in toc
    chapters = re.findall(r'<h2><a href="([^"#]+)">', toc)
    assert chapters == spine[2:] and toc.endswith("Week 3: Locked</a></h2></body></html>")
    assert toc.count("<ol>") == 3 and ">Telescopes</a></li>" in toc  # no list for the locked week
    assert book.get_metadata("DC", "language")[0][0] == "en"
    assert book.get_metadata("DC", "title")[0][0] == "Astronomy 101"
    assert book.get_metadata("DC", "identifier")[0][0].startswith("urn:uuid:")


def test_by_content_type_chapters(tmp_path):
    result = build(astronomy(tmp_path / "blobs").snapshot(by_content_type=True), tmp_path / "out")
    texts = chapter_texts(epub_of(result))
    names = sorted(n.rsplit("/", 1)[1] for n in texts)
    for chapter in ("assignments", "topics", "quizzes", "pages"):
        assert f"{chapter}.xhtml" in names
    pages = texts["OEBPS/pages.xhtml"]
    assert "Page in no module" in pages and "Galaxies" in pages  # no module filtering here
    assert ">Wiki Pages</h1>" in pages and ">Discussion Topics</h1>" in texts["OEBPS/topics.xhtml"]
    assignments = texts["OEBPS/assignments.xhtml"]
    assert "Moon journal" in assignments and "Planets quiz" not in assignments  # the quiz's assignment
    # the assignment's link to the orphan page now resolves
    assert re.search(r'<a href="pages\.xhtml#i[0-9a-f]{32}">the orphan page</a>', assignments)


def test_student_sees_no_hidden_file(tmp_path):
    teacher = build(astronomy(tmp_path / "blobs").snapshot(), tmp_path / "t")
    student = build(astronomy(tmp_path / "blobs2").snapshot(student=True), tmp_path / "s")
    with zipfile.ZipFile(epub_of(teacher)) as t, zipfile.ZipFile(epub_of(student)) as s:
        assert "OEBPS/media/images/hidden.png" in t.namelist()
        assert "OEBPS/media/images/hidden.png" not in s.namelist()


def test_file_names_and_outputs(tmp_path):
    result = build(astronomy(tmp_path / "blobs").snapshot(), tmp_path / "out")
    names = [f.path.name for f in result.files]
    assert names == ["Astronomy 101-2026-Sep-15_10-30-05.epub", "Astronomy 101-2026-Sep-15_10-30-05.zip"]
    assert [f.content_type for f in result.files] == ["application/epub+zip", "application/zip"]
    assert any("lost.pdf" in w for w in result.warnings)
    assert not (tmp_path / "out" / "epub-build").exists()  # staging removed


def test_same_snapshot_same_bytes(tmp_path):
    snap = astronomy(tmp_path / "blobs").snapshot()
    first, second = build(snap, tmp_path / "a"), build(snap, tmp_path / "b")
    for one, two in zip(first.files, second.files, strict=True):
        assert one.path.read_bytes() == two.path.read_bytes()


def test_no_companion_zip_without_unsupported_files(tmp_path):
    c = CourseBuilder(tmp_path / "blobs")
    c.file("pic.png")
    result = build(c.snapshot(), tmp_path / "out")
    assert [f.content_type for f in result.files] == ["application/epub+zip"]
    assert not list((tmp_path / "out").glob("*.zip"))


def test_container_layout(tmp_path):
    epub_path = epub_of(build(astronomy(tmp_path / "blobs").snapshot(), tmp_path / "out"))
    with zipfile.ZipFile(epub_path) as zf:
        first = zf.infolist()[0]
        assert (
            first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED and first.extra == b""
        )
        assert zf.read("mimetype") == b"application/epub+zip"
        assert zf.getinfo("OEBPS/media/images/moon-phases.png").compress_type == zipfile.ZIP_STORED
        assert zf.getinfo("OEBPS/toc.xhtml").compress_type == zipfile.ZIP_DEFLATED
    opf = etree.fromstring(read_entry(epub_path, "OEBPS/content.opf").encode())
    ns = {"o": "http://www.idpf.org/2007/opf"}
    assert opf.find("o:manifest/o:item[@properties='nav']", ns).get("href") == "nav.xhtml"
    assert opf.find("o:spine", ns).get("toc") == "ncx"
    ncx = read_entry(epub_path, "OEBPS/toc.ncx")
    identifier = opf.find("o:metadata/{http://purl.org/dc/elements/1.1/}identifier", ns).text
    assert f'content="{identifier}"' in ncx


def test_progress_runs_up_and_cancel_propagates(tmp_path):
    snap = astronomy(tmp_path / "blobs").snapshot()
    seen = []
    book = render_book(snap, tmp_path / "w", lambda p, m: seen.append(p))
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)
    seen.clear()
    package_book(book, tmp_path / "w", lambda p, m: seen.append(p))
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)

    def cancel(percent, message):
        if percent > 30:
            raise ExportCanceled()

    with pytest.raises(ExportCanceled):
        render_book(snap, tmp_path / "c", cancel)
    book = render_book(snap, tmp_path / "c2", lambda p, m: None)
    with pytest.raises(ExportCanceled):
        package_book(book, tmp_path / "c2", cancel)
    assert not list((tmp_path / "c2").glob("*.epub"))  # no half-written book left behind


def test_a_blob_gone_before_it_is_copied_fails_clearly(tmp_path, monkeypatch):
    import tui_exports.exporters.epub as epub_exporter

    c = astronomy(tmp_path / "blobs")
    sort = epub_exporter.plan_media

    def sorted_then_gone(*args, **kw):
        media = sort(*args, **kw)
        media.embedded[0].source.unlink()  # sniffed and planned, gone before it is copied
        return media

    monkeypatch.setattr(epub_exporter, "plan_media", sorted_then_gone)
    book = render_book(c.snapshot(), tmp_path / "w", lambda p, m: None)
    with pytest.raises(FileNotFoundError, match="left the library during the export"):
        package_book(book, tmp_path / "w", lambda p, m: None)
    assert not list((tmp_path / "w").glob("*.epub")) and not list((tmp_path / "w").glob("*.zip"))


def test_the_files_go_into_the_book_while_its_chapters_render(tmp_path):
    """The media are copied beside the rendering, so the book holds them right after its
    ``mimetype``, and its documents after; a book rendered and never packaged (its job failed
    between the two phases), or canceled while it renders, leaves no file behind."""
    import gc

    c = astronomy(tmp_path / "blobs")
    book = render_book(c.snapshot(), tmp_path / "w", lambda p, m: None)
    media = [f"OEBPS/{m.book_path}" for m in book.media]
    result = package_book(book, tmp_path / "w", lambda p, m: None)
    with zipfile.ZipFile(epub_of(result)) as zf:
        names = zf.namelist()
    assert media and names[: 1 + len(media)] == ["mimetype", *media]
    assert names[1 + len(media) : 3 + len(media)] == ["META-INF/container.xml", "OEBPS/content.opf"]

    render_book(c.snapshot(), tmp_path / "left", lambda p, m: None)
    gc.collect()
    assert not list((tmp_path / "left").glob("*.epub"))

    def cancel(percent, message):
        if message.startswith("Rendered"):
            raise ExportCanceled()

    with pytest.raises(ExportCanceled):
        render_book(c.snapshot(), tmp_path / "c", cancel)
    assert not list((tmp_path / "c").glob("*.epub"))

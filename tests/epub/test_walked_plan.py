"""The plan of a book read from the library holds no item: each chapter keeps the ids of its
entries, its parts as ranges of them and its anchors packed, and a part's entries are read again
when it is written, so memory does not grow with the items (issue 18, item 4)."""

from __future__ import annotations

import dataclasses
import gc
import zipfile

import pytest

from tui_exports.engine.select import SelectRequest, resolve
from tui_exports.engine.snapshot import build_snapshot
from tui_exports.exporters import epub
from tui_exports.exporters.common.links import classify
from tui_exports.exporters.epub.chapters import build_plan
from tui_exports.importers.synthetic import CourseSpec
from tui_exports.model import ModuleItem, Page, Role, no_progress
from tui_exports.store.content import Outline

PAGES = 60


@pytest.fixture
def course(service, monkeypatch) -> int:
    monkeypatch.setattr(Outline, "PAGE", 8)  # rows read at a time
    spec = CourseSpec(pages=PAGES, quizzes=2, questions_per_quiz=2, files=1, file_mb=0.01, modules=3)
    return service.generate_course(spec).course_id


def live(cls: type) -> int:
    gc.collect()
    return sum(isinstance(o, cls) for o in gc.get_objects())


@pytest.mark.parametrize("by_type", [False, True], ids=["modules", "by-type"])
def test_the_plan_holds_no_page_and_every_link_lands_in_the_book(service, tmp_path, course, by_type):
    snap = build_snapshot(
        service.library, course, service.user(service.owner_id()), Role.TEACHER, detail="outline"
    )
    if by_type:
        snap.course = dataclasses.replace(snap.course, organize_epub_by_content_type=True)
    snap.selection = resolve(SelectRequest(everything=True), snap)
    before = live(Page), live(ModuleItem)
    plan = build_plan(snap)
    assert (live(Page) - before[0], live(ModuleItem) - before[1]) == (0, 0)  # held: none of the 60

    pages = list(snap.pages)
    hrefs = {p.id: plan.content_href(classify(f"/courses/{course}/pages/{p.url}", course)) for p in pages}
    assert all(hrefs.values()) and len(set(hrefs.values())) == PAGES
    book = epub.render_book(snap, tmp_path, no_progress)
    result = epub.package_book(book, tmp_path, no_progress)
    with zipfile.ZipFile(result.files[0].path) as zf:
        documents = {
            n.removeprefix("OEBPS/"): zf.read(n).decode() for n in zf.namelist() if n.endswith("html")
        }
    for href in hrefs.values():  # each page is in the part its links name, under its anchor
        file, anchor = href.split("#")
        assert f'id="{anchor}"' in documents[file]
    nav = documents["nav.xhtml"]
    assert all(f'href="{h}"' in nav for h in hrefs.values())
    listed = sum(d.count("<section ") for d in documents.values())
    assert listed >= PAGES


@pytest.mark.parametrize("role", [Role.TEACHER, Role.STUDENT])
def test_a_part_reads_its_items_whole_in_one_read_not_one_by_one(
    service, tmp_path, course, monkeypatch, role
):
    """The parts cut by HTML lengths (read without the HTML), each part's items read whole
    together: no item is read on its own, and what a student may not see stays out."""
    store = type(service.library.content)
    reads = []
    item = store.item
    monkeypatch.setattr(store, "item", lambda self, cls, i: reads.append((cls, i)) or item(self, cls, i))
    snap = build_snapshot(service.library, course, service.user(service.owner_id()), role, detail="outline")
    snap.selection = resolve(SelectRequest(everything=True), snap)
    result = epub.package_book(epub.render_book(snap, tmp_path, no_progress), tmp_path, no_progress)
    assert reads == []
    with zipfile.ZipFile(result.files[0].path) as zf:
        sections = sum(zf.read(n).decode().count("<section ") for n in zf.namelist() if n.endswith(".xhtml"))
    assert sections >= len([p for p in snap.pages if p.published])


def test_a_page_hidden_after_the_plan_is_a_note_where_its_links_land(service, tmp_path, course, monkeypatch):
    import tui_exports.exporters.epub as epub_exporter

    snap = build_snapshot(
        service.library, course, service.user(service.owner_id()), Role.STUDENT, detail="outline"
    )
    snap.selection = resolve(SelectRequest(everything=True), snap)
    page = next(iter(snap.pages))
    plan_book = epub_exporter.build_plan

    def planned_then_hidden(snapshot):
        plan = plan_book(snapshot)
        service.library.content.db.execute("UPDATE pages SET published = 0 WHERE id = ?", [page.id])
        return plan

    monkeypatch.setattr(epub_exporter, "build_plan", planned_then_hidden)
    result = epub.package_book(epub.render_book(snap, tmp_path, no_progress), tmp_path, no_progress)
    assert any(f'"{page.title}"' in w and "hidden from students" in w for w in result.warnings)
    with zipfile.ZipFile(result.files[0].path) as zf:
        text = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".xhtml"))
    assert "(This item was deleted or hidden while the book was made.)" in text


def test_a_book_leaves_no_file_open(service, tmp_path, course):
    """The spooled outline is closed once nav and NCX are written, not when the collector gets
    round to the plan (its chapters point back at it)."""
    import os

    snap = build_snapshot(
        service.library, course, service.user(service.owner_id()), Role.TEACHER, detail="outline"
    )
    snap.selection = resolve(SelectRequest(everything=True), snap)
    gc.collect()
    gc.disable()
    try:
        before = len(os.listdir("/proc/self/fd"))
        epub.package_book(epub.render_book(snap, tmp_path, no_progress), tmp_path, no_progress)
        assert len(os.listdir("/proc/self/fd")) == before
    finally:
        gc.enable()


def test_a_module_of_many_parts_reads_its_items_once_to_write_them(service, tmp_path, course, monkeypatch):
    from tui_exports.exporters.epub import chapters

    monkeypatch.setattr(chapters, "PART_ITEMS", 5)  # each module's ~20 items in four parts or more
    store = type(service.library.content)
    reads = []
    module_items = store._module_items
    monkeypatch.setattr(store, "_module_items", lambda self, m: reads.append(m) or module_items(self, m))
    snap = build_snapshot(
        service.library, course, service.user(service.owner_id()), Role.TEACHER, detail="outline"
    )
    snap.selection = resolve(SelectRequest(everything=True), snap)
    plan = build_plan(snap)
    modules = [c for c in plan.chapters if c.kind == "module"]
    assert len(modules) == 3 and all(len(c.parts) >= 4 for c in modules)
    reads.clear()
    epub.package_book(epub.render_book(snap, tmp_path, no_progress), tmp_path, no_progress)
    assert sorted(reads) == sorted([c.module.id for c in modules] * 2)  # to plan, then to write

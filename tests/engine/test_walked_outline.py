"""An export walks the course's long lists (pages, quizzes, modules…) from SQLite a page of
rows at a time: what it holds does not grow with the course (issue 18, item 4)."""

from __future__ import annotations

import gc
import zipfile

import pytest

from tui_exports.engine.select import SelectRequest, resolve
from tui_exports.engine.snapshot import build_snapshot
from tui_exports.exporters.cc import export_common_cartridge
from tui_exports.exporters.cc import exporter as cc
from tui_exports.importers.synthetic import CourseSpec
from tui_exports.model import ContextType, ModuleItem, Page, Role, no_progress
from tui_exports.store.content import WALKS, Outline

PAGES = 60
ROWS = 8  # rows read at a time


@pytest.fixture
def course(service, monkeypatch) -> int:
    monkeypatch.setattr(Outline, "PAGE", ROWS)
    spec = CourseSpec(pages=PAGES, quizzes=2, questions_per_quiz=2, files=1, file_mb=0.01, modules=3)
    return service.generate_course(spec).course_id


def live(cls: type) -> int:
    gc.collect()
    return sum(isinstance(o, cls) for o in gc.get_objects())


@pytest.mark.slow  # it walks the whole heap (gc.get_objects) at every twentieth page
@pytest.mark.parametrize("role", [Role.TEACHER, Role.STUDENT])
def test_a_cartridge_export_holds_a_page_of_rows_not_the_course(service, tmp_path, monkeypatch, course, role):
    snap = build_snapshot(service.library, course, service.user(service.owner_id()), role, detail="outline")
    snap.selection = resolve(SelectRequest(everything=True), snap)
    held: list[tuple[int, int]] = []
    write_page = cc.CCExporter._page
    before = (live(Page), live(ModuleItem))  # what other tests of this process left alive

    def page(self, p):
        if p.id % 20 == 0:
            held.append((live(Page) - before[0], live(ModuleItem) - before[1]))
        return write_page(self, p)

    monkeypatch.setattr(cc.CCExporter, "_page", page)
    result = export_common_cartridge(snap, tmp_path, no_progress)
    with zipfile.ZipFile(result.files[0].path) as zf:
        names = zf.namelist()
        manifest = zf.read("imsmanifest.xml").decode()
    assert sum(n.startswith("wiki_content/") for n in names) == PAGES and len(held) == 3
    assert manifest.count('type="webcontent"') >= PAGES
    # a page of outlines and the page being written, never the course's 60 pages and their items
    assert max(p for p, _ in held) <= 2 * ROWS + 2
    assert max(i for _, i in held) <= PAGES // 3 + 8  # the items of one module at a time


def test_a_zip_export_reads_nothing_but_folders_and_files(service, runner, monkeypatch, course):
    walked, looked_up = [], []
    walk, find = Outline.__iter__, Outline.find
    monkeypatch.setattr(Outline, "__iter__", lambda self: walked.append(self.name) or walk(self))
    monkeypatch.setattr(Outline, "find", lambda self, **eq: looked_up.append(self.name) or find(self, **eq))
    owner = service.owner_id()
    made = service.create_content_export(owner, ContextType.COURSE, course, "zip")
    assert runner.wait_idle(60)
    done = service.store.content_export(made.id)
    assert done.workflow_state.value == "exported"
    with zipfile.ZipFile(service.attachment(done.attachment_id).path) as zf:
        assert len([n for n in zf.namelist() if not n.endswith("/")]) == 1  # the course's one file
    assert walked == [] and looked_up == []  # no page, quiz, module… was read


def test_each_walk_reads_its_rows_in_index_order(service, course):
    """A page of rows is read along an index, never sorted: a walk costs the rows it reads
    (a sort per page made the walk of 30,000 pages quadratic)."""
    content = service.library.content
    for name in WALKS:
        outline = Outline(content, name, course)
        for first in (True, False):
            params = [course] + ([] if first else [0] * len(outline.key))
            plan = content.db.execute(f"EXPLAIN QUERY PLAN {outline.page_sql(first)}", params).fetchall()
            steps = " / ".join(row[-1] for row in plan)
            assert "TEMP B-TREE" not in steps and "USING" in steps, (name, steps)


def test_a_walk_of_the_modules_reads_their_items_only_when_asked(service, course, monkeypatch):
    """The catalogue and the prerequisites' titles want the modules alone: their items (most
    of a course's rows) are read when a module's items are first asked for, once."""
    snap = build_snapshot(
        service.library, course, service.user(service.owner_id()), Role.TEACHER, detail="outline"
    )
    store = service.library.content
    reads: list[int] = []
    read = store._module_items
    monkeypatch.setattr(store, "_module_items", lambda module_id: reads.append(module_id) or read(module_id))
    modules = list(snap.modules)
    assert len(modules) == 3 and reads == []
    items = [len(m.items) for m in modules] + [len(m.items) for m in modules]
    assert reads == [m.id for m in modules] and sum(items) == 2 * sum(len(m.items) for m in snap.modules)
    assert modules[0].items == tuple(modules[0].items) and modules[0] == next(iter(snap.modules))

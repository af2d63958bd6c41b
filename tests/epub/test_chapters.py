"""Chapter plan: organisation, ordering, syllabus, parts and where links land."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from tui_exports.exporters.common.links import classify
from tui_exports.exporters.epub.chapters import build_plan

from .snapshots import EXPORTED_AT, CourseBuilder, astronomy


def href(plan, url: str, course_id: int = 101) -> str | None:
    return plan.content_href(classify(url, course_id))


def test_module_organisation(tmp_path):
    c = astronomy(tmp_path)
    plan = build_plan(c.snapshot())
    assert not plan.by_content_type
    assert [ch.title for ch in plan.chapters] == [
        "Title Page",
        "Table of Contents",
        "Syllabus",
        "Announcements",
        "Week 1: The Moon",
        "Week 2: Stars",
        "Week 3: Locked",
    ]
    week1 = plan.chapters[4]
    assert [e.kind for e in week1.entries] == [
        "subheader",
        "page",
        "page",
        "assignment",
        "assignment",
        "quiz",
        "file",
        "file",
        "external_url",
    ]
    locked = plan.chapters[6]
    assert locked.locked_until == EXPORTED_AT + timedelta(days=7)
    assert [(e.kind, e.anchor) for e in locked.entries] == [("title", None)]
    galaxies = next(p for p in c.pages if p.url == "galaxies")
    assert href(plan, c.page_link(galaxies)) is None  # locked content is not in the book


def test_by_content_type_when_set_or_without_modules(tmp_path):
    c = astronomy(tmp_path)
    plan = build_plan(c.snapshot(by_content_type=True))
    assert plan.by_content_type
    assert [ch.key for ch in plan.chapters] == [
        "title",
        "toc",
        "syllabus",
        "announcements",
        "assignments",
        "topics",
        "quizzes",
        "pages",
    ]
    assert [e.title for e in plan.chapters[7].entries] == [
        "Galaxies",
        "In a draft module",
        "Page in no module",
        "Telescopes",
        "Welcome",
    ]
    plain = CourseBuilder(tmp_path / "b", course_id=5)
    plain.page("p", "P")
    assert build_plan(plain.snapshot()).by_content_type


def test_syllabus_sorted_by_due_date_undated_last(tmp_path):
    c = CourseBuilder(tmp_path)
    c.assignment("Late", due_at=datetime(2026, 12, 1, tzinfo=UTC))
    c.assignment("No date B")
    c.assignment("Early", due_at=datetime(2026, 10, 1, tzinfo=UTC))
    c.assignment("No date A")
    c.quiz("Graded quiz", due_at=datetime(2026, 11, 1, tzinfo=UTC))
    c.quiz("Practice", graded=False, due_at=datetime(2026, 9, 30, tzinfo=UTC))
    c.quiz("Survey", quiz_type="graded_survey")
    c.topic("Graded talk", points=2.0, due_at=datetime(2026, 10, 15, tzinfo=UTC))
    c.assignment("Unpublished", published=False, due_at=datetime(2026, 9, 20, tzinfo=UTC))
    plan = build_plan(c.snapshot())
    assert [(s.title, s.kind) for s in plan.syllabus] == [
        ("Early", "assignment"),
        ("Graded talk", "discussion_topic"),
        ("Graded quiz", "quiz"),
        ("Late", "assignment"),
        ("No date A", "assignment"),
        ("No date B", "assignment"),
        ("Survey", "quiz"),
    ]
    assert all(s.href for s in plan.syllabus)


def test_syllabus_keeps_only_module_items_when_organised_by_module(tmp_path):
    c = astronomy(tmp_path)
    titles = [s.title for s in build_plan(c.snapshot()).syllabus]
    assert titles == ["Sky map", "Favourite star", "Planets quiz", "Moon journal", "Reflection"]
    c.assignment("Not in a module", due_at=datetime(2026, 9, 16, tzinfo=UTC))
    assert "Not in a module" not in [s.title for s in build_plan(c.snapshot()).syllabus]
    assert "Not in a module" in [s.title for s in build_plan(c.snapshot(by_content_type=True)).syllabus]


def test_announcements_newest_first_and_delayed_left_out(tmp_path):
    c = CourseBuilder(tmp_path)
    c.announcement("Old", posted_at=datetime(2026, 1, 1, tzinfo=UTC))
    c.announcement("New", posted_at=datetime(2026, 9, 1, tzinfo=UTC))
    c.announcement("Scheduled", delayed_post_at=EXPORTED_AT + timedelta(hours=1))
    c.announcement("Draft", published=False)
    plan = build_plan(c.snapshot())
    assert [e.title for e in plan.chapters[3].entries] == ["New", "Old"]


def test_links_land_on_the_right_anchor(tmp_path):
    c = astronomy(tmp_path)
    snap = c.snapshot()
    plan = build_plan(snap)
    week1 = plan.chapters[4]
    welcome = next(p for p in c.pages if p.url == "welcome")
    quiz = next(q for q in c.quizzes if q.title == "Planets quiz")
    entry = next(e for e in week1.entries if e.obj is welcome)
    assert href(plan, c.page_link(welcome)) == f"{week1.file}#{entry.anchor}"
    assert href(plan, f"/courses/101/pages/{welcome.id}") == entry.href  # by id as well as by slug
    assert href(plan, f"/courses/101/modules/items/{entry.item.id}") == entry.href
    assert href(plan, f"/courses/101/modules/{week1.module.id}") == f"{week1.file}#{week1.key}"
    quiz_entry = next(e for e in week1.entries if e.obj is quiz)
    assert href(plan, f"/courses/101/quizzes/{quiz.id}") == quiz_entry.href
    assert (
        href(plan, f"/courses/101/assignments/{quiz.assignment_id}") == quiz_entry.href
    )  # the quiz's assignment
    by_type = build_plan(c.snapshot(by_content_type=True))
    assert href(by_type, f"/courses/101/modules/items/{entry.item.id}") == href(by_type, c.page_link(welcome))
    assert href(by_type, f"/courses/101/modules/{week1.module.id}") is None  # no module chapters


def test_long_chapters_are_split_into_parts(tmp_path):
    c = CourseBuilder(tmp_path)
    pages = [c.page(f"p{n:03}", f"Page {n:03}", "<p>" + "x" * 5000 + "</p>") for n in range(120)]
    plan = build_plan(c.snapshot())
    chapter = plan.chapters[-1]
    # ~5,400 characters an item, 200,000 a part: 36 items a part
    assert [p.file for p in chapter.parts] == [
        "pages.xhtml",
        "pages-2.xhtml",
        "pages-3.xhtml",
        "pages-4.xhtml",
    ]
    assert [len(p.entries) for p in chapter.parts] == [36, 36, 36, 12]
    assert href(plan, c.page_link(pages[-1])).startswith("pages-4.xhtml#")
    many = CourseBuilder(tmp_path / "many")
    for n in range(250):
        many.page(f"q{n}", f"Q{n}")
    assert len(build_plan(many.snapshot()).chapters[-1].parts) == 3  # at most 100 items a part


def test_selection_limits_the_book(tmp_path):
    c = astronomy(tmp_path)
    snap = c.snapshot(by_content_type=True)
    telescopes = next(p for p in c.pages if p.url == "telescopes")
    ids = dict(snap.selection.ids)
    ids["wiki_pages"] = ids["wiki_pages"] - {telescopes.id}
    snap.selection = dataclasses.replace(snap.selection, ids=ids)
    plan = build_plan(snap)
    assert "Telescopes" not in [e.title for e in plan.chapters[-1].entries]
    assert href(plan, c.page_link(telescopes)) is None


def test_the_plan_holds_no_more_than_it_must_per_item(tmp_path):
    """A plan of 3,000 pages in modules adds under 160 bytes a page to the snapshot it reads
    (no entry: a module item's id in its chapter's array, its anchors packed, its outline line
    spooled to a file; no map of every page's url: a link by slug is one lookup); the index by
    id of a snapshot held in memory is most of it."""
    import tracemalloc

    from .big_course import big_course

    snapshot = big_course(tmp_path, 3000, 0, 0).snapshot()
    tracemalloc.start()
    try:
        plan = build_plan(snapshot)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held / 3000 < 160
    assert href(plan, "/courses/101/pages/page-7").endswith(plan.chapters[4].entries[7].anchor)

"""import(export(course)) gives the course back: for every demo course, as CC 1.1 and as CC 1.3, the
same counts by select type and the same page, assignment, topic and question text (links apart)."""

from __future__ import annotations

import re

import lxml.html
import pytest
from cartridge_kit import HAS_QTI, export_cc

from tui_exports.exporters.qti.documents import root_entries
from tui_exports.vocab import CC_TOKENS


def counts(library, course_id: int) -> dict[str, int]:
    c = library.content.course_content(course_id)
    used_folders = set()
    by_id = {f.id: f for f in c["folders"]}
    for f in c["files"]:  # a cartridge holds the folders of its files (empty ones have no place)
        folder = by_id.get(f.folder_id)
        while folder is not None:
            used_folders.add(folder.id)
            folder = by_id.get(folder.parent_id)
    out = {
        "wiki_pages": len(c["pages"]),
        "assignments": sum(1 for a in c["assignments"] if HAS_QTI or a.quiz_id is None),
        "discussion_topics": sum(1 for t in c["discussion_topics"] if not t.is_announcement),
        "announcements": sum(1 for t in c["discussion_topics"] if t.is_announcement),
        "attachments": len(c["files"]),
        "folders": len(used_folders),
        "context_modules": len(c["modules"]),
        "content_tags": sum(
            1 for m in c["modules"] for i in m.items if HAS_QTI or i.content_type.value != "Quizzes::Quiz"
        ),
        "rubrics": len(c["rubrics"]),
        "calendar_events": len(c["calendar_events"]),
        "assignment_groups": len(c["assignment_groups"]),
    }
    if HAS_QTI:
        out["quizzes"] = len(c["quizzes"])
    return out


def words(html: str) -> str:
    """The text a reader sees, without the links (their tokens and ids differ by design)."""
    if not html:
        return ""
    text = lxml.html.fragment_fromstring(html, create_parent="div").text_content()
    return re.sub(r"\s+", " ", text).strip()


def texts(library, course_id: int) -> dict[str, str]:
    c = library.content.course_content(course_id)
    out = {f"page {p.url}": words(p.body) for p in c["pages"]}
    out |= {
        f"assignment {a.title}": words(a.description)
        for a in c["assignments"]
        if HAS_QTI or a.quiz_id is None
    }
    out |= {f"topic {t.title}": words(t.message) for t in c["discussion_topics"]}
    out |= {f"event {e.title}": words(e.description) for e in c["calendar_events"]}
    out["syllabus"] = words(library.content.course(course_id).syllabus_body)
    if HAS_QTI:
        for q in c["quizzes"]:
            # in the order a quiz shows them (groups in place); a group's questions are numbered
            # within it after an import, as Canvas numbers them, and in the whole quiz in data/
            for n, qq in enumerate(in_quiz_order(q), start=1):
                out[f"quiz {q.title} question {n}"] = words(qq.question_text)
    return out


def in_quiz_order(quiz):
    for entry in root_entries(quiz):
        yield from entry[1] if isinstance(entry, tuple) else [entry]


@pytest.mark.parametrize("version", ["1.1.0", "1.3.0"])
def test_demo_courses_come_back_the_same(service, tmp_path, version):
    lib = service.library
    demo = [c.id for c in lib.content.courses()]
    assert len(demo) >= 3
    for course_id in demo:
        package = export_cc(service, course_id, tmp_path / f"{course_id}-{version}", version)
        report = service.import_package(package)
        assert counts(lib, report.course_id) == counts(lib, course_id), lib.content.course(course_id).name
        assert texts(lib, report.course_id) == texts(lib, course_id)
        old, new = lib.content.course(course_id), lib.content.course(report.course_id)
        assert (new.name, new.course_code, new.time_zone, new.start_at, new.end_at) == (
            old.name,
            old.course_code,
            old.time_zone,
            old.start_at,
            old.end_at,
        )
        # every link token became a library link again
        c = lib.content.course_content(report.course_id)
        bodies = (
            [p.body for p in c["pages"]] + [a.description for a in c["assignments"]] + [new.syllabus_body]
        )
        assert not any(token in body for body in bodies for token in CC_TOKENS)
        if not HAS_QTI:
            assert report.types["quizzes"].read == len(lib.content.course_content(course_id)["quizzes"])
            assert all("QTI reader" in w for w in report.types["quizzes"].warnings)


def test_module_structure_and_file_flags_survive(service, tmp_path):
    lib = service.library
    course_id = lib.content.courses()[0].id
    report = service.import_package(export_cc(service, course_id, tmp_path / "out", "1.3.0"))
    old, new = lib.content.course_content(course_id), lib.content.course_content(report.course_id)
    shape = lambda mods: [  # noqa: E731
        (
            m.name,
            m.published,
            [
                (i.content_type, i.title, i.indent, i.url)
                for i in m.items
                if HAS_QTI or i.content_type.value != "Quizzes::Quiz"
            ],
        )
        for m in mods
    ]
    assert shape(new["modules"]) == shape(old["modules"])
    flags = lambda files: sorted((f.display_name, f.hidden, f.locked, f.size, f.sha256) for f in files)  # noqa: E731
    assert flags(new["files"]) == flags(old["files"])
    paths = lambda folders: sorted(f.full_name for f in folders)  # noqa: E731
    assert set(paths(new["folders"])) <= set(paths(old["folders"]))
    pages = lambda ps: sorted((p.url, p.title, p.front_page, p.published) for p in ps)  # noqa: E731
    assert pages(new["pages"]) == pages(old["pages"])

"""Every demo course (data/) as an ePub, for a teacher and for a student: EPUBCheck-clean."""

from __future__ import annotations

import zipfile

import pytest

from .conftest import build, describe, epub_of


@pytest.mark.slow
def test_demo_courses_make_valid_books(home, tmp_path, epubcheck):
    try:
        from tui_exports.engine.select import SelectRequest, resolve
        from tui_exports.engine.service import ExportService
        from tui_exports.engine.snapshot import build_snapshot
        from tui_exports.paths import Home
    except ImportError as e:  # the engine is built in parallel with the exporters
        pytest.skip(f"engine not available: {e}")
    service = ExportService.open(Home.from_env(home))
    try:
        books = {}
        courses = service.content.courses()
        assert courses, "the demo library loaded no course"
        for course in courses:
            enrollments = service.content.enrollments_in_course(course.id)
            for wanted in ("teacher", "student"):
                enrollment = next((e for e in enrollments if e.role.value == wanted), None)
                if enrollment is None:
                    continue
                user = service.content.user(enrollment.user_id)
                snap = build_snapshot(service.library, course.id, user, enrollment.role)
                snap.selection = resolve(SelectRequest(everything=True), snap)
                result = build(snap, tmp_path / f"{course.id}-{wanted}")
                books[epub_of(result)] = (course.name, wanted, result)
    finally:
        service.close()
    assert len(books) >= 2 * len(courses) - 1
    reports = epubcheck(list(books))
    failures = [
        f"{name} as {who}:\n{describe(bad)}"
        for book, (name, who, _) in books.items()
        if (bad := [m for m in reports[book] if m["severity"] in ("FATAL", "ERROR", "WARNING")])
    ]
    assert not failures, "\n\n".join(failures)
    for book, (name, who, _) in books.items():
        with zipfile.ZipFile(book) as zf:
            assert any(n.startswith("OEBPS/media/") for n in zf.namelist()), (
                name,
                who,
            )  # demo images embedded

"""The course list's catalogue: the local library reads a page and a count, never every course,
and its filter finds what the in-memory catalogue (a Canvas instance's) finds, in any case."""

from __future__ import annotations

import pytest

from tui_exports.backends.base import CourseCatalogue
from tui_exports.backends.local import LocalBackend
from tui_exports.importers.synthetic import add_empty_courses
from tui_exports.model import Role


@pytest.fixture
def local(home):
    backend = LocalBackend.open(jobs="none")
    lib = backend.service.library
    add_empty_courses(lib, 500, backend.current_user().id)
    add_empty_courses(lib, 3, backend.current_user().id, prefix="École")
    with lib.transaction():  # a second, weaker role: the course is found by the stronger one only
        lib.content.db["enrollments"].insert(
            {
                "user_id": backend.current_user().id,
                "course_id": 5,
                "role": Role.OBSERVER.value,
                "state": "active",
            }
        )
    yield backend
    backend.close()


QUERIES = [
    "",
    "observer",
    "fil",
    "course 00042",
    "ÉCOLE",
    "école course 00002",
    "teacher",
    "synthetic term",
    "zzz",
    "  Fil  ",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_local_catalogue_finds_what_the_whole_list_finds(local, query):
    whole = CourseCatalogue(local.courses())
    catalogue = local.course_catalogue()
    assert catalogue.total == whole.total == 3 + 503
    for limit in (1, 20, 300):
        got, found = catalogue.find(query, limit)
        want, want_found = whole.find(query, limit)
        assert found == want_found
        assert [c.id for c in got] == [c.id for c in want]
        assert got == want  # the same summaries, field by field


def test_a_page_reads_only_its_courses(local, monkeypatch):
    from tui_exports.store.rows import from_row

    made = []

    def counting(cls, row):
        made.append(cls.__name__)
        return from_row(cls, row)

    monkeypatch.setattr("tui_exports.store.content.from_row", counting)
    catalogue = local.course_catalogue()
    courses, found = catalogue.find("", 300)
    assert len(courses) == 300 and found == 506
    assert made.count("Course") == 300  # not 506
    made.clear()
    courses, found = catalogue.find("école", 300)
    assert [c.course_code for c in courses] == ["ÉCO-00001", "ÉCO-00002", "ÉCO-00003"] and found == 3
    assert made.count("Course") == 3


def test_a_later_page_is_the_next_slice_of_what_the_whole_list_finds(local):
    whole = CourseCatalogue(local.courses())
    catalogue = local.course_catalogue()
    for query in ("", "fil", "course 0004", "école"):
        everything, found = whole.find(query, 1000)
        for offset in (0, 30, 480, 505, 600):
            got, got_found = catalogue.find(query, 30, offset)
            assert got_found == found
            assert [c.id for c in got] == [c.id for c in everything[offset : offset + 30]]


def test_typing_and_erasing_finds_what_a_fresh_search_finds(local):
    """A text that holds the last one searched looks among what that found: typing on, erasing,
    and typing something else each find what a catalogue that never searched before finds."""
    catalogue = local.course_catalogue()
    typed = ["f", "fi", "fil", "fil-0004", "fil-00042", "fil-0004", "il-0004", "0004", "école", "o", ""]
    for query in typed:
        got, found = catalogue.find(query, 20)
        want, want_found = local.course_catalogue().find(query, 20)
        assert (found, [c.id for c in got]) == (want_found, [c.id for c in want]), query

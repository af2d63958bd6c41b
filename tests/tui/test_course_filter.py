"""The course list of a large library: the filter shows what the last key typed finds, and the
list reads the next page of courses as the highlight comes near the last one shown."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tui_exports.importers.synthetic import add_empty_courses
from tui_exports.tui.widgets import MY_FILES, PAGE

from .conftest import make_app, wait_for
from .test_flow import started

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def library(backend):
    add_empty_courses(backend.service.library, 1000, backend.current_user().id)
    return backend


def codes(app) -> list[str]:
    return [c.course_code for c in app.main.courses.courses]


async def test_the_list_shows_what_the_last_key_typed_finds(home: Path, library) -> None:
    """Each key asks the catalogue again; an answer for an earlier text that comes back after a
    later one (here: every text shorter than the last is answered slowly) is never shown."""
    app = make_app(library, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app)
        await wait_for(pilot, lambda: app.main.catalogue._index is not None, what="the index read ahead")
        catalogue = app.main.catalogue
        find = catalogue.find
        answered: list[str] = []
        lock = threading.Lock()

        def slow_find(query: str, limit: int, offset: int = 0):
            if len(query) < len("fil-0099"):
                time.sleep(0.15)  # answered after the last key's text
            result = find(query, limit, offset)
            with lock:
                answered.append(query)
            return result

        catalogue.find = slow_find
        await pilot.press("slash", *"fil-0099")
        await wait_for(pilot, lambda: codes(app)[:1] == ["FIL-00990"], what="the last text's courses")
        await wait_for(pilot, lambda: len(answered) >= 3 and answered[-1] != "fil-0099", what="slow answers")
        await pilot.pause(0.3)  # every earlier answer is in: none of them replaced the list
        assert codes(app) == [f"FIL-{n:05d}" for n in range(990, 1000)]
        more = [
            str(app.main.courses.get_option_at_index(i).prompt) for i in range(app.main.courses.option_count)
        ]
        assert not any("more courses" in line for line in more)
        assert app.main.course.course_code == "FIL-00990"

        catalogue.find = find
        await pilot.press("backspace", "backspace")  # "fil-00" (not FIL-01000): erasing widens the list
        await wait_for(pilot, lambda: app.main.courses.found == 999, what="the wider list")
        assert codes(app) == [f"FIL-{n:05d}" for n in range(1, PAGE + 1)]
        last = app.main.courses.get_option_at_index(PAGE)
        assert last.disabled and f"{999 - PAGE:,} more courses" in str(last.prompt)


async def test_the_next_page_is_read_as_the_highlight_nears_the_end(home: Path, library) -> None:
    """Past the first page, and past the hundred courses the list once stopped at: the
    highlight moves on through the library, the line below counts what is left."""
    app = make_app(library, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app)
        courses = app.main.courses
        assert len(courses.courses) == PAGE and courses.found == 1003
        courses.focus()
        await pilot.press(*["down"] * 4)
        assert len(courses.courses) == PAGE  # far from the end: nothing more read yet
        for pages in range(2, 5):  # end: down to My files, below the line counting the rest
            await pilot.press("end")
            await wait_for(pilot, lambda p=pages: len(courses.courses) == p * PAGE, what="the next page")
        await pilot.press("up")  # over the line counting the rest (it cannot be highlighted)
        shown = len(courses.courses)
        assert shown % PAGE == 0 and shown > 100
        assert codes(app) == [c.course_code for c in library.courses()[:shown]]  # in order, none twice
        assert app.main.course.course_code == codes(app)[courses.highlighted]
        more = courses.get_option_at_index(shown)
        assert more.disabled and f"{1003 - shown:,} more courses" in str(more.prompt)
        assert courses.get_option_at_index(shown + 1).id == str(MY_FILES.id)
        await wait_for(pilot, lambda: app.main.history.course_id == app.main.course.id, what="its history")

"""Acting as a user who cannot see the highlighted course moves the highlight to one they can."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_exports.importers.synthetic import CourseSpec

from .conftest import make_app, settle, wait_for
from .test_flow import started

pytestmark = pytest.mark.anyio


@pytest.mark.slow
async def test_act_as_someone_who_cannot_see_the_course(home: Path, backend) -> None:
    course_id = backend.service.generate_course(CourseSpec(pages=1, quizzes=0, files=0)).course_id
    app = make_app(backend, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot, app)
        options = app.main.courses
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index(str(course_id))
        await wait_for(
            pilot, lambda: app.main.history.course_id == course_id, what="the new course's history"
        )
        student = next(u for u in app.users if u.key == "student1")
        app.act_as(student.id)
        await wait_for(pilot, lambda: app.user and app.user.key == "student1", what="acting as the student")
        await wait_for(
            pilot,
            lambda: app.main.course and app.main.history.course_id == app.main.course.id != course_id,
            what="a visible course's history",
        )
        assert app.main.course.role == "student"
        for _ in range(3):  # the poller reads the student's course, never the one they cannot see
            app.wake_poller()
            await pilot.pause(0.2)
            await settle(pilot, app)
        assert not [n for n in app._notifications if n.severity in ("error", "warning")], [
            n.message for n in app._notifications
        ]

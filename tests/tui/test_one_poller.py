"""One poller per job: while the app follows an export it started, the history poller does
not read that export's Progress too; the follower's readings reach the history."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from textual.worker import get_current_worker

from tui_exports.backends.base import FollowsJobs
from tui_exports.engine.runner import ExportRunner
from tui_exports.model import ContextType, ExportResult, OutputFile
from tui_exports.tui.screens import ExportRequest

from .conftest import make_app, wait_for

pytestmark = pytest.mark.anyio


class Watched(FollowsJobs):
    """The local backend, noting which group of workers reads each Progress."""

    poll_seconds = 0.1
    reload_while_running = True

    def __init__(self, inner: Any):
        self.inner = inner
        self.readers: dict[int, set[str]] = defaultdict(set)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def progress(self, progress_id: int) -> dict[str, Any]:
        self.readers[progress_id].add(get_current_worker().group)
        return self.inner.progress(progress_id)


def slow(snap, workdir: Path, progress) -> ExportResult:
    out = workdir / "slow.zip"
    for i in range(30):
        progress(i * 3, f"step {i}")
        time.sleep(0.05)
    out.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return ExportResult([OutputFile(out, "application/zip")])


@pytest.mark.slow
async def test_the_follower_is_the_only_reader_of_its_progress(home: Path, backend, monkeypatch) -> None:
    monkeypatch.setattr(ExportRunner, "exporter", lambda self, ce: slow)
    watched = Watched(backend)
    app = make_app(watched, home)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.main.courses.option_count, what="courses")
        await wait_for(pilot, lambda: app.main.history.course_id is not None, what="history")
        course = next(c for c in backend.courses() if c.id == app.main.history.course_id)
        app.start_export(ExportRequest(course, "zip", watched, ContextType.COURSE, course.id, None, True))
        table = app.main.history
        await wait_for(
            pilot,
            lambda: any("exported" in str(table.get_row_at(i)[2]) for i in range(table.row_count)),
            timeout=20,
            what="an exported row",
        )
        seen = {pid: groups for pid, groups in watched.readers.items() if "start" in groups}
        assert seen and all(groups == {"start"} for groups in seen.values()), dict(watched.readers)
        await wait_for(pilot, lambda: not app.followed, what="the follower to forget it once it ended")

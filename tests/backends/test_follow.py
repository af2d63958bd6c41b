"""One follower and one downloader behind every Backend: ``follow`` ends on the vocabulary's
final states (``exported_for_course_copy`` too, an ePub's ``exported`` not), ``download``
reports bytes, and the CLI goes through them (the CLI no longer imports cli_remote's caller)."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tui_exports.backends.base import Backend, BackendError, FollowsJobs
from tui_exports.backends.canvas import CanvasBackend
from tui_exports.backends.local import LocalBackend
from tui_exports.cli import commands as cli
from tui_exports.model import ContextType

C = ContextType.COURSE


class Scripted(FollowsJobs):
    """A backend whose job walks through given (progress state, record state) steps."""

    label = "scripted"
    poll_seconds = 0

    def __init__(
        self, kind: str, steps: list[tuple[str | None, str]], files: dict[str, dict[str, Any]] | None = None
    ):
        self.kind, self.steps, self.files = kind, steps, files or {}
        self.at = 0
        self.fetched: list[str] = []

    def _step(self) -> tuple[str | None, str]:
        return self.steps[min(self.at, len(self.steps) - 1)]

    def progress(self, progress_id: int) -> dict[str, Any]:
        state = self._step()[0]
        self.at += 1
        if self.at > 100:
            raise AssertionError("still following a job that has ended")
        return {
            "id": progress_id,
            "workflow_state": state,
            "completion": 100.0 if state == "completed" else 50.0,
        }

    def _record(self) -> dict[str, Any]:
        return {
            "id": 5,
            "export_type": "zip",
            "workflow_state": self._step()[1],
            "created_at": "now",
            "progress_url": "http://x/api/v1/progress/4",
            **self.files,
        }

    def content_export(self, context_type: ContextType, context_id: int, export_id: int) -> dict[str, Any]:
        return self._record()

    def epub_export(self, course_id: int, epub_id: int) -> dict[str, Any]:
        return {"id": course_id, "name": "Course", "epub_export": self._record()}

    def create_content_export(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._record()

    def fetch_file(self, attachment, dest_dir=None, progress=None) -> Path:
        self.fetched.append(attachment["filename"])
        if progress:
            progress(3, 6)
            progress(6, 6)
        return Path("/downloads") / attachment["filename"]


def test_both_backends_have_follow_and_download() -> None:
    for cls in (LocalBackend, CanvasBackend):
        assert callable(cls.follow) and callable(cls.download)
    assert {"follow", "download"} <= set(Backend.__dict__)


def test_exported_for_course_copy_is_the_end_of_a_follow(capsys) -> None:
    """The CLI's follower used to list its own final states and lacked this one: it never ended."""
    backend = Scripted("content", [("running", "exporting"), ("completed", "exported_for_course_copy")])
    seen: list[tuple[str, str]] = []
    final = backend.follow(
        "content",
        C,
        1,
        {"id": 5, "progress_url": "http://x/api/v1/progress/4"},
        lambda p, e: seen.append((p["workflow_state"], e.get("workflow_state"))),
    )
    assert final["workflow_state"] == "exported_for_course_copy"
    assert seen[-1] == ("completed", "exported_for_course_copy")
    backend = Scripted("content", [("running", "exporting"), ("completed", "exported_for_course_copy")])
    args = cli.build_parser().parse_args(["export", "1", "--type", "zip", "--wait", "--json"])
    assert cli.run_command(args, backend) == 0  # ended, and not as a failure
    out, err = capsys.readouterr()
    assert json.loads(out)["workflow_state"] == "exported_for_course_copy" and "100%" in err


def test_an_epub_that_is_exported_is_still_running() -> None:
    """``exported`` ends a content export, but an ePub goes on to generating and generated."""
    steps = [
        ("running", "exporting"),
        ("running", "exported"),
        ("running", "generating"),
        ("completed", "generated"),
    ]
    backend = Scripted("epub", steps)
    final = backend.follow("epub", C, 1, {"id": 5, "progress_url": "http://x/api/v1/progress/4"})
    assert final["workflow_state"] == "generated"


def test_a_progress_that_ends_before_its_record_waits_for_the_record() -> None:
    """A canceled local job (its Progress ``failed``, as Canvas's progress#cancel leaves it) fails
    its record at its next progress call, a moment later; on Canvas the record stays exporting."""
    backend = Scripted(
        "content",
        [
            ("running", "exporting"),
            ("failed", "exporting"),
            ("failed", "exporting"),
            ("failed", "failed"),
        ],
    )
    assert (
        backend.follow("content", C, 1, {"id": 5, "progress_url": "http://x/api/v1/progress/4"})[
            "workflow_state"
        ]
        == "failed"
    )
    stuck = Scripted("content", [("running", "exporting"), ("failed", "exporting")])
    assert (
        stuck.follow("content", C, 1, {"id": 5, "progress_url": "http://x/api/v1/progress/4"})[
            "workflow_state"
        ]
        == "exporting"
    )


def test_follow_stops_when_asked_and_times_out() -> None:
    backend = Scripted("content", [("running", "exporting")])
    export = {"id": 5, "progress_url": "http://x/api/v1/progress/4"}
    assert backend.follow("content", C, 1, export, pause=lambda s: False)["id"] == 5
    with pytest.raises(BackendError, match="did not finish within"):
        backend.follow("content", C, 1, export, timeout=0.05, pause=lambda s: time.sleep(0.005) or True)


def test_download_reports_bytes_per_file_and_skips_files_on_disk() -> None:
    book = {"id": 1, "filename": "course.epub", "url": "http://x/files/1"}
    companion = {"id": 2, "filename": "course.zip", "url": "http://x/files/2", "path": "/already/here.zip"}
    backend = Scripted(
        "epub", [("completed", "generated")], {"epub_attachment": book, "zip_attachment": companion}
    )
    ticks: list[tuple[str, int, int | None]] = []
    ep = backend.epub_export(1, 5)["epub_export"]
    done = backend.download("epub", ep, lambda att, n, total: ticks.append((att["filename"], n, total)))
    assert done["epub_attachment"]["path"] == str(Path("/downloads/course.epub"))
    assert done["zip_attachment"]["path"] == "/already/here.zip" and backend.fetched == ["course.epub"]
    assert ticks == [("course.epub", 3, 6), ("course.epub", 6, 6)]
    assert "path" not in ep["epub_attachment"]  # a copy: the export given is left as it was
    with pytest.raises(BackendError, match="no file to download"):
        backend.download("content", {"id": 5, "workflow_state": "exporting"})


def test_cli_and_cli_remote_do_not_import_each_other() -> None:
    import tui_exports.cli.remote as remote

    tree = ast.parse(Path(remote.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "cli" not in imported and "tui_exports.cli" not in imported


def test_a_bare_progress_is_followed_by_the_same_follower() -> None:
    backend = Scripted(
        "content", [("queued", "created"), ("running", "exporting"), ("completed", "exported")]
    )
    seen: list[str] = []
    end = backend.follow(
        "progress",
        C,
        0,
        {"progress_url": "http://x/api/v1/progress/4"},
        lambda p, e: seen.append(e["workflow_state"]),
    )
    assert end["workflow_state"] == "completed" and seen == ["queued", "running", "completed"]
    with pytest.raises(BackendError, match="not a progress URL"):
        backend.follow("progress", C, 0, {"progress_url": None})


def test_a_job_run_in_this_process_wakes_its_follower_when_it_ends(service, monkeypatch) -> None:
    """``--wait`` on the local library: the job runs on this process's runner, and its end wakes
    the follower at once instead of at its next poll (here a minute away)."""
    monkeypatch.setattr(LocalBackend, "poll_seconds", 60)
    backend = LocalBackend(service, jobs="inprocess")
    waited: list[float] = []

    def pause(seconds: float) -> bool:
        start = time.monotonic()
        backend.pause_between_polls(seconds)
        waited.append(time.monotonic() - start)
        return True

    try:
        export = backend.create_content_export(C, 1, "zip")
        done = backend.follow("content", C, 1, export, pause=pause)
    finally:
        backend.close()
    assert done["workflow_state"] == "exported"
    assert waited and max(waited) < 30  # woken by the end, not by the minute's poll

"""The zip export's bytes for teacher and student, and the job lifecycle around any export."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest

from tui_exports.model import ContextType as C
from tui_exports.model import ExportResult, JobKind, OutputFile

ASTR, HIST, CS = 1, 2, 3


def run_export(service, runner, uid, context, cid, export_type="zip", select=None, **kw):
    ce = service.create_content_export(uid, context, cid, export_type, select, **kw)
    assert runner.wait_idle(60)
    return service.store.content_export(ce.id), service.content_export_json(
        service.store.content_export(ce.id)
    )


def test_teacher_zip_has_every_folder_and_hidden_files(service, runner, users):
    ce, data = run_export(service, runner, users["teacher"], C.COURSE, ASTR)
    path = Path(data["attachment"]["path"])
    assert path.name == "course_files_export.zip" and data["attachment"]["size"] == path.stat().st_size
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert zf.testzip() is None
        infos = {i.filename: i for i in zf.infolist()}
    assert "student-uploads/" in names  # empty folder, explicit entry
    assert "instructor/moon-quiz-answer-key.txt" in names  # hidden folder: teachers get it
    assert "images/sky/" in names and "images/sky/winter/orion.jpg" in names
    assert infos["images/moon-phases.png"].compress_type == zipfile.ZIP_STORED
    assert infos["data/planet-data.csv"].compress_type == zipfile.ZIP_DEFLATED
    assert not any(n.startswith(("/", "..")) or "/../" in n for n in names)
    # DOS timestamps carry the export time in the course's time zone (America/Denver)
    from zoneinfo import ZoneInfo

    local = ce.created_at.astimezone(ZoneInfo("America/Denver"))
    stamp = infos["data/planet-data.csv"].date_time
    assert stamp[:3] == (local.year, local.month, local.day) and abs(stamp[3] - local.hour) <= 1
    if shutil.which("unzip"):
        assert subprocess.run(["unzip", "-tq", str(path)], capture_output=True).returncode == 0
    assert data["errors"] == []


def test_student_zip_leaves_out_hidden_and_locked(service, runner, users):
    _, data = run_export(service, runner, users["student1"], C.COURSE, ASTR)
    with zipfile.ZipFile(data["attachment"]["path"]) as zf:
        names = zf.namelist()
    assert not any(n.startswith("instructor") for n in names)  # hidden folder
    assert "handouts/final-exam-review.txt" not in names  # locked file
    assert "handouts/observing-log-template.txt" in names
    # CS 110: locked folder and a file that unlocks in 2027
    _, data = run_export(service, runner, users["student1"], C.COURSE, CS)
    with zipfile.ZipFile(data["attachment"]["path"]) as zf:
        names = zf.namelist()
    assert not any(n.startswith("solutions") for n in names)
    assert not any(n.endswith(".zip") and "final-challenge" in n for n in names)
    assert "grading-notes.txt" not in names


def test_selected_files_are_relative_to_their_deepest_common_folder(service, runner, users):
    files = {i["path"]: i["id"] for i in service.content_list(users["teacher"], ASTR)["attachments"]}
    folders = {i["path"]: i["id"] for i in service.content_list(users["teacher"], ASTR)["folders"]}
    _, data = run_export(
        service,
        runner,
        users["teacher"],
        C.COURSE,
        ASTR,
        select={"files": [files["images/moon-phases.png"]], "folders": [folders["course files/images/sky"]]},
    )
    path = Path(data["attachment"]["path"])
    assert path.name == "images_export.zip"
    assert sorted(zipfile.ZipFile(path).namelist()) == [
        "moon-phases.png",
        "sky/",
        "sky/winter/",
        "sky/winter/orion.jpg",
    ]


def test_group_zip(service, runner, users):
    _, data = run_export(service, runner, users["student1"], C.GROUP, 1)
    assert Path(data["attachment"]["path"]).name == "files_export.zip"
    names = zipfile.ZipFile(data["attachment"]["path"]).namelist()
    assert any(n.startswith("sketches/") for n in names)


def test_unreadable_file_is_skipped_with_a_recorded_warning(service, runner, users):
    f = next(
        x for x in service.content.context_files(C.COURSE, ASTR).files if x.display_name.endswith(".csv")
    )
    f.blob_path.unlink()
    ce, data = run_export(service, runner, users["teacher"], C.COURSE, ASTR)
    assert ce.workflow_state.value == "exported"
    assert data["errors"] == [
        f"Skipped file {f.display_name} due to error: its bytes are missing from the library"
    ]
    assert "data/planet-data.csv" not in zipfile.ZipFile(data["attachment"]["path"]).namelist()


def test_notifications_follow_spec(service, runner, users, monkeypatch):
    t = users["teacher"]
    run_export(service, runner, t, C.COURSE, ASTR)  # zip: never notifies
    assert service.notifications(t) == []
    slow_ok = lambda snap, workdir, progress: _write(workdir)  # noqa: E731
    monkeypatch.setattr(service.runner, "exporter", lambda ce: slow_ok)
    run_export(service, runner, t, C.COURSE, ASTR, "common_cartridge", skip_notifications=True)
    assert service.notifications(t) == []
    run_export(service, runner, t, C.COURSE, ASTR, "common_cartridge")
    assert [n.name for n in service.notifications(t)] == ["content_export_finished"]

    def broken(snap, workdir, progress):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service.runner, "exporter", lambda ce: broken)
    ce, data = run_export(service, runner, t, C.COURSE, ASTR, "qti")
    assert ce.workflow_state.value == "failed" and data["errors"] == ["RuntimeError: disk on fire"]
    assert "attachment" not in data
    assert service.progress(t, ce.progress_id).workflow_state.value == "failed"
    assert [n.name for n in service.notifications(t)] == ["content_export_failed", "content_export_finished"]
    assert not list(service.library.exports_dir.glob(".work-*"))


def _write(workdir: Path, name: str = "out.imscc") -> ExportResult:
    p = workdir / name
    p.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return ExportResult([OutputFile(p, "application/zip")])


def test_cancel_a_running_export(service, runner, users, monkeypatch):
    started = threading.Event()

    def slow(snap, workdir, progress):
        (workdir / "partial.zip").write_bytes(b"half")
        started.set()
        for i in range(400):
            progress(i / 4, f"step {i}")
            time.sleep(0.01)
        return _write(workdir)

    monkeypatch.setattr(service.runner, "exporter", lambda ce: slow)
    t = users["teacher"]
    ce = service.create_content_export(t, C.COURSE, ASTR, "common_cartridge")
    runner.claim_pending()
    assert started.wait(10)
    p = service.cancel(t, ce.progress_id, "changed my mind")
    # Canvas's progress#cancel: the Progress fails with the message sent (no state of its own)
    assert (p.workflow_state.value, p.message) == ("failed", "changed my mind")
    assert runner.wait_idle(30)
    ce = service.store.content_export(ce.id)
    assert ce.workflow_state.value == "failed" and ce.errors == ["canceled: changed my mind"]
    p = service.progress(t, ce.progress_id)
    assert (p.workflow_state.value, p.message) == ("failed", "changed my mind")
    assert not (service.library.exports_dir / f"content-{ce.id}").exists()
    assert not list(service.library.exports_dir.glob(".work-*"))


def test_an_error_after_the_export_ended_leaves_it_ended_and_is_still_raised(service, users, monkeypatch):
    """A failing notification, after the export was marked exported, cannot fail it any more;
    the error must not vanish either (the runner logs what a job raises)."""

    def broken(record, ok):
        raise RuntimeError("mail server down")

    monkeypatch.setattr(service.runner, "notify", broken)
    ce = service.create_content_export(users["teacher"], C.COURSE, ASTR, "zip")
    assert service.store.claim(JobKind.CONTENT, ce.id, 1, state="created")
    with pytest.raises(RuntimeError, match="mail server down"):
        service.run_content_export(ce.id)
    ce = service.store.content_export(ce.id)
    assert ce.workflow_state.value == "exported" and not ce.errors


def test_stopping_a_runner_ends_its_threads_before_the_service_closes(service, users, monkeypatch):
    """The queue and monitor threads use the service's connections; they must be gone when
    stop() returns, and a job canceled by the shutdown ends as failed, with the reason."""
    from tui_exports.engine import JobRunner

    started = threading.Event()

    def slow(snap, workdir, progress):
        started.set()
        for i in range(1000):
            progress(i / 10, None)
            time.sleep(0.01)
        return _write(workdir)

    monkeypatch.setattr(service.runner, "exporter", lambda ce: slow)
    runner = JobRunner(service, poll_seconds=0.01)
    claim = runner.claim_pending
    claiming = threading.Event()

    def slow_claim():  # the queue thread is reading the queue when stop() comes
        claimed = claim()
        claiming.set()
        time.sleep(0.3)
        return claimed

    monkeypatch.setattr(runner, "claim_pending", slow_claim)
    ce = service.create_content_export(users["teacher"], C.COURSE, ASTR, "zip")
    runner.start()
    assert started.wait(10) and claiming.wait(10)
    handed_back = runner.stop(wait=True)
    assert not any(t.is_alive() for t in runner._threads)
    ce = service.store.content_export(ce.id)
    # not canceled: back in the queue, claimed by nobody, for the next runner
    assert handed_back == [("content", ce.id)]
    assert ce.workflow_state.value == "created" and ce.runner_pid is None and ce.errors == []
    progress = service.store.progress(ce.progress_id)
    assert progress.workflow_state.value == "queued" and progress.completion == 0


def test_progress_is_written_a_few_times_a_second(service, runner, users, monkeypatch):
    writes = []
    original = service.store.report_progress
    monkeypatch.setattr(
        service.store, "report_progress", lambda pid, c, m: (writes.append(c), original(pid, c, m))[1]
    )

    def chatty(snap, workdir, progress):
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            progress(50, None)
        return _write(workdir)

    monkeypatch.setattr(service.runner, "exporter", lambda ce: chatty)
    run_export(service, runner, users["teacher"], C.COURSE, ASTR, "qti")
    assert 2 <= len(writes) <= 8  # ~4/s over one second, not thousands


def test_epub_stuck_past_the_limit_is_failed_by_the_runner(service, users, monkeypatch):
    import types

    from tui_exports.engine import JobRunner
    from tui_exports.engine.settings import Settings

    service.settings = Settings(epub_timeout_minutes=0, heartbeat_seconds=0.1)
    release = threading.Event()
    fake = types.ModuleType("tui_exports.exporters.epub")
    fake.render_book = lambda snap, workdir, progress, **kw: (release.wait(10), progress(1, None))
    fake.package_book = lambda book, workdir, progress: _write(workdir, "x.epub")
    monkeypatch.setitem(__import__("sys").modules, "tui_exports.exporters.epub", fake)
    import tui_exports.exporters as pkg

    monkeypatch.setattr(pkg, "epub", fake, raising=False)
    runner = JobRunner(service).start()
    try:
        ep = service.create_epub_export(users["teacher"], ASTR)
        deadline = time.monotonic() + 10
        while (
            service.store.epub_export(ep.id).workflow_state.value != "failed" and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        ep = service.store.epub_export(ep.id)
        assert ep.workflow_state.value == "failed"  # while the builder is still blocked
        assert "took longer than 0 minutes" in ep.errors[-1]
        release.set()
        assert runner.wait_idle(10)
        assert service.store.epub_export(ep.id).workflow_state.value == "failed"
    finally:
        release.set()
        runner.stop(wait=True)

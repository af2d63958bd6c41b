"""A runner is alive while it holds its lock: a live one is left alone, a just-killed one
(still a zombie, its heartbeat still fresh) is recovered at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tui_exports.engine import ExportService
from tui_exports.paths import Home

SLOW_RUNNER = textwrap.dedent(
    """
    import time
    from tui_exports.engine import ExportService, JobRunner
    from tui_exports.model import ContextType, ExportResult, JobKind, OutputFile
    svc = ExportService.open()
    def slow(snap, workdir, progress):
        out = workdir / "never.zip"
        with open(out, "wb") as f:
            for i in range(10_000):
                f.write(b"x" * 1024); f.flush()
                progress(i / 100, None)
                if i == 5:
                    print("WRITING", flush=True)
                time.sleep(0.01)
        return ExportResult([OutputFile(out, "application/zip")])
    svc.runner.exporter = lambda ce: slow
    runner = JobRunner(svc, poll_seconds=0.05)
    ce = svc.create_content_export(svc.owner_id(), ContextType.COURSE, 1, "zip")
    runner.run(JobKind.CONTENT, ce.id)
    time.sleep(600)
    """
)


def _wait_until_zombie(pid: int) -> None:
    """Until the killed process has exited (its files closed) but is not reaped; where there
    is no /proc, a moment (the test then shows less, but still holds)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        time.sleep(0.5)
        return
    for _ in range(1000):
        if stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return
        time.sleep(0.01)
    raise AssertionError("the killed process never exited")


def test_a_live_runner_is_left_alone_and_a_killed_one_is_recovered_before_it_is_reaped(home):
    ExportService.open(Home.from_env(home)).close()  # seed first, outside the victim
    victim = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUNNER],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TUI_EXPORTS_HOME": str(home)},
    )
    try:
        assert victim.stdout.readline().strip() == "WRITING"
        svc = ExportService.open(Home.from_env(home))  # recovery runs while the runner lives
        try:
            assert svc.store.content_export(1).workflow_state.value == "exporting"
        finally:
            svc.close()
        os.kill(victim.pid, signal.SIGKILL)
        _wait_until_zombie(victim.pid)
        # not reaped: kill(pid, 0) still finds the zombie, its heartbeat is seconds old
        svc = ExportService.open(Home.from_env(home))
        try:
            ce = svc.store.content_export(1)
            assert ce.workflow_state.value == "failed", ce.errors
            assert ce.errors[-1].startswith(
                f"interrupted: the process running this export (pid {victim.pid})"
            )
            # and the next export of the same course runs
            again = svc.create_content_export(svc.owner_id(), ce.context_type, 1, "zip")
            svc.store.claim("content", again.id, os.getpid(), state="created")
            svc.run_content_export(again.id)
            assert svc.store.content_export(again.id).workflow_state.value == "exported"
        finally:
            svc.close()
    finally:
        victim.kill()
        victim.wait(10)


def test_recovery_removes_a_file_its_failed_job_never_recorded(service):
    from tui_exports.model import ContextType

    ok = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")
    service.store.claim("content", ok.id, os.getpid(), state="created")
    service.run_content_export(ok.id)
    kept = Path(service.store.attachment(service.store.content_export(ok.id).attachment_id).path)
    # killed between the rename into place and the row's move: the file is there, the job failed
    ce = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")
    service.moves.fail(service.store.content_export(ce.id), "interrupted", notify=False)
    stray = service.library.exports_dir / f"content-{ce.id}" / "course.zip"
    stray.parent.mkdir()
    stray.write_bytes(b"PK half")
    orphan = service.library.exports_dir / "epub-999" / "x.epub"  # no such job at all
    orphan.parent.mkdir()
    orphan.write_bytes(b"PK")
    done = service.recover()
    assert not stray.parent.exists() and not orphan.parent.exists()
    assert kept.is_file()  # a finished export's file stays
    assert any(f"content-{ce.id}" in d for d in done)


def test_recovery_sweeps_the_lock_files_of_runners_that_are_gone(service):
    folder = service.library.home.data / "runners"
    folder.mkdir(exist_ok=True)
    gone = folder / "999999999.lock"  # no process holds it
    gone.write_text("")
    service.recover()
    assert not gone.exists()

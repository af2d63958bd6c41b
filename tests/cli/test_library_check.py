"""``library check [--repair] [--json]``: what is wrong with the library, in one line each;
exit 0 when it is whole, 1 while problems remain, 2 on bad usage; ``--repair`` fixes what can
be fixed and says what it did."""

from __future__ import annotations

import json

import pytest

from tui_exports.cli import main
from tui_exports.engine import ExportService
from tui_exports.model import ContentExportState, ContextType, JobKind
from tui_exports.paths import Home

DEAD_PID = 999_999_999


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _break_the_library(home):
    """A stuck job, a file at a final path and a work folder nobody runs, an orphan blob, a missing blob."""
    service = ExportService.open(Home.from_env(home))
    try:
        ce = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")
        service.store.claim(JobKind.CONTENT, ce.id, DEAD_PID, state="created")
        service.store.update_content_export(ce.id, workflow_state=ContentExportState.EXPORTING)
        exports = service.library.exports_dir
        (exports / "content-999").mkdir()
        (exports / "content-999" / "course.zip").write_bytes(b"PK")
        (exports / ".work-epub-77").mkdir()
        (exports / "notes.txt").write_text("someone's")  # no export wrote it
        orphan = service.library.blobs.path_for("ab" * 32)
        orphan.parent.mkdir(parents=True, exist_ok=True)
        orphan.write_bytes(b"nobody's")
        sha = next(iter(service.content.blob_refs()))
        service.library.blobs.path_for(sha).unlink()
        return ce.id, sha
    finally:
        service.close()


def test_a_whole_library_exits_0(home, capsys):
    ExportService.open(Home.from_env(home)).close()
    code, out, _ = run(capsys, "library", "check")
    assert code == 0 and out.strip() == "the library is whole: no problems found"
    code, out, _ = run(capsys, "library", "check", "--json")
    assert code == 0 and json.loads(out) == {"ok": True, "problems": []}


def test_problems_are_listed_then_repaired(home, capsys):
    job_id, sha = _break_the_library(home)
    code, out, _ = run(capsys, "library", "check")
    assert code == 1
    lines = out.splitlines()
    assert f"stuck job: content_exports {job_id}: exporting with no live runner (pid {DEAD_PID})" in lines
    assert "unpublished file: exports/content-999: its export is gone" in lines
    assert "orphan work folder: exports/.work-epub-77: its export is gone" in lines
    assert f"orphan blob: blobs/ab/{'ab' * 32}: no file row names it" in lines
    assert any(line.startswith(f"missing blob: blobs/{sha[:2]}/{sha}: the bytes of file ") for line in lines)
    assert "orphan export file: exports/notes.txt: no export wrote it" in lines
    assert lines[-1] == "6 problems found, 0 repaired"
    # checking changed nothing
    code, again, _ = run(capsys, "library", "check")
    assert code == 1 and again == out

    code, out, _ = run(capsys, "library", "check", "--repair", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False  # a missing blob cannot be made again
    repaired = {p["problem"]: p["repaired"] for p in report["problems"]}
    assert repaired == {
        "stuck job": "interrupted",
        "unpublished file": "removed (its export did not finish)",
        "orphan work folder": "removed",
        "orphan export file": "removed",
        "orphan blob": "removed",
        "missing blob": None,
    }
    code, out, _ = run(capsys, "library", "check")
    assert code == 1 and [line.split(":")[0] for line in out.splitlines()[:-1]] == ["missing blob"]
    service = ExportService.open(Home.from_env(home))
    try:
        ce = service.store.content_export(job_id)
        assert ce.workflow_state is ContentExportState.FAILED and ce.errors[-1].startswith("interrupted")
    finally:
        service.close()


def test_recovery_at_start_leaves_a_file_no_export_wrote_to_library_check(home, capsys):
    service = ExportService.open(Home.from_env(home))
    stray = service.library.exports_dir / "notes.txt"
    stray.write_text("someone's")
    service.close()
    ExportService.open(Home.from_env(home)).close()  # recovery runs: not asked to remove it
    assert stray.is_file()
    code, out, _ = run(capsys, "library", "check", "--repair")
    assert code == 0 and "orphan export file: exports/notes.txt: no export wrote it -> removed" in out
    assert not stray.exists()


def test_bad_usage_exits_2(home, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["library", "check", "--fix"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "unrecognized arguments: --fix" in err and "Traceback" not in err

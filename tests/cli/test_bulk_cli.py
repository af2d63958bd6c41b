"""``tui-exports bulk`` as a person types it: exit 0 / 1 (failed items listed) / 2 (bad request,
nothing recorded), plain lines on stderr into a pipe, list / show / cancel / resume; and, in
real processes, ``kill -9`` of the coordinator then ``bulk resume``, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_commands import run_cli


def test_bulk_exports_every_course_and_says_so_line_by_line(home, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "bulk", "--courses", "all", "--formats", "zip,qti", "--out", str(out), "--workers", "1"
    )
    assert code == 0, err
    assert err.splitlines()[0] == f"bulk run 1: 6 items into {out}"
    assert sum(" exported " in line for line in err.splitlines()) == 6  # one plain line per item
    assert "bulk 1 [6/6] exported" in err
    assert stdout.startswith("bulk run 1 exported: 6 exported; report: ")
    assert sorted(p.name for p in out.iterdir()) == [
        ".bulk.lock", "ASTR_101-1", "CS_110-3", "HIST_390-2", "report.csv", "report.json",
    ]  # fmt: skip
    code, stdout, _ = run_cli(capsys, "bulk", "list")
    assert code == 0 and "   1  exported" in stdout and "6 exported" in stdout
    code, stdout, _ = run_cli(capsys, "bulk", "show", "1", "--json")
    shown = json.loads(stdout)
    assert shown["run"]["counts"] == {"exported": 6}
    assert shown["items"] == json.loads((out / "report.json").read_text())["items"]


@pytest.fixture(scope="module")
def seeded_home(tmp_path_factory):
    """One demo library for the requests refused before anything is written (seeding takes a while)."""
    from tui_exports.engine import ExportService
    from tui_exports.paths import Home

    path = tmp_path_factory.mktemp("bulk-cli-home")
    ExportService.open(Home.from_env(path)).close()
    return path


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--courses", "all", "--formats", "zip"], "bulk needs --out DIR"),
        (["--courses", "all", "--out", "X"], "bulk needs --formats"),
        (["--courses", "7", "--formats", "zip", "--out", "X"], "no course 7"),
        (["--formats", "zip", "--out", "X"], "give --courses all"),
        (["--courses", "all", "--formats", "pdf", "--out", "X"], "unknown format pdf"),
        (["--courses", "all", "--formats", "zip", "--out", "X", "--workers", "0"], "--workers must be 1"),
        (["--courses", "all", "--formats", "zip", "--out", "X", "--scheduler", "h:1"], "tcp://HOST:PORT"),
        (["show"], "needs the run's id"),
        (["show", "5"], "no bulk run 5"),
        (["resume", "5"], "no bulk run 5"),
        (["--packages", "nowhere", "--formats", "zip", "--out", "X"], "no such file or folder"),
    ],
)
def test_a_bad_bulk_request_is_one_line_and_exit_2(seeded_home, tmp_path, capsys, monkeypatch, args, reason):
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(seeded_home))
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run_cli(capsys, "bulk", *args)
    assert code == 2 and stdout == ""
    assert err.startswith("error: ") and reason in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "X").exists()


def test_failed_items_are_listed_with_exit_1_then_resume_finishes(home, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    blocker = out / "HIST_390-2"
    blocker.write_text("not a folder")
    args = [
        "bulk",
        "--courses",
        "1,2",
        "--formats",
        "zip",
        "--out",
        str(out),
        "--workers",
        "1",
        "--retries",
        "1",
    ]
    code, stdout, err = run_cli(capsys, *args)
    assert code == 1
    assert "bulk run 1 failed: 1 exported, 1 failed" in stdout
    assert "  failed: HIST 390-2 zip: FileExistsError" in stdout
    blocker.unlink()
    code, stdout, err = run_cli(capsys, "bulk", "resume", "1")
    assert code == 0, stdout + err
    assert "bulk run 1 exported: 2 exported" in stdout
    assert "[1/2] exported" not in err  # the item that was done is skipped, not made again
    code, stdout, _ = run_cli(capsys, "bulk", "show", "1", "--json")
    attempts = {i["course_id"]: i["attempts"] for i in json.loads(stdout)["items"]}
    assert attempts == {1: 1, 2: 2}


def test_cancel_then_resume(home, tmp_path, capsys):
    from tui_exports.engine import ExportService, bulk

    service = ExportService.open()
    try:
        planned = bulk.plan(service, bulk.BulkRequest(formats=("zip",), out=tmp_path / "o", courses="all"))
        bulk.create_run(service, planned)
    finally:
        service.close()
    code, stdout, _ = run_cli(capsys, "bulk", "cancel", "1")
    assert code == 0 and stdout.startswith("canceled bulk run 1: 3 items")
    code, stdout, _ = run_cli(capsys, "bulk", "list")
    assert "canceled" in stdout and "3 canceled" in stdout
    code, stdout, err = run_cli(capsys, "bulk", "resume", "1", "--workers", "1")
    assert code == 0, err
    code, stdout, err = run_cli(capsys, "bulk", "cancel", "1")
    assert code == 2 and "already ended (exported)" in err


# ------------------------------------------------------------------ real processes


def _items(home: Path) -> list[tuple]:
    with sqlite3.connect(home / "library.db") as db:
        return db.execute(
            "SELECT id, workflow_state, path, size, sha256 FROM bulk_items ORDER BY id"
        ).fetchall()


def _bulk(home: Path, *args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "TUI_EXPORTS_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "tui_exports.cli", "bulk", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _generate(home: Path, n: int) -> None:
    from tui_exports.engine import ExportService
    from tui_exports.engine.generated import course_spec

    service = ExportService.open()
    try:
        for seed in range(1, n + 1):
            spec = course_spec(
                pages=4, quizzes=1, questions_per_quiz=3, files=2, file_mb=0.05, modules=1, seed=seed
            )
            service.generate_course(spec)
    finally:
        service.close()


@pytest.mark.slow
@pytest.mark.parametrize("after_done", [0, 4])
def test_kill_9_of_the_coordinator_then_resume_loses_nothing_and_duplicates_nothing(
    home, tmp_path, after_done
):
    _generate(home, 5)  # 8 courses x 3 formats
    out = tmp_path / "out"
    proc = _bulk(
        home, "--courses", "all", "--formats", "zip,common_cartridge,qti", "--out", str(out), "--workers", "2"
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            rows = _items(home)
        except sqlite3.OperationalError:
            rows = []
        states = [r[1] for r in rows]
        if states and states.count("exported") >= after_done and "exporting" in states:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    before = _items(home)
    assert any(r[1] != "exported" for r in before)  # it was killed mid-run
    resumed = _bulk(home, "resume", "1", "--workers", "2")
    stdout, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    rows = _items(home)
    assert len(rows) == 24 and all(r[1] == "exported" for r in rows)
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.parent != out)
    assert sorted(Path(r[2]) for r in rows) == files  # one file per item: none lost, none twice
    assert not (out / ".bulk-work").exists()
    report = json.loads((out / "report.json").read_text())["items"]
    assert len(report) == 24 and {r["state"] for r in report} == {"exported"}


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(home, tmp_path):
    _generate(home, 5)
    out = tmp_path / "out"
    proc = _bulk(
        home, "--courses", "all", "--formats", "zip,common_cartridge,qti", "--out", str(out), "--workers", "1"
    )
    seen = []
    for line in proc.stderr:  # a plain line per item into a pipe: Ctrl-C once the first is exported
        seen.append(line)
        if " exported " in line:
            break
    proc.send_signal(signal.SIGINT)
    stderr = "".join(seen) + proc.stderr.read()
    stdout = proc.stdout.read()
    proc.wait(timeout=60)
    assert proc.returncode == 130, (stdout, stderr[-3000:])
    assert "Traceback" not in stderr
    assert "interrupted: bulk run 1 stopped" in stderr and "tui-exports bulk resume 1" in stderr
    assert not any(r[1] == "exporting" for r in _items(home))  # nothing left half-claimed
    resumed = _bulk(home, "resume", "1")
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr


KILLED_AFTER_IMPORT = (
    "import os, signal, sys\n"
    "from tui_exports.store.bulk import BulkStore\n"
    "def die(*args, **kwargs):\n"  # the package is imported; the items are about to name its course
    "    os.kill(os.getpid(), signal.SIGKILL)\n"
    "BulkStore.set_package_course = die\n"
    "from tui_exports.cli.commands import main\n"
    "sys.exit(main())\n"
)


@pytest.mark.slow
def test_kill_9_between_a_packages_import_and_its_record_then_resume_imports_it_once(home, tmp_path):
    from tui_exports.engine.generated import course_spec, write_course_folder

    spec = course_spec(pages=2, quizzes=1, questions_per_quiz=2, files=1, file_mb=0.01, modules=1, seed=3)
    write_course_folder(spec, tmp_path / "packages" / "course3")
    out = tmp_path / "out"
    args = ["bulk", "--packages", str(tmp_path / "packages"), "--formats", "zip", "--out", str(out)]
    env = {**os.environ, "TUI_EXPORTS_HOME": str(home)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_IMPORT, *args, "--workers", "1"], env=env, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL
    resumed = _bulk(home, "resume", "1", "--workers", "1")
    stdout, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    with sqlite3.connect(home / "library.db") as db:
        items = db.execute("SELECT course_id, course_code, workflow_state FROM bulk_items").fetchall()
        assert [(state, bool(code)) for _, code, state in items] == [("exported", True)]
        same = db.execute("SELECT id FROM courses WHERE course_code = ?", [items[0][1]]).fetchall()
    assert same == [(items[0][0],)]  # imported once, not once per try

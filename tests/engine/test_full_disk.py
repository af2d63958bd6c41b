"""A full disk fails the export with its reason, removes the half file, and --wait ends."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui_exports.engine import ExportService
from tui_exports.model import ContextType, ExportResult, OutputFile
from tui_exports.paths import Home


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (root on Linux only; elsewhere the test skips, saying why)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode(errors='replace').strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def greedy(snap, workdir, progress):
    """An exporter that writes 100 MB: far past the disk."""
    out = workdir / "big.zip"
    with open(out, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(1024 * 1024))
    return ExportResult([OutputFile(out, "application/zip")])


def test_a_full_disk_fails_the_export_with_its_reason(small_disk, monkeypatch):
    home = small_disk / "home"
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(home))
    service = ExportService.open(Home.from_env(home))
    try:
        monkeypatch.setattr(service.runner, "exporter", lambda ce: greedy)
        ce = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")
        service.store.claim("content", ce.id, os.getpid(), state="created")
        service.run_content_export(ce.id)
        ce = service.store.content_export(ce.id)
        assert ce.workflow_state.value == "failed"
        assert re.match(r"no space left on device \(needed ~\d+\.\d MB, free \d+\.\d MB\)", ce.errors[-1])
        assert not list(Path(service.library.exports_dir).glob(".work-*"))  # the half file is gone
        again = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")
        assert again.workflow_state.value == "created"  # and the library still takes writes
    finally:
        service.close()


GREEDY_WAIT = textwrap.dedent(
    f"""
    import sys
    sys.path.insert(0, {str(Path(__file__).parent)!r})
    from test_full_disk import greedy
    from tui_exports.cli import main
    from tui_exports.engine.runner import ExportRunner

    ExportRunner.exporter = lambda self, ce: greedy
    sys.exit(main(["export", "1", "--type", "zip", "--wait"]))
    """
)


@pytest.mark.slow  # a subprocess
def test_export_wait_on_a_full_disk_exits_1_saying_how_much_was_needed(small_disk):
    home = small_disk / "home"
    env = {**os.environ, "TUI_EXPORTS_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", GREEDY_WAIT], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert re.search(r"no space left on device \(needed ~\d+\.\d MB, free \d+\.\d MB\)", done.stdout), (
        done.stdout
    )
    assert "Traceback" not in done.stderr
    assert not list((home / "exports").glob(".work-*"))  # the temp file is gone
    assert not list((home / "exports").glob("content-*"))


def _fill(disk: Path) -> Path:
    """The disk, full but for 32 KB."""
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (shutil.disk_usage(disk).free - 32 * 1024))
    return filler


def test_serve_refuses_an_export_that_cannot_fit_with_a_canvas_error_body(small_disk, monkeypatch):
    import warnings

    with warnings.catch_warnings():  # starlette prefers httpx2; httpx is what we have
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from tui_exports.server import create_app

    home = small_disk / "home"
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(home))
    service = ExportService.open(Home.from_env(home))
    try:
        token = service.create_token(service.owner_id(), purpose="tests")
        _fill(small_disk)
        with TestClient(create_app(service), base_url="http://testserver.local:8123") as client:
            r = client.post(
                "/api/v1/courses/1/content_exports",
                data={"export_type": "common_cartridge"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert r.status_code == 400, r.text
        message = r.json()["errors"][0]["message"]
        assert message.startswith("not enough space on device for this export (needed ~")
    finally:
        service.close()


def test_an_export_that_cannot_fit_is_refused_before_it_starts(small_disk, monkeypatch, capsys):
    from tui_exports.cli import main

    home = small_disk / "home"
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(home))
    service = ExportService.open(Home.from_env(home))
    before = service.list_content_exports(service.owner_id(), ContextType.COURSE, 1).total
    service.close()
    filler = _fill(small_disk)
    for argv in (["export", "1", "--type", "zip"], ["epub", "1"]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, err
        assert re.fullmatch(
            r"error: not enough space on device for this export \(needed ~0\.\d MB, free 0\.\d MB\): "
            r"free some space and try again\n",
            err,
        )
    service = ExportService.open(Home.from_env(home))
    try:  # nothing was queued
        assert service.list_content_exports(service.owner_id(), ContextType.COURSE, 1).total == before
        assert service.store.epub_exports_of(1, service.owner_id()) == []
    finally:
        service.close()
    filler.unlink()
    assert main(["export", "1", "--type", "zip", "--wait"]) == 0  # with room, it runs


def test_sqlite_finding_the_disk_full_reads_as_a_full_disk(service, monkeypatch):
    """The disk may fill while the job writes its row, not its file: SQLite then says
    'database or disk is full', and the job fails with the same words as an ENOSPC."""
    import sqlite3

    import tui_exports.engine.publish as publish

    def full(name: str) -> None:
        if name == "content:fsynced":
            raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(publish, "point", full)
    ce = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")
    service.store.claim("content", ce.id, os.getpid(), state="created")
    service.run_content_export(ce.id)
    ce = service.store.content_export(ce.id)
    assert ce.workflow_state.value == "failed"
    assert re.match(r"no space left on device \(needed ~\d+\.\d MB, free \d+", ce.errors[-1]), ce.errors

"""A library on a shared machine is private: folders 0700, files 0600, unless the user opened
the folder up."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui_exports.engine import ExportService, JobRunner
from tui_exports.model import ContextType
from tui_exports.paths import Home


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # the usual default: files 0644, folders 0755
    yield
    os.umask(old)


def test_a_new_library_is_private(tmp_path, monkeypatch, loose_umask):
    home = tmp_path / "new" / "library"
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(home))
    service = ExportService.open(Home.from_env(home))
    runner = JobRunner(service)
    try:
        ce = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")
        assert runner.wait_idle(60)
        ce = service.store.content_export(ce.id)
        assert ce.workflow_state.value == "exported"
        exported = Path(service.store.attachment(ce.attachment_id).path)
    finally:
        runner.stop(wait=True)
        service.close()
    for folder in (home, home / "blobs", home / "exports", exported.parent):
        assert mode(folder) == 0o700, folder
    for f in (home / "library.db", exported):
        assert mode(f) == 0o600, f
    blobs = [p for p in (home / "blobs").rglob("*") if p.is_file()]
    assert blobs and all(mode(p) == 0o600 for p in blobs)
    assert all(mode(p) == 0o700 for p in (home / "blobs").rglob("*") if p.is_dir())


def test_a_folder_the_user_opened_up_is_kept_and_its_files_follow(tmp_path, monkeypatch, loose_umask):
    home = tmp_path / "shared"
    home.mkdir()
    os.chmod(home, 0o750)
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(home))
    ExportService.open(Home.from_env(home)).close()
    assert mode(home) == 0o750
    assert mode(home / "library.db") == 0o640

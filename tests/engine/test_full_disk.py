"""A full disk fails the export with its reason, removes the half file, and --wait ends."""

from __future__ import annotations

import os
import subprocess
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


def test_a_full_disk_fails_the_export_with_its_reason(small_disk, monkeypatch):
    home = small_disk / "home"
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(home))
    service = ExportService.open(Home.from_env(home))
    try:

        def greedy(snap, workdir, progress):
            out = workdir / "big.zip"
            with open(out, "wb") as f:
                for _ in range(100):  # 100 MB: far past the disk
                    f.write(os.urandom(1024 * 1024))
            return ExportResult([OutputFile(out, "application/zip")])

        monkeypatch.setattr(service.runner, "exporter", lambda ce: greedy)
        ce = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")
        service.store.claim("content", ce.id, os.getpid(), state="created")
        service.run_content_export(ce.id)
        ce = service.store.content_export(ce.id)
        assert ce.workflow_state.value == "failed"
        assert ce.errors[-1].startswith("no space left on device (free ")
        assert not list(Path(service.library.exports_dir).glob(".work-*"))  # the half file is gone
        again = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")
        assert again.workflow_state.value == "created"  # and the library still takes writes
    finally:
        service.close()

"""Fixtures for exporter tests: a blob directory and one-call exports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # snapshots.py, validation.py

from tui_exports.exporters.cc import export_common_cartridge  # noqa: E402
from tui_exports.exporters.qti import export_qti  # noqa: E402
from tui_exports.model import no_progress  # noqa: E402


@pytest.fixture
def blobs(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


def export_cc(snapshot, out_dir: Path, version: str = "1.1.0", progress=no_progress):
    result = export_common_cartridge(snapshot, out_dir, progress, version=version)
    return result.files[0].path, result


def export_quiz_zip(snapshot, out_dir: Path, progress=no_progress):
    result = export_qti(snapshot, out_dir, progress)
    return result.files[0].path, result

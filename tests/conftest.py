"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TUI_EXPORTS_SHARED", ROOT.parent / "shared"))


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` (schemas, samples, spec); tests that need it skip with the reason."""
    if not (SHARED / "schemas" / "validate_cc.py").exists():
        pytest.skip(f"../shared is absent ({SHARED}): IMS schemas and samples are not available")
    return SHARED


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty library home; ``TUI_EXPORTS_HOME`` points at it for code and subprocesses."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(path))
    return path


@pytest.fixture
def service(home):
    """The engine on a fresh demo library in ``home``."""
    from tui_exports.engine import ExportService
    from tui_exports.paths import Home

    svc = ExportService.open(Home.from_env(home))
    yield svc
    svc.close()


@pytest.fixture
def java() -> str:
    exe = shutil.which("java")
    if not exe:
        pytest.skip("Java is not installed: EPUBCheck needs it")
    return exe

"""A regular install (a wheel, as pipx makes) carries the demo library and the stylesheets."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_bundles_demo_library_and_styles(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy: building writes build/ and egg-info beside the sources
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "build",
            "*.egg-info",
            "__pycache__",
            ".pytest_cache",
            ".hypothesis",
            "benchmarks",
        ),
    )
    # the build backend the test extra installed (pyproject's [build-system]): no index needed
    wheel_cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    run = subprocess.run(
        [*wheel_cmd, "-w", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    wheel = next(tmp_path.glob("tui_exports-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    data = {p.relative_to(ROOT / "data").as_posix() for p in (ROOT / "data").rglob("*") if p.is_file()}
    assert {f"tui_exports/_data/{n}" for n in data} <= names
    assert "tui_exports/_styles/app.tcss" in names
    assert not any(n.startswith(("data/", "styles/", "tests/")) for n in names)

"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Bytecode is kept (``__pycache__``, ignored by git) even where the environment turns it off:
# the suite starts a few hundred child processes of the program, and each one compiled every
# module it imports from source again.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
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


@pytest.fixture(autouse=True)
def _followed_jobs_read_sooner(monkeypatch):
    """A job followed on the local library (``--wait``, ``follow``) is read again every 20 ms, not
    200 ms: in-process commands end as soon as their job does, not up to a poll later."""
    from tui_exports.backends.local import LocalBackend

    monkeypatch.setattr(LocalBackend, "poll_seconds", 0.02)


@pytest.fixture(scope="session")
def demo_library_template(tmp_path_factory) -> Path:
    """A library home as first start leaves it (schema, demo courses, blobs), made once per
    test process: seeding costs a tenth of a second, and hundreds of tests start from it."""
    from tui_exports.engine import ExportService
    from tui_exports.paths import Home

    path = tmp_path_factory.mktemp("demo-library") / "home"
    path.mkdir()  # as ``home`` makes it: the library's files get the modes they get there
    ExportService.open(Home.from_env(path)).close()
    leftovers = [p.name for p in path.iterdir() if p.name.endswith(("-wal", "-shm", "-journal"))]
    assert not leftovers, f"the template library was not closed cleanly: {leftovers}"
    return path


@pytest.fixture(scope="session")
def copy_demo_library(demo_library_template) -> Callable[[Path], Path]:
    """``copy(to) -> to``: a fresh demo library at ``to`` (a new or empty folder), as first start
    seeds it: a private copy of the template, its own database and blobs, with the same modes."""

    def copy(to: Path) -> Path:
        shutil.copytree(demo_library_template, to, dirs_exist_ok=True)
        return to

    return copy


@pytest.fixture
def demo_home(home, copy_demo_library) -> Path:
    """``home`` holding a fresh demo library, as the first start seeds it."""
    return copy_demo_library(home)


@pytest.fixture
def service(demo_home):
    """The engine on a fresh demo library in ``home``."""
    from tui_exports.engine import ExportService
    from tui_exports.paths import Home

    svc = ExportService.open(Home.from_env(demo_home))
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    """A folder of this run shared by all its test processes (xdist's workers each have a temp
    folder of their own inside it): for what they share, such as the EPUBCheck JVM."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def java() -> str:
    exe = shutil.which("java")
    if not exe:
        pytest.skip("Java is not installed: EPUBCheck needs it")
    return exe


@pytest.fixture
def until_canceled(monkeypatch) -> threading.Event:
    """Every export runs until it is canceled (jobs run in this process, the server's too): it
    writes a half file, sets the returned event, then reports progress until a cancel stops it."""
    from tui_exports.engine.runner import ExportRunner

    started = threading.Event()

    def exporter(self, ce):
        def run(snap, workdir, progress):
            (workdir / "partial.zip").write_bytes(b"half")
            started.set()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                progress(5, "waiting to be canceled")
                time.sleep(0.02)
            raise AssertionError("never canceled")

        return run

    monkeypatch.setattr(ExportRunner, "exporter", exporter)
    return started

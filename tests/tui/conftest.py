"""Fixtures for the terminal app: a fresh demo library, jobs on an in-process runner."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual import _wait as textual_wait

from tui_exports.backends.local import LocalBackend
from tui_exports.engine import ExportService, JobRunner
from tui_exports.model import ContextType
from tui_exports.paths import Home
from tui_exports.server import running_server
from tui_exports.tui import app as app_module
from tui_exports.tui.app import ExportsApp
from tui_exports.tui.widgets import ContentTree

FROZEN_TIME = "2026-01-15T09:30:00Z"
TOKEN_VAR = "TUI_EXPORTS_TEST_SCHOOL_TOKEN"


@pytest.fixture
def school(tmp_path, home: Path, monkeypatch, copy_demo_library):
    """A served library, and a ``school`` profile for it in the app's config (token in the environment)."""
    school_home = copy_demo_library(tmp_path / "school-home")
    service = ExportService.open(Home.from_env(school_home))
    runner = JobRunner(service, poll_seconds=0.05).start()
    monkeypatch.setenv(TOKEN_VAR, service.create_token(3))  # student1
    with running_server(service, runner) as base_url:
        config = home / "config.toml"
        monkeypatch.setenv(TOKEN_VAR + "_OLD", "a-token-that-was-revoked")
        config.write_text(
            f'[profiles.school]\nbase_url = "{base_url}"\ntoken_env = "{TOKEN_VAR}"\n'
            f'[profiles.stale]\nbase_url = "{base_url}"\ntoken_env = "{TOKEN_VAR}_OLD"\n',
            encoding="utf-8",
        )
        os.chmod(config, 0o600)
        yield base_url
    runner.stop(wait=True)
    service.close()


@pytest.fixture(autouse=True)
def _app_for_tests(request, monkeypatch):
    """The app's waits, shortened for the tests (the tests wait for what they check):

    - the collector freeze is left out: in the test process it collected pytest's whole heap at
      every app start (70 ms and growing); the test of that freeze asks for it with ``gc_freeze``;
    - the history, the followed exports and a resting highlight are read sooner;
    - Pilot waits after each key until the process has been idle for one slice of 20 ms, two
      slices per key at least: 5 ms here."""
    if request.node.get_closest_marker("gc_freeze") is None:
        monkeypatch.setattr(app_module, "freeze_long_lived", lambda: None)
    monkeypatch.setattr(app_module, "BUSY_SECONDS", 0.1)
    monkeypatch.setattr(app_module, "FOLLOW_SECONDS", 0.05)
    monkeypatch.setattr(app_module, "SETTLE_SECONDS", 0.02)
    monkeypatch.setattr(textual_wait, "SLEEP_GRANULARITY", 0.005)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on anyio's pytest plugin (installed with httpx), on asyncio."""
    return "asyncio"


@pytest.fixture
def backend(demo_home: Path):
    b = LocalBackend.open(jobs="inprocess")
    yield b
    b.close()


def make_app(backend: Any, home: Path) -> ExportsApp:
    """The app with no user config (the config file is looked up in the temp home)."""
    return ExportsApp(backend, config_file=home / "config.toml")


async def wait_for(
    pilot, condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await pilot.pause(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def tick(pilot, tree: ContentTree, key) -> None:
    """Put the cursor on the item (opening its branch) and press space, as a person would."""
    node = next(n for n in tree._tree_nodes.values() if n.data == key)
    parent = node.parent
    while parent is not None:
        parent.expand()
        parent = parent.parent
    await pilot.pause()
    tree.move_cursor(node)
    await pilot.press("space")


async def settle(pilot, app, timeout: float = 10.0) -> None:
    """Wait until every worker but the history poller has finished."""
    from textual.worker import WorkerState

    busy = (WorkerState.PENDING, WorkerState.RUNNING)
    await wait_for(
        pilot,
        lambda: not [w for w in app.workers if w.group != "poll" and w.state in busy],
        timeout,
        what="workers to finish",
    )


async def still(pilot) -> None:
    """Until the screen is still (before a snapshot): a resting highlight's timer has fired
    (``SETTLE_SECONDS``), every worker it or a key started has finished, and the app is idle."""
    await pilot.pause(app_module.SETTLE_SECONDS * 2)
    await settle(pilot, pilot.app)
    await pilot.pause()


def wait_done(backend: LocalBackend, course_id: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Block until no export of the course is still running (fixtures, before an app starts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exports, _ = backend.content_exports(ContextType.COURSE, course_id, 1, 50)
        if all(e["workflow_state"] in ("exported", "failed") for e in exports):
            return exports
        time.sleep(0.01)
    raise AssertionError("exports did not finish")


class FrozenBackend:
    """The real backend, with every timestamp fixed and paths shown relative to the home.

    Snapshots then read the same on every run, whatever the clock and the temp dir.
    """

    def __init__(self, inner: LocalBackend, home: Path, fake_running: dict[int, float] | None = None):
        self.inner, self.home = inner, str(home)
        self.fake_running = fake_running or {}  # export id → completion, to picture a running export

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.freeze(attr(*args, **kwargs), name)

        return call

    def freeze(self, value: Any, name: str = "") -> Any:
        if isinstance(value, tuple):
            return tuple(self.freeze(v, name) for v in value)
        if isinstance(value, list):
            return [self.freeze(v, name) for v in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for k, v in value.items():
            if k.endswith("_at") and isinstance(v, str):
                v = FROZEN_TIME
            elif k in ("path",) and isinstance(v, str):
                v = v.replace(self.home, "~/tui-exports")
            elif k == "uuid":
                v = "0" * 32
            elif k == "url" and isinstance(v, str) and "verifier=" in v:
                v = v.split("verifier=")[0] + "verifier=" + "0" * 32
            out[k] = self.freeze(v, name)
        if name == "content_exports" and out.get("id") in self.fake_running:
            out["workflow_state"] = "exporting"
            out.pop("attachment", None)
        if name == "progress" and out.get("context_id") in self.fake_running:
            out.update(
                workflow_state="running",
                completion=self.fake_running[out["context_id"]],
                message="Copying files into the archive",
            )
        return out


@pytest.fixture(autouse=True)
def _unfreeze_after():
    """The app freezes what it keeps (gc.freeze), process-wide: no test inherits another's."""
    import gc

    yield
    gc.unfreeze()

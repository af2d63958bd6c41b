"""A process runs only the jobs it will finish, and hands back, never cancels, what it leaves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tui_exports.backends.local import LocalBackend
from tui_exports.engine import ExportService
from tui_exports.model import ContextType
from tui_exports.paths import Home

CLI = [sys.executable, "-m", "tui_exports.cli"]


def test_a_wait_command_runs_its_own_job_and_leaves_other_peoples_queued(home):
    other = ExportService.open(Home.from_env(home))  # someone else's process: queues, runs nothing
    try:
        theirs = other.create_content_export(other.owner_id(), ContextType.COURSE, 1, "zip")
        backend = LocalBackend.open(Home.from_env(home), jobs="inprocess")  # what `--wait` opens
        try:
            mine = backend.create_content_export(ContextType.COURSE, 1, "zip")
            done = backend.follow("content", ContextType.COURSE, 1, mine, timeout=60)
            assert done["workflow_state"] == "exported"
            assert backend.runner.wait_idle(10)
        finally:
            backend.close()
        record = other.store.content_export(theirs.id)
        assert record.workflow_state.value == "created" and record.runner_pid is None
        assert other.store.progress(record.progress_id).workflow_state.value == "queued"
    finally:
        other.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_concurrent_wait_exports_and_http_creates_all_end_exported(home):
    env = {**os.environ, "TUI_EXPORTS_HOME": str(home)}
    ExportService.open(Home.from_env(home)).close()  # seed the demo library once, first
    token = subprocess.run(
        [*CLI, "token", "create"], capture_output=True, text=True, env=env, timeout=60, check=True
    ).stdout.split()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    waits: list[subprocess.Popen] = []
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(headers=headers, timeout=30) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    http.get(f"{base}/users/self")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "serve did not start"
                    time.sleep(0.1)
            waits = [
                subprocess.Popen(
                    [*CLI, "export", "1", "--type", "zip", "--wait", "--json"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(8)
            ]
            created = []
            for _ in range(8):
                r = http.post(f"{base}/courses/1/content_exports", data={"export_type": "zip"})
                assert r.status_code == 200, r.text
                created.append(r.json()["id"])
            for p in waits:
                out, err = p.communicate(timeout=120)
                assert p.returncode == 0, err
                assert json.loads(out)["workflow_state"] == "exported"
            states: dict[int, str] = {}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                states = {
                    i: http.get(f"{base}/courses/1/content_exports/{i}").json()["workflow_state"]
                    for i in created
                }
                if all(s in ("exported", "failed") for s in states.values()):
                    break
                time.sleep(0.2)
            assert set(states.values()) == {"exported"}, states
    finally:
        for p in waits:
            if p.poll() is None:
                p.kill()
        server.terminate()
        server.wait(30)


@pytest.mark.parametrize("argv", [["exports", "1"], ["epubs"]])
def test_a_queued_job_nobody_runs_starts_the_worker(home, capsys, monkeypatch, argv):
    import tui_exports.backends.local as local
    from tui_exports.cli import main

    started = []
    monkeypatch.setattr(local, "ensure_worker", lambda h: started.append(h) or True)
    svc = ExportService.open(Home.from_env(home))
    try:
        assert main(argv) == 0 and not started  # nothing queued: no worker
        svc.create_content_export(svc.owner_id(), ContextType.COURSE, 1, "zip")  # its process then died
    finally:
        svc.close()
    assert main(argv) == 0
    assert started  # the listing noticed the orphan job and started a worker for it


def test_epub_wait_takes_over_an_epub_left_in_the_queue(home, capsys):
    """An ePub queued by a process that died before any runner claimed it: ``epub --wait``
    runs that one to its end (before, it refused: already running)."""
    from tui_exports.cli import main

    svc = ExportService.open(Home.from_env(home))
    try:
        left = svc.create_epub_export(svc.owner_id(), 1)  # ...and its process died
    finally:
        svc.close()
    assert main(["epub", "1", "--wait", "--json"]) == 0
    ep = json.loads(capsys.readouterr().out)["epub_export"]
    assert ep["id"] == left.id and ep["workflow_state"] == "generated"
    svc = ExportService.open(Home.from_env(home))
    try:
        assert [e.workflow_state.value for e in svc.store.epub_exports_of(1, svc.owner_id())] == ["generated"]
    finally:
        svc.close()


def test_a_long_lived_app_notices_a_job_left_in_the_queue_later(home, monkeypatch):
    """The app opens the library once; a job queued afterwards by a process that then died is
    seen on the next read of the history, which starts the worker."""
    import tui_exports.backends.local as local

    started = []
    monkeypatch.setattr(local, "ensure_worker", lambda h: started.append(h) or True)
    backend = LocalBackend.open(Home.from_env(home), jobs="worker")
    try:
        assert backend.content_exports(ContextType.COURSE, 1) == ([], 0) and not started
        other = ExportService.open(Home.from_env(home))
        try:
            other.create_content_export(other.owner_id(), ContextType.COURSE, 1, "zip")
        finally:
            other.close()
        backend.content_exports(ContextType.COURSE, 1)
        assert started
    finally:
        backend.close()

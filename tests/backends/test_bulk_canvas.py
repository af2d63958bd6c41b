"""``tui-exports --profile NAME bulk``: Canvas makes each export, we follow and download it,
against ``tui-exports serve`` on loopback with many courses; one rate budget per token shared by
every item; an export that does not finish in time fails its item with the reason."""

from __future__ import annotations

import json
import threading
import zipfile

import pytest
from cli_run import run_cli

from tui_exports.backends import bulk as canvas_bulk
from tui_exports.backends.canvas import CanvasBackend, RateBudget
from tui_exports.engine import ExportService
from tui_exports.engine.bulk import ItemTask
from tui_exports.engine.generated import course_spec
from tui_exports.model import ContextType
from tui_exports.paths import Home
from tui_exports.server import running_server

TOKEN_VAR = "TEST_BULK_CANVAS_TOKEN"


@pytest.fixture
def school(server, home, capsys, monkeypatch):
    """Profile 'school' on the live server, with 6 generated courses more than the demo's."""
    base_url, service, tokens = server
    for seed in range(1, 7):
        spec = course_spec(
            pages=2, quizzes=1, questions_per_quiz=2, files=1, file_mb=0.01, modules=1, seed=seed
        )
        service.generate_course(spec)
    monkeypatch.setattr(CanvasBackend, "poll_seconds", 0.05)
    monkeypatch.setenv(TOKEN_VAR, tokens["teacher"])
    code, _, _ = run_cli(capsys, "profile", "add", "school", "--base-url", base_url, "--token-env", TOKEN_VAR)
    assert code == 0
    return base_url, service


@pytest.mark.slow  # a served library and many courses through it
def test_bulk_on_canvas_exports_every_course_through_the_api(school, tmp_path, capsys):
    base_url, server_service = school
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "--profile", "school", "bulk", "--courses", "all", "--formats", "common_cartridge,zip",
        "--out", str(out), "--json",
    )  # fmt: skip
    assert code == 0, err
    records = json.loads(stdout)["items"]
    teacher_courses = [c for c, s in server_service.courses(1) if s.is_admin]
    assert len(records) == 2 * len(teacher_courses) >= 14
    host = base_url.split("//", 1)[1]
    assert {r["ran_on"] for r in records} == {host} and {r["state"] for r in records} == {"exported"}
    for r in records:
        assert r["path"].startswith(str(out)) and zipfile.is_zipfile(r["path"])
        assert r["path"].endswith("-export.imscc" if r["format"] == "common_cartridge" else "_export.zip")
    # Canvas made each one: the server's library has a finished content export per item
    made = sum(
        server_service.list_content_exports(1, ContextType.COURSE, c.id, per_page=100).total
        for c in teacher_courses
    )
    assert made == len(records)
    assert json.loads((out / "report.json").read_text())["items"] == records
    code, stdout, err = run_cli(
        capsys, "--profile", "school", "bulk", "--term", "Spring 2026", "--formats", "zip",
        "--out", str(tmp_path / "spring"), "--json",
    )  # fmt: skip
    assert code == 0, err
    assert [(r["course_code"], r["format"]) for r in json.loads(stdout)["items"]] == [("HIST 390", "zip")]


def test_a_canvas_export_past_its_time_limit_fails_its_item_with_the_reason(tmp_path):
    service = ExportService.open(Home.from_env(tmp_path / "idle-server"))
    token = service.create_token(1)
    try:
        with running_server(service, None) as base_url:  # no runner: exports never finish
            backend = CanvasBackend(base_url, token, timeout=5, backoff=0.01)
            backend.poll_seconds = 0.02
            task = ItemTask(item_id=1, course_id=1, format="zip", folder=str(tmp_path / "out" / "ASTR-1"))
            result = canvas_bulk.canvas_item(backend, task, timeout=0.2, stop=threading.Event())
            backend.close()
    finally:
        service.close()
    assert not result.ok
    assert "did not finish within 0 s (still" in result.error or "did not finish within" in result.error
    assert not (tmp_path / "out" / "ASTR-1").exists()


def test_one_rate_budget_holds_back_every_thread_on_the_token():
    now = [0.0]
    slept: dict[str, list[float]] = {}

    def sleep(seconds: float) -> None:
        slept.setdefault(threading.current_thread().name, []).append(round(seconds, 3))

    budget = RateBudget(sleep, clock=lambda: now[0])
    budget.hold(3.0)  # one item met a throttle
    now[0] = 1.0
    other = threading.Thread(target=budget.wait, name="other item")
    other.start()
    other.join()
    assert slept == {threading.current_thread().name: [3.0], "other item": [2.0]}
    now[0] = 5.0
    budget.wait()  # the pause is over: nobody waits
    assert slept["other item"] == [2.0] and len(slept[threading.current_thread().name]) == 1


def test_a_throttle_seen_by_one_item_pauses_the_others(tmp_path):
    """Two threads on one backend with a shared budget: a 403 Rate Limit Exceeded answered to
    the first makes the second wait too before its next request."""
    import httpx

    calls: list[str] = []
    answered = {"throttled": False}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if not answered["throttled"]:
            answered["throttled"] = True
            return httpx.Response(
                403, text="403 Forbidden (Rate Limit Exceeded)", headers={"x-rate-limit-remaining": "0"}
            )
        return httpx.Response(200, json={"id": 1, "workflow_state": "completed"})

    waits: list[float] = []
    backend = CanvasBackend(
        "https://canvas.test", "t", transport=httpx.MockTransport(handler), sleep=waits.append, backoff=0.01
    )
    backend.budget = RateBudget(waits.append, clock=lambda: 0.0)  # time stands still: the pause stays
    backend.progress(1)
    first = len(waits)
    backend.progress(2)  # the next request, as another item would send it, waits for the budget
    backend.close()
    assert waits[0] > 0 and len(waits) == first + 1 and waits[-1] == waits[0]
    assert calls == ["/api/v1/progress/1", "/api/v1/progress/1", "/api/v1/progress/2"]


def test_a_resumed_item_follows_the_export_canvas_already_made(
    server, backend, service, tmp_path, monkeypatch
):
    """Each item's export is recorded as soon as Canvas answers the create; resumed, the item
    follows that export (one export on the server), unless Canvas failed it (then a new one)."""
    from tui_exports.backends.base import BackendError
    from tui_exports.engine import bulk

    _, server_service, _ = server
    backend.poll_seconds = 0.05
    courses = [c for c, s in server_service.courses(1) if s.is_admin][:2]
    ids = ",".join(str(c.id) for c in courses)
    planned = canvas_bulk.canvas_plan(
        backend, bulk.BulkRequest(formats=("zip",), out=tmp_path / "out", courses=ids)
    )
    run_id = bulk.create_run(service, planned)

    def dropped(*args, **kwargs):
        raise BackendError("the connection dropped while following the export")

    with monkeypatch.context() as m:  # Canvas made the exports, then the run lost them
        m.setattr(CanvasBackend, "wait_content_export", dropped)
        pool = canvas_bulk.canvas_pool(backend, 2, timeout=60)
        first = bulk.Coordinator(service, run_id, pool, max_attempts=1).run()
    assert first.workflow_state == "failed"
    recorded = {i.course_id: i.remote_export for i in service.library.bulk.items(run_id)}
    assert all(ref and ref.startswith("content:") for ref in recorded.values())
    followed, failed = courses
    server_service.library.exports.update_content_export(
        int(recorded[failed.id].split(":")[1]), workflow_state="failed"
    )

    bulk.reopen_for_resume(service, run_id)
    again = bulk.Coordinator(service, run_id, canvas_bulk.canvas_pool(backend, 2, timeout=60)).run()
    assert again.workflow_state == "exported"
    items = {i.course_id: i for i in service.library.bulk.items(run_id)}
    assert {i.workflow_state for i in items.values()} == {"exported"}

    def made(course_id: int) -> int:
        return server_service.list_content_exports(1, ContextType.COURSE, course_id, per_page=100).total

    assert made(followed.id) == 1  # followed, not made again
    assert items[followed.id].remote_export == recorded[followed.id]
    assert made(failed.id) == 2  # Canvas failed the first: a new one
    assert items[failed.id].remote_export != recorded[failed.id]
    assert all(zipfile.is_zipfile(i.path) for i in items.values())

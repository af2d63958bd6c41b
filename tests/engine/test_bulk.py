"""Bulk runs in the engine: planned and checked before anything runs, recorded in the library,
one folder per course with Canvas's file names, reports that are the records, resume that skips
what is intact and makes again what is not, retries with back-off, one run per ``--out``."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import pytest

from tui_exports.engine import BadRequest, bulk
from tui_exports.vocab import FORMAT_BY_NAME


def _run(service, out, *, formats=("zip", "common_cartridge"), courses="all", pool=None, **kw):
    planned = bulk.plan(service, bulk.BulkRequest(formats=formats, out=out, courses=courses))
    run_id = bulk.create_run(service, planned)
    return bulk.Coordinator(service, run_id, pool or bulk.InlinePool(), **kw).run()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_run_writes_one_folder_per_course_with_canvas_names_and_reports(service, tmp_path):
    out = tmp_path / "out"
    run = _run(service, out, formats=("zip", "common_cartridge", "qti"))
    assert run.workflow_state == "exported"
    courses = {c.id: c for c, _ in service.courses(service.owner_id())}
    items = service.library.bulk.items(run.id)
    assert len(items) == 3 * len(courses)
    for item in items:
        course = courses[item.course_id]
        path = out / f"{course.course_code.replace(' ', '_')}-{course.id}" / item.path.rsplit("/", 1)[1]
        assert str(path) == item.path and path.is_file()
        pattern = FORMAT_BY_NAME[item.format].file_name.split("{name}")[-1]
        assert path.name.endswith(pattern)  # Canvas's names: -export.imscc, -quiz-export.zip, _export.zip
        assert (item.size, item.sha256) == (path.stat().st_size, _sha(path))
        assert item.workflow_state == "exported" and item.attempts == 1 and item.ran_on == "local"
    report = json.loads((out / "report.json").read_text())["items"]
    with open(out / "report.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["path"] for r in rows] == [r["path"] for r in report] == [i.path for i in items]
    for row, record in zip(rows, report, strict=True):
        for key in ("course_id", "format", "state", "path", "size", "sha256", "attempts", "error", "ran_on"):
            assert row[key] == ("" if record[key] is None else str(record[key]))
    assert not (out / bulk.WORK_DIR).exists()


@pytest.fixture(scope="module")
def shared_service(tmp_path_factory):
    """One demo library for the checks that refuse before writing anything (seeding takes a while)."""
    from tui_exports.engine import ExportService
    from tui_exports.paths import Home

    svc = ExportService.open(Home.from_env(tmp_path_factory.mktemp("bulk-home")))
    yield svc
    svc.close()


@pytest.mark.parametrize(
    "request_fields, reason",
    [
        ({"formats": ("zap",)}, "unknown format zap"),
        ({"formats": ()}, "--formats"),
        ({"courses": "1,999"}, "no course 999"),
        ({"courses": "1,x"}, "not a course id"),
        ({"courses": None, "filter": "no such course anywhere"}, "no course's code or name"),
        ({"courses": None}, "--courses all"),
        ({"formats": ("zip",), "cc_version": "1.3"}, "--cc-version"),
        ({"formats": ("common_cartridge",), "cc_version": "2.0"}, "'2.0' is not 1.1 or 1.3"),
    ],
)
def test_a_bad_request_is_refused_before_anything_is_recorded(
    shared_service, tmp_path, request_fields, reason
):
    service = shared_service
    fields = {"formats": ("zip",), "out": tmp_path / "out", "courses": "all", **request_fields}
    with pytest.raises(BadRequest) as e:
        bulk.plan(service, bulk.BulkRequest(**fields))
    assert reason in str(e.value)
    assert service.library.bulk.runs() == [] and not (tmp_path / "out").exists()


def test_an_out_that_is_a_file_is_refused(shared_service, tmp_path):
    service = shared_service
    (tmp_path / "f").write_text("x")
    with pytest.raises(BadRequest, match="is a file"):
        bulk.plan(service, bulk.BulkRequest(formats=("zip",), out=tmp_path / "f", courses="all"))


def test_filter_picks_courses_by_code_or_name(shared_service, tmp_path):
    service = shared_service
    planned = bulk.plan(service, bulk.BulkRequest(formats=("zip",), out=tmp_path, filter="astro"))
    assert [i["course_code"] for i in planned.items] == ["ASTR 101"]


def test_term_picks_its_courses(shared_service, tmp_path):
    service = shared_service
    planned = bulk.plan(service, bulk.BulkRequest(formats=("zip",), out=tmp_path, term="spring 2026"))
    assert [i["course_code"] for i in planned.items] == ["HIST 390"]
    planned = bulk.plan(
        service, bulk.BulkRequest(formats=("zip",), out=tmp_path, term="Fall 2026", courses="1")
    )
    assert [i["course_id"] for i in planned.items] == [1]
    with pytest.raises(BadRequest, match="no course you may export is in that term"):
        bulk.plan(service, bulk.BulkRequest(formats=("zip",), out=tmp_path, term="Winter 1999"))
    with pytest.raises(BadRequest, match="no course 2"):
        bulk.plan(service, bulk.BulkRequest(formats=("zip",), out=tmp_path, term="Fall 2026", courses="2"))


def test_resume_skips_intact_files_and_makes_again_those_changed_or_gone(service, tmp_path):
    out = tmp_path / "out"
    run = _run(service, out)
    store = service.library.bulk
    items = store.items(run.id)
    changed, gone, kept = items[0], items[1], items[2:]
    with open(changed.path, "ab") as f:
        f.write(b"tampered")
    os.unlink(gone.path)
    before = {i.id: os.stat(i.path).st_mtime_ns for i in kept}
    again = bulk.Coordinator(service, run.id, bulk.InlinePool()).run()
    assert again.workflow_state == "exported"
    after = {i.id: i for i in store.items(run.id)}
    for i in (changed, gone):
        assert after[i.id].attempts == 2
        assert (after[i.id].size, after[i.id].sha256) == (os.path.getsize(i.path), _sha(out / i.path))
    for i in kept:
        assert after[i.id].attempts == 1 and os.stat(i.path).st_mtime_ns == before[i.id]
    for folder in out.iterdir():  # no second copy of anything
        if folder.is_dir():
            assert len(list(folder.iterdir())) == 2


def test_a_failing_item_is_retried_with_back_off_then_stays_failed(service, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "CS_110-3").write_text("a file where course 3's folder goes")  # its items cannot be written
    statuses = []
    run = _run(service, out, max_attempts=2, backoff=0.01, on_status=lambda s: statuses.append(s.event))
    assert run.workflow_state == "failed" and run.message == "4 exported, 2 failed"
    failed = service.library.bulk.items(run.id, ["failed"])
    assert {i.course_id for i in failed} == {3}
    assert all(i.attempts == 2 and "FileExistsError" in i.error for i in failed)
    assert statuses.count("retry") == 2 and statuses.count("failed") == 2
    report = json.loads((out / "report.json").read_text())["items"]
    assert sorted(r["state"] for r in report) == ["exported"] * 4 + ["failed"] * 2


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names an fsynced descriptor by /proc")
def test_each_placed_file_and_its_folder_are_flushed_before_the_reports_and_nothing_else(
    service, tmp_path, monkeypatch
):
    flushed: list[str] = []
    reports_after: list[int] = []
    fsync, replace = os.fsync, os.replace

    def noting_fsync(fd):
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    def noting_replace(src, dst):
        if str(dst).endswith("report.json"):
            reports_after.append(len(flushed))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", noting_fsync)
    monkeypatch.setattr(os, "replace", noting_replace)
    monkeypatch.setattr(os, "sync", lambda: pytest.fail("os.sync waits for every program's files"))
    out = tmp_path / "out"
    run = _run(service, out)
    paths = [i.path for i in service.library.bulk.items(run.id)]
    before_reports = set(flushed[: reports_after[0]])
    assert set(paths) | {os.path.dirname(p) for p in paths} | {str(out)} <= before_reports
    assert len(paths) == 6 and before_reports <= set(paths) | {os.path.dirname(p) for p in paths} | {str(out)}


def test_two_runs_on_one_out_are_refused(service, tmp_path):
    out = tmp_path / "out"
    held = bulk.lock_out(out)
    try:
        with pytest.raises(bulk.OutLocked, match="another bulk run is writing to"):
            _run(service, out)
    finally:
        held.close()
    assert _run(service, out).workflow_state == "exported"  # free again once the first one ends


@pytest.mark.slow
def test_a_refused_run_leaves_no_worker_process_behind(service, tmp_path):
    import multiprocessing

    before = set(multiprocessing.active_children())
    out = tmp_path / "out"
    held = bulk.lock_out(out)
    try:
        pool = bulk.process_pool(2, service.library.home.data)
        assert len(set(multiprocessing.active_children()) - before) == 2  # started with the pool
        with pytest.raises(bulk.OutLocked):
            _run(service, out, pool=pool)
    finally:
        held.close()
    assert set(multiprocessing.active_children()) - before == set()


def test_a_canceled_run_stops_and_resume_runs_the_rest(service, tmp_path):
    out = tmp_path / "out"
    planned = bulk.plan(service, bulk.BulkRequest(formats=("zip", "qti"), out=out, courses="all"))
    run_id = bulk.create_run(service, planned)
    assert bulk.cancel_run(service, run_id) == 6
    run = bulk.Coordinator(service, run_id, bulk.InlinePool()).run()
    assert run.workflow_state == "canceled" and not list(out.glob("*/*"))
    bulk.reopen_for_resume(service, run_id)
    assert bulk.Coordinator(service, run_id, bulk.InlinePool()).run().workflow_state == "exported"
    with pytest.raises(BadRequest, match="already ended"):
        bulk.cancel_run(service, run_id)


@pytest.mark.slow
def test_worker_processes_build_the_same_files(service, tmp_path):
    run = _run(service, tmp_path / "out", formats=("common_cartridge",), pool=bulk.process_pool(2))
    items = service.library.bulk.items(run.id)
    assert run.workflow_state == "exported" and len(items) == 3
    assert all((i.size, i.sha256) == (len(open(i.path, "rb").read()), _sha(tmp_path / i.path)) for i in items)


def test_chunks_are_large_while_many_items_are_left_and_shrink_as_the_run_ends(service, tmp_path):
    courses = [c for c, _ in service.courses(service.owner_id())]
    items = [
        {"course_id": courses[i % 3].id, "course_code": courses[i % 3].course_code, "format": f}
        for i in range(40)
        for f in ("zip", "qti")
    ]
    out = tmp_path / "out"
    run_id = service.library.bulk.create_run(
        source="library", out_dir=str(out), formats=["zip", "qti"], settings={}, items=items
    )
    pool = bulk.InlinePool(lambda t: bulk.ItemResult(t.item_id, True, str(out / "f"), 1, "0" * 64))
    pool.slots, pool.ahead, pool.chunk_items = 2, 2, bulk.CHUNK_ITEMS
    sizes: list[int] = []
    submit = pool.submit
    pool.submit = lambda tasks: sizes.append(len(tasks)) or submit(tasks)
    assert bulk.Coordinator(service, run_id, pool).run().workflow_state == "exported"
    assert sum(sizes) == 80 and sizes[0] == bulk.CHUNK_ITEMS > 4  # few hand-overs while much is left
    assert sizes[-2:] == [2, 2]  # one course each at the end: no worker waits for another's long chunk


def test_packages_are_imported_then_exported(service, tmp_path):
    from tui_exports.engine.generated import course_spec, write_course_folder

    packages = tmp_path / "packages"
    for seed in (1, 2):
        spec = course_spec(
            pages=2, quizzes=1, questions_per_quiz=2, files=1, file_mb=0.01, modules=1, seed=seed
        )
        write_course_folder(spec, packages / f"course{seed}")
    before = len(service.courses(service.owner_id()))
    out = tmp_path / "out"
    planned = bulk.plan(service, bulk.BulkRequest(formats=("zip", "qti"), out=out, packages=(packages,)))
    run_id = bulk.create_run(service, planned)
    run = bulk.Coordinator(service, run_id, bulk.InlinePool()).run()
    assert run.workflow_state == "exported"
    items = service.library.bulk.items(run_id)
    assert len(items) == 4 and len({i.course_id for i in items}) == 2
    assert {i.package.rsplit("/", 1)[1] for i in items} == {"course1", "course2"}
    assert len(service.courses(service.owner_id())) == before + 2
    assert all(open(i.path, "rb").read(2) == b"PK" for i in items)


@pytest.mark.slow
def test_worker_processes_get_each_courses_formats_in_one_task_and_record_every_item(service, tmp_path):
    pool = bulk.process_pool(2, service.library.home.data)
    tasks: list[list[tuple[int, str]]] = []
    submit = pool.submit
    pool.submit = lambda chunk: tasks.append([(t.course_id, t.format) for t in chunk]) or submit(chunk)
    run = _run(service, tmp_path / "out", formats=("zip", "qti", "common_cartridge"), pool=pool)
    assert run.workflow_state == "exported"
    items = service.library.bulk.items(run.id)
    assert len(items) == 9 and {(i.workflow_state, i.attempts, i.ran_on) for i in items} == {
        ("exported", 1, "local")
    }
    assert sorted(pair for task in tasks for pair in task) == sorted((i.course_id, i.format) for i in items)
    assert len(tasks) < len(items)  # several items per task: the hand-over costs as much as a small item
    for course_id in {i.course_id for i in items}:  # a course's formats travel together (read once)
        assert sum(any(c == course_id for c, _ in task) for task in tasks) == 1
    for item in items:
        assert (item.size, item.sha256) == (os.path.getsize(item.path), _sha(Path(item.path)))


def test_a_ctrl_c_between_marking_items_and_handing_them_out_puts_them_back(service, tmp_path, monkeypatch):
    """A Ctrl-C while a chunk's items say ``exporting`` but are not handed out yet (its course
    being read): every item of the run that says ``exporting`` goes back to ``created``."""

    def interrupted(self, item):
        raise KeyboardInterrupt

    monkeypatch.setattr(bulk.Coordinator, "local_task", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(service, tmp_path / "out")
    states = {i.workflow_state for i in service.library.bulk.items(1, None)}
    assert states == {"created"}


def test_a_ctrl_c_swallowed_where_it_landed_still_stops_the_run(service, tmp_path):
    """A KeyboardInterrupt raised in code that swallows it (a finalizer, a collector callback:
    Python only prints those) still stops the run at its next wake-up, items put back."""
    import signal
    import time

    out = tmp_path / "out"

    def swallowing(task):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass  # what a __del__ does with it
        return bulk.ItemResult(task.item_id, False, error="not built")

    with pytest.raises(KeyboardInterrupt):
        _run(service, out, pool=bulk.InlinePool(swallowing))
    run = service.library.bulk.run(1)
    assert run.message == "interrupted"
    assert {i.workflow_state for i in service.library.bulk.items(1, None)} <= {"created", "failed"}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

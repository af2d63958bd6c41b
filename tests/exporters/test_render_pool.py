"""The Common Cartridge's pages and quizzes rendered by other processes (issue 18, items 2 and 5):
the package is the serial path's, byte for byte, with its warnings in the same order; a cancel
stops the processes; a process that dies fails the export instead of hanging it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import zipfile
from concurrent.futures import Future
from dataclasses import replace

import pytest
from exporter_runs import export_cc, export_quiz_zip
from snapshots import rich_snapshot

import tui_exports.exporters.qti.render as quiz_render
from tui_exports.exporters.common import render_pool
from tui_exports.exporters.common.cc_links import CCLinkRewriter
from tui_exports.exporters.common.package import PackageWriter
from tui_exports.exporters.common.render_pool import RenderPool, RenderPoolError
from tui_exports.model import ContextType, ExportCanceled, JobKind


def entries(path) -> list[tuple[str, int, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, i.compress_type, zf.read(i)) for i in zf.infolist()]


class InlinePool(RenderPool):
    """The pool's batching and ordering, each batch rendered here: the exporter's side of the
    pool, with what a test patches in this process in effect."""

    def __init__(self, setup, args, processes, here=None):
        self.processes = processes
        self._state = setup(*args)  # (the processes' renderer: its page index, not ``here``)

    def _submit(self, render, payloads):
        done = Future()
        done.set_result([render(self._state, p) for p in payloads])
        return done

    def close(self, stop=False):
        pass


def test_failing_and_deep_items_keep_their_warnings_in_the_serial_order(blobs, tmp_path, monkeypatch):
    """Pages and quizzes that fail or are flattened, rendered in batches of two: the same
    entries and the same warnings, in the same order, as rendered one by one."""
    snap = rich_snapshot(blobs)
    deep = "<div>" * 300 + "deep" + "</div>" * 300
    snap.pages = [replace(p, body=deep) if p.id == 102 else p for p in snap.pages]
    for method in ("html", "fragment"):
        original = getattr(CCLinkRewriter, method)

        def failing(self, body, original=original):
            if "Second" in (body or "") or "Dogs" in (body or ""):
                raise ValueError("cannot parse this")
            return original(self, body)

        monkeypatch.setattr(CCLinkRewriter, method, failing)
    runs = {}
    for mode in ("0", "1"):
        monkeypatch.setenv(render_pool.FORCE_ENV, mode)
        monkeypatch.setattr(quiz_render, "RenderPool", InlinePool)
        monkeypatch.setattr(render_pool, "BATCH", 2)
        for name, export in (("cc", lambda s, o: export_cc(s, o, "1.3.0")), ("qti", export_quiz_zip)):
            out = tmp_path / mode / name
            out.mkdir(parents=True)
            path, result = export(snap, out)
            runs[mode, name] = (entries(path), result.warnings)
    for name in ("cc", "qti"):
        assert runs["1", name] == runs["0", name], name
        assert any(w.startswith('Skipped question "TF"') for w in runs["0", name][1])
    warnings = runs["0", "cc"][1]
    assert any("Second page" in w and "cannot parse" in w for w in warnings)
    assert any("nested deeper than" in w for w in warnings)


@pytest.mark.slow
def test_the_render_processes_write_the_serial_package(service, monkeypatch):
    """A course of the library exported as the product does it, with the pool forced on and off:
    every entry and every warning the same; the pool did render its pages and quizzes."""
    db = service.library.database.db
    deep = "<div>" * 300 + "deep" + "</div>" * 300
    with service.library.transaction():
        page = db.execute("SELECT id FROM pages WHERE course_id = 1 ORDER BY id").fetchone()[0]
        db.execute("UPDATE pages SET body = ? WHERE id = ?", [deep, page])
    rendered = []
    ordered = RenderPool.ordered

    def counted(self, jobs, render, *args):
        rendered.append(render.__name__)
        return ordered(self, jobs, render, *args)

    monkeypatch.setattr(RenderPool, "ordered", counted)
    runs = {}
    for mode in ("0", "1"):
        monkeypatch.setenv(render_pool.FORCE_ENV, mode)
        for kind in ("common_cartridge", "qti"):
            ce = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, kind)
            service.store.claim(JobKind.CONTENT, ce.id, os.getpid(), state="created")
            service.run_content_export(ce.id)
            ce = service.store.job(JobKind.CONTENT, ce.id)
            assert ce.workflow_state.value == "exported"
            runs[mode, kind] = (entries(service.store.attachment(ce.attachment_id).path), ce.errors)
    assert rendered == ["render_page", "render_quiz", "linked_files", "render_canvas_quiz"]
    for kind in ("common_cartridge", "qti"):
        assert runs["1", kind] == runs["0", kind], kind
    assert any("nested deeper than" in w for w in runs["0", "common_cartridge"][1])
    assert not multiprocessing.active_children()


@pytest.mark.slow
def test_a_cancel_stops_the_render_processes(blobs, out_dir, monkeypatch):
    monkeypatch.setenv(render_pool.FORCE_ENV, "1")
    started = []
    original = RenderPool.__init__

    def init(self, *args, **kw):
        original(self, *args, **kw)
        started.append(self)

    monkeypatch.setattr(RenderPool, "__init__", init)

    def progress(percent, message):
        if percent >= 26:  # among the pages
            raise ExportCanceled()

    with pytest.raises(ExportCanceled):
        export_cc(rich_snapshot(blobs), out_dir, progress=progress)
    assert started and not multiprocessing.active_children()  # stopped, not left rendering


@pytest.mark.slow
def test_a_render_process_that_dies_fails_the_export(tmp_path):
    """Its batch was never answered: an error, not a wait for ever."""
    with pytest.raises(RenderPoolError, match="render process"):
        with RenderPool(os.getpid, (), 1) as pool:  # each process: its own pid; killed by its render
            list(pool.ordered([("a", signal.SIGKILL)], os.kill))
    assert not multiprocessing.active_children()


def test_a_deflated_entry_is_copied_as_written(tmp_path):
    """An entry deflated whole elsewhere (a render process) is the entry ``write_bytes`` writes,
    at the sizes where the writer cuts it into chunks too."""
    from tui_exports.exporters.common.zipwriter import CHUNK, deflate_whole

    datas = [b"", b"x" * 10, os.urandom(CHUNK // 2).hex().encode()[: 2 * CHUNK], b"ab" * CHUNK + b"c"]
    paths = []
    for how in ("bytes", "deflated"):
        path = tmp_path / f"{how}.zip"
        with PackageWriter(path, rich_snapshot(tmp_path / "blobs").exported_at) as pkg:
            for n, data in enumerate(datas):
                name = pkg.unique(f"e{n}.html")
                pkg.write_bytes(name, data) if how == "bytes" else pkg.write_deflated(
                    name, deflate_whole(data)
                )
            name = pkg.unique("stored.png")  # stored: inflated again
            pkg.write_bytes(name, b"png") if how == "bytes" else pkg.write_deflated(
                name, deflate_whole(b"png")
            )
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    with zipfile.ZipFile(paths[1]) as zf:
        assert zf.testzip() is None and zf.read("stored.png") == b"png"


def test_the_page_index_finds_the_ids_the_rewriter_finds(blobs):
    """Held as digests: the first page of a url in a walked list (the last in a held one), the
    last of a title, through growth past its first capacity."""
    from tui_exports.exporters.common.digests import DigestMap

    found = DigestMap(capacity=8)
    for n in range(100):
        found.put(f"page-{n % 50}", n, first=True)
        found.put("title", n)
    assert [found.get(f"page-{n}") for n in (0, 49)] == [0, 49]
    assert found.get("title") == 99 and found.get("page-50") is None and len(found) == 51


def _processes_in_child(weight: int, answer) -> None:
    answer.put(render_pool.processes_for(weight))


@pytest.mark.parametrize("daemon", [False, True])
def test_a_daemonic_process_renders_its_exports_itself(daemon, monkeypatch):
    """A Dask worker is a daemonic process, which may not start children: a big export there
    renders itself instead of failing to start its pool."""
    monkeypatch.delenv(render_pool.FORCE_ENV, raising=False)
    ctx = multiprocessing.get_context("spawn")
    answer = ctx.Queue()
    child = ctx.Process(target=_processes_in_child, args=(10**6, answer), daemon=daemon)
    child.start()
    got = answer.get(timeout=60)
    child.join(60)
    if daemon:
        assert got == 0
    else:
        assert got == render_pool.threads() - 1


def _processes_in_bulk_worker() -> int:
    return render_pool.processes_for(10**6)


def test_a_bulk_worker_renders_its_exports_itself(monkeypatch):
    """A bulk run's workers are its use of the cores: an export there starts no render processes."""
    from concurrent.futures import ProcessPoolExecutor

    from tui_exports.engine.bulk import _worker_start

    monkeypatch.setenv(render_pool.FORCE_ENV, "1")
    with ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start
    ) as pool:
        assert pool.submit(_processes_in_bulk_worker).result(timeout=60) == 0


KILLED_PARENT = """
import operator, time
from tui_exports.exporters.common.render_pool import RenderPool

if __name__ == "__main__":
    pool = RenderPool(int, (), 1)
    list(pool.ordered([(0, 1)], operator.add))  # its process is started and has rendered
    print(*(p.pid for p in pool._executor._processes.values()), flush=True)
    time.sleep(60)
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return any(line.startswith("State:") and "Z" in line for line in f)
    except FileNotFoundError:
        return True


@pytest.mark.slow
def test_render_processes_leave_when_the_export_process_is_killed():
    """A kill -9 (or the out-of-memory killer) of the export's process leaves no render process
    behind: each one sees its parent gone and leaves."""
    import subprocess
    import sys
    import time

    parent = subprocess.Popen([sys.executable, "-c", KILLED_PARENT], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert pids and not any(_gone(p) for p in pids)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while not all(_gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in pids if not _gone(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, "render processes outlived the export's process"


def test_a_process_told_to_keep_its_exports_renders_them_itself(monkeypatch):
    monkeypatch.setenv(render_pool.FORCE_ENV, "1")
    monkeypatch.setattr(render_pool, "_allowed", True)
    assert render_pool.processes_for(10**6) >= 1
    render_pool.keep_to_this_process()
    assert render_pool.processes_for(10**6) == 0

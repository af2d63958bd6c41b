"""``bulk --scheduler``: items on a Dask cluster (a 2-process ``LocalCluster``), each task carrying
its course snapshot and writing its file into ``--out``; a worker killed mid-run loses nothing
(its items run again on another worker); without the extra, the install line and exit 2."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import pytest
from cli_run import run_cli

from tui_exports.engine import bulk
from tui_exports.engine.generated import course_spec


def test_scheduler_without_dask_says_what_to_install(home, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    code, out, err = run_cli(
        capsys, "bulk", "--courses", "all", "--formats", "zip", "--out", str(tmp_path / "o"),
        "--scheduler", "tcp://127.0.0.1:1",
    )  # fmt: skip
    assert code == 2 and out == ""
    assert (
        err
        == "error: --scheduler needs Dask distributed, which is not installed: pip install 'tui-exports[cluster]'\n"
    )
    code, out, _ = run_cli(capsys, "bulk", "list", "--json")
    assert json.loads(out) == []  # nothing was recorded


@pytest.fixture(scope="module")
def cluster():
    """One cluster for the file's tests (starting its two processes is most of a test's time); the
    test that kills a worker comes last (the nanny starts another in its place)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
    ) as c:
        yield c


@pytest.mark.slow
def test_bulk_on_a_local_cluster(home, tmp_path, capsys, cluster):
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "bulk", "--courses", "all", "--formats", "zip,common_cartridge,qti", "--out", str(out),
        "--scheduler", cluster.scheduler_address, "--json",
    )  # fmt: skip
    assert code == 0, err
    records = json.loads(stdout)["items"]
    workers = set(cluster.scheduler_info["workers"])
    assert len(records) == 9 and {r["state"] for r in records} == {"exported"}
    assert {r["ran_on"] for r in records} <= workers
    for r in records:
        assert os.path.getsize(r["path"]) == r["size"]


@pytest.mark.slow
def test_a_worker_killed_mid_run_has_its_items_run_on_another(service, tmp_path, cluster):
    from distributed import Client

    from tui_exports.engine.cluster import DaskPool

    for seed in range(1, 6):
        spec = course_spec(
            pages=6, quizzes=2, questions_per_quiz=4, files=2, file_mb=0.1, modules=2, seed=seed
        )
        service.generate_course(spec)
    out = tmp_path / "out"
    planned = bulk.plan(
        service, bulk.BulkRequest(formats=("common_cartridge", "qti", "zip"), out=out, courses="all")
    )
    run_id = bulk.create_run(service, planned)
    client = Client(cluster)
    coordinator = bulk.Coordinator(service, run_id, DaskPool(client))
    coordinator.task_of = coordinator.snapshot_task
    result: dict = {}
    worker = threading.Thread(target=lambda: result.setdefault("run", coordinator.run()))
    worker.start()
    victim, keys = None, []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and victim is None:
        for address, processing in client.processing().items():
            if processing:
                victim, keys = address, list(processing)
                break
        time.sleep(0.005)
    assert victim is not None, "no task was seen running"
    nanny = next(n for n in cluster.workers.values() if n.worker_address == victim)
    os.kill(nanny.process.process.pid, signal.SIGKILL)
    worker.join(120)
    client.close()
    assert result["run"].workflow_state == "exported"
    items = service.library.bulk.items(run_id)
    assert len(items) == 24 and {i.workflow_state for i in items} == {"exported"}
    lost = [int(i) for k in keys for i in k.split("-")[2].split("_")]  # bulk-items-<id>_<id>…-<nonce>
    by_id = {i.id: i for i in items}
    assert lost and all(by_id[i].ran_on != victim for i in lost)  # built elsewhere
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.parent != out)
    assert sorted(i.path for i in items) == [str(p) for p in files]


FAULTS = """
import resource, sys
from tui_exports.engine.cluster import run_on_worker

def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):
        data = b"x" * (2 << 20)  # a buffer as large as a blob's read or a deflate buffer
        del data
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

print(faults(), run_on_worker(()), faults())
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_worker_started_by_a_dask_nanny_reuses_freed_buffers_once_it_runs_a_task():
    import subprocess

    pytest.importorskip("distributed")
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}  # what a nanny gives its workers
    out = subprocess.run([sys.executable, "-c", FAULTS], env=env, capture_output=True, text=True, check=True)
    before, result, after = out.stdout.split()
    assert result == "[]"
    assert int(before) > 50 * 400  # each 2 MiB buffer mapped and its 512 pages faulted in again
    assert int(after) < 2_000  # the heap's pages, reused


@pytest.mark.parametrize(
    "address, here",
    [
        ("tcp://127.0.0.1:8786", True),
        ("tcp://[::1]:8786", True),
        ("tcp://localhost:8786", True),
        ("tcp://10.0.0.5:8786", False),
        ("tls://scheduler.example.org:8786", False),
    ],
)
def test_workers_read_the_library_themselves_only_behind_a_loopback_scheduler(address, here):
    from tui_exports.engine.cluster import workers_share_this_machine

    assert workers_share_this_machine(address) is here

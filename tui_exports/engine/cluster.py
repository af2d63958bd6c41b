"""Bulk items on a Dask distributed cluster (``bulk --scheduler tcp://HOST:PORT``).

Each task is pure: its input is a chunk of :class:`~.bulk.ItemTask` (a few items, a course's
formats together), each carrying the course snapshot that the coordinator built (plain data:
outlines, HTML, quiz questions, and the course files' paths in the library's ``blobs/``
folder, which the workers reach on shared storage); its output is the files written into
``--out`` (shared too) and :class:`~.bulk.ItemResult` records sent back.  Workers on other
machines never open the library's SQLite file (no WAL over a network filesystem), and only
the coordinator writes it.  When the scheduler listens on loopback (a ``LocalCluster``, or
``dask scheduler --host 127.0.0.1``) every worker runs on this machine: those read the library
on the local disk themselves (WAL is safe there; opened once per worker process), tasks carry
only ids as for ``--workers N``, and the coordinator builds no snapshots.  A task holds no
token.  A worker that dies mid-task loses nothing: the scheduler runs its tasks again on
another worker.
"""

from __future__ import annotations

import ctypes
import functools
import ipaddress
import os
import time
import uuid
from typing import Any

from .bulk import CHUNK_ITEMS, FuturesPool, ItemResult, ItemTask, build_items, collect
from .errors import BadRequest

INSTALL = "pip install 'tui-exports[cluster]'"
#: Dask settings for a cluster that runs bulk items (README, "Scaling out"; ``benchmarks/bulk.py``
#: starts its LocalCluster with them): a worker's statistical profiler samples every thread's
#: stack each 10 ms, which a batch of short CPU-bound tasks pays in time and GIL hand-overs, and
#: work stealing moves tasks that all take about as long for nothing
QUIET_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.scheduler.work-stealing": False}


#: glibc's ``mallopt`` parameters, and what a worker process is given (once) by :func:`tune_allocator`
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 4 << 20
TRIM_THRESHOLD = 16 << 20


@functools.cache  # once per process
def tune_allocator() -> None:
    """Once per process, in one that a Dask nanny started: the nanny sets
    ``MALLOC_TRIM_THRESHOLD_=65536`` (distributed's ``nanny.pre-spawn-environ``), which also pins
    glibc's mmap threshold at 128 KiB, so every buffer of 128 KiB or more (a 1 MiB read of a
    blob, a deflate buffer) is mapped, its pages faulted in and zeroed, and unmapped again, each
    time.  That cost an item 20-40 % more CPU than in ``--workers N`` (400 small items: 4.4-5.5 s
    against 3.7-4.3 s of CPU, the difference nearly all system time).  Here buffers up to 4 MiB come
    from the heap, which keeps up to 16 MiB free at its top, as glibc's own sliding thresholds
    would after the first such buffer."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def run_on_worker(tasks: tuple[ItemTask, ...]) -> list[ItemResult]:
    """The task a Dask worker runs: a chunk of items built as a local worker builds them,
    signed with the worker's address."""
    from distributed import get_worker

    from ..exporters.common.render_pool import keep_to_this_process

    tune_allocator()
    keep_to_this_process()  # the cluster's workers are its use of the cores (a worker without a nanny too)

    try:
        where = get_worker().address
    except ValueError:  # run outside a worker (a local client's synchronous scheduler)
        where = "dask"
    return build_items(tasks, ran_on=where)


class DaskPool(FuturesPool):
    """Chunks of items as futures on a Dask cluster, two per worker thread so none waits for work."""

    ahead = 0
    chunk_items = CHUNK_ITEMS
    failed_on = "dask"  # KilledWorker: the item was lost on every worker it met

    def __init__(self, client: Any, own_client: bool = False):
        self.client = client
        self.own_client = own_client
        self._futures: dict[Any, tuple[ItemTask, ...]] = {}
        self._slots = (0.0, 1)

    @property
    def slots(self) -> int:
        checked, slots = self._slots
        if time.monotonic() - checked > 2.0:
            slots = max(1, 2 * sum(self.client.nthreads().values()))
            self._slots = (time.monotonic(), slots)
        return slots

    def submit(self, tasks: tuple[ItemTask, ...]) -> Any:
        ids = "_".join(str(t.item_id) for t in tasks)
        key = f"bulk-items-{ids}-{uuid.uuid4().hex[:8]}"
        future = self.client.submit(run_on_worker, tasks, key=key, pure=False)
        self._futures[future] = tasks
        return future

    def wait(self, timeout: float) -> Any:
        from distributed import wait

        try:
            return wait(list(self._futures), timeout=timeout, return_when="FIRST_COMPLETED").done
        except TimeoutError:
            return []

    def finished(self, timeout: float) -> list[tuple[Any, list[ItemResult]]]:
        """The chunks that ended, their records fetched from the workers in one ``gather`` (a
        ``result()`` each was a round trip each); a chunk that raised, or whose records could
        not be fetched, is taken one by one (:func:`~.bulk.collect`)."""
        if not self._futures:
            time.sleep(min(timeout, 0.05))
            return []
        done = list(self.wait(timeout))
        ok = [f for f in done if f.status == "finished"]
        try:
            records = self.client.gather(ok) if ok else []
        except Exception:  # noqa: BLE001 - a worker holding some records died: one by one
            ok, records = [], []
        out = [(future, list(record)) for future, record in zip(ok, records, strict=True)]
        for future in ok:
            del self._futures[future]
        fetched = set(ok)
        rest = [f for f in done if f not in fetched]
        return out + collect(rest, self._futures, ran_on=self.failed_on)

    def close(self, cancel: bool) -> None:
        if cancel and self._futures:
            self.client.cancel(list(self._futures))
        self._futures.clear()
        if self.own_client:
            self.client.close()


def workers_share_this_machine(address: str) -> bool:
    """Whether the scheduler at ``address`` listens on this machine's loopback only, so that
    every worker that reaches it runs here: such workers read the library's SQLite file on the
    local disk themselves (once per worker process), and tasks carry ids, not snapshots."""
    host = address.partition("://")[2].rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cluster_pool(address: str) -> DaskPool:
    """A pool on the scheduler at ``address``; without the extra, the install line (BadRequest)."""
    try:
        from distributed import Client
    except ImportError:
        raise BadRequest(f"--scheduler needs Dask distributed, which is not installed: {INSTALL}") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as e:
        raise BadRequest(f"--scheduler {address}: no Dask scheduler answered there ({e})") from None
    return DaskPool(client, own_client=True)

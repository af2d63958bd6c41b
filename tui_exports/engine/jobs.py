"""Running exports: a bounded pool of worker threads fed from the library's job queue.

The queue is the database itself: a job is a ``created`` row nobody has claimed.
Any process may run a :class:`JobRunner` (the HTTP server, ``export --wait``, the
background worker the TUI and CLI start); claiming is one atomic UPDATE, so two
runners never take the same job.  A runner claims only jobs it will finish: every
queued job when it serves the queue (the worker, the server), else only the jobs its
own process queued (``export --wait``).  When it stops, the jobs it claimed but did not
finish go back to the queue (never canceled): :meth:`JobRunner.stop` says which.  A monitor thread writes heartbeats (crash
recovery tells a live runner from a dead one by them) and fails ePub jobs that run
past the configured limit — the runner does it itself, not lazily.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ..model import ContentExportState, EpubExportState, JobKind
from . import states
from .recovery import hold_runner_lock
from .service import ExportService

log = logging.getLogger(__name__)

#: each kind of job, with its state machine: a job is queued in that machine's ``created``
MACHINES = {JobKind.CONTENT: ContentExportState, JobKind.EPUB: EpubExportState}


def has_unclaimed(service: ExportService) -> bool:
    """Whether a job waits in the queue that no runner has claimed (a worker must be started)."""
    for kind, machine in MACHINES.items():
        for record in service.store.unfinished(kind, [machine.CREATED]):
            if record.runner_pid is None:
                return True
    return False


class CancelEvent(threading.Event):
    reason: str = ""
    #: set with the event when the runner shuts down: the job goes back to the queue
    handback: bool = False


@dataclass
class _Job:
    kind: JobKind
    job_id: int
    started: float = field(default_factory=time.monotonic)
    cancel: CancelEvent = field(default_factory=CancelEvent)
    future: Future | None = None


class JobRunner:
    def __init__(
        self,
        service: ExportService,
        workers: int | None = None,
        poll_seconds: float = 0.25,
        *,
        claim_all: bool = True,
    ):
        self.service = service
        #: True: run every queued job (the worker, the server); False: only those given to :meth:`wake`
        self.claim_all = claim_all
        self._mine: set[tuple[JobKind, int]] = set()
        self.workers = max(1, workers or service.settings.workers)
        self.poll_seconds = poll_seconds
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="export")
        self._active: dict[tuple[JobKind, int], _Job] = {}
        self._lock = threading.Lock()
        self._ended = threading.Condition(self._lock)  # notified when a job of this runner ends
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.last_busy = time.monotonic()

    # -- queue
    def claim_pending(self) -> int:
        """Claim queued jobs while a worker thread is free; returns how many were started."""
        started = 0
        for kind, record in self._queued():
            with self._lock:
                if len(self._active) >= self.workers:
                    return started
            if self.run(kind, record.id):
                started += 1
        return started

    def _queued(self):
        """(kind, record) of every job created and claimed by no runner, oldest first per kind."""
        for kind, machine in MACHINES.items():
            for record in self.service.store.unfinished(kind, states.running_states(machine)):
                if record.runner_pid is None and record.workflow_state is machine.CREATED:
                    if self.claim_all or (kind, record.id) in self._mine:
                        yield kind, record

    def run(self, kind: JobKind, job_id: int) -> bool:
        """Claim one job and start it on the pool; False if another runner has it."""
        kind = JobKind(kind)
        key = (kind, job_id)
        job = _Job(kind, job_id)
        with self._lock:  # registered before the claim, so waiters never see a gap
            if key in self._active:
                return False
            self._active[key] = job
            self.last_busy = time.monotonic()
        hold_runner_lock(self.service.library.home)  # recovery tells a live runner by it
        if not self.service.store.claim(kind, job_id, os.getpid(), state=MACHINES[kind].CREATED):
            with self._lock:
                self._active.pop(key, None)
            return False
        job.future = self._pool.submit(self._execute, job)
        return True

    def _execute(self, job: _Job) -> None:
        try:
            if job.kind is JobKind.CONTENT:
                self.service.run_content_export(job.job_id, job.cancel)
            else:
                self.service.run_epub_export(job.job_id, job.cancel)
        except Exception:  # noqa: BLE001 - a job must never take the runner down
            log.exception("export job %s %s crashed", job.kind, job.job_id)
        finally:
            with self._lock:
                self._active.pop((job.kind, job.job_id), None)
                self.last_busy = time.monotonic()
                self._ended.notify_all()

    def wait_for_end(self, seconds: float) -> None:
        """Wait ``seconds``, or less when a job of this runner ends meanwhile (a follower of it
        reads the end at once, not at its next poll)."""
        with self._ended:
            self._ended.wait(seconds)

    # -- background loop
    def start(self) -> JobRunner:
        for target, name in ((self._poll_loop, "export-queue"), (self._monitor_loop, "export-monitor")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def wake(self, kind: JobKind | None = None, job_id: int | None = None) -> None:
        """Look at the queue now; with a job, that job is this runner's to run (``claim_all`` or not)."""
        if kind is not None and job_id is not None:
            with self._lock:
                self._mine.add((JobKind(kind), job_id))
        self._wake.set()

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.claim_pending()
            except Exception:  # noqa: BLE001
                log.exception("claiming jobs failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _monitor_loop(self) -> None:
        settings = self.service.settings
        limit = settings.epub_timeout_minutes * 60
        while not self._stop.wait(settings.heartbeat_seconds):
            self.heartbeat()
            with self._lock:
                jobs = list(self._active.values())
            for job in jobs:
                if job.kind is JobKind.EPUB and time.monotonic() - job.started > limit:
                    self.expire(
                        job, f"took longer than {settings.epub_timeout_minutes} minutes and was stopped"
                    )

    def heartbeat(self) -> None:
        with self._lock:
            keys = list(self._active)
        for kind in MACHINES:
            self.service.store.heartbeat(kind, [i for k, i in keys if k is kind])

    def expire(self, job: _Job, reason: str) -> None:
        """Stop a job that ran too long: its thread stops at the next progress call,
        and the record is failed now even if the thread never calls again."""
        job.cancel.reason = reason
        job.cancel.set()
        record = self.service.store.job(job.kind, job.job_id)
        if record is not None and record.running:
            self.service.moves.fail(record, reason)

    # -- introspection and shutdown
    @property
    def active_count(self) -> int:
        with self._lock:
            return len(self._active)

    def idle_seconds(self) -> float:
        with self._lock:
            if self._active:
                return 0.0
            return time.monotonic() - self.last_busy

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Run until nothing is queued or running (tests, ``--wait``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.claim_pending()
            with self._lock:
                jobs = list(self._active.values())
            if not jobs and not self._has_pending():
                return True
            if any(j.future is None for j in jobs):
                time.sleep(0.01)
                continue
            for f in (j.future for j in jobs):
                try:
                    f.result(timeout=max(0.01, deadline - time.monotonic()))
                except Exception:  # noqa: BLE001
                    pass
        return False

    def _has_pending(self) -> bool:
        return next(self._queued(), None) is not None

    def stop(self, wait: bool = False) -> list[tuple[JobKind, int]]:
        """Stop claiming and hand back what runs: each running job stops at its next progress
        call and goes back to the queue, as do the claimed jobs that never started; returns
        those handed back (someone must run them: the callers start the worker).  The queue and
        monitor threads are always joined, as they use the service's connections, which the
        caller closes next; ``wait`` also waits for the running jobs to stop."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            stopping = list(self._active.values())
            for job in stopping:
                job.cancel.reason = "the program running it was shut down"
                job.cancel.handback = True
                job.cancel.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=30)
        with self._lock:
            left = [j for j in self._active.values() if j.future is None or j.future.cancelled()]
            stopping += [j for j in left if j not in stopping]
        handed: list[tuple[JobKind, int]] = []
        for job in stopping:
            machine = MACHINES[job.kind]
            if job in left:  # claimed, never run: nobody else will hand it back
                self.service.store.requeue(
                    job.kind,
                    job.job_id,
                    os.getpid(),
                    queued=machine.CREATED,
                    running=states.running_states(machine),
                )
            record = self.service.store.job(job.kind, job.job_id) if wait or job in left else None
            if record is not None and record.workflow_state is machine.CREATED and record.runner_pid is None:
                handed.append((job.kind, job.job_id))
        return handed

"""Recovery at start-up: jobs left running by a process that died (or an ePub past its time
limit) are failed with a message saying why, never left hanging.

A runner is alive while it holds its lock: every process that runs jobs takes an advisory
lock (``fcntl.flock``) on ``runners/<pid>.lock`` in the library and keeps it for its whole
life.  The kernel lets go of it when the process dies, however it dies — before a killed
process is even reaped, while ``kill(pid, 0)`` still finds the zombie and its last heartbeat
still looks fresh.  Where there is no ``fcntl`` (Windows), the pid and the heartbeat decide."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..model import ContentExportState, EpubExportState, JobKind
from ..store import utcnow
from . import states
from .errors import IllegalTransition
from .notifications import send_notification
from .publish import CONTEXT_TYPES, adoptable, attach, kind_of, work_dir

if TYPE_CHECKING:
    from ..paths import Home
    from .service import ExportService

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_guard = threading.Lock()
_held: dict[Path, IO[str]] = {}  # runners folder -> this process's open, locked file
_held_by = os.getpid()


def runners_dir(home: Home) -> Path:
    return home.data / "runners"


def hold_runner_lock(home: Home) -> None:
    """Take this process's runner lock on the library (once; it is kept until the process ends)."""
    global _held_by
    if fcntl is None:
        return
    folder = runners_dir(home)
    with _guard:
        if _held_by != os.getpid():  # a forked child holds none of its parent's locks
            _held.clear()
            _held_by = os.getpid()
        if folder in _held:
            return
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{os.getpid()}.lock"
        while True:
            handle = open(path, "a+")  # noqa: SIM115 - kept open for the life of the process
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a file that recovery removed while we waited for it
                break
            handle.close()
        _held[folder] = handle


def runner_alive(home: Home, pid: int) -> bool | None:
    """Whether the process ``pid`` still runs jobs on this library, by its lock; None where
    locks are not available (the caller falls back on the pid and the heartbeat)."""
    if fcntl is None:
        return None
    path = runners_dir(home) / f"{pid}.lock"
    try:
        handle = open(path, "r+")  # noqa: SIM115
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            # held: its process is alive, unless it is already a zombie whose last threads
            # have not yet let go of its files (a moment after kill -9)
            return not _is_zombie(pid)
        try:
            path.unlink()  # its process is gone: nobody will take this file again
        except OSError:
            pass
        return False


@dataclass
class Repair:
    """One thing recovery finds wrong, and what it does about it."""

    problem: str  # "stuck job", "unpublished file", "orphan export file"
    subject: str  # "content_exports 3", "exports/epub-4"
    why: str
    apply: Callable[[], str | None]  # what it did, or None when there was nothing left to do
    #: done by recovery at every start; False: only by ``library check --repair`` (a file in
    #: the exports folder that no export wrote may be someone's: it is not removed unasked)
    at_start: bool = True


def recover(service: ExportService, now: datetime | None = None) -> list[str]:
    """Fail jobs whose process died (or that ran past the ePub limit), adopt or remove the files
    they left at a final path; returns what it did."""
    done = []
    for repair in plan(service, now):
        if not repair.at_start:
            continue
        did = repair.apply()
        if did:
            done.append(f"{repair.subject}: {did}")
    folder = runners_dir(service.library.home)
    for lock in sorted(folder.glob("*.lock")) if folder.is_dir() else []:
        if lock.stem.isdigit() and int(lock.stem) != os.getpid():
            runner_alive(service.library.home, int(lock.stem))  # a free lock's file is removed
    return done


def plan(service: ExportService, now: datetime | None = None) -> Iterator[Repair]:
    """What recovery finds to do, one repair at a time (``library check`` lists them): the
    files at final paths are looked at after the stuck jobs' repairs were applied, if they were."""
    yield from _stale_jobs(service, now or utcnow())
    yield from _unpublished(service)


def _stale_jobs(service: ExportService, now: datetime) -> Iterator[Repair]:
    stale = timedelta(seconds=service.settings.stale_after_seconds)
    limit = timedelta(minutes=service.settings.epub_timeout_minutes)
    for job_kind, machine in ((JobKind.CONTENT, ContentExportState), (JobKind.EPUB, EpubExportState)):
        table = f"{job_kind}_exports"  # as the messages said
        for record in service.store.unfinished(job_kind, states.running_states(machine)):
            pid = record.runner_pid
            subject = f"{table} {record.id}"
            if job_kind is JobKind.EPUB and record.workflow_state is not EpubExportState.CREATED:
                if record.created_at < now - limit:
                    reason = (
                        f"took longer than {service.settings.epub_timeout_minutes} minutes and was stopped"
                    )
                    yield Repair(
                        "stuck job", subject, reason, partial(_fail, service, record, reason, "timed out")
                    )
                    continue
            if pid is None:
                continue  # still queued: a runner will pick it up
            alive = runner_alive(service.library.home, pid)
            if alive is None:
                beat = record.heartbeat_at
                alive = _pid_alive(pid) and beat is not None and beat > now - stale
            if pid == os.getpid() or alive:
                continue
            why = f"{record.workflow_state.value} with no live runner (pid {pid})"
            yield Repair("stuck job", subject, why, partial(_interrupted, service, record, machine))


def _interrupted(service: ExportService, record, machine) -> str | None:
    """A job whose runner died: back to the queue if it never started, adopted if its files
    were all published, else failed saying so; its work folder goes."""
    kind = kind_of(record)
    shutil.rmtree(work_dir(service.library, kind, record.id), ignore_errors=True)
    if record.workflow_state is machine.CREATED:
        running = states.running_states(machine)
        if service.store.requeue(kind, record.id, record.runner_pid, queued=machine.CREATED, running=running):
            return "queued again (its runner stopped before it started)"
    if _adopt(service, record):
        return "adopted (its files were published whole before its runner stopped)"
    reason = (
        f"interrupted: the process running this export (pid {record.runner_pid}) stopped before it "
        "finished; start the export again"
    )
    return _fail(service, record, reason, "interrupted")


def _fail(service: ExportService, record, reason: str, did: str) -> str | None:
    return did if service.moves.fail(record, reason) else None


def _adopt(service: ExportService, record) -> bool:
    """Finish a job killed after its renames, if its files match what it recorded before them."""
    placed = adoptable(service.library, record)
    if placed is None:
        return False
    target = ContentExportState.EXPORTED if kind_of(record) is JobKind.CONTENT else EpubExportState.GENERATED
    with service.library.transaction():
        record = service.moves.reload(record)
        if record is None or states.is_final(record.workflow_state):
            return False
        try:
            states.check(record.workflow_state, target)
        except IllegalTransition:
            return False
        progress = service.store.progress(record.progress_id) if record.progress_id else None
        if progress is not None and not progress.pending:
            return False  # canceled (or ended) meanwhile: its files are not wanted any more
        record = service.moves.move(record, target, **attach(service.library, record, placed))
        service.moves.complete_progress(record.progress_id)
    send_notification(service.library, record, ok=True)
    return True


def _unpublished(service: ExportService) -> Iterator[Repair]:
    """Files at a final path (``exports/content-N``, ``exports/epub-N``) whose job ended without
    them (killed between the rename and the row's move, or between an ePub's two renames),
    or whose job is gone, and work folders of jobs that no longer run: removed, with the file
    rows that name them.  A running or finished job's are kept."""
    published = {JobKind.CONTENT: ContentExportState.EXPORTED, JobKind.EPUB: EpubExportState.GENERATED}
    exports = service.library.exports_dir
    for folder in sorted(exports.iterdir()) if exports.is_dir() else []:
        work = folder.name.startswith(".work-")
        kind_name, _, raw = folder.name.removeprefix(".work-").partition("-")
        if kind_name not in ("content", "epub") or not raw.isdigit():
            if not folder.name.startswith(".") or work:
                subject = f"exports/{folder.name}"
                remove = partial(_remove, folder, None)
                yield Repair("orphan export file", subject, "no export wrote it", remove, at_start=False)
            continue
        kind = JobKind(kind_name)
        record = service.store.job(kind, int(raw))
        if record is not None and not states.is_final(record.workflow_state):
            continue  # running: its files are its own
        if not work and record is not None and record.workflow_state is published[kind] and folder.is_dir():
            continue
        why = "its export is gone" if record is None else f"its export ended {record.workflow_state.value}"
        rows = None if work else (service.store, CONTEXT_TYPES[kind], int(raw))
        problem = "orphan work folder" if work else "unpublished file"
        yield Repair(problem, f"exports/{folder.name}", why, partial(_remove, folder, rows))


def _remove(path: Path, rows) -> str:
    if rows is not None:
        store, context_type, context_id = rows
        store.remove_attachments(context_type, context_id)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    return "removed (its export did not finish)" if rows is not None else "removed"


def _is_zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but is not reaped yet (Linux's /proc; elsewhere: no)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[-1].split()
    return bool(fields) and fields[0] in ("Z", "X")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

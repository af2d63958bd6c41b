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
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..model import ContentExportState, EpubExportState, JobKind
from ..store import utcnow
from . import states

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


def recover(service: ExportService, now: datetime | None = None) -> list[str]:
    """Fail jobs whose process died (or that ran past the ePub limit); returns what it did."""
    now = now or utcnow()
    done = []
    stale = timedelta(seconds=service.settings.stale_after_seconds)
    limit = timedelta(minutes=service.settings.epub_timeout_minutes)
    for job_kind, machine in ((JobKind.CONTENT, ContentExportState), (JobKind.EPUB, EpubExportState)):
        table = f"{job_kind}_exports"  # as the messages said
        for record in service.store.unfinished(job_kind, states.running_states(machine)):
            pid = record.runner_pid
            if job_kind is JobKind.EPUB and record.workflow_state is not EpubExportState.CREATED:
                if record.created_at < now - limit:
                    if service.moves.fail(
                        record,
                        f"took longer than {service.settings.epub_timeout_minutes} minutes and was stopped",
                    ):
                        done.append(f"{table} {record.id}: timed out")
                    continue
            if pid is None:
                continue  # still queued: a runner will pick it up
            alive = runner_alive(service.library.home, pid)
            if alive is None:
                beat = record.heartbeat_at
                alive = _pid_alive(pid) and beat is not None and beat > now - stale
            if pid == os.getpid():
                alive = True
            if not alive:
                shutil.rmtree(
                    service.library.exports_dir / f".work-{job_kind}-{record.id}", ignore_errors=True
                )
                if service.moves.fail(
                    record,
                    f"interrupted: the process running this export (pid {pid}) stopped before it finished; "
                    "start the export again",
                ):
                    done.append(f"{table} {record.id}: interrupted")
    done += _remove_unpublished(service)
    folder = runners_dir(service.library.home)
    for lock in sorted(folder.glob("*.lock")) if folder.is_dir() else []:
        if lock.stem.isdigit() and int(lock.stem) != os.getpid():
            runner_alive(service.library.home, int(lock.stem))  # a free lock's file is removed
    return done


def _remove_unpublished(service: ExportService) -> list[str]:
    """Files at a final path (``exports/content-N``, ``exports/epub-N``) whose job ended without
    them (killed between the rename and the row's move, or between an ePub's two renames),
    or whose job is gone: removed, with the file rows that name them. A running job's are kept."""
    done = []
    published = {JobKind.CONTENT: ContentExportState.EXPORTED, JobKind.EPUB: EpubExportState.GENERATED}
    exports = service.library.exports_dir
    for folder in sorted(exports.glob("*-*")) if exports.is_dir() else []:
        kind_name, _, raw = folder.name.partition("-")
        if kind_name not in ("content", "epub") or not raw.isdigit() or not folder.is_dir():
            continue
        kind = JobKind(kind_name)
        record = service.store.job(kind, int(raw))
        if record is not None and (
            record.workflow_state is published[kind] or not states.is_final(record.workflow_state)
        ):
            continue
        service.store.remove_attachments(
            f"{'ContentExport' if kind is JobKind.CONTENT else 'EpubExport'}", int(raw)
        )
        shutil.rmtree(folder, ignore_errors=True)
        done.append(f"{folder.name}: removed (its export did not finish)")
    return done


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

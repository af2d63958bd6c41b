"""Recovery at start-up: jobs left running by a process that died (or an ePub past its time
limit) are failed with a message saying why, never left hanging."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..model import ContentExportState, EpubExportState, JobKind
from ..store import utcnow
from . import states

if TYPE_CHECKING:
    from .service import ExportService


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
    return done


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""State moves: the only code that moves a workflow state or a Progress, each checked
against its state machine (``states``).  The service (cancel), the runner and recovery share it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ..model import (
    ContentExport,
    ContentExportState,
    EpubExport,
    EpubExportState,
    ExportCanceled,
    Progress,
    ProgressState,
    is_failed,
)
from ..store import Library
from . import states
from .notifications import send_notification

#: A completed Progress's message, by what it was the progress of.
DONE_MESSAGES = {"ContentExport": "Done: the export is ready", "EpubExport": "Done: the ePub is ready"}


class StateMoves:
    def __init__(self, library: Library):
        self.library = library
        self.store = library.exports

    def move_progress(self, p: Progress, target: ProgressState, **fields: Any) -> None:
        states.check(p.workflow_state, target)
        if target is ProgressState.COMPLETED:  # the last step's words ("Writing the ePub") are over
            fields["completion"] = 100
            fields.setdefault("message", DONE_MESSAGES.get(p.context_type, "Done"))
        self.store.update_progress(p.id, workflow_state=target, **fields)

    def move(self, record: ContentExport | EpubExport, target: StrEnum, **fields: Any) -> Any:
        """Move a record's state after checking the machine; re-reads to catch races."""
        fresh = self.reload(record)
        states.check(fresh.workflow_state, target)
        update = (
            self.store.update_content_export
            if isinstance(fresh, ContentExport)
            else self.store.update_epub_export
        )
        update(fresh.id, workflow_state=target, **fields)
        return self.reload(fresh)

    def reload(self, record: ContentExport | EpubExport) -> Any:
        if isinstance(record, ContentExport):
            return self.store.content_export(record.id)
        return self.store.epub_export(record.id)

    def fail(self, record: ContentExport | EpubExport, message: str, *, notify: bool = True) -> bool:
        """Fail the record, unless it has ended meanwhile (another process recovering the same
        stale job may have failed it first): read and moved under the write lock.  True if failed."""
        target = ContentExportState.FAILED if isinstance(record, ContentExport) else EpubExportState.FAILED
        with self.library.transaction():
            record = self.reload(record)
            if states.is_final(record.workflow_state):
                return False
            settings = dict(record.settings)
            settings["errors"] = [*settings.get("errors", []), message]
            record = self.move(record, target, settings=settings)
            p = self.store.progress(record.progress_id) if record.progress_id else None
            if p and p.pending:
                self.move_progress(p, ProgressState.FAILED, message=message)
        if notify:
            send_notification(self.library, record, ok=False)
        return True

    def start_progress(self, progress_id: int) -> None:
        p = self.store.progress(progress_id)
        stop_if_canceled(p)
        self.move_progress(p, ProgressState.RUNNING)

    def complete_progress(self, progress_id: int) -> None:
        p = self.store.progress(progress_id)
        stop_if_canceled(p)
        self.move_progress(p, ProgressState.COMPLETED)


def stop_if_canceled(p: Progress | None) -> None:
    """Raise ExportCanceled if the job's Progress ended badly while the job still runs: only a
    cancel does that (``progress#cancel`` fails the Progress alone; every other failure moves
    the export first, in the same transaction), or Canvas's own ``canceled``."""
    if p is not None and is_failed(p.workflow_state, "progress"):
        raise ExportCanceled(p.message or "")

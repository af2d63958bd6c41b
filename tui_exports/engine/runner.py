"""Running jobs: a claimed export, from its snapshot through the format's exporter to the
published file, with its state moves and Progress (called on a worker thread).

A job writes to a work folder, fsyncs, then renames into place; the record flips to
``exported`` / ``generated`` only after the rename.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import (
    CANCELED,
    ContentExport,
    ContentExportState,
    ContextType,
    EpubExport,
    EpubExportState,
    ExportCanceled,
    ExportResult,
    ExportType,
    JobKind,
)
from ..store import disk_full, utcnow
from . import space, states
from .errors import IllegalTransition
from .faults import point
from .formats import exporter_of, format_of
from .moves import stop_if_canceled
from .notifications import send_notification
from .publish import attach, drop_unpublished, kind_of, publish, work_dir
from .recovery import hold_runner_lock
from .select import SelectRequest, catalogue, resolve
from .snapshot import build_snapshot

if TYPE_CHECKING:
    from .service import ExportService


class ExportHandedBack(ExportCanceled):
    """Raised from a progress callback when the process running the job is shutting down:
    the job goes back to the queue, for another runner, instead of failing."""


def _stop_requested(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        if getattr(cancel, "handback", False):
            raise ExportHandedBack()
        raise ExportCanceled(getattr(cancel, "reason", "") or "")


class ExportRunner:
    """Runs one claimed job of the service to its end."""

    def __init__(self, service: ExportService):
        self.service = service
        self.moves = service.moves

    @property
    def library(self):
        return self.service.library

    @property
    def store(self):
        return self.service.store

    @property
    def content(self):
        return self.service.content

    @property
    def settings(self):
        return self.service.settings

    def notify(self, record: ContentExport | EpubExport, ok: bool) -> None:
        send_notification(self.library, record, ok)

    def run_content_export(self, export_id: int, cancel: threading.Event | None = None) -> None:
        """Run one claimed content export to its end (called on a worker thread)."""
        ce = self.store.content_export(export_id)
        workdir = work_dir(self.library, JobKind.CONTENT, export_id)
        point("content:claimed")
        with self._job(ce, workdir):
            with self.library.transaction():
                ce = self.moves.move(ce, ContentExportState.EXPORTING)
                self.moves.start_progress(ce.progress_id)
            point("content:exporting")
            reporter = ProgressReporter(self.service, ce, 0, 100, cancel)
            snap = self._export_snapshot(ce)
            _fresh_dir(workdir)
            point("content:workdir")
            result = self.exporter(ce)(snap, workdir, reporter)
            reporter.check()
            point("content:written")
            placed = publish(self.library, ce, result.files[:1])
            with self.library.transaction():
                ce = self.moves.reload(ce)
                settings = {**ce.settings, "errors": [*ce.errors, *result.warnings]}
                files = attach(self.library, ce, placed)
                ce = self.moves.move(ce, ContentExportState.EXPORTED, settings=settings, **files)
                self.moves.complete_progress(ce.progress_id)
            point("content:finished")
            self.notify(ce, ok=True)
            point("content:notified")

    def run_epub_export(self, epub_id: int, cancel: threading.Event | None = None) -> None:
        """created → exporting (0–80) → exported (80) → generating (90–100) → generated."""
        ep = self.store.epub_export(epub_id)
        workdir = work_dir(self.library, JobKind.EPUB, epub_id)
        epub_builder = exporter_of("epub")  # here: ebooklib and the exporters load on first use
        point("epub:claimed")
        with self._job(ep, workdir):
            with self.library.transaction():
                ep = self.moves.move(ep, EpubExportState.EXPORTING)
                self.moves.start_progress(ep.progress_id)
            point("epub:exporting")
            course = self.content.course(ep.course_id)
            user = self.service.user(ep.user_id)
            standing = self.service.standing(user.id, course)
            snap = build_snapshot(self.library, course.id, user, standing.role, detail="outline")
            snap.selection = resolve(SelectRequest(everything=True), snap)
            _fresh_dir(workdir)
            point("epub:workdir")
            rendered = epub_builder.render_book(
                snap,
                workdir,
                ProgressReporter(self.service, ep, 0, 80, cancel),
                max_embed_bytes=self.settings.epub_max_embed_mb * 1024 * 1024,
            )
            point("epub:rendered")
            with self.library.transaction():
                ep = self.moves.move(
                    ep, EpubExportState.EXPORTED, content_export_id=self._epub_content_export(ep)
                )
                self.store.update_progress(
                    ep.progress_id, completion=states.EPUB_PERCENT[EpubExportState.EXPORTED]
                )
                ep = self.moves.move(ep, EpubExportState.GENERATING)
                self.store.update_progress(
                    ep.progress_id, completion=states.EPUB_PERCENT[EpubExportState.GENERATING]
                )
            point("epub:generating")
            reporter = ProgressReporter(self.service, ep, 90, 100, cancel)
            result: ExportResult = epub_builder.package_book(rendered, workdir, reporter)
            reporter.check()
            point("epub:written")
            placed = publish(self.library, ep, result.files)
            with self.library.transaction():
                ep = self.moves.reload(ep)
                settings = {**ep.settings, "errors": [*ep.errors, *result.warnings]}
                files = attach(self.library, ep, placed)
                ep = self.moves.move(ep, EpubExportState.GENERATED, settings=settings, **files)
                self.moves.complete_progress(ep.progress_id)
            point("epub:finished")
            self.notify(ep, ok=True)
            point("epub:notified")

    def _epub_content_export(self, ep: EpubExport) -> int:
        """The content export behind an ePub, as Canvas records it (``EpubExport#export`` makes a
        common_cartridge ContentExport of everything, and ``content_export_id`` names it): written
        as exported, in the caller's transaction, and never listed, shown or run on its own."""
        settings = {
            "select": SelectRequest(everything=True).to_json(),
            "skip_notifications": True,
            "errors": [],
        }
        ce_id = self.store.insert_content_export(
            context_type=ContextType.COURSE,
            context_id=ep.course_id,
            user_id=ep.user_id,
            export_type=ExportType.COMMON_CARTRIDGE.value,
            settings=settings,
        )
        self.store.update_content_export(
            ce_id, workflow_state=ContentExportState.EXPORTED, epub_export_id=ep.id
        )
        return ce_id

    @contextmanager
    def _job(self, record: ContentExport | EpubExport, workdir: Path) -> Iterator[None]:
        """How every run ends: a cancel or any failure fails the record (re-read, so in the state it
        reached) with its reason; a broken state machine propagates; the work folder goes."""
        hold_runner_lock(self.library.home)  # this process runs a job: recovery tells so by the lock
        try:
            yield
        except ExportHandedBack:
            kind, machine = (
                (JobKind.CONTENT, ContentExportState)
                if isinstance(record, ContentExport)
                else (JobKind.EPUB, EpubExportState)
            )
            self.store.requeue(
                kind, record.id, os.getpid(), queued=machine.CREATED, running=states.running_states(machine)
            )
        except ExportCanceled as e:
            self.moves.fail(record, f"{CANCELED}: {e}" if str(e) else CANCELED, notify=False)
        except IllegalTransition:
            raise
        except Exception as e:  # noqa: BLE001 - every failure must end the job as failed, with its reason
            written = space.used_bytes(workdir) if disk_full(e) else 0
            # the half-written files go first: on a full disk, recording the failure needs their space
            shutil.rmtree(workdir, ignore_errors=True)
            needed = max(written, int(record.settings.get(space.ESTIMATE_KEY) or 0))
            reason = space.no_space(self.library.exports_dir, needed) if disk_full(e) else describe_failure(e)
            point(f"{kind_of(record)}:failing")
            if not self.moves.fail(record, reason):
                raise  # it failed after the export had ended (a notification): nothing to fail, still seen
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            drop_unpublished(self.library, record)

    def _export_snapshot(self, ce: ContentExport):
        user = self.service.user(ce.user_id)
        course, standing = None, None
        if ce.context_type is ContextType.COURSE:
            course = self.content.course(ce.context_id)
            standing = self.service.standing(user.id, course)
        elif ce.context_type is ContextType.GROUP:
            group = self.content.group(ce.context_id)
            course = self.content.course(group.course_id) if group else None
            standing = self.service.standing(user.id, course) if course else None
        snap = self.service._snapshot(
            ce.context_type, ce.context_id, user, course, standing, now=utcnow(), detail="outline"
        )
        # the request as it was checked when queued, not parsed again
        request = SelectRequest.from_stored(ce.settings.get("select") or {"everything": True})
        # content may have changed since the export was queued: drop what vanished, quietly
        cat = catalogue(snap)  # (only the types the request names are walked)
        kept = {}
        for t, ids in request.ids.items():
            there = set(cat[t]) | set(cat["announcements"])
            kept[t] = tuple(i for i in ids if i in there)
        request = replace(request, ids=kept)
        # a QTI export finds the files its quizzes link to itself (answer comments too)
        snap.selection = resolve(request, snap, linked_files=format_of(ce.export_type).linked_files)
        return snap

    def exporter(self, ce: ContentExport):
        """The exporter of the export's type (``vocab.FORMATS``), imported on first use (not at start-up)."""
        export, fmt = exporter_of(ce.export_type), format_of(ce.export_type)
        if not fmt.versions:
            return export
        version = ce.settings.get("version", fmt.versions[0])
        return lambda snap, workdir, progress: export(snap, workdir, progress, version=version)


class ProgressReporter:
    """The progress callback given to exporters: maps 0–100 onto [lo, hi] of the job,
    writes at most a few times a second, and raises ExportCanceled once the user canceled."""

    def __init__(
        self,
        service: ExportService,
        record: ContentExport | EpubExport,
        lo: float,
        hi: float,
        cancel: threading.Event | None,
    ):
        self.service = service
        self.record = record
        self.lo, self.hi = lo, hi
        self.cancel_event = cancel
        self.interval = 1.0 / max(0.1, service.settings.progress_writes_per_second)
        self._last = 0.0
        self._message: str | None = None

    def check(self) -> None:
        _stop_requested(self.cancel_event)
        stop_if_canceled(self.service.store.progress(self.record.progress_id))

    def __call__(self, percent: float, message: str | None = None) -> None:
        _stop_requested(self.cancel_event)
        if message:
            self._message = message
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        overall = self.lo + (self.hi - self.lo) * max(0.0, min(100.0, percent)) / 100
        store = self.service.store
        if not store.report_progress(self.record.progress_id, overall, self._message):
            self.check()  # no longer pending: canceled (raises) or ended by someone else
        point(f"{kind_of(self.record)}:progress")


def describe_failure(e: BaseException, where: Path | None = None) -> str:
    """Why a job failed, in one line; a full disk says how much is free in ``where``."""
    if isinstance(e, NotImplementedError):
        return str(e)
    if where is not None and disk_full(e):
        return space.no_space(where)
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _fresh_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700, parents=True)

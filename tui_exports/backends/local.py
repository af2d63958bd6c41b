"""LocalBackend: the local library, through the engine in this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..canvas_json import course_epub_export_json, course_json, group_json, iso
from ..engine import ApiError, ExportService, JobRunner, bulk
from ..engine.jobs import has_unclaimed
from ..engine.permissions import ROLE_ORDER, Standing, allowed_select_types, can_create_epub
from ..engine.worker import ensure_worker
from ..model import ContextType, Course
from ..paths import Home
from .base import (
    BackendError,
    CourseCatalogue,
    CourseSummary,
    FetchProgress,
    FollowsJobs,
    ImportProgress,
    ImportResult,
    UserSummary,
    course_words,
)

T = TypeVar("T")


class LocalBackend(FollowsJobs):
    """Jobs run either in a background worker process (``jobs="worker"``: they outlive the
    TUI) or on a runner inside this process (``jobs="inprocess"``: ``--wait``, tests), which
    runs only the jobs queued through this backend and hands back, on close, those unfinished."""

    reload_while_running = True  # reads of the library are cheap: the export is re-read on every poll

    label = "local library"
    poll_seconds = 0.2  # between reads of a followed job (one SQLite read each)

    def __init__(self, service: ExportService, *, jobs: str = "worker", user_id: int | None = None):
        self.service = service
        self.user_id = user_id or service.owner_id()
        self.runner: JobRunner | None = None
        if jobs == "inprocess":
            self.runner = JobRunner(service, claim_all=False).start()
            service.on_queued = self.runner.wake
        elif jobs == "worker":
            home = service.library.home
            service.on_queued = lambda kind, job_id: ensure_worker(home)
        self._start_worker_for_orphans()

    def _start_worker_for_orphans(self) -> None:
        """A job queued by a process that is gone before a worker took it: nobody else will
        run it, so a worker is started (on opening, and on each listing: a long-lived app sees it)."""
        if self.runner is None and has_unclaimed(self.service):
            ensure_worker(self.service.library.home)

    @classmethod
    def open(cls, home: Home | None = None, **kwargs: Any) -> LocalBackend:
        return cls(ExportService.open(home), **kwargs)

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except ApiError as e:
            raise BackendError(e.describe(), e.status, e.body) from e

    def pause_between_polls(self, seconds: float) -> bool:
        if self.runner is not None:  # ``--wait``: the job runs here, its end wakes the follower
            self.runner.wait_for_end(seconds)
        else:
            time.sleep(seconds)
        return True

    # -- people
    def change_mark(self) -> int:
        """The library's data version: a job's progress, an export started by another program."""
        return self.service.data_version()

    def current_user(self) -> UserSummary:
        u = self._call(self.service.user, self.user_id)
        return UserSummary(u.id, u.name, self.service.user_key(u.id))

    def users(self) -> list[UserSummary]:
        return [UserSummary(u.id, u.name, key) for u, key in self.service.users()]

    def act_as(self, user_id: int) -> UserSummary:
        self._call(self.service.user, user_id)
        self.user_id = user_id
        return self.current_user()

    # -- courses
    def courses(self) -> list[CourseSummary]:
        return [self._summary(c, st) for c, st in self._call(self.service.courses, self.user_id)]

    def course_catalogue(self) -> CourseCatalogue:
        return LocalCatalogue(self, self.user_id)

    def course_page(self, ids: list[int] | None = None, limit: int | None = None) -> list[CourseSummary]:
        return [
            self._summary(c, st) for c, st in self._call(self.service.course_page, self.user_id, ids, limit)
        ]

    def _summary(self, c: Course, st: Standing) -> CourseSummary:
        return CourseSummary(
            id=c.id,
            name=c.name,
            course_code=c.course_code,
            term=c.term,
            start_at=iso(c.start_at),
            end_at=iso(c.end_at),
            role=st.role.value if st.role else None,
            concluded=c.concluded,
            can_export_all_types=st.is_admin,
            can_create_epub=can_create_epub(st),
            canvas=course_json(c, role=st.role, current=st.current, user_id=self.user_id),
        )

    def import_package(self, path: Path, progress: ImportProgress | None = None) -> ImportResult:
        """Import a cartridge, QTI zip or course folder as a new course that this user teaches."""
        report = self._call(self.service.import_package, path, progress, self.user_id)
        course, standing = self._call(self.service.course, self.user_id, report.course_id)
        return ImportResult(self._summary(course, standing), report.as_json())

    def groups(self, course_id: int) -> list[dict[str, Any]]:
        return [group_json(g) for g in self._call(self.service.groups, self.user_id, course_id)]

    def content_list(self, course_id: int) -> dict[str, list[dict[str, Any]]]:
        return self._call(self.service.content_list, self.user_id, course_id)

    def context_files(self, context_type: ContextType, context_id: int) -> dict[str, list[dict[str, Any]]]:
        return self._call(self.service.context_files, self.user_id, context_type, context_id)

    def validate_select(
        self, context_type: ContextType, context_id: int, export_type: str, select: dict[str, Any] | None
    ) -> list[str]:
        """What the engine would answer to this request, without queuing anything."""
        try:
            self.service.check_content_export(self.user_id, context_type, context_id, export_type, select)
        except ApiError as e:
            return e.error_lines() or [e.describe()]
        return []

    def allowed_select_types(
        self, context_type: ContextType, context_id: int, export_type: str
    ) -> dict[str, str | None]:
        """Which ``select`` types this export type carries here, from the format registry."""
        return allowed_select_types(context_type, export_type)

    # -- content exports
    def create_content_export(
        self,
        context_type: ContextType,
        context_id: int,
        export_type: str,
        select: dict[str, Any] | None = None,
        *,
        skip_notifications: bool = False,
        version: str | None = None,
    ) -> dict[str, Any]:
        ce = self._call(
            self.service.create_content_export,
            self.user_id,
            context_type,
            context_id,
            export_type,
            select,
            skip_notifications=skip_notifications,
            version=version,
        )
        return self.service.content_export_json(ce)

    def content_exports(
        self, context_type: ContextType, context_id: int, page: int = 1, per_page: int = 10
    ) -> tuple[list[dict[str, Any]], int | None]:
        self._start_worker_for_orphans()
        pg = self._call(
            self.service.list_content_exports, self.user_id, context_type, context_id, page, per_page
        )
        return [self.service.content_export_json(ce) for ce in pg.items], pg.total

    def content_export(self, context_type: ContextType, context_id: int, export_id: int) -> dict[str, Any]:
        ce = self._call(self.service.show_content_export, self.user_id, context_type, context_id, export_id)
        return self.service.content_export_json(ce)

    def progress(self, progress_id: int) -> dict[str, Any]:
        return self.service.progress_json(self._call(self.service.progress, self.user_id, progress_id))

    def cancel(self, progress_id: int) -> dict[str, Any]:
        return self.service.progress_json(self._call(self.service.cancel, self.user_id, progress_id))

    # -- ePub
    def create_epub_export(self, course_id: int) -> dict[str, Any]:
        # a runner of its own (``--wait``) takes over an ePub left in the queue by a process that died
        ep = self._call(
            self.service.create_epub_export, self.user_id, course_id, take_queued=self.runner is not None
        )
        course, _ = self._call(self.service.course, self.user_id, course_id)
        return course_epub_export_json(course, self.service.epub_export_json(ep, self.user_id))

    def epub_exports(self) -> list[dict[str, Any]]:
        self._start_worker_for_orphans()
        return self._call(self.service.course_epub_exports, self.user_id)

    def epub_export(self, course_id: int, epub_id: int) -> dict[str, Any]:
        ep = self._call(self.service.show_epub_export, self.user_id, course_id, epub_id)
        course, _ = self._call(self.service.course, self.user_id, course_id)
        return course_epub_export_json(course, self.service.epub_export_json(ep, self.user_id))

    def fetch_file(
        self, attachment: dict[str, Any], dest_dir: Path | None = None, progress: FetchProgress | None = None
    ) -> Path:
        """Local exports are already on disk: the path is the answer."""
        path = Path(attachment.get("path") or "")
        if not path.is_file():
            raise BackendError(f"the file of this export is missing from disk: {path}")
        if progress:
            size = path.stat().st_size
            progress(size, size)
        return path

    # -- bulk runs (``tui-exports bulk``), for the app's Bulk screen
    def bulk_runs(self) -> list[dict[str, Any]]:
        return self._call(bulk.runs, self.service)

    def bulk_run(self, run_id: int, states: list[str] | None = None) -> dict[str, Any]:
        """``{"run": …, "items": [records]}``, only the items in ``states`` when given."""
        return self._call(bulk.run_detail, self.service, run_id, states)

    def retry_bulk(self, run_id: int) -> dict[str, Any]:
        """Run a run's failed items again, here, to the end (the app calls it on a thread)."""
        self._call(bulk.retry_failed, self.service, run_id)
        return self.bulk_run(run_id)

    # -- following a job, fetching its files
    def close(self) -> None:
        handed_back = []
        if self.runner is not None:
            # its unfinished jobs stop and go back to the queue before their connections close
            handed_back = self.runner.stop(wait=True)
        self.service.close()
        if handed_back:
            ensure_worker(self.service.library.home)  # which runs them to their end


class LocalCatalogue(CourseCatalogue):
    """The courses of the local library for a long list: the first page and the count at once;
    the filter's index (one folded string per course, no objects) on its first use."""

    def __init__(self, backend: LocalBackend, user_id: int):
        self.backend, self.user_id = backend, user_id
        self.total = backend._call(backend.service.course_count, user_id)
        self._index: tuple[list[int], list[str]] | None = None
        self._reading = threading.Lock()  # the app reads it ahead; a search meanwhile waits for it

    def first(self, limit: int) -> list[CourseSummary]:
        return self.backend.course_page(limit=limit)

    def index(self) -> tuple[list[int], list[str]]:
        """(course ids, their folded words), read once: plain tuples, no object per course."""
        with self._reading:
            return self._read_index()

    def _read_index(self) -> tuple[list[int], list[str]]:
        if self._index is None:
            ids: list[int] = []
            words: list[str] = []
            rank = {r.value: i for i, r in enumerate(ROLE_ORDER)}
            shown_role = ""  # the role the last course's words hold (rows come by course id)
            for cid, code, name, term, role in self.backend.service.course_words(self.user_id):
                if ids and ids[-1] == cid:  # a second enrollment: the course shows the stronger role
                    if rank.get(role, 99) < rank.get(shown_role, 99):
                        shown_role = role
                        words[-1] = course_words(code, name, term, role)
                    continue
                shown_role = role
                ids.append(cid)
                words.append(course_words(code, name, term, role))
            self._index = ids, words
        return self._index

    def shown(self, keys: list[int]) -> list[CourseSummary]:
        return self.backend.course_page(ids=keys)

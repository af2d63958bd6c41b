"""LocalBackend: the local library, through the engine in this process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..canvas_json import course_epub_export_json, course_json, group_json, iso
from ..engine import ApiError, ExportService, JobRunner, bulk
from ..engine.jobs import has_unclaimed
from ..engine.permissions import allowed_select_types, can_create_epub
from ..engine.worker import ensure_worker
from ..model import ContextType
from ..paths import Home
from .base import (
    BackendError,
    CourseSummary,
    FetchProgress,
    FollowsJobs,
    UserSummary,
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
        if jobs != "inprocess" and has_unclaimed(service):
            # queued by a process that is gone before a worker took it: nobody else will run it
            ensure_worker(service.library.home)

    @classmethod
    def open(cls, home: Home | None = None, **kwargs: Any) -> LocalBackend:
        return cls(ExportService.open(home), **kwargs)

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except ApiError as e:
            raise BackendError(e.describe(), e.status, e.body) from e

    # -- people
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
        out = []
        for c, st in self._call(self.service.courses, self.user_id):
            out.append(
                CourseSummary(
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
            )
        return out

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
        ep = self._call(self.service.create_epub_export, self.user_id, course_id)
        course, _ = self._call(self.service.course, self.user_id, course_id)
        return course_epub_export_json(course, self.service.epub_export_json(ep, self.user_id))

    def epub_exports(self) -> list[dict[str, Any]]:
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

"""The Backend interface: what a front (TUI, CLI) needs from a source of courses.

Both backends speak Canvas's API objects as plain dicts (ContentExport, EpubExport,
CourseEpubExport, Progress from ``canvas_json``), so a screen cannot tell whether
the courses come from the local library or from a Canvas instance.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from ..canvas_json import EPUB_FILES
from ..model import ContextType, is_downloadable, is_final
from ..vocab import PICKER_ORDER


class BackendError(Exception):
    """A request the backend refused or could not do; ``str()`` is a readable message."""

    def __init__(self, message: str, status: int | None = None, body: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.body = body or {}


@dataclass(frozen=True)
class CourseSummary:
    id: int
    name: str
    course_code: str
    term: str = ""
    start_at: str | None = None
    end_at: str | None = None
    role: str | None = None  # teacher, ta, designer, student, observer
    concluded: bool = False
    can_export_all_types: bool = False  # read_as_admin: CC and QTI as well as zip
    can_create_epub: bool = False
    #: the Canvas Course object this summary was read from (``courses --json`` prints it)
    canvas: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def course_words(course_code: str, name: str, term: str, roles: str) -> str:
    """What a course filter searches, folded once: code, name, term and your role(s)."""
    return f"{course_code} {name} {term} {roles}".casefold()


class CourseCatalogue:
    """A user's courses for a long list: ``total``, the first few, and those a filter finds,
    as summaries made only for what is shown (a library may hold 100,000 courses).

    This one holds a list already read (a Canvas instance lists its courses whole);
    ``LocalBackend`` reads pages from SQLite and searches a compact index of words."""

    #: the last filter's text and the positions (in :meth:`index`) of the courses it found
    _last: tuple[str, list[int]] | None = None

    def __init__(self, courses: list[CourseSummary]):
        self.courses = courses
        self.total = len(courses)
        self._words = [course_words(c.course_code, c.name, c.term, c.role or "") for c in courses]

    def first(self, limit: int) -> list[CourseSummary]:
        return self.courses[:limit]

    def index(self) -> tuple[Sequence[int], list[str]]:
        """(a key per course, its folded words), in list order: here a course's key is its place."""
        return range(self.total), self._words

    def shown(self, keys: list[int]) -> list[CourseSummary]:
        """The summaries of the courses of ``keys`` (of :meth:`index`)."""
        return [self.courses[k] for k in keys]

    def find(self, query: str, limit: int, offset: int = 0) -> tuple[list[CourseSummary], int]:
        """Courses ``offset`` to ``offset + limit`` of those whose words hold ``query`` (any
        case), in list order, and how many do."""
        q = query.casefold().strip()
        if not q and not offset:
            return self.first(limit), self.total
        keys, _ = self.index()
        at = self.matching(q)
        return self.shown([keys[i] for i in at[offset : offset + limit]]), len(at)

    def matching(self, q: str) -> Sequence[int]:
        """The positions in :meth:`index` of the courses whose words hold ``q`` (folded).

        Typing narrows: a text that holds the last one searched looks only among what that
        found (``fil-9`` among the courses of ``fil-``), not through every course again."""
        _, words = self.index()
        if not q:
            return range(len(words))
        last = self._last
        if last is not None and last[0] == q:
            return last[1]
        pool = last[1] if last is not None and last[0] in q else range(len(words))
        found = [i for i in pool if q in words[i]]
        self._last = (q, found)  # one assignment: a search on another thread sees a whole pair
        return found


@dataclass(frozen=True)
class UserSummary:
    id: int
    name: str
    key: str = ""


#: ``progress(done, total_or_None, what)`` while a package is imported.
ImportProgress = Callable[[int, "int | None", str], None]


@dataclass(frozen=True)
class ImportResult:
    """A package imported into the local library: the new course as the importer sees it, and
    the ``import`` report (by select type: read, kept, warnings; and every warning)."""

    course: CourseSummary
    report: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """``import --json``: the Course object ``courses --json`` prints, plus ``import``."""
        return {**self.course.canvas, "import": self.report}

    @property
    def warnings(self) -> list[str]:
        return list(self.report.get("warnings") or [])

    def counts(self) -> list[str]:
        """What was kept, by select type in picker order: ``["12 pages", "2 of 3 quizzes"]``
        (``of N`` where the package held more than the library kept)."""
        out = []
        for t in PICKER_ORDER:
            c = self.report.get(t.key)
            if not isinstance(c, dict) or not (c.get("read") or c.get("kept")):
                continue
            kept, read = c.get("kept", 0), c.get("read", 0)
            of = f" of {read}" if read != kept else ""
            out.append(f"{kept}{of} {t.word if (read if of else kept) == 1 else t.words}")
        return out


#: ``progress(done_bytes, total_bytes_or_None)`` while fetching a file.
FetchProgress = Callable[[int, "int | None"], None]

#: ``on_progress(progress, export)`` while a job is followed: its Progress as last read
#: (``{}`` when it has none) and the export (ContentExport or EpubExport) as last read.
FollowProgress = Callable[[dict[str, Any], dict[str, Any]], None]

#: ``on_bytes(attachment, done_bytes, total_bytes_or_None)`` while an export's files download.
DownloadProgress = Callable[[dict[str, Any], int, "int | None"], None]

#: A followed job whose Progress ended gets this many more polls for its record to end too
#: (a canceled local job fails its record at its next progress call) before ``follow``
#: returns the record as it is.
SETTLE_POLLS = 20

#: The kinds of job a front follows: a content export, or an ePub export of a course.
JOB_KINDS = ("content", "epub")


@runtime_checkable
class Backend(Protocol):
    label: str  # e.g. "local library" or "canvas.example.edu"

    def current_user(self) -> UserSummary: ...
    def users(self) -> list[UserSummary]: ...  # whom one may act as (local library only)
    def act_as(self, user_id: int) -> UserSummary: ...
    def courses(self) -> list[CourseSummary]: ...
    def course_catalogue(self) -> CourseCatalogue: ...  # the app's long list: pages and a filter
    def groups(self, course_id: int) -> list[dict[str, Any]]: ...
    def content_list(self, course_id: int) -> dict[str, list[dict[str, Any]]]: ...
    def context_files(
        self, context_type: ContextType, context_id: int
    ) -> dict[str, list[dict[str, Any]]]: ...
    def validate_select(
        self, context_type: ContextType, context_id: int, export_type: str, select: dict[str, Any] | None
    ) -> list[str]: ...
    def allowed_select_types(
        self, context_type: ContextType, context_id: int, export_type: str
    ) -> dict[str, str | None]: ...  # select type → why this export type cannot carry it (None: it can)
    def create_content_export(
        self,
        context_type: ContextType,
        context_id: int,
        export_type: str,
        select: dict[str, Any] | None = None,
        *,
        skip_notifications: bool = False,
        version: str | None = None,
    ) -> dict[str, Any]: ...
    def content_exports(
        self, context_type: ContextType, context_id: int, page: int = 1, per_page: int = 10
    ) -> tuple[list[dict[str, Any]], int | None]: ...
    def content_export(
        self, context_type: ContextType, context_id: int, export_id: int
    ) -> dict[str, Any]: ...
    def progress(self, progress_id: int) -> dict[str, Any]: ...
    def cancel(self, progress_id: int) -> dict[str, Any]: ...
    def create_epub_export(self, course_id: int) -> dict[str, Any]: ...
    def epub_exports(self) -> list[dict[str, Any]]: ...
    def epub_export(self, course_id: int, epub_id: int) -> dict[str, Any]: ...
    def fetch_file(
        self, attachment: dict[str, Any], dest_dir: Path | None = None, progress: FetchProgress | None = None
    ) -> Path: ...
    def change_mark(self) -> Any: ...  # differs once exports may have changed; None: poll only
    def follow(
        self,
        kind: str,
        context_type: ContextType,
        context_id: int,
        export: dict[str, Any],
        on_progress: FollowProgress | None = None,
        *,
        pause: Callable[[float], bool] | None = None,
        interval: float | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]: ...
    def download(
        self,
        kind: str,
        export: dict[str, Any],
        on_bytes: DownloadProgress | None = None,
        dest_dir: Path | None = None,
    ) -> dict[str, Any]: ...
    def close(self) -> None: ...


def reload_export(
    backend: Backend, kind: str, context_type: ContextType, context_id: int, export_id: int
) -> dict[str, Any]:
    """The export as it is now: a ContentExport, or the EpubExport of course ``context_id``."""
    if kind == "epub":
        return backend.epub_export(context_id, export_id)["epub_export"]
    return backend.content_export(context_type, context_id, export_id)


def follow_job(
    backend: Backend,
    kind: str,
    context_type: ContextType,
    context_id: int,
    export: dict[str, Any],
    on_progress: FollowProgress | None,
    *,
    interval: float,
    pause: Callable[[float], bool],
    timeout: float | None = None,
    reload_while_running: bool = False,
) -> dict[str, Any]:
    """The one follower behind every ``Backend.follow``: poll the job's Progress until it ends,
    then return the export re-read in its final state (``model.JOB_STATES``).

    ``kind`` is ``"content"`` or ``"epub"`` (``context_id`` is then the course), or ``"progress"``
    to follow a bare Progress (``export`` is then ``{"progress_url": …}``, and the Progress is
    what is returned).  ``pause(seconds)``
    waits between polls and returns False to stop following (the export is returned as last read);
    ``reload_while_running`` re-reads the export on every poll, not only once the Progress ended
    (cheap on the local library; on a rate-limited Canvas instance only the Progress is polled).
    A job past ``timeout`` seconds is a BackendError."""
    if kind not in (*JOB_KINDS, "progress"):
        raise ValueError(f"not a kind of job: {kind!r}")
    pid = progress_id_of(export.get("progress_url"))
    if pid is None and kind == "progress":
        raise BackendError(f"not a progress URL: {export.get('progress_url')!r}")
    started = time.monotonic()
    progress: dict[str, Any] = {}
    settling = 0
    while True:
        if pid is not None:
            progress = backend.progress(pid)
        ended = pid is None or is_final(progress.get("workflow_state"), "progress")
        if kind == "progress":
            export = progress
        elif ended or reload_while_running:
            export = reload_export(backend, kind, context_type, context_id, int(export["id"]))
        if on_progress is not None:
            on_progress(progress, export)
        if is_final(export.get("workflow_state"), kind):
            return export
        if ended and pid is not None:
            settling += 1
            if settling > SETTLE_POLLS:  # the Progress ended, the record never followed: say what it is
                return export
        if timeout is not None and time.monotonic() - started > timeout:
            state = progress.get("workflow_state") or export.get("workflow_state")
            raise BackendError(
                f"the export on {backend.label} did not finish within {timeout:.0f} s (still {state})"
            )
        if not pause(interval):
            return export


def final_progress(backend: Backend, record: dict[str, Any]) -> dict[str, Any] | None:
    """The job's Progress as it ended (Canvas says why a job failed only there), or None when the
    record names none or it cannot be read."""
    pid = progress_id_of(record.get("progress_url"))
    try:
        return backend.progress(pid) if pid is not None else None
    except BackendError:
        return None


def export_files(kind: str, export: dict[str, Any]) -> list[str]:
    """The keys of an export's files: ``attachment``, or an ePub's book and companion zip."""
    return [k for k in (EPUB_FILES if kind == "epub" else ("attachment",)) if export.get(k)]


def download_export(
    backend: Backend,
    kind: str,
    export: dict[str, Any],
    on_bytes: DownloadProgress | None = None,
    dest_dir: Path | None = None,
) -> dict[str, Any]:
    """The one downloader behind every ``Backend.download``: a copy of a finished export whose
    files each have a local ``path``; files already on this disk are not fetched again."""
    if not is_downloadable(export.get("workflow_state"), kind):
        raise BackendError(
            f"export {export.get('id')} is {export.get('workflow_state')}: it has no file to download"
        )
    out = dict(export)
    for key in export_files(kind, export):
        att = export[key]
        if att.get("path"):
            continue

        def tick(done: int, total: int | None, att: dict[str, Any] = att) -> None:
            if on_bytes is not None:
                on_bytes(att, done, total)

        out[key] = dict(att, path=str(backend.fetch_file(att, dest_dir, progress=tick)))
    return out


def canvas_base_url(url: str) -> str:
    """``https://canvas.example.edu/`` → ``https://canvas.example.edu``; anything else is a BackendError."""
    base_url = url.strip().rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BackendError(f"not a Canvas address: {base_url!r} (expected https://canvas.example.edu)")
    if "/api/v1" in base_url:
        raise BackendError("give the Canvas address without /api/v1 (e.g. https://canvas.example.edu)")
    return base_url


def progress_id_of(url: str | None) -> int | None:
    """``…/api/v1/progress/12`` → 12 (how clients follow ``progress_url``)."""
    if not url:
        return None
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdecimal() else None


class FollowsJobs:
    """``follow()`` and ``download()`` written once for both backends, on :func:`follow_job` and
    :func:`download_export`.  A backend sets ``poll_seconds``, whether the export is re-read on
    every poll (``reload_while_running``: cheap on the local library, not on a rate-limited
    Canvas instance) and how it waits between polls (``pause_between_polls``)."""

    poll_seconds: float
    reload_while_running: bool = False

    def pause_between_polls(self, seconds: float) -> bool:
        time.sleep(seconds)
        return True

    def change_mark(self) -> Any:
        """A value that differs once the source's exports may have changed, or None when the
        source cannot tell (a Canvas instance is only polled)."""
        return None

    def follow(
        self,
        kind: str,
        context_type: ContextType,
        context_id: int,
        export: dict[str, Any],
        on_progress: FollowProgress | None = None,
        *,
        pause: Callable[[float], bool] | None = None,
        interval: float | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Poll the job until it ends; the export in its final state (:func:`follow_job`)."""
        return follow_job(
            self,  # type: ignore[arg-type]
            kind,
            context_type,
            context_id,
            export,
            on_progress,
            interval=interval or self.poll_seconds,
            pause=pause or self.pause_between_polls,
            timeout=timeout,
            reload_while_running=self.reload_while_running,
        )

    def download(
        self,
        kind: str,
        export: dict[str, Any],
        on_bytes: DownloadProgress | None = None,
        dest_dir: Path | None = None,
    ) -> dict[str, Any]:
        """The finished export's files, fetched where they are not on this disk yet."""
        return download_export(self, kind, export, on_bytes, dest_dir)  # type: ignore[arg-type]

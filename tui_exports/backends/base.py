"""The Backend interface: what a front (TUI, CLI) needs from a source of courses.

Both backends speak Canvas's API objects as plain dicts (ContentExport, EpubExport,
CourseEpubExport, Progress from ``canvas_json``), so a screen cannot tell whether
the courses come from the local library or from a Canvas instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable
from urllib.parse import urlsplit

from ..model import ContextType


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


@dataclass(frozen=True)
class UserSummary:
    id: int
    name: str
    key: str = ""


#: ``progress(done_bytes, total_bytes_or_None)`` while fetching a file.
FetchProgress = Callable[[int, "int | None"], None]


@runtime_checkable
class Backend(Protocol):
    label: str  # e.g. "local library" or "canvas.example.edu"

    def current_user(self) -> UserSummary: ...
    def users(self) -> list[UserSummary]: ...  # whom one may act as (local library only)
    def act_as(self, user_id: int) -> UserSummary: ...
    def courses(self) -> list[CourseSummary]: ...
    def groups(self, course_id: int) -> list[dict[str, Any]]: ...
    def content_list(self, course_id: int) -> dict[str, list[dict[str, Any]]]: ...
    def context_files(self, context_type: ContextType, context_id: int) -> dict[str, list[dict[str, Any]]]: ...
    def validate_select(
        self, context_type: ContextType, context_id: int, export_type: str, select: dict[str, Any] | None
    ) -> list[str]: ...
    def allowed_select_types(
        self, context_type: ContextType, context_id: int, export_type: str
    ) -> dict[str, str | None]: ...  # select type → why this export type cannot carry it (None: it can)
    def create_content_export(
        self, context_type: ContextType, context_id: int, export_type: str, select: dict[str, Any] | None = None,
        *, skip_notifications: bool = False, version: str | None = None,
    ) -> dict[str, Any]: ...  # fmt: skip
    def content_exports(
        self, context_type: ContextType, context_id: int, page: int = 1, per_page: int = 10
    ) -> tuple[list[dict[str, Any]], int | None]: ...
    def content_export(self, context_type: ContextType, context_id: int, export_id: int) -> dict[str, Any]: ...
    def progress(self, progress_id: int) -> dict[str, Any]: ...
    def cancel(self, progress_id: int) -> dict[str, Any]: ...
    def create_epub_export(self, course_id: int) -> dict[str, Any]: ...
    def epub_exports(self) -> list[dict[str, Any]]: ...
    def epub_export(self, course_id: int, epub_id: int) -> dict[str, Any]: ...
    def fetch_file(self, attachment: dict[str, Any], dest_dir: Path | None = None,
                   progress: FetchProgress | None = None) -> Path: ...  # fmt: skip
    def close(self) -> None: ...


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

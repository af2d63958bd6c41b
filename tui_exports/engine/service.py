"""The export service: the operations of Canvas's Content Exports, ePub Exports and Progress APIs.

It owns every rule (scopes, permissions, ``select``, state machines, expiry,
notifications) and is the only code that moves a workflow state or writes Progress.
Fronts (CLI, TUI, HTTP server) call it through the local backend or directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from .. import canvas_json
from ..model import (
    CANCELED,
    Attachment,
    ContentExport,
    ContentExportState,
    ContextFile,
    ContextType,
    Course,
    EpubExport,
    EpubExportState,
    ExportType,
    Group,
    ImportReport,
    JobKind,
    Notification,
    Progress,
    ProgressState,
    Role,
    User,
    is_downloadable,
)
from ..paths import Home, bundled_data_dir
from ..store import Library, utcnow
from ..store import LibraryUnusable as LibraryUnusable  # said by the fronts: a library that cannot be opened
from . import permissions as perms
from . import space, tokens
from .errors import BadRequest, NotFound, Unauthorized, Unprocessable
from .formats import format_of
from .moves import StateMoves
from .permissions import Standing
from .recovery import recover
from .runner import ExportRunner
from .select import SelectRequest, check_ids, listing, read_select, resolve
from .settings import Settings
from .snapshot import build_files_snapshot, build_snapshot

MAX_PER_PAGE = 100
PER_PAGE = 10


@dataclass(frozen=True)
class Page:
    """One page of a paginated index (Canvas's ``Api.paginate``)."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_params(page: Any = 1, per_page: Any = PER_PAGE) -> tuple[int, int]:
    """Canvas clamps ``per_page`` to 1..100 (default 10); a bad page number is page 1."""
    try:
        pp = int(per_page) if per_page not in (None, "") else PER_PAGE
    except (TypeError, ValueError):
        pp = PER_PAGE
    try:
        pg = int(page) if page not in (None, "") else 1
    except (TypeError, ValueError):
        pg = 1
    return max(1, pg), min(MAX_PER_PAGE, max(1, pp))


class ExportService:
    def __init__(self, library: Library, settings: Settings | None = None):
        self.library = library
        self.settings = settings or Settings()
        self.store = library.exports
        self.content = library.content
        #: called with (kind, id) after a job is queued; fronts point it at a runner or the worker process
        self.on_queued: Callable[[JobKind, int], None] = lambda kind, job_id: None
        self.moves = StateMoves(library)
        self.runner = ExportRunner(self)

    @classmethod
    def open(cls, home: Home | None = None, *, seed: bool = True, recover: bool = True) -> ExportService:
        home = home or Home.from_env()
        library = Library(home)
        service = cls(library, Settings.load(home.config_file))
        if seed:
            service.seed_demo_library()
        if recover:
            service.recover()
        return service

    def close(self) -> None:
        self.library.close()

    def data_version(self) -> int:
        """Changes when another connection or process commits to the library (a job's progress,
        an export started elsewhere): a front that watches it reads again only then."""
        return self.library.database.data_version()

    # ------------------------------------------------------------------ library
    def seed_demo_library(self) -> bool:
        """First start: load the demo courses from ``data/`` (once per library)."""
        if self.content.meta("seeded_at") is not None:
            return False
        from ..importers.course_folder import load_library_folder

        data = bundled_data_dir()
        if (data / "library.toml").is_file() and self.content.course_count() == 0:
            load_library_folder(self.library, data)
        self.content.set_meta("seeded_at", canvas_json.iso(utcnow()))
        return True

    def owner_id(self) -> int:
        value = self.content.meta("owner_user_id")
        if value:
            return int(value)
        users = self.content.users()
        if not users:
            raise NotFound("this library has no users yet: load a course with `tui-exports library add PATH`")
        return users[0].id

    def user(self, user_id: int) -> User:
        user = self.content.user(user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        return user

    def find_user(self, ref: str | int) -> User:
        """A user by id, key or login (for ``--as``)."""
        if isinstance(ref, int) or str(ref).isdecimal():
            return self.user(int(ref))
        user = self.content.user_by_key(str(ref))
        if user is None:
            known = ", ".join(self.content.user_key(u.id) or str(u.id) for u in self.content.users())
            raise NotFound(f"no user '{ref}' (known: {known})")
        return user

    # ------------------------------------------------------------------ courses
    def standing(self, user_id: int, course: Course) -> Standing:
        return Standing.of(user_id, course, self.content.course_enrollments(user_id, course.id))

    def course(self, user_id: int, course_id: int) -> tuple[Course, Standing]:
        course = self.content.course(course_id)
        if course is None:
            raise NotFound(f"no course {course_id}")
        standing = self.standing(user_id, course)
        if not standing.can_read:
            raise Unauthorized("you are not enrolled in this course")
        return course, standing

    def courses(self, user_id: int) -> list[tuple[Course, Standing]]:
        """The courses a user is enrolled in (current or concluded), in id order.

        One query for the enrollments, one for the courses: a standing per course from the
        enrollments already read (a query per course took seconds with 10,000 courses)."""
        return self.course_page(user_id)

    def course_page(
        self, user_id: int, ids: list[int] | None = None, limit: int | None = None
    ) -> list[tuple[Course, Standing]]:
        """Some of a user's courses, in id order: the first ``limit``, or those of ``ids``."""
        return [
            (c, Standing.of(user_id, c, mine))
            for c, mine in self.content.courses_of_user(user_id, ids=ids, limit=limit)
        ]

    def course_count(self, user_id: int) -> int:
        """How many courses a user is enrolled in."""
        return self.content.course_count_of_user(user_id)

    def course_words(self, user_id: int) -> Iterator[tuple[int, str, str, str, str]]:
        """(id, code, name, term, role) per enrollment of the user, in course id order."""
        return self.content.course_words_of_user(user_id)

    def groups(self, user_id: int, course_id: int):
        course, standing = self.course(user_id, course_id)
        groups = self.content.groups_of_course(course.id)
        if standing.is_admin:
            return groups
        return [g for g in groups if user_id in g.member_ids]

    def group(self, user_id: int, group_id: int) -> Group:
        """One group, for its members and its course's teachers and TAs (Canvas's ``:read``)."""
        self._context(user_id, ContextType.GROUP, group_id)
        return self.content.group(group_id)  # type: ignore[return-value]

    def visible_user(self, user_id: int, other_id: int) -> User:
        """A user's profile: your own (``/users/self`` or your id); anyone else's is refused."""
        other = self.user(other_id)
        if other_id != user_id:
            raise Unauthorized("you can only read your own user profile")
        return other

    def content_list(self, user_id: int, course_id: int) -> dict[str, list[dict[str, Any]]]:
        """The selectable items per ``select`` type, as this user sees them (picker, ``content``).

        Titles are all it needs: the snapshot's outline (no HTML, no quiz questions)."""
        course, standing = self.course(user_id, course_id)
        return listing(
            build_snapshot(self.library, course.id, self.user(user_id), standing.role, detail="outline")
        )

    def context_files(
        self, user_id: int, context_type: ContextType, context_id: int
    ) -> dict[str, list[dict[str, Any]]]:
        """The folders and files of a course, group or user that this user may export
        (``folders`` and ``attachments`` as in ``content_list``): a group's or user's picker."""
        course, standing = self._context(user_id, context_type, context_id)
        snap = self._snapshot(context_type, context_id, self.user(user_id), course, standing)
        return listing(snap, ("folders", "attachments"))

    # ------------------------------------------------------------------ content exports
    def _context(
        self, user_id: int, context_type: ContextType, context_id: int
    ) -> tuple[Course | None, Standing | None]:
        """Check ``:read`` on the context; returns the course (and standing) it belongs to."""
        if context_type is ContextType.COURSE:
            return self.course(user_id, context_id)
        if context_type is ContextType.GROUP:
            group = self.content.group(context_id)
            if group is None:
                raise NotFound(f"no group {context_id}")
            course = self.content.course(group.course_id)
            standing = self.standing(user_id, course) if course else None
            if user_id not in group.member_ids and not (standing and standing.is_admin):
                raise Unauthorized("you are not a member of this group")
            return course, standing
        if self.content.user(context_id) is None:
            raise NotFound(f"no user {context_id}")
        if context_id != user_id:
            raise Unauthorized("you can only export your own user files")
        return None, None

    def check_content_export(
        self,
        user_id: int,
        context_type: ContextType,
        context_id: int,
        export_type: str | None,
        select: Any = None,
        *,
        version: str | None = None,
    ) -> tuple[ExportType, SelectRequest, str | None, int]:
        """Every check a create makes, writing nothing: (type, checked select, CC version, size).

        The picker calls it on each tick, so a person sees the engine's answer before starting.
        The size is the export's estimate (``space.estimate``), checked against the free space
        when it is created.
        """
        course, standing = self._context(user_id, context_type, context_id)
        etype = perms.check_export_type(context_type, export_type)
        if context_type is ContextType.COURSE:
            perms.check_course_create(standing, etype)
        fmt = format_of(etype.value)
        cc_version = fmt.version(version)
        if fmt.versions and cc_version is None:
            choices = " or ".join(fmt.version_choices)
            raise BadRequest(
                "invalid version", [{"field": "version", "message": f"'{version}' is not {choices}"}]
            )
        request, problems = read_select(select, etype)
        # ids are all a check needs: no HTML, no quiz questions
        snap = self._snapshot(
            context_type, context_id, self.user(user_id), course, standing, detail="outline"
        )
        where = {"Course": "this course", "Group": "this group", "User": "your files"}[context_type.value]
        try:  # the ids of the keys that read are checked too: one answer names every problem
            request = check_ids(request, snap, where)
        except BadRequest as e:
            problems = [*problems, *e.errors]
        if problems:
            raise BadRequest("invalid select", problems)
        needed = space.estimate(snap, resolve(request, snap, linked_files=False), fmt)
        return etype, request, cc_version, needed

    def create_content_export(
        self,
        user_id: int,
        context_type: ContextType,
        context_id: int,
        export_type: str | None,
        select: Any = None,
        *,
        skip_notifications: bool = False,
        version: str | None = None,
    ) -> ContentExport:
        """Validate everything, then queue; on any problem nothing is written (an export that
        obviously cannot fit in the free space of the exports folder is refused too)."""
        etype, request, cc_version, needed = self.check_content_export(
            user_id, context_type, context_id, export_type, select, version=version
        )
        self._check_room(needed)
        user = self.user(user_id)
        settings: dict[str, Any] = {
            "select": request.to_json(),
            "skip_notifications": bool(skip_notifications),
            "user_time_zone": user.time_zone,
            "errors": [],
            space.ESTIMATE_KEY: needed,
        }
        if cc_version:
            settings["version"] = cc_version
        insert = partial(
            self.store.insert_content_export,
            context_type=context_type,
            context_id=context_id,
            user_id=user_id,
            export_type=etype.value,
            settings=settings,
        )
        return self._queue(
            "ContentExport",
            "content_export",
            user_id,
            insert,
            self.store.update_content_export,
            self.store.content_export,
        )

    def _queue(
        self,
        kind: str,
        tag: str,
        user_id: int,
        insert: Callable[[], int],
        update: Callable[..., Any],
        read: Callable[[int], Any],
    ) -> Any:
        """Insert a job's record and its Progress in one transaction, then wake a runner.

        The record is read back *before* the runner is woken, so the answer is the export
        as created (a client once saw ``exporting`` in the create response)."""
        with self.library.transaction():
            record_id = insert()
            progress = self.store.create_progress(
                context_type=kind, context_id=record_id, user_id=user_id, tag=tag
            )
            update(record_id, progress_id=progress.id)
        created = read(record_id)
        self.on_queued(JobKind.EPUB if kind == "EpubExport" else JobKind.CONTENT, record_id)
        return created

    def list_content_exports(
        self,
        user_id: int,
        context_type: ContextType,
        context_id: int,
        page: Any = 1,
        per_page: Any = PER_PAGE,
    ) -> Page:
        _, standing = self._context(user_id, context_type, context_id)
        visible = perms.index_visibility(user_id, standing, context_type)
        pg, pp = page_params(page, per_page)
        total = self.store.count_content_exports(context_type, context_id, visible_to=visible)
        items = self.store.content_exports(
            context_type, context_id, visible_to=visible, limit=pp, offset=(pg - 1) * pp
        )
        return Page(items, pg, pp, total)

    def show_content_export(
        self, user_id: int, context_type: ContextType, context_id: int, export_id: int
    ) -> ContentExport:
        _, standing = self._context(user_id, context_type, context_id)
        ce = self.store.content_export(export_id)
        if (
            ce is None
            or ce.context_type is not context_type
            or ce.context_id != context_id
            or ce.epub_export_id
        ):
            raise NotFound(f"no content export {export_id} here")
        if ce.workflow_state is ContentExportState.DELETED:
            raise NotFound(f"content export {export_id} was deleted")
        perms.check_read_export(user_id, standing, ce)
        return ce

    def expired(self, created_at: datetime) -> bool:
        days = self.settings.expire_days
        return days > 0 and created_at < utcnow() - timedelta(days=days)

    def content_export_json(
        self, ce: ContentExport, *, local: bool = True, base_url: str | None = None
    ) -> dict[str, Any]:
        return canvas_json.content_export_json(
            ce,
            base_url or self.settings.base_url,
            attachment=self.store.attachment(ce.attachment_id),
            expired=self.expired(ce.created_at),
            local=local,
        )

    def attachment(self, attachment_id: int) -> Attachment | None:
        return self.store.attachment(attachment_id)

    def _snapshot(self, context_type, context_id, user, course, standing, now=None, detail="full"):
        if context_type is ContextType.COURSE:
            return build_snapshot(self.library, context_id, user, standing.role, now=now, detail=detail)
        admin = bool(standing and standing.is_admin)
        return build_files_snapshot(
            self.library, context_type, context_id, user, course, admin=admin, now=now
        )

    # ------------------------------------------------------------------ ePub exports
    def create_epub_export(
        self, user_id: int, course_id: int, *, skip_notifications: bool = False, take_queued: bool = False
    ) -> EpubExport:
        """Queue an ePub of the course, unless one is already on its way (422).  ``take_queued``
        (a caller that runs what it queues, ``epub --wait``): an ePub still waiting in the queue,
        claimed by no runner (its process died before one took it), is returned and handed to
        the caller's runner instead, to be run to its end."""
        course, standing = self.course(user_id, course_id)
        perms.check_epub_create(standing)
        for running in self.store.epub_exports_of(course_id, user_id):
            if (
                take_queued
                and running.workflow_state is EpubExportState.CREATED
                and running.runner_pid is None
            ):
                self.on_queued(JobKind.EPUB, running.id)
                return running
            if running.running:
                raise Unprocessable(
                    f"an ePub export of this course is already running (id {running.id})",
                    canvas_json.course_epub_export_json(course, self.epub_export_json(running, user_id)),
                )
        snap = build_snapshot(self.library, course.id, self.user(user_id), standing.role, detail="outline")
        selection = resolve(SelectRequest(everything=True), snap, linked_files=False)
        needed = space.estimate(snap, selection, format_of("epub"))
        self._check_room(needed)
        insert = partial(
            self.store.insert_epub_export,
            course_id=course_id,
            user_id=user_id,
            settings={"skip_notifications": skip_notifications, "errors": [], space.ESTIMATE_KEY: needed},
        )
        return self._queue(
            "EpubExport",
            "epub_export",
            user_id,
            insert,
            self.store.update_epub_export,
            self.store.epub_export,
        )

    def _check_room(self, needed: int) -> None:
        why = space.refusal(self.library.exports_dir, needed)
        if why:
            raise BadRequest(why)

    def show_epub_export(self, user_id: int, course_id: int, epub_id: int) -> EpubExport:
        course, standing = self.course(user_id, course_id)
        ep = self.store.epub_export(epub_id)
        if ep is None or ep.course_id != course_id or ep.workflow_state is EpubExportState.DELETED:
            raise NotFound(f"no ePub export {epub_id} in course {course_id}")
        perms.check_epub_read(user_id, standing, ep)
        return ep

    def epub_export_json(
        self, ep: EpubExport, user_id: int, *, local: bool = True, base_url: str | None = None
    ) -> dict[str, Any]:
        course = self.content.course(ep.course_id)
        standing = self.standing(user_id, course) if course else Standing(user_id, None, False)
        return canvas_json.epub_export_json(
            ep,
            base_url or self.settings.base_url,
            permissions=perms.epub_permissions(user_id, standing, ep),
            epub=self.store.attachment(ep.epub_attachment_id),
            zip_file=self.store.attachment(ep.zip_attachment_id),
            local=local,
        )

    def course_epub_exports(
        self, user_id: int, *, local: bool = True, base_url: str | None = None
    ) -> list[dict[str, Any]]:
        """CourseEpubExport for every course with a student, teacher or TA enrollment (spec §3.6)."""
        out = []
        for course, standing in self.courses(user_id):
            if standing.role not in (Role.STUDENT, Role.TEACHER, Role.TA):
                continue
            attempts = self.store.epub_exports_of(course.id, user_id)
            latest = next(iter(attempts), None)
            data = self.epub_export_json(latest, user_id, local=local, base_url=base_url) if latest else None
            good = None
            if latest is not None and not is_downloadable(latest.workflow_state, "epub"):
                older = next((e for e in attempts[1:] if is_downloadable(e.workflow_state, "epub")), None)
                if older is not None and older.epub_attachment_id and not self.expired(older.created_at):
                    good = self.epub_export_json(older, user_id, local=local, base_url=base_url)
            out.append(canvas_json.course_epub_export_json(course, data, good))
        return out

    # ------------------------------------------------------------------ progress
    def progress(self, user_id: int, progress_id: int) -> Progress:
        p = self.store.progress(progress_id)
        if p is None:
            raise NotFound(f"no progress {progress_id}")
        self._check_progress_read(user_id, p)
        return p

    def _check_progress_read(self, user_id: int, p: Progress) -> None:
        if p.context_type == "ContentExport":
            ce = self.store.content_export(p.context_id)
            if ce is None:
                raise NotFound(f"no progress {p.id}")
            standing = None
            if ce.context_type is ContextType.COURSE:
                course = self.content.course(ce.context_id)
                standing = self.standing(user_id, course) if course else None
            perms.check_read_export(user_id, standing, ce)
        elif p.context_type == "EpubExport":
            ep = self.store.epub_export(p.context_id)
            course = self.content.course(ep.course_id) if ep else None
            if ep is None or course is None:
                raise NotFound(f"no progress {p.id}")
            perms.check_epub_read(user_id, self.standing(user_id, course), ep)
        elif p.user_id != user_id:
            raise Unauthorized("this progress belongs to someone else")

    def progress_json(self, p: Progress, base_url: str | None = None) -> dict[str, Any]:
        return canvas_json.progress_json(p, base_url or self.settings.base_url)

    def cancel(self, user_id: int, progress_id: int, message: str | None = None) -> Progress:
        """Canvas's ``progress#cancel`` (``app/controllers/progress_controller.rb``): only the
        Progress's own user may (its ``:cancel`` right); the Progress becomes ``failed`` with
        ``message`` = the one sent, or null.  A Progress that has already ended is returned as it
        is.  The job notices the failed Progress at its next progress write and stops, failing
        its export (``canceled: <message>``); one nobody has picked up yet is failed now."""
        p = self.store.progress(progress_id)
        if p is None:
            raise NotFound(f"no progress {progress_id}")
        if p.user_id != user_id:
            raise Unauthorized("only the person who started this job can cancel it")
        if not p.pending:
            return p
        self.moves.move_progress(p, ProgressState.FAILED, message=message)
        if p.context_type == "ContentExport":
            ce = self.store.content_export(p.context_id)
            if ce and ce.workflow_state is ContentExportState.CREATED and ce.runner_pid is None:
                self.moves.fail(ce, f"{CANCELED} before it started", notify=False)
        elif p.context_type == "EpubExport":
            ep = self.store.epub_export(p.context_id)
            if ep and ep.workflow_state is EpubExportState.CREATED and ep.runner_pid is None:
                self.moves.fail(ep, f"{CANCELED} before it started", notify=False)
        return self.store.progress(progress_id)  # type: ignore[return-value]

    # ------------------------------------------------------------------ notifications
    def notifications(self, user_id: int, *, unread_only: bool = False) -> list[Notification]:
        return self.store.notifications(user_id, unread_only=unread_only)

    def mark_notifications_read(self, user_id: int) -> None:
        self.store.mark_notifications_read(user_id)

    # ------------------------------------------------------------------ what fronts ask besides the API
    def users(self) -> list[tuple[User, str]]:
        """Every user of the library with their key (``--as``), in id order."""
        return [(u, self.user_key(u.id)) for u in self.content.users()]

    def user_key(self, user_id: int) -> str:
        """The short name ``--as`` takes (``teacher``, ``student1``), or ""."""
        return self.content.user_key(user_id) or ""

    def stored_file(self, file_id: int) -> Attachment | ContextFile | None:
        """The one file with this id: an export's file, or a course, group or user file (one
        id space, as Canvas's Attachments)."""
        att = self.store.attachment(file_id)
        if att is not None:
            return None if self.file_expired(att) else att  # an expired export's file is gone
        return self.content.file(file_id)

    def file_expired(self, att: Attachment) -> bool:
        """Whether this is the file of a content export past ``expire_days`` (the API hides it
        then, and no path — verifier, token, CLI — may hand it out any more)."""
        if att.context_type != "ContentExport":
            return False
        ce = self.store.content_export(att.context_id)
        return ce is not None and self.expired(ce.created_at)

    def readable_file(self, user_id: int, file_id: int) -> Attachment | ContextFile:
        """The file with this id, if this user may read it (else NotFound / Unauthorized)."""
        found = self.stored_file(file_id)
        if found is None:
            raise NotFound(f"no file {file_id}")
        self.check_file_read(user_id, found)
        return found

    def check_file_read(self, user_id: int, att: Attachment | ContextFile) -> None:
        """A finished export's file may be read by whoever may read its export; a course, group
        or user file by whoever's file listing of that context shows it (hidden and locked
        files stay out of a student's)."""
        if isinstance(att, ContextFile):
            listing = self.context_files(user_id, att.context_type, att.context_id)
            if not any(f["id"] == att.file.id for f in listing["attachments"]):
                raise Unauthorized("this file is hidden or locked for you")
            return
        if att.context_type == "ContentExport":
            ce = self.store.content_export(att.context_id)
            if ce is None:
                raise NotFound(f"no file {att.id}")
            self.show_content_export(user_id, ce.context_type, ce.context_id, ce.id)
        else:
            ep = self.store.epub_export(att.context_id)
            if ep is None:
                raise NotFound(f"no file {att.id}")
            self.show_epub_export(user_id, ep.course_id, ep.id)

    def create_token(self, user_id: int, purpose: str = "") -> str:
        """A new API token for ``user_id``, returned once (the library keeps its hash)."""
        return tokens.create_token(self.library, user_id, purpose)

    def tokens(self, user_id: int | None = None) -> list[dict[str, Any]]:
        """The API tokens (of one user, or all), as ``tokens.list_tokens`` (never a token or a hash)."""
        return tokens.list_tokens(self.library, user_id)

    def revoke_token(self, token_id: int) -> dict[str, Any]:
        """Remove an API token; NotFound if there is none with that id."""
        return tokens.revoke_token(self.library, token_id)

    def verify_token(self, token: str | None) -> int | None:
        """The user a token belongs to, or None."""
        return tokens.verify_token(self.library, token)

    def import_package(
        self,
        path: Path,
        progress: Callable[[int, int | None, str], None] | None = None,
        user_id: int | None = None,
    ) -> ImportReport:
        """Import a package (cartridge, QTI zip or course folder) as a new course; returns its
        ``ImportReport``.  A package that cannot be read is a BadRequest with a one-line reason,
        and leaves the library as it was.  A package brings no people: ``user_id`` (the library's
        owner by default) teaches the course it becomes (a course folder names its own)."""
        from ..importers import PackageError, import_path

        if user_id is None and self.content.users():
            user_id = self.owner_id()
        try:
            return import_path(self.library, Path(path), progress=progress, teacher_id=user_id)
        except PackageError as e:
            raise BadRequest(str(e)) from None

    def generate_course(self, spec: Any, progress: Callable[[str], None] | None = None) -> Any:
        """Add a synthetic course (``importers.synthetic.CourseSpec``), taught by the library owner."""
        from ..importers.synthetic import generate_course

        teacher = self.user_key(self.owner_id()) or "teacher"
        return generate_course(self.library, spec, teacher_key=teacher, progress=progress)

    # ------------------------------------------------------------------ jobs (runner.py, recovery.py)
    def run_content_export(self, export_id: int, cancel: threading.Event | None = None) -> None:
        """Run one claimed content export to its end (called on a worker thread)."""
        self.runner.run_content_export(export_id, cancel)

    def run_epub_export(self, epub_id: int, cancel: threading.Event | None = None) -> None:
        """Run one claimed ePub export to its end (called on a worker thread)."""
        self.runner.run_epub_export(epub_id, cancel)

    def recover(self, now: datetime | None = None) -> list[str]:
        """Fail jobs whose process died (or that ran past the ePub limit); returns what it did."""
        return recover(self, now)

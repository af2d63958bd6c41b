"""Building the course snapshot an exporter receives: what one user may see, plus the selection.

Visibility follows Canvas's ``ScopedToUser`` and ``locked_for?`` (spec §1.7, §4.7):
course admins see everything; everyone else sees published content that is not
locked for them — no hidden or locked files or folders, no unpublished items, no
announcement before its delayed post date, nothing that only a locked module holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..model import (
    OUTLINED_NAMES,
    Assignment,
    ContextType,
    Course,
    CourseSnapshot,
    DiscussionTopic,
    File,
    Folder,
    ItemGone,
    ModuleItemType,
    Page,
    Quiz,
    Role,
    Selection,
    User,
)
from ..store import Library
from ..store.db import utcnow


def locked(unlock_at: datetime | None, lock_at: datetime | None, now: datetime) -> bool:
    return bool((unlock_at and unlock_at > now) or (lock_at and lock_at < now))


def visible_files(folders: list[Folder], files: list[File], now: datetime) -> tuple[list[Folder], list[File]]:
    """Folders and files a non-admin may read and download (hidden/locked ones and their contents go)."""
    by_id = {f.id: f for f in folders}
    ok: dict[int, bool] = {}

    def folder_ok(fid: int | None) -> bool:
        if fid is None:
            return True
        if fid not in ok:
            f = by_id.get(fid)
            ok[fid] = bool(
                f
                and not f.hidden
                and not f.locked
                and not locked(f.unlock_at, f.lock_at, now)
                and folder_ok(f.parent_id)
            )
        return ok[fid]

    keep_folders = [f for f in folders if folder_ok(f.id)]
    keep_files = [
        f
        for f in files
        if folder_ok(f.folder_id)
        and not f.hidden
        and not f.locked
        and not locked(f.unlock_at, f.lock_at, now)
    ]
    return keep_folders, keep_files


def build_snapshot(
    library: Library,
    course_id: int,
    user: User,
    role: Role | None,
    *,
    selection: Selection | None = None,
    now: datetime | None = None,
    detail: str = "full",
) -> CourseSnapshot:
    """``detail``: ``full`` reads every item whole; ``outline`` (what exports use) reads no
    HTML and no questions, and the snapshot's ``load`` reads each item whole when it is
    written, so an export never holds every body and question at once."""
    course = library.content.course(course_id)
    if course is None:
        raise LookupError(f"no course {course_id}")
    now = now or utcnow()
    if detail == "full":
        content = library.content.course_content(course_id, detail)
    else:  # the long lists are walked from SQLite as they are written, not held
        content = library.content.course_walk(course_id)
    snap = CourseSnapshot(course=course, viewer=user, viewer_role=role, exported_at=now, **content)
    student_view = role is None or not role.is_admin
    if detail != "full":
        snap.loader = _still_visible(library.content.item, now) if student_view else WholeItems(library)
    if student_view:
        _restrict_to_student_view(snap, now)
    if selection is not None:
        snap.selection = selection
    return snap


def build_files_snapshot(
    library: Library,
    context: ContextType,
    context_id: int,
    user: User,
    owner_course: Course | None,
    *,
    admin: bool,
    now: datetime | None = None,
) -> CourseSnapshot:
    """A snapshot holding only the files of a group or a user (for their zip exports)."""
    now = now or utcnow()
    tree = library.content.context_files(context, context_id)
    course = owner_course or Course(
        id=0, name=user.name, course_code="", uuid="", time_zone=user.time_zone or "UTC"
    )
    folders, files = (tree.folders, tree.files) if admin else visible_files(tree.folders, tree.files, now)
    return CourseSnapshot(
        course=course, viewer=user, viewer_role=None, exported_at=now, folders=folders, files=files
    )


def student_may_see(obj: Any, now: datetime) -> bool:
    """Whether a non-admin may read this page, assignment, quiz or topic on its own
    (calendar events are all visible; module locks are checked for the whole snapshot)."""
    if isinstance(obj, (Assignment, Quiz)):
        return obj.published and not locked(obj.unlock_at, obj.lock_at, now)
    if isinstance(obj, DiscussionTopic):
        return obj.published and not (obj.delayed_post_at and obj.delayed_post_at > now)
    if isinstance(obj, Page):
        return obj.published
    return True


class WholeItems:
    """The loader of an admin's snapshot: ``(cls, id)`` → the item whole, read when it is written
    (each read sees the library as it is then, as the outline's walks do: an item deleted since
    is None, and the export skips it).  :meth:`rows` reads the same item without making it, for
    an export that makes it in a render process: an admin's view checks nothing on it (a
    student's loader, :func:`_still_visible`, has no ``rows``: its items are checked whole)."""

    def __init__(self, library: Library):
        self.content = library.content

    def __call__(self, cls: type, item_id: int) -> Any:
        return self.content.item(cls, item_id)

    def rows(self, cls: type, item_id: int) -> Any:
        return self.content.item_rows(cls, item_id)


def _still_visible(load: Callable[[type, int], Any], now: datetime) -> Callable[[type, int], Any]:
    """``load`` for a non-admin's export: an item unpublished or locked by a teacher after the
    snapshot was taken is not written (its outline said it was visible then)."""

    def loader(cls: type, item_id: int) -> Any:
        whole = load(cls, item_id)
        if whole is not None and not student_may_see(whole, now):
            raise ItemGone(
                f"{OUTLINED_NAMES[cls]} {item_id} was hidden from students during the export "
                "(unpublished, locked or not yet posted)"
            )
        return whole

    return loader


def _kept(items: Any, keep: Callable[[Any], Any]) -> Any:
    """``items`` as ``keep`` gives each (None: left out): a list, or a walked list told to."""
    if hasattr(items, "where"):
        return items.where(keep)
    return [k for k in (keep(o) for o in items) if k is not None]


def _restrict_to_student_view(snap: CourseSnapshot, now: datetime) -> None:
    snap.folders, snap.files = visible_files(snap.folders, snap.files, now)
    for attr in ("pages", "assignments", "quizzes", "discussion_topics"):
        setattr(snap, attr, _kept(getattr(snap, attr), lambda o: o if student_may_see(o, now) else None))
    snap.modules = _kept(
        snap.modules,
        lambda m: replace(m, items=tuple(i for i in m.items if i.published)) if m.published else None,
    )
    # content held only by modules that are still locked is locked for the student
    kinds = {
        ModuleItemType.PAGE: "pages",
        ModuleItemType.ASSIGNMENT: "assignments",
        ModuleItemType.QUIZ: "quizzes",
        ModuleItemType.DISCUSSION: "discussion_topics",
        ModuleItemType.FILE: "files",
    }

    # (only the ids in locked modules are held: a course of open modules holds no set of its items)
    def locked_module(m) -> bool:
        return bool(m.unlock_at and m.unlock_at > now)

    in_locked: dict[str, set[int]] = {k: set() for k in kinds.values()}
    for m in snap.modules:
        if locked_module(m):
            for i in m.items:
                if i.content_type in kinds and i.content_id is not None:
                    in_locked[kinds[i.content_type]].add(i.content_id)
    in_open: dict[str, set[int]] = {k: set() for k in kinds.values()}
    if any(in_locked.values()):
        for m in snap.modules:
            if not locked_module(m):
                for i in m.items:
                    kind = kinds.get(i.content_type)
                    if kind and i.content_id in in_locked[kind]:
                        in_open[kind].add(i.content_id)
    for attr, ids in in_locked.items():
        hidden = ids - in_open[attr]
        if hidden:
            setattr(
                snap, attr, _kept(getattr(snap, attr), lambda o, hidden=hidden: None if o.id in hidden else o)
            )
    snap.__dict__.pop("_indexes", None)

"""Loading course folders (the ``data/`` format, see data/README.md) into the library.

A folder is read completely and checked before anything is written; the whole
course then goes in inside one transaction, so a bad folder never leaves half a
course behind.  Relative links in the HTML become the Canvas URLs a real course
body holds, once the ids are known.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..html_fragments import rewrite_attrs
from ..model import (
    GRADED_QUIZ_TYPES,
    Answer,
    Assignment,
    AssignmentGroup,
    CalendarEvent,
    ContextType,
    Course,
    DiscussionTopic,
    Enrollment,
    File,
    Group,
    Module,
    ModuleItem,
    ModuleItemType,
    Page,
    QuestionType,
    Quiz,
    QuizGroup,
    QuizQuestion,
    Role,
    Rubric,
    RubricCriterion,
    RubricRating,
    User,
)
from ..store import ContextFiles, CourseBundle, Library
from . import PackageError
from .folders import FolderTree

UUID_NS = uuid.UUID("6f1c3a52-93a4-4b8e-9a8e-2f0e6a1d7c11")

QUESTION_TYPES = {
    "multiple_choice": QuestionType.MULTIPLE_CHOICE,
    "true_false": QuestionType.TRUE_FALSE,
    "multiple_answers": QuestionType.MULTIPLE_ANSWERS,
    "short_answer": QuestionType.SHORT_ANSWER,
    "fill_in_multiple_blanks": QuestionType.FILL_IN_MULTIPLE_BLANKS,
    "multiple_dropdowns": QuestionType.MULTIPLE_DROPDOWNS,
    "matching": QuestionType.MATCHING,
    "numerical": QuestionType.NUMERICAL,
    "calculated": QuestionType.CALCULATED,
    "essay": QuestionType.ESSAY,
    "file_upload": QuestionType.FILE_UPLOAD,
    "text_only": QuestionType.TEXT_ONLY,
    "missing_word": QuestionType.MISSING_WORD,
}

ITEM_TYPES = {
    "page": ModuleItemType.PAGE,
    "assignment": ModuleItemType.ASSIGNMENT,
    "quiz": ModuleItemType.QUIZ,
    "discussion": ModuleItemType.DISCUSSION,
    "file": ModuleItemType.FILE,
    "url": ModuleItemType.EXTERNAL_URL,
    "subheader": ModuleItemType.SUB_HEADER,
}

NUMERICAL_KINDS = {"exact": "exact_answer", "range": "range_answer", "precision": "precision_answer"}


class CourseFolderError(PackageError):
    """A course folder that cannot be loaded; the message names the file and the key."""


@dataclass
class LoadReport:
    course_id: int
    name: str
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # by select type (CourseBundle.counts)


# ---------------------------------------------------------------------- helpers


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise CourseFolderError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise CourseFolderError(f"{path}: not valid TOML ({e})") from None
    except UnicodeDecodeError:
        raise CourseFolderError(f"{path}: not valid TOML (it is not UTF-8 text)") from None
    except RecursionError:
        raise CourseFolderError(f"{path}: not valid TOML (nested too deeply)") from None


def inside(root: Path, rel: str | Path, where: str) -> Path:
    """``root / rel``, refused unless it stays inside ``root`` with no symlink on the way:
    a course folder never makes the library read a file outside it (``/etc/passwd``,
    ``../../x``, ``files/x -> /etc/passwd``)."""
    text = str(rel)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CourseFolderError(f"{where}: the name {text!r} is not UTF-8") from None
    base = root.resolve()
    if Path(text).is_absolute():
        raise CourseFolderError(f"{where}: '{text}' is an absolute path; give one inside the course folder")
    lexical = Path(os.path.normpath(base / text))
    if lexical != base and base not in lexical.parents:
        raise CourseFolderError(f"{where}: '{text}' is outside the course folder")
    probe = lexical
    while probe != base:
        if probe.is_symlink():
            raise CourseFolderError(
                f"{where}: '{probe.relative_to(base)}' is a symbolic link; copy the file in"
            )
        probe = probe.parent
    return lexical


def _require(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table or table[key] in (None, ""):
        raise CourseFolderError(f"{where}: missing required key '{key}'")
    return table[key]


class _Ids:
    """Hands out the next id per table (allocated inside the import transaction)."""

    def __init__(self, start: dict[str, int]):
        self._next = dict(start)

    def __call__(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value


# ---------------------------------------------------------------------- users


def load_users(library: Library, tables: list[dict[str, Any]], where: str) -> dict[str, int]:
    """Insert the users that are new; returns key → id for all of them."""
    ids: dict[str, int] = {}
    for i, u in enumerate(tables):
        key = _require(u, "key", f"{where} [[users]] #{i + 1}")
        existing = library.content.user_by_key(key)
        if existing:
            ids[key] = existing.id
            continue
        with library.transaction():
            uid = library.content.next_ids()["users"]
            tz = u.get("time_zone", "UTC")
            _zone(tz, f"{where} user '{key}'")
            user = User(
                id=uid,
                name=_require(u, "name", f"{where} user '{key}'"),
                sortable_name=u.get("sortable_name", ""),
                short_name=u.get("short_name", ""),
                login_id=u.get("login_id", key),
                email=u.get("email", ""),
                time_zone=tz,
            )
            library.content.insert_user(user, key=key)
        ids[key] = uid
    return ids


def _zone(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseFolderError(f"{where}: unknown time zone '{name}'") from None


# ---------------------------------------------------------------------- course


class _CourseReader:
    def __init__(self, library: Library, folder: Path, user_ids: dict[str, int], created: list[str]):
        self.library = library
        self.folder = folder
        self.user_ids = user_ids
        self.toml_path = folder / "course.toml"
        self.spec = _read_toml(self.toml_path)
        self.warnings: list[str] = []
        self.created_blobs = created  # removed again if the import fails
        course = self.spec.get("course")
        if not isinstance(course, dict):
            raise CourseFolderError(f"{self.toml_path}: missing the [course] table")
        self.c = course
        self.tz = _zone(course.get("time_zone", "UTC"), f"{self.toml_path} [course].time_zone")
        # key → id maps filled by allocate()
        self.page_ids: dict[str, int] = {}
        self.assignment_ids: dict[str, int] = {}
        self.topic_ids: dict[str, int] = {}
        self.quiz_ids: dict[str, int] = {}
        self.file_ids: dict[str, int] = {}  # path below files/ → id
        self.group_ids: dict[str, int] = {}  # assignment groups
        self.rubric_ids: dict[str, int] = {}
        self.module_ids: dict[str, int] = {}
        self.course_id = 0

    # -- dates
    def dt(self, value: Any, where: str) -> datetime | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=self.tz)
            return value.astimezone(UTC)
        if isinstance(value, date):
            return datetime.combine(value, time(0, 0), self.tz).astimezone(UTC)
        if isinstance(value, str):
            try:
                return self.dt(datetime.fromisoformat(value.replace("Z", "+00:00")), where)
            except ValueError:
                pass
        raise CourseFolderError(f"{self.toml_path} {where}: '{value}' is not a date-time")

    def html_file(self, rel: str, required: bool = False) -> str:
        if not isinstance(rel, str):
            raise CourseFolderError(f"{self.toml_path}: {rel!r} is not a file name")
        path = inside(self.folder, rel, str(self.toml_path))
        if not path.is_file():
            if required:
                raise CourseFolderError(f"{self.folder / rel}: file not found")
            return ""
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise CourseFolderError(f"{self.folder / rel}: not UTF-8 text (byte {e.start})") from None

    def quiz_tables(self) -> Iterator[tuple[dict[str, Any], str]]:
        """Quizzes from course.toml and quizzes/*.toml, with the dir their links start from."""
        for q in self.spec.get("quizzes", []):
            yield q, ""
        qdir = self.folder / "quizzes"
        if qdir.is_dir():
            for path in sorted(qdir.glob("*.toml")):
                q = _read_toml(inside(self.folder, path.relative_to(self.folder), str(qdir)))
                q.setdefault("key", path.stem)
                yield q, "quizzes"

    # -- ids first, so links can be resolved while objects are built
    def allocate(self, ids: _Ids) -> None:
        self.course_id = ids("courses")
        for p in self.spec.get("pages", []):
            slug = _require(p, "slug", f"{self.toml_path} [[pages]]")
            self.page_ids[slug] = ids("pages")
        for g in self.spec.get("assignment_groups", []):
            self.group_ids[_require(g, "key", f"{self.toml_path} [[assignment_groups]]")] = ids(
                "assignment_groups"
            )
        for r in self.spec.get("rubrics", []):
            self.rubric_ids[_require(r, "key", f"{self.toml_path} [[rubrics]]")] = ids("rubrics")
        for a in self.spec.get("assignments", []):
            self.assignment_ids[_require(a, "key", f"{self.toml_path} [[assignments]]")] = ids("assignments")
        for t in self.spec.get("discussions", []):
            self.topic_ids[_require(t, "key", f"{self.toml_path} [[discussions]]")] = ids("discussion_topics")
        for q, _ in self.quiz_tables():
            self.quiz_ids[_require(q, "key", f"{self.toml_path} [[quizzes]]")] = ids("quizzes")
        for m in self.spec.get("modules", []):
            self.module_ids[_require(m, "key", f"{self.toml_path} [[modules]]")] = ids("modules")

    # -- links
    def rewrite(self, html: str, base_dir: str, where: str) -> str:
        """Relative links of ``html`` (read from ``base_dir``) → Canvas URLs of this course."""
        return rewrite_attrs(
            html, lambda attr, value: self._canvas_url(value, base_dir, is_src=(attr == "src"), where=where)
        )

    def _canvas_url(self, value: str, base_dir: str, *, is_src: bool, where: str) -> str | None:
        parts = urlsplit(value)
        if parts.scheme or parts.netloc or value.startswith(("#", "/")) or not parts.path:
            return None
        rel = posixpath.normpath(posixpath.join(base_dir, unquote(parts.path)))
        frag = f"#{parts.fragment}" if parts.fragment else ""
        c = f"/courses/{self.course_id}"
        head, _, rest = rel.partition("/")
        target: str | None = None
        if head == "files" and rest in self.file_ids:
            fid = self.file_ids[rest]
            target = f"{c}/files/{fid}/preview" if is_src else f"{c}/files/{fid}/download?wrap=1"
        elif head == "pages" and rest.endswith(".html") and rest[:-5] in self.page_ids:
            target = f"{c}/pages/{quote(rest[:-5])}"
        elif head == "assignments" and rest.endswith(".html") and rest[:-5] in self.assignment_ids:
            target = f"{c}/assignments/{self.assignment_ids[rest[:-5]]}"
        elif head == "discussions" and rest.endswith(".html") and rest[:-5] in self.topic_ids:
            target = f"{c}/discussion_topics/{self.topic_ids[rest[:-5]]}"
        elif head == "quizzes" and rest.endswith(".toml") and rest[:-5] in self.quiz_ids:
            target = f"{c}/quizzes/{self.quiz_ids[rest[:-5]]}"
        if target is None:
            self.warnings.append(f"{where}: link '{value}' points at nothing in this course; kept as is")
            return None
        return target + frag

    # -- files
    def file_tree(
        self, root: Path, context: ContextType, context_id: int, root_name: str, ids: _Ids, attrs: bool
    ) -> tuple[ContextFiles, dict[str, int]]:
        folder_attrs = {f["path"].strip("/"): f for f in self.spec.get("folders", [])} if attrs else {}
        file_attrs = {f["path"].strip("/"): f for f in self.spec.get("files", [])} if attrs else {}
        tree = ContextFiles(context, context_id)
        path_ids: dict[str, int] = {}

        def attrs(rel: str) -> dict[str, Any]:
            a = folder_attrs.get(rel, {})
            where = f"{self.toml_path} [[folders]] '{rel}'"
            return {
                "hidden": bool(a.get("hidden", False)),
                "locked": bool(a.get("locked", False)),
                "lock_at": self.dt(a.get("lock_at"), where),
                "unlock_at": self.dt(a.get("unlock_at"), where),
            }

        add_folder = FolderTree(tree, ids, root_name, attrs)
        for rel in sorted(folder_attrs):
            add_folder(rel)
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                rel = path.relative_to(root).as_posix()
                inside(self.folder, path.relative_to(self.folder), str(root))  # no symlinks, UTF-8 names
                if path.is_dir():
                    add_folder(rel)
                    continue
                if path.name.startswith(".") or not path.is_file():
                    continue
                parent = add_folder(posixpath.dirname(rel))
                a = file_attrs.get(rel, {})
                where = f"{self.toml_path} [[files]] '{rel}'"
                sha, size = self.library.blobs.put_file(path, self.created_blobs)
                ctype = (
                    a.get("content_type") or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                )
                fid = ids("files")
                tree.files.append(
                    File(
                        id=fid,
                        folder_id=parent,
                        display_name=a.get("display_name", path.name),
                        filename=path.name,
                        content_type=ctype,
                        size=size,
                        sha256=sha,
                        uuid=str(uuid.uuid5(UUID_NS, f"{context.value}:{context_id}:{rel}:{sha}")),
                        blob_path=None,
                        hidden=bool(a.get("hidden", False)),
                        locked=bool(a.get("locked", False)),
                        lock_at=self.dt(a.get("lock_at"), where),
                        unlock_at=self.dt(a.get("unlock_at"), where),
                    )
                )
                path_ids[rel] = fid
        for rel in file_attrs:
            if rel not in path_ids:
                raise CourseFolderError(f"{self.toml_path} [[files]]: no file 'files/{rel}' in the folder")
        return tree, path_ids

    # -- the whole course
    def build(self, ids: _Ids) -> CourseBundle:
        self.allocate(ids)
        t = self.toml_path
        c = self.c
        tree, self.file_ids = self.file_tree(
            self.folder / "files", ContextType.COURSE, self.course_id, "course files", ids, attrs=True
        )
        syllabus = ""
        if c.get("syllabus"):
            syllabus = self.rewrite(
                self.html_file(c["syllabus"], required=True), posixpath.dirname(c["syllabus"]), c["syllabus"]
            )
        state = c.get("state", "available")
        if state not in ("available", "completed"):
            raise CourseFolderError(f"{t} [course].state: '{state}' is not 'available' or 'completed'")
        course = Course(
            id=self.course_id,
            name=_require(c, "name", f"{t} [course]"),
            course_code=_require(c, "course_code", f"{t} [course]"),
            uuid=str(uuid.uuid5(UUID_NS, f"course:{self.folder.name}:{c['name']}")),
            workflow_state=state,
            start_at=self.dt(c.get("start_at"), "[course].start_at"),
            end_at=self.dt(c.get("end_at"), "[course].end_at"),
            time_zone=c.get("time_zone", "UTC"),
            term=c.get("term", ""),
            syllabus_body=syllabus,
            organize_epub_by_content_type=bool(c.get("organize_epub_by_content_type", False)),
            license=c.get("license", "private"),
            locale=c.get("locale", "en"),
        )
        bundle = CourseBundle(course=course, source=str(self.folder))
        bundle.file_trees.append(tree)
        for i, e in enumerate(self.spec.get("enrollments", [])):
            where = f"{t} [[enrollments]] #{i + 1}"
            key = _require(e, "user", where)
            if key not in self.user_ids:
                raise CourseFolderError(f"{where}: unknown user '{key}' (add it to [[users]])")
            try:
                role = Role(_require(e, "role", where))
            except ValueError:
                raise CourseFolderError(f"{where}: unknown role '{e['role']}'") from None
            bundle.enrollments.append(
                Enrollment(self.user_ids[key], course.id, role, e.get("state", "active"))
            )
        for g in self.spec.get("groups", []):
            where = f"{t} [[groups]]"
            key = _require(g, "key", where)
            gid = ids("groups")
            unknown = [m for m in g.get("members", []) if m not in self.user_ids]
            if unknown:
                raise CourseFolderError(f"{where} '{key}': unknown members {unknown}")
            bundle.groups.append(
                Group(
                    gid,
                    course.id,
                    _require(g, "name", where),
                    tuple(self.user_ids[m] for m in g.get("members", [])),
                )
            )
            gtree, _ = self.file_tree(
                self.folder / "groups" / key / "files", ContextType.GROUP, gid, "files", ids, attrs=False
            )
            bundle.file_trees.append(gtree)
        for p in self.spec.get("pages", []):
            slug = p["slug"]
            rel = f"pages/{slug}.html"
            bundle.pages.append(
                Page(
                    id=self.page_ids[slug],
                    url=slug,
                    title=_require(p, "title", f"{t} [[pages]] '{slug}'"),
                    body=self.rewrite(self.html_file(rel, required=True), "pages", rel),
                    published=bool(p.get("published", True)),
                    front_page=bool(p.get("front_page", False)),
                    editing_roles=p.get("editing_roles", "teachers"),
                    todo_date=self.dt(p.get("todo_date"), f"page '{slug}'"),
                    created_at=self.dt(c.get("start_at"), "start_at"),
                    updated_at=self.dt(c.get("start_at"), "start_at"),
                )
            )
        for i, g in enumerate(self.spec.get("assignment_groups", [])):
            bundle.assignment_groups.append(
                AssignmentGroup(
                    id=self.group_ids[g["key"]],
                    name=_require(g, "name", f"{t} [[assignment_groups]] '{g['key']}'"),
                    position=g.get("position", i + 1),
                    group_weight=float(g.get("weight", 0)),
                    drop_lowest=g.get("drop_lowest", 0),
                    drop_highest=g.get("drop_highest", 0),
                )
            )
        for r in self.spec.get("rubrics", []):
            crits = []
            for j, cr in enumerate(r.get("criteria", [])):
                where = f"{t} rubric '{r['key']}' criterion #{j + 1}"
                crits.append(
                    RubricCriterion(
                        id=f"{self.rubric_ids[r['key']]}_{j + 1}",
                        description=_require(cr, "description", where),
                        long_description=cr.get("long_description", ""),
                        points=float(_require(cr, "points", where)),
                        ratings=tuple(
                            RubricRating(
                                id=f"{self.rubric_ids[r['key']]}_{j + 1}_{k + 1}",
                                description=_require(rt, "description", where),
                                points=float(rt.get("points", 0)),
                                long_description=rt.get("long_description", ""),
                            )
                            for k, rt in enumerate(cr.get("ratings", []))
                        ),
                    )
                )
            bundle.rubrics.append(
                Rubric(
                    id=self.rubric_ids[r["key"]],
                    title=_require(r, "title", f"{t} [[rubrics]] '{r['key']}'"),
                    points_possible=sum(cr.points for cr in crits),
                    criteria=tuple(crits),
                    free_form_criterion_comments=bool(r.get("free_form_comments", False)),
                )
            )
        for i, a in enumerate(self.spec.get("assignments", [])):
            key = a["key"]
            where = f"assignment '{key}'"
            rel = f"assignments/{key}.html"
            bundle.assignments.append(
                Assignment(
                    id=self.assignment_ids[key],
                    title=_require(a, "title", f"{t} [[assignments]] '{key}'"),
                    description=self.rewrite(self.html_file(rel), "assignments", rel),
                    assignment_group_id=self._ref(self.group_ids, a.get("group"), where, "assignment group"),
                    points_possible=a.get("points"),
                    grading_type=a.get("grading_type", "points"),
                    submission_types=tuple(a.get("submission_types", ["online_text_entry"])),
                    due_at=self.dt(a.get("due_at"), where),
                    unlock_at=self.dt(a.get("unlock_at"), where),
                    lock_at=self.dt(a.get("lock_at"), where),
                    published=bool(a.get("published", True)),
                    position=i + 1,
                    rubric_id=self._ref(self.rubric_ids, a.get("rubric"), where, "rubric"),
                    allowed_extensions=tuple(a.get("allowed_extensions", [])),
                    peer_reviews=bool(a.get("peer_reviews", False)),
                )
            )
        for i, d in enumerate(self.spec.get("discussions", [])):
            key = d["key"]
            where = f"discussion '{key}'"
            rel = f"discussions/{key}.html"
            tid = self.topic_ids[key]
            assignment_id = None
            if d.get("points") is not None and not d.get("announcement"):
                assignment_id = self._owned_assignment(
                    bundle,
                    ids("assignments"),
                    d,
                    where,
                    d["points"],
                    "discussion_topic",
                    ("due_at",),
                    discussion_topic_id=tid,
                )
            bundle.discussion_topics.append(
                DiscussionTopic(
                    id=tid,
                    title=_require(d, "title", f"{t} [[discussions]] '{key}'"),
                    message=self.rewrite(self.html_file(rel), "discussions", rel),
                    is_announcement=bool(d.get("announcement", False)),
                    published=bool(d.get("published", True)),
                    posted_at=self.dt(d.get("posted_at"), where) or self.dt(c.get("start_at"), where),
                    delayed_post_at=self.dt(d.get("delayed_post_at"), where),
                    lock_at=self.dt(d.get("lock_at"), where),
                    pinned=bool(d.get("pinned", False)),
                    discussion_type=d.get("discussion_type", "threaded"),
                    require_initial_post=bool(d.get("require_initial_post", False)),
                    position=i + 1,
                    assignment_id=assignment_id,
                )
            )
        for q, base in self.quiz_tables():
            bundle.quizzes.append(self.quiz(q, base, ids, bundle))
        for i, e in enumerate(self.spec.get("events", [])):
            where = f"{t} [[events]] #{i + 1}"
            bundle.calendar_events.append(
                CalendarEvent(
                    id=ids("calendar_events"),
                    title=_require(e, "title", where),
                    description=self.rewrite(e.get("description", ""), "", where),
                    start_at=self.dt(e.get("start_at"), where),
                    end_at=self.dt(e.get("end_at"), where),
                    all_day=bool(e.get("all_day", False)),
                    location_name=e.get("location", ""),
                )
            )
        titles = {
            ModuleItemType.PAGE: {p.id: p.title for p in bundle.pages},
            ModuleItemType.ASSIGNMENT: {a.id: a.title for a in bundle.assignments},
            ModuleItemType.QUIZ: {q.id: q.title for q in bundle.quizzes},
            ModuleItemType.DISCUSSION: {d.id: d.title for d in bundle.discussion_topics},
            ModuleItemType.FILE: {f.id: f.display_name for f in tree.files},
        }
        refs = {
            ModuleItemType.PAGE: self.page_ids,
            ModuleItemType.ASSIGNMENT: self.assignment_ids,
            ModuleItemType.QUIZ: self.quiz_ids,
            ModuleItemType.DISCUSSION: self.topic_ids,
            ModuleItemType.FILE: self.file_ids,
        }
        for i, m in enumerate(self.spec.get("modules", [])):
            mid = self.module_ids[m["key"]]
            where = f"{t} module '{m['key']}'"
            items = []
            for j, it in enumerate(m.get("items", [])):
                iwhere = f"{where} item #{j + 1}"
                kind = ITEM_TYPES.get(_require(it, "type", iwhere))
                if kind is None:
                    raise CourseFolderError(
                        f"{iwhere}: unknown type '{it['type']}' (one of {sorted(ITEM_TYPES)})"
                    )
                content_id = None
                title = it.get("title", "")
                if kind in refs:
                    content_id = self._ref(refs[kind], _require(it, "ref", iwhere), iwhere, kind.name.lower())
                    title = title or titles[kind][content_id]
                elif not title:
                    raise CourseFolderError(f"{iwhere}: a {it['type']} item needs a title")
                items.append(
                    ModuleItem(
                        id=ids("module_items"),
                        module_id=mid,
                        content_type=kind,
                        title=title,
                        content_id=content_id,
                        url=_require(it, "url", iwhere) if kind is ModuleItemType.EXTERNAL_URL else "",
                        position=j + 1,
                        indent=int(it.get("indent", 0)),
                        published=bool(it.get("published", True)),
                        new_tab=bool(it.get("new_tab", False)),
                    )
                )
            bundle.modules.append(
                Module(
                    id=mid,
                    name=_require(m, "name", where),
                    position=i + 1,
                    published=bool(m.get("published", True)),
                    unlock_at=self.dt(m.get("unlock_at"), where),
                    require_sequential_progress=bool(m.get("require_sequential_progress", False)),
                    prerequisite_ids=tuple(
                        self._ref(self.module_ids, k, where, "module") for k in m.get("prerequisites", [])
                    ),
                    items=tuple(items),
                )
            )
        return bundle

    def _owned_assignment(
        self,
        bundle: CourseBundle,
        assignment_id: int,
        spec: dict[str, Any],
        where: str,
        points: float,
        submission_type: str,
        dates: tuple[str, ...],
        **owner: int,
    ) -> int:
        """Add the assignment a graded quiz or discussion is graded through (Canvas's model);
        ``dates`` are the spec's dates it takes, ``owner`` its ``quiz_id`` or ``discussion_topic_id``."""
        bundle.assignments.append(
            Assignment(
                id=assignment_id,
                title=spec["title"],
                assignment_group_id=self._ref(self.group_ids, spec.get("group"), where, "assignment group"),
                points_possible=points,
                submission_types=(submission_type,),
                published=bool(spec.get("published", True)),
                position=len(bundle.assignments) + 1,
                **{name: self.dt(spec.get(name), where) for name in dates},
                **owner,
            )
        )
        return assignment_id

    def _ref(self, table: dict[str, int], key: str | None, where: str, what: str) -> int | None:
        if key is None:
            return None
        key = key.strip("/") if isinstance(key, str) else key
        if key not in table:
            raise CourseFolderError(f"{self.toml_path} {where}: no {what} '{key}' in this course")
        return table[key]

    def quiz(self, q: dict[str, Any], base: str, ids: _Ids, bundle: CourseBundle) -> Quiz:
        key = q["key"]
        where = f"quiz '{key}'"
        qid = self.quiz_ids[key]
        groups: list[QuizGroup] = []
        group_ids: dict[str, int] = {}
        for j, g in enumerate(q.get("groups", [])):
            gid = ids("quiz_groups")
            group_ids[_require(g, "key", f"{where} group #{j + 1}")] = gid
            groups.append(
                QuizGroup(
                    gid,
                    g.get("name", g["key"]),
                    int(g.get("pick_count", 1)),
                    float(g.get("question_points", 1)),
                    j + 1,
                )
            )
        questions = []
        for j, qq in enumerate(q.get("questions", [])):
            qwhere = f"{where} question #{j + 1}"
            qtype = QUESTION_TYPES.get(_require(qq, "type", qwhere))
            if qtype is None:
                raise CourseFolderError(
                    f"{self.toml_path} {qwhere}: unknown type '{qq['type']}' (one of {sorted(QUESTION_TYPES)})"
                )
            qqid = ids("quiz_questions")
            questions.append(
                QuizQuestion(
                    id=qqid,
                    question_type=qtype,
                    name=qq.get("name", f"Question {j + 1}"),
                    question_text=self.rewrite(qq.get("text", ""), base, qwhere),
                    points_possible=float(qq.get("points", 0 if qtype is QuestionType.TEXT_ONLY else 1)),
                    position=j + 1,
                    group_id=self._ref(group_ids, qq.get("group"), qwhere, "question group"),
                    answers=tuple(self.answers(qtype, qq, qqid, qwhere)),
                    correct_comments=qq.get("correct_comments", ""),
                    incorrect_comments=qq.get("incorrect_comments", ""),
                    neutral_comments=qq.get("neutral_comments", ""),
                    matching_distractors=tuple(
                        (qqid * 1000 + 500 + k, text) for k, text in enumerate(qq.get("distractors", []))
                    ),
                    calculated=qq.get("calculated"),
                )
            )
        points = q.get("points")
        if points is None:
            ungrouped = sum(x.points_possible for x in questions if x.group_id is None)
            points = ungrouped + sum(g.pick_count * g.question_points for g in groups)
        quiz_type = q.get("quiz_type", "assignment")
        assignment_id = None
        if quiz_type in GRADED_QUIZ_TYPES:
            assignment_id = self._owned_assignment(
                bundle,
                ids("assignments"),
                q,
                where,
                points,
                "online_quiz",
                ("due_at", "unlock_at", "lock_at"),
                quiz_id=qid,
            )
        return Quiz(
            id=qid,
            title=_require(q, "title", f"{self.toml_path} {where}"),
            description=self.rewrite(q.get("description", ""), base, where),
            quiz_type=quiz_type,
            points_possible=points,
            time_limit=q.get("time_limit"),
            allowed_attempts=int(q.get("allowed_attempts", 1)),
            shuffle_answers=bool(q.get("shuffle_answers", False)),
            scoring_policy=q.get("scoring_policy", "keep_highest"),
            show_correct_answers=bool(q.get("show_correct_answers", True)),
            one_question_at_a_time=bool(q.get("one_question_at_a_time", False)),
            cant_go_back=bool(q.get("cant_go_back", False)),
            access_code=q.get("access_code", ""),
            due_at=self.dt(q.get("due_at"), where),
            unlock_at=self.dt(q.get("unlock_at"), where),
            lock_at=self.dt(q.get("lock_at"), where),
            published=bool(q.get("published", True)),
            assignment_group_id=self._ref(self.group_ids, q.get("group"), where, "assignment group"),
            assignment_id=assignment_id,
            groups=tuple(groups),
            questions=tuple(questions),
        )

    def answers(self, qtype: QuestionType, qq: dict[str, Any], qqid: int, where: str) -> Iterator[Answer]:
        default_weight = (
            100.0
            if qtype
            in (
                QuestionType.SHORT_ANSWER,
                QuestionType.FILL_IN_MULTIPLE_BLANKS,
                QuestionType.NUMERICAL,
                QuestionType.MATCHING,
            )
            else 0.0
        )
        for k, a in enumerate(qq.get("answers", [])):
            aid = qqid * 1000 + k + 1
            common = {
                "id": aid,
                "text": str(a.get("text", "")),
                "html": a.get("html", ""),
                "weight": float(a.get("weight", default_weight)),
                "comments": a.get("comments", ""),
                "comments_html": a.get("comments_html", ""),
            }
            if qtype is QuestionType.MATCHING:
                yield Answer(
                    **common,
                    left=_require(a, "left", where),
                    right=_require(a, "right", where),
                    match_id=qqid * 1000 + 100 + k,
                )
            elif qtype is QuestionType.NUMERICAL:
                kind = a.get("kind", "exact")
                if kind not in NUMERICAL_KINDS:
                    raise CourseFolderError(f"{self.toml_path} {where}: numerical kind '{kind}' unknown")
                yield Answer(
                    **common,
                    numerical_answer_type=NUMERICAL_KINDS[kind],
                    exact=a.get("exact"),
                    margin=a.get("margin", 0 if kind == "exact" else None),
                    start=a.get("start"),
                    end=a.get("end"),
                    approximate=a.get("approximate"),
                    precision=a.get("precision"),
                )
            else:
                yield Answer(**common, blank_id=a.get("blank"))


def add_course_folder(
    library: Library,
    folder: Path,
    user_ids: dict[str, int] | None = None,
    created: list[str] | None = None,
) -> LoadReport:
    """Load one course folder; everything or nothing is written.  The blobs it writes are added to
    ``created`` when given (the caller takes them away if its transaction fails)."""
    folder = Path(folder)
    if not (folder / "course.toml").is_file():
        raise CourseFolderError(f"{folder}: no course.toml here (see data/README.md for the format)")
    inside(folder, "course.toml", str(folder))
    created = [] if created is None else created
    try:
        with library.transaction():  # users, course and all: rolled back on any failure
            reader_users = dict(user_ids or {})
            spec_users = _read_toml(folder / "course.toml").get("users", [])
            if spec_users:
                reader_users.update(load_users(library, spec_users, str(folder / "course.toml")))
            for u in library.content.users():
                key = library.content.user_key(u.id)
                if key:
                    reader_users.setdefault(key, u.id)
            reader = _CourseReader(library, folder, reader_users, created)
            bundle = reader.build(_Ids(library.content.next_ids()))
            library.content.insert_course(bundle)
    except BaseException as e:
        library.blobs.remove(created)  # no orphan blobs: the library is as it was
        if isinstance(e, (UnicodeError, RecursionError)):
            raise CourseFolderError(f"{folder}: {type(e).__name__}: {e}"[:300]) from None
        raise
    return LoadReport(bundle.course.id, bundle.course.name, reader.warnings, bundle.counts())


def load_library_folder(library: Library, data_dir: Path) -> list[LoadReport]:
    """Load ``library.toml`` (users, owner) and every course folder below ``data_dir``."""
    spec = _read_toml(data_dir / "library.toml")
    users = load_users(library, spec.get("users", []), str(data_dir / "library.toml"))
    owner = spec.get("owner")
    if owner:
        if owner not in users:
            raise CourseFolderError(f"{data_dir / 'library.toml'}: owner '{owner}' is not in [[users]]")
        library.content.set_meta("owner_user_id", str(users[owner]))
    reports = []
    for folder in sorted(p for p in data_dir.iterdir() if (p / "course.toml").is_file()):
        reports.append(add_course_folder(library, folder, users))
    return reports

"""Loading course folders (the ``data/`` format, see data/README.md) into the library.

Ids are handed out first, from course.toml and the quizzes' keys alone, so that relative links in
the HTML become the Canvas URLs a real course body holds as each body is read.  The course is then
read one item at a time (course.toml a table at a time, ``tomlstream``; each page, quiz… file
when its item is written) and written in batches (``batches``) inside one transaction, so memory
stays flat however many items the folder holds and a bad folder never leaves half a course
behind: an error found on its last item takes every row and blob back.
"""

from __future__ import annotations

import heapq
import mimetypes
import os
import posixpath
import tomllib
import uuid
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TypeVar
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
from .batches import Batches
from .folders import FolderTree
from .tomlstream import TomlTables

T = TypeVar("T")

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

#: The module items that point at content: the reader's key → id map of each kind.
ITEM_REFS = {
    ModuleItemType.PAGE: "page_ids",
    ModuleItemType.ASSIGNMENT: "assignment_ids",
    ModuleItemType.QUIZ: "quiz_ids",
    ModuleItemType.DISCUSSION: "topic_ids",
    ModuleItemType.FILE: "file_ids",
}
#: Where a module item that gives no title finds its content's (a file's is at hand).
ITEM_CLASSES = {
    ModuleItemType.PAGE: Page,
    ModuleItemType.ASSIGNMENT: Assignment,
    ModuleItemType.QUIZ: Quiz,
    ModuleItemType.DISCUSSION: DiscussionTopic,
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


def _read_toml(path: Path | str) -> dict[str, Any]:
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


def inside(root: Path, rel: str | Path, where: str) -> str:
    """``root / rel``, refused unless it stays inside ``root`` with no symlink on the way:
    a course folder never makes the library read a file outside it (``/etc/passwd``,
    ``../../x``, ``files/x -> /etc/passwd``).  Plain strings, not ``Path``s: Python 3.11's
    ``pathlib`` interns every part of every path it makes, for good (30,000 page names)."""
    text = str(rel)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CourseFolderError(f"{where}: the name {text!r} is not UTF-8") from None
    base = os.path.realpath(root)
    if os.path.isabs(text):
        raise CourseFolderError(f"{where}: '{text}' is an absolute path; give one inside the course folder")
    lexical = os.path.normpath(os.path.join(base, text))
    if lexical != base and not lexical.startswith(base.rstrip(os.sep) + os.sep):
        raise CourseFolderError(f"{where}: '{text}' is outside the course folder")
    probe = lexical
    while probe != base:
        if os.path.islink(probe):
            raise CourseFolderError(
                f"{where}: '{os.path.relpath(probe, base)}' is a symbolic link; copy the file in"
            )
        probe = os.path.dirname(probe)
    return lexical


def _require(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table or table[key] in (None, ""):
        raise CourseFolderError(f"{where}: missing required key '{key}'")
    return table[key]


def _typed(types: dict[str, T], table: dict[str, Any], where: str) -> T:
    """What the ``type`` of ``table`` names in ``types`` (a question's, a module item's)."""
    found = types.get(_require(table, "type", where))
    if found is None:
        raise CourseFolderError(f"{where}: unknown type '{table['type']}' (one of {sorted(types)})")
    return found


class _Ids:
    """Hands out the next id per table (allocated inside the import transaction)."""

    def __init__(self, start: dict[str, int]):
        self._next = dict(start)

    def __call__(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def take(self, table: str, keys: _KeyIds) -> _KeyIds:
        """Ids for every key of ``keys``, in their order."""
        keys.freeze(self._next[table])
        self._next[table] += len(keys)
        return keys


class _KeyIds:
    """Key → id of one kind of item (pages by slug, quizzes by key…), the ids handed out in the
    order the keys were added: 16 bytes per key (its hash and its place), not a dict of strings,
    so 30,000 pages hold 0.5 MB of it instead of 4 MB.  Two keys of one 64-bit hash (about one
    chance in 10^10 at 100,000 keys) would be one."""

    def __init__(self, what: str):
        self.what = what
        self._hashes = array("q")
        self._order = array("q")
        self.first = 0

    def add(self, key: Any, where: str) -> None:
        try:
            self._hashes.append(hash(key))
        except TypeError:
            raise CourseFolderError(f"{where}: {key!r} is not a key") from None

    def freeze(self, first: int) -> None:
        """Sort the hashes for look-ups; the first key's id is ``first``."""
        h, step = self._hashes, 4096  # sorted a run at a time, then merged: no list of every key's place
        runs = [
            array("q", sorted(range(s, min(s + step, len(h))), key=h.__getitem__))
            for s in range(0, len(h), step)
        ]
        self._hashes, self._order, self.first = array("q"), array("q"), first
        for n in heapq.merge(*runs, key=h.__getitem__):
            if self._hashes and self._hashes[-1] == h[n]:
                a, b = sorted((self._order[-1], n))
                raise CourseFolderError(f"{self.what} #{a + 1} and #{b + 1} have the same key")
            self._hashes.append(h[n])
            self._order.append(n)

    def get(self, key: Any) -> int | None:
        try:
            h = hash(key)
        except TypeError:
            return None
        n = bisect_left(self._hashes, h)
        if n < len(self._hashes) and self._hashes[n] == h:
            return self.first + self._order[n]
        return None

    def __contains__(self, key: Any) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: Any) -> int:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __len__(self) -> int:
        return len(self._hashes)


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


def read_course_toml(path: Path) -> TomlTables:
    """A course.toml, its arrays of tables (``[[pages]]``…) read from the file as they are walked."""
    return TomlTables(path, _read_toml, CourseFolderError)


class _CourseReader:
    def __init__(
        self, library: Library, folder: Path, spec: TomlTables, user_ids: dict[str, int], created: list[str]
    ):
        self.library = library
        self.folder = folder
        self.user_ids = user_ids
        self.toml_path = folder / "course.toml"
        self.spec = spec
        self.warnings: list[str] = []
        self.created_blobs = created  # removed again if the import fails
        course = self.spec.get("course")
        if not isinstance(course, dict):
            raise CourseFolderError(f"{self.toml_path}: missing the [course] table")
        self.c = course
        self.tz = _zone(course.get("time_zone", "UTC"), f"{self.toml_path} [course].time_zone")
        # key → id maps filled by allocate()
        self.page_ids = self.assignment_ids = self.topic_ids = self.quiz_ids = _KeyIds("")
        self.group_ids = self.rubric_ids = self.module_ids = _KeyIds("")  # (group_ids: assignment groups)
        self.file_ids: dict[str, int] = {}  # path below files/ → id
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
        if not os.path.isfile(path):
            if required:
                raise CourseFolderError(f"{self.folder}{os.sep}{rel}: file not found")
            return ""
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except UnicodeDecodeError as e:
            raise CourseFolderError(f"{self.folder}{os.sep}{rel}: not UTF-8 text (byte {e.start})") from None

    def quiz_tables(self) -> Iterator[tuple[dict[str, Any], str]]:
        """Quizzes from course.toml and quizzes/*.toml, with the dir their links start from."""
        for q in self.spec.tables("quizzes"):
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

        def keys(name: str, key: str, tables: Iterator[dict[str, Any]] | None = None) -> _KeyIds:
            where = f"{self.toml_path} [[{name}]]"
            found = _KeyIds(where)
            for table in self.spec.tables(name) if tables is None else tables:
                found.add(_require(table, key, where), where)
            return found

        self.page_ids = ids.take("pages", keys("pages", "slug"))
        self.group_ids = ids.take("assignment_groups", keys("assignment_groups", "key"))
        self.rubric_ids = ids.take("rubrics", keys("rubrics", "key"))
        self.assignment_ids = ids.take("assignments", keys("assignments", "key"))
        self.topic_ids = ids.take("discussion_topics", keys("discussions", "key"))
        self.quiz_ids = ids.take("quizzes", keys("quizzes", "key", (q for q, _ in self.quiz_tables())))
        self.module_ids = ids.take("modules", keys("modules", "key"))

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
        folder_attrs = {f["path"].strip("/"): f for f in self.spec.tables("folders")} if attrs else {}
        file_attrs = {f["path"].strip("/"): f for f in self.spec.tables("files")} if attrs else {}
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
    def build(self, ids: _Ids) -> Batches:
        """Read the folder and write the course, item by item, inside the caller's transaction."""
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
        first = CourseBundle(course=course, source=str(self.folder))
        first.file_trees.append(tree)
        for i, e in enumerate(self.spec.tables("enrollments")):
            where = f"{t} [[enrollments]] #{i + 1}"
            key = _require(e, "user", where)
            if key not in self.user_ids:
                raise CourseFolderError(f"{where}: unknown user '{key}' (add it to [[users]])")
            try:
                role = Role(_require(e, "role", where))
            except ValueError:
                raise CourseFolderError(f"{where}: unknown role '{e['role']}'") from None
            first.enrollments.append(
                Enrollment(self.user_ids[key], course.id, role, e.get("state", "active"))
            )
        for g in self.spec.tables("groups"):
            where = f"{t} [[groups]]"
            key = _require(g, "key", where)
            gid = ids("groups")
            unknown = [m for m in g.get("members", []) if m not in self.user_ids]
            if unknown:
                raise CourseFolderError(f"{where} '{key}': unknown members {unknown}")
            first.groups.append(
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
            first.file_trees.append(gtree)
        # the course row, its people and files first; then the content, a batch at a time
        self.out = out = Batches(self.library, course)
        out.begin(first)
        self.assignments = 0  # positions, counted over every batch
        for p in self.spec.tables("pages"):
            slug = p["slug"]
            rel = f"pages/{slug}.html"
            out.add(
                "pages",
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
                ),
            )
        for i, g in enumerate(self.spec.tables("assignment_groups")):
            out.add(
                "assignment_groups",
                AssignmentGroup(
                    id=self.group_ids[g["key"]],
                    name=_require(g, "name", f"{t} [[assignment_groups]] '{g['key']}'"),
                    position=g.get("position", i + 1),
                    group_weight=float(g.get("weight", 0)),
                    drop_lowest=g.get("drop_lowest", 0),
                    drop_highest=g.get("drop_highest", 0),
                ),
            )
        for r in self.spec.tables("rubrics"):
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
            out.add(
                "rubrics",
                Rubric(
                    id=self.rubric_ids[r["key"]],
                    title=_require(r, "title", f"{t} [[rubrics]] '{r['key']}'"),
                    points_possible=sum(cr.points for cr in crits),
                    criteria=tuple(crits),
                    free_form_criterion_comments=bool(r.get("free_form_comments", False)),
                ),
            )
        for a in self.spec.tables("assignments"):
            key = a["key"]
            where = f"assignment '{key}'"
            rel = f"assignments/{key}.html"
            self.assignments += 1
            out.add(
                "assignments",
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
                    position=self.assignments,
                    rubric_id=self._ref(self.rubric_ids, a.get("rubric"), where, "rubric"),
                    allowed_extensions=tuple(a.get("allowed_extensions", [])),
                    peer_reviews=bool(a.get("peer_reviews", False)),
                ),
            )
        for i, d in enumerate(self.spec.tables("discussions")):
            key = d["key"]
            where = f"discussion '{key}'"
            rel = f"discussions/{key}.html"
            tid = self.topic_ids[key]
            assignment_id = None
            if d.get("points") is not None and not d.get("announcement"):
                assignment_id = self._owned_assignment(
                    ids("assignments"),
                    d,
                    where,
                    d["points"],
                    "discussion_topic",
                    ("due_at",),
                    discussion_topic_id=tid,
                )
            out.add(
                "discussion_topics",
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
                ),
            )
        for q, base in self.quiz_tables():
            quiz = self.quiz(q, base, ids)
            out.add("quizzes", quiz)
        for i, e in enumerate(self.spec.tables("events")):
            where = f"{t} [[events]] #{i + 1}"
            out.add(
                "calendar_events",
                CalendarEvent(
                    id=ids("calendar_events"),
                    title=_require(e, "title", where),
                    description=self.rewrite(e.get("description", ""), "", where),
                    start_at=self.dt(e.get("start_at"), where),
                    end_at=self.dt(e.get("end_at"), where),
                    all_day=bool(e.get("all_day", False)),
                    location_name=e.get("location", ""),
                ),
            )
        out.flush()  # every item is written: a module item's title is read back from its row
        files = {f.id: f.display_name for f in tree.files}
        for i, m in enumerate(self.spec.tables("modules")):
            module = self.module(m, i, ids, files)
            out.add("modules", module)
        out.flush()
        return out

    def module(self, m: dict[str, Any], i: int, ids: _Ids, files: dict[int, str]) -> Module:
        mid = self.module_ids[m["key"]]
        where = f"{self.toml_path} module '{m['key']}'"
        items = []
        untitled: dict[ModuleItemType, set[int]] = {}
        for j, it in enumerate(m.get("items", [])):
            iwhere = f"{where} item #{j + 1}"
            kind = _typed(ITEM_TYPES, it, iwhere)
            content_id = None
            title = it.get("title", "")
            if kind in ITEM_REFS:
                refs = getattr(self, ITEM_REFS[kind])
                content_id = self._ref(refs, _require(it, "ref", iwhere), iwhere, kind.name.lower())
                if not title:
                    untitled.setdefault(kind, set()).add(content_id)
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
        titles = {ModuleItemType.FILE: files}  # the content's titles, for the items that give none
        for kind, content_ids in untitled.items():
            if kind in ITEM_CLASSES:
                titles[kind] = self.library.content.titles(ITEM_CLASSES[kind], content_ids)
        return Module(
            id=mid,
            name=_require(m, "name", where),
            position=i + 1,
            published=bool(m.get("published", True)),
            unlock_at=self.dt(m.get("unlock_at"), where),
            require_sequential_progress=bool(m.get("require_sequential_progress", False)),
            prerequisite_ids=tuple(
                self._ref(self.module_ids, k, where, "module") for k in m.get("prerequisites", [])
            ),
            items=tuple(
                it if it.title else replace(it, title=titles[it.content_type][it.content_id]) for it in items
            ),
        )

    def _owned_assignment(
        self,
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
        self.assignments += 1
        self.out.add(
            "assignments",
            Assignment(
                id=assignment_id,
                title=spec["title"],
                assignment_group_id=self._ref(self.group_ids, spec.get("group"), where, "assignment group"),
                points_possible=points,
                submission_types=(submission_type,),
                published=bool(spec.get("published", True)),
                position=self.assignments,
                **{name: self.dt(spec.get(name), where) for name in dates},
                **owner,
            ),
        )
        return assignment_id

    def _ref(self, table: _KeyIds | dict[str, int], key: str | None, where: str, what: str) -> int | None:
        if key is None:
            return None
        key = key.strip("/") if isinstance(key, str) else key
        if key not in table:
            raise CourseFolderError(f"{self.toml_path} {where}: no {what} '{key}' in this course")
        return table[key]

    def quiz(self, q: dict[str, Any], base: str, ids: _Ids) -> Quiz:
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
            qtype = _typed(QUESTION_TYPES, qq, f"{self.toml_path} {qwhere}")
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
    owned = created is None  # else the caller's transaction, and its clean-up, hold this one
    created = [] if created is None else created
    try:
        with library.transaction():  # users, course and all: rolled back on any failure
            reader_users = dict(user_ids or {})
            spec = read_course_toml(folder / "course.toml")
            spec_users = list(spec.tables("users"))
            if spec_users:
                reader_users.update(load_users(library, spec_users, str(folder / "course.toml")))
            for u in library.content.users():
                key = library.content.user_key(u.id)
                if key:
                    reader_users.setdefault(key, u.id)
            reader = _CourseReader(library, folder, spec, reader_users, created)
            written = reader.build(_Ids(library.content.next_ids()))
    except BaseException as e:
        if owned:  # no orphan blobs: the library is as it was
            library.blobs.remove(created)
        if isinstance(e, (UnicodeError, RecursionError)):
            raise CourseFolderError(f"{folder}: {type(e).__name__}: {e}"[:300]) from None
        raise
    return LoadReport(written.course.id, written.course.name, reader.warnings, written.counts)


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

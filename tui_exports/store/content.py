"""Course content in the library: users, courses, enrollments, groups and what ``select`` names."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, NamedTuple

from ..model import (
    Assignment,
    AssignmentGroup,
    CalendarEvent,
    ContextFile,
    ContextType,
    Course,
    DiscussionTopic,
    Enrollment,
    File,
    Folder,
    Group,
    Module,
    ModuleItem,
    Page,
    Quiz,
    QuizGroup,
    QuizQuestion,
    Rubric,
    User,
    walked_item,
)
from .blobs import BlobStore
from .db import Database, Table
from .rows import from_row, to_row


@dataclass
class ContextFiles:
    """The folders and files of one context (a course, a group or a user)."""

    context_type: ContextType
    context_id: int
    folders: list[Folder] = field(default_factory=list)
    files: list[File] = field(default_factory=list)


@dataclass
class CourseBundle:
    """Everything of one course, with final ids, ready to insert in one transaction: what an
    importer writes.

    Not a :class:`~tui_exports.model.CourseSnapshot` (what an exporter reads), on purpose: a
    bundle holds the whole course for nobody in particular, with its enrollments, groups and
    the file trees of every context (course, groups, users); a snapshot is one viewer's view
    of one context (what they may see, one file tree, no enrollments), plus the selection
    and the loader of whole items. Only the content lists (pages … modules) are alike, and
    they are kept under the same names so the store reads and writes them the same way.
    """

    course: Course
    enrollments: list[Enrollment] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    file_trees: list[ContextFiles] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    assignment_groups: list[AssignmentGroup] = field(default_factory=list)
    rubrics: list[Rubric] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    quizzes: list[Quiz] = field(default_factory=list)
    discussion_topics: list[DiscussionTopic] = field(default_factory=list)
    calendar_events: list[CalendarEvent] = field(default_factory=list)
    modules: list[Module] = field(default_factory=list)
    source: str = ""

    def counts(self) -> dict[str, int]:
        """How many items of each select type the course holds (its own files, not its groups')."""
        own = [t for t in self.file_trees if t.context_type is ContextType.COURSE]
        topics = self.discussion_topics
        return {
            "context_modules": len(self.modules),
            "content_tags": sum(len(m.items) for m in self.modules),
            "assignments": len(self.assignments),
            "quizzes": len(self.quizzes),
            "discussion_topics": sum(not t.is_announcement for t in topics),
            "wiki_pages": len(self.pages),
            "announcements": sum(t.is_announcement for t in topics),
            "calendar_events": len(self.calendar_events),
            "rubrics": len(self.rubrics),
            "folders": sum(len(t.folders) for t in own),
            "attachments": sum(len(t.files) for t in own),
        }


#: How much of a course ``course_content`` reads (see there).
CONTENT_DETAILS = ("full", "outline")
#: The HTML column of each content table: what ``outline`` leaves unread.
HTML_COLUMNS = {
    "pages": "body",
    "assignments": "description",
    "discussion_topics": "message",
    "calendar_events": "description",
    "quizzes": "description",
}
#: The content types an outline leaves HTML (and questions) out of, with their tables.
OUTLINED = {
    Page: "pages",
    Assignment: "assignments",
    DiscussionTopic: "discussion_topics",
    CalendarEvent: "calendar_events",
    Quiz: "quizzes",
}

#: Tables whose ids an importer allocates before inserting a bundle.
ID_TABLES = (
    "courses",
    "users",
    "enrollments",
    "groups",
    "folders",
    "files",
    "pages",
    "assignment_groups",
    "rubrics",
    "assignments",
    "quizzes",
    "quiz_groups",
    "quiz_questions",
    "discussion_topics",
    "calendar_events",
    "modules",
    "module_items",
)


#: The next id of the one file id space: course, group and user files, and export files.
FILE_ID_SQL = (
    "SELECT MAX(m) + 1 FROM (SELECT COALESCE(MAX(id), 0) AS m FROM files "
    "UNION ALL SELECT COALESCE(MAX(id), 0) FROM attachments)"
)


#: How each outlined list is walked: its table, the sort key (SQL expressions, no NULLs: a
#: keyset), and the model class.  ``ifnull`` keeps Canvas's order (NULLs first) in a keyset.
_MIN_INT = -(2**63)
WALKS: dict[str, tuple[str, tuple[str, ...], type]] = {
    "pages": ("pages", ("id",), Page),
    "assignments": ("assignments", (f"ifnull(position, {_MIN_INT})", "id"), Assignment),
    "quizzes": ("quizzes", ("id",), Quiz),
    "discussion_topics": ("discussion_topics", (f"ifnull(position, {_MIN_INT})", "id"), DiscussionTopic),
    "calendar_events": ("calendar_events", ("ifnull(start_at, '')", "id"), CalendarEvent),
    "modules": ("modules", (f"ifnull(position, {_MIN_INT})", "id"), Module),
}


class ItemRows(NamedTuple):
    """One whole item as its rows were read (:meth:`ContentStore.item_rows`), not yet made into
    its object: :meth:`build` makes it, wherever it is sent (an export's render process)."""

    cls: type
    columns: tuple[str, ...]
    row: tuple
    #: a quiz's groups and questions: their columns and rows
    groups: tuple[tuple[str, ...], list[tuple]] | None = None
    questions: tuple[tuple[str, ...], list[tuple]] | None = None

    def value(self, name: str) -> Any:
        """One column of the item's row, as read."""
        return self.row[self.columns.index(name)]

    def build(self, questions: bool = True) -> Any:
        """The item whole (``questions=False``: a quiz without its questions)."""
        row = dict(zip(self.columns, self.row, strict=True))
        if self.cls is not Quiz:
            return from_row(self.cls, row)

        def made(cls: type, part: tuple[tuple[str, ...], list[tuple]]) -> tuple:
            cols, rows = part
            return tuple(from_row(cls, dict(zip(cols, r, strict=True))) for r in rows)

        return from_row(
            Quiz,
            row,
            groups=made(QuizGroup, self.groups),
            questions=made(QuizQuestion, self.questions) if questions else (),
        )


class ModuleItems(Sequence):
    """A walked module's items, read from SQLite when first asked for: a walk that wants the
    modules alone (the catalogue's ids, the titles of prerequisites) reads none of its items.
    Once read, it is the tuple of them (equal to it, hashed as it)."""

    __slots__ = ("_read", "_items")

    def __init__(self, read: Callable[[], tuple[ModuleItem, ...]]):
        self._read: Callable[[], tuple[ModuleItem, ...]] | None = read
        self._items: tuple[ModuleItem, ...] = ()

    def _all(self) -> tuple[ModuleItem, ...]:
        if self._read is not None:
            self._items, self._read = self._read(), None
        return self._items

    def __getitem__(self, n):
        return self._all()[n]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[ModuleItem]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        return self._all() == (other._all() if isinstance(other, ModuleItems) else other)

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


class Outline:
    """One content list of a course (its pages, its quizzes…) in course order, read from SQLite
    a page of rows at a time each time it is walked: an export holds the few items it is
    writing, never the course.  Items are outlines (no HTML, no questions: ``detail``), or
    whole; a module comes with its items.

    ``keep`` (a snapshot's view of the course) gives each item as its user sees it, or None to
    leave it out.  It is a sequence only as far as exports need: it can be walked again,
    counted, tested for truth, and asked for one item by id (:meth:`get`) or by field
    (:meth:`find`).
    """

    PAGE = 500

    def __init__(
        self,
        store: ContentStore,
        name: str,
        course_id: int,
        detail: str = "outline",
        keep: Callable[[Any], Any] | None = None,
    ):
        self.store, self.name, self.course_id, self.detail, self.keep = store, name, course_id, detail, keep
        self.table, self.key, self.cls = WALKS[name]

    def where(self, keep: Callable[[Any], Any]) -> Outline:
        """The same list, each item passed through ``keep`` too (None: left out)."""
        first = self.keep
        both = keep if first is None else (lambda obj: None if (o := first(obj)) is None else keep(o))
        return Outline(self.store, self.name, self.course_id, self.detail, both)

    def page_sql(self, first: bool) -> str:
        """The query of one page of rows: the first, or the one after the key of the last row read
        (``?``: the course, then that key); indexes of migration 9 give the order unsorted."""
        cols, keys = self.store._columns(self.table, self.detail)[0], ", ".join(self.key)
        named = ", ".join(f"{k} AS _k{n}" for n, k in enumerate(self.key))
        after = "" if first else f" AND ({keys}) > ({', '.join('?' * len(self.key))})"
        return (
            f"SELECT {cols}, {named} FROM {self.table} WHERE course_id = ?{after} "
            f"ORDER BY {keys} LIMIT {self.PAGE}"
        )

    def __iter__(self) -> Iterator[Any]:
        last: list[Any] | None = None
        while True:
            rows = list(self.store.select(self.page_sql(last is None), [self.course_id, *(last or ())]))
            for row in rows:
                obj = self._kept(row)
                if obj is not None:
                    yield obj
            if len(rows) < self.PAGE:
                return
            last = [rows[-1][f"_k{n}"] for n in range(len(self.key))]

    def _kept(self, row: dict[str, Any]) -> Any:
        obj = self.store._outlined(self.cls, row, self.detail)
        return obj if self.keep is None else self.keep(obj)

    def __len__(self) -> int:
        if self.keep is None:
            sql = f"SELECT count(*) FROM {self.table} WHERE course_id = ?"
            return self.store.db.execute(sql, [self.course_id]).fetchone()[0]
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def __getitem__(self, n: int) -> Any:
        """The ``n``-th item (a walk to it), or a slice of them as a list."""
        return walked_item(self, n)

    def get(self, item_id: int | None) -> Any | None:
        """The item with this id, as the list holds it (None when it is not in the list)."""
        return self.find(id=item_id) if item_id is not None else None

    def id_of(self, **equal: Any) -> int | None:
        """:meth:`find`'s id: one indexed read of one column when the list keeps every item."""
        if self.keep is not None:
            found = self.find(**equal)
            return found.id if found is not None else None
        test = " AND ".join(f'"{k}" = ?' for k in equal)
        sql = f"SELECT id FROM {self.table} WHERE course_id = ? AND {test} ORDER BY {', '.join(self.key)} LIMIT 1"
        row = self.store.db.execute(sql, [self.course_id, *equal.values()]).fetchone()
        return row[0] if row else None

    def by_ids(self, ids: Iterable[int], detail: str | None = None, kept: bool = True) -> dict[int, Any]:
        """Id → item of those of ``ids`` the list holds, as it holds them (read 500 at a time), at
        its detail or at ``detail`` (``full``: with the HTML and a quiz's questions); ``kept=False``:
        those of the course, whether ``keep`` keeps them or not."""
        ids, found = list(ids), {}
        detail = detail or self.detail
        cols = self.store._columns(self.table, detail)[0]
        for n in range(0, len(ids), self.PAGE):
            part = ids[n : n + self.PAGE]
            sql = (
                f"SELECT {cols} FROM {self.table} WHERE course_id = ? AND id IN ({','.join('?' * len(part))})"
            )
            for row in self.store.select(sql, [self.course_id, *part]):
                obj = self.store._outlined(self.cls, row, detail)
                obj = obj if self.keep is None or not kept else self.keep(obj)
                if obj is not None:
                    found[obj.id] = obj
        return found

    def html_lengths(self, ids: Iterable[int]) -> dict[int, int]:
        """Id → how many characters the HTML of each of these items holds (a page's body…), read
        without the HTML; -1 when it holds a NUL (SQLite's ``length`` stops there: read it whole)."""
        html = HTML_COLUMNS.get(self.table)
        ids, found = list(ids), {}
        if html is None:
            return found
        length = f'CASE WHEN "{html}" IS NULL THEN 0 WHEN instr("{html}", char(0)) THEN -1 ELSE length("{html}") END'
        for n in range(0, len(ids), self.PAGE):
            part = ids[n : n + self.PAGE]
            sql = (
                f"SELECT id, {length} FROM {self.table} "
                f"WHERE course_id = ? AND id IN ({','.join('?' * len(part))})"
            )
            found.update(self.store.db.execute(sql, [self.course_id, *part]).fetchall())
        return found

    def values(self, *names: str) -> Iterator[tuple]:
        """Each item's fields ``names`` (plain columns: text, numbers) as a tuple, in list order:
        one read of those columns when the list keeps every item, no object made."""
        if self.keep is not None:
            for obj in self:
                yield tuple(getattr(obj, n) for n in names)
            return
        cols = ", ".join(f'"{n}"' for n in names)
        sql = f"SELECT {cols} FROM {self.table} WHERE course_id = ? ORDER BY {', '.join(self.key)}"
        yield from self.store.db.execute(sql, [self.course_id])

    def find(self, **equal: Any) -> Any | None:
        """The first item whose columns equal ``equal`` (``find(url="welcome")``)."""
        cols = self.store._columns(self.table, self.detail)[0]
        test = " AND ".join(f'"{k}" = ?' for k in equal)
        sql = f"SELECT {cols} FROM {self.table} WHERE course_id = ? AND {test} ORDER BY {', '.join(self.key)}"
        for row in self.store.select(sql, [self.course_id, *equal.values()]):
            obj = self._kept(row)
            if obj is not None:
                return obj
        return None


class ContentStore(Table):
    def __init__(self, database: Database, blobs: BlobStore):
        super().__init__(database)
        self.blobs = blobs
        self._outline_columns: dict[str, str] = {}

    def select(self, sql: str, params: Iterable[Any] = ()) -> Iterator[dict[str, Any]]:
        """The rows of a ``SELECT``, each as a dict, read straight from this thread's connection:
        sqlite-utils' ``query`` guards every statement with a savepoint (three statements for
        each read: a one-row read took ~6 times as long, and an export reads one row per item)."""
        cursor = self.db.execute(sql, list(params))
        keys = [d[0] for d in cursor.description]
        return (dict(zip(keys, row, strict=True)) for row in cursor)

    # ------------------------------------------------------------------ writes
    def next_ids(self) -> dict[str, int]:
        """The next free id of every content table (call inside a transaction). Files count
        above export files too: the two are one id space, as Canvas's Attachments are."""
        ids = {
            t: (self.db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {t}").fetchone()[0]) for t in ID_TABLES
        }
        ids["files"] = self.db.execute(FILE_ID_SQL).fetchone()[0]
        return ids

    def insert_user(self, user: User, key: str | None = None) -> None:
        self.db["users"].insert(to_row(user, key=key))

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def insert_course(self, bundle: CourseBundle) -> int:
        """The course row, its people and groups, then everything else of ``bundle``."""
        db = self.db
        c = bundle.course
        db["courses"].insert(to_row(c, source=bundle.source))
        if bundle.enrollments:
            db["enrollments"].insert_all(to_row(e) for e in bundle.enrollments)
        for g in bundle.groups:
            db["groups"].insert({"id": g.id, "course_id": c.id, "name": g.name})
            for uid in g.member_ids:
                db["group_memberships"].insert({"group_id": g.id, "user_id": uid})
        return self.insert_content(bundle)

    def insert_content(self, bundle: CourseBundle) -> int:
        """The content lists of ``bundle`` (files … modules) into its course, already inserted: an
        importer writes a large course in batches, holding only one batch of bodies at a time."""
        db = self.db
        c = bundle.course
        for tree in bundle.file_trees:
            ctx = {"context_type": tree.context_type.value, "context_id": tree.context_id}
            for f in tree.folders:
                db["folders"].insert(to_row(f, **ctx))
            for f in tree.files:
                row = to_row(f, **ctx)
                row.pop("blob_path", None)
                db["files"].insert(row)
        course_fk = {"course_id": c.id}
        for table, objs in (
            ("pages", bundle.pages),
            ("assignment_groups", bundle.assignment_groups),
            ("assignments", bundle.assignments),
            ("discussion_topics", bundle.discussion_topics),
            ("calendar_events", bundle.calendar_events),
        ):
            if objs:
                db[table].insert_all(to_row(o, **course_fk) for o in objs)
        for r in bundle.rubrics:
            row = to_row(r, **course_fk)
            db["rubrics"].insert(row)
        for q in bundle.quizzes:
            row = to_row(replace(q, groups=(), questions=()), **course_fk)  # rows of their own
            row.pop("groups"), row.pop("questions")
            db["quizzes"].insert(row)
            if q.groups:
                db["quiz_groups"].insert_all(to_row(grp, quiz_id=q.id) for grp in q.groups)
            if q.questions:
                db["quiz_questions"].insert_all(to_row(qq, quiz_id=q.id) for qq in q.questions)
        for m in bundle.modules:
            row = to_row(replace(m, items=()), **course_fk)  # its items are rows of their own
            row.pop("items")
            db["modules"].insert(row)
            if m.items:
                db["module_items"].insert_all(to_row(it) for it in m.items)
        return c.id

    def enroll(self, enrollment: Enrollment) -> bool:
        """Add an enrollment unless the user already has one in that course; True when added."""
        if self.course_enrollments(enrollment.user_id, enrollment.course_id):
            return False
        self.db["enrollments"].insert(to_row(enrollment))
        return True

    def delete_course(self, course_id: int) -> None:
        db = self.db
        db.execute("DELETE FROM files WHERE context_type = 'Course' AND context_id = ?", [course_id])
        db.execute("DELETE FROM folders WHERE context_type = 'Course' AND context_id = ?", [course_id])
        db.execute("DELETE FROM courses WHERE id = ?", [course_id])

    def blob_refs(self) -> dict[str, list[int]]:
        """Every blob a file row names: SHA-256 → the ids of the files with those bytes."""
        refs: dict[str, list[int]] = {}
        for r in self.select("SELECT id, sha256 FROM files ORDER BY id"):
            refs.setdefault(r["sha256"], []).append(r["id"])
        return refs

    # ------------------------------------------------------------------ people
    def user(self, user_id: int) -> User | None:
        row = self._one("SELECT * FROM users WHERE id = ?", user_id)
        return from_row(User, row) if row else None

    def user_by_key(self, key: str) -> User | None:
        row = self._one("SELECT * FROM users WHERE key = ? OR login_id = ?", key, key)
        return from_row(User, row) if row else None

    def users(self) -> list[User]:
        return [from_row(User, r) for r in self.select("SELECT * FROM users ORDER BY id")]

    def user_key(self, user_id: int) -> str | None:
        row = self._one("SELECT key FROM users WHERE id = ?", user_id)
        return row["key"] if row else None

    # ------------------------------------------------------------------ courses
    def course(self, course_id: int) -> Course | None:
        row = self._one("SELECT * FROM courses WHERE id = ?", course_id)
        return from_row(Course, row) if row else None

    def courses(self) -> list[Course]:
        """Every course of the library, in id order (a user's are ``courses_of_user``)."""
        return [from_row(Course, r) for r in self.select("SELECT * FROM courses ORDER BY id")]

    def course_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM courses").fetchone()[0]

    def courses_of_user(
        self, user_id: int, ids: Iterable[int] | None = None, limit: int | None = None
    ) -> list[tuple[Course, list[Enrollment]]]:
        """A user's courses in id order with their enrollments in each: the first ``limit``, or
        those of ``ids`` (what a long course list shows, never all 100,000 when 300 are shown)."""
        where, params = "e.user_id = ?", [user_id]
        if ids is not None:
            ids = list(ids)
            where += f" AND e.course_id IN ({','.join('?' * len(ids))})"
            params += ids
        page = "" if limit is None else f" LIMIT {int(limit)}"
        chosen = f"SELECT DISTINCT e.course_id FROM enrollments e WHERE {where} ORDER BY e.course_id{page}"
        rows = self.select(f"SELECT * FROM courses WHERE id IN ({chosen}) ORDER BY id", params)
        courses = [from_row(Course, r) for r in rows]
        mine: dict[int, list[Enrollment]] = {}
        for r in self.select(
            f"SELECT * FROM enrollments WHERE user_id = ? AND course_id IN ({chosen}) ORDER BY id",
            [user_id, *params],
        ):
            e = from_row(Enrollment, r)
            mine.setdefault(e.course_id, []).append(e)
        return [(c, mine[c.id]) for c in courses]

    def course_count_of_user(self, user_id: int) -> int:
        return self.db.execute(
            "SELECT COUNT(DISTINCT course_id) FROM enrollments WHERE user_id = ?", [user_id]
        ).fetchone()[0]

    def course_words_of_user(self, user_id: int) -> Iterator[tuple[int, str, str, str, str]]:
        """(id, course code, name, term, role) of each of a user's enrollments, in course id
        order: what a course filter searches, read as plain tuples (no objects per course)."""
        yield from self.db.execute(
            "SELECT c.id, c.course_code, c.name, COALESCE(c.term, ''), e.role FROM enrollments e "
            "JOIN courses c ON c.id = e.course_id WHERE e.user_id = ? ORDER BY c.id",
            [user_id],
        )

    def enrollments_in_course(self, course_id: int) -> list[Enrollment]:
        rows = self.select("SELECT * FROM enrollments WHERE course_id = ? ORDER BY id", [course_id])
        return [from_row(Enrollment, r) for r in rows]

    def course_enrollments(self, user_id: int, course_id: int) -> list[Enrollment]:
        rows = self.select(
            "SELECT * FROM enrollments WHERE user_id = ? AND course_id = ?", [user_id, course_id]
        )
        return [from_row(Enrollment, r) for r in rows]

    # ------------------------------------------------------------------ groups
    def group(self, group_id: int) -> Group | None:
        row = self._one("SELECT * FROM groups WHERE id = ?", group_id)
        if not row:
            return None
        members = tuple(
            r[0]
            for r in self.db.execute(
                "SELECT user_id FROM group_memberships WHERE group_id = ? ORDER BY user_id",
                [group_id],
            )
        )
        return from_row(Group, row, member_ids=members)

    def groups_of_course(self, course_id: int) -> list[Group]:
        ids = [r[0] for r in self.db.execute("SELECT id FROM groups WHERE course_id = ?", [course_id])]
        return [g for g in (self.group(i) for i in ids) if g]

    # ------------------------------------------------------------------ content
    def context_files(self, context_type: ContextType, context_id: int) -> ContextFiles:
        params = [context_type.value, context_id]
        folders = [
            from_row(Folder, r)
            for r in self.select(
                "SELECT * FROM folders WHERE context_type = ? AND context_id = ? ORDER BY full_name, id",
                params,
            )
        ]
        files = []
        for r in self.select(
            "SELECT * FROM files WHERE context_type = ? AND context_id = ? ORDER BY id", params
        ):
            path = self.blobs.path_for(r["sha256"])
            files.append(from_row(File, r, blob_path=path if path.is_file() else None))
        return ContextFiles(context_type, context_id, folders, files)

    def file(self, file_id: int) -> ContextFile | None:
        """A course, group or user file by id, whatever its context."""
        r = self._one("SELECT * FROM files WHERE id = ?", file_id)
        if r is None:
            return None
        path = self.blobs.path_for(r["sha256"])
        f = from_row(File, r, blob_path=path if path.is_file() else None)
        return ContextFile(f, ContextType(r["context_type"]), r["context_id"])

    def _columns(self, table: str, detail: str) -> tuple[str, dict[str, str]]:
        """The columns to read at this detail, and the HTML fields left empty (``body=""``…)."""
        html = HTML_COLUMNS.get(table)
        if detail == "full" or html is None:
            return "*", {}
        cols = self._outline_columns.get(table)
        if cols is None:  # read once: the schema does not change while the library is open
            cols = ", ".join(f'"{c}"' for c in self.db[table].columns_dict if c != html)
            self._outline_columns[table] = cols
        return cols, {html: ""}

    def item(self, cls: type, item_id: int) -> Any | None:
        """One page, assignment, topic, event or quiz whole (its HTML, a quiz's questions), or
        None when it is gone; what an outline left out, read when an export writes the item."""
        rows = self.item_rows(cls, item_id)
        return rows.build() if rows is not None else None

    def item_rows(self, cls: type, item_id: int) -> ItemRows | None:
        """:meth:`item`'s rows, read but not made into the item (None when it is gone)."""
        cursor = self.db.execute(f"SELECT * FROM {OUTLINED[cls]} WHERE id = ?", [item_id])
        row = cursor.fetchone()
        if row is None:
            return None
        columns = tuple(d[0] for d in cursor.description)
        if cls is not Quiz:
            return ItemRows(cls, columns, row)
        return ItemRows(cls, columns, row, *self._quiz_parts(item_id))

    def _quiz_parts(self, quiz_id: int) -> list[tuple[tuple[str, ...], list[tuple]]]:
        """A quiz's groups and its questions: the columns and the rows of each, in quiz order."""
        parts = []
        for table in ("quiz_groups", "quiz_questions"):
            cursor = self.db.execute(
                f"SELECT * FROM {table} WHERE quiz_id = ? ORDER BY position, id", [quiz_id]
            )
            parts.append((tuple(d[0] for d in cursor.description), cursor.fetchall()))
        return parts

    def titles(self, cls: type, item_ids: Iterable[int]) -> dict[int, str]:
        """Id → title of these pages, assignments, topics, events or quizzes (those that exist)."""
        ids, found = list(item_ids), {}
        for n in range(0, len(ids), 500):
            part = ids[n : n + 500]
            sql = f"SELECT id, title FROM {OUTLINED[cls]} WHERE id IN ({','.join('?' * len(part))})"
            found.update(self.db.execute(sql, part).fetchall())
        return found

    def _whole_quiz(self, row: dict[str, Any]) -> Quiz:
        return ItemRows(Quiz, tuple(row), tuple(row.values()), *self._quiz_parts(row["id"])).build()

    def _outlined(self, cls: type, row: dict[str, Any], detail: str) -> Any:
        """One item of a content list, as ``detail`` reads it (a module with its items)."""
        if cls is Module:
            return from_row(Module, row, items=ModuleItems(partial(self._module_items, row["id"])))
        if cls is Quiz:
            if detail == "full":
                return self._whole_quiz(row)
            return from_row(Quiz, row, groups=(), questions=(), **self._columns("quizzes", detail)[1])
        return from_row(cls, row, **self._columns(self.table_of(cls), detail)[1])

    def _module_items(self, module_id: int) -> tuple[ModuleItem, ...]:
        sql = "SELECT * FROM module_items WHERE module_id = ? ORDER BY position, id"
        return tuple(from_row(ModuleItem, it) for it in self.select(sql, [module_id]))

    @staticmethod
    def table_of(cls: type) -> str:
        return next(table for table, _, c in WALKS.values() if c is cls)

    def course_content(self, course_id: int, detail: str = "full") -> dict[str, list[Any]]:
        """Every content list of a course, unfiltered, keyed like CourseSnapshot's fields.

        ``detail`` says how much is read: ``full``, or ``outline`` (no HTML and no quiz
        questions: ids, titles, dates, modules, folders and files).  What is not read is left
        empty; :meth:`item` reads one whole object when it is needed, so an export holds only
        the bodies it is writing.
        """
        if detail not in CONTENT_DETAILS:
            raise ValueError(f"detail must be one of {CONTENT_DETAILS}")
        q = self.select
        cid = [course_id]
        tree = self.context_files(ContextType.COURSE, course_id)
        quizzes = []
        cols, empty = self._columns("quizzes", detail)
        for r in q(f"SELECT {cols} FROM quizzes WHERE course_id = ? ORDER BY id", cid):
            if detail == "outline":
                quizzes.append(from_row(Quiz, r, groups=(), questions=(), **empty))
                continue
            quizzes.append(self._whole_quiz(r))
        modules = [
            from_row(Module, r, items=self._module_items(r["id"]))
            for r in q("SELECT * FROM modules WHERE course_id = ? ORDER BY position, id", cid)
        ]
        rubrics = [
            from_row(Rubric, r) for r in q("SELECT * FROM rubrics WHERE course_id = ? ORDER BY id", cid)
        ]

        def rows(cls: type, table: str, order: str) -> list[Any]:
            cols, empty = self._columns(table, detail)
            return [
                from_row(cls, r, **empty)
                for r in q(f"SELECT {cols} FROM {table} WHERE course_id = ? ORDER BY {order}", cid)
            ]

        return {
            "folders": tree.folders,
            "files": tree.files,
            "pages": rows(Page, "pages", "id"),
            "assignment_groups": rows(AssignmentGroup, "assignment_groups", "position, id"),
            "assignments": rows(Assignment, "assignments", "position, id"),
            "rubrics": rubrics,
            "quizzes": quizzes,
            "discussion_topics": rows(DiscussionTopic, "discussion_topics", "position, id"),
            "calendar_events": rows(CalendarEvent, "calendar_events", "start_at, id"),
            "modules": modules,
        }

    def course_walk(self, course_id: int) -> dict[str, Any]:
        """:meth:`course_content` at ``outline`` detail, for an export: folders, files, assignment
        groups and rubrics as lists, and the long lists (pages, quizzes, modules…) as
        :class:`Outline`, read from SQLite each time they are walked instead of held."""
        tree = self.context_files(ContextType.COURSE, course_id)
        q, cid = self.select, [course_id]
        return {
            "folders": tree.folders,
            "files": tree.files,
            "assignment_groups": [
                from_row(AssignmentGroup, r)
                for r in q("SELECT * FROM assignment_groups WHERE course_id = ? ORDER BY position, id", cid)
            ],
            "rubrics": [
                from_row(Rubric, r) for r in q("SELECT * FROM rubrics WHERE course_id = ? ORDER BY id", cid)
            ],
            **{name: Outline(self, name, course_id) for name in WALKS},
        }

    def _one(self, sql: str, *params: Any) -> dict[str, Any] | None:
        return next(iter(self.select(sql, list(params))), None)

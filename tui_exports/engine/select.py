"""The ``select`` hash of a content export: normalise, validate, then close over dependencies.

Canvas (spec §1.5) aliases a few keys, accepts ids as arrays or as hashes keyed by
asset string, and silently exports nothing for keys or ids it does not know.  We
accept the same shapes but are strict: every problem is collected and reported as
one 400 naming each offending key or id, before anything is queued.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exporters.common.ids import ASSET_PREFIX, mig_id
from ..exporters.common.links import iter_links
from ..model import SELECT_TYPES, CourseSnapshot, ExportType, IdSet, ModuleItemType, Selection
from ..vocab import CANVAS_ONLY_TYPES, CONTENT_FORMATS, FORMAT_BY_NAME, SELECT_NAMES, SELECT_VOCAB
from .errors import BadRequest

#: What each export type can carry (None: everything), and why another type is refused.
TYPES_FOR_EXPORT: dict[ExportType, tuple[str, ...] | None] = {
    ExportType(f.name): f.select_types for f in CONTENT_FORMATS
}
EXPORT_WORDS = {ExportType(f.name): f.refusal for f in CONTENT_FORMATS if f.select_types is not None}

#: How messages name one item of each type.
TYPE_WORDS = {t.key: t.word for t in SELECT_VOCAB}

TRUE_WORDS = {"1", "true", "t", "yes", "y", "on"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "off", ""}
_MIG = re.compile(r"^[ig][0-9a-f]{32}$")


def truthy(value: Any) -> bool | None:
    """Canvas's value_to_boolean; None when the value is neither true nor false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        v = value.strip().lower()
        if v in TRUE_WORDS:
            return True
        if v in FALSE_WORDS:
            return False
    return None


@dataclass(frozen=True)
class SelectRequest:
    """A ``select`` after normalisation: ids per type, ``all_<type>`` flags, and switches.

    Ids are ints, or migration ids (``i<md5>``) still to be matched against the course.
    """

    ids: dict[str, tuple[int | str, ...]] = field(default_factory=dict)
    all_types: frozenset[str] = frozenset()
    everything: bool = False
    syllabus_body: bool = False
    course_settings: bool = False

    def to_json(self) -> dict[str, Any]:
        """The canonical form stored with the export and shown as the API would take it."""
        out: dict[str, Any] = {}
        if self.everything:
            out["everything"] = True
        for t in sorted(self.all_types):
            out[f"all_{t}"] = True
        if self.syllabus_body:
            out["all_syllabus_body"] = True
        if self.course_settings:
            out["all_course_settings"] = True
        for t, ids in self.ids.items():
            if ids:
                out[t] = list(ids)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SelectRequest:
        """Parse a ``select`` as the API would take it (any export type)."""
        return parse_select(data, ExportType.COMMON_CARTRIDGE, check_types=False)

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> SelectRequest:
        """The checked request as :meth:`to_json` stored it with the export, rebuilt as it
        was: not parsed, aliased or checked again when the job runs."""
        flags = {k for k, v in data.items() if v is True}
        return cls(
            ids={t: tuple(v) for t, v in data.items() if isinstance(v, list)},
            all_types=frozenset(k[4:] for k in flags if k.startswith("all_") and k[4:] in SELECT_TYPES),
            everything="everything" in flags,
            syllabus_body="all_syllabus_body" in flags,
            course_settings="all_course_settings" in flags,
        )

    @property
    def is_selective(self) -> bool:
        return not self.everything


def default_select(export_type: ExportType) -> SelectRequest:
    """Canvas's defaults when no ``select`` is given (spec §1.5 step 3)."""
    types = FORMAT_BY_NAME[export_type.value].default_select
    if types is None:
        return SelectRequest(everything=True)
    return SelectRequest(all_types=frozenset(types))


def _canonical_type(key: str) -> str:
    return SELECT_NAMES.get(key, key)


#: the largest id the library can store (SQLite's INTEGER); ids are ASCII digits up to it
MAX_ID = 2**63 - 1


def _digits_id(v: str) -> int | None:
    if v.isascii() and v.isdigit() and len(v) <= 19 and 0 < int(v) <= MAX_ID:
        return int(v)
    return None


def _parse_id(value: Any, select_type: str) -> int | str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if isinstance(value, float) and value.is_integer() and 0 < value <= MAX_ID:
        return int(value)
    if not isinstance(value, str):
        return None
    v = value.strip()
    if _digits_id(v) is not None:
        return _digits_id(v)
    prefix = ASSET_PREFIX.get(select_type)
    if prefix and v.startswith(prefix + "_") and _digits_id(v[len(prefix) + 1 :]) is not None:
        return _digits_id(v[len(prefix) + 1 :])
    if _MIG.match(v):
        return v
    return None


def parse_select(raw: Any, export_type: ExportType, *, check_types: bool = True) -> SelectRequest:
    """Normalise a ``select`` hash; raise one BadRequest listing every problem."""
    request, errors = read_select(raw, export_type, check_types=check_types)
    if errors:
        raise BadRequest("invalid select", errors)
    return request


def read_select(
    raw: Any, export_type: ExportType, *, check_types: bool = True
) -> tuple[SelectRequest, list[dict[str, str]]]:
    """The ``select`` as far as it reads, and every problem found: the ids of the keys that
    read can still be checked against the course, so one answer names every problem."""
    if raw is None:
        return default_select(export_type), []
    if not isinstance(raw, Mapping):
        return SelectRequest(), [{"field": "select", "message": "must be a hash such as select[pages][]=1"}]
    if not raw:
        return default_select(export_type), []
    errors: list[dict[str, str]] = []
    ids: dict[str, list[int | str]] = {}
    all_types: set[str] = set()
    flags = {"everything": False, "syllabus_body": False, "course_settings": False}
    allowed = TYPES_FOR_EXPORT[export_type] if check_types else None

    def type_allowed(t: str, fieldname: str) -> bool:
        if allowed is not None and t not in allowed:
            errors.append({"field": fieldname, "message": f"{EXPORT_WORDS[export_type]}; remove {fieldname}"})
            return False
        return True

    for key, value in raw.items():
        fieldname = f"select[{key}]"
        if key in ("everything",) or key in (
            "syllabus_body",
            "all_syllabus_body",
            "course_settings",
            "all_course_settings",
        ):
            flag = truthy(value)
            if flag is None:
                errors.append({"field": fieldname, "message": f"expected true or false, got {value!r}"})
                continue
            name = "everything" if key == "everything" else key.removeprefix("all_")
            if flag and name != "everything" and allowed is not None:
                type_allowed(name, fieldname)
                continue
            flags[name] = flags[name] or flag
            continue
        if key.startswith("all_"):
            t = _canonical_type(key[4:])
            if t not in SELECT_TYPES and t not in CANVAS_ONLY_TYPES:
                errors.append({"field": fieldname, "message": f"unknown select type '{key[4:]}'"})
                continue
            flag = truthy(value)
            if flag is None:
                errors.append({"field": fieldname, "message": f"expected true or false, got {value!r}"})
                continue
            if flag and t in SELECT_TYPES and type_allowed(t, fieldname):
                all_types.add(t)
            continue
        t = _canonical_type(key)
        if t in CANVAS_ONLY_TYPES:
            errors.append(
                {
                    "field": fieldname,
                    "message": f"this library has no {t.replace('_', ' ')}; nothing to select",
                }
            )
            continue
        if t not in SELECT_TYPES:
            known = ", ".join(sorted(SELECT_NAMES))
            errors.append(
                {
                    "field": fieldname,
                    "message": f"unknown select key '{key}' (known: {known}, all_<type>, everything)",
                }
            )
            continue
        if isinstance(value, Mapping):
            candidates = [k for k, v in value.items() if truthy(v)]
        elif isinstance(value, (list, tuple, set, frozenset)):
            candidates = list(value)
        elif (
            isinstance(value, (str, int)) and not isinstance(value, bool) and _parse_id(value, t) is not None
        ):
            candidates = [value]
        else:
            errors.append({"field": fieldname, "message": f"expected a list of ids, got {value!r}"})
            continue
        if not type_allowed(t, fieldname):
            continue
        bucket = ids.setdefault(t, [])
        listed = isinstance(value, (list, tuple, set, frozenset))
        for c in candidates:
            parsed = _parse_id(c, t)
            if parsed is None:
                errors.append({"field": f"{fieldname}[]", "message": f"{c!r} is not a {TYPE_WORDS[t]} id"})
            elif listed and isinstance(c, str) and _digits_id(c.strip()) is None:
                # Canvas's process_copy_params prefixes every listed id itself: wiki_page_2 in a list
                # becomes wiki_page_wiki_page_2 and selects nothing, silently
                plain = f"send {parsed}, or " if isinstance(parsed, int) else "send "
                errors.append(
                    {
                        "field": f"{fieldname}[]",
                        "message": f"{c!r} in a list: Canvas reads listed entries as plain ids and would "
                        f"select nothing; {plain}{fieldname}[{c.strip()}]=1",
                    }
                )
            elif parsed not in bucket:
                bucket.append(parsed)
    if not errors and not any(ids.values()) and not all_types and not any(flags.values()):
        errors.append(
            {
                "field": "select",
                "message": "names nothing to export; pick at least one item, or leave select out",
            }
        )
    request = SelectRequest(
        ids={t: tuple(v) for t, v in ids.items()},
        all_types=frozenset(all_types),
        everything=flags["everything"],
        syllabus_body=flags["syllabus_body"],
        course_settings=flags["course_settings"],
    )
    return request, errors


# ------------------------------------------------------------------ the catalogue


#: How each select type is read from a snapshot: its objects (what the snapshot's user can
#: see, in course order), and the row a picker or ``content_list`` shows for one of them.
#: (Kept as written, one entry per type: it reads as the table it is.)
LOADERS: dict[str, tuple[Callable[[CourseSnapshot], Iterable[Any]], Callable[[CourseSnapshot, Any], dict[str, Any]]]] = {
    "context_modules": (lambda s: s.modules, lambda s, m: {"title": m.name}),
    "content_tags": (lambda s: (i for m in s.modules for i in m.items),
                     lambda s, i: {"title": i.title, "module_id": i.module_id, "content_type": i.content_type.value,
                                   "indent": i.indent}),
    "assignments": (lambda s: s.assignments, lambda s, a: {"title": a.title}),
    "quizzes": (lambda s: s.quizzes, lambda s, q: {"title": q.title}),
    "discussion_topics": (lambda s: (t for t in s.discussion_topics if not t.is_announcement),
                          lambda s, t: {"title": t.title}),
    "wiki_pages": (lambda s: s.pages, lambda s, p: {"title": p.title}),
    "announcements": (lambda s: (t for t in s.discussion_topics if t.is_announcement), lambda s, t: {"title": t.title}),
    "calendar_events": (lambda s: s.calendar_events, lambda s, e: {"title": e.title}),
    "rubrics": (lambda s: s.rubrics, lambda s, r: {"title": r.title}),
    "folders": (lambda s: s.folders, lambda s, f: {"title": f.name, "path": f.full_name, "parent_id": f.parent_id}),
    "attachments": (lambda s: s.files, lambda s, f: {"title": f.display_name, "folder_id": f.folder_id, "size": f.size,
                                                     "path": s.file_path(f)}),
}  # fmt: skip


class _OnDemand(dict):
    """A dict whose values are made on first use (a course's lists are walked only when needed)."""

    def __init__(self, make: Callable[[str], Any]):
        super().__init__()
        self.make = make

    def __missing__(self, key: str) -> Any:
        value = self[key] = self.make(key)
        return value


def visible_ids(snapshot: CourseSnapshot, t: str) -> Iterator[int]:
    """The ids of type ``t`` that the snapshot's user can see, in course order, as walked."""
    return (o.id for o in LOADERS[t][0](snapshot))


def catalogue(snapshot: CourseSnapshot) -> dict[str, list[int]]:
    """Every selectable id per type that the snapshot's user can see, in course order; a type's
    list is walked when it is first read (a zip export reads only its folders and files)."""
    return _OnDemand(lambda t: list(visible_ids(snapshot, t)))


def listing(snapshot: CourseSnapshot, types: Iterable[str] = SELECT_TYPES) -> dict[str, list[dict[str, Any]]]:
    """The selectable items per type as a picker lists them: ``{type: [{id, title, …}]}``."""
    out = {}
    for t in types:
        objects, row = LOADERS[t]
        out[t] = [{"id": o.id, **row(snapshot, o)} for o in objects(snapshot)]
    return out


def check_ids(request: SelectRequest, snapshot: CourseSnapshot, where: str = "this course") -> SelectRequest:
    """Match every id against what the user can see; migration ids become numbers."""
    cat = catalogue(snapshot)
    errors = []
    resolved: dict[str, tuple[int, ...]] = {}
    for t, wanted in request.ids.items():
        have = set(cat[t])
        migs: dict[str, int] | None = None
        out: list[int] = []
        for w in wanted:
            if isinstance(w, str):
                if migs is None:
                    migs = {mig_id(t, i): i for i in have}
                    if t == "discussion_topics":  # announcements are discussion topics too
                        migs.update({mig_id(t, i): i for i in cat["announcements"]})
                if w in migs:
                    out.append(migs[w])
                    continue
            elif w in have or (t == "discussion_topics" and w in cat["announcements"]):
                out.append(w)
                continue
            errors.append(
                {
                    "field": f"select[{t}][]",
                    "message": f"no {TYPE_WORDS[t]} {w} in {where} (or not visible to you)",
                }
            )
        resolved[t] = tuple(dict.fromkeys(out))
    if errors:
        raise BadRequest("invalid select", errors)
    return SelectRequest(
        resolved, request.all_types, request.everything, request.syllabus_body, request.course_settings
    )


# ------------------------------------------------------------------ closure


def _linked_file_ids(html: str, course_id: int, host: str) -> Iterable[int]:
    for link in iter_links(html, course_id, host):
        if link.kind == "file" and link.target_id is not None:
            yield link.target_id


def resolve(request: SelectRequest, snapshot: CourseSnapshot, *, linked_files: bool = True) -> Selection:
    """The concrete ids an export carries, after ``all_*``, ``everything`` and closure.

    Closure, in Canvas's order (spec §1.5): a module brings its items, an item its
    content, an assignment its rubric, a folder everything below it, and selected
    HTML the files it links to (unless ``linked_files`` is false: an exporter that finds
    those itself need not have every body read once more).  Only what the snapshot's
    user can see is ever added.
    """
    if request.everything and not request.ids:  # all the user can see: closed already
        return Selection(
            everything=True,
            syllabus_body=True,
            course_settings=True,
            ids={t: IdSet(visible_ids(snapshot, t)) for t in SELECT_TYPES},
        )
    cat = catalogue(snapshot)  # each type walked only if something below needs it
    sel: dict[str, set[int]] = {t: set() for t in SELECT_TYPES}
    if request.everything:
        for t in SELECT_TYPES:
            sel[t] |= set(cat[t])
    for t in request.all_types:
        sel[t] |= set(cat[t])
    if "attachments" in request.all_types:  # "all files" means every folder too, empty ones included
        sel["folders"] |= set(cat["folders"])
    for t, ids in request.ids.items():
        sel[t] |= {i for i in ids if isinstance(i, int)}
    # a selected id of an announcement under discussion_topics counts as an announcement too
    if sel["discussion_topics"]:
        sel["announcements"] |= sel["discussion_topics"] & set(cat["announcements"])

    # modules → items → content
    item_kind = {
        ModuleItemType.PAGE: "wiki_pages",
        ModuleItemType.ASSIGNMENT: "assignments",
        ModuleItemType.QUIZ: "quizzes",
        ModuleItemType.DISCUSSION: "discussion_topics",
        ModuleItemType.FILE: "attachments",
    }
    visible = _OnDemand(
        lambda t: set(cat[t]) | (set(cat["announcements"]) if t == "discussion_topics" else set())
    )
    if sel["context_modules"] or sel["content_tags"]:
        for m in snapshot.modules:
            for item in m.items:
                if m.id in sel["context_modules"]:
                    sel["content_tags"].add(item.id)
                if item.id in sel["content_tags"]:
                    kind = item_kind.get(item.content_type)
                    if kind and item.content_id in visible[kind]:
                        sel[kind].add(item.content_id)
    if sel["discussion_topics"]:
        news = set(cat["announcements"])
        sel["announcements"] |= sel["discussion_topics"] & news
        sel["discussion_topics"] -= news

    # assignments → rubrics; graded quizzes/topics keep their assignment implicitly
    if sel["assignments"]:
        for a in snapshot.assignments:
            if a.id in sel["assignments"] and a.rubric_id in visible["rubrics"]:
                sel["rubrics"].add(a.rubric_id)

    # folders → everything below them
    children: dict[int | None, list[int]] = {}
    for f in snapshot.folders:
        children.setdefault(f.parent_id, []).append(f.id)
    stack = list(sel["folders"])
    while stack:
        fid = stack.pop()
        for child in children.get(fid, []):
            if child not in sel["folders"]:
                sel["folders"].add(child)
                stack.append(child)
    for f in snapshot.files:
        if f.folder_id in sel["folders"]:
            sel["attachments"].add(f.id)

    syllabus = request.everything or request.syllabus_body
    # selected HTML → the files it links to
    course = snapshot.course
    scan = linked_files and not visible["attachments"] <= sel["attachments"]  # else a link adds nothing
    for html in _selected_html(snapshot, sel, syllabus) if scan else ():
        for fid in _linked_file_ids(html, course.id, course.host):
            if fid in visible["attachments"]:
                sel["attachments"].add(fid)

    return Selection(
        everything=request.everything,
        syllabus_body=syllabus,
        course_settings=request.everything or request.course_settings,
        ids={t: IdSet(sorted(v)) for t, v in sel.items()},  # sorted: held as given, no second sort
    )


def _selected_html(snapshot: CourseSnapshot, sel: dict[str, set[int]], syllabus: bool) -> Iterator[str]:
    """Every HTML string of the selected content, each item read whole only while it is scanned."""
    if syllabus:
        yield snapshot.course.syllabus_body
    topics = sel["discussion_topics"] | sel["announcements"]
    for objs, ids, attr in (
        (snapshot.pages, sel["wiki_pages"], "body"),
        (snapshot.assignments, sel["assignments"], "description"),
        (snapshot.discussion_topics, topics, "message"),
        (snapshot.calendar_events, sel["calendar_events"], "description"),
    ):
        if ids:  # (a list none of whose items is selected is not walked)
            for obj in snapshot.loaded(o for o in objs if o.id in ids):
                yield getattr(obj, attr)
    quizzes = sel["quizzes"]
    for q in snapshot.loaded(q for q in snapshot.quizzes if q.id in quizzes) if quizzes else ():
        yield q.description
        for qq in q.questions:
            yield qq.question_text
            yield from (a.html for a in qq.answers if a.html)

"""Common Cartridge packages (1.0–1.3, any LMS) into the library as one new course.

Canvas's own cartridges are read with all their extension files (``course_settings/``,
``module_meta.xml``, ``files_meta.xml``, ``assessment_meta.xml``, ``non_cc_assessments/``…);
the thinner cartridges of other systems with what the IMS profile gives: webcontent (HTML
resources become pages, the rest files), web links, discussion topics, LTI links (kept as
external-URL module items), CC-profile assessments, and the organization as the module
structure.  The manifest is read by ``manifest.py``, the modules by ``modules.py``; this module
reads the items (pages, files, assignments, topics, quizzes) and writes the course.

Ids are handed out first, from the manifest alone, so every link in every body can be
resolved while the bodies are read (``links.LinkMap``).  File entries are streamed into the
blob store; pages, assignments, topics and quizzes are written in batches, and modules one at
a time, inside the one transaction ``import_path`` holds (it takes the blobs written away again
if the import fails).  A package that is messy but readable gives warnings, each
naming the item and why; nothing is dropped without one.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from html import escape as html_escape
from itertools import islice
from pathlib import Path
from typing import Any

from lxml import etree

from ..config import ImportLimits
from ..html_fragments import MAX_DEPTH, serialize_fragment
from ..model import (
    Assignment,
    AssignmentGroup,
    CalendarEvent,
    ContextType,
    Course,
    DiscussionTopic,
    File,
    ImportReport,
    Page,
    Quiz,
    Rubric,
    RubricCriterion,
    RubricRating,
)
from ..store import ContextFiles, CourseBundle, Library
from . import ImportProgress, PackageError
from .archive import Archive, Entry
from .batches import Batches
from .course_folder import _Ids
from .folders import FolderTree
from .links import WEB_RESOURCES, LinkMap
from .manifest import (
    HTML_SUFFIXES,
    SETTINGS,
    Manifest,
    Resource,
    cc_version,
    classify,
    is_qti_only,
    read_manifest,
)
from .modules import ModuleReader
from .xmltools import (
    XmlProblem,
    child,
    children,
    descendants,
    flat,
    local,
    text_bool,
    text_datetime,
    text_float,
    text_int,
    text_of,
)


@dataclass
class _QuizFiles:
    """A quiz's documents: its QTI (full Canvas or CC profile) and Canvas's settings."""

    qti: Entry | None = None
    meta: Entry | None = None


def _slug(text: str, fallback: str = "page") -> str:
    words = re.split(r"[\W_]+", text or "")
    ascii_text = " ".join(unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode() for w in words)
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:200].strip("-") or fallback


_HTML_PARSER = etree.HTMLParser()


def html_document(
    data: bytes, rewrite: Callable[[str, etree._Element], None] | None = None
) -> tuple[str, str, dict[str, str]]:
    """(title, inner body HTML, meta name → content) of a package's HTML page.

    ``rewrite(title, body)``, when given, may change the body element in place before it is
    written out (its links): one parse and one serialisation for the page.  It is not called for
    a body of more than ``MAX_DEPTH`` elements, which the caller rewrites as a fragment (flattened
    past that depth, as every body is)."""
    if not data.strip():
        return "", "", {}
    doc = etree.fromstring(data, _HTML_PARSER)  # plain elements: no Python class looked up for each
    if doc is None:
        raise etree.ParserError("Document is empty")
    title = (doc.findtext(".//title") or "").strip()
    meta = {m.get("name"): m.get("content", "") for m in doc.iter("meta") if m.get("name")}
    body = doc.find("body")
    inner = ""
    if body is not None:
        if rewrite is not None and not any(True for _ in islice(body.iter(), MAX_DEPTH, None)):
            rewrite(title, body)
        inner = serialize_fragment(body)
    return title, inner, meta


def _qti_reader():
    """``qti.read_assessment``, or None while this build has no QTI reader."""
    try:
        from .qti import read_assessment
    except ImportError:
        return None
    return read_assessment


class CartridgeReader(ModuleReader):
    def __init__(
        self,
        library: Library,
        archive: Archive,
        manifest: Manifest,
        base: str,
        report: ImportReport,
        progress: ImportProgress | None,
        source_name: str,
        created: list[str],
    ):
        self.library = library
        self.ar = archive
        self.manifest = manifest
        self.base = base
        self.report = report
        self.progress = progress
        self.source_name = source_name
        self.created = created  # the blobs written, removed by the caller if the import fails
        self.resources = manifest.resources
        self.is_canvas = self.entry(SETTINGS + "canvas_export.txt") is not None or (
            self.entry(SETTINGS + "course_settings.xml") is not None
        )
        self.done = 0
        self.consumed: set[str] = {base + "imsmanifest.xml"}

    # ------------------------------------------------------------------ helpers
    def warn(self, message: str, select_type: str | None = None) -> None:
        self.report.warn(message, select_type)

    def entry(self, href: str | None, base: str = "") -> Entry | None:
        return self.ar.find(href, posixpath.join(self.base, base) if self.base else base)

    def name(self, entry: Entry) -> str:
        """The entry's name inside the package (below the folder holding the manifest)."""
        return entry.name[len(self.base) :] if self.base and entry.name.startswith(self.base) else entry.name

    def xml(
        self, href: str | None, what: str, select_type: str | None = None, optional: bool = False
    ) -> etree._Element | None:
        """A small XML file, or None with a warning naming it (missing unless ``optional``,
        refused, broken)."""
        e = self.entry(href)
        if e is None:
            if href and not optional:
                self.warn(f"{what}: '{href}' is listed but not in the package", select_type)
            return None
        self.consumed.add(e.name)
        try:
            return self.ar.xml(e, lambda m: self.warn(m, select_type))
        except XmlProblem as err:
            self.warn(f"{what}: '{href}' cannot be read: {err}", select_type)
            return None

    def html_file(
        self,
        href: str | None,
        what: str,
        select_type: str,
        rewrite: Callable[[str, etree._Element], None] | None = None,
    ) -> tuple[str, str, dict[str, str]]:
        e = self.entry(href)
        if e is None:
            self.warn(f"{what}: '{href}' is listed but not in the package", select_type)
            return "", "", {}
        self.consumed.add(e.name)
        try:
            data = self.ar.read(e)
        except XmlProblem as err:
            self.warn(f"{what}: '{href}' cannot be read: {err}", select_type)
            return "", "", {}
        if not data.strip():
            self.warn(f"{what}: '{href}' is empty", select_type)
        try:
            return html_document(data, rewrite)
        except (etree.ParserError, ValueError) as err:
            self.warn(f"{what}: '{href}' is not HTML ({err})", select_type)
            return "", "", {}

    def rewrite(self, text: str, href: str | None, where: str, select_type: str | None = None) -> str:
        base = posixpath.dirname(href or "")
        return self.links.html(text, base, where, lambda m: self.warn(m, select_type))

    def tick(self, what: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, what)

    # ------------------------------------------------------------------ the whole course
    def build(self, ids: _Ids) -> Course:
        """Read the package and write the course (inside the caller's transaction)."""
        classify(self.manifest, self.is_canvas)
        self.kept: dict[str, dict[int, str]] = {}
        self.positions: dict[str, int] = {}
        self.total = len(self.resources) + 1
        cid = ids("courses")
        self.links = LinkMap(cid)
        self.report.course_id = cid
        settings = (
            self.xml(SETTINGS + "course_settings.xml", "course settings", optional=True)
            if self.is_canvas
            else None
        )
        self.files_meta = (
            self.xml(SETTINGS + "files_meta.xml", "files_meta.xml", optional=True) if self.is_canvas else None
        )
        module_meta = self.entry(SETTINGS + "module_meta.xml")  # streamed twice: ids, then modules
        if module_meta is not None:
            self.consumed.add(module_meta.name)
        groups_xml = self.xml(
            SETTINGS + "assignment_groups.xml", "assignment_groups.xml", "assignments", optional=True
        )
        rubrics_xml = self.xml(SETTINGS + "rubrics.xml", "rubrics.xml", "rubrics", optional=True)
        events_xml = self.xml(SETTINGS + "events.xml", "events.xml", "calendar_events", optional=True)
        for name in ("canvas_export.txt", "media_tracks.xml"):
            e = self.entry(SETTINGS + name)
            if e is not None:
                self.consumed.add(e.name)

        course = self._course(cid, settings)
        self.course = course
        self.ids = ids
        self.res_ids: dict[str, tuple[str, int]] = {}
        self._allocate(ids, groups_xml, rubrics_xml, events_xml, module_meta)
        # web links and LTI links an organization item names (identifierref or identifier)
        links = {r.ident for r in self.resources.values() if r.kind in ("weblink", "lti")}
        self.links_in_org = {x for it in self.manifest.items() for x in (it.ref, it.ident) if x in links}
        if self.module_meta is not None:  # the modules come from it: the organization is read
            self.manifest.organizations.clear()
        tree = self._files(ids, cid)
        self.assignment_groups = self._assignment_groups(groups_xml)
        rubrics = self._rubrics(rubrics_xml)
        events = self._events(events_xml)
        for r in self.resources.values():
            if r.kind == "syllabus":
                self._guarded(r)
        # the course row first; then the content in batches, so that only one batch of bodies
        # is held at a time however large the package
        self.batches = Batches(self.library, self.course)
        self.batches.begin(
            CourseBundle(course=self.course, source=self.source_name, file_trees=[tree], rubrics=rubrics)
        )
        for r in self.resources.values():
            if r.kind != "syllabus":
                self._guarded(r)
        self.flush()
        events = [
            replace(
                e,
                description=self.rewrite(
                    e.description, SETTINGS + "events.xml", f"event '{e.title}'", "calendar_events"
                ),
            )
            for e in events
        ]
        self.links.pages.clear()  # every body is read: the module items need only the ids
        self._modules()
        self._bank_warnings()
        self._left_over_entries()
        for group in self.assignment_groups:
            self.batches.add("assignment_groups", group)
        for event in events:
            self.batches.add("calendar_events", event)
        self.flush()
        c = self.report.count
        c("attachments").kept = len(tree.files)
        c("folders").kept = len(tree.folders) - 1
        c("folders").read = max(c("folders").read, c("folders").kept)
        c("rubrics").kept = len(rubrics)
        c("calendar_events").kept = len(events)
        self.tick("done")
        return self.course

    def emit(self, kind: str, obj: Any) -> None:
        """Keep one page, assignment, topic or quiz: it goes into the next batch."""
        lists = {
            "page": "pages",
            "assignment": "assignments",
            "topic": "discussion_topics",
            "quiz": "quizzes",
        }
        self.kept.setdefault(kind, {})[obj.id] = obj.title
        select_type = {"page": "wiki_pages", "assignment": "assignments", "quiz": "quizzes"}.get(kind)
        if kind == "topic":
            select_type = "announcements" if obj.is_announcement else "discussion_topics"
        self.report.count(select_type).kept += 1
        self.batches.add(lists[kind], obj)

    def flush(self) -> None:
        self.batches.flush()

    def group_or_default(self, group_id: int | None) -> int:
        """An assignment's group, or the course's first one; made (``Assignments``) when the
        package has none, as Canvas puts an assignment in the course's default group."""
        if group_id is not None:
            return group_id
        if not self.assignment_groups:
            self.assignment_groups.append(
                AssignmentGroup(id=self.ids("assignment_groups"), name="Assignments", position=1)
            )
        return min(self.assignment_groups, key=lambda g: (g.position, g.id)).id

    def _guarded(self, r: Resource) -> None:
        readers: dict[str, Callable[[Resource], None]] = {
            "page": self._page,
            "syllabus": self._syllabus,
            "assignment": self._assignment,
            "topic": self._topic,
            "quiz": self._quiz,
        }
        reader = readers.get(r.kind)
        if reader is not None:
            try:
                reader(r)
            except PackageError:
                raise
            except Exception as e:  # noqa: BLE001 — one bad item must not sink the course
                self.warn(f"resource '{r.ident}' ({r.kind}) skipped: {type(e).__name__}: {str(e)[:200]}")
        elif r.kind == "unknown":
            self.warn(
                f"resource '{r.ident}' of type '{r.type or '(none)'}' is not something the library holds; skipped"
            )
        self.tick(r.title or r.href or r.ident)

    # ------------------------------------------------------------------ course
    def _course(self, cid: int, settings: etree._Element | None) -> Course:
        f = flat(settings)
        lom_title = ""
        md = child(self.manifest.root, "metadata")
        for s in descendants(md, "string") + descendants(md, "langstring"):
            if any(local(a) == "title" for a in s.iterancestors()) and (s.text or "").strip():
                lom_title = s.text.strip()
                break
        name = (f.get("title") or "").strip() or lom_title or Path(self.source_name).stem or "Imported course"
        if not (f.get("title") or lom_title):
            self.warn(f"the package names no course title; called it '{name}'")
        tz = (f.get("time_zone") or "UTC").strip() or "UTC"
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(tz)
        except Exception:  # noqa: BLE001
            self.warn(f"unknown time zone '{tz}'; the course uses UTC")
            tz = "UTC"
        self.report.name = name
        return Course(
            id=cid,
            name=name,
            course_code=(f.get("course_code") or "").strip() or name,
            uuid=str(uuid.uuid4()),
            start_at=text_datetime(f.get("start_at")),
            end_at=text_datetime(f.get("conclude_at")),
            time_zone=tz,
            license=(f.get("license") or "private").strip() or "private",
            locale=(f.get("locale") or "en").strip() or "en",
            default_view=(f.get("default_view") or "modules").strip() or "modules",
            organize_epub_by_content_type=text_bool(f.get("organize_epub_by_content_type")),
        )

    # ------------------------------------------------------------------ ids first
    def _allocate(self, ids: _Ids, groups_xml, rubrics_xml, events_xml, module_meta) -> None:
        links = self.links
        for g in children(groups_xml, "assignmentGroup"):
            links.objects[g.get("identifier", "")] = ids("assignment_groups")
        for r in children(rubrics_xml, "rubric"):
            links.objects[r.get("identifier", "")] = ids("rubrics")
        for e in children(events_xml, "event"):
            links.objects[e.get("identifier", "")] = ids("calendar_events")
        slugs: set[str] = set()
        table = {
            "page": "pages",
            "assignment": "assignments",
            "topic": "discussion_topics",
            "quiz": "quizzes",
        }
        for r in self.resources.values():
            if r.kind in table:
                rid = ids(table[r.kind])
                self.res_ids[r.ident] = (r.kind, rid)
                links.objects[r.ident] = rid
            if r.kind == "page":
                href = r.href or r.files[0]
                stem = posixpath.splitext(posixpath.basename(href))[0]
                if not href.startswith("wiki_content/") and r.title:
                    stem = r.title  # other systems name every page index.html: Canvas's url is the title's
                slug = stem if re.fullmatch(r"[a-z0-9][a-z0-9_-]*", stem) else _slug(stem)
                base, n = slug, 2
                while slug in slugs:
                    slug, n = f"{base}-{n}", n + 1
                slugs.add(slug)
                links.pages[r.ident] = slug
                e = self.entry(href)
                links.pages[self.name(e) if e else href] = slug
        # quizzes are known by their meta resource too (module items of a Canvas-only quiz name it)
        for r in self.resources.values():
            if r.kind == "quiz":
                for d in r.deps:
                    if d in self.resources and self.resources[d].kind == "quiz_meta":
                        self.res_ids[d] = self.res_ids[r.ident]
                        links.objects[d] = self.res_ids[r.ident][1]
        if module_meta is not None and not self._module_meta(module_meta, self._allocate_module):
            module_meta = None  # unreadable: the organization gives the modules
        self.module_meta = module_meta

    # ------------------------------------------------------------------ files
    def _file_entries(self) -> list[tuple[str, Entry, Resource | None]]:
        """(name, entry, resource) of every entry that becomes a course file, in package order."""
        wanted: dict[str, tuple[Entry, Resource | None]] = {}
        skip_kinds = {
            "settings",
            "assignment",
            "topic",
            "weblink",
            "lti",
            "quiz",
            "quiz_meta",
            "meta",
            "bank",
            "fallback",
            "unknown",
            "syllabus",
        }
        for r in self.resources.values():
            names = list(dict.fromkeys(r.names()))
            if r.kind in skip_kinds:
                for n in names:
                    e = self.entry(n)
                    if e is not None:
                        if r.kind != "settings":  # settings files not read are named later
                            self.consumed.add(e.name)
                    elif r.kind in ("settings", "fallback", "meta", "bank"):
                        self.warn(f"resource '{r.ident}': '{n}' is listed but not in the package")
                continue
            for n in dict.fromkeys(names):
                e = self.entry(n)
                if e is None:
                    self.warn(
                        f"resource '{r.ident}': '{n}' is listed but not in the package",
                        "wiki_pages" if r.kind == "page" else "attachments",
                    )
                    continue
                if r.kind == "page" and n == (r.href or r.files[0]):
                    self.consumed.add(e.name)  # the page itself
                    continue
                if e.name not in wanted:
                    wanted[e.name] = (e, r if n == r.main else None)
        for e in self.ar.items():
            name = e.name
            if self.base and not name.startswith(self.base):
                continue
            if (
                name[len(self.base) :].startswith(WEB_RESOURCES + "/")
                and name not in wanted
                and name not in self.consumed
            ):
                self.warn(
                    f"'{self.name(e)}' is in the package but not in its manifest; kept as a course file",
                    "attachments",
                )
                wanted[name] = (e, None)
        return [(self.name(e), e, r) for e, r in wanted.values()]

    def _files(self, ids: _Ids, cid: int) -> ContextFiles:
        tree = ContextFiles(ContextType.COURSE, cid)
        folder_meta = {
            (f.get("path") or "").strip("/"): flat(f) for f in descendants(self.files_meta, "folder")
        }
        file_meta = {f.get("identifier", ""): flat(f) for f in descendants(self.files_meta, "file")}

        def attrs(rel: str) -> dict[str, Any]:
            a = folder_meta.get(rel, {})
            return {
                "hidden": text_bool(a.get("hidden")),
                "locked": text_bool(a.get("locked")),
                "lock_at": text_datetime(a.get("lock_at")),
                "unlock_at": text_datetime(a.get("unlock_at")),
            }

        add_folder = FolderTree(tree, ids, attrs=attrs)
        for rel in sorted(folder_meta):
            if rel:
                add_folder(rel)
        self.report.count("folders").read += len([r for r in folder_meta if r])
        for name, entry, res in self._file_entries():
            rel = name[len(WEB_RESOURCES) + 1 :] if name.startswith(WEB_RESOURCES + "/") else name
            self.report.count("attachments").read += 1
            self.consumed.add(entry.name)
            a = file_meta.get(res.ident, {}) if res is not None else {}
            filename = posixpath.basename(rel)
            try:
                with self.ar.open(entry) as stream:
                    sha, size = self.library.blobs.put_stream(stream, self.created)
            except PackageError:
                raise
            except Exception as e:  # noqa: BLE001 — a broken entry (bad CRC, truncated) skips that file
                self.warn(
                    f"file '{name}' skipped: it cannot be read ({type(e).__name__}: {e})", "attachments"
                )
                continue
            if size == 0:
                self.warn(f"file '{name}' is empty (0 bytes); kept", "attachments")
            locked = text_bool(a.get("locked")) or self._instructors_only(res)
            fid = ids("files")
            tree.files.append(
                File(
                    id=fid,
                    folder_id=add_folder(posixpath.dirname(rel)),
                    display_name=(a.get("display_name") or "").strip() or filename,
                    filename=filename,
                    content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
                    size=size,
                    sha256=sha,
                    uuid=str(uuid.uuid4()),
                    blob_path=None,
                    hidden=text_bool(a.get("hidden")),
                    locked=locked,
                    lock_at=text_datetime(a.get("lock_at")),
                    unlock_at=text_datetime(a.get("unlock_at")),
                )
            )
            self.links.files[name] = fid
            self.kept.setdefault("file", {})[fid] = tree.files[-1].display_name
            if res is not None:
                self.res_ids[res.ident] = ("file", fid)
                self.links.objects[res.ident] = fid
        # a file listed under two resources: both name the same file
        for r in self.resources.values():
            if r.kind == "file" and r.ident not in self.res_ids:
                e = self.entry(r.main)
                if e is not None and self.name(e) in self.links.files:
                    self.res_ids[r.ident] = ("file", self.links.files[self.name(e)])
        return tree

    @staticmethod
    def _instructors_only(res: Resource | None) -> bool:
        if res is None:
            return False
        return res.instructors_only

    # ------------------------------------------------------------------ settings files
    def _assignment_groups(self, root) -> list[AssignmentGroup]:
        out = []
        for i, g in enumerate(children(root, "assignmentGroup")):
            f = flat(g)
            rules = {
                text_of(r, "drop_type"): text_int(text_of(r, "drop_count")) for r in descendants(g, "rule")
            }
            out.append(
                AssignmentGroup(
                    id=self.links.objects[g.get("identifier", "")],
                    name=f.get("title") or f"Assignments {i + 1}",
                    position=text_int(f.get("position"), i + 1),
                    group_weight=text_float(f.get("group_weight")) or 0.0,
                    drop_lowest=rules.get("drop_lowest", 0),
                    drop_highest=rules.get("drop_highest", 0),
                )
            )
        return out

    def _rubrics(self, root) -> list[Rubric]:
        out = []
        for r in children(root, "rubric"):
            rid = self.links.objects[r.get("identifier", "")]
            f = flat(r)
            self.report.count("rubrics").read += 1
            crits = []
            for j, c in enumerate(descendants(r, "criterion")):
                cf = flat(c)
                crit_id = cf.get("criterion_id") or f"{rid}_{j + 1}"
                crits.append(
                    RubricCriterion(
                        id=crit_id,
                        description=cf.get("description", ""),
                        long_description=cf.get("long_description", ""),
                        points=text_float(cf.get("points")) or 0.0,
                        ratings=tuple(
                            RubricRating(
                                id=flat(x).get("id") or f"{crit_id}_{k + 1}",
                                description=flat(x).get("description", ""),
                                points=text_float(flat(x).get("points")) or 0.0,
                                long_description=flat(x).get("long_description", ""),
                            )
                            for k, x in enumerate(descendants(c, "rating"))
                        ),
                    )
                )
            title = f.get("title", "").strip()
            if not title:
                title = f"Rubric {rid}"
                self.warn(f"rubric '{r.get('identifier', '')}' has no title; called it '{title}'", "rubrics")
            out.append(
                Rubric(
                    id=rid,
                    title=title,
                    points_possible=text_float(f.get("points_possible")) or sum(c.points for c in crits),
                    criteria=tuple(crits),
                    free_form_criterion_comments=text_bool(f.get("free_form_criterion_comments")),
                )
            )
        return out

    def _events(self, root) -> list[CalendarEvent]:
        out = []
        for e in children(root, "event"):
            f = flat(e)
            self.report.count("calendar_events").read += 1
            out.append(
                CalendarEvent(
                    id=self.links.objects[e.get("identifier", "")],
                    title=f.get("title", "").strip() or "Event",
                    description=f.get("description", ""),  # rewritten once every link is known
                    start_at=text_datetime(f.get("start_at")),
                    end_at=text_datetime(f.get("end_at")),
                    all_day=text_bool(f.get("all_day")),
                    location_name=f.get("location_name", ""),
                )
            )
        return out

    # ------------------------------------------------------------------ pages
    def _page(self, r: Resource) -> None:
        kind, pid = self.res_ids[r.ident]
        href = r.href or r.files[0]
        self.report.count("wiki_pages").read += 1
        e = self.entry(href)
        name = self.name(e) if e else href
        titled: list[str] = []

        def page_title(found: str) -> str:
            title = found or r.title
            if not title:
                title = posixpath.splitext(posixpath.basename(href))[0] or "Untitled"
                self.warn(f"page '{href}' has no title; called it '{title}'", "wiki_pages")
            return title

        def in_tree(found: str, body: etree._Element) -> None:  # the links, while the page is parsed
            titled.append(page_title(found))
            warn = lambda m: self.warn(m, "wiki_pages")  # noqa: E731
            self.links.rewrite_tree(body, posixpath.dirname(name), f"page '{titled[0]}'", warn)

        title, body, meta = self.html_file(href, f"page '{href}'", "wiki_pages", in_tree)
        if titled:
            title = titled[0]
        else:
            title = page_title(title)
            body = self.rewrite(body, name, f"page '{title}'", "wiki_pages")
        if title == r.title:
            title = r.title  # one string for both: the course keeps every title until its modules
        self.emit(
            "page",
            Page(
                id=pid,
                url=self.links.pages[r.ident],
                title=title,
                body=body,
                published=meta.get("workflow_state", "active") != "unpublished",
                front_page=text_bool(meta.get("front_page")),
                editing_roles=meta.get("editing_roles") or "teachers",
                todo_date=text_datetime(meta.get("todo_date")),
            ),
        )

    def _syllabus(self, r: Resource) -> None:
        href = r.main
        _title, body, _meta = self.html_file(href, "the syllabus", None)
        e = self.entry(href)
        body = self.rewrite(body, self.name(e) if e else href, "the syllabus")
        self.course = replace(self.course, syllabus_body=body)

    # ------------------------------------------------------------------ assignments
    def _assignment_fields(self, f: Mapping[str, str], **extra: Any) -> dict[str, Any]:
        """Canvas's assignment fields (assignment_settings.xml, or the block embedded in a
        topicMeta / assessment_meta) as Assignment keyword arguments."""
        group = self.links.objects.get(f.get("assignment_group_identifierref", "")) if f else None
        rubric = self.links.objects.get(f.get("rubric_identifierref", "")) if f else None
        types = tuple(t.strip() for t in (f.get("submission_types") or "").split(",") if t.strip())
        return (
            dict(
                assignment_group_id=self.group_or_default(group),
                points_possible=text_float(f.get("points_possible")),
                grading_type=(f.get("grading_type") or "points").strip() or "points",
                submission_types=types or ("none",),
                due_at=text_datetime(f.get("due_at")),
                unlock_at=text_datetime(f.get("unlock_at")),
                lock_at=text_datetime(f.get("lock_at")),
                published=(f.get("workflow_state") or "published") != "unpublished",
                position=text_int(f.get("position"), self._next("assignments")),
                rubric_id=rubric,
                allowed_extensions=tuple(
                    x.strip() for x in (f.get("allowed_extensions") or "").split(",") if x.strip()
                ),
                peer_reviews=text_bool(f.get("peer_reviews")),
            )
            | extra
        )

    def _assignment(self, r: Resource) -> None:
        _, aid = self.res_ids[r.ident]
        self.report.count("assignments").read += 1
        names = r.names()
        fallback = self._fallbacks().get(r.ident, [])
        for fb in fallback:
            names += fb.files
        settings_href = next((n for n in names if n.endswith("/assignment_settings.xml")), None)
        ext_href = next(
            (
                n
                for n in names
                if n.endswith("assignment.xml") or r.type == "assignment_xmlv1p0" and n == r.href
            ),
            None,
        )
        html_href = next((n for n in names if n.lower().endswith(HTML_SUFFIXES)), None)
        fields: dict[str, str] = {}
        title, body, body_href = "", "", None
        if settings_href:
            fields = flat(self.xml(settings_href, f"assignment '{r.ident}'", "assignments"))
        if ext_href and ext_href != settings_href:
            ext = self.xml(ext_href, f"assignment '{r.ident}'", "assignments")
            if ext is not None:
                title = text_of(ext, "title").strip()
                body, body_href = self._html_text(child(ext, "text")), ext_href
                canvas = descendants(child(ext, "extensions"), "assignment")
                if canvas and not fields:
                    fields = flat(canvas[0])
                if not fields:
                    gradable = child(ext, "gradable")
                    if gradable is not None and text_bool(gradable.text):
                        fields["points_possible"] = gradable.get("points_possible") or ""
                    formats = [
                        {"html": "online_text_entry", "url": "online_url", "file": "online_upload"}.get(
                            x.get("type", ""), ""
                        )
                        for x in descendants(child(ext, "submission_formats"), "format")
                    ]
                    fields["submission_types"] = ",".join(x for x in formats if x)
        if html_href:
            _t, html_body, _m = self.html_file(html_href, f"assignment '{r.ident}'", "assignments")
            if html_body or not body:
                body, body_href = html_body, html_href
        title = fields.get("title", "").strip() or title or r.title
        if not title:
            title = "Untitled assignment"
            self.warn(f"assignment '{r.ident}' has no title; called it '{title}'", "assignments")
        e = self.entry(body_href)
        self.emit(
            "assignment",
            Assignment(
                id=aid,
                title=title,
                description=self.rewrite(
                    body, self.name(e) if e else body_href, f"assignment '{title}'", "assignments"
                ),
                **self._assignment_fields(fields),
            ),
        )

    # ------------------------------------------------------------------ discussions
    def _topic(self, r: Resource) -> None:
        _, tid = self.res_ids[r.ident]
        href = r.files[0] if r.files else r.href
        doc = self.xml(href, f"discussion topic '{r.ident}'", "discussion_topics")
        meta_el = None
        for d in r.deps:
            dep = self.resources.get(d)
            if dep is not None and dep.kind == "meta":
                meta_el = self.xml(
                    dep.href or (dep.files[0] if dep.files else None), f"discussion topic '{r.ident}'"
                )
        meta = flat(meta_el)
        announcement = meta.get("type") == "announcement"
        st = "announcements" if announcement else "discussion_topics"
        self.report.count(st).read += 1
        if doc is None:
            return
        title = text_of(doc, "title").strip() or meta.get("title", "").strip() or r.title
        if not title:
            title = "Untitled discussion"
            self.warn(f"discussion topic '{r.ident}' has no title; called it '{title}'", st)
        message = self.rewrite(
            self._html_text(child(doc, "text")),
            self.name(self.entry(href)) if self.entry(href) else href,
            f"discussion '{title}'",
            st,
        )
        for att in descendants(child(doc, "attachments"), "attachment"):
            href_att = att.get("href", "")
            if self.links.link(href_att, posixpath.dirname(href or ""), is_src=False) is None:
                self.warn(
                    f"discussion '{title}': attachment '{href_att}' is not in the package; not kept", st
                )
        assignment_id = None
        graded = child(meta_el, "assignment") if meta_el is not None else None
        if graded is not None and not announcement:
            assignment_id = self.ids("assignments")
            af = flat(graded)
            self.emit(
                "assignment",
                Assignment(
                    id=assignment_id,
                    title=af.get("title") or title,
                    **self._assignment_fields(
                        af, submission_types=("discussion_topic",), discussion_topic_id=tid
                    ),
                ),
            )
            self.report.count("assignments").read += 1
        self.emit(
            "topic",
            DiscussionTopic(
                id=tid,
                title=title,
                message=message,
                is_announcement=announcement,
                published=meta.get("workflow_state", "active") != "unpublished",
                posted_at=text_datetime(meta.get("posted_at")),
                delayed_post_at=text_datetime(meta.get("delayed_post_at")),
                lock_at=text_datetime(meta.get("lock_at")),
                pinned=text_bool(meta.get("pinned")),
                discussion_type=(meta.get("discussion_type") or "threaded").strip() or "threaded",
                require_initial_post=text_bool(meta.get("require_initial_post")),
                position=text_int(meta.get("position"), self._next("discussion_topics")),
                assignment_id=assignment_id,
            ),
        )

    @staticmethod
    def _html_text(el) -> str:
        """A CC ``<text texttype=…>`` as HTML (plain text is escaped)."""
        text = (el.text or "") if el is not None else ""
        if el is not None and (el.get("texttype") or "text/html").strip().lower() == "text/plain":
            return html_escape(text)
        return text

    # ------------------------------------------------------------------ quizzes
    def banks(self) -> dict[str, etree._Element]:
        if hasattr(self, "_banks"):
            return self._banks
        self._banks: dict[str, etree._Element] = {}
        for r in self.resources.values():
            if r.kind != "bank":
                continue
            for n in r.names():
                root = self.xml(n, f"question bank '{r.ident}'", "quizzes")
                for bank in descendants(root, "objectbank"):
                    self._banks[bank.get("ident", "")] = bank
        return self._banks

    def _bank_warnings(self) -> None:
        for ident, bank in self.banks().items():
            title = next(
                (
                    text_of(f, "fieldentry")
                    for f in descendants(bank, "qtimetadatafield")
                    if text_of(f, "fieldlabel") == "bank_title"
                ),
                ident,
            )
            n = len(descendants(bank, "item"))
            self.warn(
                f"question bank '{title}' ({n} questions): the library keeps no question banks; "
                "the quiz groups that draw from it keep its questions",
                "quizzes",
            )

    def _quiz_documents(self, r: Resource) -> _QuizFiles:
        docs = _QuizFiles()
        names = r.names()
        for d in r.deps:
            dep = self.resources.get(d)
            if dep is not None and dep.kind in ("quiz_meta", "meta"):
                names += dep.names()
        full = next((n for n in names if n.endswith(".xml.qti")), None)
        cc = next((n for n in names if n.endswith(".xml") and not n.endswith("assessment_meta.xml")), None)
        meta = next((n for n in names if n.endswith("assessment_meta.xml")), None)
        docs.qti = self.entry(full) or self.entry(cc)
        docs.meta = self.entry(meta)
        return docs

    def _quiz(self, r: Resource) -> None:
        _, qid = self.res_ids[r.ident]
        self.report.count("quizzes").read += 1
        docs = self._quiz_documents(r)
        meta_root = self.xml(self.name(docs.meta), f"quiz '{r.ident}'", "quizzes") if docs.meta else None
        title = text_of(meta_root, "title").strip() or r.title or r.ident
        read_assessment = _qti_reader()
        if read_assessment is None:
            self.warn(f"quiz '{title}' skipped: this build has no QTI reader", "quizzes")
            return
        if docs.qti is None:
            self.warn(f"quiz '{title}' skipped: its QTI file is not in the package", "quizzes")
            return
        root = self.xml(self.name(docs.qti), f"quiz '{title}'", "quizzes")
        if root is None:
            return
        quiz: Quiz = read_assessment(
            root,
            quiz_id=qid,
            ids=self.ids,
            html=lambda text: self.rewrite(text, self.name(docs.qti), f"quiz '{title}'", "quizzes"),
            warn=lambda m: self.warn(f"quiz '{title}': {m}", "quizzes"),
            banks=self.banks(),
            meta=meta_root,
        )
        if meta_root is None and not quiz.title:
            quiz = replace(quiz, title=title)
        graded = child(meta_root, "assignment") if meta_root is not None else None
        af = flat(graded) if graded is not None else {}
        group = self.links.objects.get(
            text_of(meta_root, "assignment_group_identifierref")
            or af.get("assignment_group_identifierref", "")
        )
        assignment_id = None
        if quiz.quiz_type in ("assignment", "graded_survey"):
            assignment_id = self.ids("assignments")
            self.report.count("assignments").read += 1
            fields = self._assignment_fields(af, submission_types=("online_quiz",), quiz_id=qid) if af else {}
            self.emit(
                "assignment",
                Assignment(
                    **{
                        "id": assignment_id,
                        "title": af.get("title") or quiz.title,
                        "points_possible": quiz.points_possible,
                        "submission_types": ("online_quiz",),
                        "due_at": quiz.due_at,
                        "unlock_at": quiz.unlock_at,
                        "lock_at": quiz.lock_at,
                        "published": quiz.published,
                        "quiz_id": qid,
                        "position": self._next("assignments"),
                        **fields,
                        "assignment_group_id": self.group_or_default(group),
                    }
                ),
            )
        if assignment_id is not None:
            group = self.group_or_default(group)
        self.emit("quiz", replace(quiz, id=qid, assignment_group_id=group, assignment_id=assignment_id))

    def _fallbacks(self) -> dict[str, list[Resource]]:
        """Canvas 1.3's ``<cpx:variant>`` resources (an assignment's HTML), by the resource they stand in for."""
        if not hasattr(self, "_fallback_index"):
            self._fallback_index: dict[str, list[Resource]] = {}
            for x in self.resources.values():
                if x.kind == "fallback":
                    self._fallback_index.setdefault(x.variant_of or "", []).append(x)
        return self._fallback_index

    # ------------------------------------------------------------------ the rest
    def _next(self, name: str) -> int:
        """The next position in a list (assignments, topics), counted over every batch."""
        self.positions[name] = self.positions.get(name, 0) + 1
        return self.positions[name]

    def _left_over_entries(self) -> None:
        for name in self.ar.entries:
            rel = name[len(self.base) :] if name.startswith(self.base) else None
            if (
                rel
                and rel.startswith(SETTINGS)
                and name not in self.consumed
                and rel != SETTINGS + "syllabus.html"
            ):
                self.consumed.add(name)
                self.warn(f"'{rel}' is not read: the library has no place for what it holds")
        listed = set()  # named by a resource, and not read: not a stray
        for r in self.resources.values():
            for n in r.names():
                e = self.entry(n)
                if e is not None and e.name not in self.consumed:
                    listed.add(e.name)
        for name in self.ar.entries:
            if self.base and not name.startswith(self.base):
                continue
            if name in self.consumed or name in listed or name.startswith(self.base + SETTINGS):
                continue
            self.warn(f"'{name[len(self.base) :]}' is in the package but not in its manifest; not imported")


def _find_manifest(ar: Archive) -> str | None:
    """ "" when imsmanifest.xml is at the top, "folder/" when the package wraps it in one folder."""
    if "imsmanifest.xml" in ar.entries:
        return ""
    nested = [n for n in ar.entries if n.endswith("/imsmanifest.xml") and n.count("/") == 1]
    return nested[0][: -len("imsmanifest.xml")] if len(nested) == 1 else None


def import_cartridge(
    library: Library,
    path: Path,
    *,
    progress: ImportProgress | None,
    limits: ImportLimits,
    created: list[str],
    qti_zip: Callable[[], ImportReport] | None = None,
) -> ImportReport:
    """Import the cartridge at ``path`` (a zip or an unpacked folder) as one new course, inside
    the caller's transaction; every blob written is added to ``created``."""
    report = ImportReport(0, "", "Common Cartridge")
    with Archive(path, limits, lambda m: report.warn(m)) as ar:
        base = _find_manifest(ar)
        if base is None:
            if qti_zip is not None and any(n.lower().endswith((".xml", ".qti")) for n in ar.entries):
                return qti_zip()
            what = "folder" if Path(path).is_dir() else "package"
            raise PackageError(
                f"{path}: this {what} has no imsmanifest.xml (a cartridge) and no course.toml (a course "
                "folder, see data/README.md)"
            )
        try:
            with ar.open(ar.entry(base + "imsmanifest.xml")) as stream:
                manifest = read_manifest(stream, report.warn)
        except XmlProblem as e:
            raise PackageError(f"{path}: imsmanifest.xml: {e}") from None
        if local(manifest.root) != "manifest":
            raise PackageError(f"{path}: imsmanifest.xml holds <{local(manifest.root)}>, not a <manifest>")
        if qti_zip is not None and is_qti_only(manifest.resources):
            return qti_zip()
        reader = CartridgeReader(library, ar, manifest, base, report, progress, Path(path).name, created)
        version = cc_version(manifest.root)
        report.source = f"Common Cartridge {version}" + (" (Canvas)" if reader.is_canvas else "")
        reader.build(_Ids(library.content.next_ids()))
    return report

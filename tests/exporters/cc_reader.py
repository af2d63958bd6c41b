"""Reading a Common Cartridge (ours or Canvas's, CC 1.1 or 1.3) back into plain data.

The reader knows the manifest, Canvas's metadata files (``course_settings/``,
``topicMeta``, ``assessment_meta.xml``…), wiki pages and both QTI flavours.  It
returns dataclasses of strings and numbers, not model objects: an ``.imscc``
importer maps them onto the model later, and the exporter tests use them to check
that a package says what the snapshot said.  Namespaces are matched by local name so
CC 1.1, 1.3 and Canvas's mixed packages all read the same way.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from tui_exports.html_fragments import parse_fragment
from tui_exports.importers.cartridge import html_document as _html_document
from tui_exports.importers.xmltools import child, children, descendants, flat, local, text_of
from tui_exports.importers.xmltools import parse_xml as _parse_xml
from tui_exports.vocab import CC_TOKENS

CC_PROFILE_TYPES = {
    "cc.multiple_choice.v0p1": "multiple_choice_question",
    "cc.multiple_response.v0p1": "multiple_answers_question",
    "cc.true_false.v0p1": "true_false_question",
    "cc.fib.v0p1": "short_answer_question",
    "cc.essay.v0p1": "essay_question",
}
TOKENS = CC_TOKENS


# ----------------------------------------------------------------------------- data


@dataclass
class Resource:
    identifier: str
    type: str
    href: str | None
    files: list[str]
    dependencies: list[str]
    intendeduse: str | None = None
    metadata: etree._Element | None = None


@dataclass
class Choice:
    ident: str
    text: str
    texttype: str = "text/plain"


@dataclass
class Question:
    ident: str
    title: str
    question_type: str  # Canvas type name (CC profile types are mapped back)
    text: str  # HTML of the question
    points: float | None = None
    responses: dict[str, list[Choice]] = field(default_factory=dict)  # response ident → choices
    response_labels: dict[str, str] = field(default_factory=dict)  # response ident → its own material
    correct: dict[str, list[str]] = field(default_factory=dict)  # response ident → values that score
    feedback: dict[str, str] = field(default_factory=dict)  # itemfeedback ident → text
    scored: bool = False  # has response processing
    metadata: dict[str, str] = field(default_factory=dict)
    calculated: dict | None = None


@dataclass
class QuestionGroup:
    ident: str
    title: str
    pick_count: int
    points_per_item: float | None
    questions: list[Question]


@dataclass
class Assessment:
    ident: str
    title: str
    metadata: dict[str, str]
    entries: list[Question | QuestionGroup]

    @property
    def questions(self) -> list[Question]:
        out: list[Question] = []
        for e in self.entries:
            out += e.questions if isinstance(e, QuestionGroup) else [e]
        return out


@dataclass
class Quiz:
    identifier: str
    title: str
    settings: dict[str, str]
    cc: Assessment | None  # the CC-profile assessment (None when the quiz had no CC-expressible item)
    canvas: Assessment | None  # the full Canvas QTI


@dataclass
class ModuleItem:
    identifier: str
    title: str
    identifierref: str | None
    content_type: str | None = None
    url: str | None = None
    indent: int = 0
    position: int | None = None
    workflow_state: str | None = None


@dataclass
class Module:
    identifier: str
    title: str
    items: list[ModuleItem]
    workflow_state: str | None = None
    position: int | None = None
    prerequisites: list[str] = field(default_factory=list)
    unlock_at: str | None = None
    require_sequential_progress: bool = False


@dataclass
class Page:
    identifier: str
    path: str
    title: str
    body: str
    meta: dict[str, str]


@dataclass
class Assignment:
    identifier: str
    title: str
    body: str
    settings: dict[str, str]


@dataclass
class Topic:
    identifier: str
    title: str
    text: str
    meta: dict[str, str]

    @property
    def is_announcement(self) -> bool:
        return self.meta.get("type") == "announcement"


@dataclass
class WebLink:
    identifier: str
    title: str
    url: str
    target: str | None = None


@dataclass
class Package:
    version: str
    identifier: str
    title: str
    resources: dict[str, Resource]
    organization: list[Module]  # from the manifest's organization
    modules: list[Module]  # from module_meta.xml (falls back to the organization)
    pages: dict[str, Page]
    assignments: dict[str, Assignment]
    topics: dict[str, Topic]
    web_links: dict[str, WebLink]
    quizzes: dict[str, Quiz]
    files: dict[str, str]  # resource identifier → path in the package
    course_settings: dict[str, str]
    syllabus: str | None
    assignment_groups: list[dict[str, str]]
    rubrics: list[dict]
    events: list[dict[str, str]]
    files_meta: dict[str, dict[str, str]]  # identifier or folder path → fields
    comments: list[str]  # the problems the exporter recorded at the end of the manifest
    names: list[str]  # every entry of the zip


# ----------------------------------------------------------------------------- helpers
# (the product importer's: one reader knows how cartridge XML and HTML are walked)


def parse_xml(data: bytes) -> etree._Element:
    return _parse_xml(data)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def link_references(html: str) -> list[tuple[str, str]]:
    """The package references in an HTML body: ``(token, rest)`` with the rest URL-decoded.

    ``("$IMS-CC-FILEBASE$", "docs/a b.pdf")`` names a file in ``web_resources``;
    ``("$WIKI_REFERENCE$", "pages/i…")`` a page by migration id, and so on.
    """
    out = []
    for el in parse_fragment(html).iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("href", "src", "data", "poster"):
            value = el.get(attr) or ""
            for token in TOKENS:
                if value.startswith(token + "/") or value == token:
                    path = urlsplit(value[len(token) :]).path.lstrip("/")
                    out.append((token, unquote(path)))
    return out


# ----------------------------------------------------------------------------- QTI


def _mattext(el: etree._Element | None) -> tuple[str, str]:
    mt = descendants(el, "mattext")
    return ((mt[0].text or ""), mt[0].get("texttype", "text/plain")) if mt else ("", "text/plain")


def _metadata(el: etree._Element | None) -> dict[str, str]:
    out = {}
    for f in descendants(el, "qtimetadatafield"):
        out[text_of(f, "fieldlabel")] = text_of(f, "fieldentry")
    return out


def _scoring_values(res: etree._Element) -> dict[str, list[str]]:
    """Per response ident, the values that earn points (conditions under ``not`` excluded)."""
    out: dict[str, list[str]] = {}
    for cond in children(res, "respcondition"):
        setvars = [s for s in children(cond, "setvar") if (_float(s.text) or 0) > 0]
        if not setvars:
            continue
        for var in descendants(child(cond, "conditionvar"), "varequal"):
            if any(local(a) == "not" for a in var.iterancestors()):
                continue
            out.setdefault(var.get("respident", ""), []).append(var.text or "")
        for var in (
            descendants(child(cond, "conditionvar"), "vargte")
            + descendants(child(cond, "conditionvar"), "vargt")
            + descendants(child(cond, "conditionvar"), "varlte")
        ):
            out.setdefault(var.get("respident", ""), []).append(f"{local(var)}:{var.text or ''}")
    return out


def parse_item(item: etree._Element) -> Question:
    meta = _metadata(child(item, "itemmetadata"))
    qtype = meta.get("question_type") or CC_PROFILE_TYPES.get(meta.get("cc_profile", ""), "unknown")
    pres = child(item, "presentation")
    text, _ = _mattext(child(pres, "material"))
    q = Question(
        item.get("ident", ""),
        item.get("title", ""),
        qtype,
        text,
        _float(meta.get("points_possible")),
        metadata=meta,
    )
    for resp in [
        c for c in (pres if pres is not None else []) if local(c) in ("response_lid", "response_str")
    ]:
        ident = resp.get("ident", "")
        q.response_labels[ident] = _mattext(child(resp, "material"))[0]
        choices = []
        for label in descendants(resp, "response_label"):
            t, tt = _mattext(label)
            if descendants(label, "mattext") or local(resp) == "response_lid":
                choices.append(Choice(label.get("ident", ""), t, tt))
        q.responses[ident] = choices
    res = child(item, "resprocessing")
    if res is not None:
        q.scored = True
        q.correct = _scoring_values(res)
    for fb in children(item, "itemfeedback"):
        q.feedback[fb.get("ident", "")] = _mattext(fb)[0]
    calc = descendants(child(item, "itemproc_extension"), "calculated")
    if calc:
        c = calc[0]
        q.calculated = {
            "formulas": [f.text or "" for f in descendants(c, "formula")],
            "variables": [v.get("name") for v in children(child(c, "vars"), "var")],
            "var_sets": [
                {
                    "variables": {v.get("name"): _float(v.text) for v in children(s, "var")},
                    "answer": _float(text_of(s, "answer")),
                }
                for s in descendants(c, "var_set")
            ],
        }
    return q


def parse_assessment(data: bytes) -> Assessment:
    root = parse_xml(data)
    assessment = descendants(root, "assessment")[0]
    entries: list[Question | QuestionGroup] = []
    root_section = child(assessment, "section")
    for el in root_section if root_section is not None else []:
        if local(el) == "item":
            entries.append(parse_item(el))
        elif local(el) == "section":
            sel = descendants(el, "selection")
            pick = int(text_of(sel[0], "selection_number") or 0) if sel else 0
            ppi = (
                _float(text_of(descendants(el, "selection_extension")[0], "points_per_item"))
                if descendants(el, "selection_extension")
                else None
            )
            entries.append(
                QuestionGroup(
                    el.get("ident", ""),
                    el.get("title", ""),
                    pick,
                    ppi,
                    [parse_item(i) for i in children(el, "item")],
                )
            )
    return Assessment(
        assessment.get("ident", ""),
        assessment.get("title", ""),
        _metadata(child(assessment, "qtimetadata")),
        entries,
    )


# ----------------------------------------------------------------------------- package


class _Zip:
    """Read access to a package given as a zip path, zip bytes or an unpacked folder."""

    def __init__(self, source: Path | str | bytes):
        self.dir: Path | None = None
        if isinstance(source, bytes):
            self.zip = zipfile.ZipFile(io.BytesIO(source))
        elif Path(source).is_dir():
            self.dir, self.zip = Path(source), None
        else:
            self.zip = zipfile.ZipFile(source)

    def names(self) -> list[str]:
        if self.zip is not None:
            return self.zip.namelist()
        return [p.relative_to(self.dir).as_posix() for p in sorted(self.dir.rglob("*")) if p.is_file()]

    def read(self, name: str) -> bytes | None:
        try:
            if self.zip is not None:
                return self.zip.read(name)
            return (self.dir / name).read_bytes()
        except (KeyError, FileNotFoundError, IsADirectoryError):
            return None


def _resources(manifest: etree._Element) -> dict[str, Resource]:
    out = {}
    for res in descendants(child(manifest, "resources"), "resource"):
        out[res.get("identifier", "")] = Resource(
            res.get("identifier", ""),
            res.get("type", ""),
            res.get("href"),
            [f.get("href", "") for f in children(res, "file")],
            [d.get("identifierref", "") for d in children(res, "dependency")],
            res.get("intendeduse"),
            child(res, "metadata"),
        )
    return out


def _organization(manifest: etree._Element) -> list[Module]:
    org = child(child(manifest, "organizations"), "organization")
    root = child(org, "item")
    modules = []
    for mod in children(root, "item"):
        items = [
            ModuleItem(i.get("identifier", ""), text_of(i, "title"), i.get("identifierref"))
            for i in children(mod, "item")
        ]
        modules.append(Module(mod.get("identifier", ""), text_of(mod, "title"), items))
    return modules


def _module_meta(root: etree._Element) -> list[Module]:
    modules = []
    for m in children(root, "module"):
        items = []
        for i in children(child(m, "items"), "item"):
            f = flat(i)
            items.append(
                ModuleItem(
                    i.get("identifier", ""),
                    f.get("title", ""),
                    f.get("identifierref") or None,
                    f.get("content_type"),
                    f.get("url"),
                    int(f.get("indent") or 0),
                    int(f.get("position") or 0) or None,
                    f.get("workflow_state"),
                )
            )
        f = flat(m)
        prereqs = [text_of(p, "identifierref") for p in children(child(m, "prerequisites"), "prerequisite")]
        modules.append(
            Module(
                m.get("identifier", ""),
                f.get("title", ""),
                items,
                f.get("workflow_state"),
                int(f.get("position") or 0) or None,
                prereqs,
                f.get("unlock_at"),
                f.get("require_sequential_progress") == "true",
            )
        )
    return modules


def read_package(source: Path | str | bytes) -> Package:
    """Parse a cartridge (zip path, zip bytes or unpacked folder) into a :class:`Package`."""
    z = _Zip(source)
    manifest = parse_xml(z.read("imsmanifest.xml") or b"")
    metadata = child(manifest, "metadata")
    version = text_of(metadata, "schemaversion")
    title_el = [
        s
        for s in descendants(metadata, "string") + descendants(metadata, "langstring")
        if any(local(a) == "title" for a in s.iterancestors())
    ]
    resources = _resources(manifest)
    pkg = Package(
        version,
        manifest.get("identifier", ""),
        (title_el[0].text or "") if title_el else "",
        resources,
        _organization(manifest),
        [],
        {},
        {},
        {},
        {},
        {},
        {},
        {},
        None,
        [],
        [],
        [],
        {},
        [(c.text or "").strip() for c in manifest.iter(etree.Comment)],
        z.names(),
    )

    def xml(name: str | None) -> etree._Element | None:
        data = z.read(name) if name else None
        return parse_xml(data) if data else None

    settings_dir = "course_settings/"
    cs = xml(settings_dir + "course_settings.xml")
    pkg.course_settings = flat(cs) if cs is not None else {}
    mm = xml(settings_dir + "module_meta.xml")
    pkg.modules = _module_meta(mm) if mm is not None else pkg.organization
    ag = xml(settings_dir + "assignment_groups.xml")
    pkg.assignment_groups = [
        dict(flat(g), identifier=g.get("identifier", "")) for g in children(ag, "assignmentGroup")
    ]
    rb = xml(settings_dir + "rubrics.xml")
    for r in children(rb, "rubric"):
        criteria = [
            dict(flat(c), ratings=[flat(x) for x in descendants(c, "rating")])
            for c in descendants(r, "criterion")
        ]
        pkg.rubrics.append(dict(flat(r), identifier=r.get("identifier", ""), criteria=criteria))
    ev = xml(settings_dir + "events.xml")
    pkg.events = [dict(flat(e), identifier=e.get("identifier", "")) for e in children(ev, "event")]
    fm = xml(settings_dir + "files_meta.xml")
    for f in descendants(fm, "folder"):
        pkg.files_meta["folder:" + f.get("path", "")] = flat(f)
    for f in descendants(fm, "file"):
        pkg.files_meta[f.get("identifier", "")] = flat(f)

    for res in resources.values():
        kind = res.type
        if res.intendeduse == "syllabus":
            data = z.read(res.href or "")
            pkg.syllabus = _html_document(data)[1] if data else None
        elif kind == "webcontent" and res.href and res.href.startswith("wiki_content/"):
            data = z.read(res.href)
            if data:
                title, body, meta = _html_document(data)
                pkg.pages[res.identifier] = Page(res.identifier, res.href, title, body, meta)
        elif kind == "webcontent" and res.href and res.href.startswith("web_resources/"):
            pkg.files[res.identifier] = res.href
        elif kind.startswith("imsdt_xml"):
            topic = xml(res.files[0] if res.files else None)
            meta = (
                xml(resources[res.dependencies[0]].href)
                if res.dependencies and res.dependencies[0] in resources
                else None
            )
            pkg.topics[res.identifier] = Topic(
                res.identifier, text_of(topic, "title"), text_of(topic, "text"), _topic_meta(meta)
            )
        elif kind.startswith("imswl_xml"):
            link = xml(res.files[0] if res.files else None)
            url = child(link, "url")
            pkg.web_links[res.identifier] = WebLink(
                res.identifier,
                text_of(link, "title"),
                url.get("href", "") if url is not None else "",
                url.get("target") if url is not None else None,
            )
        elif kind == "assignment_xmlv1p0" or any(f.endswith("/assignment_settings.xml") for f in res.files):
            pkg.assignments[res.identifier] = _assignment(z, res)
        elif kind.startswith("imsqti_xml") and ("assessment" in kind or kind == "imsqti_xmlv1p2"):
            pkg.quizzes[res.identifier] = _quiz(z, res, resources)
        elif any(f.endswith("/assessment_meta.xml") for f in res.files) and not any(
            res.identifier in r.dependencies for r in resources.values()
        ):
            pkg.quizzes[res.identifier] = _quiz(z, res, resources)  # a quiz with only its Canvas QTI
    return pkg


def _topic_meta(meta: etree._Element | None) -> dict[str, str]:
    if meta is None:
        return {}
    out = flat(meta)
    assignment = child(meta, "assignment")
    if assignment is not None:
        out["assignment_identifier"] = assignment.get("identifier", "")
        out["assignment_points_possible"] = text_of(assignment, "points_possible")
    return out


def _assignment(z: _Zip, res: Resource) -> Assignment:
    settings_path = next((f for f in res.files if f.endswith("/assignment_settings.xml")), None)
    html_path = next((f for f in res.files if f.endswith(".html")), None)
    settings = parse_xml(z.read(settings_path)) if settings_path and z.read(settings_path) else None
    fields = flat(settings) if settings is not None else {}
    body, title = "", fields.get("title", "")
    ext_path = next((f for f in res.files if f.endswith("/assignment.xml")), None)
    if ext_path and z.read(ext_path):
        ext = parse_xml(z.read(ext_path))
        title = title or text_of(ext, "title")
        body = text_of(ext, "text")
        fields.setdefault("gradable", text_of(ext, "gradable"))
        canvas = [a for a in descendants(child(ext, "extensions"), "assignment")]
        if canvas and not settings_path:
            fields = dict(flat(canvas[0]), **fields)
    if html_path and z.read(html_path):
        body = _html_document(z.read(html_path))[1]
    return Assignment(res.identifier, title, body, fields)


def _quiz(z: _Zip, res: Resource, resources: dict[str, Resource]) -> Quiz:
    cc_path = next((f for f in res.files if f.endswith("assessment_qti.xml")), None)
    meta_res = resources.get(res.dependencies[0]) if res.dependencies else res
    files = (meta_res.files if meta_res else []) + res.files
    meta_path = next((f for f in files if f.endswith("assessment_meta.xml")), None)
    canvas_path = next(
        (
            f
            for f in files
            if f.endswith(".xml.qti")
            or (f.endswith(".xml") and not f.endswith(("assessment_meta.xml", "assessment_qti.xml")))
        ),
        None,
    )
    meta_root = parse_xml(z.read(meta_path)) if meta_path and z.read(meta_path) else None
    settings = flat(meta_root) if meta_root is not None else {}
    if meta_root is not None and child(meta_root, "assignment") is not None:
        settings["assignment_identifier"] = child(meta_root, "assignment").get("identifier", "")
    cc = parse_assessment(z.read(cc_path)) if cc_path and z.read(cc_path) else None
    canvas = parse_assessment(z.read(canvas_path)) if canvas_path and z.read(canvas_path) else None
    parsed = canvas or cc
    title = settings.get("title") or (parsed.title if parsed else "")
    return Quiz(res.identifier, title, settings, cc, canvas)


__all__ = ["read_package", "parse_assessment", "parse_item", "link_references", "Package"]

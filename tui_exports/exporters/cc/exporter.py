"""The Common Cartridge driver: Canvas's ``CCExporter`` + ``Manifest`` + ``Resource`` (spec §4).

Steps run in Canvas's order with its progress checkpoints (spec §2.4).  Every item
is built in memory first and only then written, so a failure (missing blob, HTML
that does not parse) skips that one item with a warning; the warnings also end up
as comments in ``imsmanifest.xml``.  The manifest is written last, once it is known
which resources made it, and the organization is pruned to those.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path

from lxml import etree

from ...model import (
    Assignment,
    CourseSnapshot,
    ExportCanceled,
    ExportResult,
    ModuleItem,
    ModuleItemType,
    OutputFile,
    ProgressFn,
    expected_count,
)
from ...vocab import FORMAT_BY_NAME
from ..common.cc_links import CCLinkRewriter
from ..common.ids import mig_id
from ..common.manifest import Manifest
from ..common.package import PackageWriter, Stepper, slugify
from ..common.render_pool import RenderPool
from ..common.web_resources import PlannedFile, copy_files, plan_files
from ..common.xmlutil import Builder, TextBuilder, canvas_root, render_child
from ..qti import render as quizzes
from ..qti.documents import QuizDocuments, quiz_meta_id
from . import content, render
from . import course_settings as settings
from .profile import Profile, profile_for

CC = FORMAT_BY_NAME["common_cartridge"]

SETTINGS = "course_settings"

#: module item type → select type of the content it points at
ITEM_CONTENT = {
    ModuleItemType.PAGE: "wiki_pages",
    ModuleItemType.ASSIGNMENT: "assignments",
    ModuleItemType.QUIZ: "quizzes",
    ModuleItemType.DISCUSSION: "discussion_topics",
    ModuleItemType.FILE: "attachments",
}


def export_common_cartridge(
    snapshot: CourseSnapshot, workdir: Path, progress: ProgressFn, version: str = "1.1.0"
) -> ExportResult:
    """Write ``<course-slug>-export.imscc`` into ``workdir`` (CC 1.1.0, or 1.3.0)."""
    return CCExporter(snapshot, Path(workdir), progress, profile_for(version)).run()


def content_ref(item: ModuleItem) -> str | None:
    """The resource a module item points at (None for sub-headers)."""
    if item.content_type == ModuleItemType.EXTERNAL_URL:
        return mig_id("content_tags", item.id, "weblink")
    select_type = ITEM_CONTENT.get(item.content_type)
    return mig_id(select_type, item.content_id) if select_type and item.content_id is not None else None


class KeptItems(Mapping):
    """The module items whose content made it into the package (or that point at none), each
    with its identifierref in ``module_meta.xml``: worked out per item as the modules are
    written, not held for the whole course."""

    def __init__(self, exported: Container[str]):
        self.exported = exported

    def _ref(self, item: ModuleItem) -> tuple[bool, str | None]:
        ref = content_ref(item)
        if ref is not None and ref not in self.exported:
            return False, None
        if item.content_type == ModuleItemType.EXTERNAL_URL:
            return True, mig_id("content_tags", item.id)
        return True, ref

    def __contains__(self, item: object) -> bool:
        return isinstance(item, ModuleItem) and self._ref(item)[0]

    def __getitem__(self, item: ModuleItem) -> str | None:
        kept, ref = self._ref(item)
        if not kept:
            raise KeyError(item.id)
        return ref

    def __iter__(self):
        raise TypeError("the kept items are asked one by one, never listed")

    def __len__(self) -> int:
        raise TypeError("the kept items are asked one by one, never counted")


class CCExporter:
    def __init__(self, snapshot: CourseSnapshot, workdir: Path, progress: ProgressFn, profile: Profile):
        self.snapshot = snapshot
        self.sel = snapshot.selection
        self.profile = profile
        self.out = workdir / CC.file_for(slugify(snapshot.course.name, 200, "course"))
        self.steps = Stepper(progress)
        self.warnings: list[str] = []
        self.course_mig = mig_id("courses", snapshot.course.id)
        self.modules = snapshot.selected_modules()

    # ------------------------------------------------------------------ driver
    def run(self) -> ExportResult:
        snap = self.snapshot
        with (
            ExitStack() as stack,
            PackageWriter(self.out, snap.exported_at) as pkg,
            Manifest(
                self.profile.cp_ns,
                mig_id("courses", snap.course.id, "common_cartridge_"),
                self.profile.nsmap,
                self.profile.schema_location,
                self.out.parent,
            ) as manifest,
        ):
            self.pkg, self.manifest = pkg, manifest
            self.files = plan_files(pkg, snap, snap.selected_files(), self.warnings)
            self.rewriter = CCLinkRewriter(snap, {p.file.id: p.below_root for p in self.files})
            self.pool = self._render_pool(stack)
            self.lom = Builder(self.profile.lomimscc_ns)
            self._metadata()
            self.steps.report(5, "Exporting course structure")
            self._organization()
            self.steps.report(10, "Exporting course settings")
            self._course_settings()  # → 25
            if self.pool is None:
                self._each(30, None, "page", snap.selected_pages(), self._page)
            else:
                self._each_rendered(
                    30,
                    None,
                    "page",
                    snap.selected_pages(),
                    render.render_page,
                    self._page_done,
                    render.page_here,
                )
            self.steps.report(32)  # LTI resource links: none in this product
            self._each(
                35, "Exporting assignments", "assignment", self._exported_assignments(), self._assignment
            )
            self._each(37, "Exporting discussions", "discussion topic", snap.selected_topics(), self._topic)
            links = [
                i for m in self.modules for i in m.items if i.content_type == ModuleItemType.EXTERNAL_URL
            ]
            self._each(40, "Exporting web links", "web link", links, self._web_link)
            self.quiz_docs = QuizDocuments(snap, self.rewriter.html, self.warnings)
            if self.pool is None:
                self._each(60, "Exporting quizzes", "quiz", snap.selected_quizzes(), self._quiz)
            else:
                self._each_rendered(
                    60,
                    "Exporting quizzes",
                    "quiz",
                    snap.selected_quizzes(),
                    quizzes.render_quiz,
                    self._quiz_done,
                    quizzes.quiz_here,
                    quizzes.quiz_weight,
                )
            written = copy_files(pkg, self.files, self.steps, 70, self.warnings)
            self._file_resources(written)
            self.steps.report(89, "Finishing the package")
            self._finish(written)
        self.steps.report(100, None)
        return ExportResult(
            files=[OutputFile(self.out, "application/zip", self.pkg.sha256)], warnings=self.warnings
        )

    def _render_pool(self, stack: ExitStack) -> RenderPool | None:
        """The render processes of this export (:mod:`..common.render_pool`), when its pages and
        quizzes weigh enough to pay for starting them; None: it renders them itself."""
        snap = self.snapshot
        weight = expected_count(snap.selected_pages()) + quizzes.QUIZ_WEIGHT * expected_count(
            snap.selected_quizzes()
        )
        pool = quizzes.pool_for(snap, self.rewriter, weight, self.profile.version)
        return stack.enter_context(pool) if pool is not None else None

    def _guard(self, what: str, build: Callable[..., object], *args: object) -> object | None:
        """Run ``build(*args)``; on any error record ``what`` as skipped and return None."""
        try:
            return build(*args)
        except ExportCanceled:
            raise
        except Exception as e:  # noqa: BLE001 — one bad item must not abort the export
            # (deleted or hidden since the snapshot: the ItemGone message says so)
            self.warnings.append(f"Skipped {what}: {quizzes.skip_reason(e)}")
            return None

    def _write_xml(self, path: str, root: etree._Element) -> str:
        return self.pkg.write_xml(self.pkg.unique(path), root)

    # ------------------------------------------------------------------ manifest metadata (5)
    def _metadata(self) -> None:
        course, lom = self.snapshot.course, self.lom
        md = self.manifest.metadata
        self.manifest.b.sub(md, "schema", "IMS Common Cartridge")
        self.manifest.b.sub(md, "schemaversion", self.profile.version)
        root = lom.sub(md, "lom")
        lom.sub(lom.sub(lom.sub(root, "general"), "title"), "string", course.name)
        contribute = lom.sub(lom.sub(root, "lifeCycle"), "contribute")
        lom.sub(lom.sub(contribute, "date"), "dateTime", self.snapshot.exported_at.date().isoformat())
        rights = lom.sub(root, "rights")
        lom.sub(
            lom.sub(rights, "copyrightAndOtherRestrictions"),
            "value",
            "no" if course.license == "public_domain" else "yes",
        )
        name, url = settings.LICENSES.get(course.license, settings.LICENSES["private"])
        lom.sub(lom.sub(rights, "description"), "string", f"{name} - {url}")

    # ------------------------------------------------------------------ organization (10)
    def _organization(self) -> None:
        """One rooted organization; its modules are written with the manifest, pruned to
        the content that made it into the package (:meth:`_organization_modules`).  It is there
        with no module too, its ``LearningModules`` root empty, as Canvas writes it
        (``lib/cc/organization.rb``): some importers fail on an empty ``<organizations/>``."""
        b = self.manifest.b
        org = b.sub(
            self.manifest.organizations, "organization", identifier="org_1", structure="rooted-hierarchy"
        )
        self.org_root: etree._Element | None = b.sub(org, "item", identifier="LearningModules")

    def _organization_modules(self, kept: KeptItems) -> Iterator[bytes]:
        """A folder item per selected module, written in turn into the organization (as text:
        a course's module items are its most numerous elements); a leaf per module item that
        was kept (as in ``module_meta.xml``)."""
        b = TextBuilder(self.profile.cp_ns)  # the manifest's default namespace
        level = sum(1 for _ in self.org_root.iterancestors()) + 1
        for m in self.modules:
            mod = b.element("item", identifier=mig_id("context_modules", m.id))
            b.sub(mod, "title", m.name)
            for item in m.items:
                if item not in kept:
                    continue
                el = b.sub(
                    mod, "item", identifier=mig_id("content_tags", item.id), identifierref=content_ref(item)
                )
                b.sub(el, "title", item.title)
            yield render_child(mod, level)

    # ------------------------------------------------------------------ course settings (15–25)
    def _course_settings(self) -> None:
        snap, sel = self.snapshot, self.sel
        files: list[str] = []

        def write(name: str, root: etree._Element | None) -> None:
            if root is not None:
                files.append(self._write_xml(f"{SETTINGS}/{name}", root))

        if sel.everything or sel.course_settings:
            write("course_settings.xml", settings.course_settings(snap))
        self.module_meta_path = self.pkg.unique(f"{SETTINGS}/module_meta.xml")  # written at the end
        files.append(self.module_meta_path)
        write("assignment_groups.xml", settings.assignment_groups(self._assignment_groups()))
        rubrics = self._rubrics()
        if rubrics:
            write("rubrics.xml", settings.rubrics(rubrics))
        self.files_meta_path = self.pkg.unique(f"{SETTINGS}/files_meta.xml")  # after the files are copied
        files.append(self.files_meta_path)
        flag = self.pkg.write_bytes(
            self.pkg.unique(f"{SETTINGS}/canvas_export.txt"), settings.CANVAS_EXPORT_FLAG.encode()
        )
        self.steps.report(15)
        self.steps.report(20)  # grading standards: none in this product
        events = [
            e
            for e in (
                self._guard(f'calendar event "{e.title}" (id {e.id})', snap.load, e)
                for e in snap.selected_events()
            )
            if e is not None
        ]
        if events:
            root = self._guard("calendar events", settings.events, events, self.rewriter.html)
            if root is not None:
                files.append(self._write_xml(f"{SETTINGS}/events.xml", root))
        self.manifest.resource(self.course_mig, self.profile.lor, href=flag, files=files)
        if sel.everything or sel.syllabus_body:
            self._syllabus()
        self.steps.report(25, "Exporting pages")

    def _syllabus(self) -> None:
        body = self._guard(
            "the syllabus",
            lambda: content.html_page(self.rewriter.fragment(self.snapshot.course.syllabus_body), "Syllabus"),
        )
        if body is not None:
            path = self.pkg.write_bytes(self.pkg.unique(f"{SETTINGS}/syllabus.html"), body)
            self.manifest.resource(
                f"{self.course_mig}_syllabus", self.profile.lor, href=path, intendeduse="syllabus"
            )

    def _exported_assignments(self) -> list[Assignment]:
        """Canvas's ``no_submittables``: assignments of quizzes and topics are written with those."""
        return [
            a
            for a in self.snapshot.selected_assignments()
            if a.quiz_id is None and a.discussion_topic_id is None
        ]

    def _assignment_groups(self):
        snap = self.snapshot
        if self.sel.everything:
            return sorted(snap.assignment_groups, key=lambda g: (g.position, g.id))
        used = {a.assignment_group_id for a in self._exported_assignments()}
        used |= {q.assignment_group_id for q in snap.selected_quizzes()}
        for t in snap.selected_topics():
            a = snap.assignment(t.assignment_id) if t.assignment_id is not None else None
            used.add(a.assignment_group_id if a else None)
        return sorted((g for g in snap.assignment_groups if g.id in used), key=lambda g: (g.position, g.id))

    def _rubrics(self):
        wanted = {r.id for r in self.snapshot.selected_rubrics()}
        wanted |= {a.rubric_id for a in self.snapshot.selected_assignments() if a.rubric_id is not None}
        return [r for r in self.snapshot.rubrics if r.id in wanted]

    # ------------------------------------------------------------------ content (25–60)
    def _each(self, end: float, message: str | None, kind: str, items: list, write: Callable) -> None:
        """Write each item, read whole just then, with ``write``; skip failures; move progress
        on towards ``end``."""
        self.steps.step(end, expected_count(items), message)
        for obj in items:
            what = f'{kind} "{obj.title}" (id {obj.id})'
            self._guard(
                what, lambda o, what=what: write(self._deep_checked(what, self.snapshot.load(o))), obj
            )
            self.steps.advance()
        self.steps.finish()

    def _each_rendered(
        self,
        end: float,
        message: str | None,
        kind: str,
        items: list,
        render_one: Callable,
        done: Callable,
        here: Callable,
        weight: Callable[[object], int] = lambda _: 1,
    ) -> None:
        """:meth:`_each`, the items rendered by the pool: each is read here (``here``: what the
        export keeps of one sent as rows), rendered there (``render_one``, batched by
        ``weight``), and its result written here with ``done(item, result)``, in order, with
        the warnings in the order the serial path gives them."""
        self.steps.step(end, expected_count(items), message)
        jobs = quizzes.jobs(self.snapshot, items, kind, here)
        for (what, item, failed), result in self.pool.ordered(jobs, render_one, weight):
            if failed is None:
                self._guard(what, done, what, item, result)
            else:
                self.warnings.append(f"Skipped {what}: {quizzes.skip_reason(failed)}")
            self.steps.advance()
        self.steps.finish()

    def _deep_checked(self, what: str, obj):
        """The item, after a warning if its HTML had to be flattened (nested past the parser's depth)."""
        warning = quizzes.deep_checked(what, obj)
        if warning:
            self.warnings.append(warning)
        return obj

    def _page(self, page) -> None:
        doc = content.page_document(page, self.rewriter.fragment(page.body))
        self._page_entry(page, self.pkg.write_bytes, doc)

    def _page_done(self, what: str, page, done: render.PageDone) -> None:
        self.warnings += done.warnings
        if done.failed is not None:
            self.warnings.append(f"Skipped {what}: {done.failed}")
        else:
            self._page_entry(page, self.pkg.write_deflated, done.document)

    def _page_entry(self, page, write: Callable, doc) -> None:
        path = write(self.pkg.unique(f"wiki_content/{page.url}.html"), doc)
        self.manifest.resource(mig_id("wiki_pages", page.id), "webcontent", href=path)

    def _assignment(self, a: Assignment) -> None:
        mig = mig_id("assignments", a.id)
        description = self.rewriter.html(a.description)
        page = content.html_page(description, f"Assignment: {a.title}")
        meta = content.assignment_settings(self.snapshot, a)
        ext = content.assignment_extension(a, description) if self.profile.assignment_extension else None
        html_path = self.pkg.write_bytes(
            self.pkg.unique(f"{mig}/{slugify(a.title, 80, 'assignment')}.html"), page
        )
        meta_path = self._write_xml(f"{mig}/assignment_settings.xml", meta)
        if ext is None:
            self.manifest.resource(mig, self.profile.lor, href=html_path, files=[meta_path])
        else:
            ext_path = self._write_xml(f"{mig}/assignment.xml", ext)
            self.manifest.resource(mig, "assignment_xmlv1p0", href=ext_path, files=[html_path, meta_path])

    def _topic(self, topic) -> None:
        mig, meta_mig = mig_id("discussion_topics", topic.id), mig_id("discussion_topics", topic.id, "meta")
        doc = content.topic_document(self.profile, topic, self.rewriter.html(topic.message))
        meta = content.topic_meta(self.snapshot, topic)
        topic_path = self._write_xml(f"{mig}.xml", doc)
        meta_path = self._write_xml(f"{meta_mig}.xml", meta)
        self.manifest.resource(mig, self.profile.discussion, files=[topic_path], dependencies=[meta_mig])
        self.manifest.resource(meta_mig, self.profile.lor, href=meta_path)

    def _web_link(self, item: ModuleItem) -> None:
        mig = mig_id("content_tags", item.id, "weblink")
        doc = content.weblink_document(self.profile, item)
        self.manifest.resource(mig, self.profile.weblink, files=[self._write_xml(f"{mig}.xml", doc)])

    def _quiz(self, quiz) -> None:
        """The CC assessment plus its Canvas settings and full QTI.

        A CC assessment needs at least one item, so a quiz with no question the CC
        profile can express is written as the Canvas resource alone, under the quiz's
        own id (module items still point at it); Canvas wrote an invalid empty section.
        """
        docs = self.quiz_docs
        cc_doc = docs.cc_qti(quiz, self.profile.version)
        meta_doc, canvas_doc = docs.meta(quiz), docs.canvas_qti(quiz)
        self._quiz_entries(quiz, self.pkg.write_bytes, cc_doc, meta_doc, canvas_doc)

    def _quiz_done(self, what: str, quiz, done: quizzes.QuizDone) -> None:
        """:meth:`_quiz` of a quiz whose QTI documents were rendered by the pool (its settings,
        which read the course, are built here, between them, as the serial path does)."""
        self.warnings += done.cc_warnings
        if done.cc_failed is not None:
            self.warnings.append(f"Skipped {what}: {done.cc_failed}")
            return
        meta_doc = self.quiz_docs.meta(quiz)
        self.warnings += done.canvas_warnings
        if done.canvas_failed is not None:
            self.warnings.append(f"Skipped {what}: {done.canvas_failed}")
            return
        self._quiz_entries(quiz, self.pkg.write_deflated, done.cc_document, meta_doc, done.canvas_document)

    def _quiz_entries(self, quiz, write: Callable, cc_doc, meta_doc, canvas_doc) -> None:
        mig, meta_id = mig_id("quizzes", quiz.id), quiz_meta_id(quiz)
        qti_path = write(self.pkg.unique(f"{mig}/assessment_qti.xml"), cc_doc) if cc_doc is not None else None
        meta_path = self._write_xml(f"{mig}/assessment_meta.xml", meta_doc)
        full_path = write(self.pkg.unique(f"non_cc_assessments/{mig}.xml.qti"), canvas_doc)
        if qti_path:
            self.manifest.resource(mig, self.profile.assessment, files=[qti_path], dependencies=[meta_id])
        self.manifest.resource(
            meta_id if qti_path else mig, self.profile.lor, href=meta_path, files=[full_path]
        )

    # ------------------------------------------------------------------ files (60–70)
    def _file_resources(self, written: list[PlannedFile]) -> None:
        for p in written:
            self.manifest.resource(
                mig_id("attachments", p.file.id),
                "webcontent",
                href=p.path,
                metadata=self._instructors_only if p.file.locked else None,
            )

    def _instructors_only(self, md: etree._Element) -> None:
        """A locked file's resource metadata: its intended end users are instructors."""
        lom = Builder(self.profile.lom_ns)
        role = lom.sub(lom.sub(lom.sub(md, "lom"), "educational"), "intendedEndUserRole")
        lom.sub(role, "source", self.profile.role_source)
        lom.sub(role, "value", "Instructor")

    # ------------------------------------------------------------------ finish (89–100)
    def _finish(self, written: list[PlannedFile]) -> None:
        snap = self.snapshot
        # module items whose content made it into the package (or that point at none) → their
        # identifierref in module_meta.xml; the organization keeps the same ones
        kept = KeptItems(self.manifest.identifiers)
        titles = {m.id: m.name for m in snap.modules}
        root = canvas_root("modules")
        self.pkg.write_xml_streamed(
            self.module_meta_path, root, {root: settings.module_meta(self.modules, kept, titles)}
        )
        folders = {f.id: f for f in snap.selected_folders()}
        for p in written:
            f = snap.folder(p.file.folder_id)
            while f is not None and f.id not in folders:
                folders[f.id] = f
                f = snap.folder(f.parent_id) if f.parent_id is not None else None
        self.pkg.write_xml(self.files_meta_path, settings.files_meta(snap, written, folders.values()))
        self.manifest.add_comments(self.warnings)
        fills = {self.org_root: self._organization_modules(kept)} if self.org_root is not None else {}
        self.manifest.write(self.pkg, self.pkg.unique("imsmanifest.xml"), fills)

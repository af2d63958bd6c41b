"""QTI 1.2 for quizzes: the QTI-only export (spec §5.4) and the three quiz documents of a CC.

Per quiz Canvas writes ``assessment_meta.xml`` (its settings, Canvas namespace), the
Canvas-flavour QTI with every question type and question groups as sections, and
for a cartridge also a CC-profile ``assessment_qti.xml`` that holds only the five
types the CC profile knows, with groups flattened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path

from lxml import etree

from ...model import (
    CourseSnapshot,
    ExportResult,
    OutputFile,
    ProgressFn,
    Quiz,
    expected_count,
)
from ...vocab import FORMAT_BY_NAME
from ..common.cc_links import CCLinkRewriter
from ..common.ids import create_key, mig_id
from ..common.manifest import Manifest
from ..common.package import PackageWriter, Stepper, slugify
from ..common.render_pool import RenderPool, processes_for
from ..common.web_resources import copy_files, plan_files
from ..common.xmlutil import Builder, clean
from . import render
from .documents import LOR, QuizDocuments, file_ids_in, quiz_html, quiz_meta_id


def linked_file_ids(snapshot: CourseSnapshot, htmls: Iterable[str]) -> set[int]:
    return file_ids_in(htmls, snapshot.course.id, snapshot.course.host)


def quizzes_linked_files(snapshot: CourseSnapshot, quizzes: Iterable[Quiz], weight: int) -> set[int]:
    """The ids of the files the HTML of ``quizzes`` links to (each read whole), found by render
    processes when they pay for their start (:func:`.render.linked_files`)."""
    processes = processes_for(weight)
    if not processes:
        return linked_file_ids(snapshot, (h for quiz in snapshot.loaded(quizzes) for h in quiz_html(quiz)))
    found: set[int] = set()
    with RenderPool(render.start_links, (snapshot.course.id, snapshot.course.host), processes) as pool:
        jobs = render.jobs(snapshot, quizzes, "quiz", lambda outline, rows: None)
        for _, ids in pool.ordered(jobs, render.linked_files, render.quiz_weight):
            found |= ids or set()
    return found


# --------------------------------------------------------------------------- QTI-only export

CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
IMSMD_NS = "http://www.imsglobal.org/xsd/imsmd_v1p2"


def _qti_manifest(snapshot: CourseSnapshot, spool_dir: Path) -> Manifest:
    """A plain IMS CP 1.1 manifest (:func:`_qti_metadata` describes it).

    Canvas labels this manifest with the CC 1.1 namespace yet fills it with plain
    content-packaging metadata, so it validates against neither; the plain CP
    namespace is what QTI 1.2 packages from other tools use and what validates.
    """
    return Manifest(
        CP_NS,
        create_key(f"course_{snapshot.course.id}", "qti_export_"),
        {None: CP_NS, "imsmd": IMSMD_NS},
        f"{CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd "
        f"{IMSMD_NS} http://www.imsglobal.org/xsd/imsmd_v1p2p2.xsd",
        spool_dir,
    )


def _qti_metadata(snapshot: CourseSnapshot, m: Manifest) -> None:
    """The manifest's IMS MD 1.2 metadata."""
    course = snapshot.course
    m.b.sub(m.metadata, "schema", "IMS Content")
    m.b.sub(m.metadata, "schemaversion", "1.1.3")
    md = Builder(IMSMD_NS)
    lom = md.sub(m.metadata, "lom")

    def langstring(parent: etree._Element, text: str, lang: str = "en") -> None:
        md.sub(parent, "langstring", text).set("{http://www.w3.org/XML/1998/namespace}lang", lang)

    langstring(md.sub(md.sub(lom, "general"), "title"), f'QTI Quiz Export for course "{clean(course.name)}"')
    contribute = md.sub(md.sub(lom, "lifecycle"), "contribute")
    role = md.sub(contribute, "role")
    langstring(md.sub(role, "source"), "LOMv1.0", "x-none")
    langstring(md.sub(role, "value"), "Publisher", "x-none")
    md.sub(md.sub(contribute, "date"), "datetime", snapshot.exported_at.date().isoformat())


def export_qti(snapshot: CourseSnapshot, workdir: Path, progress: ProgressFn) -> ExportResult:
    """Write ``<course-slug>-quiz-export.zip``: Canvas QTI + settings per quiz, and the files they link to."""
    steps = Stepper(progress)
    warnings: list[str] = []
    out = Path(workdir) / FORMAT_BY_NAME["qti"].file_for(slugify(snapshot.course.name, 200, "course"))
    quizzes = snapshot.selected_quizzes()
    wanted = quizzes_linked_files(snapshot, quizzes, render.QUIZ_WEIGHT * expected_count(quizzes))
    with (
        ExitStack() as stack,
        PackageWriter(out, snapshot.exported_at) as pkg,
        _qti_manifest(snapshot, Path(workdir)) as manifest,
    ):
        _qti_metadata(snapshot, manifest)
        planned = plan_files(pkg, snapshot, [f for f in snapshot.files if f.id in wanted], warnings)
        rewriter = CCLinkRewriter(snapshot, {p.file.id: p.below_root for p in planned})
        steps.report(5, "Exporting quizzes")
        docs = QuizDocuments(snapshot, rewriter.html, warnings)
        steps.step(60, expected_count(quizzes))

        def written(quiz: Quiz, write: Callable, qti_doc, meta_doc) -> None:
            mig = mig_id("quizzes", quiz.id)
            qti_path = write(pkg.unique(f"{mig}/{mig}.xml"), qti_doc)
            meta_path = pkg.write_xml(pkg.unique(f"{mig}/assessment_meta.xml"), meta_doc)
            manifest.resource(mig, "imsqti_xmlv1p2", files=[qti_path], dependencies=[quiz_meta_id(quiz)])
            manifest.resource(quiz_meta_id(quiz), LOR, href=meta_path)
            steps.advance()

        pool = render.pool_for(snapshot, rewriter, render.QUIZ_WEIGHT * expected_count(quizzes))
        if pool is None:
            for quiz in quizzes:
                try:
                    quiz = snapshot.load(quiz)
                    qti_doc, meta_doc = docs.canvas_qti(quiz), docs.meta(quiz)
                except Exception as e:  # noqa: BLE001
                    warnings.append(f'Skipped quiz "{quiz.title}" (id {quiz.id}): {e}')
                    steps.advance()
                    continue
                written(quiz, pkg.write_bytes, qti_doc, meta_doc)
        else:  # the same, each quiz's QTI rendered by the pool (render.render_canvas_quiz)
            jobs = render.jobs(snapshot, quizzes, "quiz", render.quiz_here)
            stack.enter_context(pool)
            for (_, quiz, failed), done in pool.ordered(jobs, render.render_canvas_quiz, render.quiz_weight):
                try:
                    if failed is not None:
                        raise failed
                    warnings.extend(done.warnings)
                    if done.failed is not None:
                        raise ValueError(done.failed)  # (its message is the reason)
                    meta_doc = docs.meta(quiz)
                except Exception as e:  # noqa: BLE001
                    warnings.append(f'Skipped quiz "{quiz.title}" (id {quiz.id}): {e}')
                    steps.advance()
                    continue
                written(quiz, pkg.write_deflated, done.document, meta_doc)
        for p in copy_files(pkg, planned, steps, 95, warnings):
            manifest.resource(mig_id("attachments", p.file.id), "webcontent", href=p.path)
        manifest.add_comments(warnings)
        manifest.write(pkg, pkg.unique("imsmanifest.xml"))
    steps.report(100, None)
    return ExportResult(files=[OutputFile(out, "application/zip", pkg.sha256)], warnings=warnings)

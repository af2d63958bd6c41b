"""The ePub exporter (spec §3): a course snapshot → an EPUB 3 book and, when needed, a
companion zip of the files the book cannot hold.

Canvas renders its ePub from a Common Cartridge export made as the requesting user; we
render straight from the snapshot, which already holds only what that user may see.
The engine calls two phases, matching the EpubExport states:

* :func:`render_book` ("exporting", 0→80 %): plan the chapters (:mod:`.chapters`),
  decide embedded vs companion files (:mod:`.media`) and start copying them into
  ``<course name>-<YYYY-Mon-DD_HH-MM-SS>.epub`` and the companion ``.zip`` on another thread
  (:class:`.book.MediaWriter`), while every chapter part is rendered to XHTML on disk
  (:mod:`.render`, :mod:`.sanitize`), plus the navigation document and NCX;
* :func:`package_book` ("generating", 90→100 %): wait for the files, then append the
  documents to the ``.epub`` and close it (:mod:`.book`).

The progress callback may raise :class:`~tui_exports.model.ExportCanceled`; it propagates.
"""

from __future__ import annotations

import shutil
import uuid
import weakref
from pathlib import Path

from tui_exports.model import CourseSnapshot, ExportResult, ProgressFn

from .book import RenderedBook, output_stem, package, start_media
from .chapters import build_plan
from .media import plan_media
from .render import CSS, Renderer, write_nav, write_ncx
from .xhtml import language_tag, title_text, w3c_datetime

__all__ = ["RenderedBook", "render_book", "package_book", "DEFAULT_MAX_EMBED_BYTES"]

DEFAULT_MAX_EMBED_BYTES = 25 * 1024 * 1024
STAGING = "epub-build"


def render_book(
    snapshot: CourseSnapshot,
    workdir: Path,
    progress: ProgressFn,
    *,
    max_embed_bytes: int = DEFAULT_MAX_EMBED_BYTES,
) -> RenderedBook:
    """Phase 1: chapters rendered to ``workdir/epub-build``, media sorted; nothing zipped yet."""
    workdir = Path(workdir)
    staging = workdir / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    course = snapshot.course
    warnings: list[str] = []

    progress(0, "Planning chapters")
    plan = build_plan(snapshot)
    files = list(plan.content.files.values())
    total = 1 + len(files) + sum(p.stop - p.start + 1 for c in plan.chapters for p in c.parts)
    done = 0
    last = -1.0

    def tick(n: int, message: str) -> None:
        nonlocal done, last
        done += n
        percent = round(min(99.0, 100.0 * done / total), 1)
        if percent >= last + 0.5:
            last = percent
            progress(percent, message)

    media = plan_media(
        snapshot, files, max_embed_bytes, warnings.append, tick=lambda: tick(1, "Sorting files")
    )
    lang = language_tag(course.locale)
    stem = output_stem(course.name, snapshot.exported_at)
    # the files are copied into the book on another thread while the chapters render
    writer = start_media(stem, workdir, snapshot.exported_at, media.embedded, media.companion)
    try:
        documents = Renderer(snapshot, plan, media, lang, staging, tick, warnings).write_chapters()
        identifier = "urn:uuid:" + str(
            uuid.uuid5(
                uuid.NAMESPACE_URL,
                f"tui-exports:epub:{course.uuid}:{snapshot.viewer.id}:{snapshot.exported_at.isoformat()}",
            )
        )
        title = title_text(course.name, "Course")
        write_nav(plan, title, lang, staging / "nav.xhtml")
        write_ncx(plan, title, identifier, lang, staging / "toc.ncx")
        plan.close()
        (staging / "style.css").write_text(CSS, encoding="utf-8")
        progress(100, "Chapters rendered")
    except BaseException:
        writer.abort()
        raise
    book = RenderedBook(
        title=title,
        course_code=course.course_code,
        language=lang,
        identifier=identifier,
        modified=w3c_datetime(snapshot.exported_at),
        exported_at=snapshot.exported_at,
        stem=stem,
        staging=staging,
        documents=documents,
        media=media.embedded,
        companion=media.companion,
        warnings=warnings,
        writer=writer,
    )
    weakref.finalize(book, _abandoned, writer)  # never packaged (the job failed between the phases)
    return book


def _abandoned(writer) -> None:
    if not writer.taken:
        writer.abort()


def package_book(book: RenderedBook, workdir: Path, progress: ProgressFn) -> ExportResult:
    """Phase 2: write the ``.epub`` (and the companion ``.zip`` when some files need it)."""
    return package(book, Path(workdir), progress)

"""The cartridge's pages and quizzes rendered in a render process (:mod:`..common.render_pool`).

Each function gives back what the serial path (:class:`.exporter.CCExporter`) would have
written for the item, deflated (:func:`~..common.zipwriter.deflate_whole`), and the warnings
it would have given, in its order; a failure is returned as the reason the serial path
prints, so one bad body still skips that one item with the same warning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from ...html_fragments import deep_warning
from ...model import ItemGone, Page, Quiz
from ..common.cc_links import CCLinkRewriter, PageIndex
from ..common.zipwriter import Deflated, deflate_whole
from ..qti.exporter import QuizDocuments
from . import content

#: The fields of an item whose HTML an export checks for depth.
HTML_FIELDS = ("body", "description", "message")


def skip_reason(e: BaseException) -> str:
    """Why an item was skipped, as its warning says it (``Skipped <what>: <reason>``)."""
    return str(e) if isinstance(e, ItemGone) else f"{type(e).__name__}: {e}"


def deep_checked(what: str, obj: Any) -> str | None:
    """The warning for an item whose HTML had to be flattened (nested past the parser's depth)."""
    return deep_warning(what, *(getattr(obj, name, None) for name in HTML_FIELDS))


@dataclass(frozen=True)
class Setup:
    """What every item of one export needs besides its row, sent once to each process."""

    course_id: int
    host: str | None
    file_paths: dict[int, str]
    pages: PageIndex
    answers: bool
    version: str


class Renderer:
    def __init__(self, setup: Setup):
        self.rewriter = CCLinkRewriter.with_index(setup.course_id, setup.host, setup.file_paths, setup.pages)
        self.warnings: list[str] = []
        self.quiz_docs = QuizDocuments(None, self.rewriter.html, self.warnings, answers=setup.answers)
        self.version = setup.version


def start(setup: Setup) -> Renderer:
    return Renderer(setup)


class PageDone(NamedTuple):
    warnings: list[str]
    failed: str | None
    document: Deflated | None


def whole(item: Any) -> Any:
    """The item a payload holds: whole already, or its rows read by the export
    (:class:`~tui_exports.store.content.ItemRows`), made into it here."""
    return item.build() if hasattr(item, "build") else item


def page_here(outline: Page, rows: Any) -> Page:
    """What the export keeps of a page sent as rows: its outline, at the url it was read with."""
    return replace(outline, url=rows.value("url"))


def quiz_here(outline: Quiz, rows: Any) -> Quiz:
    """What the export keeps of a quiz sent as rows: the quiz without its questions (its
    settings document is built by the export)."""
    return rows.build(questions=False)


def render_page(r: Renderer, payload: tuple[str, Any]) -> PageDone:
    what, page = payload[0], whole(payload[1])
    warning = deep_checked(what, page)
    warnings = [warning] if warning else []
    try:
        doc = content.page_document(page, r.rewriter.fragment(page.body))
    except Exception as e:  # noqa: BLE001 — the item is skipped, as the serial path skips it
        return PageDone(warnings, skip_reason(e), None)
    return PageDone(warnings, None, deflate_whole(doc))


class QuizDone(NamedTuple):
    """The CC assessment (None: no item made it) and the Canvas QTI, each with the warnings
    given before it and the reason it failed (the export builds the settings between them)."""

    cc_warnings: list[str]
    cc_failed: str | None
    cc_document: Deflated | None
    canvas_warnings: list[str]
    canvas_failed: str | None
    canvas_document: Deflated | None


def quiz_weight(payload: tuple[str, Any]) -> int:
    item = payload[1]
    return 1 + len(item.questions[1] if hasattr(item, "build") else item.questions)


def render_quiz(r: Renderer, payload: tuple[str, Any]) -> QuizDone:
    what, quiz = payload[0], whole(payload[1])
    warning = deep_checked(what, quiz)
    out: list[Any] = []
    for build in (lambda: r.quiz_docs.cc_qti(quiz, r.version), lambda: r.quiz_docs.canvas_qti(quiz)):
        r.warnings.clear()
        if warning:
            r.warnings.append(warning)
            warning = None
        try:
            doc = build()
        except Exception as e:  # noqa: BLE001
            out += [list(r.warnings), skip_reason(e), None]
            break
        out += [list(r.warnings), None, deflate_whole(doc) if doc is not None else None]
    r.warnings.clear()
    out += [[], None, None] * ((6 - len(out)) // 3)
    return QuizDone(*out)

"""Quizzes rendered in a render process (:mod:`..common.render_pool`), and what every render
process of a Common Cartridge or a QTI export holds (:class:`Renderer`).

Each function gives back what the serial path would have written for the item, deflated
(:func:`~..common.zipwriter.deflate_whole`), and the warnings it would have given, in its
order; a failure is returned as the reason the serial path gives, so one bad quiz or page
still skips that one item with the same warning.  The pages of a cartridge are in
:mod:`..cc.render`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from ...html_fragments import deep_warning
from ...model import CourseSnapshot, ItemGone, Quiz
from ..common.cc_links import CCLinkRewriter, PageIndex
from ..common.render_pool import RenderPool, processes_for
from ..common.zipwriter import Deflated, deflate_whole
from .documents import QuizDocuments, answers_allowed, file_ids_in, quiz_html

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
    """What a render process holds: the link rewriter, and the quiz documents' writers."""

    def __init__(self, version: str, rewriter: CCLinkRewriter, answers: bool):
        self.rewriter = rewriter
        self.warnings: list[str] = []
        self.quiz_docs = QuizDocuments(None, rewriter.html, self.warnings, answers=answers)
        self.version = version


def start(setup: Setup) -> Renderer:
    rewriter = CCLinkRewriter.with_index(setup.course_id, setup.host, setup.file_paths, setup.pages)
    return Renderer(setup.version, rewriter, setup.answers)


def pool_for(
    snapshot: CourseSnapshot, rewriter: CCLinkRewriter, weight: int, version: str = "1.1.0"
) -> RenderPool | None:
    """The render processes of an export whose items weigh ``weight`` (a page 1, a quiz ``QUIZ_WEIGHT``),
    when they pay for their start; None: the export renders its items itself.  A batch the
    export renders itself uses its own ``rewriter`` (which finds pages in the snapshot: the
    same ids), so the page index is held only until the processes have it."""
    processes = processes_for(weight)
    if not processes:
        return None
    answers = answers_allowed(snapshot)
    setup = Setup(
        snapshot.course.id, snapshot.course.host, rewriter.file_paths, PageIndex(snapshot), answers, version
    )
    return RenderPool(start, (setup,), processes, here=lambda: Renderer(version, rewriter, answers))


#: What a quiz weighs beside a page, before its questions are read.
QUIZ_WEIGHT = 31


def jobs(
    snapshot: CourseSnapshot, items: Iterable[Any], kind: str, here: Callable[[Any, Any], Any]
) -> Iterator[tuple[tuple[str, Any, BaseException | None], Any]]:
    """The pool's jobs for ``items``: ``((what, item as the export keeps it, error), payload)``.
    Each item is read here -- its rows alone when the snapshot's loader can (an admin's: the
    render process makes the item, ``here`` what the export keeps of it), else whole -- and an
    item that cannot be read (gone since the outline) comes with its error and no payload."""
    rows_of = getattr(snapshot.loader, "rows", None)
    for obj in items:
        what = f'{kind} "{obj.title}" (id {obj.id})'
        try:
            rows = rows_of(type(obj), obj.id) if rows_of is not None else None
            if rows is not None:
                yield (what, here(obj, rows), None), (what, rows)
                continue
            item = snapshot.load(obj)  # (rows None: gone, which this says)
        except Exception as e:  # noqa: BLE001 — reported in its turn by the export
            yield (what, obj, e), None
            continue
        yield (what, item, None), (what, item)


def whole(item: Any) -> Any:
    """The item a payload holds: whole already, or its rows read by the export
    (:class:`~tui_exports.store.content.ItemRows`), made into it here."""
    return item.build() if hasattr(item, "build") else item


def quiz_here(outline: Quiz, rows: Any) -> Quiz:
    """What the export keeps of a quiz sent as rows: the quiz without its questions (its
    settings document is built by the export)."""
    return rows.build(questions=False)


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


class CanvasQuizDone(NamedTuple):
    """A QTI export's quiz: the Canvas QTI, the warnings given while it was built, and why it
    failed (as the QTI export says it: the error's message alone)."""

    warnings: list[str]
    failed: str | None
    document: Deflated | None


def render_canvas_quiz(r: Renderer, payload: tuple[str, Any]) -> CanvasQuizDone:
    quiz = whole(payload[1])
    r.warnings.clear()
    try:
        doc = r.quiz_docs.canvas_qti(quiz)
    except Exception as e:  # noqa: BLE001
        return CanvasQuizDone(list(r.warnings), str(e), None)
    finally:
        warnings = list(r.warnings)
        r.warnings.clear()
    return CanvasQuizDone(warnings, None, deflate_whole(doc))


def start_links(course_id: int, host: str | None) -> tuple[int, str | None]:
    """What :func:`linked_files` needs: the course's id and host (a QTI export's first pass)."""
    return course_id, host


def linked_files(course: tuple[int, str | None], payload: tuple[str, Any]) -> set[int]:
    """The ids of the files a quiz's HTML links to."""
    return file_ids_in(quiz_html(whole(payload[1])), *course)

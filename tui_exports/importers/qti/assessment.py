"""One ``<assessment>`` (with its sections, groups and banks) → one :class:`~tui_exports.model.Quiz`.

Canvas writes a quiz as ``assessment/section[@ident=root_section]`` holding loose items and
one sub-section per question group, whose ``selection_ordering`` carries the pick count, the
points per item and, for a group that draws from a bank, ``sourcebank_ref``
(canvas-lms ``lib/cc/qti/qti_generator.rb``; instructure/qti ``lib/qti/v1/models/assessment.rb``
and ``question_group.rb``).  Sections without a selection are plain containers (other tools
write one "Main" section): their items are loose questions.  The library has no question
banks, so a group drawing from one gets that bank's questions; a ``bankentry_item`` gets the one
question it names.  Quiz settings come from Canvas's ``assessment_meta.xml`` when it is given,
else from what QTI carries itself (``qmd_timelimit``, ``cc_maxattempts``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from lxml import etree

from ...model import Quiz, QuizGroup, QuizQuestion
from .items import ItemReader
from .xml import fields, flag, kid, local, number, text, under

SURVEYS = ("survey", "graded_survey")


def read_assessment(
    root: etree._Element,
    *,
    quiz_id: int,
    ids: Callable[[str], int],
    html: Callable[[str], str],
    warn: Callable[[str], None],
    banks: Mapping[str, etree._Element] | None = None,
    meta: etree._Element | None = None,
) -> Quiz:
    """The quiz of ``root`` (a ``<questestinterop>`` holding one ``<assessment>``, or the assessment
    itself; bare items make a quiz of their own), with final ids from ``ids(table)`` and every
    HTML string passed through ``html``.  Whatever cannot be kept is said through ``warn``."""
    return _AssessmentReader(quiz_id, ids, html, warn, banks or {}).read(root, meta)


class _AssessmentReader:
    def __init__(
        self,
        quiz_id: int,
        ids: Callable[[str], int],
        html: Callable[[str], str],
        warn: Callable[[str], None],
        banks: Mapping[str, etree._Element],
    ):
        self.quiz_id = quiz_id
        self.ids = ids
        self.html = html
        self.warn = warn
        self.banks = banks
        self.items = ItemReader(html, warn)
        self.groups: list[QuizGroup] = []
        self.questions: list[QuizQuestion] = []
        self.position = 0
        self._bank_items: dict[str, etree._Element] | None = None

    # ------------------------------------------------------------------ quiz
    def read(self, root: etree._Element, meta: etree._Element | None) -> Quiz:
        assessment = root if local(root) == "assessment" else next(iter(root.iter("{*}assessment")), None)
        container = assessment if assessment is not None else root
        title = ((assessment.get("title") if assessment is not None else "") or "").strip()
        qti_meta = fields(kid(container, "qtimetadata"))
        quiz_type = text(kid(meta, "quiz_type")).strip() if meta is not None else ""
        self.items.survey = quiz_type in SURVEYS or qti_meta.get("qmd_assessmenttype", "").lower() == "survey"
        self.walk(container)
        loose = sum(x.points_possible for x in self.questions if x.group_id is None)
        points = loose + sum(g.pick_count * g.question_points for g in self.groups)
        attempts = qti_meta.get("cc_maxattempts", "").strip().lower()
        settings: dict = {
            "title": title or "Untitled quiz",
            "points_possible": points,
            "time_limit": _int(qti_meta.get("qmd_timelimit")),
            "allowed_attempts": -1 if attempts == "unlimited" else (_int(attempts) or 1),
        }
        if qti_meta.get("qmd_assessmenttype", "").lower() == "survey":
            settings["quiz_type"] = "survey"
        if meta is not None:
            settings.update(self.settings(meta))
        return Quiz(id=self.quiz_id, groups=tuple(self.groups), questions=tuple(self.questions), **settings)

    def settings(self, meta: etree._Element) -> dict:
        """Canvas's ``assessment_meta.xml`` ``<quiz>``: the settings it states."""
        values = {local(el): text(el).strip() for el in meta if local(el)}
        assignment = kid(meta, "assignment")
        out: dict = {}
        if values.get("title"):
            out["title"] = values["title"]
        if "description" in values:
            out["description"] = self.html(values["description"]) if values["description"] else ""
        for name in ("quiz_type", "scoring_policy", "access_code"):
            if values.get(name):
                out[name] = values[name]
        if "hide_results" in values:
            out["hide_results"] = values["hide_results"] or None
        points = number(values.get("points_possible"))
        if points is not None:
            out["points_possible"] = float(points)
        for name in ("time_limit", "allowed_attempts"):
            n = _int(values.get(name))
            if n is not None:
                out[name] = n
        for name in ("shuffle_answers", "show_correct_answers", "one_question_at_a_time", "cant_go_back"):
            b = flag(values.get(name))
            if b is not None:
                out[name] = b
        available = flag(values.get("available"))
        if available is not None:
            out["published"] = available
        for name in ("due_at", "unlock_at", "lock_at"):
            raw = values.get(name) or (text(kid(assignment, name)).strip() if assignment is not None else "")
            when = self.date(raw, name)
            if when is not None:
                out[name] = when
        return out

    def date(self, raw: str, name: str) -> datetime | None:
        if not raw:
            return None
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            self.warn(f"quiz {self.quiz_id}: {name} '{raw[:40]}' is not a date; left empty")
            return None
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)

    # ------------------------------------------------------------------ structure
    def walk(self, container: etree._Element) -> None:
        for child in container:
            name = local(child)
            if name == "section":
                if _selection(child) is not None:
                    self.group(child)
                else:
                    self.walk(child)
            elif name == "item":
                self.position += 1
                self.question(child, self.position, None)
            elif name == "bankentry_item":
                self.bank_entry(child)
            elif name == "itemref":
                item = self.referenced(child)
                if item is not None:
                    self.position += 1
                    self.question(item, self.position, None)

    def group(self, section: etree._Element) -> None:
        selection = _selection(section)
        ident, title = section.get("ident") or "", (section.get("title") or "").strip()
        items = [
            found
            for el in section.iter("{*}item", "{*}itemref")
            if (found := el if local(el) == "item" else self.referenced(el)) is not None
        ]
        for ref in under(selection, "sourcebank_ref") if selection is not None else []:
            bank = self.banks.get(text(ref).strip())
            if bank is None:
                self.warn(
                    f'question group "{title}" ({ident}): it draws from question bank '
                    f"{text(ref).strip()!r}, which is not in the package; "
                    + ("kept with its own questions" if items else "kept empty")
                )
                continue
            items += under(bank, "item")
        raw_pick = text(kid(selection, "selection_number")).strip() if selection is not None else ""
        pick = _int(raw_pick)
        if raw_pick and pick is None:
            self.warn(
                f'question group "{title}" ({ident}): pick count {raw_pick[:20]!r} is not a number; all are picked'
            )
        per = (
            number(text(kid(selection, "selection_extension", "points_per_item")))
            if selection is not None
            else None
        )
        self.position += 1
        gid = self.ids("quiz_groups")
        self.groups.append(
            QuizGroup(
                id=gid,
                name=title or "Question group",
                pick_count=max(pick, 0) if pick is not None else max(len(items), 1),
                question_points=max(float(per), 0.0) if per is not None else 1.0,
                position=self.position,
            )
        )
        for n, item in enumerate(items, start=1):
            self.question(item, n, gid)

    def referenced(self, ref: etree._Element) -> etree._Element | None:
        """The bank question an ``itemref`` names (Canvas writes one for a question of a bank
        in the same course, ``add_ref_or_question``); None, said, when no bank given holds it."""
        if self._bank_items is None:
            self._bank_items = {
                i.get("ident"): i
                for bank in self.banks.values()
                for i in bank.iter("{*}item")
                if i.get("ident")
            }
        target = ref.get("linkrefid") or ""
        found = self._bank_items.get(target)
        if found is None:
            self.warn(f"question reference {target!r}: no question bank in the package holds it; left out")
        return found

    def bank_entry(self, entry: etree._Element) -> None:
        bank_ref, item_ref = entry.get("sourcebank_ref") or "", entry.get("item_ref") or ""
        bank = self.banks.get(bank_ref)
        item = None
        if bank is not None:
            item = next((i for i in under(bank, "item") if i.get("ident") == item_ref), None)
        if item is None:
            self.warn(
                f"bank entry {item_ref!r}: question bank {bank_ref!r} "
                + ("has no such question" if bank is not None else "is not in the package")
                + "; left out"
            )
            return
        points = number(entry.get("points_possible"))
        self.position += 1
        self.question(item, self.position, None, float(points) if points is not None else None)

    def question(
        self, item: etree._Element, position: int, group_id: int | None, points: float | None = None
    ) -> None:
        qid = self.ids("quiz_questions")
        try:
            question = self.items.read(
                item, question_id=qid, position=position, group_id=group_id, points=points
            )
        except Exception as e:  # noqa: BLE001 — one bad item must not sink the quiz
            name = (item.get("title") or "").strip() or "Question"
            self.warn(
                f'question "{name}" ({item.get("ident") or "no ident"}): could not be read ({e}); left out'
            )
            return
        self.questions.append(question)


def _selection(section: etree._Element) -> etree._Element | None:
    order = kid(section, "selection_ordering")
    if order is None:
        return None
    return kid(order, "selection")


def _int(value: str | None) -> int | None:
    n = number(value)
    if n is None:
        return None
    return int(n)

"""QTI 1.2 ``<item>`` writer for every Canvas question type (spec §5.2, ``lib/cc/qti/qti_items.rb``).

One writer serves both flavours: the Canvas flavour (``non_cc_assessments`` and the
QTI export) and the Common Cartridge profile, which differs only in the item
metadata and in accepting just five question types.  When the viewer is not a
course admin the answer key (response processing, feedback, formula answers and
fill-in-the-blank answers) is left out: a student-built package must not carry it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from ...model import Answer, QuestionType, QuizQuestion
from ..common.ids import mig_id
from ..common.xmlutil import Node, TextBuilder, clean

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
q = TextBuilder(QTI_NS)

QT = QuestionType
#: Canvas question type → CC QTI profile (the only types a CC assessment may hold).
CC_PROFILES = {
    QT.MULTIPLE_CHOICE: "cc.multiple_choice.v0p1",
    QT.MULTIPLE_ANSWERS: "cc.multiple_response.v0p1",
    QT.TRUE_FALSE: "cc.true_false.v0p1",
    QT.SHORT_ANSWER: "cc.fib.v0p1",
    QT.ESSAY: "cc.essay.v0p1",
}
CHOICE_TYPES = (QT.MULTIPLE_CHOICE, QT.TRUE_FALSE, QT.MULTIPLE_ANSWERS)
BLANK_TYPES = (QT.MULTIPLE_DROPDOWNS, QT.FILL_IN_MULTIPLE_BLANKS)
NO_SCORING = (QT.TEXT_ONLY, QT.FILE_UPLOAD)


def number(value: float | int | None) -> str:
    """A number as Canvas prints it, without float noise (``33.32`` not ``33.319999``)."""
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return "0"
    return str(Decimal(repr(value)) if isinstance(value, float) else value)


def _dec(value: float | int | None) -> Decimal:
    try:
        return Decimal(repr(float(value or 0)))
    except InvalidOperation:
        return Decimal(0)


def meta_field(parent: Node, label: str, entry: object) -> None:
    field = q.sub(parent, "qtimetadatafield")
    q.sub(field, "fieldlabel", label)
    q.sub(field, "fieldentry", entry)


@lru_cache(maxsize=256)
def shared_field(label: str, entry: str) -> Node:
    """A metadata field that many items carry alike (``question_type``, ``cc_profile``…): one
    element for all of them, written once per indentation level."""
    field = q.element("qtimetadatafield")
    q.sub(field, "fieldlabel", label)
    q.sub(field, "fieldentry", entry)
    field.memo = {}
    return field


def from_missing_word(question: QuizQuestion) -> QuizQuestion:
    """Legacy missing-word questions are written as one-blank multiple dropdowns (as Canvas does)."""
    if question.question_type != QT.MISSING_WORD:
        return question
    blank = next((a.blank_id for a in question.answers if a.blank_id), None) or "drop1"
    text = question.question_text
    if f"[{blank}]" not in text:
        text = f"{text} [{blank}]"
    answers = tuple(replace(a, blank_id=a.blank_id or blank) for a in question.answers)
    return replace(question, question_type=QT.MULTIPLE_DROPDOWNS, question_text=text, answers=answers)


def blanks(question: QuizQuestion) -> dict[str, list[Answer]]:
    """Answers grouped by blank, in the order the blanks first appear."""
    out: dict[str, list[Answer]] = {}
    for a in question.answers:
        out.setdefault(a.blank_id or "blank", []).append(a)
    return out


def correct_in_blank(question: QuizQuestion, answers: list[Answer]) -> list[Answer]:
    """Fill-in-the-blank answers are all accepted when none is weighted; dropdowns need a weight."""
    weighted = [a for a in answers if a.weight > 0]
    if weighted or question.question_type == QT.MULTIPLE_DROPDOWNS:
        return weighted[:1] if question.question_type == QT.MULTIPLE_DROPDOWNS else weighted
    return list(answers)


def matches(question: QuizQuestion) -> list[tuple[int, str]]:
    """The right-hand choices of a matching question (pairs first, then distractors)."""
    seen: dict[int, str] = {}
    for a in question.answers:
        seen.setdefault(a.match_id if a.match_id is not None else a.id, a.right or "")
    for match_id, text in question.matching_distractors:
        seen.setdefault(match_id, text)
    return list(seen.items())


def precision_window(approximate: float, precision: int) -> tuple[Decimal, Decimal]:
    """Canvas's accepted range for an answer given to ``precision`` significant digits."""
    approx = _dec(approximate)
    exponent = math.floor(math.log10(abs(approx))) if approx else 0
    half = Decimal("0.5") * Decimal(10) ** (exponent - max(precision, 1) + 1)
    return approx - half, approx + half


class ItemWriter:
    """Writes ``<item>`` elements; ``html`` rewrites course HTML (it may raise on bad HTML)."""

    def __init__(self, html: Callable[[str], str], for_cc: bool = False, with_answers: bool = True):
        self.html = html
        self.for_cc = for_cc
        self.with_answers = with_answers

    # ------------------------------------------------------------------ item
    def build(self, question: QuizQuestion) -> Node:
        """A detached ``<item>`` (built whole first, so a failure leaves no half item behind)."""
        item = self.start(question)
        item.children += self.body(question)
        return item

    def start(self, question: QuizQuestion) -> Node:
        """The ``<item>`` with its metadata: all that differs between the CC and Canvas flavours."""
        question = from_missing_word(question)
        item = q.element("item", ident=mig_id("quiz_questions", question.id), title=clean(question.name))
        self._metadata(item, question)
        return item

    def body(self, question: QuizQuestion) -> list[Node]:
        """The children of the ``<item>`` after its metadata: presentation, scoring, feedback
        (the same in both flavours, so a cartridge builds them once for its two documents)."""
        question = from_missing_word(question)
        item = q.element("item")
        pres = q.sub(item, "presentation")
        self.html_material(pres, f"<div>{self.html(question.question_text)}</div>")
        self._presentation(pres, question)
        if self.with_answers and question.question_type not in NO_SCORING:
            res = q.sub(item, "resprocessing")
            outcomes = q.sub(res, "outcomes")
            q.sub(outcomes, "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
            self._resprocessing(res, question)
            if res.find("respcondition") is None:  # e.g. a survey question: nothing is right
                item.children.remove(res)
        if self.with_answers:
            self._itemproc_extension(item, question)
            self._feedback(item, question)
        return item.children

    def _metadata(self, item: Node, question: QuizQuestion) -> None:
        meta = q.sub(q.sub(item, "itemmetadata"), "qtimetadata")
        shared = meta.children.append
        if self.for_cc:
            shared(shared_field("cc_profile", CC_PROFILES[question.question_type]))
            if question.question_type == QT.ESSAY:
                shared(shared_field("qmd_computerscored", "No"))
            return
        shared(shared_field("question_type", question.question_type.value))
        shared(shared_field("points_possible", number(float(question.points_possible))))
        if question.answers and question.question_type != QT.CALCULATED:
            meta_field(meta, "original_answer_ids", ",".join(str(a.id) for a in question.answers))

    # ------------------------------------------------------------------ materials
    def html_material(self, parent: Node, html: str) -> None:
        q.sub(q.sub(parent, "material"), "mattext", html, texttype="text/html")

    def answer_material(self, parent: Node, answer: Answer) -> None:
        if answer.html:
            self.html_material(parent, self.html(answer.html))
        else:
            q.sub(q.sub(parent, "material"), "mattext", answer.text, texttype="text/plain")

    # ------------------------------------------------------------------ presentation
    def _presentation(self, pres: Node, question: QuizQuestion) -> None:
        kind = question.question_type
        if kind in CHOICE_TYPES:
            card = "Multiple" if kind == QT.MULTIPLE_ANSWERS else "Single"
            choice = q.sub(q.sub(pres, "response_lid", ident="response1", rcardinality=card), "render_choice")
            for a in question.answers:
                self.answer_material(q.sub(choice, "response_label", ident=str(a.id)), a)
        elif kind in (QT.SHORT_ANSWER, QT.ESSAY):
            fib = q.sub(q.sub(pres, "response_str", ident="response1", rcardinality="Single"), "render_fib")
            q.sub(fib, "response_label", ident="answer1", rshuffle="No")
        elif kind == QT.MATCHING:
            choices = matches(question)
            for a in question.answers:
                lid = q.sub(pres, "response_lid", ident=f"response_{a.id}")
                q.sub(q.sub(lid, "material"), "mattext", a.left or a.text, texttype="text/plain")
                rc = q.sub(lid, "render_choice")
                for match_id, text in choices:
                    q.sub(
                        q.sub(q.sub(rc, "response_label", ident=str(match_id)), "material"), "mattext", text
                    )
        elif kind in BLANK_TYPES:
            for blank, answers in blanks(question).items():
                if kind == QT.FILL_IN_MULTIPLE_BLANKS and not self.with_answers:
                    # the choices of a fill-in blank are its accepted answers: keep them out
                    s = q.sub(pres, "response_str", ident=f"response_{blank}", rcardinality="Single")
                    q.sub(q.sub(s, "material"), "mattext", blank)
                    q.sub(q.sub(s, "render_fib"), "response_label", ident="answer1")
                    continue
                lid = q.sub(pres, "response_lid", ident=f"response_{blank}")
                q.sub(q.sub(lid, "material"), "mattext", blank)
                rc = q.sub(lid, "render_choice")
                for a in answers:
                    self.answer_material(q.sub(rc, "response_label", ident=str(a.id)), a)
        elif kind in (QT.NUMERICAL, QT.CALCULATED):
            s = q.sub(pres, "response_str", ident="response1", rcardinality="Single")
            q.sub(q.sub(s, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
        # text only and file upload: the question text is all there is

    # ------------------------------------------------------------------ scoring
    def _condition(self, res: Node, cont: str | None = None, title: str | None = None):
        cond = q.sub(res, "respcondition", title=title, **({"continue": cont} if cont else {}))
        return cond, q.sub(cond, "conditionvar")

    def _display(self, cond: Node, ident: str) -> None:
        q.sub(cond, "displayfeedback", feedbacktype="Response", linkrefid=ident)

    def _set_score(self, cond: Node, value: str, action: str = "Set") -> None:
        q.sub(cond, "setvar", value, action=action, varname="SCORE")

    def _resprocessing(self, res: Node, question: QuizQuestion) -> None:
        kind = question.question_type
        if question.neutral_comments:
            cond, var = self._condition(res, "Yes")
            q.sub(var, "other")
            self._display(cond, "general_fb")
        if kind in CHOICE_TYPES:
            self._answer_feedback(res, question, lambda a: str(a.id))
            self._choice_scoring(res, question)
        elif kind == QT.SHORT_ANSWER and question.answers:
            self._answer_feedback(res, question, lambda a: a.text)
            cond, var = self._condition(res, "No")
            for a in question.answers:
                q.sub(var, "varequal", a.text, respident="response1")
            self._set_score(cond, "100")
            self._correct_feedback(cond, question)
        elif kind == QT.ESSAY:
            _, var = self._condition(res, "No")
            q.sub(var, "other")
        elif kind == QT.MATCHING:
            self._matching_scoring(res, question)
        elif kind in BLANK_TYPES:
            self._blank_scoring(res, question)
        elif kind == QT.NUMERICAL:
            self._numerical_scoring(res, question)
        elif kind == QT.CALCULATED:
            cond, var = self._condition(res, title="correct")
            q.sub(var, "other")
            self._set_score(cond, "100")
            cond, var = self._condition(res, title="incorrect")
            q.sub(q.sub(var, "not"), "other")
            self._set_score(cond, "0")
        if question.incorrect_comments and kind not in (QT.ESSAY, QT.CALCULATED):
            cond, var = self._condition(res, "Yes")
            q.sub(var, "other")
            self._display(cond, "general_incorrect_fb")

    def _answer_feedback(self, res, question, value: Callable[[Answer], str]) -> None:
        for a in question.answers:
            if a.comments or a.comments_html:
                cond, var = self._condition(res, "Yes")
                q.sub(var, "varequal", value(a), respident="response1")
                self._display(cond, f"{a.id}_fb")

    def _correct_feedback(self, cond, question) -> None:
        if question.correct_comments:
            self._display(cond, "correct_fb")

    def _choice_scoring(self, res, question) -> None:
        if question.question_type == QT.MULTIPLE_ANSWERS:
            if not question.answers:
                return
            cond, var = self._condition(res, "No")
            both = q.sub(var, "and")
            for a in question.answers:
                target = both if a.weight > 0 else q.sub(both, "not")
                q.sub(target, "varequal", str(a.id), respident="response1")
            self._set_score(cond, "100")
            self._correct_feedback(cond, question)
            return
        for a in question.answers:
            if a.weight > 0:
                cond, var = self._condition(res, "No")
                q.sub(var, "varequal", str(a.id), respident="response1")
                self._set_score(cond, "100")
                self._correct_feedback(cond, question)

    def _matching_scoring(self, res, question) -> None:
        if not question.answers:
            return
        share = f"{100 / len(question.answers):.2f}"
        for a in question.answers:
            match_id = str(a.match_id if a.match_id is not None else a.id)
            cond, var = self._condition(res)
            q.sub(var, "varequal", match_id, respident=f"response_{a.id}")
            self._set_score(cond, share, "Add")
            if a.comments or a.comments_html:
                cond, var = self._condition(res)
                q.sub(q.sub(var, "not"), "varequal", match_id, respident=f"response_{a.id}")
                self._display(cond, f"{a.id}_fb")

    def _blank_scoring(self, res, question) -> None:
        groups = blanks(question)
        if not groups:
            return
        share = f"{100 / len(groups):.2f}"
        for blank, answers in groups.items():
            for a in correct_in_blank(question, answers):
                cond, var = self._condition(res)
                q.sub(var, "varequal", str(a.id), respident=f"response_{blank}")
                self._set_score(cond, share, "Add")

    def _numerical_scoring(self, res, question) -> None:
        for a in question.answers:
            cond, var = self._condition(res, "No")
            kind = a.numerical_answer_type or "exact_answer"
            if kind == "range_answer":
                q.sub(var, "vargte", number(a.start), respident="response1")
                q.sub(var, "varlte", number(a.end), respident="response1")
            elif kind == "precision_answer":
                low, high = precision_window(a.approximate or 0.0, a.precision or 1)
                alt = q.sub(var, "or")
                q.sub(alt, "varequal", number(a.approximate or 0.0), respident="response1")
                both = q.sub(alt, "and")
                q.sub(both, "vargt", str(low), respident="response1")
                q.sub(both, "varlte", str(high), respident="response1")
            elif not a.margin:
                q.sub(var, "varequal", number(a.exact or 0.0), respident="response1")
            else:
                exact, margin = _dec(a.exact), abs(_dec(a.margin))
                alt = q.sub(var, "or")
                q.sub(alt, "varequal", number(a.exact or 0.0), respident="response1")
                both = q.sub(alt, "and")
                q.sub(both, "vargte", str(exact - margin), respident="response1")
                q.sub(both, "varlte", str(exact + margin), respident="response1")
            self._set_score(cond, "100")
            if a.comments or a.comments_html:
                self._display(cond, f"{a.id}_fb")

    # ------------------------------------------------------------------ extension & feedback
    def _itemproc_extension(self, item: Node, question: QuizQuestion) -> None:
        calc = question.calculated
        if question.question_type != QT.CALCULATED or not calc:
            return
        node = q.sub(q.sub(item, "itemproc_extension"), "calculated")
        q.sub(node, "answer_tolerance", number(calc.get("answer_tolerance", 0)))
        forms = q.sub(node, "formulas", decimal_places=str(calc.get("formula_decimal_places", 0)))
        for formula in calc.get("formulas", []):
            q.sub(forms, "formula", formula if isinstance(formula, str) else formula.get("formula", ""))
        vars_node = q.sub(node, "vars")
        for var in calc.get("variables", []):
            v = q.sub(vars_node, "var", name=var.get("name", ""), scale=str(var.get("scale", 0)))
            q.sub(v, "min", number(var.get("min", 0)))
            q.sub(v, "max", number(var.get("max", 0)))
        sets = q.sub(node, "var_sets")
        for i, var_set in enumerate(calc.get("var_sets", []), start=1):
            s = q.sub(sets, "var_set", ident=str(var_set.get("id", i)))
            for name, value in (var_set.get("variables") or {}).items():
                q.sub(s, "var", number(value), name=name)
            q.sub(s, "answer", number(var_set.get("answer", 0)))

    def _feedback(self, item: Node, question: QuizQuestion) -> None:
        for ident, text in (
            ("general_fb", question.neutral_comments),
            ("correct_fb", question.correct_comments),
            ("general_incorrect_fb", question.incorrect_comments),
        ):
            if text:
                self._feedback_block(item, ident, text, "")
        for a in question.answers:
            if a.comments or a.comments_html:
                self._feedback_block(item, f"{a.id}_fb", a.comments, a.comments_html)

    def _feedback_block(self, item, ident: str, text: str, html: str) -> None:
        material = q.sub(q.sub(q.sub(item, "itemfeedback", ident=ident), "flow_mat"), "material")
        if html or "<" in text:
            q.sub(material, "mattext", self.html(html or text), texttype="text/html")
        else:
            q.sub(material, "mattext", text, texttype="text/plain")

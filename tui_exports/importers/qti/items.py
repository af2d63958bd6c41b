"""One QTI 1.2 ``<item>`` → one :class:`~tui_exports.model.QuizQuestion`, for every Canvas question type.

Canvas writes the question type in the item's metadata (``question_type``, with
``points_possible`` and ``original_answer_ids``); the CC profile writes ``cc_profile``; other
tools write neither, and the type is told from the item's shape as Canvas's own converter does
(canvas-lms ``gems/plugins/qti_exporter/lib/qti/question_type_educated_guesser.rb`` and
``assessment_item_converter.rb``; instructure/qti ``lib/qti/v1/models/interactions.rb``): one
``response_lid`` is a choice (``rcardinality="Multiple"``: multiple answers, True/False labels:
true/false), several are matching (or blanks when Canvas says so), ``response_num`` or a
decimal ``render_fib`` is numerical, a ``render_fib`` with answers is short answer, one without
is an essay, and an item with no response at all is text only.

Scoring is read back from ``resprocessing`` the way Canvas's exporter writes it
(``lib/cc/qti/qti_items.rb``): a ``varequal`` in a condition that sets a positive score marks a
correct answer, ``<and>``/``<not>`` a multiple-answers key, ``vargte``/``varlte`` a numerical
range, ``<or>`` an exact answer with a margin (``vargte``) or a precision window (``vargt``).
Answers get fresh ids (question id × 1000 + n, as course folders number them), so a stranger's
huge or clashing idents never reach the library.
"""

from __future__ import annotations

import html as htmllib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lxml import etree

from ...html_fragments import parse_fragment, serialize_fragment
from ...model import Answer, QuestionType, QuizQuestion
from .xml import decimal, fields, kid, kids, local, number, text, under

QT = QuestionType
#: Canvas's ``question_type`` metadata → the library's type (``missing_word`` is Canvas's legacy one).
CANVAS_TYPES = {t.value: t for t in QT}
#: The CC QTI profiles (``cc_profile``): the five types a Common Cartridge assessment may hold.
CC_PROFILE_TYPES = {
    "cc.multiple_choice.v0p1": QT.MULTIPLE_CHOICE,
    "cc.multiple_response.v0p1": QT.MULTIPLE_ANSWERS,
    "cc.true_false.v0p1": QT.TRUE_FALSE,
    "cc.fib.v0p1": QT.SHORT_ANSWER,
    "cc.pattern_match.v0p1": QT.SHORT_ANSWER,
    "cc.essay.v0p1": QT.ESSAY,
}
#: Types Canvas's classic quizzes do not have (Quizzes.Next, other tools): kept as text only.
UNSUPPORTED = {
    "ordering_question": "ordering",
    "hot_spot_question": "hot spot",
    "categorization_question": "categorization",
}
#: Types whose answers the item's ``resprocessing`` marks right (a student's export leaves it out).
KEYED = (
    QT.MULTIPLE_CHOICE,
    QT.TRUE_FALSE,
    QT.MULTIPLE_ANSWERS,
    QT.SHORT_ANSWER,
    QT.FILL_IN_MULTIPLE_BLANKS,
    QT.MULTIPLE_DROPDOWNS,
    QT.MISSING_WORD,
    QT.MATCHING,
    QT.NUMERICAL,
)
RESPONSES = ("response_lid", "response_str", "response_num", "response_xy", "response_grp")
FEEDBACK_SLOTS = {
    "general_fb": "neutral_comments",
    "correct_fb": "correct_comments",
    "general_incorrect_fb": "incorrect_comments",
}
LOOKS_HTML = re.compile(
    r"<(p|div|span|br|img|a|b|i|u|em|strong|sub|sup|table|ul|ol|li|pre|code|h[1-6])\b[^<>]*/?>", re.I
)
SCIENTIFIC = re.compile(r"([-+]?[\d.]+)\s*\*\s*10\^([-+]?\d+)")
TESTS = ("varequal", "vargt", "vargte", "varlt", "varlte", "varsubstring")


# --------------------------------------------------------------------------- materials


def material_html(mat: etree._Element | None) -> tuple[str, bool]:
    """A ``<material>`` as (content, is_html): mattext as written, images and media as HTML."""
    if mat is None:
        return "", False
    parts: list[tuple[str, bool]] = []
    for el in mat.iter():
        name = local(el)
        if name in ("mattext", "matemtext"):
            body = text(el)
            texttype = (el.get("texttype") or "").lower()
            # other tools leave texttype out of HTML (Moodle, Blackboard): Canvas sniffs it too
            is_html = texttype == "text/html" or (not texttype and LOOKS_HTML.search(body) is not None)
            if name == "matemtext":
                body, is_html = f"<em>{body if is_html else htmllib.escape(body, quote=False)}</em>", True
            parts.append((body, is_html))
        elif name == "matimage" and el.get("uri"):
            alt = htmllib.escape(el.get("label") or "", quote=True)
            parts.append((f'<img src="{htmllib.escape(el.get("uri"), quote=True)}" alt="{alt}"/>', True))
        elif name in ("mataudio", "matvideo", "matapplet", "matapplication") and el.get("uri"):
            uri = htmllib.escape(el.get("uri"), quote=True)
            parts.append((f'<a href="{uri}">{htmllib.escape(el.get("label") or el.get("uri"))}</a>', True))
        elif name == "matbreak":
            parts.append(("<br/>", True))
    if not parts:
        return "", False
    if len(parts) == 1:
        return parts[0]
    if not any(h for _, h in parts):
        return "".join(p for p, _ in parts), False
    return "".join(p if h else htmllib.escape(p, quote=False) for p, h in parts), True


def html_text(html: str) -> str:
    """The plain text of an HTML fragment."""
    try:
        return "".join(parse_fragment(html).itertext()).strip()
    except (etree.ParserError, ValueError):
        return html


def unwrap_div(html: str) -> str:
    """Take off the one bare ``<div>`` Canvas's exporter (and ours) puts around question text."""
    s = html.strip()
    if not (s.startswith("<div>") and s.endswith("</div>")):
        return html
    try:
        root = parse_fragment(s)
    except (etree.ParserError, ValueError):
        return html
    if len(root) == 1 and not (root.text or "").strip() and not (root[0].tail or "").strip():
        only = root[0]
        if only.tag == "div" and not only.attrib:
            return serialize_fragment(only)
    return html


def _outside_responses(el: etree._Element, stop: etree._Element) -> bool:
    p = el.getparent()
    while p is not None and p is not stop:
        if local(p) in RESPONSES or local(p) == "response_label":
            return False
        p = p.getparent()
    return True


# --------------------------------------------------------------------------- scoring


@dataclass
class Test:
    kind: str  # varequal, vargte…
    respident: str
    value: str
    negated: bool


@dataclass
class Condition:
    node: etree._Element
    score: float | None  # what a Set/Add of SCORE (or any variable) gives; None: no setvar
    tests: list[Test] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    other: bool = False
    answer: str | None = None  # the answer this condition scores (numerical)

    @property
    def positive(self) -> bool:
        return self.score is not None and self.score > 0


def _conditions(item: etree._Element) -> list[Condition]:
    out = []
    for res in kids(item, "resprocessing"):
        for cond in kids(res, "respcondition"):
            score = None
            for setvar in kids(cond, "setvar"):
                value = number(text(setvar))
                action = (setvar.get("action") or "Set").lower()
                if value is not None and action in ("set", "add", "subtract"):
                    value = -value if action == "subtract" else value
                    score = float(value) if score is None else max(score, float(value))
            c = Condition(cond, score)
            var = kid(cond, "conditionvar")
            if var is not None:
                for el in var.iter():
                    name = local(el)
                    if name in TESTS:
                        negated = any(local(a) == "not" for a in el.iterancestors() if a is not var)
                        c.tests.append(Test(name, el.get("respident") or "", text(el).strip(), negated))
                    elif name == "other":
                        c.other = True
            c.feedback = [d.get("linkrefid") or "" for d in kids(cond, "displayfeedback")]
            out.append(c)
    return out


def _correct(conds: list[Condition], respident: str | None = None) -> list[str]:
    """Values a positive condition accepts (``varequal``, not negated), in order, once each."""
    seen: dict[str, None] = {}
    for c in conds:
        if not c.positive:
            continue
        for t in c.tests:
            if t.kind == "varequal" and not t.negated and (respident is None or t.respident == respident):
                seen.setdefault(t.value, None)
    return list(seen)


# --------------------------------------------------------------------------- the reader


@dataclass
class Built:
    """What a type reader hands back: answers keyed by their source ident, and extras."""

    answers: list[tuple[str, Answer]] = field(default_factory=list)
    distractors: list[tuple[int, str]] = field(default_factory=list)
    calculated: dict[str, Any] | None = None
    #: source value a one-test condition names → answer ident (short answer texts, blanks)
    aliases: dict[str, str] = field(default_factory=dict)


class ItemReader:
    """Reads ``<item>`` elements; ``html`` rewrites the links of every HTML string kept."""

    def __init__(self, html: Callable[[str], str], warn: Callable[[str], None]):
        self.html = html
        self.warn = warn
        self.survey = False  # a survey's questions have nothing right: no key is no loss

    # ------------------------------------------------------------------ entry
    def read(
        self,
        item: etree._Element,
        *,
        question_id: int,
        position: int,
        group_id: int | None,
        points: float | None = None,
    ) -> QuizQuestion:
        ident = item.get("ident") or ""
        name = (item.get("title") or "").strip() or "Question"
        meta = fields(kid(item, "itemmetadata"))
        pres = kid(item, "presentation")
        qtype, why = self.question_type(item, meta, pres)
        conds = _conditions(item)
        qtext = self.question_text(pres)
        if points is None:
            points = self.points(item, meta, qtype)
        self._qid = question_id
        self._where = f'question "{name}" ({ident})'
        built = Built()
        if qtype in (QT.MULTIPLE_CHOICE, QT.TRUE_FALSE, QT.MULTIPLE_ANSWERS):
            built = self.choices(pres, conds)
        elif qtype is QT.SHORT_ANSWER:
            built = self.short_answers(conds)
        elif qtype in (QT.FILL_IN_MULTIPLE_BLANKS, QT.MULTIPLE_DROPDOWNS, QT.MISSING_WORD):
            built = self.blanks(pres, conds, qtype)
        elif qtype is QT.MATCHING:
            built = self.matching(pres, conds)
        elif qtype is QT.NUMERICAL:
            built = self.numerical(conds)
        elif qtype is QT.CALCULATED:
            built = self.calculated(item, name, ident)
        comments = self.feedback(item, conds, built, name, ident)
        answers = []
        for src, a in built.answers:
            fb = comments["answers"].get(src)
            if fb:
                body, is_html = fb
                a = _with(a, comments_html=body) if is_html else _with(a, comments=body)
            answers.append(a)
        if why:
            self.warn(f"{self._where}: {why}")
        elif qtype in KEYED and not self.survey and not kids(item, "resprocessing"):
            self.warn(f"{self._where}: the item has no answer key (resprocessing); no answer is marked right")
        return QuizQuestion(
            id=question_id,
            question_type=qtype,
            name=name,
            question_text=qtext,
            points_possible=points,
            position=position,
            group_id=group_id,
            answers=tuple(answers),
            correct_comments=comments["correct_comments"],
            incorrect_comments=comments["incorrect_comments"],
            neutral_comments=comments["neutral_comments"],
            matching_distractors=tuple(built.distractors),
            calculated=built.calculated,
        )

    # ------------------------------------------------------------------ type
    def question_type(
        self, item: etree._Element, meta: dict[str, str], pres: etree._Element | None
    ) -> tuple[QT, str]:
        """The type, and why it is not what the item says when it is kept as less."""
        declared = meta.get("question_type", "").strip()
        if declared in CANVAS_TYPES:
            return CANVAS_TYPES[declared], ""
        if declared in UNSUPPORTED:
            return (
                QT.TEXT_ONLY,
                f"a {UNSUPPORTED[declared]} question is not a Canvas quiz type; kept as text only",
            )
        profile = meta.get("cc_profile", "").strip()
        if profile in CC_PROFILE_TYPES:
            return CC_PROFILE_TYPES[profile], ""
        if pres is None:
            return QT.TEXT_ONLY, ""
        lids = under(pres, "response_lid")
        strs = under(pres, "response_str")
        nums = under(pres, "response_num")
        if under(pres, "response_xy") or under(pres, "render_hotspot"):
            return QT.TEXT_ONLY, "a hot spot question is not a Canvas quiz type; kept as text only"
        if under(pres, "response_grp"):
            return QT.TEXT_ONLY, "a grouped response is not a Canvas quiz type; kept as text only"
        if lids and (strs or nums):
            return QT.TEXT_ONLY, "mixed response kinds are not a Canvas quiz type; kept as text only"
        if len(lids) > 1:
            return QT.MATCHING, ""
        if lids:
            card = (lids[0].get("rcardinality") or "Single").lower()
            if card == "ordered":
                return QT.TEXT_ONLY, "an ordering question is not a Canvas quiz type; kept as text only"
            if card == "multiple":
                return QT.MULTIPLE_ANSWERS, ""
            labels = [html_text(material_html(kid(lb, "material"))[0]).lower() for lb in _labels(lids[0])]
            if sorted(labels) == ["false", "true"]:
                return QT.TRUE_FALSE, ""
            return QT.MULTIPLE_CHOICE, ""
        decimal_fib = any(
            (f.get("fibtype") or "").lower() in ("decimal", "integer", "scientific")
            for f in under(pres, "render_fib")
        )
        if nums or (strs and decimal_fib):
            return QT.NUMERICAL, ""
        if len(strs) > 1:
            return QT.FILL_IN_MULTIPLE_BLANKS, ""
        if strs:
            return (QT.SHORT_ANSWER if _correct(_conditions(item)) else QT.ESSAY), ""
        return QT.TEXT_ONLY, ""

    def points(self, item: etree._Element, meta: dict[str, str], qtype: QT) -> float:
        value = number(meta.get("points_possible") or meta.get("qmd_weighting"))
        if value is None:
            return 0.0 if qtype is QT.TEXT_ONLY else 1.0
        return max(float(value), 0.0)

    # ------------------------------------------------------------------ text
    def question_text(self, pres: etree._Element | None) -> str:
        if pres is None:
            return ""
        parts = [
            material_html(m)
            for m in under(pres, "material")
            if _outside_responses(m, pres) and local(m.getparent()) != "material"
        ]
        out = "".join(p if h else htmllib.escape(p, quote=False) for p, h in parts if p)
        return self.html(unwrap_div(out)) if out else ""

    def answer_material(self, label: etree._Element) -> dict[str, str]:
        body, is_html = material_html(_material_of(label))
        if is_html:
            return {"html": self.html(body), "text": html_text(body)}
        return {"text": body}

    def _aid(self, n: int) -> int:
        return self._qid * 1000 + n

    # ------------------------------------------------------------------ kinds
    def choices(self, pres: etree._Element | None, conds: list[Condition]) -> Built:
        built = Built()
        lid = next(iter(under(pres, "response_lid")), None) if pres is not None else None
        if lid is None:
            return built
        right = set(_correct(conds, lid.get("ident")))
        for k, label in enumerate(_labels(lid), start=1):
            ident = label.get("ident") or str(k)
            built.answers.append(
                (
                    ident,
                    Answer(
                        id=self._aid(k),
                        weight=100.0 if ident in right else 0.0,
                        **self.answer_material(label),
                    ),
                )
            )
        return built

    def short_answers(self, conds: list[Condition]) -> Built:
        built = Built()
        for k, value in enumerate(_correct(conds), start=1):
            built.answers.append((value, Answer(id=self._aid(k), text=value, weight=100.0)))
        return built

    def blanks(self, pres: etree._Element | None, conds: list[Condition], qtype: QT) -> Built:
        built = Built()
        if pres is None:
            return built
        k = 0
        for resp in [r for r in pres.iter() if local(r) in ("response_lid", "response_str")]:
            rid = resp.get("ident") or ""
            blank = text(kid(resp, "material")).strip() or rid.removeprefix("response_")
            right = set(_correct(conds, rid))
            labels = _labels(resp) if local(resp) == "response_lid" else []
            if not labels:  # a fill-in blank written as response_str: its accepted answers are the key
                for value in _correct(conds, rid):
                    k += 1
                    built.answers.append(
                        (f"{rid}\0{value}", Answer(id=self._aid(k), text=value, weight=100.0, blank_id=blank))
                    )
                continue
            for label in labels:
                k += 1
                ident = label.get("ident") or str(k)
                weight = (
                    100.0 if ident in right or (qtype is QT.FILL_IN_MULTIPLE_BLANKS and not right) else 0.0
                )
                built.answers.append(
                    (
                        ident,
                        Answer(id=self._aid(k), weight=weight, blank_id=blank, **self.answer_material(label)),
                    )
                )
        return built

    def matching(self, pres: etree._Element | None, conds: list[Condition]) -> Built:
        built = Built()
        if pres is None:
            return built
        match_ids: dict[str, int] = {}
        rights: dict[str, str] = {}
        lids = under(pres, "response_lid")
        for lid in lids:
            for label in _labels(lid):
                ident = label.get("ident") or ""
                if ident not in match_ids:
                    match_ids[ident] = self._aid(100 + len(match_ids))
                    body, is_html = material_html(_material_of(label))
                    rights[ident] = html_text(body) if is_html else body
        used: set[str] = set()
        for k, lid in enumerate(lids, start=1):
            rid = lid.get("ident") or str(k)
            left_html, is_html = material_html(kid(lid, "material"))
            left = html_text(left_html) if is_html else left_html
            right = next(iter(_correct(conds, rid)), None)
            if right is None or right not in match_ids:
                self.warn(f'{self._where}: matching pair "{left}" has no correct match; kept without one')
            else:
                used.add(right)
            built.answers.append(
                (
                    rid,
                    Answer(
                        id=self._aid(k),
                        left=left,
                        right=rights.get(right or "", ""),
                        match_id=match_ids.get(right or ""),
                        weight=100.0,
                    ),
                )
            )
            built.aliases[rid] = rid
        built.distractors = [(match_ids[i], rights[i]) for i in match_ids if i not in used]
        return built

    def numerical(self, conds: list[Condition]) -> Built:
        built = Built()
        k = 0
        for c in conds:
            if not c.positive or not c.tests:
                continue
            answer = _numeric_answer(c)
            if answer is None:
                continue
            k += 1
            built.answers.append((f"\0cond{k}", Answer(id=self._aid(k), weight=100.0, **answer)))
            c.answer = f"\0cond{k}"
        return built

    def calculated(self, item: etree._Element, name: str, ident: str) -> Built:
        node = kid(item, "itemproc_extension", "calculated")
        if node is None:  # a student's export leaves the formulas out
            self.warn(
                f"{self._where}: a calculated question without its formulas (itemproc_extension); kept without them"
            )
            return Built()
        forms = kid(node, "formulas")
        tolerance = text(kid(node, "answer_tolerance")).strip()
        tol = number(tolerance)
        calc: dict[str, Any] = {
            "formulas": [text(f).strip() for f in kids(forms, "formula")] if forms is not None else [],
            "answer_tolerance": tol if tol is not None else tolerance,
            "formula_decimal_places": number(forms.get("decimal_places")) if forms is not None else 0,
            "variables": [],
            "var_sets": [],
        }
        if calc["formula_decimal_places"] is None:
            calc["formula_decimal_places"] = 0
        for var in under(node, "var"):
            if local(var.getparent()) != "vars":
                continue
            calc["variables"].append(
                {
                    "name": var.get("name") or "",
                    "min": number(text(kid(var, "min"))) or 0,
                    "max": number(text(kid(var, "max"))) or 0,
                    "scale": number(var.get("scale")) or 0,
                }
            )
        for s in under(node, "var_set"):
            values = {v.get("name") or "": _sci(text(v)) for v in kids(s, "var")}
            calc["var_sets"].append({"variables": values, "answer": _sci(text(kid(s, "answer")))})
        return Built(calculated=calc)

    # ------------------------------------------------------------------ feedback
    def feedback(
        self, item: etree._Element, conds: list[Condition], built: Built, name: str, ident: str
    ) -> dict[str, Any]:
        blocks: dict[str, tuple[str, bool]] = {}
        for fb in kids(item, "itemfeedback"):
            fid = fb.get("ident") or ""
            mats = under(fb, "material")
            parts = [material_html(m) for m in mats]
            if not parts:
                continue
            is_html = any(h for _, h in parts)
            body = "".join(p if h or not is_html else htmllib.escape(p, quote=False) for p, h in parts)
            if body:
                blocks[fid] = (self.html(body) if is_html else body, is_html)
        out: dict[str, Any] = {slot: "" for slot in FEEDBACK_SLOTS.values()}
        out["answers"] = {}
        used: set[str] = set()
        for fid, slot in FEEDBACK_SLOTS.items():
            if fid in blocks:
                out[slot] = blocks[fid][0]
                used.add(fid)
        sources = {src for src, _ in built.answers}
        for src in sources:
            if f"{src}_fb" in blocks:
                out["answers"][src] = blocks[f"{src}_fb"]
                used.add(f"{src}_fb")
        for c in conds:
            for fid in c.feedback:
                if fid in FEEDBACK_SLOTS or fid not in blocks:
                    continue
                src = c.answer or _one_answer(c, built, sources)
                if src is not None:  # one block may answer several choices ("Incorrect")
                    out["answers"].setdefault(src, blocks[fid])
                    used.add(fid)
                elif fid not in used and c.positive and not out["correct_comments"]:
                    out["correct_comments"] = blocks[fid][0]
                    used.add(fid)
        for fid, (body, _) in blocks.items():  # Canvas's converter reads the other tools' idents
            if fid in used:
                continue
            low = fid.lower()
            slot = None
            if "incorrect" in low or "wrong" in low or low.endswith("_ic"):
                slot = "incorrect_comments"
            elif "correct" in low or low.endswith("_c"):
                slot = "correct_comments"
            elif "general" in low or low.endswith("_all") or "solution" in low:
                slot = "neutral_comments"
            if slot and not out[slot]:
                out[slot] = body
                used.add(fid)
        for fid in blocks:
            if fid not in used:
                self.warn(f'question "{name}" ({ident}): feedback "{fid}" is attached to nothing; left out')
        return out


# --------------------------------------------------------------------------- helpers


def _labels(resp: etree._Element) -> list[etree._Element]:
    return under(resp, "response_label")


def _material_of(el: etree._Element) -> etree._Element | None:
    """The label's own material, else the first one below it (inside a ``flow_label``)."""
    own = kid(el, "material")
    return own if own is not None else next(iter(under(el, "material")), None)


def _sci(value: str) -> int | float | None:
    """A number, also as Canvas writes large ones in var sets (``1*10^1``)."""
    m = SCIENTIFIC.fullmatch(value.strip())
    if m:
        mantissa, exponent = number(m.group(1)), number(m.group(2))
        if mantissa is not None and isinstance(exponent, int) and abs(exponent) < 300:
            return float(mantissa) * 10.0**exponent
    return number(value)


def _with(a: Answer, **kw: Any) -> Answer:
    from dataclasses import replace

    return replace(a, **kw)


def _one_answer(c: Condition, built: Built, sources: set[str]) -> str | None:
    """The answer a feedback condition is about: one test naming one answer (or one blank pair)."""
    if len(c.tests) != 1:
        return None
    t = c.tests[0]
    for key in (t.value, t.respident, f"{t.respident}\0{t.value}"):
        if key in sources:
            return key
        if key in built.aliases:
            return built.aliases[key]
    return None


def _numeric_answer(c: Condition) -> dict[str, Any] | None:
    """An exact / margin / precision / range answer from one scoring condition."""
    var = kid(c.node, "conditionvar")
    if var is None:
        return None
    tests = {t.kind: t for t in c.tests if not t.negated}
    eq = decimal(tests["varequal"].value) if "varequal" in tests else None
    gte = decimal(tests["vargte"].value) if "vargte" in tests else None
    gt = decimal(tests["vargt"].value) if "vargt" in tests else None
    lte = decimal(tests["varlte"].value) if "varlte" in tests else None
    lt = decimal(tests["varlt"].value) if "varlt" in tests else None
    low, high = (gte if gte is not None else gt), (lte if lte is not None else lt)
    if eq is not None and low is not None and high is not None:
        if gt is not None and gte is None:  # Canvas's precision window: (low, high]
            return {
                "numerical_answer_type": "precision_answer",
                "approximate": float(eq),
                "precision": _precision(eq, (high - low) / 2),
            }
        margin = max(abs(eq - low), abs(high - eq))
        return {"numerical_answer_type": "exact_answer", "exact": float(eq), "margin": float(margin)}
    if eq is not None:
        return {"numerical_answer_type": "exact_answer", "exact": float(eq), "margin": 0.0}
    if low is not None or high is not None:
        return {
            "numerical_answer_type": "range_answer",
            "start": float(low) if low is not None else None,
            "end": float(high) if high is not None else None,
        }
    return None


def _precision(approx: Decimal, half: Decimal) -> int:
    """Significant digits whose half-unit is ``half`` around ``approx`` (inverse of the exporter's window)."""
    if half <= 0:
        return 10
    exponent = math.floor(math.log10(abs(approx))) if approx else 0
    digits = exponent + 1 - round(math.log10(float(half * 2)))
    return max(1, min(int(digits), 16))

"""QTI items for every Canvas question type, question groups, and the QTI-only export."""

from __future__ import annotations

import zipfile

import pytest
from exporter_runs import export_quiz_zip
from lxml import etree
from snapshots import all_question_types_quiz, rich_snapshot, selective

from tui_exports.exporters.common.ids import mig_id
from tui_exports.exporters.common.xmlutil import xml_document
from tui_exports.exporters.qti.exporter import QuizDocuments
from tui_exports.exporters.qti.items import ItemWriter, precision_window
from tui_exports.exporters.qti.items import q as qti
from tui_exports.model import Answer, QuestionType, QuizQuestion

QT = QuestionType
NS = {"q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
QUIZ = all_question_types_quiz()


def parsed(node) -> etree._Element:
    """An item as a document holds it: written, then read back (in the root's namespace)."""
    root = qti.root("questestinterop")
    root.children.append(node)
    return etree.fromstring(xml_document(root))[0]


def item(question_id: int, **kw) -> etree._Element:
    question = next(x for x in QUIZ.questions if x.id == question_id)
    return parsed(ItemWriter(lambda h: h, **kw).build(question))


def xp(el, path: str) -> list:
    return el.xpath(path, namespaces=NS)


def conditions(el) -> list[tuple[str | None, list[str], list[tuple[str, str]]]]:
    """(continue, [tag:respident=value…], [(action, value)…]) per respcondition."""
    out = []
    for cond in xp(el, "q:resprocessing/q:respcondition"):
        tests = [
            f"{etree.QName(v).localname}:{v.get('respident')}={v.text}"
            for v in xp(cond, ".//q:conditionvar//*")
            if v.get("respident")
        ]
        out.append((cond.get("continue"), tests, [(s.get("action"), s.text) for s in xp(cond, "q:setvar")]))
    return out


def meta(el) -> dict[str, str]:
    """The item's (or assessment's) own metadata fields."""
    return {
        f.findtext("q:fieldlabel", namespaces=NS): f.findtext("q:fieldentry", namespaces=NS)
        for f in xp(el, "q:itemmetadata/q:qtimetadata/q:qtimetadatafield | q:qtimetadata/q:qtimetadatafield")
    }


def test_multiple_choice_with_all_feedback():
    el = item(30001)
    assert el.get("ident") == mig_id("quiz_questions", 30001) and el.get("title") == "MC"
    assert meta(el) == {
        "question_type": "multiple_choice_question",
        "points_possible": "2.0",
        "original_answer_ids": "30001,30002,30003",
    }
    assert (
        xp(el, "q:presentation/q:material/q:mattext/text()")[0]
        == "<div><p>How many letters in <b>RED</b>?</p></div>"
    )
    lid = xp(el, "q:presentation/q:response_lid")[0]
    assert (lid.get("ident"), lid.get("rcardinality")) == ("response1", "Single")
    labels = xp(lid, "q:render_choice/q:response_label")
    assert [lb.get("ident") for lb in labels] == ["30001", "30002", "30003"]
    assert xp(labels[2], ".//q:mattext/@texttype") == ["text/html"]
    assert conditions(el) == [
        ("Yes", [], []),  # general (neutral) feedback on <other/>
        ("Yes", ["varequal:response1=30001"], []),
        ("Yes", ["varequal:response1=30002"], []),
        ("No", ["varequal:response1=30002"], [("Set", "100")]),
        ("Yes", [], []),  # general incorrect feedback
    ]
    links = xp(el, "q:resprocessing//q:displayfeedback/@linkrefid")
    assert links == ["general_fb", "30001_fb", "30002_fb", "correct_fb", "general_incorrect_fb"]
    assert xp(el, "q:itemfeedback/@ident") == [
        "general_fb",
        "correct_fb",
        "general_incorrect_fb",
        "30001_fb",
        "30002_fb",
    ]


def test_true_false_and_multiple_answers():
    assert conditions(item(30002)) == [("No", ["varequal:response1=30012"], [("Set", "100")])]
    el = item(30003)
    assert xp(el, "q:presentation/q:response_lid/@rcardinality") == ["Multiple"]
    (cond,) = xp(el, "q:resprocessing/q:respcondition")
    assert [etree.QName(c).localname for c in xp(cond, "q:conditionvar/q:and/*")] == [
        "varequal",
        "not",
        "varequal",
    ]
    assert xp(cond, "q:conditionvar/q:and/q:not/q:varequal/text()") == ["30022"]


def test_short_answer_and_essay():
    el = item(30004)
    s = xp(el, "q:presentation/q:response_str")[0]
    assert (s.get("ident"), s.get("rcardinality")) == ("response1", "Single")
    assert xp(s, "q:render_fib/q:response_label/@ident") == ["answer1"]
    assert conditions(el) == [
        ("Yes", ["varequal:response1=Paris"], []),
        ("No", ["varequal:response1=Paris", "varequal:response1=paris"], [("Set", "100")]),
    ]
    essay = item(30010)
    assert conditions(essay) == [("Yes", [], []), ("No", [], [])]
    assert xp(essay, "q:resprocessing/q:respcondition[2]/q:conditionvar/q:other")


def test_blanks_dropdowns_and_missing_word():
    fimb = item(30005)
    assert xp(fimb, "q:presentation/q:response_lid/@ident") == ["response_c1", "response_c2"]
    assert xp(fimb, "q:presentation/q:response_lid/q:material/q:mattext/text()") == ["c1", "c2"]
    assert conditions(fimb) == [
        (None, ["varequal:response_c1=30041"], [("Add", "50.00")]),
        (None, ["varequal:response_c1=30042"], [("Add", "50.00")]),
        (None, ["varequal:response_c2=30043"], [("Add", "50.00")]),
    ]
    dropdowns = item(30006)
    assert conditions(dropdowns) == [
        (None, ["varequal:response_x=30051"], [("Add", "50.00")]),
        (None, ["varequal:response_y=30054"], [("Add", "50.00")]),
    ]
    missing = item(30013)
    assert meta(missing)["question_type"] == "multiple_dropdowns_question"
    assert xp(missing, "q:presentation/q:material/q:mattext/text()")[0].endswith("[drop1]</div>")
    assert conditions(missing) == [(None, ["varequal:response_drop1=30081"], [("Add", "100.00")])]


def test_matching():
    el = item(30007)
    assert xp(el, "q:presentation/q:response_lid/@ident") == ["response_30061", "response_30062"]
    assert xp(el, "q:presentation/q:response_lid[1]/q:material/q:mattext/text()") == ["Toyota"]
    assert xp(el, "q:presentation/q:response_lid[1]/q:render_choice/q:response_label/@ident") == [
        "901",
        "902",
        "903",
    ]
    assert conditions(el) == [
        (None, ["varequal:response_30061=901"], [("Add", "50.00")]),
        (None, ["varequal:response_30061=901"], []),  # under <not>: per-answer feedback
        (None, ["varequal:response_30062=902"], [("Add", "50.00")]),
    ]


def test_numerical_answers():
    el = item(30008)
    assert xp(el, "q:presentation/q:response_str/q:render_fib/@fibtype") == ["Decimal"]
    assert conditions(el) == [
        (
            "No",
            ["varequal:response1=33.33", "vargte:response1=33.32", "varlte:response1=33.34"],
            [("Set", "100")],
        ),
        ("No", ["vargte:response1=1.0", "varlte:response1=22.0"], [("Set", "100")]),
        (
            "No",
            ["varequal:response1=1000.0", "vargt:response1=999.995", "varlte:response1=1000.005"],
            [("Set", "100")],
        ),
        ("No", ["varequal:response1=7.0"], [("Set", "100")]),
    ]
    low, high = precision_window(0.0123, 2)
    assert (float(low), float(high)) == (pytest.approx(0.0118), pytest.approx(0.0128))  # 2 significant digits


def test_calculated_text_only_and_file_upload():
    el = item(30009)
    assert [c.get("title") for c in xp(el, "q:resprocessing/q:respcondition")] == ["correct", "incorrect"]
    calc = xp(el, "q:itemproc_extension/q:calculated")[0]
    assert xp(calc, "q:formulas/@decimal_places") == ["0"] and xp(calc, "q:formulas/q:formula/text()") == [
        "5 + x"
    ]
    assert xp(calc, "q:vars/q:var/@name") == ["x"] and xp(calc, "q:vars/q:var/q:max/text()") == ["10.0"]
    assert xp(calc, "q:var_sets/q:var_set/q:answer/text()") == ["8.0", "9.0"]
    for qid in (30011, 30012):
        el = item(qid)
        assert not xp(el, "q:resprocessing") and len(xp(el, "q:presentation/*")) == 1


def test_cc_profile_items_carry_cc_metadata_only():
    assert meta(item(30001, for_cc=True)) == {"cc_profile": "cc.multiple_choice.v0p1"}
    assert meta(item(30004, for_cc=True)) == {"cc_profile": "cc.fib.v0p1"}
    assert meta(item(30010, for_cc=True)) == {"cc_profile": "cc.essay.v0p1", "qmd_computerscored": "No"}


def test_answer_key_is_left_out_for_students():
    el = item(30001, with_answers=False)
    assert not xp(el, "q:resprocessing") and not xp(el, "q:itemfeedback")
    assert len(xp(el, ".//q:response_label")) == 3
    fimb = item(30005, with_answers=False)
    assert not xp(fimb, ".//q:response_label[q:material]")
    assert xp(fimb, "q:presentation/q:response_str/@ident") == ["response_c1", "response_c2"]
    assert not xp(item(30009, with_answers=False), "q:itemproc_extension")


def test_groups_become_sections_and_cc_flattens_them(blobs):
    snap = rich_snapshot(blobs)
    docs = QuizDocuments(snap, lambda h: h, [])
    canvas = etree.fromstring(docs.canvas_qti(QUIZ))
    root = xp(canvas, "q:assessment/q:section")[0]
    groups = xp(root, "q:section")
    assert [g.get("ident") for g in groups] == [mig_id("quiz_groups", g.id) for g in QUIZ.groups]
    assert xp(groups[0], "q:selection_ordering/q:selection/q:selection_number/text()") == ["2"]
    assert xp(groups[0], ".//q:points_per_item/text()") == ["3.0"]
    assert len(xp(groups[0], "q:item")) == 3 and not xp(groups[2], "q:item")
    assert meta(xp(canvas, "q:assessment")[0]) == {"qmd_timelimit": "30", "cc_maxattempts": "unlimited"}
    cc = etree.fromstring(docs.cc_qti(QUIZ, "1.3.0"))
    assert "ccv1p3_qtiasiv1p2p1" in cc.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
    assert [m for m in meta(xp(cc, "q:assessment")[0]).items()][:3] == [
        ("cc_profile", "cc.exam.v0p1"),
        ("qmd_assessmenttype", "Examination"),
        ("qmd_scoretype", "Percentage"),
    ]
    assert not xp(cc, "q:assessment/q:section/q:section")
    assert xp(cc, "q:assessment/q:section/q:item/@title")[-3:] == ['G1 A & <B> "C"', "G1 essay", "G2 tf"]


def test_a_failing_question_is_skipped_not_the_quiz(blobs):
    warnings: list[str] = []

    def html(h: str) -> str:
        if "Dogs" in h:
            raise ValueError("bad html")
        return h

    docs = QuizDocuments(rich_snapshot(blobs), html, warnings)
    canvas, cc = etree.fromstring(docs.canvas_qti(QUIZ)), etree.fromstring(docs.cc_qti(QUIZ, "1.1.0"))
    assert len(xp(canvas, "//q:item")) == len(QUIZ.questions) - 1
    assert mig_id("quiz_questions", 30002) not in xp(cc, "//q:item/@ident")
    assert warnings == ['Skipped question "TF" (id 30002) of quiz "Every question type": bad html']


def test_quiz_export_layout_and_progress(blobs, out_dir):
    snap = selective(rich_snapshot(blobs), quizzes={300, 302})
    calls = []
    path, result = export_quiz_zip(snap, out_dir, progress=lambda p, m: calls.append(p))
    assert path.name == "rich-a-b-c-unicode-course-quiz-export.zip" and result.warnings == []
    quiz = mig_id("quizzes", 300)
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        manifest = etree.fromstring(z.read("imsmanifest.xml"))
    assert {
        f"{quiz}/{quiz}.xml",
        f"{quiz}/assessment_meta.xml",
        "web_resources/docs/handout.pdf",
        "imsmanifest.xml",
    } <= names
    assert not any(n.startswith("non_cc_assessments/") or n.endswith("assessment_qti.xml") for n in names)
    assert manifest.get("identifier") == mig_id("courses", 42, "qti_export_")
    res = {r.get("identifier"): r for r in manifest.iter("{*}resource")}
    assert res[quiz].get("type") == "imsqti_xmlv1p2"
    assert res[mig_id("quizzes", 300, "canvas_")].get("href") == f"{quiz}/assessment_meta.xml"
    assert manifest.find("{*}organizations") is not None and len(manifest.find("{*}organizations")) == 0
    assert calls[0] == 5 and 60 in calls and calls[-1] == 100 and calls == sorted(calls)


def test_numbers_print_without_float_noise():
    q = QuizQuestion(
        1,
        QT.NUMERICAL,
        "n",
        "",
        answers=(Answer(1, numerical_answer_type="exact_answer", exact=0.3, margin=0.1),),
    )
    el = parsed(ItemWriter(lambda h: h).build(q))
    assert conditions(el)[0][1] == ["varequal:response1=0.3", "vargte:response1=0.2", "varlte:response1=0.4"]

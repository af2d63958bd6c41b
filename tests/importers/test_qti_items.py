"""QTI 1.2 items → quiz questions: Canvas's samples of every type, the IMS examples (no namespace,
a DOCTYPE), and what cannot be kept (named in a warning, never a crash)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tui_exports.importers.qti import read_assessment
from tui_exports.importers.qti.xml import parse_bytes
from tui_exports.model import QuestionType

QT = QuestionType


@pytest.fixture
def items(shared_dir) -> Path:
    return shared_dir / "samples" / "qti12_xml" / "canvas_items"


@pytest.fixture
def ims(shared_dir) -> Path:
    return shared_dir / "samples" / "qti12_xml" / "ims_spec_examples"


def read(path: Path, banks=None, meta=None, html=lambda h: h):
    warnings: list[str] = []
    counter = itertools.count(1)
    tables: list[str] = []

    def ids(table: str) -> int:
        tables.append(table)
        return next(counter)

    quiz = read_assessment(
        parse_bytes(path.read_bytes()),
        quiz_id=7,
        ids=ids,
        html=html,
        warn=warnings.append,
        banks=banks,
        meta=meta,
    )
    assert set(tables) <= {"quiz_groups", "quiz_questions"}
    return quiz, warnings


def qti_fields(path: Path):
    return parse_bytes(path.read_bytes()).iter("{*}fieldlabel")


def test_every_canvas_type_with_its_answers_weights_and_feedback(items):
    quiz, warnings = read(items / "all_canvas_simple_1.2.xml")
    assert warnings == []
    assert quiz.id == 7 and quiz.title == "Every Canvas Interaction"
    q = [x.question_type for x in quiz.questions]
    assert q == [
        QT.MULTIPLE_CHOICE,
        QT.TRUE_FALSE,
        QT.SHORT_ANSWER,
        QT.FILL_IN_MULTIPLE_BLANKS,
        QT.MULTIPLE_ANSWERS,
        QT.MULTIPLE_DROPDOWNS,
        QT.MATCHING,
        QT.NUMERICAL,
        QT.CALCULATED,
        QT.ESSAY,
    ]
    assert [x.position for x in quiz.questions] == list(range(1, 11))
    mc = quiz.questions[0]
    assert mc.question_text == "<p>Question 1, Multiple Choice, Answer is C</p>"  # Canvas's <div> taken off
    assert [(a.text, a.weight) for a in mc.answers] == [("C", 100), ("A", 0), ("B", 0), ("D", 0)]
    assert mc.answers[1].comments_html == "<p>Answer feedback for A, incorrect</p>"
    assert (mc.correct_comments, mc.incorrect_comments, mc.neutral_comments) == (
        "<p>Item Feedback, Correct</p>",
        "<p>Item Feedback, Incorrect</p>",
        "<p>Item Feedback, Neutral</p>",
    )
    assert len({a.id for x in quiz.questions for a in x.answers}) == sum(
        len(x.answers) for x in quiz.questions
    )
    sa = quiz.questions[2]
    assert [(a.text, a.weight) for a in sa.answers] == [("Blank", 100), ("blank", 100)]
    fimb = quiz.questions[3]
    assert [(a.blank_id, a.text, a.weight) for a in fimb.answers] == [
        ("Multiple", "Multiple", 100),
        ("Multiple", "multiple", 0),
        ("Blanks", "Blanks", 100),
        ("Blanks", "blanks", 0),
    ]
    ma = quiz.questions[4]
    assert [a.text for a in ma.answers if a.weight == 100] == ["A", "B", "C"]
    assert ma.answers[3].html == "<p>A</p>"
    matching = quiz.questions[6]
    pairs = [(a.left, a.right) for a in matching.answers if a.left]
    assert ("A", "1") in pairs and ("B", "2") in pairs
    assert [t for _, t in matching.matching_distractors] == ["C", "D", "E", "F", "3", "4", "5"]
    num = quiz.questions[7]
    assert [
        (a.numerical_answer_type, a.exact, a.start, a.end, a.approximate, a.precision) for a in num.answers
    ] == [
        ("exact_answer", 0.0, None, None, None, None),
        ("range_answer", None, 41.5, 42.5, None, None),
        ("precision_answer", None, None, None, 42.0, 4),
    ]
    assert num.answers[1].comments_html == "<p>Answer Feedback, 41.5-42.5, range</p>"
    calc = quiz.questions[8].calculated
    assert calc["formulas"] == ["42"] and calc["variables"] == [
        {"name": "x", "min": 1.0, "max": 10.0, "scale": 0}
    ]
    assert calc["var_sets"][0] == {"variables": {"x": 5}, "answer": 42.0}


@pytest.mark.parametrize(
    "name, qtype",
    [
        ("canvas_multiple_dropdowns_correct_choice_is_not_the_first.xml", QT.MULTIPLE_DROPDOWNS),
        ("canvas_multiple_fib.xml", QT.FILL_IN_MULTIPLE_BLANKS),
        ("essay.xml", QT.ESSAY),
        ("fib_feedback.xml", QT.SHORT_ANSWER),
        ("formula_mform.xml", QT.CALCULATED),
        ("formula_scientific.xml", QT.CALCULATED),
        ("matching.xml", QT.MATCHING),
        ("multiple_answer.xml", QT.MULTIPLE_ANSWERS),
        ("numeric_margin_error.xml", QT.NUMERICAL),
        ("numeric_precision.xml", QT.NUMERICAL),
        ("text.no.question.xml", QT.TEXT_ONLY),
        ("true_false.xml", QT.TRUE_FALSE),
        ("upload.xml", QT.FILE_UPLOAD),
    ],
)
def test_one_sample_per_type(items, name, qtype):
    quiz, warnings = read(items / name)
    assert [x.question_type for x in quiz.questions] == [qtype]
    assert warnings == []


def test_numbers_as_canvas_writes_them(items):
    (dropdown,) = read(items / "canvas_multiple_dropdowns_correct_choice_is_not_the_first.xml")[0].questions
    assert [(a.blank_id, a.text) for a in dropdown.answers if a.weight == 100] == [("x", "a"), ("y", "d")]
    (margin,) = read(items / "numeric_margin_error.xml")[0].questions
    assert [(a.exact, a.margin) for a in margin.answers] == [(77.0, 7.0)]
    (precision,) = read(items / "numeric_precision.xml")[0].questions
    assert [(a.approximate, a.precision) for a in precision.answers] == [(1000.0, 6)]
    (sci,) = read(items / "formula_scientific.xml")[0].questions
    assert [s["answer"] for s in sci.calculated["var_sets"]] == [10.0, 7.0]
    (mform,) = read(items / "formula_mform.xml")[0].questions
    assert mform.calculated["answer_tolerance"] == "10%" and mform.calculated["formula_decimal_places"] == 2


def test_groups_keep_pick_count_and_points_and_a_missing_bank_is_named(items):
    quiz, warnings = read(items / "question_group.xml")
    assert [(g.name, g.pick_count, g.question_points, g.position) for g in quiz.groups] == [
        ("Group 1 (1/4)", 1, 1.0, 1),
        ("Group 2(3/5)", 3, 1.0, 2),
    ]
    g1, g2 = quiz.groups
    assert len([x for x in quiz.questions if x.group_id == g1.id]) == 4
    assert len([x for x in quiz.questions if x.group_id == g2.id]) == 5
    loose = [x for x in quiz.questions if x.group_id is None]
    assert [x.position for x in loose] == [3]
    assert quiz.points_possible == 1 * 1.0 + 3 * 1.0 + loose[0].points_possible
    assert warnings == [
        'question group "Group 1 (1/4)" (i4663897607358cfba8636ed6127b9466): it draws from question bank '
        "'sourcebank_reference_uuid', which is not in the package; kept with its own questions"
    ]


def test_a_bank_a_group_draws_from_is_materialised(items, tmp_path):
    bank = parse_bytes(
        b"""<questestinterop xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2"><objectbank ident="b1">
        <item ident="q1" title="From the bank"><itemmetadata><qtimetadata><qtimetadatafield>
        <fieldlabel>question_type</fieldlabel><fieldentry>essay_question</fieldentry></qtimetadatafield>
        </qtimetadata></itemmetadata><presentation><material><mattext texttype="text/html">Why?</mattext>
        </material></presentation></item></objectbank></questestinterop>"""
    )[0]
    quiz, warnings = read(items / "question_group.xml", banks={"sourcebank_reference_uuid": bank})
    assert warnings == []
    g1 = quiz.groups[0]
    names = [x.name for x in quiz.questions if x.group_id == g1.id]
    assert len(names) == 5 and names[-1] == "From the bank"
    entry, warnings = read(items / "bank_entry_item.xml", banks={"gafe7177102bee6759845b002c5de397c": bank})
    assert entry.questions == () and "has no such question" in warnings[0]


def test_itemrefs_to_bank_questions(tmp_path):
    bank = parse_bytes(
        b"""<questestinterop><objectbank ident="b"><item ident="q9" title="Banked">
        <presentation><material><mattext>From a bank</mattext></material></presentation></item>
        </objectbank></questestinterop>"""
    )[0]
    path = tmp_path / "refs.xml"
    path.write_text(
        "<questestinterop><assessment ident='A' title='Refs'><section ident='root_section'>"
        "<itemref linkrefid='q9'/><section ident='g' title='G'><selection_ordering><selection>"
        "<selection_number>1</selection_number></selection></selection_ordering><itemref linkrefid='q9'/>"
        "<itemref linkrefid='gone'/></section></section></assessment></questestinterop>"
    )
    quiz, warnings = read(path, banks={"b": bank})
    assert [(q.name, q.question_text, q.group_id is None) for q in quiz.questions] == [
        ("Banked", "From a bank", True),
        ("Banked", "From a bank", False),
    ]
    assert warnings == ["question reference 'gone': no question bank in the package holds it; left out"]


def test_other_tools_types_are_kept_as_text_and_named(items):
    quiz, warnings = read(items / "hot_spot.xml")
    assert {x.question_type for x in quiz.questions} == {QT.TEXT_ONLY}
    assert len(warnings) == 4
    assert warnings[0].startswith(
        'question "this is a hot-spot question" (g515255148f5a3cae1832584071aa8528): '
    )
    assert "hot spot question is not a Canvas quiz type" in warnings[0]
    ordering, warnings = read(items / "ordering.xml")
    assert [x.question_type for x in ordering.questions] == [QT.TEXT_ONLY] and "ordering" in warnings[0]


def test_ims_examples_without_namespace_types_are_inferred(ims):
    expected = {
        "mchc_ir_01.xml": QT.MULTIPLE_CHOICE,
        "mrsp_ir_01.xml": QT.MULTIPLE_ANSWERS,
        "fibs_ir_01.xml": QT.SHORT_ANSWER,
        "fibs_ir_02.xml": QT.FILL_IN_MULTIPLE_BLANKS,
        "fibs_ir_03.xml": QT.ESSAY,
        "fibn_ir_01.xml": QT.NUMERICAL,
        "fibi_ir_02.xml": QT.NUMERICAL,
    }
    for name, qtype in expected.items():
        quiz, _ = read(ims / name)
        assert [x.question_type for x in quiz.questions] == [qtype], name
    (mc,) = read(ims / "mchc_ir_01.xml")[0].questions
    assert [a.text for a in mc.answers if a.weight == 100] == ["15 mm"]
    assert mc.answers[1].comments == "Yes, you are right."
    (audio,) = read(ims / "mchc_ir_03.xml")[0].questions  # Subtract scores the wrong ones down
    assert [a.text for a in audio.answers if a.weight == 100] == ["sound2.wav"]
    (rng,) = read(ims / "fibn_ir_01.xml")[0].questions
    assert [(a.numerical_answer_type, a.start, a.end) for a in rng.answers] == [
        ("range_answer", 12.559, 12.561)
    ]


def test_every_html_string_kept_goes_through_html(items, ims):
    seen: list[str] = []

    def html(h: str) -> str:
        seen.append(h)
        return h.replace("<p>", "<p class='x'>")

    quiz, _ = read(items / "all_canvas_simple_1.2.xml", html=html)
    mc = quiz.questions[0]
    assert mc.question_text.startswith("<p class='x'>")
    assert mc.correct_comments.startswith("<p class='x'>")
    assert mc.answers[0].comments_html.startswith("<p class='x'>")
    (img,) = read(ims / "mchc_ir_02.xml", html=html)[0].questions
    assert '<img src="mchc_ir_02-1.gif"' in img.answers[0].html and img.answers[0].html in seen


def test_quiz_settings_from_assessment_meta(shared_dir):
    folder = shared_dir / "samples" / "imscc_unpacked" / "ccviewer_all-question-types"
    (qti,) = (folder / "non_cc_assessments").iterdir()
    ident = qti.name.split(".")[0]
    meta = parse_bytes((folder / ident / "assessment_meta.xml").read_bytes())
    quiz, warnings = read(qti, meta=meta)
    assert warnings == []
    assert quiz.title == meta.findtext("{*}title")
    assert quiz.quiz_type == meta.findtext("{*}quiz_type")
    assert quiz.points_possible == float(meta.findtext("{*}points_possible"))
    assert quiz.shuffle_answers is (meta.findtext("{*}shuffle_answers") == "true")
    assert quiz.published is (meta.findtext("{*}available") == "true")
    declared = [f.getnext().text for f in qti_fields(qti) if f.text == "question_type"]
    assert [x.question_type.value for x in quiz.questions] == declared and len(set(declared)) == 10


def sample_assessments(shared_dir: Path) -> list[tuple[Path, Path]]:
    """(package folder, QTI file) for every full-QTI and CC-profile assessment of the unpacked samples."""
    out = []
    for folder in sorted((shared_dir / "samples" / "imscc_unpacked").iterdir()):
        out += [(folder, p) for p in sorted(folder.glob("non_cc_assessments/*.qti"))]
        out += [(folder, p) for p in sorted(folder.glob("*/assessment_qti.xml"))]
    return out


def test_every_assessment_of_the_sample_cartridges(shared_dir):
    found = sample_assessments(shared_dir)
    assert len(found) >= 10
    quizzes = 0
    for folder, path in found:
        root = parse_bytes(path.read_bytes())
        if root.find("{*}assessment") is None:
            assert root.find("{*}objectbank") is not None, path  # a bank: its groups read it
            continue
        ident = root.find("{*}assessment").get("ident")
        meta_path = folder / ident / "assessment_meta.xml"
        meta = parse_bytes(meta_path.read_bytes()) if meta_path.exists() else None
        quiz, warnings = read(path, meta=meta)
        assert warnings == [], path
        assert quiz.questions and all(q.question_text for q in quiz.questions), path
        assert quiz.title and quiz.title != "Untitled quiz", path
        declared = [
            f.getnext().text
            for f in qti_fields(path)
            if f.text in ("question_type", "cc_profile") and f.getnext().text != "cc.exam.v0p1"
        ]
        assert len(quiz.questions) == len(declared), path
        if path.name == "assessment_qti.xml":  # the CC profile holds five types only
            assert {q.question_type for q in quiz.questions} <= {
                QT.MULTIPLE_CHOICE,
                QT.MULTIPLE_ANSWERS,
                QT.TRUE_FALSE,
                QT.SHORT_ANSWER,
                QT.ESSAY,
            }
        quizzes += 1
    assert quizzes >= 8


def test_html_without_texttype_is_told_from_its_tags(tmp_path):
    path = tmp_path / "moodle.xml"
    path.write_text(
        "<questestinterop><item ident='m1' title='Moodle'><presentation><material>"
        "<mattext><![CDATA[<p>Is <b>2 &lt; 3</b>?</p>]]></mattext></material>"
        "<response_lid ident='r' rcardinality='Single'><render_choice>"
        "<response_label ident='t'><material><mattext>a &lt; b, plain</mattext></material></response_label>"
        "<response_label ident='f'><material><mattext><![CDATA[<i>no</i>]]></mattext></material></response_label>"
        "</render_choice></response_lid></presentation></item></questestinterop>"
    )
    (q,) = read(path)[0].questions
    assert q.question_text == "<p>Is <b>2 &lt; 3</b>?</p>"
    assert (q.answers[0].text, q.answers[0].html) == ("a < b, plain", "")
    assert (q.answers[1].text, q.answers[1].html) == ("no", "<i>no</i>")

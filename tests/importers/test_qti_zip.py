"""QTI zips into the library: Canvas's and other tools' packages, the samples, and hostile input
(zip slip, symlinks, duplicates, bombs, XXE, billion laughs, a network DTD, deep nesting, huge
numbers): a warning naming the entry or a one-line PackageError, and a failed import changes nothing."""

from __future__ import annotations

import random
import shutil
import socket
import stat
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "exporters"))  # validation.py, exporter_runs.py

from exporter_runs import export_cc  # noqa: E402
from validation import check_cc  # noqa: E402

from tui_exports.engine import select as select_mod  # noqa: E402
from tui_exports.engine import snapshot as snapshot_mod  # noqa: E402
from tui_exports.importers import PackageError, import_path
from tui_exports.importers.qti import import_qti_zip, is_qti_zip  # noqa: E402
from tui_exports.model import QuestionType, Role, User  # noqa: E402
from tui_exports.paths import Home  # noqa: E402
from tui_exports.store import Library  # noqa: E402

QT = QuestionType
NS = 'xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2"'


@pytest.fixture
def library(home):
    lib = Library(Home.from_env(home))
    yield lib
    lib.close()


def state(library: Library) -> tuple:
    db = library.database.db
    counts = tuple(
        db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
        for t in ("courses", "quizzes", "quiz_questions", "files", "folders", "assignments")
    )
    blobs = sorted(p.name for p in Path(library.home.blobs).rglob("*") if p.is_file())
    return counts, blobs


def make_zip(path: Path, entries: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def quiz_xml(title: str = "Quiz", body: str = "", ident: str = "A1") -> str:
    item = body or (
        '<item ident="I1" title="Pick"><presentation><material><mattext texttype="text/html">'
        '&lt;p&gt;Which? &lt;img src="$IMS-CC-FILEBASE$/images/dot%20one.png"&gt;&lt;/p&gt;</mattext></material>'
        '<response_lid ident="r1" rcardinality="Single"><render_choice>'
        '<response_label ident="a"><material><mattext>yes</mattext></material></response_label>'
        '<response_label ident="b"><material><mattext>no</mattext></material></response_label>'
        "</render_choice></response_lid></presentation><resprocessing><respcondition>"
        '<conditionvar><varequal respident="r1">a</varequal></conditionvar>'
        '<setvar action="Set" varname="SCORE">100</setvar></respcondition></resprocessing></item>'
    )
    return f'<questestinterop {NS}><assessment ident="{ident}" title="{title}"><section ident="root_section">{item}</section></assessment></questestinterop>'


def quizzes(library: Library, course_id: int):
    return library.content.course_content(course_id)["quizzes"]


def test_the_sample_zip_of_another_tool(shared_dir, library):
    path = shared_dir / "samples" / "qti12_zip" / "instructure_qti_test_qti_1.2.zip"
    assert is_qti_zip(path)
    report = import_path(library, path)
    assert report.name == "Quiz (Respondus IMS QTI export)" and report.source == "QTI 1.2"
    assert report.warnings == []
    assert (report.types["quizzes"].read, report.types["quizzes"].kept) == (1, 1)
    assert report.types["attachments"].kept == 4  # the .DS_Store is not a course file
    (quiz,) = quizzes(library, report.course_id)
    assert quiz.title == "1.2 Import Quiz"
    assert [q.question_type for q in quiz.questions] == [
        QT.TRUE_FALSE,
        QT.MULTIPLE_CHOICE,
        QT.MULTIPLE_ANSWERS,
    ]
    files = {f.id: f for f in library.content.course_content(report.course_id)["files"]}
    first, second = quiz.questions[0].question_text, quiz.questions[1].question_text
    c = f"/courses/{report.course_id}/files/"
    assert "org0/images" not in first and c in first  # relative to another folder: found by its suffix
    fid = int(first.split(c)[1].split("/")[0])
    assert library.content.file(fid).file.size == files[fid].size == 3740
    assert "$IMS_CC_FILE_BASE$" not in second and c in second
    assert {f.display_name for f in files.values()} == {"contact info.png", "image.png"}


def test_a_canvas_quiz_export_with_settings_and_files(library, tmp_path):
    meta = (
        '<quiz identifier="A1" xmlns="http://canvas.instructure.com/xsd/cccv1p0"><title>Week 1</title>'
        "<description>&lt;p&gt;Read &lt;a href='$CANVAS_COURSE_REFERENCE$/grades'&gt;first&lt;/a&gt;, then "
        "&lt;a href='$CANVAS_OBJECT_REFERENCE$/quizzes/A1'&gt;again&lt;/a&gt; "
        "&lt;a href='$WIKI_REFERENCE$/pages/i123'&gt;gone&lt;/a&gt;&lt;/p&gt;</description><quiz_type>practice_quiz</quiz_type>"
        "<time_limit>15</time_limit><allowed_attempts>-1</allowed_attempts><available>false</available>"
        "<due_at>2026-10-12T23:59:00</due_at></quiz>"
    )
    manifest = (  # Canvas writes the CC 1.1 namespace on its QTI export's manifest (spec §5.4)
        '<manifest identifier="M" xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"><metadata><lom '
        'xmlns="http://www.imsglobal.org/xsd/imsmd_v1p2"><general><title><langstring>Physics quizzes'
        "</langstring></title></general></lom></metadata><resources>"
        '<resource identifier="A1" type="imsqti_xmlv1p2"><file href="A1/A1.xml"/></resource>'
        '<resource identifier="M1" type="associatedcontent/imscc_xmlv1p1/learning-application-resource" '
        'href="A1/assessment_meta.xml"/>'
        '<resource identifier="F1" type="webcontent" href="web_resources/images/dot one.png"/>'
        "</resources></manifest>"
    )
    path = make_zip(
        tmp_path / "week.zip",
        {
            "imsmanifest.xml": manifest,
            "A1/A1.xml": quiz_xml("ignored: the meta has the title"),
            "A1/assessment_meta.xml": meta,
            "web_resources/images/dot one.png": b"\x89PNG fake",
        },
    )
    assert is_qti_zip(path)
    calls: list[tuple] = []
    report = import_path(library, path, progress=lambda *call: calls.append(call))
    assert (report.name, report.source) == ("Physics quizzes", "QTI 1.2 (Canvas)")
    assert report.warnings == [
        "A1/A1.xml: link '$WIKI_REFERENCE$/pages/i123' points at nothing in this package; kept as is"
    ]
    assert "A1/A1.xml" in {what for _, _, what in calls}
    assert [done for done, _, _ in calls] == sorted(done for done, _, _ in calls)  # the bar never goes back
    assert all(done < total for done, total, _ in calls)
    (quiz,) = quizzes(library, report.course_id)
    c = f"/courses/{report.course_id}"
    assert (quiz.title, quiz.quiz_type) == ("Week 1", "practice_quiz")
    assert quiz.description == (
        f'<p>Read <a href="{c}/grades">first</a>, then <a href="{c}/quizzes/{quiz.id}">again</a> '
        '<a href="$WIKI_REFERENCE$/pages/i123">gone</a></p>'
    )
    assert (quiz.time_limit, quiz.allowed_attempts, quiz.published) == (15, -1, False)
    assert quiz.due_at.isoformat() == "2026-10-12T23:59:00+00:00"
    assert quiz.assignment_id is None  # a practice quiz is not graded
    content = library.content.course_content(report.course_id)
    (png,) = content["files"]
    assert [f.full_name for f in content["folders"]] == ["course files", "course files/images"]
    assert png.display_name == "dot one.png" and png.folder_id == content["folders"][1].id
    assert f'src="/courses/{report.course_id}/files/{png.id}/preview"' in quiz.questions[0].question_text


def test_a_zip_of_bare_questestinterop_files_and_broken_ones(shared_dir, library, tmp_path):
    items = shared_dir / "samples" / "qti12_xml" / "canvas_items"
    names = ["essay.xml", "fib.xml", "matching.xml", "choice_vary_points_by_answer.xml"]
    path = make_zip(tmp_path / "items.zip", {n: (items / n).read_bytes() for n in names})
    report = import_path(library, path)
    assert report.name == "items"
    assert (report.types["quizzes"].read, report.types["quizzes"].kept) == (2, 2)
    assert [q.title for q in quizzes(library, report.course_id)] == ["essay", "matching"]
    broken = [w for w in report.warnings if "not well-formed XML" in w]
    assert [w.split(":")[0] for w in broken] == ["fib.xml", "choice_vary_points_by_answer.xml"]
    assert all(w.endswith("; skipped") for w in broken)


def test_the_quizzes_of_a_canvas_cartridge_folder_zipped_as_qti(shared_dir, library, tmp_path):
    """non_cc_assessments of the grouptest cartridge: groups, and a bank file beside them."""
    with zipfile.ZipFile(shared_dir / "samples" / "imscc" / "grouptest_canvas_question_groups.imscc") as src:
        entries = {
            n: src.read(n)
            for n in src.namelist()
            if n.startswith("non_cc_assessments/") and n.endswith(".qti")
        }
    report = import_path(library, make_zip(tmp_path / "grouptest.zip", entries))
    assert report.types["quizzes"].kept == 3 and report.warnings == []
    by_title = {q.title: q for q in quizzes(library, report.course_id)}
    grouped = [q for q in by_title.values() if q.groups]
    assert sorted((g.name, g.pick_count, g.question_points) for q in grouped for g in q.groups) == [
        ("Group 1", 1, 1.0),
        ("Group 1", 2, 3.0),
        ("Group 2", 1, 1.0),
    ]


def test_imported_samples_export_as_valid_cartridges(shared_dir, library, tmp_path):
    """Every sample QTI (the zip, and Canvas's items zipped with their broken ones, whose idents
    repeat across files) becomes a course whose Common Cartridge 1.3 passes the IMS schemas."""
    items = shared_dir / "samples" / "qti12_xml" / "canvas_items"
    zipped = make_zip(tmp_path / "items.zip", {p.name: p.read_bytes() for p in sorted(items.iterdir())})
    for n, path in enumerate(
        [shared_dir / "samples" / "qti12_zip" / "instructure_qti_test_qti_1.2.zip", zipped]
    ):
        report = import_path(library, path)
        snap = snapshot_mod.build_snapshot(library, report.course_id, User(1, "teacher"), Role.TEACHER)
        snap.selection = select_mod.resolve(select_mod.SelectRequest(everything=True), snap)
        out = tmp_path / f"out{n}"
        out.mkdir()
        cartridge, result = export_cc(snap, out, "1.3.0")
        assert result.warnings == []
        assert check_cc(cartridge, shared_dir, "1.3.0") == []
    assert report.types["quizzes"].read == report.types["quizzes"].kept == 48
    assert len({q.id for q in quizzes(library, report.course_id)}) == 48
    links = [w for w in report.warnings if "true_false.xml: link" in w]
    assert links == [
        "true_false.xml: link 'org0/images/image.png' points at no file in the package; kept as is"
    ]


# --------------------------------------------------------------------------- hostile


def refused(library: Library, path: Path, message: str) -> None:
    before = state(library)
    with pytest.raises(PackageError, match=message):
        import_qti_zip(library, path)
    assert state(library) == before


@pytest.mark.parametrize("name", ["../evil.xml", "/abs/evil.xml", "C:/evil.xml", "a/../../evil.xml"])
def test_entries_outside_the_package_are_refused(library, tmp_path, name):
    path = make_zip(tmp_path / "slip.zip", {"quiz.xml": quiz_xml(), name: quiz_xml()})
    refused(library, path, f"entry '{name}' points outside the package")


def test_a_symlink_and_a_duplicate_are_refused(library, tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("quiz.xml", quiz_xml())
        info = zipfile.ZipInfo("images/passwd")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    refused(library, path, "entry 'images/passwd' is a symbolic link")
    dup = tmp_path / "dup.zip"
    with pytest.warns(UserWarning):
        with zipfile.ZipFile(dup, "w") as zf:
            zf.writestr("quiz.xml", quiz_xml())
            zf.writestr("quiz.xml", quiz_xml("again"))
    refused(library, dup, "entry 'quiz.xml' is in the zip twice")


def test_a_zip_bomb_is_refused_and_its_blobs_removed(library, tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("quiz.xml", quiz_xml())
        zf.writestr("a.png", b"\x89PNG small and kept until the bomb")
        zf.writestr("zeros.bin", bytes(8 << 20))
    refused(library, path, "zeros.bin' unpacks 200× beyond its size")


def test_a_failed_import_leaves_no_blob_behind(library, tmp_path, monkeypatch):
    from tui_exports.importers.qti import package

    path = make_zip(tmp_path / "q.zip", {"quiz.xml": quiz_xml(), "x.png": b"new bytes for the library"})
    monkeypatch.setattr(
        package._QtiZip, "owned_assignment", lambda *a: (_ for _ in ()).throw(OSError("disk gone"))
    )
    before = state(library)
    with pytest.raises(OSError, match="disk gone"):
        import_qti_zip(library, path)
    assert state(library) == before


def test_a_damaged_entry_is_one_line(library, tmp_path):
    noise = random.Random(1).randbytes(20_000)  # does not deflate: the entry's bytes are all there
    path = make_zip(tmp_path / "bad.zip", {"quiz.xml": quiz_xml(), "pic.png": noise})
    data = bytearray(path.read_bytes())
    start = data.index(b"pic.png") + 1000  # inside the stored bytes of pic.png
    data[start : start + 200] = bytes(200)
    path.write_bytes(bytes(data))
    refused(library, path, "the zip is damaged|cannot be unpacked")


def test_cartridges_are_not_qti_zips(shared_dir):
    cartridges = sorted((shared_dir / "samples" / "imscc").glob("*.imscc"))
    assert len(cartridges) >= 5 and not any(is_qti_zip(p) for p in cartridges)


def test_not_a_zip_and_no_assessment_are_one_line(library, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really")
    refused(library, junk, "not a zip file")
    empty = make_zip(tmp_path / "empty.zip", {"readme.txt": "nothing"})
    refused(library, empty, "no QTI assessment in this zip")
    assert not is_qti_zip(junk) and not is_qti_zip(empty)
    qti2 = make_zip(
        tmp_path / "qti2.zip",
        {
            "imsmanifest.xml": '<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
            '<resource identifier="r" type="imsqti_item_xmlv2p1" href="item.xml"/></resources></manifest>',
            "item.xml": '<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="i"/>',
        },
    )
    refused(library, qti2, "'item.xml' is QTI 2 \\(1 such entries\\); this version imports QTI 1.2 only")


XXE = """<?xml version="1.0"?>
<!DOCTYPE questestinterop [<!ENTITY xxe SYSTEM "file://{secret}">]>
<questestinterop><assessment ident="A" title="XXE"><section ident="s">
<item ident="I" title="leak"><presentation><material><mattext>before &xxe; after</mattext></material></presentation></item>
</section></assessment></questestinterop>"""

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE questestinterop [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + ']><questestinterop><assessment ident="A" title="laughs"><section ident="s"><item ident="I" title="lol">'
    "<presentation><material><mattext>&lol9;</mattext></material></presentation></item></section></assessment>"
    "</questestinterop>"
)


def test_xxe_and_billion_laughs_are_not_expanded(library, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:secret")
    path = make_zip(
        tmp_path / "x.zip", {"xxe.xml": XXE.replace("{secret}", str(secret)), "laughs.xml": LAUGHS}
    )
    report = import_qti_zip(library, path)
    texts = [q.question_text for quiz in quizzes(library, report.course_id) for q in quiz.questions]
    assert texts == ["before  after"]  # the file is not read, the entity is left out
    (laughs,) = report.warnings  # libxml2 refuses the amplification: the file is named and skipped
    assert laughs.startswith("laughs.xml: not well-formed XML (") and "amplification" in laughs


def test_a_dtd_on_the_network_is_never_fetched(library, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    port = server.getsockname()[1]
    doc = quiz_xml().replace(
        "<questestinterop",
        f'<!DOCTYPE questestinterop SYSTEM "http://127.0.0.1:{port}/ims_qtiasiv1p2p1.dtd">\n<questestinterop',
        1,
    )
    try:
        report = import_qti_zip(library, make_zip(tmp_path / "dtd.zip", {"quiz.xml": doc}))
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody knocked
    finally:
        server.close()
    assert report.types["quizzes"].kept == 1


def test_the_ims_examples_with_their_doctype(shared_dir, library, tmp_path):
    ims = shared_dir / "samples" / "qti12_xml" / "ims_spec_examples"
    folder = tmp_path / "ims"
    shutil.copytree(ims, folder)
    (folder / "ims_qtiasiv1p2p1.dtd").write_text('<!ENTITY % boom SYSTEM "http://127.0.0.1:9/x">')
    entries = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    report = import_qti_zip(library, make_zip(tmp_path / "ims.zip", entries))
    kept = quizzes(library, report.course_id)
    assert len(kept) >= 15
    images = [q for quiz in kept for q in quiz.questions if "mchc_ir_02" in q.name or "Images" in q.name]
    assert images and "/files/" in images[0].answers[0].html  # matimage uri → the course file


def test_deep_nesting_and_huge_numbers(library, tmp_path):
    deep = (
        "<questestinterop><assessment ident='D' title='deep'>" + "<section>" * 10_000 + "</section>" * 10_000
    )
    deep += "</assessment></questestinterop>"
    huge = quiz_xml(
        "huge",
        body=(
            f'<item ident="{"9" * 5000}" title="big"><itemmetadata><qtimetadata><qtimetadatafield>'
            "<fieldlabel>points_possible</fieldlabel><fieldentry>1e999</fieldentry></qtimetadatafield>"
            "</qtimetadata></itemmetadata><presentation><response_str ident='r'><render_fib fibtype='Decimal'/>"
            f"</response_str></presentation><resprocessing><respcondition><conditionvar><varequal respident='r'>"
            f"{'9' * 5000}</varequal></conditionvar><setvar>100</setvar></respcondition></resprocessing></item>"
        ),
    )
    huge = huge.replace(
        '<section ident="root_section">',
        '<section ident="root_section"><section ident="g" title="G"><selection_ordering><selection>'
        f"<selection_number>{'9' * 5000}</selection_number></selection></selection_ordering></section>",
    )
    report = import_qti_zip(library, make_zip(tmp_path / "deep.zip", {"deep.xml": deep, "huge.xml": huge}))
    deep_warning, pick = report.warnings
    assert deep_warning.startswith("deep.xml: not well-formed XML (") and "depth" in deep_warning.lower()
    assert pick.startswith("huge.xml: question group \"G\" (g): pick count '99999999999999999999' is not")
    (quiz,) = quizzes(library, report.course_id)
    (question,) = quiz.questions
    assert question.question_type is QT.NUMERICAL and question.points_possible == 1.0
    assert question.answers == ()  # a 5,000-digit number is no answer
    assert quiz.groups[0].pick_count == 1

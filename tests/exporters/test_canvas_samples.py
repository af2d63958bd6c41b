"""Our Canvas-namespace files against real Canvas exports in ``../shared/samples``.

There is no schema for Canvas's ``cccv1p0`` files here, so "as Canvas writes them" is
checked against the samples: same root element, and the elements both write appear in
Canvas's order (importers that read them positionally keep working).
"""

from __future__ import annotations

import zipfile

import pytest
from cc_reader import read_package
from exporter_runs import export_cc
from lxml import etree
from snapshots import rich_snapshot

from tui_exports.exporters.common.ids import mig_id

ASSOC = "imscc_unpacked/ccviewer_course-with-associated-content-assignments"
COURSE1 = "imscc_unpacked/ccviewer_course-1"


def tags(root: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in root if isinstance(c.tag, str)]


def assert_same_order(ours: list[str], canvas: list[str]) -> None:
    """Elements both write come in the same order (repeats count once)."""
    ours, canvas = list(dict.fromkeys(ours)), list(dict.fromkeys(canvas))
    assert [t for t in ours if t in canvas] == [t for t in canvas if t in ours], (ours, canvas)


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    out = tmp_path_factory.mktemp("ours")
    path, _ = export_cc(rich_snapshot(out / "blobs"), out, "1.1.0")
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize(
    "ours_name, sample_path, core",
    [
        (
            f"{mig_id('assignments', 600)}/assignment_settings.xml",
            f"{ASSOC}/i082d21cb1c9d8a6639d6f76f29cd5416/assignment_settings.xml",
            {
                "title",
                "due_at",
                "workflow_state",
                "points_possible",
                "grading_type",
                "submission_types",
                "position",
            },
        ),
        (
            f"{mig_id('discussion_topics', 800, 'meta')}.xml",
            f"{ASSOC}/i2d2420e53aaf53f5ac4a4495e0c8cb70.xml",
            {"topic_id", "title", "position", "type", "discussion_type", "workflow_state"},
        ),
        (
            f"{mig_id('quizzes', 300)}/assessment_meta.xml",
            f"{ASSOC}/i9dede821e375f4888540a2095824f51e/assessment_meta.xml",
            {
                "title",
                "description",
                "shuffle_answers",
                "scoring_policy",
                "quiz_type",
                "points_possible",
                "show_correct_answers",
                "allowed_attempts",
                "assignment",
                "assignment_group_identifierref",
            },
        ),
        (
            "course_settings/course_settings.xml",
            f"{COURSE1}/course_settings/course_settings.xml",
            {"title", "course_code", "start_at", "conclude_at", "default_view", "license"},
        ),
        (
            "course_settings/assignment_groups.xml",
            f"{COURSE1}/course_settings/assignment_groups.xml",
            {"assignmentGroup"},
        ),
        ("course_settings/module_meta.xml", f"{COURSE1}/course_settings/module_meta.xml", {"module"}),
        (
            "course_settings/rubrics.xml",
            "imscc_unpacked/ccviewer_assignment-rubrics/course_settings/rubrics.xml",
            {"rubric"},
        ),
    ],
)
def test_canvas_metadata_files_follow_canvas_order(shared_dir, ours, ours_name, sample_path, core):
    mine = etree.fromstring(ours[ours_name])
    canvas = etree.parse(str(shared_dir / "samples" / sample_path)).getroot()
    assert etree.QName(mine) == etree.QName(canvas)
    assert core <= set(tags(mine))
    assert_same_order(tags(mine), tags(canvas))
    # one level down too: assignment groups, modules and their items, rubrics and criteria
    for child_tag in ("assignmentGroup", "module", "rubric", "assignment"):
        a, b = mine.find(f"{{*}}{child_tag}"), canvas.find(f"{{*}}{child_tag}")
        if a is not None and b is not None:
            assert_same_order(tags(a), tags(b))
    a, b = mine.find(".//{*}items/{*}item"), canvas.find(".//{*}items/{*}item")
    if a is not None and b is not None:
        assert_same_order(tags(a), tags(b))


def test_wiki_page_meta_names_are_canvas_names(shared_dir, ours):
    canvas = read_package(shared_dir / "samples" / ASSOC)
    known = {
        "identifier",
        "editing_roles",
        "notify_of_update",
        "workflow_state",
        "front_page",
        "module_locked",
        "assignment_identifier",
        "todo_date",
    }
    mine = read_package(_zip_bytes(ours))
    for page in list(mine.pages.values()) + list(canvas.pages.values()):
        assert set(page.meta) <= known


def test_qti_items_follow_canvas_structure(shared_dir, ours):
    canvas_doc = etree.parse(
        str(
            shared_dir / "samples" / "imscc_unpacked/ccviewer_all-question-types/"
            "non_cc_assessments/iaa8f9f400b29e514ea8d28fd7ed067f4.xml.qti"
        )
    ).getroot()
    mine = etree.fromstring(ours[f"non_cc_assessments/{mig_id('quizzes', 300)}.xml.qti"])

    def by_type(root):
        out = {}
        for item in root.iter("{*}item"):
            qtype = item.xpath(
                ".//*[local-name()='fieldlabel'][.='question_type']/../*[local-name()='fieldentry']"
            )
            out.setdefault(qtype[0].text, item)
        return out

    theirs, ours_items = by_type(canvas_doc), by_type(mine)
    assert set(theirs) <= set(ours_items)
    for qtype, item in theirs.items():
        assert_same_order(tags(ours_items[qtype]), tags(item))
        pres_a, pres_b = ours_items[qtype].find("{*}presentation"), item.find("{*}presentation")
        assert tags(pres_a)[0] == tags(pres_b)[0] == "material"
        assert set(tags(pres_a)) == set(tags(pres_b)), qtype  # same response_lid / response_str encoding


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()

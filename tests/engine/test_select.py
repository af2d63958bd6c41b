"""``select``: normalisation (table-driven and random), validation against the course, closure."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_exports.engine.errors import BadRequest
from tui_exports.engine.select import (
    SELECT_TYPES,
    SelectRequest,
    check_ids,
    default_select,
    parse_select,
    resolve,
)
from tui_exports.engine.snapshot import build_snapshot
from tui_exports.exporters.common.ids import mig_id
from tui_exports.model import ExportType, Role

ASTR = 1  # the demo astronomy course (first loaded)

CC, QTI, ZIP = ExportType.COMMON_CARTRIDGE, ExportType.QTI, ExportType.ZIP


@pytest.mark.parametrize(
    "raw,export_type,expected",
    [
        (None, CC, {"everything": True}),
        ({}, CC, {"everything": True}),
        (None, QTI, {"all_quizzes": True}),
        (None, ZIP, {"all_attachments": True}),
        ({"pages": [1, "2"]}, CC, {"wiki_pages": [1, 2]}),
        ({"modules": ["3"], "module_items": [4]}, CC, {"context_modules": [3], "content_tags": [4]}),
        ({"files": {"attachment_7": "1", "8": "1"}}, ZIP, {"attachments": [7, 8]}),
        ({"folders": {"folder_5": "1", "folder_6": "0"}}, ZIP, {"folders": [5]}),
        ({"context_modules": {"context_module_12": "1"}}, CC, {"context_modules": [12]}),
        ({"quizzes": {"quizzes:quiz_3": "1"}}, QTI, {"quizzes": [3]}),
        ({"announcements": {"discussion_topic_9": True}}, CC, {"announcements": [9]}),
        (
            {"all_assignments": "1", "all_pages": "true"},
            CC,
            {"all_assignments": True, "all_wiki_pages": True},
        ),
        ({"everything": "1"}, CC, {"everything": True}),
        (
            {"all_syllabus_body": 1, "all_course_settings": True},
            CC,
            {"all_syllabus_body": True, "all_course_settings": True},
        ),
        (
            {"all_learning_outcomes": "1", "pages": [2]},
            CC,
            {"wiki_pages": [2]},
        ),  # a type we never hold: nothing more
        ({"pages": [1, 1, "1"]}, CC, {"wiki_pages": [1]}),
        ({"wiki_pages": {mig_id("wiki_pages", 4): "1"}}, CC, {"wiki_pages": [mig_id("wiki_pages", 4)]}),
    ],
)
def test_normalise(raw, export_type, expected):
    assert parse_select(raw, export_type).to_json() == expected


@pytest.mark.parametrize(
    "raw,export_type,fields",
    [
        ({"bogus": [1]}, CC, ["select[bogus]"]),
        ({"all_bogus": "1"}, CC, ["select[all_bogus]"]),
        ({"pages": [1]}, ZIP, ["select[pages]"]),
        ({"pages": [1], "quizzes": [2]}, QTI, ["select[pages]"]),
        ({"all_assignments": "1"}, ZIP, ["select[all_assignments]"]),
        ({"syllabus_body": "1"}, QTI, ["select[syllabus_body]"]),
        ({"pages": ["abc", 0, -3, True]}, CC, ["select[pages][]"] * 4),
        ({"pages": "1,2"}, CC, ["select[pages]"]),
        ({"everything": "maybe"}, CC, ["select[everything]"]),
        ({"learning_outcomes": [1]}, CC, ["select[learning_outcomes]"]),
        ({"files": ["wiki_page_3"]}, ZIP, ["select[files][]"]),
        # asset strings and migration ids go in the hash form; in a list Canvas selects nothing
        ({"pages": ["wiki_page_2"]}, CC, ["select[pages][]"]),
        ({"files": ["attachment_7", 8]}, ZIP, ["select[files][]"]),
        ({"wiki_pages": [mig_id("wiki_pages", 4)]}, CC, ["select[wiki_pages][]"]),
        ({"all_quizzes": "0"}, CC, ["select"]),  # names nothing: not silently "everything"
        ({"context_modules": []}, CC, ["select"]),
        ({"all_learning_outcomes": "1"}, CC, ["select"]),
    ],
)
def test_invalid_select_names_every_offender(raw, export_type, fields):
    with pytest.raises(BadRequest) as e:
        parse_select(raw, export_type)
    assert e.value.status == 400
    assert e.value.body["message"] == "invalid select"
    assert [err["field"] for err in e.value.body["errors"]] == fields


def test_select_must_be_a_hash():
    with pytest.raises(BadRequest, match="invalid select"):
        parse_select(["pages", 1], CC)


def test_zip_error_says_what_zip_carries():
    with pytest.raises(BadRequest) as e:
        parse_select({"pages": [1]}, ZIP)
    assert "zip exports only folders and files" in e.value.describe()


@pytest.fixture
def teacher_snap(service, users):
    return build_snapshot(service.library, ASTR, service.user(users["teacher"]), Role.TEACHER)


@pytest.fixture
def student_snap(service, users):
    return build_snapshot(service.library, ASTR, service.user(users["student1"]), Role.STUDENT)


def by_title(items, text):
    found = [
        i.id for i in items if text in getattr(i, "title", getattr(i, "name", getattr(i, "display_name", "")))
    ]
    assert found, text
    return found[0]


def test_ids_not_in_course_are_rejected(teacher_snap):
    req = parse_select({"pages": [1, 999], "files": [12345]}, CC)
    with pytest.raises(BadRequest) as e:
        check_ids(req, teacher_snap)
    messages = [x["message"] for x in e.value.errors]
    assert messages == [
        "no page 999 in this course (or not visible to you)",
        "no file 12345 in this course (or not visible to you)",
    ]


def test_student_cannot_name_hidden_files(student_snap, teacher_snap):
    hidden = by_title(teacher_snap.files, "answer-key")
    req = parse_select({"files": [hidden]}, ZIP)
    check_ids(req, teacher_snap)
    with pytest.raises(BadRequest, match="invalid select"):
        check_ids(req, student_snap)


def test_migration_ids_resolve_to_numbers(teacher_snap):
    page = teacher_snap.pages[2]
    req = check_ids(parse_select({"pages": {mig_id("wiki_pages", page.id): "1"}}, CC), teacher_snap)
    assert req.ids == {"wiki_pages": (page.id,)}


def test_module_brings_items_and_their_content(teacher_snap):
    module = teacher_snap.modules[0]
    sel = resolve(check_ids(parse_select({"modules": [module.id]}, CC), teacher_snap), teacher_snap)
    assert sel.of("content_tags") == {i.id for i in module.items}
    pages = {i.content_id for i in module.items if i.content_type.value == "WikiPage"}
    assert pages and pages <= sel.of("wiki_pages")
    files = {i.content_id for i in module.items if i.content_type.value == "Attachment"}
    assert files <= sel.of("attachments")
    assert not sel.everything


def test_module_item_brings_only_its_content(teacher_snap):
    module = teacher_snap.modules[1]
    item = next(i for i in module.items if i.content_type.value == "Assignment")
    sel = resolve(parse_select({"module_items": [item.id]}, CC), teacher_snap)
    assert sel.of("assignments") == {item.content_id}
    assert sel.of("context_modules") == frozenset()


def test_html_brings_the_files_it_links(teacher_snap):
    linking = [p for p in teacher_snap.pages if "/files/" in p.body]
    assert linking, "the demo library has pages linking files"
    page = linking[0]
    sel = resolve(parse_select({"pages": [page.id]}, CC), teacher_snap)
    linked = {f.id for f in teacher_snap.files if f"/files/{f.id}/" in page.body}
    assert linked and linked <= sel.of("attachments")
    assert sel.of("wiki_pages") == {page.id}


def test_assignment_brings_its_rubric(teacher_snap):
    graded = next(a for a in teacher_snap.assignments if a.rubric_id)
    sel = resolve(parse_select({"assignments": [graded.id]}, CC), teacher_snap)
    assert sel.of("rubrics") == {graded.rubric_id}


def test_folder_brings_everything_below_it(teacher_snap):
    images = next(f for f in teacher_snap.folders if f.full_name == "course files/images")
    sel = resolve(parse_select({"folders": [images.id]}, ZIP), teacher_snap)
    below = {
        f.id
        for f in teacher_snap.files
        if teacher_snap.folder(f.folder_id).full_name.startswith("course files/images")
    }
    assert sel.of("attachments") == below
    assert {teacher_snap.folder(i).full_name for i in sel.of("folders")} == {
        "course files/images",
        "course files/images/sky",
        "course files/images/sky/winter",
    }


def test_all_discussion_topics_does_not_select_announcements(teacher_snap):
    sel = resolve(parse_select({"all_discussion_topics": "1"}, CC), teacher_snap)
    news = {t.id for t in teacher_snap.discussion_topics if t.is_announcement}
    assert news and not (sel.of("announcements") & news)
    assert sel.of("discussion_topics") == {
        t.id for t in teacher_snap.discussion_topics if not t.is_announcement
    }


def test_announcement_named_as_a_discussion_topic_counts(teacher_snap):
    news = next(t for t in teacher_snap.discussion_topics if t.is_announcement)
    sel = resolve(check_ids(parse_select({"discussion_topics": [news.id]}, CC), teacher_snap), teacher_snap)
    assert news.id in sel.of("announcements")


def test_everything_selects_all_the_user_can_see(student_snap):
    sel = resolve(default_select(CC), student_snap)
    assert sel.everything and sel.syllabus_body and sel.course_settings
    assert sel.of("wiki_pages") == {p.id for p in student_snap.pages}
    assert all(p.published for p in student_snap.pages)


def test_all_attachments_includes_every_folder(teacher_snap):
    sel = resolve(default_select(ZIP), teacher_snap)
    assert sel.of("folders") == {f.id for f in teacher_snap.folders}


keys = st.sampled_from(
    list(SELECT_TYPES)
    + [
        "pages",
        "files",
        "modules",
        "module_items",
        "bogus",
        "all_pages",
        "all_quizzes",
        "everything",
        "all_attachments",
        "syllabus_body",
        "learning_outcomes",
    ]
)
ids = st.one_of(
    st.integers(-3, 60), st.text(max_size=12), st.sampled_from(["attachment_3", "wiki_page_2", "1", "0"])
)
values = st.one_of(
    st.lists(ids, max_size=5),
    st.dictionaries(st.text(max_size=10), st.sampled_from(["1", "0", True]), max_size=3),
    st.sampled_from(["1", "0", "true", "x", 1, None]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.dictionaries(keys, values, max_size=5), export_type=st.sampled_from(list(ExportType)))
def test_random_select_hashes(raw, export_type, teacher_snap):
    """Any hash ends either as a 400 listing fields, or as a selection inside the course."""
    try:
        request = check_ids(parse_select(raw, export_type), teacher_snap)
    except BadRequest as e:
        assert e.errors and all(err["field"].startswith("select") for err in e.errors)
        return
    sel = resolve(request, teacher_snap)
    everything = resolve(SelectRequest(everything=True), teacher_snap)
    for t in SELECT_TYPES:
        assert sel.of(t) <= everything.of(t) | everything.of("announcements"), t
    assert SelectRequest.from_json(request.to_json()).to_json() == request.to_json()
    stored = SelectRequest.from_stored(request.to_json())  # what a job rebuilds when it runs
    assert stored == SelectRequest(
        {t: v for t, v in request.ids.items() if v},
        request.all_types,
        request.everything,
        request.syllabus_body,
        request.course_settings,
    )


def test_unicode_digits_that_int_refuses_are_not_ids():
    """'¹'.isdigit() is true but int('¹') raises: it must be a 400, not a crash."""
    with pytest.raises(BadRequest, match="invalid select"):
        parse_select({"pages": ["¹", "wiki_page_²"]}, CC)


def test_a_selection_of_everything_is_the_catalogue_closed_and_held_as_id_arrays(teacher_snap):
    """Everything the user sees is closed already: each type is its catalogue, in id arrays of
    8 bytes an id (100,000 ids in under 1 MB, where a frozenset of ints takes ~5 MB)."""
    import tracemalloc

    from tui_exports.engine.select import catalogue
    from tui_exports.model import IdSet

    everything = resolve(SelectRequest(everything=True), teacher_snap)
    cat = catalogue(teacher_snap)
    for t in SELECT_TYPES:
        assert everything.of(t) == set(cat[t]), t
        assert all(i in everything.of(t) for i in cat[t]) and -1 not in everything.of(t)
    assert everything.everything and everything.syllabus_body and everything.course_settings
    tracemalloc.start()
    try:
        ids = IdSet(range(10**6, 10**6 + 100_000))
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 1 << 20
    assert len(ids) == 100_000 and 10**6 + 99_999 in ids and 10**6 + 100_000 not in ids
    assert IdSet([5, 3, 5, 1]) == {1, 3, 5} and list(IdSet([5, 3, 5, 1])) == [1, 3, 5]
    assert frozenset().union(IdSet([2]), {1}) == {1, 2} and IdSet([1]) | IdSet([2]) == {1, 2}

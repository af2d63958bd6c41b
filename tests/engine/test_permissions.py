"""Spec §1.7 and §3.2 as a table: who may create, list, show, cancel; ePub create/read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tui_exports.engine.errors import BadRequest, NotFound, Unauthorized
from tui_exports.model import ContextType as C
from tui_exports.store import iso, utcnow

ASTR, HIST, CS = 1, 2, 3


def _enroll_observer(service, course_id, key="observer1"):
    from tui_exports.model import Role, User

    with service.library.transaction():
        uid = service.content.next_ids()["users"]
        service.content.insert_user(User(uid, "Olive Observer"), key=key)
        service.content.db["enrollments"].insert(
            {"user_id": uid, "course_id": course_id, "role": Role.OBSERVER.value, "state": "active"}
        )
    return uid


@pytest.mark.parametrize(
    "who,export_type,allowed",
    [
        ("teacher", "common_cartridge", True),
        ("teacher", "qti", True),
        ("teacher", "zip", True),
        ("ta", "common_cartridge", True),
        ("ta", "qti", True),
        ("ta", "zip", True),
        ("student1", "common_cartridge", False),
        ("student1", "qti", False),
        ("student1", "zip", True),
        ("observer", "common_cartridge", False),
        ("observer", "zip", True),
        ("stranger", "zip", False),
        ("stranger", "common_cartridge", False),
    ],
)
@pytest.mark.slow
def test_create_in_course(service, users, who, export_type, allowed):
    if who == "observer":
        uid = _enroll_observer(service, ASTR)
    elif who == "stranger":
        uid = _enroll_observer(service, HIST, key="stranger")  # enrolled elsewhere only
    else:
        uid = users[who]
    if allowed:
        ce = service.create_content_export(uid, C.COURSE, ASTR, export_type)
        assert ce.workflow_state.value == "created" and ce.user_id == uid
    else:
        with pytest.raises(Unauthorized) as e:
            service.create_content_export(uid, C.COURSE, ASTR, export_type)
        assert e.value.status == 401
        assert e.value.body["errors"] == [{"message": "user not authorized to perform that action"}]
        assert e.value.body["reason"]


@pytest.mark.parametrize(
    "context,export_type",
    [(C.GROUP, "common_cartridge"), (C.USER, "qti"), (C.COURSE, "user_data"), (C.COURSE, None)],
)
def test_invalid_export_type(service, users, context, export_type):
    cid = {C.GROUP: 1, C.USER: users["student1"], C.COURSE: ASTR}[context]
    uid = users["student1"]
    with pytest.raises(BadRequest) as e:
        service.create_content_export(uid, context, cid, export_type)
    assert e.value.body["message"] == "invalid export_type"


def test_nothing_is_written_on_a_rejected_request(service, users):
    before = service.content.db.execute("SELECT COUNT(*) FROM content_exports").fetchone()[0]
    for bad in ({"pages": [999]}, {"bogus": 1}):
        with pytest.raises(BadRequest):
            service.create_content_export(users["teacher"], C.COURSE, ASTR, "common_cartridge", bad)
    after = service.content.db.execute("SELECT COUNT(*) FROM content_exports").fetchone()[0]
    assert before == after


def test_group_and_user_contexts(service, users):
    # Team Turtle (group 1 of CS 110): student1 and student2
    ce = service.create_content_export(users["student1"], C.GROUP, 1, "zip")
    assert ce.context_type is C.GROUP
    service.create_content_export(users["teacher"], C.GROUP, 1, "zip")  # course admin
    with pytest.raises(Unauthorized, match="member"):
        service.create_content_export(users["student1"], C.GROUP, 2, "zip")  # not a member of Night Owls
    service.create_content_export(users["student1"], C.USER, users["student1"], "zip")
    with pytest.raises(Unauthorized, match="your own"):
        service.create_content_export(users["teacher"], C.USER, users["student1"], "zip")
    with pytest.raises(NotFound):
        service.create_content_export(users["teacher"], C.GROUP, 99, "zip")
    # group/user indexes show only the caller's own exports
    assert [e.user_id for e in service.list_content_exports(users["student1"], C.GROUP, 1).items] == [
        users["student1"]
    ]


def test_show_and_index_visibility(service, users):
    t, ta, s1, s2 = users["teacher"], users["ta"], users["student1"], users["student2"]
    cc = service.create_content_export(t, C.COURSE, ASTR, "common_cartridge")
    t_zip = service.create_content_export(t, C.COURSE, ASTR, "zip")
    s_zip = service.create_content_export(s1, C.COURSE, ASTR, "zip")
    # a TA (file manager) reads the teacher's CC, but nobody reads another's zip
    assert service.show_content_export(ta, C.COURSE, ASTR, cc.id).id == cc.id
    with pytest.raises(Unauthorized, match="person who made it"):
        service.show_content_export(t, C.COURSE, ASTR, s_zip.id)
    with pytest.raises(Unauthorized):
        service.show_content_export(s2, C.COURSE, ASTR, s_zip.id)
    with pytest.raises(Unauthorized):
        service.show_content_export(s1, C.COURSE, ASTR, cc.id)
    assert service.show_content_export(s1, C.COURSE, ASTR, s_zip.id).id == s_zip.id
    ids = lambda uid: [e.id for e in service.list_content_exports(uid, C.COURSE, ASTR).items]  # noqa: E731
    assert ids(t) == [t_zip.id, cc.id]
    assert ids(ta) == [cc.id]
    assert ids(s1) == [s_zip.id]
    assert ids(s2) == []
    # progress follows the export's read rule; only its own user may cancel
    with pytest.raises(Unauthorized):
        service.progress(s2, s_zip.progress_id)
    with pytest.raises(Unauthorized, match="started this job"):
        service.cancel(t, s_zip.progress_id)
    p = service.cancel(s1, s_zip.progress_id)
    assert (p.workflow_state.value, p.message) == ("failed", None)  # no message sent: null, as Canvas
    assert service.show_content_export(s1, C.COURSE, ASTR, s_zip.id).workflow_state.value == "failed"
    with pytest.raises(NotFound):
        service.show_content_export(t, C.COURSE, CS, cc.id)  # wrong course


def test_students_of_current_courses_may_create_epubs(service, users):
    ep = service.create_epub_export(users["student1"], ASTR)
    assert ep.user_id == users["student1"]
    observer = _enroll_observer(service, ASTR)
    with pytest.raises(Unauthorized, match="observer cannot"):
        service.create_epub_export(observer, ASTR)


def test_concluded_course_blocks_student_epubs(service, users):
    with pytest.raises(Unauthorized, match="concluded"):
        service.create_epub_export(users["student2"], HIST)
    ep = service.create_epub_export(users["teacher"], HIST)  # admins keep read_as_admin
    # the listing still includes the concluded course (Canvas's listing does, spec §3.6)
    listing = {c["id"]: c for c in service.course_epub_exports(users["student2"])}
    assert HIST in listing and listing[HIST]["epub_export"] is None
    with pytest.raises(Unauthorized):
        service.show_epub_export(users["student1"], HIST, ep.id)


def test_a_running_epub_gives_422_with_it(service, users):
    from tui_exports.engine.errors import Unprocessable

    first = service.create_epub_export(users["teacher"], ASTR)
    with pytest.raises(Unprocessable) as e:
        service.create_epub_export(users["teacher"], ASTR)
    assert e.value.status == 422
    assert e.value.body["epub_export"]["id"] == first.id
    assert e.value.body["epub_export"]["permissions"] == {"download": False, "regenerate": False}
    service.create_epub_export(users["ta"], ASTR)  # another user's running ePub does not block


def test_pagination(service, users):
    t = users["teacher"]
    made = [service.create_content_export(t, C.COURSE, ASTR, "zip").id for _ in range(5)]
    page = service.list_content_exports(t, C.COURSE, ASTR, page=2, per_page=3)
    assert [e.id for e in page.items] == made[::-1][3:]
    assert (page.total, page.last_page) == (5, 2)
    assert service.list_content_exports(t, C.COURSE, ASTR, page=3, per_page=3).items == []
    assert service.list_content_exports(t, C.COURSE, ASTR, per_page=1000).per_page == 100
    assert service.list_content_exports(t, C.COURSE, ASTR, per_page=0).per_page == 1
    assert service.list_content_exports(t, C.COURSE, ASTR, page="x", per_page=None).page == 1
    assert len(service.list_content_exports(t, C.COURSE, ASTR).items) == 5  # default per_page 10


def test_expiry_hides_the_attachment(service, runner, users, monkeypatch):
    t = users["teacher"]
    ce = service.create_content_export(t, C.COURSE, ASTR, "zip")
    runner.wait_idle(30)
    assert "attachment" in service.content_export_json(service.store.content_export(ce.id))
    old = iso(utcnow() - timedelta(days=35))
    service.content.db.execute("UPDATE content_exports SET created_at = ? WHERE id = ?", [old, ce.id])
    data = service.content_export_json(service.store.content_export(ce.id))
    assert data["workflow_state"] == "exported" and "attachment" not in data
    assert ce.id in [e.id for e in service.list_content_exports(t, C.COURSE, ASTR).items]  # still listed
    monkeypatch.setattr(service, "settings", service.settings.__class__(expire_days=0))
    assert "attachment" in service.content_export_json(service.store.content_export(ce.id))

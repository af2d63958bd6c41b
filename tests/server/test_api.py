"""Every route of the API and its errors, through Starlette's TestClient."""

from __future__ import annotations

import json
import re
import warnings
from urllib.parse import parse_qs, urlsplit

import pytest

with warnings.catch_warnings():  # starlette prefers httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from tui_exports.config import ServerConfig
from tui_exports.model import ContextType
from tui_exports.server import create_app

BASE = "http://testserver.local:8123"
CE = "/api/v1/courses/1/content_exports"


def links(response) -> dict[str, str]:
    header = response.headers.get("link", "")
    assert ", " not in header  # comma-joined without a space
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


def create_zip(client, auth, user="teacher", **data):
    r = client.post(CE, headers=auth(user), data={"export_type": "zip", **data})
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- auth
def test_no_token_is_401_unauthenticated(client):
    """No token: Canvas's render_json_unauthorized body (a bad token is the next test)."""
    r = client.get("/api/v1/courses")
    assert r.status_code == 401
    assert r.json() == {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]}
    assert "www-authenticate" not in r.headers


def test_bad_token_is_401(client):
    r = client.get("/api/v1/users/self", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "www-authenticate" in r.headers


def test_access_token_query_param_only_where_allowed(client, service, tokens):
    r = client.get(f"/api/v1/users/self?access_token={tokens['student1']}")
    assert r.status_code == 400 and "Authorization: Bearer" in r.json()["message"]
    allowed = TestClient(create_app(service, server=ServerConfig(allow_query_token=True)))
    r = allowed.get(f"/api/v1/users/self?access_token={tokens['student1']}")
    assert r.status_code == 200
    assert r.json()["id"] == 3 and r.json()["name"]


def test_token_stored_hashed(service, tokens):
    rows = service.library.tokens.of_user(1)
    assert rows and all(tokens["teacher"] not in str(r.values()) for r in rows)
    row = service.library.tokens.lookup(tokens["teacher"])
    assert row["token_hash"] != tokens["teacher"] and len(row["token_hash"]) == 64


# ---------------------------------------------------------------- courses
def test_courses_pagination_and_links(client, auth):
    r = client.get("/api/v1/courses?per_page=2&kwargs=x&access_token=zzz", headers=auth())
    assert r.status_code == 200
    assert [c["id"] for c in r.json()] == [1, 2]
    rels = links(r)
    assert list(rels) == ["current", "next", "first", "last"]
    nxt = urlsplit(rels["next"])
    assert f"{nxt.scheme}://{nxt.netloc}" == BASE
    assert parse_qs(nxt.query) == {"kwargs": ["x"], "page": ["2"], "per_page": ["2"]}  # access_token dropped
    r2 = client.get(rels["next"], headers=auth())
    assert [c["id"] for c in r2.json()] == [3]
    assert list(links(r2)) == ["current", "prev", "first", "last"]
    assert client.get("/api/v1/courses?page=9&per_page=2", headers=auth()).json() == []


def test_repeated_per_page_takes_last_and_clamps(client, auth):
    r = client.get("/api/v1/courses?per_page=1&per_page=2", headers=auth())
    assert len(r.json()) == 2
    r = client.get("/api/v1/courses?per_page=1000", headers=auth())
    assert "per_page=100" in links(r)["current"]


def test_courses_enrollment_type_and_shape(client, auth):
    r = client.get("/api/v1/courses?enrollment_type=student", headers=auth("student1"))
    course = r.json()[0]
    assert {"id", "name", "course_code", "enrollments"} <= set(course)
    assert course["enrollments"][0]["type"] == "student"
    assert client.get("/api/v1/courses?enrollment_type=teacher", headers=auth("student1")).json() == []


@pytest.mark.parametrize("user", ["teacher", "student1"])
def test_cli_courses_json_is_the_api_course(client, auth, capsys, user):
    """``courses --json`` prints the Course objects ``/api/v1/courses`` serves, field for field."""
    from tui_exports.cli import main

    served = client.get("/api/v1/courses?per_page=100", headers=auth(user)).json()
    assert main(["--as", user, "courses", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == served and {c["id"] for c in printed} and all(c["enrollments"] for c in printed)
    assert client.get("/api/v1/courses/1", headers=auth(user)).json() == next(
        c for c in printed if c["id"] == 1
    )


def test_course_show_and_404(client, auth):
    assert client.get("/api/v1/courses/3", headers=auth()).json()["course_code"] == "CS 110"
    r = client.get("/api/v1/courses/999", headers=auth())
    assert r.status_code == 404
    assert r.json()["errors"] == [{"message": "The specified resource does not exist."}]
    r = client.get("/api/v1/no/such/route", headers=auth())
    assert r.status_code == 404 and r.json()["errors"]


# ---------------------------------------------------------------- content_list
def test_content_list_top_and_sub_lists(client, auth):
    top = client.get("/api/v1/courses/1/content_list", headers=auth()).json()
    by_type = {e["type"]: e for e in top}
    assert by_type["wiki_pages"]["property"] == "select[all_wiki_pages]"
    assert by_type["wiki_pages"]["count"] == 6
    url = by_type["wiki_pages"]["sub_items_url"]
    assert url.startswith(BASE)
    pages = client.get(url, headers=auth()).json()
    assert pages[0]["id"] == "wiki_page_1" and pages[0]["property"] == "select[wiki_pages][wiki_page_1]"
    modules = client.get("/api/v1/courses/1/content_list?type=context_modules", headers=auth()).json()
    assert modules[0]["sub_items"][0]["type"] == "content_tags"
    folders = client.get("/api/v1/courses/1/content_list?type=attachments", headers=auth()).json()
    files = [f for folder in folders for f in folder["sub_items"]]
    assert len(files) == by_type["attachments"]["count"]
    assert client.get("/api/v1/courses/1/content_list?type=bogus", headers=auth()).status_code == 400


# ---------------------------------------------------------------- content exports
def test_create_with_form_select(client, auth, service):
    data = {
        "export_type": "common_cartridge",
        "skip_notifications": "true",
        "select[pages][]": ["1", "2"],
        "select[context_modules][context_module_1]": "1",
    }
    r = client.post(CE, headers=auth(), data=data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["workflow_state"] == "created" and body["export_type"] == "common_cartridge"
    assert body["progress_url"].startswith(f"{BASE}/api/v1/progress/")
    settings = service.store.content_export(body["id"]).settings
    assert settings["skip_notifications"] is True
    assert settings["select"]


def test_create_with_json_body(client, auth):
    r = client.post(
        CE, headers=auth(), json={"export_type": "zip", "select": {"files": [2]}, "skip_notifications": False}
    )
    assert r.status_code == 200, r.text
    assert r.json()["export_type"] == "zip"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"export_type": "pdf"}, "invalid export_type"),
        ({}, "invalid export_type"),
        ({"export_type": "zip", "select": "everything"}, "invalid select"),
        ({"export_type": "common_cartridge", "select[bogus][]": "1"}, None),
        ({"export_type": "common_cartridge", "select[pages][]": "99999"}, None),
    ],
)
def test_create_400(client, auth, data, message):
    r = client.post(CE, headers=auth(), data=data)
    assert r.status_code == 400, r.text
    if message:
        assert r.json()["message"] == message


def test_conflicting_params_400(client, auth):
    r = client.post(
        CE,
        headers={**auth(), "Content-Type": "application/x-www-form-urlencoded"},
        content=b"select=1&select[pages][]=2",
    )
    assert r.status_code == 400 and r.json()["errors"]
    r = client.post(CE, headers={**auth(), "Content-Type": "application/json"}, content=b"{not json")
    assert r.status_code == 400


def test_student_cannot_export_cc(client, auth):
    r = client.post(CE, headers=auth("student1"), data={"export_type": "common_cartridge"})
    assert r.status_code == 401
    assert r.json()["errors"] == [{"message": "user not authorized to perform that action"}]


def test_list_newest_first_and_pages(client, auth):
    ids = [create_zip(client, auth)["id"] for _ in range(5)]
    r = client.get(CE + "?per_page=3&page=2", headers=auth())
    assert [e["id"] for e in r.json()] == ids[::-1][3:]
    assert list(links(r)) == ["current", "prev", "first", "last"]
    assert client.get(CE + "?per_page=3&page=3", headers=auth()).json() == []
    assert len(client.get(CE, headers=auth()).json()) == 5  # default per_page 10


def test_other_users_zip_is_401(client, auth):
    mine = create_zip(client, auth, "student1")
    r = client.get(f"{CE}/{mine['id']}", headers=auth("teacher"))
    assert r.status_code == 401
    assert client.get(f"{CE}/{mine['id']}", headers=auth("student1")).status_code == 200
    assert mine["id"] not in [e["id"] for e in client.get(CE, headers=auth("teacher")).json()]
    assert client.get(f"{CE}/12345", headers=auth()).status_code == 404


def test_group_and_user_exports(client, auth):
    r = client.post("/api/v1/groups/1/content_exports", headers=auth("student1"), data={"export_type": "zip"})
    assert r.status_code == 200 and "course_id" not in r.json()
    assert (
        client.get(f"/api/v1/groups/1/content_exports/{r.json()['id']}", headers=auth("student1")).status_code
        == 200
    )
    assert (
        client.post(
            "/api/v1/groups/2/content_exports", headers=auth("student1"), data={"export_type": "zip"}
        ).status_code
        == 401
    )
    assert (
        client.post(
            "/api/v1/groups/1/content_exports", headers=auth("student1"), data={"export_type": "qti"}
        ).status_code
        == 400
    )
    r = client.post(
        "/api/v1/users/self/content_exports", headers=auth("student2"), data={"export_type": "zip"}
    )
    assert r.status_code == 200
    assert [
        e["id"] for e in client.get("/api/v1/users/4/content_exports", headers=auth("student2")).json()
    ] == [r.json()["id"]]
    assert client.get("/api/v1/users/4/content_exports", headers=auth("teacher")).status_code == 401
    assert client.get("/api/v1/widgets/1/content_exports", headers=auth()).status_code == 404


def test_course_groups_teacher_sees_all_student_their_own(client, auth):
    teacher = client.get("/api/v1/courses/3/groups", headers=auth("teacher"))
    assert teacher.status_code == 200
    assert {g["name"] for g in teacher.json()} == {"Team Turtle", "Night Owls Study Group"}
    assert all(g["context_type"] == "Course" and g["course_id"] == 3 for g in teacher.json())
    own = client.get("/api/v1/courses/3/groups", headers=auth("student1")).json()
    assert [(g["name"], g["members_count"]) for g in own] == [("Team Turtle", 2)]
    assert client.get("/api/v1/courses/1/groups", headers=auth("teacher")).json() == []


def test_group_and_user_folders_and_files(client, auth, service):
    folders = client.get("/api/v1/groups/1/folders", headers=auth("student1"))
    assert folders.status_code == 200
    by_name = {f["name"]: f for f in folders.json()}
    assert by_name["sketches"]["parent_folder_id"] == by_name["files"]["id"]
    assert by_name["files"]["folders_count"] == 1 and by_name["sketches"]["files_count"] == 1
    files = client.get("/api/v1/groups/1/files", headers=auth("student1")).json()
    assert sorted(f["display_name"] for f in files) == ["project-plan.txt", "turtle-star.png"]
    assert client.get("/api/v1/groups/1/files", headers=auth("student2")).status_code == 200  # a member too
    assert client.get("/api/v1/groups/2/folders", headers=auth("student1")).status_code == 401
    assert client.get("/api/v1/users/self/files", headers=auth("student1")).json() == []
    course_files = client.get("/api/v1/courses/1/files?per_page=100", headers=auth()).json()
    assert len(course_files) == len(service.context_files(1, ContextType.COURSE, 1)["attachments"])


# ---------------------------------------------------------------- progress
def test_progress_show_and_cancel(client, auth):
    ce = create_zip(client, auth)
    pid = ce["progress_url"].rsplit("/", 1)[1]
    p = client.get(f"/api/v1/progress/{pid}", headers=auth()).json()
    assert p["workflow_state"] == "queued" and p["tag"] == "content_export" and p["url"] == ce["progress_url"]
    assert client.get(f"/api/v1/progress/{pid}", headers=auth("student1")).status_code == 401
    assert client.post(f"/api/v1/progress/{pid}/cancel", headers=auth("ta")).status_code == 401
    r = client.post(f"/api/v1/progress/{pid}/cancel", headers=auth(), data={"message": "changed my mind"})
    # progress_controller.rb#cancel: update!(workflow_state: "failed", message: params[:message])
    assert r.status_code == 200, r.text
    assert (r.json()["workflow_state"], r.json()["message"]) == ("failed", "changed my mind")
    shown = client.get(f"{CE}/{ce['id']}", headers=auth()).json()
    assert shown["workflow_state"] == "failed" and shown["errors"] == ["canceled before it started"]
    assert client.get(f"/api/v1/progress/{pid}", headers=auth()).json() == r.json()
    assert client.get("/api/v1/progress/999", headers=auth()).status_code == 404
    assert client.post("/api/v1/progress/999/cancel", headers=auth()).status_code == 404


def test_cancel_without_a_message_is_null_and_an_ended_progress_is_200_unchanged(client, auth, run_jobs):
    """Canvas stores ``params[:message]`` as it is (null when none was sent) and answers 200 with
    the Progress; a Progress that already ended comes back as it was, never a 400."""
    ce = create_zip(client, auth)
    pid = ce["progress_url"].rsplit("/", 1)[1]
    r = client.post(f"/api/v1/progress/{pid}/cancel", headers=auth())
    assert r.status_code == 200 and (r.json()["workflow_state"], r.json()["message"]) == ("failed", None)
    again = client.post(f"/api/v1/progress/{pid}/cancel", headers=auth(), json={"message": "twice"})
    assert again.status_code == 200 and again.json() == r.json()

    done = create_zip(client, auth)
    run_jobs()
    pid = done["progress_url"].rsplit("/", 1)[1]
    before = client.get(f"/api/v1/progress/{pid}", headers=auth()).json()
    assert before["workflow_state"] == "completed"
    r = client.post(f"/api/v1/progress/{pid}/cancel", headers=auth(), data={"message": "too late"})
    assert r.status_code == 200 and r.json() == before
    assert client.get(f"{CE}/{done['id']}", headers=auth()).json()["workflow_state"] == "exported"


# ---------------------------------------------------------------- ePub
def test_epub_create_422_show_and_index(client, auth):
    url = "/api/v1/courses/1/epub_exports/"
    r = client.post(url, headers=auth())  # empty body, no content type, trailing slash
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["id"] == 1 and first["epub_export"]["workflow_state"] == "created"
    assert first["epub_export"]["progress_url"].startswith(BASE)
    r = client.post(url.rstrip("/"), headers=auth())
    assert r.status_code == 422
    assert r.json()["epub_export"]["id"] == first["epub_export"]["id"]
    assert "path" not in str(r.json())
    eid = first["epub_export"]["id"]
    assert (
        client.get(f"/api/v1/courses/1/epub_exports/{eid}", headers=auth()).json()["epub_export"]["id"] == eid
    )
    assert client.get(f"/api/v1/courses/1/epub_exports/{eid}", headers=auth("student1")).status_code == 401
    for path in ("/api/v1/epub_exports", "/api/v1/epub_exports/"):
        courses = client.get(path, headers=auth()).json()["courses"]
        assert {c["id"] for c in courses} == {1, 2, 3}
        assert next(c for c in courses if c["id"] == 1)["epub_export"]["id"] == eid
        assert next(c for c in courses if c["id"] == 3)["epub_export"] is None


# ---------------------------------------------------------------- downloads
def test_download_with_verifier_and_token(client, auth, run_jobs, service):
    ce = create_zip(client, auth, "student1", **{"select[files][]": "2"})
    run_jobs()
    ce = client.get(f"{CE}/{ce['id']}", headers=auth("student1")).json()
    assert ce["workflow_state"] == "exported"
    att = ce["attachment"]
    assert "path" not in att and att["url"].startswith(
        f"{BASE}/files/{att['id']}/download?download_frd=1&verifier="
    )
    on_disk = service.attachment(att["id"]).path.read_bytes()
    r = client.get(att["url"])  # no token needed with the verifier
    assert r.status_code == 200 and r.content == on_disk
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-length"] == str(len(on_disk)) == str(att["size"])
    assert f'filename="{att["filename"]}"' in r.headers["content-disposition"]
    r = client.get(att["url"], headers={"Range": "bytes=10-"})
    assert r.status_code == 206 and r.content == on_disk[10:]
    plain = f"/files/{att['id']}/download"
    assert client.get(plain, headers=auth("student1")).content == on_disk
    assert client.get(plain, headers=auth("teacher")).status_code == 401  # someone else's zip
    r = client.get(plain)
    assert r.status_code == 401 and "www-authenticate" in r.headers
    assert client.get(plain + "?verifier=wrong").status_code == 401
    assert client.get("/files/999/download", headers=auth()).status_code == 404
    other = service.attachment(att["id"])
    assert client.get(f"/files/999/download?verifier={other.uuid}").status_code == 404  # no file 999 at all


def test_download_ranges_for_resuming_clients(client, auth, run_jobs, service):
    """Starlette's FileResponse answers Range and If-Range itself: what CanvasBackend resumes with."""
    ce = create_zip(client, auth)
    run_jobs()
    att = client.get(f"{CE}/{ce['id']}", headers=auth()).json()["attachment"]
    on_disk = service.attachment(att["id"]).path.read_bytes()
    whole = client.get(att["url"])
    assert (
        whole.headers["accept-ranges"] == "bytes" and whole.headers["etag"] and whole.headers["last-modified"]
    )
    size = len(on_disk)
    r = client.get(att["url"], headers={"Range": "bytes=100-", "If-Range": whole.headers["etag"]})
    assert r.status_code == 206 and r.content == on_disk[100:]
    assert r.headers["content-range"] == f"bytes 100-{size - 1}/{size}"
    r = client.get(att["url"], headers={"Range": "bytes=100-", "If-Range": whole.headers["last-modified"]})
    assert r.status_code == 206 and r.content == on_disk[100:]
    r = client.get(att["url"], headers={"Range": "bytes=100-", "If-Range": '"another-version"'})
    assert r.status_code == 200 and r.content == on_disk  # changed since: the whole file
    r = client.get(att["url"], headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}"
    r = client.get(
        f"/files/{att['id']}/download", headers={**auth(), "Range": "bytes=0-9"}
    )  # with a token too
    assert r.status_code == 206 and r.content == on_disk[:10]

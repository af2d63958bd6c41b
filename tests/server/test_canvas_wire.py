"""``serve`` answers as Canvas does where a client can tell (issue 15, the server side),
over real HTTP on loopback."""

from __future__ import annotations

import re
import time

import pytest

CE = "/api/v1/courses/1/content_exports"


@pytest.fixture
def auth(tokens):
    def headers(user: str = "teacher", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[user]}", **extra}

    return headers


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))}


# ---------------------------------------------------------------- error bodies (item 11)
def test_no_token_is_unauthenticated(http):
    """application_controller.rb, render_json_unauthorized without a current user."""
    r = http.get("/api/v1/courses")
    assert r.status_code == 401
    assert r.json() == {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]}
    assert (
        "www-authenticate" not in r.headers
    )  # that header marks a bad token (canvasapi: InvalidAccessToken)


def test_bad_token_is_invalid_access_token(http):
    r = http.get("/api/v1/courses", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json() == {"errors": [{"message": "Invalid access token."}]}
    assert r.headers["www-authenticate"] == 'Bearer realm="canvas-lms"'


@pytest.mark.parametrize(
    "method, path",
    [
        ("DELETE", "/api/v1/courses/1"),
        ("POST", "/api/v1/progress/1"),
        ("PUT", CE),
        ("GET", "/api/v1/progress/1/cancel"),
    ],
)
def test_wrong_method_on_a_known_path_is_404(http, auth, method, path):
    """Rails routes by method and path: no route, 404 (not 405)."""
    r = http.request(method, path, headers=auth())
    assert r.status_code == 404
    assert r.json()["errors"] == [{"message": "The specified resource does not exist."}]


def test_every_error_has_an_errors_list(http, auth):
    ce = http.post(CE, headers=auth(), data={"export_type": "zip"}).json()
    pid = ce["progress_url"].rsplit("/", 1)[1]
    for _ in range(200):
        if http.get(f"/api/v1/progress/{pid}", headers=auth()).json()["workflow_state"] == "completed":
            break
        import time

        time.sleep(0.05)
    r = http.post(f"/api/v1/progress/{pid}/cancel", headers=auth())  # ended: 200, as Canvas
    assert r.status_code == 200 and r.json()["workflow_state"] == "completed"
    for bad in (
        http.post(f"/api/v1/progress/{pid}/cancel", headers=auth("ta")),
        http.post(CE, headers=auth(), data={"export_type": "pdf"}),
        http.get("/api/v1/courses/1/content_list?type=bogus", headers=auth()),
        http.post(CE, headers=auth("student1"), data={"export_type": "common_cartridge"}),
        http.get("/api/v1/courses/999", headers=auth()),
    ):
        assert 400 <= bad.status_code < 500 and bad.json()["errors"], bad.text


# ---------------------------------------------------------------- pagination (item 10)
def test_per_page_not_a_number_is_one(http, auth):
    """lib/api.rb per_page_for: ``params[:per_page].to_i.clamp(1, max)``; ``"abc".to_i`` is 0."""
    r = http.get("/api/v1/courses?per_page=abc", headers=auth())
    assert r.status_code == 200 and [c["id"] for c in r.json()] == [1]
    assert "per_page=1" in links(r)["next"]
    assert len(http.get("/api/v1/courses?per_page=2abc", headers=auth()).json()) == 2  # the leading number
    assert len(http.get("/api/v1/courses", headers=auth()).json()) == 3  # absent: 10


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5"])
def test_a_page_that_is_not_a_page_number_is_404(http, auth, page):
    """Folio raises InvalidPage below the first page or for a non-number; Canvas answers 404."""
    for path in ("/api/v1/courses", CE, "/api/v1/courses/1/files"):
        r = http.get(f"{path}?page={page}", headers=auth())
        assert r.status_code == 404, (path, r.text)
        assert r.json()["errors"] == [{"message": "The specified resource does not exist."}]


def test_past_the_end_prev_is_the_page_before(http, auth):
    r = http.get("/api/v1/courses?page=9&per_page=2", headers=auth())
    assert r.status_code == 200 and r.json() == []
    rels = links(r)
    assert "page=8&" in rels["prev"] and "page=2&" in rels["last"] and "next" not in rels


def test_links_of_users_self_carry_the_numeric_id(http, auth, live):
    for _ in range(3):
        assert (
            http.post(
                "/api/v1/users/self/content_exports", headers=auth("student2"), data={"export_type": "zip"}
            ).status_code
            == 200
        )
    r = http.get("/api/v1/users/self/content_exports?per_page=2", headers=auth("student2"))
    assert len(r.json()) == 2
    rels = links(r)
    assert all(url.startswith(f"{live}/api/v1/users/4/content_exports?") for url in rels.values()), rels
    r = http.get("/api/v1/users/self/files?per_page=2", headers=auth("student2"))
    assert links(r)["current"].startswith(f"{live}/api/v1/users/4/files?")


# ---------------------------------------------------------------- string ids (item 13)
STRING_IDS = "application/json+canvas-string-ids"


def id_values(value, found=None):
    """Every value under an ``id`` / ``*_id`` key, and in ``*_ids`` lists, anywhere in ``value``."""
    found = [] if found is None else found
    if isinstance(value, list):
        for v in value:
            id_values(v, found)
    elif isinstance(value, dict):
        for k, v in value.items():
            if re.search(r"(^|_)id$", k):
                found.append(v)
            elif re.search(r"(^|_)ids$", k) and isinstance(v, list):
                found.extend(v)
            id_values(v, found)
    return found


def test_accept_canvas_string_ids_turns_every_id_into_a_string(http, auth):
    """lib/api.rb recursively_stringify_json_ids, applied when the Accept header asks for it."""
    ce = http.post(CE, headers=auth(), data={"export_type": "zip"}).json()
    assert isinstance(ce["id"], int)
    pid = int(ce["progress_url"].rsplit("/", 1)[1])
    deadline = (
        time.monotonic() + 30
    )  # the export ends first: a listing read twice must not change between reads
    while http.get(f"/api/v1/progress/{pid}", headers=auth()).json()["workflow_state"] != "completed":
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.05)
    paths = [
        "/api/v1/users/self",
        "/api/v1/courses",
        "/api/v1/courses/1",
        f"{CE}/{ce['id']}",
        CE,
        f"/api/v1/progress/{pid}",
        "/api/v1/courses/3/groups",
        "/api/v1/courses/1/files",
        "/api/v1/groups/1/folders",
        "/api/v1/epub_exports",
    ]
    for path in paths:
        plain = http.get(path, headers=auth()).json()
        r = http.get(path, headers=auth(Accept=STRING_IDS))
        assert r.status_code == 200, (path, r.text)
        ids = id_values(r.json())
        assert ids and all(v is None or isinstance(v, str) for v in ids), (path, ids)
        assert ids == [None if v is None else str(v) for v in id_values(plain)], path
    shown = http.get(f"{CE}/{ce['id']}", headers=auth(Accept=STRING_IDS)).json()
    assert shown["id"] == str(ce["id"]) and shown["user_id"] == "1" and shown["course_id"] == "1"
    assert http.get(f"/api/v1/progress/{pid}", headers=auth(Accept=STRING_IDS)).json()["context_id"] == str(
        ce["id"]
    )
    created = http.post(CE, headers=auth(Accept=STRING_IDS), data={"export_type": "zip"}).json()
    assert isinstance(created["id"], str) and isinstance(created["user_id"], str)


# ---------------------------------------------------------------- files, groups, users (items 8, 9)
def finished_zip(http, auth, user="teacher", path=CE, **data):
    ce = http.post(path, headers=auth(user), data={"export_type": "zip", **data}).json()
    for _ in range(400):
        shown = http.get(f"{path}/{ce['id']}", headers=auth(user)).json()
        if shown["workflow_state"] in ("exported", "failed"):
            return shown
        import time

        time.sleep(0.05)
    raise AssertionError("the export did not finish")


def test_get_file_and_course_file(http, auth, service):
    """files_controller.rb#api_show: Canvas's File, with a session-less download URL."""
    r = http.get("/api/v1/files/2", headers=auth())
    assert r.status_code == 200, r.text
    f = r.json()
    assert f["id"] == 2 and f["display_name"] == "planet-data.csv" and f["content-type"] == "text/csv"
    assert {"uuid", "folder_id", "size", "url", "created_at", "mime_class", "locked_for_user"} <= set(f)
    assert "/files/2/download?download_frd=1&verifier=" in f["url"]
    got = http.get(f["url"])  # no token: the verifier opens it
    assert got.status_code == 200 and len(got.content) == f["size"]
    assert http.get("/files/2/download", headers=auth("student1")).content == got.content
    assert http.get("/api/v1/courses/1/files/2", headers=auth()).json() == f
    assert http.get("/api/v1/courses/2/files/2", headers=auth()).status_code == 404  # not that course's
    assert (
        http.get("/api/v1/groups/1/files/26", headers=auth("student1")).json()["display_name"]
        == "project-plan.txt"
    )
    # permission checks: a locked file is not a student's, nor is a course they are not in
    assert http.get("/api/v1/files/3", headers=auth("student1")).status_code == 401
    assert http.get("/api/v1/files/3", headers=auth()).status_code == 200
    assert http.get("/files/3/download", headers=auth("student1")).status_code == 401
    assert http.get("/api/v1/files/26", headers=auth("student2")).status_code == 200  # group member
    assert http.get("/api/v1/files/99999", headers=auth()).status_code == 404


def test_export_files_and_course_files_share_one_id_space(http, auth, service):
    """Canvas's Attachments are one table: an export's file never has a course file's id, and
    /files/:id/download serves the one object with that id."""
    ce = finished_zip(http, auth, **{"select[files][]": "2"})
    att = ce["attachment"]
    course_file_ids = {r["id"] for r in service.library.database.db.query("SELECT id FROM files")}
    assert att["id"] not in course_file_ids and att["id"] > max(course_file_ids)
    served = http.get(f"/files/{att['id']}/download", headers=auth())
    assert served.headers["content-type"] == "application/zip"
    assert served.content == service.attachment(att["id"]).path.read_bytes()
    assert http.get(f"/api/v1/files/{att['id']}", headers=auth()).json()["url"] == att["url"]
    one = http.get("/files/1/download", headers=auth())
    assert one.status_code == 200 and one.headers["content-type"] == "audio/mpeg"  # the .mp3, not an export
    assert (
        http.get(f"/files/99999/download?verifier={att['uuid']}").status_code == 404
    )  # unknown id: 404, not 401
    # files added after an export take ids above it
    assert service.library.content.next_ids()["files"] == att["id"] + 1


def test_get_group_and_user(http, auth):
    """groups_controller.rb#show (:read: members and the course's admins), users_controller.rb#api_show."""
    g = http.get("/api/v1/groups/1", headers=auth("student1"))
    assert g.status_code == 200
    assert g.json() == {
        "id": 1,
        "name": "Team Turtle",
        "context_type": "Course",
        "course_id": 3,
        "members_count": 2,
    }
    assert http.get("/api/v1/groups/1", headers=auth("teacher")).status_code == 200
    assert http.get("/api/v1/groups/2", headers=auth("student1")).status_code == 401
    assert http.get("/api/v1/groups/999", headers=auth()).status_code == 404
    me = http.get("/api/v1/users/self", headers=auth("student1")).json()
    assert http.get("/api/v1/users/3", headers=auth("student1")).json() == me
    assert http.get("/api/v1/users/4", headers=auth("student1")).status_code == 401
    assert http.get("/api/v1/users/999", headers=auth("student1")).status_code == 404
    assert http.get("/api/v1/users/bob", headers=auth("student1")).status_code == 404


# ---------------------------------------------------------------- ePub JSON (item 12)
def test_a_generated_epub_names_its_content_export(http, auth, service):
    """lib/api/v1/epub_export.rb serializes the record's content_export_id, which
    EpubExport#export fills with the common_cartridge ContentExport it makes."""
    created = http.post("/api/v1/courses/1/epub_exports", headers=auth()).json()["epub_export"]
    assert created["content_export_id"] is None
    url = f"/api/v1/courses/1/epub_exports/{created['id']}"
    for _ in range(600):
        ep = http.get(url, headers=auth()).json()["epub_export"]
        if ep["workflow_state"] in ("generated", "failed"):
            break
        import time

        time.sleep(0.05)
    assert ep["workflow_state"] == "generated", ep
    ce_id = ep["content_export_id"]
    assert isinstance(ce_id, int)
    ce = service.store.content_export(ce_id)
    assert (ce.export_type, ce.workflow_state.value, ce.epub_export_id) == (
        "common_cartridge",
        "exported",
        created["id"],
    )
    # it is the ePub's own: not listed, not shown, not run
    assert ce_id not in [e["id"] for e in http.get(CE, headers=auth()).json()]
    assert http.get(f"{CE}/{ce_id}", headers=auth()).status_code == 404
    listed = next(
        c for c in http.get("/api/v1/epub_exports", headers=auth()).json()["courses"] if c["id"] == 1
    )
    assert listed["epub_export"]["content_export_id"] == ce_id


def test_a_course_without_an_epub_shows_epub_export_null(http, auth):
    """Canvas's serializer (lib/api/v1/epub_export.rb, course_epub_export_json) leaves the key
    out; its API docs (epub_exports_controller.rb, the CourseEpubExport model) declare
    ``epub_export`` without making it optional, and the documented answer for a course with no
    ePub is ``null`` (spec canvasapi-wire §1.4). We keep null: a client reading the key gets
    None either way, and one indexing it does not crash."""
    courses = http.get("/api/v1/epub_exports", headers=auth()).json()["courses"]
    assert courses and all("epub_export" in c for c in courses)
    assert next(c for c in courses if c["id"] == 3)["epub_export"] is None


# ---------------------------------------------------------------- one time format (item 14)
CANVAS_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TIME_KEY = re.compile(r"(_at|_date)$")


def times(value, found=None):
    """Every value under a ``*_at`` key, anywhere in ``value``."""
    found = [] if found is None else found
    if isinstance(value, list):
        for v in value:
            times(v, found)
    elif isinstance(value, dict):
        for k, v in value.items():
            if TIME_KEY.search(k) and v is not None:
                found.append(v)
            times(v, found)
    return found


def test_one_time_format_in_every_answer_and_in_the_cli(http, auth, service, capsys):
    """Canvas writes times as 2026-08-24T14:00:00Z (UTC, no fraction): the server, the CLI's
    --json and the local backend's course list all write them through canvas_json.iso."""
    from tui_exports.backends.local import LocalBackend
    from tui_exports.cli import main

    ce = finished_zip(http, auth)
    pid = ce["progress_url"].rsplit("/", 1)[1]
    found = []
    for path in (
        "/api/v1/users/self",
        "/api/v1/courses",
        "/api/v1/courses/1",
        CE,
        f"{CE}/{ce['id']}",
        f"/api/v1/progress/{pid}",
        "/api/v1/files/2",
        f"/api/v1/files/{ce['attachment']['id']}",
        "/api/v1/epub_exports",
    ):
        found += times(http.get(path, headers=auth()).json())
    for argv in (
        ["courses", "--json"],
        ["show", "1", str(ce["id"]), "--json"],
        ["exports", "1", "--json"],
        ["progress", pid, "--json"],
    ):
        assert main(["--as", "teacher", *argv]) == 0
        import json

        found += times(json.loads(capsys.readouterr().out))
    assert len(found) > 20 and all(isinstance(t, str) and CANVAS_TIME.match(t) for t in found), found
    courses = LocalBackend(service, jobs="none", user_id=1).courses()
    stamps = [t for c in courses for t in (c.start_at, c.end_at) if t]
    assert stamps and all(CANVAS_TIME.match(t) for t in stamps), stamps


# ---------------------------------------------------------------- asset strings in select lists (item 7)
def test_an_asset_string_in_a_select_list_is_refused_naming_the_forms_canvas_takes(http, auth):
    """Canvas's ContentMigration.process_copy_params prefixes listed ids: wiki_page_1 in a list
    selects nothing there. serve refuses it (400) rather than silently doing something else."""
    r = http.post(
        CE, headers=auth(), data={"export_type": "common_cartridge", "select[pages][]": "wiki_page_1"}
    )
    assert r.status_code == 400
    (error,) = r.json()["errors"]
    assert error["field"] == "select[pages][]" and "'wiki_page_1' in a list" in error["message"]
    assert "send 1, or select[pages][wiki_page_1]=1" in error["message"]
    ok = http.post(
        CE, headers=auth(), data={"export_type": "common_cartridge", "select[pages][wiki_page_1]": "1"}
    )
    assert ok.status_code == 200 and ok.json()["workflow_state"] in ("created", "exporting", "exported")

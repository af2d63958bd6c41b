"""``serve`` answers as Canvas does where a client can tell (issue 15, the server side),
over real HTTP on loopback."""

from __future__ import annotations

import re

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
    assert "www-authenticate" not in r.headers  # that header marks a bad token (canvasapi: InvalidAccessToken)


def test_bad_token_is_invalid_access_token(http):
    r = http.get("/api/v1/courses", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json() == {"errors": [{"message": "Invalid access token."}]}
    assert r.headers["www-authenticate"] == 'Bearer realm="canvas-lms"'


@pytest.mark.parametrize("method, path", [("DELETE", "/api/v1/courses/1"), ("POST", "/api/v1/progress/1"),
                                          ("PUT", CE), ("GET", "/api/v1/progress/1/cancel")])  # fmt: skip
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
    r = http.post(f"/api/v1/progress/{pid}/cancel", headers=auth())
    assert 400 <= r.status_code < 500
    body = r.json()
    assert body["errors"] and all(e["message"] for e in body["errors"])
    assert f"progress {pid} has already ended" in body["errors"][0]["message"]
    for bad in (http.post(CE, headers=auth(), data={"export_type": "pdf"}),
                http.get("/api/v1/courses/1/content_list?type=bogus", headers=auth()),
                http.post(CE, headers=auth("student1"), data={"export_type": "common_cartridge"}),
                http.get("/api/v1/courses/999", headers=auth())):  # fmt: skip
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
        assert http.post("/api/v1/users/self/content_exports", headers=auth("student2"),
                         data={"export_type": "zip"}).status_code == 200  # fmt: skip
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
    paths = ["/api/v1/users/self", "/api/v1/courses", "/api/v1/courses/1", f"{CE}/{ce['id']}", CE,
             f"/api/v1/progress/{pid}", "/api/v1/courses/3/groups", "/api/v1/courses/1/files",
             "/api/v1/groups/1/folders", "/api/v1/epub_exports"]  # fmt: skip
    for path in paths:
        plain = http.get(path, headers=auth()).json()
        r = http.get(path, headers=auth(Accept=STRING_IDS))
        assert r.status_code == 200, (path, r.text)
        ids = id_values(r.json())
        assert ids and all(v is None or isinstance(v, str) for v in ids), (path, ids)
        assert ids == [None if v is None else str(v) for v in id_values(plain)], path
    shown = http.get(f"{CE}/{ce['id']}", headers=auth(Accept=STRING_IDS)).json()
    assert shown["id"] == str(ce["id"]) and shown["user_id"] == "1" and shown["course_id"] == "1"
    assert http.get(f"/api/v1/progress/{pid}", headers=auth(Accept=STRING_IDS)).json()["context_id"] == str(ce["id"])
    created = http.post(CE, headers=auth(Accept=STRING_IDS), data={"export_type": "zip"}).json()
    assert isinstance(created["id"], str) and isinstance(created["user_id"], str)

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

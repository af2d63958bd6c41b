"""CanvasBackend against httpx.MockTransport: what our own server never produces."""

from __future__ import annotations

import socket
import threading
from urllib.parse import parse_qsl

import httpx
import pytest

from tui_exports.backends.base import BackendError
from tui_exports.backends.canvas import EPUB_DISABLED, CanvasBackend, form_pairs
from tui_exports.model import ContextType

BASE = "https://canvas.example.edu"
TOKEN = "secret-token-1234"
C = ContextType.COURSE
PAYLOAD = bytes(range(256)) * 40  # 10 KiB


def make(handler, **kwargs):
    sleeps: list[float] = []
    b = CanvasBackend(
        BASE,
        TOKEN,
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        retries=kwargs.pop("retries", 3),
        **kwargs,
    )
    return b, sleeps


def scripted(*responses):
    """A handler answering with the given responses in turn (callables get the request)."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request):
        seen.append(request)
        r = queue.pop(0) if len(queue) > 1 else queue[0]
        return r(request) if callable(r) else r

    return handler, seen


def test_429_with_retry_after_then_success():
    handler, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={"id": 7, "name": "A"})
    )
    b, sleeps = make(handler)
    assert b.current_user().id == 7
    assert sleeps == [2.0] and len(seen) == 2
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_5xx_then_success_and_bounded():
    handler, seen = scripted(
        httpx.Response(502), httpx.Response(500), httpx.Response(200, json={"courses": []})
    )
    b, sleeps = make(handler, backoff=0.5)
    assert b.epub_exports() == []
    assert sleeps == [0.5, 1.0]
    handler, seen = scripted(httpx.Response(500, json={"errors": [{"message": "boom"}]}))
    b, sleeps = make(handler)
    with pytest.raises(BackendError, match="server error") as e:
        b.progress(1)
    assert e.value.status == 500 and len(seen) == 4 and len(sleeps) == 3


def test_post_is_not_retried_on_500_but_is_on_429():
    handler, seen = scripted(httpx.Response(500))
    b, _ = make(handler)
    with pytest.raises(BackendError):
        b.create_content_export(C, 1, "zip")
    assert len(seen) == 1
    handler, seen = scripted(
        httpx.Response(429), httpx.Response(200, json={"id": 1, "workflow_state": "created"})
    )
    b, sleeps = make(handler)
    assert b.create_content_export(C, 1, "zip")["id"] == 1 and len(seen) == 2 and sleeps == [0.5]


def test_connection_error_then_success():
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused")
        return httpx.Response(200, json={"id": 3, "workflow_state": "running"})

    b, sleeps = make(handler)
    assert b.progress(3)["workflow_state"] == "running" and len(sleeps) == 1


def test_rate_limit_remaining_slows_down():
    handler, _ = scripted(httpx.Response(200, json={"id": 1}, headers={"X-Rate-Limit-Remaining": "25.0"}))
    b, sleeps = make(handler)
    b.progress(1)
    assert sleeps == [pytest.approx(1.5)]
    handler, _ = scripted(httpx.Response(200, json={"id": 1}, headers={"X-Rate-Limit-Remaining": "650"}))
    b, sleeps = make(handler)
    b.progress(1)
    assert sleeps == []


def test_slow_response_hits_the_timeout():
    """MockTransport sees the timeout each request carries; a 'slow' server exceeds it."""
    timeouts = []

    def handler(request):
        timeouts.append(request.extensions["timeout"])
        raise httpx.ReadTimeout("timed out", request=request)

    b, sleeps = make(handler, timeout=httpx.Timeout(1.5, connect=0.5), retries=2)
    with pytest.raises(BackendError, match="did not answer in time"):
        b.courses()
    assert len(timeouts) == 3 and timeouts[0]["read"] == 1.5 and timeouts[0]["connect"] == 0.5
    # a POST that timed out may have been done: never repeated
    timeouts.clear()
    with pytest.raises(BackendError, match="in time"):
        b.create_content_export(C, 1, "zip")
    assert len(timeouts) == 1


def test_stalling_server_on_loopback_times_out():
    """A real socket that accepts and never answers: the read timeout fires."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    b = CanvasBackend(
        f"http://127.0.0.1:{srv.getsockname()[1]}", TOKEN, timeout=0.2, retries=1, sleep=lambda s: None
    )
    try:
        with pytest.raises(BackendError, match="did not answer in time"):
            b.current_user()
    finally:
        stop.set()
        t.join(2)
        for c in held:
            c.close()
        srv.close()
        b.close()


def test_epub_404_says_disabled():
    def handler(request):
        if request.url.path == "/api/v1/courses/1":  # the course is there; its ePub API is not
            return httpx.Response(200, json={"id": 1, "name": "A"})
        return httpx.Response(404, json={"errors": [{"message": "The specified resource does not exist."}]})

    b, _ = make(handler)
    for call in (lambda: b.create_epub_export(1), b.epub_exports, lambda: b.epub_export(1, 2)):
        with pytest.raises(BackendError, match=EPUB_DISABLED):
            call()
    with pytest.raises(BackendError, match="not found"):
        b.content_export(C, 1, 5)


def test_epub_404_for_a_missing_course_or_export_says_so():
    def handler(request):
        if request.url.path in ("/api/v1/courses/1", "/api/v1/epub_exports"):
            return httpx.Response(200, json={"id": 1, "courses": []})
        return httpx.Response(404, json={"errors": [{"message": "The specified resource does not exist."}]})

    b, _ = make(handler)
    with pytest.raises(BackendError, match="no course 7 on canvas.example.edu") as e:
        b.create_epub_export(7)
    assert e.value.status == 404
    with pytest.raises(BackendError, match="no ePub export 99 of course 1"):
        b.epub_export(1, 99)
    with pytest.raises(BackendError, match=EPUB_DISABLED):
        b.create_epub_export(1)


def test_epub_422_names_the_running_export():
    body = {"id": 1, "name": "X", "epub_export": {"id": 9, "workflow_state": "exporting"}}
    handler, _ = scripted(httpx.Response(422, json=body))
    b, _ = make(handler)
    with pytest.raises(BackendError, match=r"already running \(id 9\)") as e:
        b.create_epub_export(1)
    assert e.value.status == 422


def test_failed_export_message():
    handler, _ = scripted(
        lambda r: (
            httpx.Response(
                200, json={"id": 4, "workflow_state": "failed", "message": "Failed to export wiki pages"}
            )
            if "/progress/" in r.url.path
            else httpx.Response(
                200, json={"id": 5, "workflow_state": "failed", "errors": ["Failed to export wiki pages"]}
            )
        )
    )
    b, _ = make(handler)
    with pytest.raises(
        BackendError, match="Canvas marked content export 5 as failed: Failed to export wiki pages"
    ):
        b.wait_content_export(C, 1, {"id": 5, "progress_url": f"{BASE}/api/v1/progress/4"})
    with pytest.raises(BackendError, match="failed on canvas.example.edu: Failed to export wiki pages"):
        b.follow_progress(f"{BASE}/api/v1/progress/4")


def test_auth_messages_never_show_the_token():
    handler, _ = scripted(
        httpx.Response(
            401,
            json={"errors": [{"message": "Invalid access token."}]},
            headers={"WWW-Authenticate": "Bearer"},
        )
    )
    b, _ = make(handler)
    with pytest.raises(BackendError, match="rejected the access token") as e:
        b.courses()
    assert TOKEN not in str(e.value) and TOKEN not in repr(b)
    handler, _ = scripted(
        httpx.Response(403, json={"status": "unauthorized", "errors": [{"message": "forbidden"}]})
    )
    b, _ = make(handler)
    with pytest.raises(BackendError, match="may not export this course"):
        b.create_content_export(C, 1, "common_cartridge")


def test_form_body_like_canvasapi_and_link_pagination():
    seen = []

    def handler(request):
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(
                200, json={"id": 1, "workflow_state": "created", "export_type": "common_cartridge"}
            )
        page = request.url.params.get("page", "1")
        nxt = f'<{BASE}/api/v1/courses?page=2&per_page=1>; rel="next"' if page == "1" else ""
        data = [
            {"id": int(page), "name": f"C{page}", "course_code": "X", "enrollments": [{"type": "student"}]}
        ]
        return httpx.Response(200, json=data, headers={"Link": nxt} if nxt else {})

    b, _ = make(handler)
    b.create_content_export(
        C, 1, "common_cartridge", {"pages": [1, 2], "all_quizzes": True}, skip_notifications=True
    )
    body = seen[0].content.decode()
    assert seen[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(body) == [
        ("select[pages][]", "1"),
        ("select[pages][]", "2"),
        ("select[all_quizzes]", "true"),
        ("skip_notifications", "true"),
        ("export_type", "common_cartridge"),
    ]
    courses = b.courses()
    assert (
        [c.id for c in courses] == [1, 2]
        and courses[0].role == "student"
        and not courses[0].can_export_all_types
    )
    assert str(seen[-1].url) == f"{BASE}/api/v1/courses?page=2&per_page=1"


def test_form_pairs_nesting():
    assert form_pairs("select", {"context_modules": {"module_12": 1}}) == [
        ("select[context_modules][module_12]", "1")
    ]


# ---------------------------------------------------------------- downloads
class Dropping(httpx.SyncByteStream):
    def __init__(self, data: bytes, cut_at: int):
        self.data, self.cut_at = data, cut_at

    def __iter__(self):
        yield self.data[: self.cut_at]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def file_server(*, ranges: bool, drops: int = 1, cut_at: int = 4000):
    seen = []

    def handler(request):
        rng = request.headers.get("range")
        seen.append(rng)
        start = int(rng.removeprefix("bytes=").rstrip("-")) if (rng and ranges) else 0
        body = PAYLOAD[start:]
        headers = {"Content-Length": str(len(body)), "Content-Type": "application/zip"}
        status = 200
        if start:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"
        if len(seen) <= drops:
            return httpx.Response(status, headers=headers, stream=Dropping(body, cut_at))
        return httpx.Response(status, headers=headers, content=body)

    return handler, seen


ATT = {
    "id": 11,
    "filename": "course-export.imscc",
    "size": len(PAYLOAD),
    "url": f"{BASE}/files/11/download?verifier=u",
}


def test_download_drops_then_resumes_with_range(tmp_path):
    handler, seen = file_server(ranges=True)
    b, _ = make(handler)
    ticks = []
    path = b.fetch_file(ATT, tmp_path, progress=lambda d, t: ticks.append((d, t)))
    assert path.name == "course-export.imscc" and path.read_bytes() == PAYLOAD
    assert seen == [None, "bytes=4000-"]
    assert ticks[-1] == (len(PAYLOAD), len(PAYLOAD)) and ticks[0] == (4000, len(PAYLOAD))
    assert not (tmp_path / "course-export.imscc.11.part").exists()


def test_download_without_range_support_restarts_cleanly(tmp_path):
    handler, seen = file_server(ranges=False)
    b, _ = make(handler)
    assert b.fetch_file(ATT, tmp_path).read_bytes() == PAYLOAD
    assert seen == [None, "bytes=4000-"]  # asked, got a full 200, started over


def test_download_that_keeps_dropping_never_looks_finished(tmp_path):
    handler, seen = file_server(ranges=True, drops=99, cut_at=100)
    b, _ = make(handler, retries=2)
    with pytest.raises(BackendError, match="failed 3 times"):
        b.fetch_file(ATT, tmp_path)
    assert not (tmp_path / "course-export.imscc").exists()
    assert (tmp_path / "course-export.imscc.11.part").stat().st_size == 300


def test_download_name_is_sanitised(tmp_path):
    handler, _ = file_server(ranges=True, drops=0)
    b, _ = make(handler)
    path = b.fetch_file({**ATT, "filename": "../../etc/passwd"}, tmp_path)
    assert path == tmp_path / "passwd"
    for odd in ("..", ".", "  ", "a/.."):
        assert b.fetch_file({**ATT, "id": 20 + len(odd), "filename": odd}, tmp_path).parent == tmp_path
    assert (tmp_path / "download").is_file()
    with pytest.raises(BackendError, match="no download URL"):
        b.fetch_file({"id": 1, "url": ""}, tmp_path)


def test_base_url_checks():
    for bad in ("canvas.example.edu", f"{BASE}/api/v1", "ftp://x"):
        with pytest.raises(BackendError):
            CanvasBackend(bad, TOKEN)
    with pytest.raises(BackendError, match="no access token"):
        CanvasBackend(BASE, "")
    assert CanvasBackend(BASE + "/", TOKEN).label == "canvas.example.edu"


def test_an_address_that_is_not_canvas_says_so():
    handler, _ = scripted(httpx.Response(200, text="<html>Welcome to our website</html>"))
    b, _ = make(handler)
    with pytest.raises(
        BackendError, match="something other than JSON; is https://canvas.example.edu the address"
    ):
        b.courses()

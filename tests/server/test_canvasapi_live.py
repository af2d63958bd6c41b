"""The canvasapi client (3.6) against ``tui-exports serve`` on loopback: real HTTP, real uvicorn."""

from __future__ import annotations

import functools
import re
import statistics
import time
import warnings

import pytest
import requests

canvasapi = pytest.importorskip("canvasapi")
from canvasapi import Canvas  # noqa: E402
from canvasapi.exceptions import InvalidAccessToken, Unauthorized  # noqa: E402
from canvasapi.progress import Progress  # noqa: E402


def connect(base_url: str, token: str) -> Canvas:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # plain http on loopback
        canvas = Canvas(base_url, token)
    sess = canvas._Canvas__requester._session
    sess.request = functools.partial(sess.request, timeout=(3.05, 10))
    return canvas


def wait_progress(canvas: Canvas, url: str, timeout: float = 20):
    prog = canvas.get_progress(int(re.search(r"/progress/(\d+)", url).group(1)))
    deadline = time.monotonic() + timeout
    while prog.workflow_state in ("queued", "running"):
        assert time.monotonic() < deadline, "export did not finish"
        time.sleep(0.05)
        prog.query()
    return prog


def test_canvasapi_flow(live, tokens, service):
    canvas = connect(live, tokens["teacher"])
    me = canvas.get_current_user()
    assert me.id == 1
    courses = list(canvas.get_courses(enrollment_type="teacher", per_page=2))  # follows rel="next"
    assert [c.id for c in courses] == [1, 2, 3]
    course = canvas.get_course(courses[0].id)
    exp = course.export_content("zip", select={"files": [2, 3]}, skip_notifications=True)
    assert exp.workflow_state == "created" and exp.progress_url.startswith(live)
    prog = wait_progress(canvas, exp.progress_url)
    assert prog.workflow_state == "completed" and prog.completion == 100
    exp = course.get_content_export(exp)
    assert exp.workflow_state == "exported"
    url = exp.attachment["url"]
    assert url.startswith(live) and "verifier=" in url
    body = requests.get(url, timeout=10)  # session-less, like a browser following the link
    assert body.content == service.attachment(exp.attachment["id"]).path.read_bytes()
    assert body.headers["content-type"] == "application/zip"

    for _ in range(11):
        course.export_content("zip")
    listed = list(course.get_content_exports(per_page=5))  # canvasapi sends kwargs=per_page&kwargs=5: ignored
    assert len(listed) == 12 and listed[0].id > listed[-1].id

    ep = course.create_epub_export()
    assert ep.epub_export["workflow_state"] in (
        "created",
        "exporting",
        "failed",
        "exported",
        "generating",
        "generated",
    )
    shown = course.get_epub_export(ep.epub_export["id"])
    assert shown.epub_export["id"] == ep.epub_export["id"]
    all_epubs = list(canvas.get_epub_exports())
    assert {c.id for c in all_epubs} == {1, 2, 3}
    assert next(c for c in all_epubs if c.id == 1).epub_export["id"] == ep.epub_export["id"]


def test_canvasapi_pages_across_link_headers(live, tokens, service):
    canvas = connect(live, tokens["teacher"])
    # canvasapi always asks per_page=100; request a small page straight through its requester
    course = canvas.get_course(1)
    for _ in range(3):
        course.export_content("zip")
    from canvasapi.content_export import ContentExport
    from canvasapi.paginated_list import PaginatedList

    pl = PaginatedList(
        ContentExport,
        canvas._Canvas__requester,
        "GET",
        "courses/1/content_exports",
        {"course_id": 1},
        _kwargs=[("per_page", 2)],
    )
    assert len(list(pl)) == 3  # two pages, the second found through rel="next"


def test_canvasapi_errors(live, tokens):
    with pytest.raises(InvalidAccessToken):
        connect(live, "not-a-token").get_current_user()
    student = connect(live, tokens["student1"]).get_course(1)
    theirs = student.export_content("zip")
    with pytest.raises(Unauthorized):
        connect(live, tokens["teacher"]).get_course(1).get_content_export(theirs.id)


def test_polling_is_not_throttled_by_nagle(live, tokens):
    """The loopback server must set TCP_NODELAY: without it every request waits ~45 ms."""
    canvas = connect(live, tokens["teacher"])
    exp = canvas.get_course(1).export_content("zip")
    prog = canvas.get_progress(int(exp.progress_url.rsplit("/", 1)[1]))
    took = []
    for _ in range(40):
        start = time.perf_counter()
        prog.query()
        took.append(time.perf_counter() - start)
    # Nagle with delayed ACKs holds each answer ~40 ms; the median shrugs off a busy machine's spikes
    assert statistics.median(took) < 0.03  # ~2 ms with NODELAY, ~45 ms without


def test_canvasapi_get_file_group_and_user(live, tokens, service):
    """canvasapi 3.6: canvas.get_file(id), canvas.get_group(id), canvas.get_user(id | "self")."""
    canvas = connect(live, tokens["student1"])
    f = canvas.get_file(2)
    assert f.display_name == "planet-data.csv" and f.url.startswith(live)
    assert f.get_contents(binary=True) == service.library.content.file(2).file.blob_path.read_bytes()
    group = canvas.get_group(1)
    assert group.name == "Team Turtle" and group.course_id == 3
    assert canvas.get_user("self").id == 3 and canvas.get_user(3).name == canvas.get_current_user().name
    assert canvas.get_course(1).get_file(2).id == 2


def test_canvasapi_cancel_ends_a_poll_until_completed_or_failed(live, tokens, service, until_canceled):
    """Canvas's progress#cancel fails the Progress with the message sent: canvasapi's usual loop,
    "query until completed or failed", stops; the job stops too and leaves no file behind."""
    canvas = connect(live, tokens["teacher"])
    course = canvas.get_course(1)
    exp = course.export_content("zip")
    assert until_canceled.wait(10)
    pid = int(exp.progress_url.rsplit("/", 1)[1])
    prog = canvas.get_progress(pid)
    assert prog.workflow_state == "running"
    requester = canvas._Canvas__requester  # canvasapi 3.6 has no Progress.cancel: its requester posts
    answer = Progress(
        requester, requester.request("POST", f"progress/{pid}/cancel", message="stop please").json()
    )
    assert (answer.workflow_state, answer.message) == ("failed", "stop please")

    deadline = time.monotonic() + 10
    while prog.workflow_state not in ("completed", "failed"):  # the loop clients write
        assert time.monotonic() < deadline, "the poll never ended"
        prog.query()
    assert prog.workflow_state == "failed" and prog.message == "stop please"

    for _ in range(200):  # the job notices at its next progress write and fails the export
        exp = course.get_content_export(exp.id)
        if exp.workflow_state == "failed":
            break
        time.sleep(0.05)
    assert exp.workflow_state == "failed" and exp.errors == ["canceled: stop please"]
    assert not getattr(exp, "attachment", None)
    assert not list(service.library.exports_dir.glob(".work-*"))

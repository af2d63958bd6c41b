"""Canvas throttles with a 403, not a 429 (``app/middleware/request_throttle.rb``): the body is
``403 Forbidden (Rate Limit Exceeded)`` in plain text and ``X-Rate-Limit-Remaining`` is 0.  A fake
Canvas on loopback answers so; the client must back off and retry, saying why, and must still
read a real 403 (not authorized) as a refusal."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tui_exports.backends.base import BackendError
from tui_exports.backends.canvas import CanvasBackend

THROTTLED = b"403 Forbidden (Rate Limit Exceeded)\n"


class FakeCanvas(BaseHTTPRequestHandler):
    script: list[tuple[int, dict[str, str], bytes]] = []
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.seen.append(self.path)
        status, headers, body = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def canvas():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCanvas)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    FakeCanvas.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def backend(url: str, **kwargs):
    sleeps: list[float] = []
    said: list[str] = []
    b = CanvasBackend(url, "secret-token", sleep=sleeps.append, retries=kwargs.pop("retries", 3), **kwargs)
    b.on_status = said.append
    return b, sleeps, said


def throttle(remaining: str = "0.0") -> tuple[int, dict[str, str], bytes]:
    return 403, {"Content-Type": "text/plain", "X-Rate-Limit-Remaining": remaining}, THROTTLED


def ok(obj) -> tuple[int, dict[str, str], bytes]:
    return (
        200,
        {"Content-Type": "application/json", "X-Rate-Limit-Remaining": "700"},
        json.dumps(obj).encode(),
    )


def test_a_throttle_403_is_waited_out_with_jitter_and_said(canvas):
    FakeCanvas.script = [throttle(), throttle(), ok({"id": 7, "name": "Ada"})]
    b, sleeps, said = backend(canvas)
    assert b.current_user().id == 7
    assert len(FakeCanvas.seen) == 3 and len(sleeps) == 2
    assert all(s >= 1.0 for s in sleeps) and sleeps[1] > sleeps[0] * 1.2  # backs off
    assert said == [f"Canvas is throttling, waiting {s:.0f} s" for s in sleeps]


def test_a_throttle_is_known_by_its_body_even_without_the_header(canvas):
    FakeCanvas.script = [(403, {"Content-Type": "text/plain"}, THROTTLED), ok({"id": 7, "name": "Ada"})]
    b, sleeps, said = backend(canvas)
    assert b.current_user().id == 7 and len(sleeps) == 1 and said


def test_jitter_spreads_clients_on_one_token(canvas):
    FakeCanvas.script = [throttle(), ok({"id": 7, "name": "Ada"})]
    delays = set()
    for _ in range(8):
        FakeCanvas.script = [throttle(), ok({"id": 7, "name": "Ada"})]
        b, sleeps, _ = backend(canvas)
        b.current_user()
        delays.add(round(sleeps[0], 3))
    assert len(delays) > 1


def test_throttling_that_never_ends_says_so_not_not_allowed(canvas):
    FakeCanvas.script = [throttle()]
    b, sleeps, _ = backend(canvas, retries=2)
    with pytest.raises(BackendError) as e:
        b.current_user()
    assert "throttling" in str(e.value) and "not allowed" not in str(e.value)
    assert len(FakeCanvas.seen) == 3 and len(sleeps) == 2


def test_a_real_403_is_still_a_refusal_and_not_retried(canvas):
    body = json.dumps(
        {"status": "unauthorized", "errors": [{"message": "user not authorized to perform that action"}]}
    )
    FakeCanvas.script = [
        (403, {"Content-Type": "application/json", "X-Rate-Limit-Remaining": "650"}, body.encode())
    ]
    b, sleeps, said = backend(canvas)
    with pytest.raises(BackendError) as e:
        b.current_user()
    assert "not allowed" in str(e.value) and len(FakeCanvas.seen) == 1 and not said


@pytest.mark.parametrize(
    "remaining, cost, paced",
    [("700", "1.5", False), ("700", "650", True), ("40", None, True), ("soon", "3", False)],
)
def test_the_client_paces_itself_before_canvas_throttles(canvas, remaining, cost, paced):
    """Canvas's bucket: what is left after a call like the last one (remaining − its cost) below
    the low mark slows the client down before Canvas has to answer 403."""
    headers = {"Content-Type": "application/json", "X-Rate-Limit-Remaining": remaining}
    if cost is not None:
        headers["X-Request-Cost"] = cost
    FakeCanvas.script = [(200, headers, json.dumps({"id": 7, "name": "Ada"}).encode())]
    b, sleeps, _ = backend(canvas)
    assert b.current_user().id == 7
    assert bool(sleeps) is paced and all(0 < s <= 2.0 for s in sleeps)

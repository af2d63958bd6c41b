"""Why a Canvas export has no file, said in words (issue 15, items 2–4), against a fake Canvas on
loopback that answers as Canvas's source does: a failed job's reason is only in
``Progress.message``; ``progress#cancel`` fails the Progress and leaves the export ``exporting``;
an expired export is ``exported`` without ``attachment``; canvasapi's minimal fixtures lack fields
such as ``workflow_state``."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tui_exports.cli import main
from tui_exports.cli import remote as cli_remote

TOKEN_VAR = "FAKE_CANVAS_TOKEN"


class FakeCanvas(BaseHTTPRequestHandler):
    routes: dict[tuple[str, str], object] = {}

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        body = next((b for (m, p), b in self.routes.items() if m == method and re.fullmatch(p, path)), None)
        status = 200 if body is not None else 404
        data = json.dumps(body if body is not None else {"errors": [{"message": "not found"}]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's names
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def canvas(home, capsys, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCanvas)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(cli_remote, "POLL_SECONDS", 0.01)
    monkeypatch.setenv(TOKEN_VAR, "fake-token")
    assert main(["profile", "add", "fake", "--base-url", base, "--token-env", TOKEN_VAR]) == 0
    capsys.readouterr()
    FakeCanvas.routes = {("GET", "/api/v1/users/self"): {"id": 1, "name": "Ada"}}
    yield base
    server.shutdown()
    server.server_close()


def route(base: str, export: dict, progress: dict) -> None:
    ce = {"id": 111, "export_type": "zip", "created_at": "2026-08-24T14:00:00Z", **export}
    ce["progress_url"] = f"{base}/api/v1/progress/9"
    FakeCanvas.routes.update(
        {
            ("POST", "/api/v1/courses/1/content_exports"): {**ce, "workflow_state": "created"},
            ("GET", "/api/v1/courses/1/content_exports/111"): ce,
            ("GET", "/api/v1/progress/9"): {"id": 9, "context_id": 111, "completion": 40, **progress},
        }
    )


def run(capsys, *args):
    code = main(["--profile", "fake", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_a_failed_export_prints_the_reason_canvas_put_in_its_progress(canvas, capsys):
    route(
        canvas,
        {"workflow_state": "failed"},
        {"workflow_state": "failed", "message": "Unexpected error, ID: 424242"},
    )
    code, _, err = run(capsys, "export", "1", "--type", "zip", "--wait")
    assert code == 1
    assert "error: Canvas marked content export 111 as failed: Unexpected error, ID: 424242" in err


def test_an_export_canceled_on_canvas_says_canceled_not_no_file(canvas, capsys):
    route(
        canvas,
        {"workflow_state": "exporting"},
        {"workflow_state": "failed", "message": "canceled by the teacher"},
    )
    code, _, err = run(capsys, "export", "1", "--type", "zip", "--wait")
    assert code == 1
    assert "error: content export 111 was canceled on Canvas: canceled by the teacher" in err
    assert "with no file" not in err


def test_an_expired_export_says_it_expired_and_after_how_long(canvas, capsys):
    route(canvas, {"workflow_state": "exported"}, {"workflow_state": "completed", "completion": 100})
    code, _, err = run(capsys, "show", "1", "111", "--download")
    assert code == 2
    assert "content export 111 has expired: Canvas deletes export files after 30 days" in err


def test_a_minimal_export_without_workflow_state_is_described_not_a_traceback(canvas, capsys):
    FakeCanvas.routes[("GET", "/api/v1/courses/1/content_exports/111")] = {"id": 111}
    code, out, err = run(capsys, "show", "1", "111")
    assert code == 0 and out.startswith("export 111  ?  state unknown")

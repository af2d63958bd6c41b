"""``tui-exports --profile NAME …`` and ``tui-exports profile …``: the CLI on a Canvas instance.

The instance is ``tui-exports serve`` on loopback (the ``server`` fixture); a few answers our
server never gives (ePub disabled) come from httpx.MockTransport.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import stat
import time
from pathlib import Path

import httpx
import pytest
from cli_run import run_cli

from tui_exports.backends.profiles import open_profile, profile_names
from tui_exports.cli import remote as cli_remote
from tui_exports.engine import ExportService
from tui_exports.engine.runner import ExportRunner
from tui_exports.paths import Home

TOKEN_VAR = "TEST_CANVAS_TOKEN"


@pytest.fixture
def canvas(server, home, capsys, monkeypatch):
    """A profile 'school' for the live server, the teacher's token in the environment."""
    base_url, service, tokens = server
    monkeypatch.setattr(cli_remote, "POLL_SECONDS", 0.05)
    monkeypatch.setenv(TOKEN_VAR, tokens["teacher"])
    code, _, _ = run_cli(capsys, "profile", "add", "school", "--base-url", base_url, "--token-env", TOKEN_VAR)
    assert code == 0
    return base_url, service, tokens


def test_profile_add_and_list_never_show_a_token(home, capsys, monkeypatch):
    monkeypatch.delenv("SCHOOL_TOKEN", raising=False)
    code, out, err = run_cli(
        capsys,
        "profile",
        "add",
        "school",
        "--base-url",
        "https://canvas.example.edu/",
        "--token-env",
        "SCHOOL_TOKEN",
    )
    assert code == 0 and "added profile 'school': https://canvas.example.edu" in out
    assert "export SCHOOL_TOKEN=" in err  # the variable is not set in this shell yet
    config = Path(home) / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    code, out, _ = run_cli(capsys, "profile", "list")
    assert out.split() == [
        "school",
        "https://canvas.example.edu",
        "token:",
        "$SCHOOL_TOKEN",
        "(not",
        "set",
        "in",
        "this",
        "shell)",
    ]
    monkeypatch.setenv("SCHOOL_TOKEN", "tok-never-shown")
    code, out, _ = run_cli(capsys, "profile", "list", "--json")
    assert json.loads(out) == [
        {
            "name": "school",
            "base_url": "https://canvas.example.edu",
            "token_env": "SCHOOL_TOKEN",
            "keyring": False,
        }
    ]
    again = ["profile", "add", "school", "--base-url", "https://lms.example.org", "--token-env", "X"]
    code, out, err = run_cli(capsys, *again)
    assert code == 2 and out == "" and "a profile 'school' exists already: add --replace to change it" in err
    assert "canvas.example.edu" in config.read_text()  # left as it was
    code, out, _ = run_cli(capsys, *again, "--replace")
    assert code == 0 and "replaced profile 'school'" in out
    assert profile_names(Home.from_env(home)) == ["school"]
    assert "tok-never-shown" not in config.read_text()


def test_profile_remove(home, capsys, monkeypatch, memory_keyring):
    config = Path(home) / "config.toml"
    config.write_text('theme = "textual-light"\n', encoding="utf-8")
    for name in ("school", "work"):
        code, _, _ = run_cli(
            capsys, "profile", "add", name, "--base-url", f"https://{name}.example", "--token-env", "T"
        )
        assert code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("tok-in-keyring\n"))
    assert run_cli(capsys, "profile", "add", "ring", "--base-url", "https://r.example", "--keyring")[0] == 0
    code, out, _ = run_cli(capsys, "profile", "remove", "school")
    assert code == 0 and out.startswith("removed profile 'school' (https://school.example)")
    assert profile_names(Home.from_env(home)) == ["ring", "work"]
    assert 'theme = "textual-light"' in config.read_text()  # the rest of the file is kept
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    code, out, _ = run_cli(capsys, "profile", "remove", "ring")
    assert code == 0 and "and its token from the OS keyring" in out and memory_keyring.store == {}
    code, _, err = run_cli(capsys, "profile", "remove", "school")
    assert code == 2 and "no profile 'school'" in err and "known: work" in err
    assert run_cli(capsys, "profile", "remove", "work")[0] == 0
    code, out, _ = run_cli(capsys, "profile", "list")
    assert out.startswith("no profiles") and "profiles" not in config.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--base-url", "canvas.example.edu", "--token-env", "T"], "not a Canvas address"),
        (["--base-url", "https://c.example/api/v1", "--token-env", "T"], "without /api/v1"),
        (
            ["--base-url", "https://c.example", "--token-env", "1234~pasted-token"],
            "NAME of an environment variable",
        ),
    ],
)
def test_profile_add_refuses_bad_input(home, capsys, argv, message):
    code, _, err = run_cli(capsys, "profile", "add", "p", *argv)
    assert code == 2 and message in err and "pasted-token" not in err
    code, _, err = run_cli(
        capsys, "profile", "add", "no/slash", "--base-url", "https://c.example", "--token-env", "T"
    )
    assert code == 2 and "profile names are" in err
    assert not (Path(home) / "config.toml").exists()


def test_profile_add_with_keyring_reads_the_token_from_stdin(
    home, capsys, monkeypatch, server, memory_keyring
):
    base_url, _, tokens = server
    monkeypatch.setattr("sys.stdin", io.StringIO(tokens["teacher"] + "\n"))
    code, out, _ = run_cli(capsys, "profile", "add", "work", "--base-url", base_url, "--keyring")
    assert code == 0 and memory_keyring.store == {("tui-exports", "work"): tokens["teacher"]}
    assert tokens["teacher"] not in (Path(home) / "config.toml").read_text()
    code, out, _ = run_cli(capsys, "profile", "list")
    assert "OS keyring" in out and tokens["teacher"] not in out
    code, out, _ = run_cli(capsys, "--profile", "work", "courses")
    assert code == 0 and len(out.splitlines()) == 3
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run_cli(capsys, "profile", "add", "empty", "--base-url", base_url, "--keyring")
    assert code == 2 and "no token given" in err


def test_read_commands_on_the_instance(canvas, capsys):
    base_url, service, _ = canvas
    code, out, _ = run_cli(capsys, "--profile", "school", "courses", "--json")
    assert code == 0 and [c["id"] for c in json.loads(out)] == [1, 2, 3]
    code, out, _ = run_cli(capsys, "--profile", "school", "content", "1")
    assert code == 0 and "wiki_pages (" in out and "attachments (" in out
    code, out, _ = run_cli(capsys, "--profile", "school", "exports", "1")
    assert code == 0 and out.strip() == "no exports"
    code, out, _ = run_cli(capsys, "--profile", "school", "epubs", "--json")
    assert {c["id"] for c in json.loads(out)["courses"]} == {1, 2, 3}


def test_courses_json_on_the_instance_is_the_instance_course(canvas, capsys):
    """With --profile, ``courses --json`` prints the Course objects the instance served, as served."""
    from tui_exports import canvas_json

    _, service, _ = canvas
    code, out, _ = run_cli(capsys, "--profile", "school", "courses", "--json")
    teacher = service.find_user("teacher").id
    served = [
        canvas_json.course_json(c, role=st.role, current=st.current, user_id=teacher)
        for c, st in service.courses(teacher)
    ]
    assert code == 0 and json.loads(out) == served


def test_export_wait_follows_progress_and_downloads(canvas, capsys, home):
    base_url, service, _ = canvas
    code, out, err = run_cli(
        capsys,
        "--profile",
        "school",
        "export",
        "1",
        "--type",
        "zip",
        "--select",
        "files=2,3",
        "--wait",
        "--json",
    )
    assert code == 0, err
    ce = json.loads(out)
    assert ce["workflow_state"] == "exported" and ce["attachment"]["url"].startswith(base_url)
    path = Path(ce["attachment"]["path"])
    assert path.parent == Home.from_env(home).downloads
    assert path.read_bytes() == service.attachment(ce["attachment"]["id"]).path.read_bytes()
    assert "export" in err and "download" in err and "100%" in err  # the bars on stderr
    assert not list(path.parent.glob("*.part*"))
    code, out, _ = run_cli(capsys, "--profile", "school", "show", "1", str(ce["id"]))
    assert code == 0 and f"export {ce['id']}  zip  exported" in out
    pid = ce["progress_url"].rsplit("/", 1)[1]
    code, out, _ = run_cli(capsys, "--profile", "school", "progress", pid, "--json")
    assert json.loads(out)["workflow_state"] == "completed"
    code, out, _ = run_cli(capsys, "--profile", "school", "exports", "1", "--json")
    assert [e["id"] for e in json.loads(out)] == [ce["id"]]
    lib = ExportService.open(Home.from_env(home))
    try:  # the library keeps where the download went (Canvas keeps the export)
        att_id = ce["attachment"]["id"]
        assert lib.library.remote.download_paths(base_url, [att_id]) == {att_id: str(path)}
    finally:
        lib.close()


def test_export_without_wait_then_cancel_by_course_and_export_id(canvas, capsys, until_canceled):
    """``cancel COURSE_ID EXPORT_ID`` on the instance: the export as ``export`` printed it, its
    Progress found through the export (never a bare number meaning another object)."""
    code, out, _ = run_cli(capsys, "--profile", "school", "export", "1", "--type", "zip")
    export_id = int(out.split()[1])
    assert code == 0 and out.splitlines()[1].split()[:1] == ["progress"]
    progress_id = int(out.splitlines()[1].split()[1])
    code, out, err = run_cli(capsys, "--profile", "school", "cancel", "1", str(export_id))
    assert code == 0 and out.startswith(f"canceled export {export_id} (progress "), err
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        code, out, _ = run_cli(capsys, "--profile", "school", "show", "1", str(export_id), "--json")
        if json.loads(out)["workflow_state"] == "failed":
            break
        time.sleep(0.05)
    assert json.loads(out)["workflow_state"] == "failed"
    # serve's Progress speaks Canvas (failed, no message sent: null); the export says why it has no file
    code, out, err = run_cli(capsys, "--profile", "school", "progress", str(progress_id), "--json")
    assert code == 0 and {k: json.loads(out)[k] for k in ("workflow_state", "message")} == {
        "workflow_state": "failed",
        "message": None,
    }
    code, _, err = run_cli(capsys, "--profile", "school", "show", "1", str(export_id), "--download")
    assert code == 1 and f"error: content export {export_id} was canceled on Canvas\n" in err
    code, _, err = run_cli(capsys, "--profile", "school", "cancel", "1", str(export_id))
    assert code == 2 and "has already ended (failed): nothing to cancel" in err
    code, _, err = run_cli(capsys, "--profile", "school", "cancel", str(export_id))
    assert code == 2 and "cancel COURSE_ID EXPORT_ID" in err


def test_export_without_wait_downloaded_later_with_show(canvas, capsys, home):
    _, service, _ = canvas
    code, out, _ = run_cli(capsys, "--profile", "school", "export", "1", "--type", "zip", "--json")
    ce = json.loads(out)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # a person would look again later
        code, out, err = run_cli(
            capsys, "--profile", "school", "show", "1", str(ce["id"]), "--download", "--json"
        )
        if code != 2:
            break
        assert "has no file to download yet" in err
        time.sleep(0.1)
    assert code == 0, err
    shown = json.loads(out)
    path = Path(shown["attachment"]["path"])
    assert path.parent == Home.from_env(home).downloads and "100%" in err
    assert path.read_bytes() == service.attachment(shown["attachment"]["id"]).path.read_bytes()
    code, out, err = run_cli(
        capsys, "--profile", "school", "show", "1", str(ce["id"]), "--download", "--json"
    )
    assert code == 0 and json.loads(out)["attachment"]["path"] == str(path) and "download" not in err  # once


def test_epub_wait_downloads_the_book(canvas, capsys):
    _, service, _ = canvas
    code, out, err = run_cli(capsys, "--profile", "school", "epub", "1", "--wait", "--json")
    assert code == 0, err
    ep = json.loads(out)["epub_export"]
    assert ep["workflow_state"] == "generated"
    book = Path(ep["epub_attachment"]["path"])
    assert book.suffix == ".epub" and book.read_bytes()[:2] == b"PK"
    if ep.get("zip_attachment"):
        assert Path(ep["zip_attachment"]["path"]).is_file()


def test_failed_export_on_the_instance_exits_1(canvas, capsys, monkeypatch):
    def broken(self, ce):
        def fail(snap, workdir, progress):
            raise OSError("no space left on device")

        return fail

    monkeypatch.setattr(ExportRunner, "exporter", broken)  # the server runs in this process
    code, out, err = run_cli(capsys, "--profile", "school", "export", "1", "--type", "zip", "--wait")
    assert code == 1 and "Canvas marked content export" in err and "no space left on device" in err
    assert "failed" in out


def test_clear_messages(canvas, capsys, monkeypatch):
    base_url, _, tokens = canvas
    code, _, err = run_cli(capsys, "--profile", "nope", "courses")
    assert code == 2 and "no profile 'nope'" in err and "school" in err
    monkeypatch.delenv(TOKEN_VAR)
    code, _, err = run_cli(capsys, "--profile", "school", "courses")
    assert code == 2 and f"environment variable {TOKEN_VAR} is not set" in err
    monkeypatch.setenv(TOKEN_VAR, "wrong-token")
    code, _, err = run_cli(capsys, "--profile", "school", "courses")
    assert code == 2 and "rejected the access token" in err and "wrong-token" not in err
    monkeypatch.setenv(TOKEN_VAR, tokens["student1"])
    code, _, err = run_cli(capsys, "--profile", "school", "export", "1", "--type", "common_cartridge")
    assert code == 2 and "you may not export this course" in err
    code, _, err = run_cli(capsys, "--profile", "school", "epub", "999")
    assert code == 2 and "no course 999" in err


def test_epub_disabled_on_the_instance(canvas, capsys, monkeypatch):
    def handler(request):
        if "epub_exports" in request.url.path:
            return httpx.Response(
                404, json={"errors": [{"message": "The specified resource does not exist."}]}
            )
        return httpx.Response(200, json={"id": 1, "name": "Course"})

    monkeypatch.setattr(
        cli_remote, "open_profile", functools.partial(open_profile, transport=httpx.MockTransport(handler))
    )
    for argv in (["epub", "1", "--wait"], ["epubs"]):
        code, _, err = run_cli(capsys, "--profile", "school", *argv)
        assert code == 2 and "ePub export is not enabled on this Canvas instance" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--as", "student1", "courses"], "--as acts as another user of the local library"),
        (["library", "users"], "`library` is about the local library"),
        (["notifications"], "`notifications`"),
        (["serve"], "`serve`"),
        (["token", "create"], "`token`"),
        (["profile", "list"], "`profile`"),
    ],
)
def test_local_only_commands_refuse_profile(home, capsys, argv, message):
    code, _, err = run_cli(capsys, "--profile", "school", *argv)
    assert code == 2 and message in err and "--profile" in err


def test_no_command_opens_the_app_on_the_instance(canvas, capsys, monkeypatch):
    import tui_exports.tui.app as tui_app

    opened = []

    def fake_run_tui(backend):
        opened.append((type(backend).__name__, backend.base_url, [c.id for c in backend.courses()]))
        backend.close()

    monkeypatch.setattr(tui_app, "run_tui", fake_run_tui)
    code, _, _ = run_cli(capsys, "--profile", "school")
    assert code == 0 and opened == [("CanvasBackend", canvas[0], [1, 2, 3])]
    code, _, err = run_cli(capsys, "--profile", "nope")
    assert code == 2 and "no profile 'nope'" in err


def test_config_readable_by_others_is_a_warning_line(canvas, capsys, home):
    os.chmod(Path(home) / "config.toml", 0o644)
    code, _, err = run_cli(capsys, "--profile", "school", "courses")
    assert code == 0 and "warning:" in err and "chmod 600" in err


def test_show_json_reads_the_same_times_locally_and_through_a_profile(canvas, capsys, monkeypatch):
    """One object, one time format (Canvas's ``Z``), whether read from the library or over the API."""
    _, service, _ = canvas
    code, out, err = run_cli(
        capsys, "--profile", "school", "export", "1", "--type", "zip", "--wait", "--json"
    )
    assert code == 0, err
    remote = json.loads(out)
    code, out, _ = run_cli(capsys, "--profile", "school", "show", "1", str(remote["id"]), "--json")
    remote = json.loads(out)
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(service.library.home.data))  # the served library itself
    code, out, _ = run_cli(capsys, "show", "1", str(remote["id"]), "--json")
    local = json.loads(out)

    def times(obj, where=""):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k.endswith("_at") and v is not None:
                    yield f"{where}{k}", v
                yield from times(v, f"{where}{k}.")

    assert dict(times(local)) == dict(times(remote)) and dict(times(local))
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", v) for _, v in times(local))


def test_import_from_profile_copies_a_canvas_course_into_the_library(canvas, capsys, home):
    """``import --from-profile``: Canvas (serve, over another library) writes the course's
    cartridge, it comes down and is imported; the copy then exports offline as an ePub."""
    base_url, service, _ = canvas
    code, out, err = run_cli(capsys, "import", "--from-profile", "school", "1", "--json")
    assert code == 0, err
    copied = json.loads(out)
    source = service.library.content.course_content(1)
    assert copied["name"] == service.library.content.course(1).name
    report = copied["import"]
    assert report["source"].startswith("Common Cartridge 1.1.0 (Canvas)")  # Canvas's default version
    assert report["wiki_pages"]["kept"] == len(source["pages"])
    assert report["quizzes"]["kept"] == len(source["quizzes"])
    assert "export" in err and "download" in err and "import" in err  # three bars on stderr
    downloads = Home.from_env(home).downloads
    assert not [p for p in downloads.iterdir() if p.suffix in (".imscc", ".part")]  # the package is gone
    code, out, err = run_cli(capsys, "epub", str(copied["id"]), "--wait", "--json")
    assert code == 0, err
    assert json.loads(out)["epub_export"]["workflow_state"] == "generated"


def test_import_from_profile_of_a_course_one_cannot_export(canvas, capsys, home):
    code, out, err = run_cli(capsys, "import", "--from-profile", "school", "999")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "999" in err
    code, out, err = run_cli(capsys, "import", "--from-profile", "school", "not-a-number")
    assert code == 2 and "not-a-number" in err

"""A process killed mid-export, the library's migrations and loader, and the CLI end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cli_run import run_cli

from tui_exports.engine import ExportService
from tui_exports.engine.runner import ExportRunner
from tui_exports.importers.course_folder import CourseFolderError, add_course_folder
from tui_exports.paths import Home, bundled_data_dir
from tui_exports.store import Library
from tui_exports.store.db import connect, migrate, schema_version
from tui_exports.store.schema import LATEST_VERSION

SLOW_EXPORT = textwrap.dedent(
    """
    import sys, time
    from tui_exports.engine import ExportService
    from tui_exports.model import ContextType, ExportResult, OutputFile
    svc = ExportService.open()
    def slow(snap, workdir, progress):
        out = workdir / "never.zip"
        with open(out, "wb") as f:
            for i in range(10_000):
                f.write(b"x" * 1024); f.flush()
                progress(i / 100, None)
                if i == 5:
                    print("WRITING", flush=True)
                time.sleep(0.01)
        return ExportResult([OutputFile(out, "application/zip")])
    svc.runner.exporter = lambda ce: slow
    ce = svc.create_content_export(svc.owner_id(), ContextType.COURSE, 1, "zip")
    svc.store.claim("content", ce.id, __import__("os").getpid(), state="created")
    svc.run_content_export(ce.id)
    """
)


@pytest.mark.slow
def test_killed_process_leaves_no_file_and_reads_failed(home):
    ExportService.open(Home.from_env(home)).close()  # seed first, outside the victim
    victim = subprocess.Popen(
        [sys.executable, "-c", SLOW_EXPORT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TUI_EXPORTS_HOME": str(home)},
    )
    try:
        assert victim.stdout.readline().strip() == "WRITING"
        os.kill(victim.pid, signal.SIGKILL)
    finally:
        victim.wait(10)
    exports = home / "exports"
    assert list(exports.glob(".work-content-*/never.zip"))  # the half file is only in the work dir
    svc = ExportService.open(Home.from_env(home))
    try:
        ce = svc.store.content_export(1)
        assert ce.workflow_state.value == "failed"
        assert ce.errors and ce.errors[-1].startswith(
            f"interrupted: the process running this export (pid {victim.pid})"
        )
        assert svc.store.progress(ce.progress_id).workflow_state.value == "failed"
        assert not (exports / "content-1").exists() and not list(exports.glob(".work-*"))
        assert ce.attachment_id is None
    finally:
        svc.close()


def test_a_library_migrated_to_9_gets_the_walks_sort_key_indexes(tmp_path):
    """Migration 9 shipped with plain column indexes; the walks sort by ifnull(...) keys: a
    library already at 9 is given the indexes of those keys by a later migration."""
    db = connect(tmp_path / "library.db")
    migrate(db, upto=9)
    db.conn.close()
    lib = Library(Home(tmp_path, tmp_path))
    indexes = dict(
        lib.database.db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall()
    )
    assert "pages_course" in indexes
    for name in (
        "modules_course",
        "assignments_course",
        "discussion_topics_course",
        "calendar_events_course",
    ):
        assert "ifnull(" in indexes[name], name
    lib.close()


def test_an_older_library_is_upgraded(tmp_path):
    db = connect(tmp_path / "library.db")
    migrate(db, upto=1)
    db["users"].insert({"id": 1, "name": "Old Owner", "key": "old"})
    assert schema_version(db) == 1 and "access_tokens" not in db.table_names()
    db.conn.close()
    lib = Library(Home(tmp_path, tmp_path))
    assert schema_version(lib.database.db) == LATEST_VERSION
    assert "access_tokens" in lib.database.db.table_names()
    assert lib.content.user(1).name == "Old Owner"
    lib.close()


def test_a_newer_library_is_refused(tmp_path):
    from tui_exports.store import LibraryTooNew

    db = connect(tmp_path / "library.db")
    migrate(db)
    db.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    db.conn.close()
    with pytest.raises(LibraryTooNew, match="upgrade tui-exports"):
        Library(Home(tmp_path, tmp_path))


@pytest.mark.parametrize(
    "library, why",
    [
        ("not a database", "file is not a database"),
        (
            "newer",
            f"this library has schema version 999, newer than this release understands ({LATEST_VERSION}); upgrade tui-exports",
        ),
        ("its upgrade fails", "no such index: modules_course"),
    ],
)
def test_a_library_that_cannot_be_opened_is_one_line_and_exit_2(home, capsys, library, why):
    """A command, ``serve`` and the app (the CLI says what its opener raised) on a library file
    that is no library, one a newer release made, or one its upgrade fails on: one line saying
    which library and why, exit 2, and the file left as it was."""
    from cli_run import run_cli

    path = home / "library.db"
    if library == "not a database":
        path.write_bytes(b"these bytes are no SQLite database, " * 40)
    else:
        db = connect(path)
        migrate(db, upto=10)
        if library == "newer":
            db.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
        else:  # migration 11 drops and makes this index again
            db.execute("DROP INDEX modules_course")
        db.conn.close()
    before = path.read_bytes()
    code, out, err = run_cli(capsys, "courses")
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [f"error: the library {path} cannot be opened: {why}"]
    assert path.read_bytes() == before


def test_demo_library_loads_with_canvas_links(service):
    assert [c.course_code for c in service.content.courses()] == ["ASTR 101", "HIST 390", "CS 110"]
    content = service.content.course_content(1)
    bodies = " ".join(p.body for p in content["pages"])
    assert (
        "/courses/1/files/" in bodies
        and "/courses/1/pages/" in bodies
        and "/courses/1/assignments/" in bodies
    )
    assert "../files/" not in bodies
    types = {
        q.question_type.value
        for quiz in (service.content.course_content(c)["quizzes"] for c in (1, 2, 3))
        for qz in quiz
        for q in qz.questions
    }
    assert len(types) == 13  # every Canvas question type


def _folder(tmp_path, course_toml: str, files: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "course"
    (folder / "pages").mkdir(parents=True)
    (folder / "course.toml").write_text(textwrap.dedent(course_toml))
    for rel, text in (files or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


@pytest.mark.parametrize(
    "course_toml,message",
    [
        ("[course]\nname = 'X'\n", "missing required key 'course_code'"),
        ("[course\nname=", "not valid TOML"),
        (
            "[course]\nname='X'\ncourse_code='X'\n[[enrollments]]\nuser='nobody'\nrole='teacher'\n",
            "unknown user 'nobody'",
        ),
        (
            "[course]\nname='X'\ncourse_code='X'\n[[modules]]\nkey='m'\nname='M'\nitems=[{type='page', ref='ghost'}]\n",
            "no page 'ghost'",
        ),
        ("[course]\nname='X'\ncourse_code='X'\ntime_zone='Mars/Olympus'\n", "unknown time zone"),
        (
            "[course]\nname='X'\ncourse_code='X'\n[[pages]]\nslug='a'\ntitle='A'\n",
            "pages/a.html: file not found",
        ),
    ],
)
def test_bad_course_folders_write_nothing(service, tmp_path, course_toml, message):
    before = service.content.course_count()
    with pytest.raises(CourseFolderError, match=message):
        add_course_folder(service.library, _folder(tmp_path, course_toml))
    assert service.content.course_count() == before


def test_cli_content_of_a_course_a_group_and_refusals(home, capsys):
    code, out, _ = run_cli(capsys, "content", "3", "--json")
    assert code == 0 and {"context_modules", "wiki_pages", "attachments"} <= set(json.loads(out))
    code, out, _ = run_cli(capsys, "--as", "student1", "content", "--group", "1", "--json")
    listing = json.loads(out)
    assert code == 0 and set(listing) == {"folders", "attachments"}
    assert sorted(a["title"] for a in listing["attachments"]) == ["project-plan.txt", "turtle-star.png"]
    code, _, err = run_cli(capsys, "--as", "student1", "content", "--group", "2")
    assert code == 2 and "not a member of this group" in err
    code, _, err = run_cli(capsys, "content")
    assert code == 2 and "COURSE_ID, --group ID or --user ID" in err


def test_cli_end_to_end(home, capsys):
    code, out, _ = run_cli(capsys, "courses", "--json")
    assert code == 0 and [c["course_code"] for c in json.loads(out)] == ["ASTR 101", "HIST 390", "CS 110"]
    code, out, err = run_cli(
        capsys, "export", "1", "--type", "zip", "--select", "files=6,7", "--wait", "--json"
    )
    ce = json.loads(out)
    assert code == 0 and ce["workflow_state"] == "exported" and Path(ce["attachment"]["path"]).is_file()
    assert "100%" in err  # the progress bar on stderr
    code, out, err = run_cli(capsys, "export", "1", "--type", "zip", "--select", "pages=1")
    assert code == 2 and "zip exports only folders and files" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "--as", "student1", "export", "1", "--type", "qti")
    assert code == 2 and "not authorized" in err
    code, out, _ = run_cli(capsys, "show", "1", str(ce["id"]), "--json")
    assert json.loads(out)["id"] == ce["id"]
    code, out, _ = run_cli(capsys, "exports", "1", "--json")
    assert [e["id"] for e in json.loads(out)] == [ce["id"]]
    code, out, _ = run_cli(capsys, "progress", ce["progress_url"].rsplit("/", 1)[1], "--json")
    assert json.loads(out)["workflow_state"] == "completed"
    code, _, err = run_cli(capsys, "show", "1", "999")
    assert code == 2 and "no content export 999" in err
    code, out, _ = run_cli(capsys, "epubs", "--json")
    assert {c["id"] for c in json.loads(out)["courses"]} == {1, 2, 3}


def test_cli_failed_export_exits_1(home, capsys, monkeypatch):
    def broken(self, ce):
        def fail(snap, workdir, progress):
            raise OSError("no space left on device")

        return fail

    monkeypatch.setattr(ExportRunner, "exporter", broken)
    code, out, err = run_cli(capsys, "export", "1", "--type", "zip", "--wait")
    assert code == 1 and "failed" in out and "no space left on device" in out


def test_cli_library_add(home, capsys, tmp_path):
    folder = _folder(
        tmp_path,
        """
        [course]
        name = "My Own Course"
        course_code = "OWN 1"
        [[enrollments]]
        user = "teacher"
        role = "teacher"
        [[pages]]
        slug = "hello"
        title = "Hello"
        """,
        {"pages/hello.html": '<p>See <a href="missing.html">this</a></p>', "files/a.txt": "hi"},
    )
    code, out, err = run_cli(capsys, "library", "add", str(folder))
    assert code == 0 and out.strip().splitlines()[-1] == "4"
    assert "points at nothing" in err
    code, out, _ = run_cli(capsys, "courses")
    assert "OWN 1" in out


@pytest.mark.slow
def test_console_script_without_wait_runs_in_the_background_worker(home):
    exe = Path(sys.executable).with_name("tui-exports")
    if not exe.exists():
        pytest.skip("the tui-exports console script is not installed in this environment")
    env = {**os.environ, "TUI_EXPORTS_HOME": str(home)}
    out = subprocess.run(
        [str(exe), "export", "1", "--type", "zip", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    ce = json.loads(out.stdout)
    assert ce["workflow_state"] == "created"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = json.loads(
            subprocess.run(
                [str(exe), "show", "1", str(ce["id"]), "--json"],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            ).stdout
        )
        if shown["workflow_state"] == "exported":
            break
        time.sleep(0.3)
    assert shown["workflow_state"] == "exported" and Path(shown["attachment"]["path"]).is_file()
    assert bundled_data_dir().is_dir()


def test_the_background_worker_runs_below_the_app(home, monkeypatch):
    """Exports must not take the CPU from the terminal app someone is typing in."""
    from tui_exports.engine import worker

    (Path(home) / "config.toml").write_text("[engine]\nworker_nice = 7\n", encoding="utf-8")
    lowered = []
    monkeypatch.setattr(worker, "lower_priority", lowered.append)
    monkeypatch.setattr(worker, "IDLE_EXIT_SECONDS", 0.0)
    monkeypatch.setenv("TUI_EXPORTS_HOME", str(home))
    assert worker.main() == 0
    assert lowered == [7]


@pytest.mark.slow  # a subprocess
@pytest.mark.skipif(not hasattr(os, "nice"), reason="no nice() on this system")
def test_lower_priority_lowers_this_process_only_by_the_steps_asked():
    code = (
        "import os; from tui_exports.engine.worker import lower_priority; before = os.nice(0); "
        "lower_priority(0); same = os.nice(0); lower_priority(5); print(before, same, os.nice(0))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    before, same, after = map(int, out.stdout.split())
    assert same == before and after == min(before + 5, 19)
    assert os.nice(0) == before  # the test process itself was left alone


def _autogroup_text() -> str:
    """``/autogroup-N nice K``; empty where the kernel schedules this process by cgroup
    (containers, CI), or no file at all where the kernel has no autogroup."""
    try:
        return Path("/proc/self/autogroup").read_text(encoding="ascii").strip()
    except OSError:
        return ""


@pytest.mark.slow  # subprocesses
@pytest.mark.skipif(not _autogroup_text(), reason="not scheduled by session groups (autogroup) here")
def test_a_worker_leading_its_own_session_lowers_its_group_and_no_other():
    """With autogroup, nice ranks threads only within a session: the worker, started in a
    session of its own, lowers that session's group too; a process in a terminal's session
    never touches the terminal's group."""
    code = (
        "from pathlib import Path; from tui_exports.engine.worker import lower_priority; "
        "lower_priority(5); print(Path('/proc/self/autogroup').read_text().split()[-1])"
    )

    def group_nice(new_session: bool) -> int:
        run = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            start_new_session=new_session,
        )
        return int(run.stdout.split()[-1])

    ours = int(_autogroup_text().split()[-1])
    assert group_nice(True) == 5
    assert group_nice(False) == ours  # the session it shares was left alone
    assert int(_autogroup_text().split()[-1]) == ours


def test_a_process_scheduled_by_cgroup_leaves_its_empty_autogroup_file_alone(tmp_path, monkeypatch):
    """In a container the kernel schedules by cgroup and the autogroup file reads empty: the
    worker writes nothing there, however it was started (the CI machine is such a place)."""
    from tui_exports.engine import worker

    empty = tmp_path / "autogroup"
    empty.write_text("")
    monkeypatch.setattr(worker, "AUTOGROUP", empty)
    monkeypatch.setattr(worker.os, "getsid", lambda pid: os.getpid())  # as a session leader
    worker._lower_session_group(5)
    assert empty.read_text() == ""
    empty.write_text("/autogroup-7 nice 0\n")
    worker._lower_session_group(5)
    assert empty.read_text() == "5"  # where there is a group, it is the one lowered


def test_recovery_leaves_alone_an_export_that_ended_meanwhile(service, monkeypatch):
    """The app and the worker both recover at start: one may fail a dead runner's export
    first, or the export may end between the other's look and its move.  That one must
    leave it as it ended, not crash the app on an illegal transition."""
    from datetime import timedelta

    from tui_exports.engine.states import running_states
    from tui_exports.model import ContentExportState, ContextType, JobKind
    from tui_exports.store.db import utcnow

    owner = service.owner_id()
    ended = {}
    for final in (ContentExportState.EXPORTED, ContentExportState.FAILED):
        ce = service.create_content_export(owner, ContextType.COURSE, 1, "zip")
        assert service.store.claim(JobKind.CONTENT, ce.id, 1, state=ContentExportState.CREATED)
        service.store.update_content_export(
            ce.id, workflow_state=ContentExportState.EXPORTING, heartbeat_at=utcnow() - timedelta(hours=1)
        )
        ended[ce.id] = final
    seen = list(service.store.unfinished(JobKind.CONTENT, running_states(ContentExportState)))
    assert {r.id for r in seen} >= set(ended)
    for export_id, final in ended.items():  # ...then they end, before this recovery moves them
        service.store.update_content_export(export_id, workflow_state=final)
    monkeypatch.setattr(
        service.store, "unfinished", lambda kind, states: seen if kind is JobKind.CONTENT else []
    )
    assert service.recover() == []
    for export_id, final in ended.items():
        record = service.store.content_export(export_id)
        assert record.workflow_state is final and not record.errors


@pytest.mark.parametrize(
    "line,message",
    [
        ('worker_nice = "10"', "[engine] worker_nice must be a whole number, not '10'"),
        ("workers = true", "[engine] workers must be a whole number, not True"),
        ("heartbeat_seconds = 1", None),  # a whole number is a number
        ("bogus = 1", "unknown [engine] settings ['bogus']"),
        ("workers = ", "is not valid TOML"),
    ],
)
def test_a_bad_config_file_is_a_message_not_a_traceback(home, capsys, line, message):
    (Path(home) / "config.toml").write_text(f"[engine]\n{line}\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "courses")
    if message is None:
        assert code == 0 and "ASTR 101" in out
    else:
        assert code == 2 and err.startswith("error: ") and message in err and "config.toml" in err
        assert "Traceback" not in err


@pytest.mark.parametrize(
    "text,problem",
    [
        ("[keys]\nnew_export = 3\n", '[keys] new_export must be keys in quotes (e.g. "ctrl+n"), not 3'),
        ("keys = 'N'\n", "keys must be a table ([keys]), not 'N'"),
        ("theme = 1\n", "theme must be a theme name in quotes"),
        ('[engine]\nworkers = "2"\n', "[engine] workers must be a whole number, not '2'"),
        (
            '[profiles.school]\nbase_url = "https://s.example"\nkeyring = "yes"\n',
            "[profiles.school] keyring must be true or false, not 'yes'",
        ),
        ('[profiles.school]\ntoken_env = "SCHOOL"\n', "[profiles.school] needs base_url"),
    ],
)
def test_one_error_policy_for_every_table_of_the_config_file(home, capsys, text, problem):
    """The app's [keys] and theme, the engine's [engine], a [profiles.NAME]: one line naming the
    file and the key, exit 2, whatever the command; the app shows the same line."""
    config = Home.from_env(home).config_file
    config.write_text(text, encoding="utf-8")
    for argv in (["courses"], ["library", "path"], ["profile", "list"], ["--profile", "school", "courses"]):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2 and out == "" and err.startswith(f"error: {config}: {problem}"), (argv, err)
        assert len(err.splitlines()) == 1
    pytest.importorskip("textual")
    from tui_exports.tui.app import load_config

    _, _, shown = load_config(config)  # what the app shows (it reads only its own keys and theme)
    own = problem.startswith(("[keys]", "keys", "theme"))
    assert shown == (err.removeprefix("error: ").rstrip("\n") if own else None)


def test_cli_users_tokens_and_notifications_go_through_the_service(home, capsys):
    code, out, _ = run_cli(capsys, "library", "users")
    assert code == 0 and "teacher" in out and "student1" in out and "(owner)" in out
    code, out, err = run_cli(capsys, "token", "create", "--user", "student1", "--purpose", "script")
    token = out.strip().splitlines()[-1]
    assert code == 0 and "shown only once" in err
    code, out, _ = run_cli(capsys, "export", "1", "--type", "common_cartridge", "--wait", "--json")
    assert code == 0 and json.loads(out)["workflow_state"] == "exported"
    service = ExportService.open(Home.from_env(home))
    try:
        assert service.verify_token(token) == service.find_user("student1").id
        assert service.verify_token("not-a-token") is None
        owner = service.owner_id()
        assert service.notifications(owner, unread_only=True)
        code, out, _ = run_cli(capsys, "notifications")
        assert code == 0 and "Course Export Finished" in out
        assert service.notifications(owner, unread_only=True) == []
    finally:
        service.close()


def test_a_refused_select_reads_the_same_in_the_cli_and_the_picker(home, capsys):
    """The CLI's error paragraph and the picker's problem lines are the same lines."""
    from tui_exports.backends.local import LocalBackend
    from tui_exports.model import ContextType

    code, _, err = run_cli(
        capsys, "export", "1", "--type", "common_cartridge", "--select", "pages=999", "bogus=1"
    )
    assert code == 2
    backend = LocalBackend.open(jobs="none")
    try:
        lines = backend.validate_select(
            ContextType.COURSE, 1, "common_cartridge", {"pages": [999], "bogus": [1]}
        )
    finally:
        backend.close()
    assert lines and err.splitlines()[1:] == [f"  {line}" for line in lines]


def test_sizes_read_the_same_in_the_cli_and_the_app():
    from tui_exports.cli.common import describe_export
    from tui_exports.tui.format import human_size

    ce = {
        "id": 1,
        "export_type": "zip",
        "workflow_state": "exported",
        "created_at": "now",
        "attachment": {"path": "a.zip", "size": 1536},
    }
    assert human_size(1536) == "1.5 KB" and "a.zip  (1.5 KB)" in describe_export(ce)
    assert [human_size(n) for n in (None, 0, 1023, 1024**3 * 3)] == ["", "0 B", "1023 B", "3.0 GB"]

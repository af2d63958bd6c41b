"""The local CLI as a person types it (``main([...])``): cancel names an export as every other
command does, text output names a Progress by id and state, an empty zip says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run_cli

from tui_exports.backends import local as local_backend


@pytest.fixture
def no_worker(monkeypatch):
    """Exports queued without --wait stay queued: no background worker picks them up."""
    monkeypatch.setattr(local_backend, "ensure_worker", lambda home: None)


def test_cancel_takes_the_course_and_the_export_id_that_export_printed(home, capsys, no_worker):
    for _ in range(3):  # progress ids and export ids part ways: an ePub takes a Progress too
        run_cli(capsys, "epub", "3")
    code, out, _ = run_cli(capsys, "export", "1", "--type", "zip")
    export_id = int(out.split()[1])
    code, out, _ = run_cli(capsys, "export", "1", "--type", "zip", "--json")
    other = json.loads(out)
    assert code == 0 and other["id"] != int(other["progress_url"].rsplit("/", 1)[1])
    code, out, err = run_cli(capsys, "cancel", "1", str(export_id))
    assert code == 0, err
    assert out.startswith(f"canceled export {export_id} (progress ") and "canceled" in out
    code, out, _ = run_cli(capsys, "show", "1", str(export_id), "--json")
    assert json.loads(out)["workflow_state"] == "failed"
    code, out, _ = run_cli(capsys, "show", "1", str(other["id"]), "--json")
    assert json.loads(out)["workflow_state"] == "created"  # the other export was left alone
    code, _, err = run_cli(capsys, "cancel", "1", str(export_id))
    assert code == 2 and f"export {export_id} has already ended (failed): nothing to cancel" in err


def test_cancel_an_epub_a_group_export_and_a_progress(home, capsys, no_worker):
    code, out, _ = run_cli(capsys, "epub", "3", "--json")
    ep = json.loads(out)["epub_export"]
    code, out, err = run_cli(capsys, "cancel", "--epub", "3", str(ep["id"]))
    assert code == 0 and out.startswith(f"canceled ePub export {ep['id']} "), err
    code, out, _ = run_cli(capsys, "--as", "student1", "export", "--group", "1", "--type", "zip", "--json")
    ce = json.loads(out)
    code, out, err = run_cli(capsys, "--as", "student1", "cancel", "--group", "1", str(ce["id"]))
    assert code == 0 and out.startswith(f"canceled export {ce['id']} "), err
    code, out, _ = run_cli(capsys, "export", "1", "--type", "zip", "--json")
    pid = json.loads(out)["progress_url"].rsplit("/", 1)[1]
    code, out, err = run_cli(capsys, "cancel", "--progress", pid, "--json")
    p = json.loads(out)  # Canvas's progress#cancel: failed, and no message unless one is sent
    assert code == 0 and (p["workflow_state"], p["message"]) == ("failed", None), err
    code, out, err = run_cli(capsys, "cancel", "--progress", pid)
    assert code == 2 and err.strip() == f"error: progress {pid} has already ended (failed): nothing to cancel"


@pytest.mark.parametrize(
    "argv,words",
    [
        (["cancel", "22"], "cancel needs the export, got only one id (22)"),
        (["cancel"], "cancel needs the export, got no export id"),
        (["cancel", "1", "2", "--progress", "3"], "--progress ID names the job alone"),
        (["cancel", "--epub", "--group", "1", "2"], "ePub exports are made of courses only"),
    ],
)
def test_cancel_never_takes_a_bare_number(home, capsys, argv, words):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == "" and words in err and len(err.splitlines()) == 1
    assert "COURSE_ID EXPORT_ID" in err


def test_text_output_names_the_progress_by_id_and_state_json_keeps_the_url(home, capsys):
    code, out, _ = run_cli(capsys, "export", "1", "--type", "zip", "--select", "files=6", "--wait")
    assert code == 0 and "http://" not in out
    lines = out.splitlines()
    assert any(line.split()[:3] == ["progress", lines[0].split()[1], "completed"] for line in lines), out
    code, out, _ = run_cli(capsys, "show", "1", lines[0].split()[1], "--json")
    assert json.loads(out)["progress_url"].startswith("http://")  # the Canvas field, as the API has it
    for argv in (["exports", "1"], ["show", "1", lines[0].split()[1]], ["epub", "1", "--wait"]):
        code, out, _ = run_cli(capsys, *argv)
        assert code == 0 and "progress_url" not in out and "/api/v1/progress" not in out, argv


def test_a_finished_progress_says_it_is_done(home, capsys):
    code, out, _ = run_cli(capsys, "epub", "1", "--wait", "--json")
    pid = json.loads(out)["epub_export"]["progress_url"].rsplit("/", 1)[1]
    code, out, _ = run_cli(capsys, "progress", pid, "--json")
    p = json.loads(out)
    assert p["workflow_state"] == "completed" and p["message"] == "Done: the ePub is ready"
    code, out, _ = run_cli(capsys, "export", "1", "--type", "zip", "--wait", "--json")
    pid = json.loads(out)["progress_url"].rsplit("/", 1)[1]
    code, out, _ = run_cli(capsys, "progress", pid)
    assert out.strip() == f"progress {pid}  completed  100%  Done: the export is ready"


def test_epub_wait_prints_the_files_not_a_bare_course_name(home, capsys):
    code, out, _ = run_cli(capsys, "epub", "1", "--wait")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("export ") and " epub  generated " in lines[0]
    book = next(line for line in lines if line.startswith("  file: "))
    assert Path(book.removeprefix("  file: ").rsplit("  (", 1)[0]).suffix == ".epub"
    assert Path(book.removeprefix("  file: ").rsplit("  (", 1)[0]).is_file()
    assert "  course 1: Introduction to Astronomy: Stars & Planets" in lines


def test_an_empty_zip_of_my_files_warns(home, capsys):
    code, out, _ = run_cli(capsys, "export", "--user", "1", "--type", "zip", "--wait", "--json")
    ce = json.loads(out)
    assert code == 0 and ce["workflow_state"] == "exported"
    assert "the zip is empty: there were no files to export" in ce["errors"]
    code, out, _ = run_cli(capsys, "show", "--user", "1", str(ce["id"]))
    assert "  ! the zip is empty: there were no files to export" in out.splitlines()
    code, out, _ = run_cli(capsys, "export", "1", "--type", "zip", "--select", "files=6", "--wait", "--json")
    assert not any("empty" in e for e in json.loads(out)["errors"])  # a zip with files does not warn


def test_a_failed_regeneration_does_not_hide_the_last_good_epub(home, capsys, no_worker):
    """``epubs`` lists the latest attempt, as Canvas does, and the last generated book beside it
    while the latest is not one (issue 14: it disappeared after a failed or canceled attempt)."""
    code, out, _ = run_cli(capsys, "epub", "1", "--wait", "--json")
    good = json.loads(out)["epub_export"]
    assert code == 0 and good["workflow_state"] == "generated"
    code, out, _ = run_cli(capsys, "epubs", "--json")
    (entry,) = [c for c in json.loads(out)["courses"] if c["id"] == 1]
    assert "last_generated_epub_export" not in entry  # the latest is the good one: nothing to add
    code, out, _ = run_cli(capsys, "epub", "1", "--json")  # queued, never run (no worker)
    retry = json.loads(out)["epub_export"]
    code, out, _ = run_cli(capsys, "cancel", "--epub", "1", str(retry["id"]))
    assert code == 0
    code, out, _ = run_cli(capsys, "epubs", "--json")
    (entry,) = [c for c in json.loads(out)["courses"] if c["id"] == 1]
    assert entry["epub_export"]["id"] == retry["id"] and entry["epub_export"]["workflow_state"] == "failed"
    assert entry["last_generated_epub_export"]["id"] == good["id"]
    code, out, _ = run_cli(capsys, "epubs")
    lines = out.splitlines()
    at = lines.index(f"         last good ePub (export {good['id']}):")
    assert Path(lines[at + 1].strip()).suffix == ".epub" and Path(lines[at + 1].strip()).is_file()

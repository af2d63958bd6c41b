"""Bad command lines are one line in words and exit 2: every check reads the format registry
(``vocab.FORMATS``), and a refused select names every problem at once."""

from __future__ import annotations

import pytest
from cli_run import run_cli


@pytest.mark.parametrize(
    "argv,words",
    [
        (
            ["export", "1", "--type", "zip", "--cc-version", "1.3"],
            "--cc-version is for common_cartridge exports; a zip export has no version",
        ),
        (["export", "1", "--type", "qti", "--cc-version", "1.1"], "a qti export has no version"),
        (
            ["export", "1", "--type", "zip", "--select", "files"],
            "--select files: name the ids, e.g. files=3,4 (`tui-exports content COURSE_ID` lists them), "
            "or all_files for every one",
        ),
        (["export", "1", "--type", "zip", "--select", "files="], "--select files: name the ids"),
        (
            ["show", "1"],
            "`show 1` names the export but not whose it is: give a COURSE_ID, --group ID or --user ID",
        ),
        (["exports"], "`exports` needs whose exports: give a COURSE_ID, --group ID or --user ID"),
        (["export", "1", "--type", "epub"], "use tui-exports epub COURSE_ID"),
        (["export", "1", "--type", "scorm"], "no export type 'scorm' (one of common_cartridge, qti, zip"),
        (["exports", "1", "--page", "0"], "--page: must be a whole number 1 or more (the first page is 1)"),
        (["exports", "1", "--per-page", "-1"], "--per-page: must be a whole number 1 to 100"),
        (["exports", "1", "--per-page", "101"], "--per-page: must be a whole number 1 to 100"),
    ],
)
def test_a_bad_command_line_is_one_line_in_words(home, capsys, argv, words):
    try:
        code, out, err = run_cli(capsys, *argv)
    except SystemExit as e:  # argparse's own refusals exit from inside main
        code, (out, err) = e.code, capsys.readouterr()
    assert code == 2 and out == "" and err.startswith("error: ") and words in err, err
    assert len(err.splitlines()) == 1 and "got True" not in err and "usage:" not in err


def test_a_page_past_the_end_says_how_many_there_are(home, capsys):
    for _ in range(3):
        assert run_cli(capsys, "export", "1", "--type", "zip", "--wait")[0] == 0
    code, out, _ = run_cli(capsys, "exports", "1", "--page", "99")
    assert code == 0 and out.strip() == "no exports on page 99: there are 3 on 1 page of 10"
    code, out, _ = run_cli(capsys, "exports", "1", "--per-page", "2")
    assert out.splitlines()[-1] == "(exports 1–2 of 3, page 1 of 2; --page 2 for more)"
    code, out, _ = run_cli(capsys, "exports", "1", "--per-page", "2", "--page", "2")
    assert out.splitlines()[-1] == "(exports 3–3 of 3, page 2 of 2)"
    code, out, _ = run_cli(capsys, "exports", "1", "--page", "99", "--json")
    assert code == 0 and out.strip() == "[]"  # as Canvas answers a page past the end


def test_a_refused_select_names_every_problem(home, capsys):
    code, out, err = run_cli(capsys, "export", "1", "--type", "zip", "--select", "pages=1", "files=999")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "error: invalid select",
        "  select[pages]: zip exports only folders and files; remove select[pages]",
        "  select[attachments][]: no file 999 in this course (or not visible to you)",
    ]

"""``tui-exports import PATH``: a package into the local library, its id on the last line, the
course object plus the ``import`` report with ``--json``, one line and exit 2 for what it
cannot read (the readers of each kind of package have their own tests in ``tests/importers``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run_cli

from tui_exports.engine.generated import course_spec, write_course_folder
from tui_exports.vocab import SELECT_KEYS


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A small generated course folder (the data/ format)."""
    spec = course_spec(pages=3, quizzes=1, questions_per_quiz=4, files=2, file_mb=0.01, modules=2, seed=3)
    return write_course_folder(spec, tmp_path_factory.mktemp("folder") / "course")


def test_import_prints_what_it_kept_and_the_id_last(home, capsys, folder):
    code, out, err = run_cli(capsys, "import", str(folder))
    assert code == 0, err
    lines = out.splitlines()
    course_id = int(lines[-1])
    assert lines[0].startswith(f"added course {course_id}: ") and "(from course folder)" in lines[0]
    assert "kept " in lines[1] and "3 pages" in lines[1] and "2 files" in lines[1]
    code, out, _ = run_cli(capsys, "courses", "--json")
    assert course_id in [c["id"] for c in json.loads(out)]  # the owner teaches it


def test_import_json_is_the_course_object_plus_the_report(home, capsys, folder):
    run_cli(capsys, "courses")  # seeds the demo library
    code, out, _ = run_cli(capsys, "import", str(folder), "--json")
    assert code == 0
    printed = json.loads(out)
    code, out, _ = run_cli(capsys, "courses", "--json")
    listed = next(c for c in json.loads(out) if c["id"] == printed["id"])
    report = printed.pop("import")
    assert printed == listed  # the same shape `courses --json` prints for the course
    assert report["source"] == "course folder" and report["warnings"] == []
    assert set(report) - {"source", "warnings"} == set(SELECT_KEYS)
    assert report["wiki_pages"] == {"read": 3, "kept": 3, "warnings": []}
    assert report["quizzes"]["kept"] == 1 and report["context_modules"]["kept"] == 2


def test_import_as_another_user_makes_them_its_teacher(home, capsys, folder):
    code, out, _ = run_cli(capsys, "--as", "student1", "import", str(folder))
    assert code == 0
    course_id = int(out.splitlines()[-1])
    code, out, _ = run_cli(capsys, "--as", "student1", "courses", "--json")
    mine = {c["id"]: c for c in json.loads(out)}
    assert mine[course_id]["enrollments"][0]["type"] == "teacher"


def test_library_add_is_the_same_command(home, capsys, folder):
    code, out, _ = run_cli(capsys, "library", "add", str(folder))
    assert code == 0 and out.splitlines()[0].startswith("added course ")
    assert out.splitlines()[-1].isdigit()


@pytest.mark.parametrize(
    "name, content, said",
    [
        ("missing.imscc", None, "no such file or folder"),
        ("notes.txt", b"just some words\n", "not a package"),
    ],
)
def test_what_it_cannot_read_is_one_line_and_exit_2(home, capsys, tmp_path, name, content, said):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    _, before, _ = run_cli(capsys, "courses")
    code, out, err = run_cli(capsys, "import", str(path))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and said in err and name in err
    code, out, _ = run_cli(capsys, "courses")
    assert code == 0 and out == before  # the library as it was


def test_import_is_for_the_local_library_not_a_profile(home, capsys, folder):
    code, out, err = run_cli(capsys, "--profile", "school", "import", str(folder))
    assert code == 2 and "import --from-profile NAME COURSE_ID" in err

"""``library add`` never reads outside the course folder, and a failed add leaves the library
exactly as it was: no rows, no blobs, a one-line reason."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tui_exports.cli import main
from tui_exports.importers.course_folder import CourseFolderError, add_course_folder

HEAD = "[course]\nname='X'\ncourse_code='X'\n"
SECRET = "root:x:0:0:the secret outside the folder"


def folder_with(tmp_path: Path, course_toml: str, files: dict[str, bytes | str] | None = None) -> Path:
    folder = tmp_path / "course"
    (folder / "pages").mkdir(parents=True)
    (folder / "course.toml").write_text(textwrap.dedent(course_toml))
    for rel, data in (files or {}).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return folder


def state(service) -> tuple:
    db = service.library.database.db
    tables = ("courses", "users", "enrollments", "files", "folders", "pages")
    counts = tuple(
        db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables if t in db.table_names()
    )
    blobs = sorted(p.name for p in Path(service.library.home.blobs).rglob("*") if p.is_file())
    return counts, blobs


@pytest.fixture
def outside(tmp_path) -> Path:
    secret = tmp_path / "secret" / "passwd.html"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    return secret


def refused(service, folder: Path, message: str) -> None:
    before = state(service)
    with pytest.raises(CourseFolderError, match=message):
        add_course_folder(service.library, folder)
    assert state(service) == before


def test_a_symlinked_file_is_refused(service, tmp_path, outside):
    folder = folder_with(tmp_path, HEAD, {"files/ok.txt": "fine, and new to the library"})
    os.symlink(outside, folder / "files" / "x.txt")
    refused(service, folder, "symbolic link")


def test_a_symlinked_folder_is_refused(service, tmp_path, outside):
    folder = folder_with(tmp_path, HEAD, {"files/ok.txt": "fine"})
    os.symlink(outside.parent, folder / "files" / "elsewhere")
    refused(service, folder, "symbolic link")


@pytest.mark.parametrize("where", ["absolute", "dotdot"])
def test_a_syllabus_outside_the_folder_is_refused(service, tmp_path, outside, where):
    ref = str(outside) if where == "absolute" else os.path.relpath(outside, tmp_path / "course")
    folder = folder_with(tmp_path, HEAD + f"syllabus = {ref!r}\n")
    refused(service, folder, "absolute path|outside the course folder")


def test_a_page_slug_that_climbs_out_is_refused(service, tmp_path, outside):
    slug = os.path.relpath(outside.with_suffix(""), tmp_path / "course" / "pages")
    folder = folder_with(tmp_path, HEAD + f"[[pages]]\nslug={slug!r}\ntitle='P'\n")
    refused(service, folder, "outside the course folder")


def test_a_symlinked_page_is_refused(service, tmp_path, outside):
    folder = folder_with(tmp_path, HEAD + "[[pages]]\nslug='p'\ntitle='P'\n")
    os.symlink(outside, folder / "pages" / "p.html")
    refused(service, folder, "symbolic link")


def test_non_utf8_html_is_refused_and_its_blobs_go(service, tmp_path):
    folder = folder_with(
        tmp_path,
        HEAD + "[[pages]]\nslug='p'\ntitle='P'\n",
        {"pages/p.html": b"<p>caf\xe9</p>", "files/new.bin": os.urandom(64)},
    )
    refused(service, folder, "not UTF-8")


def test_non_utf8_toml_is_refused(service, tmp_path):
    folder = folder_with(tmp_path, HEAD)
    (folder / "course.toml").write_bytes(HEAD.encode() + b"title = 'caf\xe9'\n")
    refused(service, folder, "not UTF-8")


def test_deeply_nested_toml_is_refused(service, tmp_path):
    folder = folder_with(tmp_path, HEAD)
    (folder / "course.toml").write_text(HEAD + "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    refused(service, folder, "not valid TOML")


def test_a_non_utf8_file_name_is_refused_and_its_blobs_go(service, tmp_path):
    folder = folder_with(tmp_path, HEAD, {"files/a-new-file.bin": os.urandom(64)})
    try:
        (folder / "files" / os.fsdecode(b"caf\xe9.txt")).write_bytes(os.urandom(64))
    except (OSError, UnicodeError):
        pytest.skip("this file system does not take non-UTF-8 names")
    refused(service, folder, "not UTF-8")


def test_the_cli_says_why_in_one_line(home, capsys, tmp_path, outside):
    folder = folder_with(tmp_path, HEAD, {"files/ok.txt": "fine"})
    os.symlink(outside, folder / "files" / "x.txt")
    code = main(["library", "add", str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and "symbolic link" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1

"""The synthetic course generator: deterministic, streaming, loadable, and exportable in every format."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
import zipfile
from pathlib import Path

import ebooklib
import pytest
from cli_run import run_cli
from ebooklib import epub as ebook
from lxml import etree

from tui_exports.engine import ExportService
from tui_exports.exporters.epub.media import sniff
from tui_exports.importers.synthetic import (
    MIB,
    CourseSpec,
    add_empty_courses,
    generate_course,
    plan_files,
    write_course_folder,
)
from tui_exports.paths import Home

SMALL = CourseSpec(pages=12, quizzes=3, questions_per_quiz=20, files=24, file_mb=3, modules=3, seed=7)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_course(tmp_path):
    a = write_course_folder(SMALL, tmp_path / "a")
    b = write_course_folder(SMALL, tmp_path / "b")
    c = write_course_folder(CourseSpec(**{**SMALL.__dict__, "seed": 8}), tmp_path / "c")
    assert tree_digest(a) == tree_digest(b)
    digest_c = tree_digest(c)
    assert digest_c.keys() == tree_digest(a).keys()  # the same shape ...
    assert digest_c != tree_digest(a)  # ... with other words and bytes


def test_files_add_up_and_carry_real_headers(tmp_path):
    folder = write_course_folder(SMALL, tmp_path / "course")
    planned = plan_files(SMALL)
    assert len(planned) == SMALL.files
    sizes = {f.path: (folder / "files" / f.path).stat().st_size for f in planned}
    assert sum(sizes.values()) == pytest.approx(SMALL.file_mb * MIB, abs=64)
    kinds = {f.kind for f in planned}
    assert kinds == {"photo", "figure", "diagram", "audio", "video", "handout", "notes", "data"}
    expected = {
        "photo": "image/jpeg",
        "figure": "image/png",
        "diagram": "image/png",
        "audio": "audio/mpeg",
        "video": None,
    }
    for f in planned:
        head = (folder / "files" / f.path).open("rb").read(64)
        if f.kind in expected:
            assert sniff(head, "", f.path) == expected[f.kind], f.path
        elif f.kind == "handout":
            assert head.startswith(b"%PDF-")

    # media are incompressible, text is not
    def ratio(kind: str) -> float:
        data = b"".join((folder / "files" / f.path).read_bytes() for f in planned if f.kind == kind)
        import zlib

        return len(zlib.compress(data, 6)) / len(data)

    assert ratio("photo") > 0.99 and ratio("video") > 0.99
    assert ratio("notes") < 0.5 and ratio("data") < 0.6


def test_generation_streams_file_bytes(tmp_path):
    spec = CourseSpec(pages=2, quizzes=0, files=2, file_mb=48, modules=1)
    tracemalloc.start()
    try:
        write_course_folder(spec, tmp_path / "big")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(p.stat().st_size for p in (tmp_path / "big" / "files").rglob("*") if p.is_file()) >= 48 * MIB
    assert peak < 8 * MIB  # a few 1 MiB chunks and the text pools, never the files


def test_folder_round_trips_through_library_add(home, capsys, tmp_path):
    out = tmp_path / "folder"
    code, stdout, _ = run_cli(
        capsys,
        "library",
        "generate",
        "--pages",
        "12",
        "--quizzes",
        "3",
        "--questions-per-quiz",
        "20",
        "--files",
        "24",
        "--file-mb",
        "3",
        "--modules",
        "3",
        "--seed",
        "7",
        "--out",
        str(out),
    )
    assert code == 0 and Path(stdout.strip()) == out
    assert tree_digest(out) == tree_digest(write_course_folder(SMALL, tmp_path / "direct"))
    code, stdout, err = run_cli(capsys, "library", "add", str(out))
    assert code == 0 and "warning" not in err  # every generated link points at something
    course_id = int(stdout.strip().splitlines()[-1])
    service = ExportService.open(Home.from_env(home))
    try:
        content = service.content.course_content(course_id)
        assert len(content["pages"]) == 12 and len(content["files"]) == 24
        assert len(content["modules"]) == 3
        assert sum(len(q.questions) for q in content["quizzes"]) == 60
        types = {x.question_type.value for q in content["quizzes"] for x in q.questions}
        assert {
            "multiple_choice_question",
            "true_false_question",
            "matching_question",
            "numerical_question",
            "calculated_question",
            "essay_question",
            "fill_in_multiple_blanks_question",
        } <= types
        bodies = " ".join(p.body for p in content["pages"])
        assert f"/courses/{course_id}/pages/" in bodies and f"/courses/{course_id}/files/" in bodies
        assert "/preview" in bodies  # images
    finally:
        service.close()
    code, _, err = run_cli(capsys, "library", "generate", "--out", str(out))
    assert code == 2 and "not empty" in err


@pytest.mark.slow
def test_generate_adds_the_newest_course_and_every_export_works(home, capsys):
    args = [
        "library",
        "generate",
        "--pages",
        "12",
        "--quizzes",
        "3",
        "--questions-per-quiz",
        "20",
        "--files",
        "24",
        "--file-mb",
        "3",
        "--modules",
        "3",
        "--seed",
        "7",
    ]
    code, out, _ = run_cli(capsys, *args)
    course_id = int(out.strip())
    code, out, _ = run_cli(capsys, "courses", "--json")
    assert max(c["id"] for c in json.loads(out)) == course_id

    def export(kind: str) -> Path:
        code, out, _ = run_cli(capsys, "export", str(course_id), "--type", kind, "--wait", "--json")
        ce = json.loads(out)
        assert code == 0 and ce["workflow_state"] == "exported", ce
        return Path(ce["attachment"]["path"])

    with zipfile.ZipFile(export("zip")) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        assert len(infos) == 24
        by_ext = {i.filename.rsplit(".", 1)[1]: i.compress_type for i in infos}
        assert by_ext["jpg"] == by_ext["mp4"] == by_ext["pdf"] == zipfile.ZIP_STORED
        assert by_ext["txt"] == by_ext["csv"] == zipfile.ZIP_DEFLATED
        assert zf.testzip() is None
    with zipfile.ZipFile(export("common_cartridge")) as zf:
        manifest = etree.fromstring(zf.read("imsmanifest.xml"))
        hrefs = {el.get("href") for el in manifest.iter("{*}resource")}
        assert sum(1 for h in hrefs if h and h.startswith("wiki_content/")) == 12
        assert sum(1 for n in zf.namelist() if n.startswith("non_cc_assessments/")) == 3
        assert sum(1 for n in zf.namelist() if n.startswith("web_resources/")) == 24
    with zipfile.ZipFile(export("qti")) as zf:
        quiz_docs = [
            n
            for n in zf.namelist()
            if n.endswith(".xml")
            and "/" in n
            and "assessment_meta" not in n
            and not n.startswith("web_resources/")
        ]
        assert len(quiz_docs) == 3
        items = sum(len(etree.fromstring(zf.read(n)).findall(".//{*}item")) for n in quiz_docs)
        assert items == 60
    code, out, _ = run_cli(capsys, "epub", str(course_id), "--wait", "--json")
    ep = json.loads(out)["epub_export"]
    assert code == 0 and ep["workflow_state"] == "generated"
    book = ebook.read_epub(ep["epub_attachment"]["path"], {"ignore_ncx": True})
    text = b" ".join(d.get_content() for d in book.get_items_of_type(ebooklib.ITEM_DOCUMENT)).decode()
    service = ExportService.open(Home.from_env(home))
    try:
        titles = [p.title for p in service.content.course_content(course_id)["pages"]]
    finally:
        service.close()
    assert len(titles) == 12 and all(t in text for t in titles)
    assert list(book.get_items_of_type(ebooklib.ITEM_IMAGE))
    assert ep.get("zip_attachment")  # video and PDFs go to the companion zip


def test_generate_course_and_filler_courses_through_the_api(home):
    service = ExportService.open(Home.from_env(home))
    try:
        report = generate_course(
            service.library, CourseSpec(pages=3, quizzes=1, files=3, file_mb=0.1, seed=3)
        )
        assert report.course_id == 4 and not report.warnings
        assert not list(Path(home).glob(".generate-*"))  # the temporary folder is gone
        ids = add_empty_courses(service.library, 50, service.owner_id())
        assert ids == list(range(5, 55))
        assert len(service.courses(service.owner_id())) == 54
    finally:
        service.close()


def test_bad_sizes_are_refused(home, capsys):
    code, _, err = run_cli(capsys, "library", "generate", "--files", "-1")
    assert code == 2 and "files must be 0 or more" in err

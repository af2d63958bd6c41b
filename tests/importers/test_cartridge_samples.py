"""Every real cartridge in ``../shared/samples`` imports: what it holds is kept or named in a warning,
and the course it becomes exports again as a valid Common Cartridge 1.3 and a clean ePub."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cartridge_kit import HAS_QTI, build_epub, export_cc, run_epubcheck, teacher_snapshot

from tui_exports.cli import main

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
PACKAGES = sorted(p.name for p in (SAMPLES / "imscc").glob("*.imscc")) + sorted(
    f"unpacked/{p.name}" for p in (SAMPLES / "imscc_unpacked").glob("*") if p.is_dir()
)


def sample(shared_dir: Path, name: str) -> Path:
    if name.startswith("unpacked/"):
        return shared_dir / "samples" / "imscc_unpacked" / name.split("/", 1)[1]
    return shared_dir / "samples" / "imscc" / name


def test_every_sample_imports_with_nothing_dropped_silently(service, shared_dir):
    teacher = service.owner_id()
    for name in PACKAGES:
        before = {c.id for c in service.library.content.courses()}
        report = service.import_package(sample(shared_dir, name))
        course = service.library.content.course(report.course_id)
        assert course is not None and report.course_id not in before and course.name == report.name
        assert report.source.startswith("Common Cartridge 1.") and "(Canvas)" in report.source
        for select_type, count in report.types.items():
            # every item read and not kept is named in a warning of its type
            if count.kept < count.read:
                assert count.warnings, (name, select_type, count)
        enrolled = service.library.content.enrollments_in_course(course.id)
        assert [(e.user_id, e.role.value) for e in enrolled] == [(teacher, "teacher")]


def test_course_1_keeps_its_modules_files_and_links(service, shared_dir):
    report = service.import_package(sample(shared_dir, "unpacked/ccviewer_course-1"))
    content = service.library.content.course_content(report.course_id)
    assert report.name == "COURSE-for-modules-testing"
    (module,) = content["modules"]
    assert module.name == "First Module" and not module.published
    kinds = {i.title: (i.content_type.value, i.indent) for i in module.items}
    assert kinds["First Module Assignment 1"] == ("Assignment", 0)
    assert kinds["First Module Text Header 1"][0] == "ContextModuleSubHeader"
    assert kinds["First Module External URL 1"][0] == "ExternalUrl"
    # the LTI tool is kept as an external URL, with a warning saying so
    assert kinds["First Module AnalyTics Beta External Tool"][0] == "ExternalUrl"
    assert any("LTI" in w for w in report.types["content_tags"].warnings)
    urls = {i.title: i.url for i in module.items}
    assert urls["First Module External URL 1"] == "http://google.com"
    names = {f.display_name for f in content["files"]}
    assert {"photo.jpg", "sample-document.pdf"} <= names
    assert any("question bank 'Unfiled Questions'" in w for w in report.types["quizzes"].warnings)
    assert any("'publisheddocument' is used again" in w for w in report.warnings)
    # what is there is not said to be missing
    assert not any("course_settings/" in w and "not in the package" in w for w in report.warnings)
    # files listed in the manifest but not stored are warnings naming them
    assert any("sample.mp3" in w and "not in the package" in w for w in report.warnings)
    # a link between items is the library's own link now
    body = next(a for a in content["assignments"] if a.title.startswith("Assignment with")).description
    assert f"/courses/{report.course_id}/" in body and "$IMS-CC-FILEBASE$" not in body
    if HAS_QTI:
        assert report.types["quizzes"].kept == report.types["quizzes"].read == 1


def test_files_meta_and_front_page(service, shared_dir):
    report = service.import_package(sample(shared_dir, "unpacked/ccviewer_rich-content-cc-file"))
    content = service.library.content.course_content(report.course_id)
    (page,) = content["pages"]
    assert page.front_page and page.title == "Front Page!"
    files = {f.display_name: f for f in content["files"]}
    for f in files.values():  # every file's bytes are in the blob store
        assert service.library.blobs.exists(f.sha256)
    links = [link for link in page.body.split('"') if "/files/" in link]
    assert any(link.startswith(f"/courses/{report.course_id}/files/") for link in links)
    # a link to a file the package does not hold stays as it was, with a warning naming it
    assert "%24IMS_CC_FILEBASE%24/files/shapes.jpg" in links
    assert any("shapes.jpg" in w for w in report.types["wiki_pages"].warnings)


def test_assignment_groups_and_rubrics(service, shared_dir):
    report = service.import_package(sample(shared_dir, "unpacked/ccviewer_assignment-rubrics"))
    content = service.library.content.course_content(report.course_id)
    (rubric,) = content["rubrics"]
    (assignment,) = content["assignments"]
    assert assignment.rubric_id == rubric.id and rubric.criteria
    assert "This assignment is rubricated." in assignment.description
    report = service.import_package(sample(shared_dir, "unpacked/ccviewer_course-1"))
    content = service.library.content.course_content(report.course_id)
    groups = {g.id: g.name for g in content["assignment_groups"]}
    assert groups and all(a.assignment_group_id in groups for a in content["assignments"])


def test_an_announcement_and_a_topic(service, shared_dir):
    report = service.import_package(
        sample(shared_dir, "unpacked/ccviewer_course-with-associated-content-assignments")
    )
    assert report.types["announcements"].kept == 1 and report.types["discussion_topics"].kept == 1
    # what the library has no place for is named (Canvas's learning outcomes)
    assert any("'course_settings/learning_outcomes.xml' is not read" in w for w in report.warnings)
    topics = service.library.content.course_content(report.course_id)["discussion_topics"]
    assert sorted(t.is_announcement for t in topics) == [False, True]


def test_library_add_takes_a_cartridge(home, capsys, shared_dir):
    code = main(["library", "add", str(sample(shared_dir, "single-page.imscc"))])
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert code == 0, err
    assert (
        lines[0].startswith("added course ") and ": The Life of Paul (from Common Cartridge 1.3" in lines[0]
    )
    assert lines[-1].isdigit()
    code = main(["courses"])
    assert "The Life of Paul" in capsys.readouterr().out


def test_library_add_refuses_a_file_that_is_no_package_in_one_line(home, capsys, tmp_path):
    junk = tmp_path / "notes.imscc"
    junk.write_text("not a zip")
    code = main(["library", "add", str(junk)])
    err = capsys.readouterr().err
    assert code == 2 and "not a zip" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow  # validate_cc.py and EPUBCheck run as subprocesses, once for all samples
def test_every_sample_exports_again_as_valid_cc_1_3_and_epub(service, shared_dir, tmp_path, java, run_dir):
    cartridges, books = [], []
    for n, name in enumerate(PACKAGES):
        report = service.import_package(sample(shared_dir, name))
        cartridges.append(export_cc(service, report.course_id, tmp_path / f"cc{n}", "1.3.0"))
        books.append(build_epub(teacher_snapshot(service, report.course_id), tmp_path / f"epub{n}"))
    run = subprocess.run(
        [sys.executable, str(shared_dir / "schemas" / "validate_cc.py"), *map(str, cartridges)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0 and " 0 errors" in run.stdout, run.stdout[-4000:]
    problems = run_epubcheck(java, books, tmp_path / "epubcheck", run_dir)
    assert problems == {}, problems


def test_a_zip_that_wraps_the_cartridge_in_a_folder(library, shared_dir, tmp_path):
    """Zipped by hand (right-click, compress): the manifest is one folder down; same course."""
    from tui_exports.importers import import_path

    folder = sample(shared_dir, "unpacked/ccviewer_course-1")
    pkg = tmp_path / "course-1.zip"
    with zipfile.ZipFile(pkg, "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, f"course-1/{p.relative_to(folder).as_posix()}")
    wrapped, plain = import_path(library, pkg), import_path(library, folder)
    counts = lambda r: {k: (c.read, c.kept) for k, c in r.types.items()}  # noqa: E731
    assert counts(wrapped) == counts(plain) and len(wrapped.warnings) == len(plain.warnings)
    content = library.content.course_content(wrapped.course_id)
    assert {f.display_name for f in content["files"]} >= {"photo.jpg", "sample-document.pdf"}

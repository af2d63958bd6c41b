"""Every demo course in ``data/``, as a teacher and as a student, through the engine's snapshot.

The snapshot and selection come from the engine (``build_snapshot`` + ``resolve``), so
these tests also check that what the engine hands over is something the exporters
turn into valid packages.
"""

from __future__ import annotations

import pytest
from cc_reader import read_package
from exporter_runs import export_cc, export_quiz_zip
from validation import check_cc, check_qti_zip

from tui_exports.exporters.common.ids import mig_id
from tui_exports.model import Role

engine = pytest.importorskip("tui_exports.engine")
snapshot_mod = pytest.importorskip("tui_exports.engine.snapshot")
select_mod = pytest.importorskip("tui_exports.engine.select")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from tui_exports.paths import Home

    svc = engine.ExportService.open(Home.from_env(tmp_path_factory.mktemp("demo-home")))
    yield svc
    svc.close()


def snapshots(svc, export: str = "cc"):
    """(label, snapshot) for a teacher and a student of every demo course."""
    request = (
        select_mod.SelectRequest(everything=True)
        if export == "cc"
        else select_mod.SelectRequest(all_types=frozenset({"quizzes"}))
    )
    out = []
    for course in svc.content.courses():
        by_role = {}
        for e in svc.content.enrollments_in_course(course.id):
            by_role.setdefault(e.role, e.user_id)
        for role in (Role.TEACHER, Role.STUDENT):
            if role in by_role:
                user = svc.user(by_role[role])
                snap = snapshot_mod.build_snapshot(svc.library, course.id, user, role)
                snap.selection = select_mod.resolve(request, snap)
                out.append((f"{course.name} as {role}", snap))
    return out


@pytest.mark.parametrize("version", ["1.1.0", "1.3.0"])
def test_demo_courses_export_valid_cartridges(shared_dir, demo, tmp_path, version):
    snaps = snapshots(demo)
    assert len(snaps) >= 2
    for n, (label, snap) in enumerate(snaps):
        out = tmp_path / f"{n}"
        out.mkdir()
        path, result = export_cc(snap, out, version)
        assert result.warnings == [], label
        assert check_cc(path, shared_dir, version) == [], label
        pkg = read_package(path)
        assert pkg.title == snap.course.name
        assert [m.title for m in pkg.modules] == [m.name for m in snap.selected_modules()], label
        assert sorted(pkg.pages) == sorted(mig_id("wiki_pages", p.id) for p in snap.selected_pages()), label
        scored = []
        for quiz in snap.selected_quizzes():
            got = pkg.quizzes[mig_id("quizzes", quiz.id)]
            assert len(got.canvas.questions) == len(quiz.questions), label
            scored += [q.scored for q in got.canvas.questions]
        assert any(scored) == (snap.viewer_role.is_admin and bool(scored)), label


def test_demo_courses_export_valid_quiz_zips(shared_dir, demo, tmp_path):
    for n, (label, snap) in enumerate(snapshots(demo, "qti")):
        out = tmp_path / f"{n}"
        out.mkdir()
        path, result = export_quiz_zip(snap, out)
        assert result.warnings == [], label
        assert check_qti_zip(path, shared_dir) == [], label
        assert len(read_package(path).quizzes) == len(snap.selected_quizzes()), label


def test_validation_command_checks_each_file_against_its_own_schema(shared_dir, demo, tmp_path, capsys):
    """``python -m tests.exporters.validation PACKAGE`` (the README's check) passes a demo
    cartridge and a QTI zip, and names the file of a planted error."""
    import zipfile

    from validation import main

    label, snap = snapshots(demo)[0]
    cartridge, _ = export_cc(snap, tmp_path)
    quizzes = tmp_path / "q"
    quizzes.mkdir()
    quiz_zip, _ = export_quiz_zip(snapshots(demo, "qti")[0][1], quizzes)
    assert main([str(cartridge), str(quiz_zip), "--shared", str(shared_dir)]) == 0, label
    assert capsys.readouterr().out.count(": 0 errors") == 2

    broken = tmp_path / "broken.imscc"
    with zipfile.ZipFile(cartridge) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("non_cc_assessments/"):
                data = data.replace(b'action="Set"', b'action="Bogus"', 1)
            dst.writestr(item, data)
    assert main([str(broken), "--shared", str(shared_dir)]) == 1
    out = capsys.readouterr().out
    assert "non_cc_assessments/" in out and "Bogus" in out

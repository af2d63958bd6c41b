"""QTI packages are handed to the QTI zip reader (``qti.import_qti_zip``): a plain IMS content
package of QTI, Canvas's own quiz export, or QTI files with no manifest; cartridges are not."""

from __future__ import annotations

import pytest
from cartridge_kit import export_cc, manifest, write_zip

from tui_exports.importers import import_path
from tui_exports.model import ImportReport

QTI = '<questestinterop><assessment ident="a" title="T"><section ident="s"/></assessment></questestinterop>'


@pytest.fixture
def qti_calls(monkeypatch):
    calls = []

    def import_qti_zip(library, path, *, progress=None, created=None):
        calls.append(path)
        return ImportReport(0, "QTI", "QTI 1.2")

    monkeypatch.setattr("tui_exports.importers.qti.import_qti_zip", import_qti_zip)
    return calls


def test_qti_packages_go_to_the_qti_reader(library, qti_calls, shared_dir, tmp_path):
    respondus = shared_dir / "samples" / "qti12_zip" / "instructure_qti_test_qti_1.2.zip"
    assert import_path(library, respondus).source == "QTI 1.2"
    bare = write_zip(tmp_path / "bare.zip", {"quiz.xml": QTI})
    assert import_path(library, bare).source == "QTI 1.2"
    assert qti_calls == [respondus, bare]


def test_canvas_quiz_exports_go_to_the_qti_reader_and_cartridges_do_not(service, qti_calls, tmp_path):
    from tui_exports.engine.select import SelectRequest, resolve
    from tui_exports.engine.snapshot import build_snapshot
    from tui_exports.exporters.qti.exporter import export_qti
    from tui_exports.model import Role, no_progress

    lib = service.library
    course_id = lib.content.courses()[0].id
    snap = build_snapshot(lib, course_id, service.user(service.owner_id()), Role.TEACHER)
    snap.selection = resolve(SelectRequest(everything=True), snap)
    qti_zip = export_qti(snap, tmp_path, no_progress).files[0].path
    assert import_path(lib, qti_zip).source == "QTI 1.2"
    cartridge = export_cc(service, course_id, tmp_path / "cc")
    assert import_path(lib, cartridge).source.startswith("Common Cartridge")
    thin = write_zip(
        tmp_path / "thin.imscc",
        {
            "imsmanifest.xml": manifest(
                '<resource identifier="a" type="imsqti_xmlv1p2/imscc_xmlv1p1/assessment"><file href="a.xml"/></resource>',
                "",
            ),
            "a.xml": QTI,
        },
    )
    assert import_path(lib, thin).source.startswith("Common Cartridge")
    assert qti_calls == [qti_zip]

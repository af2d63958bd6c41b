"""The select vocabulary and the format registry are declared once; everything else derives from them."""

from __future__ import annotations

import pytest

from tui_exports import vocab
from tui_exports.cli.commands import build_parser
from tui_exports.engine import permissions, select
from tui_exports.engine.formats import exporter_of
from tui_exports.exporters.common.ids import ASSET_PREFIX
from tui_exports.model import SELECT_TYPES, ContextType, ExportType
from tui_exports.server.app import CONTENT_TYPES
from tui_exports.tui.format import API_KEYS, EXPORT_TYPES, SELECT_BRANCHES, SHORT_TYPES
from tui_exports.tui.screens import branch_reasons, type_reasons
from tui_exports.tui.selection import BRANCH_OF, ORDER
from tui_exports.tui.widgets import MY_FILES


def _subparser(name: str):
    parser = build_parser()
    action = next(a for a in parser._subparsers._group_actions if name in a.choices)
    return action.choices[name]


def test_every_select_type_is_one_entry_that_the_layers_derive_from():
    keys = [t.key for t in vocab.SELECT_VOCAB]
    assert list(SELECT_TYPES) == keys
    assert set(select.LOADERS) == set(keys)  # each type says how it is read from a snapshot
    assert {k: ASSET_PREFIX[k] for k in keys} == {t.key: t.prefix for t in vocab.SELECT_VOCAB}
    assert select.TYPE_WORDS == {t.key: t.word for t in vocab.SELECT_VOCAB}
    assert vocab.SELECT_NAMES["pages"] == "wiki_pages" and vocab.SELECT_NAMES["files"] == "attachments"
    assert {v: k for k, v in API_KEYS.items()} == {a: vocab.SELECT_NAMES[a] for a in API_KEYS.values()}
    assert set(SELECT_BRANCHES) | set(BRANCH_OF) == set(ORDER) == {t.api for t in vocab.SELECT_VOCAB}
    assert [t for t, _ in CONTENT_TYPES[2:]] == [t.key for t in vocab.SELECT_VOCAB if t.list_title]


def test_the_format_registry_drives_the_cli_choices():
    export = _subparser("export")
    kind = next(a for a in export._actions if a.dest == "export_type")
    version = next(a for a in export._actions if a.dest == "cc_version")
    assert (
        list(kind.choices)
        == [f.name for f in vocab.FORMATS if f.content_export]
        == [t.value for t in ExportType]
    )
    assert tuple(version.choices) == ("1.1", "1.3")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "1", "--type", "html"])


def test_the_format_registry_drives_the_app_labels_and_permissions():
    assert list(EXPORT_TYPES) == list(SHORT_TYPES) == [f.name for f in vocab.FORMATS]
    assert permissions.TYPES_FOR_CONTEXT[ContextType.GROUP] == (ExportType.ZIP,)
    assert set(type_reasons(MY_FILES)) == {"common_cartridge", "qti", "epub"}
    assert select.default_select(ExportType.QTI).all_types == {"quizzes"}
    assert vocab.FORMAT_BY_NAME["common_cartridge"].version("1.3") == "1.3.0"
    assert vocab.FORMAT_BY_NAME["common_cartridge"].version(None) == "1.1.0"
    assert vocab.FORMAT_BY_NAME["common_cartridge"].version("2.0") is None


def test_the_file_names_come_from_the_registry():
    from tui_exports.exporters.zip import archive_name

    assert vocab.FORMAT_BY_NAME["common_cartridge"].file_for("astro") == "astro-export.imscc"
    assert vocab.FORMAT_BY_NAME["qti"].file_for("astro") == "astro-quiz-export.zip"
    assert archive_name("course files") == "course_files_export.zip"


def test_exporters_are_references_resolved_on_first_use():
    from tui_exports.exporters.zip import export_zip

    assert all(":" in f.exporter or f.name == "epub" for f in vocab.FORMATS)
    assert exporter_of("zip") is export_zip
    assert hasattr(exporter_of("epub"), "render_book")


def test_allowed_select_types_per_export_type_and_context():
    zip_course = permissions.allowed_select_types(ContextType.COURSE, "zip")
    assert [t for t, why in zip_course.items() if why is None] == ["folders", "attachments"]
    assert zip_course["wiki_pages"] == "zip exports only folders and files"
    assert set(permissions.allowed_select_types(ContextType.COURSE, "common_cartridge").values()) == {None}
    refused = permissions.allowed_select_types(ContextType.GROUP, "qti")
    assert all(why and "is not one of: zip" in why for why in refused.values())
    assert branch_reasons(zip_course) == {
        b: "zip exports only folders and files" for b in SELECT_BRANCHES if b != "folders"
    }


def test_a_stored_request_is_rebuilt_without_parsing(monkeypatch):
    checked = select.SelectRequest({"wiki_pages": (3, 1)}, frozenset({"quizzes"}), syllabus_body=True)

    def boom(*a, **k):
        raise AssertionError("parsed again")

    monkeypatch.setattr(select, "parse_select", boom)
    assert select.SelectRequest.from_stored(checked.to_json()) == checked
    assert select.SelectRequest.from_stored({"everything": True}) == select.SelectRequest(everything=True)

"""Each fact is kept once: a job's completion is its Progress (not a column of the export too),
and the library keeps where remote files were downloaded, not a second history of remote exports."""

from __future__ import annotations

import dataclasses

from tui_exports.model import ContentExport
from tui_exports.model import ContextType as C
from tui_exports.paths import Home
from tui_exports.store import Library
from tui_exports.store.db import connect, migrate, schema_version
from tui_exports.store.schema import LATEST_VERSION


def test_a_content_export_has_no_progress_of_its_own(service, runner, users):
    assert "progress" not in {f.name for f in dataclasses.fields(ContentExport)}
    ce = service.create_content_export(users["teacher"], C.COURSE, 1, "zip")
    assert runner.wait_idle(60)
    ce = service.store.content_export(ce.id)
    assert ce.workflow_state == "exported" and service.store.progress(ce.progress_id).completion == 100
    (column,) = service.store.db.execute(
        "SELECT progress FROM content_exports WHERE id = ?", [ce.id]
    ).fetchone()
    assert column == 0  # the old column is left as it was made: nothing writes it


def test_a_library_with_a_remote_history_opens_without_it(tmp_path):
    db = connect(tmp_path / "library.db")
    migrate(db, upto=4)
    db.execute(
        "INSERT INTO remote_exports (base_url, kind, remote_id, export_type, workflow_state, created_at, "
        "updated_at) VALUES ('https://c.example', 'content', 5, 'zip', 'exported', 'x', 'x')"
    )
    db.execute(
        "INSERT INTO remote_downloads (base_url, file_id, path, downloaded_at) "
        "VALUES ('https://c.example', 7, '/d/x.zip', 'x')"
    )
    db.conn.close()
    lib = Library(Home(tmp_path, tmp_path))
    try:
        assert schema_version(lib.database.db) == LATEST_VERSION
        assert "remote_exports" not in lib.database.db.table_names()
        assert lib.remote.download_paths("https://c.example", [7]) == {7: "/d/x.zip"}
        assert not hasattr(lib.remote, "record") and not hasattr(lib.remote, "all")
    finally:
        lib.close()

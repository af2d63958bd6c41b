"""Export files and course files are one id space (as Canvas's Attachments): a library made
before that renumbers its clashing export files when it opens, and its exports follow."""

from __future__ import annotations

from tui_exports.paths import Home
from tui_exports.store import Library
from tui_exports.store.db import connect, migrate, schema_version
from tui_exports.store.schema import LATEST_VERSION

NOW = "2026-08-24T14:00:00Z"


def test_an_old_library_with_clashing_file_ids_opens_and_renumbers(tmp_path):
    db = connect(tmp_path / "library.db")
    migrate(db, upto=4)
    db["courses"].insert({"id": 1, "name": "C", "course_code": "C", "uuid": "u"})
    db["folders"].insert(
        {"id": 1, "context_type": "Course", "context_id": 1, "name": "files", "full_name": "files"}
    )
    for fid in (1, 2, 3):
        db["files"].insert(
            {
                "id": fid,
                "context_type": "Course",
                "context_id": 1,
                "folder_id": 1,
                "display_name": f"f{fid}",
                "filename": f"f{fid}",
                "content_type": "text/plain",
                "size": 1,
                "sha256": "x",
                "uuid": f"file-{fid}",
            }
        )
    for aid, ctx in ((1, "ContentExport"), (2, "EpubExport"), (3, "EpubExport"), (7, "ContentExport")):
        db["attachments"].insert(
            {
                "id": aid,
                "context_type": ctx,
                "context_id": 1,
                "uuid": f"att-{aid}",
                "display_name": f"a{aid}",
                "filename": f"a{aid}",
                "content_type": "application/zip",
                "size": 1,
                "sha256": "",
                "path": f"/nowhere/a{aid}",
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    common = {
        "context_type": "Course",
        "context_id": 1,
        "user_id": 1,
        "export_type": "zip",
        "workflow_state": "exported",
        "created_at": NOW,
        "updated_at": NOW,
    }
    db["content_exports"].insert({"id": 1, **common, "attachment_id": 1})
    db["content_exports"].insert({"id": 2, **common, "attachment_id": 7})
    db["epub_exports"].insert(
        {
            "id": 1,
            "course_id": 1,
            "user_id": 1,
            "workflow_state": "generated",
            "created_at": NOW,
            "updated_at": NOW,
            "epub_attachment_id": 2,
            "zip_attachment_id": 3,
        }
    )
    db.conn.close()

    lib = Library(Home(tmp_path, tmp_path))
    try:
        assert schema_version(lib.database.db) == LATEST_VERSION
        files = {r["id"] for r in lib.database.db.query("SELECT id FROM files")}
        atts = {r["uuid"]: r["id"] for r in lib.database.db.query("SELECT id, uuid FROM attachments")}
        assert files == {1, 2, 3} and not files & set(atts.values())
        assert atts == {"att-1": 8, "att-2": 9, "att-3": 10, "att-7": 7}  # above both tables; 7 kept
        assert lib.exports.attachment(lib.exports.content_export(1).attachment_id).uuid == "att-1"
        assert lib.exports.attachment(lib.exports.content_export(2).attachment_id).uuid == "att-7"
        ep = lib.exports.epub_export(1)
        assert lib.exports.attachment(ep.epub_attachment_id).uuid == "att-2"
        assert lib.exports.attachment(ep.zip_attachment_id).uuid == "att-3"
        assert lib.content.next_ids()["files"] == 11
    finally:
        lib.close()
    Library(Home(tmp_path, tmp_path)).close()  # and it opens again, nothing left to do

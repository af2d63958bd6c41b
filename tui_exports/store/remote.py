"""A small local record of exports made on Canvas instances (what ``CanvasBackend`` created
or downloaded), so the history shows them with their download paths."""

from __future__ import annotations

from typing import Any

from .db import Database, iso, utcnow


class RemoteExportStore:
    def __init__(self, database: Database):
        self._database = database

    @property
    def db(self):
        return self._database.db

    def record(self, *, base_url: str, kind: str, remote_id: int, export_type: str, workflow_state: str,
               course_id: int | None = None, download_path: str | None = None) -> None:  # fmt: skip
        """Insert or update one remote export (keyed by instance, kind and remote id)."""
        now = iso(utcnow())
        self.db.execute(
            """INSERT INTO remote_exports (base_url, kind, remote_id, course_id, export_type, workflow_state,
                   created_at, updated_at, download_path)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (base_url, kind, remote_id) DO UPDATE SET
                   workflow_state = excluded.workflow_state, updated_at = excluded.updated_at,
                   course_id = COALESCE(excluded.course_id, course_id),
                   download_path = COALESCE(excluded.download_path, download_path)""",
            [base_url, kind, remote_id, course_id, export_type, workflow_state, now, now, download_path],
        )

    def all(self, base_url: str | None = None) -> list[dict[str, Any]]:
        if base_url is None:
            return list(self.db.query("SELECT * FROM remote_exports ORDER BY id DESC"))
        return list(self.db.query("SELECT * FROM remote_exports WHERE base_url = ? ORDER BY id DESC", [base_url]))

    def record_download(self, base_url: str, file_id: int, path: str) -> None:
        """Remote file ``file_id`` of this instance is now on disk at ``path``."""
        self.db.execute(
            """INSERT INTO remote_downloads (base_url, file_id, path, downloaded_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (base_url, file_id) DO UPDATE SET path = excluded.path, downloaded_at = excluded.downloaded_at""",
            [base_url, file_id, path, iso(utcnow())],
        )

    def download_paths(self, base_url: str, file_ids: list[int]) -> dict[int, str]:
        """Where the files of this instance that were downloaded are (by remote file id)."""
        if not file_ids:
            return {}
        marks = ", ".join("?" * len(file_ids))
        rows = self.db.query(f"SELECT file_id, path FROM remote_downloads WHERE base_url = ? AND file_id IN ({marks})",
                             [base_url, *file_ids])  # fmt: skip
        return {int(r["file_id"]): r["path"] for r in rows}

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

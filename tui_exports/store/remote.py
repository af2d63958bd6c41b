"""Where the files of exports made on Canvas instances were downloaded, so the history shows
them with their local paths (the exports themselves are listed by Canvas)."""

from __future__ import annotations

from .db import Table, iso, utcnow


class RemoteExportStore(Table):
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
        rows = self.db.query(
            f"SELECT file_id, path FROM remote_downloads WHERE base_url = ? AND file_id IN ({marks})",
            [base_url, *file_ids],
        )
        return {int(r["file_id"]): r["path"] for r in rows}

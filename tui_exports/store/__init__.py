"""The library: SQLite (through sqlite-utils) plus content-addressed blobs on disk.

This package is the only place with SQL.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..paths import Home
from .blobs import BlobStore
from .bulk import BulkStore
from .content import ContentStore, ContextFiles, CourseBundle
from .db import Database, LibraryTooNew, LibraryUnusable, disk_full, iso, parse_iso, utcnow
from .exports import ExportStore
from .remote import RemoteExportStore
from .tokens import TokenStore


class Library:
    """One library on disk: ``library.db``, ``blobs/`` and ``exports/`` under a home folder."""

    def __init__(self, home: Home):
        self.home = home.ensure()
        if not home.db_path.exists():  # SQLite gives its -wal and -shm files the same mode
            os.close(os.open(home.db_path, os.O_CREAT | os.O_WRONLY, home.file_mode))
            os.chmod(home.db_path, home.file_mode)
        self.database = Database(home.db_path)
        self.blobs = BlobStore(home.blobs)
        self.content = ContentStore(self.database, self.blobs)
        self.exports = ExportStore(self.database)
        self.tokens = TokenStore(self.database)
        self.remote = RemoteExportStore(self.database)
        self.bulk = BulkStore(self.database)

    @property
    def exports_dir(self) -> Path:
        return self.home.exports

    def transaction(self):
        return self.database.transaction()

    def close(self) -> None:
        self.database.close()


__all__ = [
    "Library",
    "BlobStore",
    "BulkStore",
    "ContentStore",
    "ContextFiles",
    "CourseBundle",
    "Database",
    "ExportStore",
    "LibraryTooNew",
    "LibraryUnusable",
    "RemoteExportStore",
    "TokenStore",
    "disk_full",
    "iso",
    "parse_iso",
    "utcnow",
]

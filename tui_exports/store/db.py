"""Opening the library database: WAL, busy timeout, migrations, one connection per thread."""

from __future__ import annotations

import errno
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from ..canvas_json import iso
from .schema import LATEST_VERSION, MIGRATIONS


class LibraryUnusable(RuntimeError):
    """The library's file cannot be used: not an SQLite database, damaged, locked past the busy
    timeout, made by a newer release, or its upgrade failed (a full disk…)."""


class LibraryTooNew(LibraryUnusable):
    """The library was written by a newer release than this one."""


def disk_full(e: BaseException) -> bool:
    """Whether ``e`` says the disk is full: ENOSPC from a write, or SQLite's own words for it."""
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return True
    return isinstance(e, sqlite3.OperationalError) and "disk is full" in str(e)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def connect(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    # no sqlite-utils plugins: looking for them scanned every installed package's entry points
    # (20 ms of each process's first open; the app's list waited for it)
    return sqlite_utils.Database(conn, execute_plugins=False)


def schema_version(db: sqlite_utils.Database) -> int:
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def migrate(db: sqlite_utils.Database, upto: int = LATEST_VERSION) -> list[int]:
    """Apply every migration newer than the library's version; returns those applied."""
    applied: list[int] = []
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
    )
    current = schema_version(db)
    if current > LATEST_VERSION:
        raise LibraryTooNew(
            f"this library has schema version {current}, newer than this release "
            f"understands ({LATEST_VERSION}); upgrade tui-exports"
        )
    for version, name, statements in MIGRATIONS:
        if version <= current or version > upto:
            continue
        with transaction(db):
            for sql in statements:
                db.execute(sql)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [version, name, iso(utcnow())],
            )
        applied.append(version)
    return applied


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the write lock up front (no upgrade deadlocks)."""
    conn = db.conn
    if conn.in_transaction:  # nested: join the outer one
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


class Database:
    """The library's SQLite file, with one connection per thread (WAL lets them overlap)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()
        try:
            migrate(self.db)
        except (sqlite3.DatabaseError, LibraryUnusable) as e:  # no library, a newer one, a failed upgrade
            self.close()
            kind = type(e) if isinstance(e, LibraryUnusable) else LibraryUnusable
            raise kind(f"the library {self.path} cannot be opened: {e}") from None

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def transaction(self):
        return transaction(self.db)

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version`` on this thread's connection: it changes when another
        connection (a job's thread, a worker process, another program) commits to the file."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def integrity_check(self) -> list[str]:
        """SQLite's ``PRAGMA integrity_check``: empty when the file is whole, else its complaints."""
        rows = [r[0] for r in self.db.execute("PRAGMA integrity_check").fetchall()]
        return [] if rows == ["ok"] else rows

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                try:
                    db.conn.close()
                except sqlite3.ProgrammingError:
                    pass
            self._all.clear()
        self._local = threading.local()


class Table:
    """A part of the library's store (content, exports, tokens…): its SQL on the library's one
    database, on this thread's connection."""

    def __init__(self, database: Database):
        self._database = database

    @property
    def db(self) -> sqlite_utils.Database:
        return self._database.db

    def transaction(self):
        return self._database.transaction()

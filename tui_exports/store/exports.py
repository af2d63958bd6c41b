"""The export side of the library: content and ePub exports, Progress, files, notifications."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..model import (
    PROGRESS_RUNNING,
    Attachment,
    ContentExport,
    ContentExportState,
    ContextType,
    EpubExport,
    EpubExportState,
    JobKind,
    Notification,
    Progress,
    ProgressState,
)
from .content import FILE_ID_SQL
from .db import Table, iso, utcnow
from .rows import from_row

_JOB_TABLES: dict[JobKind, tuple[str, type[ContentExport] | type[EpubExport]]] = {
    JobKind.CONTENT: ("content_exports", ContentExport),
    JobKind.EPUB: ("epub_exports", EpubExport),
}
_PENDING_PROGRESS = tuple(sorted(PROGRESS_RUNNING))


@dataclass(frozen=True)
class VisibleTo:
    """Which exports of a context a listing shows (the engine decides, the store filters):
    those of ``user_id``, and when ``others_except`` is given, everyone else's too except
    those of these export types."""

    user_id: int
    others_except: tuple[str, ...] | None = None


class ExportStore(Table):
    # ---------------------------------------------------------------- progress
    def create_progress(
        self, *, context_type: str, context_id: int | None, user_id: int, tag: str
    ) -> Progress:
        now = iso(utcnow())
        pid = (
            self.db["progress"]
            .insert(
                {
                    "context_type": context_type,
                    "context_id": context_id,
                    "user_id": user_id,
                    "tag": tag,
                    "completion": 0,
                    "workflow_state": ProgressState.QUEUED.value,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            .last_pk
        )
        return self.progress(pid)  # type: ignore[return-value]

    def progress(self, progress_id: int) -> Progress | None:
        row = self._one("SELECT * FROM progress WHERE id = ?", progress_id)
        return from_row(Progress, row) if row else None

    def update_progress(self, progress_id: int, **fields: Any) -> None:
        if "results" in fields and fields["results"] is not None:
            fields["results"] = json.dumps(fields["results"])
        if "workflow_state" in fields:
            fields["workflow_state"] = str(fields["workflow_state"])
        fields["updated_at"] = iso(utcnow())
        self._update("progress", progress_id, fields)

    def report_progress(self, progress_id: int, completion: float, message: str | None) -> bool:
        """A running job's progress write: applies only while the Progress is still pending,
        so it can never overwrite a cancel (or its message) that landed just before it."""
        cur = self.db.execute(
            "UPDATE progress SET completion = ?, message = ?, updated_at = ? "
            f"WHERE id = ? AND workflow_state IN ({','.join('?' * len(_PENDING_PROGRESS))})",
            [completion, message, iso(utcnow()), progress_id, *_PENDING_PROGRESS],
        )
        return cur.rowcount == 1

    # ------------------------------------------------------------ content exports
    def insert_content_export(
        self,
        *,
        context_type: ContextType,
        context_id: int,
        user_id: int,
        export_type: str,
        settings: dict[str, Any],
        created_at: datetime | None = None,
    ) -> int:
        now = iso(created_at or utcnow())
        return (
            self.db["content_exports"]
            .insert(
                {
                    "context_type": context_type.value,
                    "context_id": context_id,
                    "user_id": user_id,
                    "export_type": export_type,
                    "workflow_state": ContentExportState.CREATED.value,
                    "created_at": now,
                    "updated_at": now,
                    "settings": json.dumps(settings),
                }
            )
            .last_pk
        )

    def content_export(self, export_id: int) -> ContentExport | None:
        row = self._one("SELECT * FROM content_exports WHERE id = ?", export_id)
        return from_row(ContentExport, row) if row else None

    def content_exports(
        self,
        context_type: ContextType,
        context_id: int,
        *,
        visible_to: VisibleTo,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ContentExport]:
        """Newest first (``id DESC``, as Canvas's index), only those ``visible_to`` allows."""
        sql, args = self._exports_sql("SELECT *", context_type, context_id, visible_to)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return [from_row(ContentExport, r) for r in self.db.query(sql, args)]

    def count_content_exports(
        self, context_type: ContextType, context_id: int, *, visible_to: VisibleTo
    ) -> int:
        sql, args = self._exports_sql("SELECT COUNT(*)", context_type, context_id, visible_to)
        return self.db.execute(sql, args).fetchone()[0]

    @staticmethod
    def _exports_sql(select: str, context_type: ContextType, context_id: int, visible_to: VisibleTo):
        sql = (
            f"{select} FROM content_exports WHERE context_type = ? AND context_id = ? "
            "AND workflow_state != 'deleted' AND epub_export_id IS NULL"
        )
        args: list[Any] = [context_type.value, context_id]
        if visible_to.others_except is None:
            sql += " AND user_id = ?"
        elif visible_to.others_except:
            marks = ",".join("?" * len(visible_to.others_except))
            sql += f" AND (export_type NOT IN ({marks}) OR user_id = ?)"
            args += visible_to.others_except
        else:
            return sql, args
        args.append(visible_to.user_id)
        return sql, args

    def update_content_export(self, export_id: int, **fields: Any) -> None:
        self._update_record("content_exports", export_id, fields)

    # --------------------------------------------------------------- ePub exports
    def insert_epub_export(self, *, course_id: int, user_id: int, settings: dict[str, Any]) -> int:
        now = iso(utcnow())
        return (
            self.db["epub_exports"]
            .insert(
                {
                    "course_id": course_id,
                    "user_id": user_id,
                    "workflow_state": EpubExportState.CREATED.value,
                    "created_at": now,
                    "updated_at": now,
                    "settings": json.dumps(settings),
                }
            )
            .last_pk
        )

    def epub_export(self, epub_id: int) -> EpubExport | None:
        row = self._one("SELECT * FROM epub_exports WHERE id = ?", epub_id)
        return from_row(EpubExport, row) if row else None

    def epub_exports_of(self, course_id: int, user_id: int) -> list[EpubExport]:
        rows = self.db.query(
            "SELECT * FROM epub_exports WHERE course_id = ? AND user_id = ? "
            "AND workflow_state != 'deleted' ORDER BY created_at DESC, id DESC",
            [course_id, user_id],
        )
        return [from_row(EpubExport, r) for r in rows]

    def update_epub_export(self, epub_id: int, **fields: Any) -> None:
        self._update_record("epub_exports", epub_id, fields)

    # ---------------------------------------------------------------- job queue
    def job(self, kind: JobKind, job_id: int) -> ContentExport | EpubExport | None:
        table, record = _JOB_TABLES[kind]
        row = self._one(f"SELECT * FROM {table} WHERE id = ?", job_id)
        return from_row(record, row) if row else None

    def unfinished(self, kind: JobKind, states: Iterable[str]) -> list[ContentExport] | list[EpubExport]:
        """The jobs of this kind in one of ``states`` (the engine says which are unfinished),
        oldest first, for the runner and for crash recovery."""
        table, record = _JOB_TABLES[kind]
        states = sorted(str(s) for s in states)
        marks = ",".join("?" * len(states))
        rows = self.db.query(f"SELECT * FROM {table} WHERE workflow_state IN ({marks}) ORDER BY id", states)
        return [from_row(record, r) for r in rows]  # type: ignore[return-value]

    def claim(self, kind: JobKind, job_id: int, pid: int, *, state: str) -> bool:
        """Atomically take an unclaimed job still in ``state`` (the engine's queued state);
        False when another runner was faster."""
        table, _ = _JOB_TABLES[kind]
        cur = self.db.execute(
            f"UPDATE {table} SET runner_pid = ?, heartbeat_at = ? "
            "WHERE id = ? AND runner_pid IS NULL AND workflow_state = ?",
            [pid, iso(utcnow()), job_id, str(state)],
        )
        return cur.rowcount == 1

    def requeue(self, kind: JobKind, job_id: int, pid: int, *, queued: str, running: Iterable[str]) -> bool:
        """Hand a job that ``pid`` claimed but did not finish back to the queue: back in its
        ``queued`` state, claimed by nobody, its Progress queued at 0 again (an ePub's hidden
        content export, if it got that far, goes: the next run writes its own).  False when
        the job is no longer ``pid``'s or no longer running (it ended, or was canceled)."""
        table, _ = _JOB_TABLES[kind]
        running = sorted(str(s) for s in running)
        with self.transaction():
            row = self._one(
                f"SELECT progress_id FROM {table} WHERE id = ? AND runner_pid = ? "
                f"AND workflow_state IN ({','.join('?' * len(running))})",
                job_id,
                pid,
                *running,
            )
            if row is None:
                return False
            progress = self.progress(row["progress_id"]) if row["progress_id"] else None
            if progress is not None and not progress.pending:
                return False  # canceled meanwhile: the runner's own path fails it
            fields: dict[str, Any] = {"workflow_state": str(queued), "runner_pid": None, "heartbeat_at": None}
            if kind is JobKind.EPUB:
                self.db.execute("DELETE FROM content_exports WHERE epub_export_id = ?", [job_id])
                fields["content_export_id"] = None
            self._update(table, job_id, fields)
            if progress is not None:
                self.update_progress(
                    progress.id, workflow_state=ProgressState.QUEUED, completion=0, message=None
                )
        return True

    def heartbeat(self, kind: JobKind, ids: Iterable[int]) -> None:
        ids = list(ids)
        if not ids:
            return
        table, _ = _JOB_TABLES[kind]
        marks = ",".join("?" * len(ids))
        self.db.execute(f"UPDATE {table} SET heartbeat_at = ? WHERE id IN ({marks})", [iso(utcnow()), *ids])

    # ---------------------------------------------------------------- attachments
    def insert_attachment(self, **fields: Any) -> Attachment:
        """An export's file, numbered in the one file id space (above every course file too,
        as Canvas's Attachment ids are): one statement, so two publishers cannot take one id."""
        now = iso(utcnow())
        fields = {**fields, "path": str(fields["path"]), "created_at": now, "updated_at": now}
        cols = ", ".join(fields)
        marks = ", ".join("?" * len(fields))
        cur = self.db.execute(
            f"INSERT INTO attachments (id, {cols}) VALUES (({FILE_ID_SQL}), {marks})", list(fields.values())
        )
        return self.attachment(cur.lastrowid)  # type: ignore[return-value]

    def remove_attachments(self, context_type: str, context_id: int) -> None:
        """Forget the file rows of one job (its files are being removed), unless a record
        still points at them."""
        self.db.execute(
            "DELETE FROM attachments WHERE context_type = ? AND context_id = ? "
            "AND id NOT IN (SELECT attachment_id FROM content_exports WHERE attachment_id IS NOT NULL) "
            "AND id NOT IN (SELECT epub_attachment_id FROM epub_exports WHERE epub_attachment_id IS NOT NULL) "
            "AND id NOT IN (SELECT zip_attachment_id FROM epub_exports WHERE zip_attachment_id IS NOT NULL)",
            [context_type, context_id],
        )

    def finished_files(self) -> list[tuple[JobKind, int, Attachment | None]]:
        """Each file a finished job names (kind, job id, its row or None when the row is gone):
        an exported content export's one file (not an ePub's hidden one, which has none), a
        generated ePub's book and zip."""
        out: list[tuple[JobKind, int, Attachment | None]] = []
        for kind, sql, state in (
            (
                JobKind.CONTENT,
                "SELECT id, attachment_id AS a FROM content_exports "
                "WHERE workflow_state = ? AND epub_export_id IS NULL",
                ContentExportState.EXPORTED,
            ),
            (
                JobKind.EPUB,
                "SELECT id, epub_attachment_id AS a FROM epub_exports WHERE workflow_state = ? "
                "UNION ALL SELECT id, zip_attachment_id FROM epub_exports "
                "WHERE workflow_state = ? AND zip_attachment_id IS NOT NULL",
                EpubExportState.GENERATED,
            ),
        ):
            params = [str(state)] * sql.count("?")
            for r in self.db.query(sql + " ORDER BY id", params):
                out.append((kind, r["id"], self.attachment(r["a"])))
        return out

    def unnamed_attachments(self) -> list[Attachment]:
        """File rows of exports that no export names (left by a publisher killed midway)."""
        rows = self.db.query(
            "SELECT * FROM attachments WHERE "
            "id NOT IN (SELECT attachment_id FROM content_exports WHERE attachment_id IS NOT NULL) "
            "AND id NOT IN (SELECT epub_attachment_id FROM epub_exports WHERE epub_attachment_id IS NOT NULL) "
            "AND id NOT IN (SELECT zip_attachment_id FROM epub_exports WHERE zip_attachment_id IS NOT NULL) "
            "ORDER BY id"
        )
        return [from_row(Attachment, r) for r in rows]

    def delete_attachment(self, attachment_id: int) -> None:
        self.db.execute("DELETE FROM attachments WHERE id = ?", [attachment_id])

    def attachment(self, attachment_id: int | None) -> Attachment | None:
        if attachment_id is None:
            return None
        row = self._one("SELECT * FROM attachments WHERE id = ?", attachment_id)
        return from_row(Attachment, row) if row else None

    # ---------------------------------------------------------------- notifications
    def notify(
        self, *, user_id: int, name: str, context_type: str, context_id: int, subject: str, body: str
    ) -> None:
        self.db["notifications"].insert(
            {
                "user_id": user_id,
                "name": name,
                "context_type": context_type,
                "context_id": context_id,
                "subject": subject,
                "body": body,
                "created_at": iso(utcnow()),
            }
        )

    def notifications(self, user_id: int, *, unread_only: bool = False) -> list[Notification]:
        sql = "SELECT * FROM notifications WHERE user_id = ?"
        if unread_only:
            sql += " AND read = 0"
        return [from_row(Notification, r) for r in self.db.query(sql + " ORDER BY id DESC", [user_id])]

    def mark_notifications_read(self, user_id: int) -> None:
        self.db.execute("UPDATE notifications SET read = 1 WHERE user_id = ?", [user_id])

    # ---------------------------------------------------------------- helpers
    def _update_record(self, table: str, record_id: int, fields: dict[str, Any]) -> None:
        if "settings" in fields:
            fields["settings"] = json.dumps(fields["settings"])
        for k in ("workflow_state",):
            if k in fields:
                fields[k] = str(fields[k])
        if "heartbeat_at" in fields and isinstance(fields["heartbeat_at"], datetime):
            fields["heartbeat_at"] = iso(fields["heartbeat_at"])
        fields["updated_at"] = iso(utcnow())
        self._update(table, record_id, fields)

    def _update(self, table: str, record_id: int, fields: dict[str, Any]) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        self.db.execute(f"UPDATE {table} SET {cols} WHERE id = ?", [*fields.values(), record_id])

    def _one(self, sql: str, *params: Any) -> dict[str, Any] | None:
        return next(iter(self.db.query(sql, list(params))), None)

"""Bulk runs in the library: a run and its items, each a (course, format) pair with its state,
attempts, output path, size, SHA-256, warnings and error. Only the coordinator of a run writes
these rows (workers return result records)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..model import BULK_ITEM_RUNNING, BulkItem, BulkItemState, BulkRun
from .db import Table, iso, utcnow
from .rows import from_row

_ITEM_FIELDS = frozenset(
    {
        "course_id",
        "course_code",
        "workflow_state",
        "attempts",
        "path",
        "size",
        "sha256",
        "warnings",
        "error",
        "ran_on",
        "remote_export",
    }
)


class BulkStore(Table):
    def create_run(
        self,
        *,
        source: str,
        out_dir: str,
        formats: Iterable[str],
        settings: dict[str, Any],
        items: Iterable[dict[str, Any]],
    ) -> int:
        """A run and its items (dicts with ``course_id``/``course_code`` or ``package``, and
        ``format``), all ``created``, in one transaction."""
        now = iso(utcnow())
        with self.transaction():
            run_id = (
                self.db["bulk_runs"]
                .insert(
                    {
                        "source": source,
                        "out_dir": out_dir,
                        "formats": json.dumps(list(formats)),
                        "settings": json.dumps(settings),
                        "workflow_state": BulkItemState.CREATED.value,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                .last_pk
            )
            self.db["bulk_items"].insert_all(
                (
                    {
                        "run_id": run_id,
                        "course_id": item.get("course_id"),
                        "course_code": item.get("course_code", ""),
                        "package": item.get("package", ""),
                        "format": item["format"],
                        "workflow_state": BulkItemState.CREATED.value,
                        "updated_at": now,
                    }
                    for item in items
                ),
                batch_size=500,
            )
        return run_id

    def run(self, run_id: int) -> BulkRun | None:
        row = next(self.db.query("SELECT * FROM bulk_runs WHERE id = ?", [run_id]), None)
        return from_row(BulkRun, row) if row else None

    def runs(self) -> list[tuple[BulkRun, dict[str, int]]]:
        """Every run, newest first, with its item count per state."""
        counts: dict[int, dict[str, int]] = {}
        for row in self.db.query(
            "SELECT run_id, workflow_state, COUNT(*) AS n FROM bulk_items GROUP BY run_id, workflow_state"
        ):
            counts.setdefault(row["run_id"], {})[row["workflow_state"]] = row["n"]
        rows = self.db.query("SELECT * FROM bulk_runs ORDER BY id DESC")
        return [(from_row(BulkRun, r), counts.get(r["id"], {})) for r in rows]

    def counts(self, run_id: int) -> dict[str, int]:
        rows = self.db.query(
            "SELECT workflow_state, COUNT(*) AS n FROM bulk_items WHERE run_id = ? GROUP BY workflow_state",
            [run_id],
        )
        return {r["workflow_state"]: r["n"] for r in rows}

    def set_run(self, run_id: int, state: BulkItemState, message: str | None = None) -> None:
        fields: dict[str, Any] = {"workflow_state": state.value, "updated_at": iso(utcnow())}
        if message is not None:
            fields["message"] = message
        self.db["bulk_runs"].update(run_id, fields)

    def items(
        self, run_id: int, states: Iterable[str] | None = None, *, after: int = 0, limit: int | None = None
    ) -> list[BulkItem]:
        """The run's items in id order (of these states; from id ``after`` on, ``limit`` at most)."""
        sql = "SELECT * FROM bulk_items WHERE run_id = ? AND id > ?"
        args: list[Any] = [run_id, after]
        if states is not None:
            wanted = [str(s) for s in states]
            sql += f" AND workflow_state IN ({','.join('?' * len(wanted))})"
            args += wanted
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [from_row(BulkItem, r) for r in self.db.query(sql, args)]

    def item(self, item_id: int) -> BulkItem | None:
        row = next(self.db.query("SELECT * FROM bulk_items WHERE id = ?", [item_id]), None)
        return from_row(BulkItem, row) if row else None

    def update_item(self, item_id: int, **fields: Any) -> None:
        self.update_items([(item_id, fields)])

    def update_items(self, changes: Iterable[tuple[int, dict[str, Any]]]) -> None:
        """Several items' fields (id, {field: value}) in one transaction."""
        now = iso(utcnow())
        with self.transaction():
            for item_id, fields in changes:
                unknown = set(fields) - _ITEM_FIELDS
                if unknown:
                    raise ValueError(f"not a bulk item field: {', '.join(sorted(unknown))}")
                row = dict(fields, updated_at=now)
                if "workflow_state" in row:
                    row["workflow_state"] = str(row["workflow_state"])
                if "warnings" in row:
                    row["warnings"] = json.dumps(list(row["warnings"]))
                sets = ", ".join(f"{name} = ?" for name in row)
                self.db.execute(f"UPDATE bulk_items SET {sets} WHERE id = ?", [*row.values(), item_id])

    def start_items(self, item_ids: list[int]) -> None:
        """These items are handed to a worker: ``exporting``, one more attempt, no error."""
        self.db.execute(
            f"UPDATE bulk_items SET workflow_state = ?, attempts = attempts + 1, error = NULL, updated_at = ? "
            f"WHERE id IN ({','.join('?' * len(item_ids))})",
            [BulkItemState.EXPORTING.value, iso(utcnow()), *item_ids],
        )

    def set_package_course(self, run_id: int, package: str, course_id: int, course_code: str) -> None:
        """Every item of one package names the course it was imported as."""
        self.db.execute(
            "UPDATE bulk_items SET course_id = ?, course_code = ?, updated_at = ? WHERE run_id = ? AND package = ?",
            [course_id, course_code, iso(utcnow()), run_id, package],
        )

    def reopen(self, run_id: int, states: Iterable[str]) -> int:
        """Items in these states go back to ``created`` (resume, retry); returns how many."""
        wanted = [str(s) for s in states]
        cur = self.db.execute(
            f"UPDATE bulk_items SET workflow_state = ?, updated_at = ? WHERE run_id = ? "
            f"AND workflow_state IN ({','.join('?' * len(wanted))})",
            [BulkItemState.CREATED.value, iso(utcnow()), run_id, *wanted],
        )
        return cur.rowcount

    def cancel(self, run_id: int) -> int:
        """Items not ended become ``canceled``, and so does the run; returns how many items."""
        pending = sorted(BULK_ITEM_RUNNING)
        now = iso(utcnow())
        with self.transaction():
            cur = self.db.execute(
                f"UPDATE bulk_items SET workflow_state = ?, updated_at = ? WHERE run_id = ? "
                f"AND workflow_state IN ({','.join('?' * len(pending))})",
                [BulkItemState.CANCELED.value, now, run_id, *pending],
            )
            self.set_run(run_id, BulkItemState.CANCELED, "canceled by the user")
        return cur.rowcount

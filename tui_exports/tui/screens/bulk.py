"""Bulk runs (``b``, or *Bulk runs* in the command palette): every run of ``tui-exports bulk``
on the library, and the highlighted run's items live, filtered by state; failed items can be
run again from here (``t``)."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from ..format import human_size, state_text
from ..widgets import KeysFooter, put_row
from ..work import in_thread

RUN_COLUMNS = [
    ("id", "Run", 5),
    ("state", "State", 12),
    ("formats", "Formats", 26),
    ("counts", "Items", 34),
    ("out", "Into", 60),
]
ITEM_COLUMNS = [
    ("id", "Item", 6),
    ("state", "State", 12),
    ("course", "Course", 22),
    ("format", "Format", 17),
    ("size", "Size", 9),
    ("where", "File or error", 80),
]
#: the item filter ``f`` steps through: all, then each state
FILTERS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("all", None),
    ("failed", ("failed", "canceled")),
    ("running", ("created", "exporting")),
    ("exported", ("exported",)),
)
REFRESH_SECONDS = 0.5


def counts_text(counts: dict[str, int]) -> str:
    order = ("exported", "failed", "canceled", "exporting", "created")
    return ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s)) or "no items"


class BulkScreen(Screen):
    BINDINGS = [
        Binding("f", "filter", "Filter items", id="bulk_filter", tooltip="All, failed, running, exported"),
        Binding(
            "t", "retry", "Retry failed", id="bulk_retry", tooltip="Run the failed items of this run again"
        ),
        Binding("r", "refresh", "Refresh", id="bulk_refresh"),
        Binding("escape", "back", "Back", id="bulk_back"),
    ]

    def __init__(self, backend: Any):
        super().__init__()
        self.backend = backend
        self.filter_index = 0
        self.run_ids: list[int] = []
        self.retrying: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Label("Bulk runs — tui-exports bulk", id="bulk-title")
        yield DataTable(id="bulk-runs", cursor_type="row", zebra_stripes=True)
        yield Label("", id="bulk-items-title")
        yield DataTable(id="bulk-items", cursor_type="row", zebra_stripes=True)
        yield Static(id="bulk-note")
        yield KeysFooter()

    def on_mount(self) -> None:
        for table_id, columns in (("#bulk-runs", RUN_COLUMNS), ("#bulk-items", ITEM_COLUMNS)):
            table = self.query_one(table_id, DataTable)
            for key, label, width in columns:
                table.add_column(label, key=key, width=width)
        self.query_one("#bulk-runs", DataTable).focus()
        if not hasattr(self.backend, "bulk_runs"):
            self.note("Bulk runs are kept in the local library: switch to it (ctrl+p, Use the local library)")
            return
        self.action_refresh()
        self.set_interval(REFRESH_SECONDS, self.action_refresh)

    def note(self, text: str) -> None:
        self.query_one("#bulk-note", Static).update(text)

    @property
    def run_id(self) -> int | None:
        table = self.query_one("#bulk-runs", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_refresh(self) -> None:
        if hasattr(self.backend, "bulk_runs"):
            in_thread(self, "bulk-runs", self.backend.bulk_runs, then=self.show_runs, on_error=self.note)

    def show_runs(self, runs: list[dict[str, Any]]) -> None:
        table = self.query_one("#bulk-runs", DataTable)
        if not runs:
            self.note("No bulk runs yet: tui-exports bulk --courses all --formats common_cartridge --out DIR")
        for run in runs:
            key = str(run["id"])
            cells = [
                key,
                state_text(run["workflow_state"]),
                ",".join(run["formats"]),
                counts_text(run["counts"]),
                run["out_dir"],
            ]
            put_row(table, RUN_COLUMNS, key, cells)
        self.load_items()

    @on(DataTable.RowHighlighted, "#bulk-runs")
    def load_items(self) -> None:
        run_id = self.run_id
        if run_id is None:
            return
        name, states = FILTERS[self.filter_index]
        self.query_one("#bulk-items-title", Label).update(f"Items of run {run_id} — {name} (f: filter)")
        in_thread(
            self,
            "bulk-items",
            self.backend.bulk_run,
            run_id,
            list(states) if states else None,
            then=self.show_items,
            on_error=self.note,
        )

    def show_items(self, detail: dict[str, Any]) -> None:
        if detail["run"]["id"] != self.run_id:
            return
        table = self.query_one("#bulk-items", DataTable)
        wanted = {str(i["id"]): i for i in detail["items"]}
        for key in [k.value for k in table.rows if k.value not in wanted]:
            table.remove_row(key)
        for key, item in wanted.items():
            course = f"{item['course_code']}-{item['course_id']}" if item["course_id"] else item["package"]
            cells = [
                key,
                state_text(item["state"]),
                course,
                item["format"],
                human_size(item["size"]) if item["size"] is not None else "",
                item["error"] or item["path"] or "",
            ]
            put_row(table, ITEM_COLUMNS, key, cells)

    def action_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self.query_one("#bulk-items", DataTable).clear()
        self.load_items()

    def action_retry(self) -> None:
        run_id = self.run_id
        if run_id is None or not hasattr(self.backend, "retry_bulk"):
            return
        if run_id in self.retrying:
            self.note(f"run {run_id} is being retried already")
            return
        self.retrying.add(run_id)
        self.note(f"retrying the failed items of run {run_id}…")

        def done(detail: dict[str, Any]) -> None:
            self.retrying.discard(run_id)
            self.note(
                f"run {run_id}: {detail['run']['workflow_state']} ({counts_text(detail['run']['counts'])})"
            )
            self.action_refresh()

        def failed(message: str) -> None:
            self.retrying.discard(run_id)
            self.note(message)

        in_thread(self, f"bulk-retry-{run_id}", self.backend.retry_bulk, run_id, then=done, on_error=failed)

    def action_back(self) -> None:
        self.app.pop_screen()

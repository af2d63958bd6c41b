"""The ePub exports of all one's courses (``e``): generate, follow, open."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from ...backends.base import Backend, CourseSummary
from ..format import bar, is_downloadable, is_running, short_time, shown_state, state_text, was_canceled
from ..widgets import KeysFooter, put_row
from .ask import AskScreen
from .new_export import type_reasons

EPUB_COLUMNS = [
    ("course", "Course", 10),
    ("state", "State", 12),
    ("progress", "Progress", 15),
    ("updated", "Updated (UTC)", 16),
    ("file", "ePub file", 72),
]


class EpubScreen(Screen):
    """The latest ePub of each of your courses; generate or regenerate with one key."""

    BINDINGS = [
        Binding(
            "g", "generate", "Generate ePub", id="generate_epub", tooltip="Create or regenerate the ePub"
        ),
        Binding("x", "cancel", "Cancel", id="cancel_epub", tooltip="Cancel the ePub being generated"),
        Binding("c", "copy_path", "Copy path", id="copy_epub_path"),
        Binding("r", "refresh", "Refresh", id="refresh_epubs"),
        Binding("escape", "back", "Back", id="epub_back"),
    ]

    def __init__(self, backend: Backend, courses: list[CourseSummary]):
        super().__init__()
        self.backend = backend
        self.courses = {c.id: c for c in courses}
        self.items: dict[int, dict[str, Any]] = {}
        self.progress: dict[int, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        yield Label("ePub exports — the latest per course", id="epub-title")
        yield DataTable(id="epubs", cursor_type="row", zebra_stripes=True)
        yield Static(id="epub-detail")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#epubs", DataTable)
        for key, label, width in EPUB_COLUMNS:
            table.add_column(label, key=key, width=width)
        table.focus()
        self.app.watch_epubs = True
        self.app.wake_poller()

    def on_unmount(self) -> None:
        self.app.watch_epubs = False

    def last_good(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """The last generated ePub of the course, when its latest attempt is not one (it failed,
        was canceled, or runs): it stays readable beside the newer attempt's state."""
        ep = item.get("epub_export") or {}
        # the library says which (it keeps them all); a Canvas instance shows only the latest
        good = item.get("last_generated_epub_export") or self.app.good_epubs.get(
            (id(self.backend), int(item["id"]))
        )
        if good is None or good.get("id") == ep.get("id"):
            return None
        return good

    def show(self, items: list[dict[str, Any]], progress: dict[int, dict[str, Any]]) -> None:
        if not self.query("#epubs"):  # being built or taken down: a reading once mounted shows them
            return
        table = self.query_one("#epubs", DataTable)
        self.progress.update(progress)
        for item in items:
            key = str(item["id"])
            self.items[item["id"]] = item
            ep = item.get("epub_export") or {}
            state = ep.get("workflow_state")
            if is_downloadable(state, "epub") and ep.get("epub_attachment"):
                self.app.good_epubs[(id(self.backend), int(item["id"]))] = ep
            good_path = ((self.last_good(item) or {}).get("epub_attachment") or {}).get("path")
            course = self.courses.get(item["id"])
            cells = [
                course.course_code if course else item["name"],
                state_text(shown_state(ep, self.progress.get(ep.get("id") or 0))) if ep else "– none yet",
                bar((self.progress.get(ep.get("id") or 0) or {}).get("completion"))
                if is_running(state)
                else "",
                short_time(ep.get("updated_at")),
                (ep.get("epub_attachment") or {}).get("path")
                or (f"last good: {good_path}" if good_path else ""),
            ]
            put_row(table, EPUB_COLUMNS, key, cells)
        self.show_detail()

    @property
    def selected(self) -> dict[str, Any] | None:
        table = self.query_one("#epubs", DataTable)
        if not table.row_count:
            return None
        return self.items.get(int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    @on(DataTable.RowHighlighted)
    def show_detail(self) -> None:
        item = self.selected
        text = Text()
        if item is not None:
            ep = item.get("epub_export")
            text.append(f"{item['name']}\n", style="bold")
            if not ep:
                text.append("No ePub yet: press g to generate one.\n")
            else:
                prog = self.progress.get(ep["id"]) or {}
                text.append(f"ePub {ep['id']} · {state_text(shown_state(ep, prog))}")
                text.append(f" · {prog.get('message')}\n" if prog.get("message") else "\n")
                text.append(f"epub: {(ep.get('epub_attachment') or {}).get('path') or '(none yet)'}\n")
                text.append(f"zip:  {(ep.get('zip_attachment') or {}).get('path') or '(none yet)'}\n")
                canceled = was_canceled(ep, prog)
                for error in ep.get("errors") or []:
                    text.append(
                        f"{'⊘' if canceled else '✗'} {error}\n", style="italic" if canceled else "bold red"
                    )
                good = self.last_good(item)
                if good is not None:
                    text.append(f"last good: ePub {good['id']} · {short_time(good.get('updated_at'))}\n")
                    text.append(f"  epub: {(good.get('epub_attachment') or {}).get('path')}\n")
                text.append(json.dumps(ep, indent=2, ensure_ascii=False), style="dim")
        self.query_one("#epub-detail", Static).update(text)

    def action_generate(self) -> None:
        item = self.selected
        if item is None:
            return
        course = self.courses.get(item["id"])
        if course is not None and not course.can_create_epub:
            self.notify(f"ePub: {type_reasons(course)['epub']}", severity="warning")
            return
        ep = item.get("epub_export") or {}
        if is_running(ep.get("workflow_state")):
            self.notify(f"The ePub of {item['name']} is being generated (x cancels it)", severity="warning")
            return
        if not ep:
            self.app.start_epub(item["id"], skip_notifications=False)
            return
        self.app.push_screen(
            AskScreen(
                "Regenerate the ePub?",
                f"{item['name']} has an ePub (ePub {ep['id']}, {short_time(ep.get('updated_at'))} UTC, "
                f"{shown_state(ep)}). A new one is made from the course as it is now; the current "
                "one stays readable here until it is ready.",
                [("g", "Regenerate", True), ("n", "Keep the current one", False)],
                on_escape=False,
            ),
            lambda yes: self.app.start_epub(item["id"], skip_notifications=False) if yes else None,
        )

    def action_cancel(self) -> None:
        item = self.selected or {}
        ep = item.get("epub_export") or {}
        if not is_running(ep.get("workflow_state")):
            self.notify("Highlight an ePub being generated to cancel it", severity="warning")
            return
        self.app.ask_cancel(self.backend, ep, f"the ePub of {item.get('name')}")

    def action_copy_path(self) -> None:
        item = self.selected or {}
        ep = item.get("epub_export") or {}
        path = (ep.get("epub_attachment") or {}).get("path")
        good = self.last_good(item) if not path else None
        if good is not None:
            ep, path = good, (good.get("epub_attachment") or {}).get("path")
        what = f"ePub {ep['id']} of {item.get('name')}" if ep else "this course's ePub"
        self.app.copy_path(path, what)

    def action_refresh(self) -> None:
        self.app.wake_poller()

    def action_back(self) -> None:
        self.app.pop_screen()

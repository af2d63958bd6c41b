"""Dialogs and secondary screens: new export, content picker, ePub exports, help."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from ..backends.base import Backend, CourseSummary
from ..model import ContextType
from ..vocab import CONTENT_FORMATS, SELECT_VOCAB, formats_for
from .format import EXPORT_TYPES, bar, is_running, select_preview, short_time, state_text
from .selection import Key, TickModel
from .widgets import MY_FILES, Choice, ChoiceSet, ContentTree, Tick
from .work import in_thread


@dataclass(frozen=True)
class ExportRequest:
    """What the new-export dialog gathered; the main screen starts it."""

    course: CourseSummary
    kind: str  # common_cartridge, qti, zip or epub
    backend: Backend  # the source the dialog was opened on (the app may switch meanwhile)
    context_type: ContextType
    context_id: int
    select: dict[str, Any] | None
    skip_notifications: bool


def type_reasons(course: CourseSummary) -> dict[str, str]:
    """Export types this person may not create in this course, with why."""
    reasons = {}
    if course is MY_FILES:
        mine = {f.name for f in formats_for(ContextType.USER.value)}
        return {kind: "your user files export as a zip only" for kind in EXPORT_TYPES if kind not in mine}
    if not course.can_export_all_types:
        why = f"needs a teacher, TA or designer role (you are {course.role or 'not enrolled'})"
        reasons.update({f.name: why for f in CONTENT_FORMATS if f.admin_only})
    if not course.can_create_epub:
        reasons["epub"] = "not available to you in this course" + (" (concluded)" if course.concluded else "")
    return reasons


def branch_reasons(allowed: dict[str, str | None]) -> dict[str, str]:
    """The picker's branches an export type cannot carry, with why (from ``allowed_select_types``)."""
    return {t.api: why for t in SELECT_VOCAB if t.heading and (why := allowed.get(t.key))}


def validation_text(errors: list[str]) -> Text:
    if not errors:
        return Text("✓ the engine accepts this request", style="green")
    return Text("\n".join(f"✗ {e}" for e in errors), style="bold red")


class NewExportScreen(ModalScreen[ExportRequest | None]):
    """Gathers the options of one export and returns them with ``dismiss`` (it starts nothing)."""

    BINDINGS = [
        Binding("enter", "start", "Start", priority=True, id="start_export", tooltip="Start the export"),
        Binding("escape", "cancel", "Cancel", id="cancel_dialog"),
        Binding("p", "choose", "Choose content…", id="choose_content"),
    ]

    def __init__(self, backend: Backend, course: CourseSummary, groups: list[dict[str, Any]], user_id: int):
        super().__init__()
        self.backend, self.course, self.groups, self.user_id = backend, course, groups, user_id
        self.reasons = type_reasons(course)
        self.select: dict[str, Any] | None = None
        self.ticked: set[Key] = set()
        self.picked_in: tuple[ContextType, int] | None = None  # the context the ticks were made in
        self.errors: list[str] = []

    def compose(self) -> ComposeResult:
        default = "common_cartridge" if "common_cartridge" not in self.reasons else "zip"
        with Vertical(id="dialog"):
            yield Label(f"New export — {self.course.course_code}: {self.course.name}", id="dialog-title")
            with Horizontal(id="choices"):
                with ChoiceSet(id="type", compact=True):
                    for value, label in EXPORT_TYPES.items():
                        yield Choice(label, value=value == default, disabled=value in self.reasons, id=f"type-{value}")
                with ChoiceSet(id="scope", compact=True):
                    if self.course is not MY_FILES:
                        yield Choice("the course", value=True, id="scope-course")
                    for g in self.groups:
                        yield Choice(f"group: {g['name']}", id=f"scope-group-{g['id']}")
                    yield Choice("my user files", value=self.course is MY_FILES, id="scope-user")
            by_reason: dict[str, list[str]] = {}
            for kind, why in self.reasons.items():
                by_reason.setdefault(why, []).append(EXPORT_TYPES[kind])
            reasons = [f"{', '.join(kinds)}: {why}" for why, kinds in by_reason.items()]
            yield Static(Text("\n".join(reasons), style="italic"), id="type-reasons")
            yield Tick("skip notifications", id="skip", compact=True)
            with Horizontal(id="content-row"):
                yield Button("Choose content… (p)", id="choose", compact=True)
                yield Static(id="content-summary")
            yield Static(id="validation")
            with Horizontal(id="buttons"):
                yield Button("Start ⏎", variant="primary", id="start", compact=True)
                yield Button("Cancel esc", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#type", ChoiceSet).focus()
        self.changed()

    # -- the gathered options
    @property
    def kind(self) -> str:
        pressed = self.query_one("#type", ChoiceSet).pressed_button
        return pressed.id.removeprefix("type-") if pressed and pressed.id else "zip"

    @property
    def context(self) -> tuple[ContextType, int]:
        pressed = self.query_one("#scope", ChoiceSet).pressed_button
        scope = pressed.id if pressed and pressed.id else "scope-course"
        if scope.startswith("scope-group-"):
            return ContextType.GROUP, int(scope.removeprefix("scope-group-"))
        if scope == "scope-user":
            return ContextType.USER, self.user_id
        return ContextType.COURSE, self.course.id

    def request(self) -> ExportRequest:
        context_type, context_id = self.context
        select = self.select if self.picker_reason() is None else None
        return ExportRequest(self.course, self.kind, self.backend, context_type, context_id, select,
                             self.query_one("#skip", Tick).value)  # fmt: skip

    def picker_reason(self) -> str | None:
        if self.kind == "epub":
            return "an ePub always holds the whole course"
        return None

    @on(ChoiceSet.Changed)
    @on(Tick.Changed)
    def changed(self) -> None:
        if self.context != self.picked_in:  # what was ticked belongs to another course, group or user
            self.select, self.ticked, self.picked_in = None, set(), self.context
        reason = self.picker_reason()
        self.query_one("#choose", Button).disabled = reason is not None
        if reason:
            summary = f"content: {reason}"
        elif self.select:
            summary = "content: " + ", ".join(f"{k} ×{len(v)}" for k, v in self.select.items())
        else:
            summary = "content: everything this type carries"
        self.query_one("#content-summary", Static).update(Text(summary))
        self.validate()

    def validate(self, then=None) -> None:
        req = self.request()
        if req.kind == "epub":
            self.show_errors([] if "epub" not in self.reasons else [f"ePub: {self.reasons['epub']}"], then)
            return
        in_thread(self, "validate", self.backend.validate_select, req.context_type, req.context_id, req.kind,
                  req.select, then=lambda errors: self.show_errors(errors, then),
                  on_error=lambda msg: self.show_errors([msg], then))  # fmt: skip

    def show_errors(self, errors: list[str], then=None) -> None:
        self.errors = errors
        self.query_one("#validation", Static).update(validation_text(errors))
        if then is not None:
            then()

    # -- actions
    def action_start(self) -> None:
        def done() -> None:
            if self.errors:
                self.app.bell()
                self.notify("\n".join(self.errors), title="Cannot start this export", severity="error")
            else:
                self.dismiss(self.request())

        self.validate(then=done)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_choose(self) -> None:
        if self.picker_reason() is not None:
            self.notify(self.picker_reason() or "", title="No content choice")
            return

        def picked(result: tuple[dict[str, Any] | None, set[Key]] | None) -> None:
            if result is not None:
                self.select, self.ticked = result
                self.changed()

        screen = PickerScreen(self.backend, self.course, self.kind, self.ticked, self.context, self.scope_label())
        self.app.push_screen(screen, picked)

    def scope_label(self) -> str:
        pressed = self.query_one("#scope", ChoiceSet).pressed_button
        return str(pressed.label) if pressed is not None else "the course"

    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#choose")
    def _choose(self) -> None:
        self.action_choose()


class PickerScreen(ModalScreen[tuple[dict[str, Any] | None, set[Key]] | None]):
    """Tick content; beside the tree, the ``select`` hash it builds and the engine's verdict."""

    BINDINGS = [
        Binding("enter", "confirm", "Use selection", priority=True, id="confirm_selection"),
        Binding("escape", "back", "Back", id="picker_back"),
        Binding("slash", "filter", "Filter", id="picker_filter"),
    ]

    def __init__(self, backend: Backend, course: CourseSummary, kind: str, ticked: set[Key] | None = None,
                 context: tuple[ContextType, int] | None = None, scope: str = "the course"):  # fmt: skip
        super().__init__()
        self.backend, self.course, self.kind, self.scope = backend, course, kind, scope
        self.context = context or (ContextType.COURSE, course.id)
        self.initial = set(ticked or ())
        self.model: TickModel | None = None
        self.errors: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            where = self.course.course_code
            if self.context[0] is not ContextType.COURSE:
                where += f" · {self.scope}"
            yield Label(f"Choose content — {where} · {EXPORT_TYPES.get(self.kind, self.kind)}", id="picker-title")
            yield Input(placeholder="filter items (esc to close)", id="picker-filter", compact=True)
            with Horizontal(id="picker-body"):
                yield Static("loading…", id="picker-loading")
                with VerticalScroll(id="picker-side"):
                    yield Label("select, as the API receives it", classes="side-title")
                    yield Static(id="select-preview")
                    yield Label("engine's check", classes="side-title")
                    yield Static(id="select-validation")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#picker-filter").display = False
        in_thread(self, "content", self.load, then=self.loaded)

    def load(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The content, and which branches this export type cannot carry (asked of the engine).

        A group or a user has only files: their picker shows the Files branch alone."""
        if self.context[0] is not ContextType.COURSE:
            return self.backend.context_files(*self.context), {}
        content = self.backend.content_list(self.course.id)
        return content, branch_reasons(self.backend.allowed_select_types(*self.context, self.kind))

    def loaded(self, result: tuple[dict[str, Any], dict[str, str]]) -> None:
        content, disabled = result
        self.model = TickModel(content)
        self.model.ticked = {k for k in self.initial if k in self.model.items}
        tree = ContentTree(self.model, id="content-tree")
        tree.disabled_types = disabled
        if self.context[0] is not ContextType.COURSE:
            tree.branches = ["folders"]
        self.query_one("#picker-loading").remove()
        self.query_one("#picker-body").mount(tree, before=0)
        tree.rebuild()
        tree.focus()
        self.refresh_select()

    @property
    def select(self) -> dict[str, Any] | None:
        return (self.model.select() or None) if self.model else None

    @on(ContentTree.Ticked)
    def refresh_select(self) -> None:
        select = self.select
        self.query_one("#select-preview", Static).update(Text(select_preview(select)))
        in_thread(self, "validate", self.backend.validate_select, *self.context, self.kind, select,
                  then=self.show_errors, on_error=lambda msg: self.show_errors([msg]))  # fmt: skip

    def show_errors(self, errors: list[str]) -> None:
        self.errors = errors
        self.query_one("#select-validation", Static).update(validation_text(errors))

    def action_confirm(self) -> None:
        if self.model is None:
            return
        select = self.select

        def verdict(errors: list[str]) -> None:
            self.show_errors(errors)
            if errors:
                self.app.bell()
                self.notify("\n".join(errors), title="The engine refuses this selection", severity="error")
            else:
                self.dismiss((select, set(self.model.ticked)))

        in_thread(self, "validate", self.backend.validate_select, *self.context, self.kind, select,
                  then=verdict, on_error=lambda msg: verdict([msg]))  # fmt: skip

    def action_filter(self) -> None:
        box = self.query_one("#picker-filter", Input)
        box.display = True
        box.focus()

    def action_back(self) -> None:
        box = self.query_one("#picker-filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            if self.query(ContentTree):
                self.query_one(ContentTree).focus()
        else:
            self.dismiss(None)

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        if self.query(ContentTree):
            self.query_one(ContentTree).rebuild(event.value)


EPUB_COLUMNS = [("course", "Course", 10), ("state", "State", 12), ("progress", "Progress", 15),
                ("updated", "Updated (UTC)", 16), ("file", "ePub file", 72)]  # fmt: skip


class EpubScreen(Screen):
    """The latest ePub of each of your courses; generate or regenerate with one key."""

    BINDINGS = [
        Binding("g", "generate", "Generate ePub", id="generate_epub", tooltip="Create or regenerate the ePub"),
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
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#epubs", DataTable)
        for key, label, width in EPUB_COLUMNS:
            table.add_column(label, key=key, width=width)
        table.focus()
        self.app.watch_epubs = True
        self.app.wake_poller()

    def on_unmount(self) -> None:
        self.app.watch_epubs = False

    def show(self, items: list[dict[str, Any]], progress: dict[int, dict[str, Any]]) -> None:
        table = self.query_one("#epubs", DataTable)
        self.progress.update(progress)
        for item in items:
            key = str(item["id"])
            self.items[item["id"]] = item
            ep = item.get("epub_export") or {}
            state = ep.get("workflow_state")
            course = self.courses.get(item["id"])
            cells = [
                course.course_code if course else item["name"],
                state_text(state) if ep else "– none yet",
                bar((self.progress.get(ep.get("id") or 0) or {}).get("completion")) if is_running(state) else "",
                short_time(ep.get("updated_at")),
                (ep.get("epub_attachment") or {}).get("path", ""),
            ]
            if key not in table.rows:
                table.add_row(*cells, key=key)
            else:
                for (column, _, _), value in zip(EPUB_COLUMNS, cells):
                    if table.get_cell(key, column) != value:
                        table.update_cell(key, column, value)
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
                text.append(f"ePub {ep['id']} · {state_text(ep.get('workflow_state'))}")
                text.append(f" · {prog.get('message')}\n" if prog.get("message") else "\n")
                text.append(f"epub: {(ep.get('epub_attachment') or {}).get('path') or '(none yet)'}\n")
                text.append(f"zip:  {(ep.get('zip_attachment') or {}).get('path') or '(none yet)'}\n")
                for error in ep.get("errors") or []:
                    text.append(f"✗ {error}\n", style="bold red")
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
        self.app.start_epub(item["id"], skip_notifications=False)

    def action_copy_path(self) -> None:
        ep = (self.selected or {}).get("epub_export") or {}
        self.app.copy_path((ep.get("epub_attachment") or {}).get("path"))

    def action_refresh(self) -> None:
        self.app.wake_poller()

    def action_back(self) -> None:
        self.app.pop_screen()


class HelpScreen(ModalScreen[None]):
    """Every key, per area, as the keymap in force has them."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="close_help")]

    def __init__(self, rows: list[tuple[str, str, str]]):
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Label("Keys (remap them in the [keys] table of config.toml, by id)", id="help-title")
            table = DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("Where", "Key", "Does", "id")
            yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for row in self.rows:
            table.add_row(*row)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)

"""The new-export dialog: type, scope, notifications, and the engine's verdict on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from ...backends.base import Backend, CourseSummary
from ...model import ContextType
from ...vocab import CONTENT_FORMATS, FORMAT_BY_NAME, formats_for
from ..format import EXPORT_TYPES
from ..selection import Key
from ..widgets import MY_FILES, Choice, ChoiceSet, KeysFooter, Tick
from ..work import in_thread
from .picker import PickerScreen, validation_text

#: The dialog's Common Cartridge versions (``vocab.FORMATS``); it starts on the newest, 1.3:
#: both validate against their IMS schemas, and 1.3 carries assignments as IMS assignments.
#: (The API and the CLI keep Canvas's default when none is given, the format's first: 1.1.)
VERSIONS = FORMAT_BY_NAME["common_cartridge"].versions
DEFAULT_VERSION = VERSIONS[-1]


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
    version: str | None = None  # a Common Cartridge's version ("1.3.0"); None: the type has none


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
                        yield Choice(
                            label, value=value == default, disabled=value in self.reasons, id=f"type-{value}"
                        )
                with ChoiceSet(id="scope", compact=True):
                    if self.course is not MY_FILES:
                        yield Choice("the course", value=True, id="scope-course")
                    for g in self.groups:
                        yield Choice(f"group: {g['name']}", id=f"scope-group-{g['id']}")
                    yield Choice("my user files", value=self.course is MY_FILES, id="scope-user")
                yield Static(
                    Text("the course: an ePub exists only for courses", style="italic"), id="scope-note"
                )
                with ChoiceSet(id="version", compact=True):
                    for v in VERSIONS:
                        short = v.removesuffix(".0")
                        yield Choice(
                            f"CC {short}", value=v == DEFAULT_VERSION, id=f"version-{short.replace('.', '_')}"
                        )
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
        yield KeysFooter()

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
        return self.context_of(pressed.id if pressed and pressed.id else "scope-course")

    def context_of(self, scope: str) -> tuple[ContextType, int]:
        if scope.startswith("scope-group-"):
            return ContextType.GROUP, int(scope.removeprefix("scope-group-"))
        if scope == "scope-user":
            return ContextType.USER, self.user_id
        return ContextType.COURSE, self.course.id

    def fit_scopes(self) -> None:
        """Offer only the scopes the chosen type can be made in (``vocab.FORMATS``' contexts):
        an ePub has no scope to choose (courses only), a cartridge or QTI no group or user one."""
        fmt = FORMAT_BY_NAME.get(self.kind)
        allowed = set(fmt.contexts) if fmt else {ContextType.COURSE.value}
        scopes = self.query_one("#scope", ChoiceSet)
        for choice in scopes.query(Choice):
            choice.disabled = self.context_of(choice.id or "")[0].value not in allowed
        pressed = scopes.pressed_button
        if pressed is not None and pressed.disabled and self.query("#scope-course"):
            scopes.choose(self.query_one("#scope-course", Choice))
        epub = self.kind == "epub"
        scopes.display = not epub
        self.query_one("#version").display = bool(fmt and fmt.versions)
        self.query_one("#scope-note").display = epub

    @property
    def version(self) -> str | None:
        """The chosen version, for a type that has versions (a cartridge)."""
        fmt = FORMAT_BY_NAME.get(self.kind)
        if fmt is None or not fmt.versions:
            return None
        pressed = self.query_one("#version", ChoiceSet).pressed_button
        label = str(pressed.label).removeprefix("CC ") if pressed is not None else None
        return fmt.version(label)

    def request(self) -> ExportRequest:
        context_type, context_id = self.context
        select = self.select if self.picker_reason() is None else None
        return ExportRequest(
            self.course,
            self.kind,
            self.backend,
            context_type,
            context_id,
            select,
            self.query_one("#skip", Tick).value,
            self.version,
        )

    def picker_reason(self) -> str | None:
        if self.kind == "epub":
            return "an ePub always holds the whole course"
        return None

    @on(ChoiceSet.Changed)
    @on(Tick.Changed)
    def changed(self) -> None:
        self.fit_scopes()
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
        in_thread(
            self,
            "validate",
            self.backend.validate_select,
            req.context_type,
            req.context_id,
            req.kind,
            req.select,
            then=lambda errors: self.show_errors(errors, then),
            on_error=lambda msg: self.show_errors([msg], then),
        )

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

        screen = PickerScreen(
            self.backend, self.course, self.kind, self.ticked, self.context, self.scope_label()
        )
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

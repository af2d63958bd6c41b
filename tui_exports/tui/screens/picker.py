"""The content picker: a tree per ``select`` type that builds the ``select`` hash."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ...backends.base import Backend, CourseSummary
from ...model import ContextType
from ...vocab import FORMAT_BY_NAME, SELECT_BY_KEY, SELECT_VOCAB
from ..format import EXPORT_TYPES, SELECT_BRANCHES, select_preview
from ..selection import BRANCH_OF, Key, TickModel
from ..widgets import ContentTree, KeysFooter
from ..work import in_thread


def branch_reasons(allowed: dict[str, str | None]) -> dict[str, str]:
    """The picker's branches an export type cannot carry, with why (from ``allowed_select_types``)."""
    return {t.api: why for t in SELECT_VOCAB if t.heading and (why := allowed.get(t.key))}


def own_branches(kind: str, ticked: set[Key] = frozenset()) -> set[str]:
    """The branches the picker opens with: those of the types the export type carries
    (Quizzes for QTI, Files for zip; none for a cartridge, which carries all), and those
    holding what was ticked before."""
    fmt = FORMAT_BY_NAME.get(kind)
    carried = fmt.select_types if fmt and fmt.select_types is not None else ()
    return {SELECT_BY_KEY[k].branch for k in carried if k in SELECT_BY_KEY} | {
        BRANCH_OF.get(api, api) for api, _ in ticked
    }


def validation_text(errors: list[str]) -> Text:
    if not errors:
        return Text("✓ the engine accepts this request", style="green")
    return Text("\n".join(f"✗ {e}" for e in errors), style="bold red")


class PickerScreen(ModalScreen[tuple[dict[str, Any] | None, set[Key]] | None]):
    """Tick content; beside the tree, the ``select`` hash it builds and the engine's verdict."""

    BINDINGS = [
        Binding("enter", "confirm", "Use selection", priority=True, id="confirm_selection"),
        Binding("escape", "back", "Back", id="picker_back"),
        Binding("slash", "filter", "Filter", id="picker_filter"),
    ]

    def __init__(
        self,
        backend: Backend,
        course: CourseSummary,
        kind: str,
        ticked: set[Key] | None = None,
        context: tuple[ContextType, int] | None = None,
        scope: str = "the course",
    ):
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
            yield Label(
                f"Choose content — {where} · {EXPORT_TYPES.get(self.kind, self.kind)}", id="picker-title"
            )
            yield Input(placeholder="filter items (esc to close)", id="picker-filter", compact=True)
            with Horizontal(id="picker-body"):
                yield Static("loading…", id="picker-loading")
                with VerticalScroll(id="picker-side"):
                    yield Label("select, as the API receives it", classes="side-title")
                    yield Static(id="select-preview")
                    yield Label("engine's check", classes="side-title")
                    yield Static(id="select-validation")
                    yield Label("greyed out", classes="side-title", id="greyed-title")
                    yield Static(id="greyed")
        yield KeysFooter()

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
        tree.open_branches = own_branches(self.kind, self.model.ticked)
        if self.context[0] is not ContextType.COURSE:
            tree.branches = ["folders"]
        self.show_greyed(disabled)
        self.query_one("#picker-loading").remove()
        self.query_one("#picker-body").mount(tree, before=0)
        tree.rebuild()
        tree.focus()
        self.refresh_select()

    def show_greyed(self, disabled: dict[str, str]) -> None:
        """The branches this type cannot carry, with why, whole (the tree's lines may be cut)."""
        by_reason: dict[str, list[str]] = {}
        for branch, heading in SELECT_BRANCHES.items():  # in the tree's order
            if branch in disabled:
                by_reason.setdefault(disabled[branch], []).append(heading)
        text = "\n".join(f"{', '.join(names)}: {why}" for why, names in by_reason.items())
        self.query_one("#greyed", Static).update(Text(text, style="italic"))
        self.query_one("#greyed").display = self.query_one("#greyed-title").display = bool(text)

    @property
    def select(self) -> dict[str, Any] | None:
        return (self.model.select() or None) if self.model else None

    @on(ContentTree.Ticked)
    def refresh_select(self) -> None:
        select = self.select
        self.query_one("#select-preview", Static).update(Text(select_preview(select)))
        in_thread(
            self,
            "validate",
            self.backend.validate_select,
            *self.context,
            self.kind,
            select,
            then=self.show_errors,
            on_error=lambda msg: self.show_errors([msg]),
        )

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

        in_thread(
            self,
            "validate",
            self.backend.validate_select,
            *self.context,
            self.kind,
            select,
            then=verdict,
            on_error=lambda msg: verdict([msg]),
        )

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

"""Widgets of the main screen and the picker: course list, export history, detail, content tree."""

from __future__ import annotations

import json
from typing import Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.widgets import (
    Checkbox,
    DataTable,
    Footer,
    Input,
    OptionList,
    ProgressBar,
    RadioButton,
    RadioSet,
    Static,
    Tree,
)
from textual.widgets.data_table import ColumnKey
from textual.widgets.option_list import Option
from textual.widgets.tree import TreeNode

from ..backends.base import CourseSummary
from .format import (
    SELECT_BRANCHES,
    SHORT_TYPES,
    api_fields,
    attachment_of,
    bar,
    course_dates,
    file_name,
    human_size,
    is_downloadable,
    is_failed,
    is_running,
    path_of,
    short_time,
    shown_state,
    state_text,
    was_canceled,
)
from .selection import BRANCH_OF, Key, TickModel

TICKS = {"all": "☑", "none": "☐", "some": "◐"}


class KeysFooter(Footer):
    """Textual's footer, rebuilt only when the keys it would show have changed, and drawn in
    its compact mode with the default spacing.

    Textual rebuilds its footer (a widget per key, each styled anew) whenever a screen says its
    bindings may have changed: on every focus move, screen switch or refresh of bindings. Most
    of those leave the keys as they were (moving between panes with the same keys, the start's
    several focus settlings); styling the same keys again was a third of an app start's CPU.
    And a ``FooterKey`` starts compact and is then bound to its footer's ``compact``: under a
    default footer every key built was restyled twice more (the class added, then removed).
    Compact from the start, nothing toggles; the rules below give back the default spacing.
    """

    DEFAULT_CSS = """
    KeysFooter.-compact {
        FooterKey { margin-right: 0; }
        FooterLabel { margin: 0 1 0 0; }
        FooterKey.-command-palette { padding-right: 1; }
        FooterKey.-compact .footer-key--key { padding: 0 1; }
        FooterKey.-compact .footer-key--description { padding: 0 1 0 0; }
        /* the palette's key is never bound to the footer: compact under either */
        FooterKey.-command-palette.-compact .footer-key--key { padding: 0; }
        FooterKey.-command-palette.-compact .footer-key--description { padding: 0 0 0 1; }
    }
    """

    _shown: list[Any] | None = None  # the active bindings the keys were last built from

    def __init__(self, *, show_command_palette: bool = True) -> None:
        super().__init__(show_command_palette=show_command_palette, compact=True)

    def _active(self) -> list[Any]:
        """What ``Footer.compose`` builds its keys from: the shown bindings, and the palette's."""
        palette = self.app.COMMAND_PALETTE_BINDING if self.show_command_palette else None
        return [
            (key, b.binding, b.enabled, b.tooltip)
            for key, b in self.screen.active_bindings.items()
            if b.binding.show or key == palette
        ]

    def compose(self):
        if self._bindings_ready:
            self._shown = self._active()
        return super().compose()

    async def recompose(self) -> None:
        if self._shown is not None and self.is_attached and self._active() == self._shown:
            return
        await super().recompose()


class Choice(RadioButton):
    """A radio button whose state is a glyph (``●`` chosen, blank not), not colour alone."""

    @property
    def _button(self):
        self.BUTTON_INNER = "●" if self.value else " "
        return super()._button


class Tick(Checkbox):
    """A checkbox drawn ``✓`` when ticked and blank when not (Textual draws ``X`` for both)."""

    @property
    def _button(self):
        self.BUTTON_INNER = "✓" if self.value else " "
        return super()._button


class ChoiceSet(RadioSet):
    """A radio group where the arrows choose, as in GUI radio groups.

    Textual's RadioSet moves a highlight with the arrows and chooses with enter or space;
    in a dialog where enter means Start, that started exports of a type the person had
    only highlighted. Here what is highlighted is what is chosen.
    """

    BINDINGS = [
        Binding("down,right", "step(1)", "Next option", show=False),
        Binding("up,left", "step(-1)", "Previous option", show=False),
    ]

    def on_mount(self) -> None:
        self.call_after_refresh(self._highlight_pressed)

    def _highlight_pressed(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index

    def choose(self, button: RadioButton) -> None:
        """Press this button from code, even while handling another set's ``Changed``
        (whose handlers run with the buttons' own change messages muted)."""
        if self._pressed_button is not None and self._pressed_button is not button:
            with self.prevent(RadioButton.Changed):
                self._pressed_button.value = False
        with self.prevent(RadioButton.Changed):
            button.value = True
        self._pressed_button = button
        self._selected = list(self.query(RadioButton)).index(button)
        self.post_message(self.Changed(self, button))

    def action_step(self, step: int) -> None:
        if step > 0:
            self.action_next_button()
        else:
            self.action_previous_button()
        self.action_toggle_button()


def course_prompt(c: CourseSummary, one_line: bool = False) -> Text:
    """Three lines beside the history; one line when the list is stacked above it (80 columns)."""
    text = Text()
    text.append(c.course_code, style="bold")
    if c.concluded:
        text.append(" ■ concluded", style="italic")
    dates = c.term or course_dates(c.start_at, c.end_at)
    if one_line:
        text.append(f" · {c.name}")
        text.append(f" · {c.role or 'no role'}" + (f" · {dates}" if dates else ""), style="dim")
        return text
    text.append(f" · {c.role or 'no role'}\n", style="dim")
    text.append(c.name + "\n")
    text.append(dates, style="italic dim")
    return text


#: The last entry of the course list: the person's own files, whose exports are zips of
#: the user context (``/users/:id/content_exports``), not of any course.
MY_FILES = CourseSummary(id=0, name="your user files (zip exports)", course_code="My files", role="yours")


#: Courses read and shown at once. Textual measures every option it is given (a course costs
#: a filter keystroke its time whether it is in view or not): a page fills a tall terminal,
#: and the next page is read as the highlight comes near the last course shown.
PAGE = 30
NEAR_END = 5  # courses before the last one shown at which the next page is asked for


class FilterBox(Input):
    """The course filter: Textual's ``Input``, whose virtual size follows its text without a
    layout pass of the whole screen on every key (the box keeps its size; only the text moves)."""

    def _watch_value(self, value: str) -> None:
        self.set_reactive(Input.virtual_size, Size(self.content_width, 1))  # what Input sets next
        super()._watch_value(value)


class CourseList(OptionList):
    """The courses a ``CourseCatalogue`` gives for what is typed in ``#course-filter``, a page
    at a time: the courses shown, a line saying how many more the filter found, *My files*."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="open_history", tooltip="Move to the export history", show=False),
        Binding("j", "cursor_down", "Down", show=False, id="course_down"),
        Binding("k", "cursor_up", "Up", show=False, id="course_up"),
    ]

    class NeedMore(Message):
        """The highlight came near the last course shown, and the filter found more."""

        def __init__(self, shown: int):
            super().__init__()
            self.shown = shown  # courses shown: the next page starts there

    courses: list[CourseSummary] = []
    found = 0  # how many courses the filter (or no filter) reaches
    filter_text = ""  # what the courses were found for
    one_line = False  # set by the main screen when the list is stacked above the history
    _by_id: dict[str, CourseSummary] = {}
    _asked = 0  # the length of ``courses`` when the next page was last asked for

    def set_courses(
        self, courses: list[CourseSummary], found: int | None = None, query: str = "", want: int | None = None
    ) -> bool:
        """The courses a filter found (a page of them, :data:`PAGE`), then a line saying how
        many more of the ``found`` it reaches.  The highlight stays where it was, or goes to
        course ``want``; False when that one is not shown."""
        current = self.highlighted_course
        wanted = str(want if want is not None else current.id if current else "")
        self.found = len(courses) if found is None else found
        self.filter_text, self._asked = query, 0
        self.courses = []
        self._by_id = {str(MY_FILES.id): MY_FILES}
        options = self._made_options(courses, [])
        self.set_options(options)
        ids = [o.id for o in options]
        if options:
            self.highlighted = ids.index(wanted) if wanted in ids else 0
        return wanted in ids

    def add_courses(self, more: list[CourseSummary]) -> None:
        """The next page of what the filter found, after the courses shown; the highlight and
        the scroll stay where they are."""
        if not more:
            return
        y, highlighted = self.scroll_y, self.highlighted
        self.set_options(self._made_options(more, list(self.options[: len(self.courses)])))
        self.scroll_y = y
        self.highlighted = highlighted

    def _made_options(self, courses: list[CourseSummary], shown: list[Option]) -> list[Option]:
        """``shown`` (options already made for ``self.courses``), then ``courses``' own, the
        line counting the rest, and *My files* when the filter's text reaches it."""
        self.courses = [*self.courses, *courses]
        self._by_id.update((str(c.id), c) for c in courses)
        options = [*shown, *(Option(course_prompt(c, self.one_line), id=str(c.id)) for c in courses)]
        if self.found > len(self.courses):
            more = f"… {self.found - len(self.courses):,} more courses: press / to filter"
            options.append(Option(Text(more, style="italic dim"), id="more", disabled=True))
        q = self.filter_text.casefold().strip()
        if not q or q in f"{MY_FILES.course_code} {MY_FILES.name}".casefold():
            options.append(Option(course_prompt(MY_FILES, self.one_line), id=str(MY_FILES.id)))
        return options

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        shown = len(self.courses)
        if (
            highlighted is not None
            and highlighted >= shown - NEAR_END
            and self.found > shown
            and self._asked < shown
        ):
            self._asked = shown
            self.post_message(self.NeedMore(shown))

    @property
    def highlighted_course(self) -> CourseSummary | None:
        if self.highlighted is None or not self.option_count:
            return None
        return self._by_id.get(self.get_option_at_index(self.highlighted).id or "")

    def action_open(self) -> None:
        self.screen.query_one("#history").focus()


def put_row(table: DataTable, columns: list[tuple[str, str, int]], key: str, cells: list[Any]) -> None:
    """A keyed table refreshed by diff: the row added when new, else only its changed cells
    updated (a full redraw on every poll would flicker and cost the keypress it met)."""
    if key not in table.rows:
        table.add_row(*cells, key=key)
        return
    for (column, _, _), value in zip(columns, cells, strict=True):
        if table.get_cell(key, column) != value:
            table.update_cell(key, column, value)


#: The size column shows a progress bar while the export runs (it has no size yet).
HISTORY_COLUMNS = [
    ("id", "#", 4),
    ("type", "Type", 9),
    ("state", "State", 11),
    ("created", "Created (UTC)", 16),
    ("size", "Size/progress", 13),
    ("path", "File", 72),
]
MIN_FILE_WIDTH = 12


def history_cells(
    export: dict[str, Any], progress: dict[str, Any] | None, download: tuple[float, str] | None = None
) -> list[Any]:
    """A history row; ``download`` is (percent, file name) while its finished file comes down."""
    state = export.get("workflow_state")
    completion = download[0] if download else (progress or {}).get("completion") or 0.0
    att = export.get("attachment") or {}
    kind = SHORT_TYPES.get(export.get("export_type", ""), export.get("export_type", ""))
    shown = shown_state(export, progress)
    moving = is_running(state) and shown != "canceled"  # canceled on Canvas: the export stays exporting
    return [
        int(export["id"]),
        f"{kind}·group" if export.get("_scope") else kind,
        state_text(shown),
        short_time(export.get("created_at")),
        bar(completion, 7) if moving or download else human_size(att.get("size")) if att else "",
        Text(file_name(path_of(export)), no_wrap=True, overflow="ellipsis"),
    ]


class HistoryTable(DataTable):
    """The export history of one course, newest first: a keyed table refreshed by diff."""

    BINDINGS = [
        Binding("enter", "open", "Details", id="open_detail", tooltip="Move to the detail panel", show=False),
        Binding("j", "cursor_down", "Down", show=False, id="history_down"),
        Binding("k", "cursor_up", "Up", show=False, id="history_up"),
    ]

    def __init__(self, **kwargs: Any):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.exports: dict[str, dict[str, Any]] = {}
        self.progress: dict[str, dict[str, Any]] = {}
        self.downloads: dict[str, tuple[float, str]] = {}  # key → (percent, file name) while downloading
        self.course_id: int | None = None
        self.wanted: str | None = None  # the row to highlight once it appears (a new export)

    def on_mount(self) -> None:
        for key, label, width in HISTORY_COLUMNS:
            self.add_column(label, key=key, width=width)

    def on_resize(self) -> None:
        """The File column takes the width left (no sideways scrolling at 80 columns); long
        names end in … there, and the detail panel shows the whole path."""
        others = sum(c.get_render_width(self) for k, c in self.columns.items() if k.value != "path")
        column = self.columns.get(ColumnKey("path"))
        wanted = max(MIN_FILE_WIDTH, self.scrollable_content_region.width - others - 2 * self.cell_padding)
        if column is None or column.width == wanted:
            return
        column.width = wanted
        self.virtual_size = Size(others + column.get_render_width(self), self.virtual_size.height)
        self._clear_caches()
        self.refresh()

    def show(
        self, course_id: int | None, exports: list[dict[str, Any]], progress: dict[int, dict[str, Any]]
    ) -> None:
        if course_id != self.course_id:
            self.clear()
            self.exports, self.progress, self.downloads = {}, {}, {}
            self.course_id = course_id
        selected = self.selected_key
        fresh = {str(e["id"]): e for e in exports}
        added = False
        for key in [k for k in self.exports if k not in fresh]:
            self.remove_row(key)
            self.exports.pop(key)
        for key, export in fresh.items():
            prog = progress.get(int(key)) or self.progress.get(key)
            self.set_row(key, export, prog)
            added = added or key not in self.exports
            self.exports[key] = export
        if added:
            self.sort("id", reverse=True)
        if self.wanted in self.exports:  # an export just started here: show it
            selected, self.wanted = self.wanted, None
        if selected in self.exports:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def set_row(self, key: str, export: dict[str, Any], progress: dict[str, Any] | None) -> None:
        cells = history_cells(export, progress, self.downloads.get(key))
        if progress is not None:
            self.progress[key] = progress
        put_row(self, HISTORY_COLUMNS, key, cells)

    def finished(self, export: dict[str, Any]) -> None:
        """The export ended (and its file is on disk): drop its bar, show its size and file."""
        key = str(export.get("id"))
        self.progress.pop(key, None)
        self.downloads.pop(key, None)
        if key in self.exports:
            self.exports[key] = dict(self.exports[key], **export)
            self.set_row(key, self.exports[key], None)

    def update_progress(self, export_id: int, progress: dict[str, Any]) -> None:
        key = str(export_id)
        if key in self.exports:
            self.set_row(key, self.exports[key], progress)

    def update_download(self, export_id: int, percent: float, name: str) -> None:
        """The finished export's file is being fetched: the bar shows the bytes."""
        key = str(export_id)
        self.downloads[key] = (percent, name)
        if key in self.exports:
            self.set_row(key, self.exports[key], self.progress.get(key))

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    @property
    def selected(self) -> dict[str, Any] | None:
        key = self.selected_key
        return self.exports.get(key) if key else None

    @property
    def any_running(self) -> bool:
        return any(is_running(e.get("workflow_state")) for e in self.exports.values())

    def action_open(self) -> None:
        self.screen.query_one("#detail-file").focus()


class DetailPanel(VerticalScroll):
    """Every field of the highlighted export, its progress message, errors and file."""

    BINDINGS = [Binding("escape", "back", "Back to history", id="detail_back")]

    def compose(self):
        yield Static(id="detail-summary")
        yield FileLine(id="detail-file")
        yield ProgressBar(total=100, show_eta=False, id="detail-bar")
        yield Static(id="detail-json")

    _pending: tuple[dict[str, Any] | None, dict[str, Any] | None, tuple[float, str] | None] | None = None

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._shown: dict[str | None, tuple[Text, int]] = {}  # what each Static shows, and its height

    def on_mount(self) -> None:
        if self._pending is not None:
            self.show(*self._pending)

    def show(
        self,
        export: dict[str, Any] | None,
        progress: dict[str, Any] | None,
        download: tuple[float, str] | None = None,
    ) -> None:
        if not self.query("#detail-json"):  # not composed yet: show it once mounted
            self._pending = (export, progress, download)
            return
        summary, raw = self.query_one("#detail-summary", Static), self.query_one("#detail-json", Static)
        pbar = self.query_one("#detail-bar", ProgressBar)
        line = self.query_one("#detail-file", FileLine)
        if export is None:
            self._put(summary, Text("No export highlighted. Press n to start one.", style="dim"))
            self._put(line, Text(""))
            self._put(raw, Text(""))
            pbar.display = False
            return
        state = export.get("workflow_state")
        text = Text()
        kind = SHORT_TYPES.get(export.get("export_type", ""), export.get("export_type") or "ePub")
        scope = f" · {export['_scope']}" if export.get("_scope") else ""
        shown = state_text(shown_state(export, progress))
        text.append(f"Export {export['id']} · {kind}{scope} · {shown}\n", style="bold")
        self._put(line, file_line(export, download))
        canceled = was_canceled(export, progress)
        message = (progress or {}).get("message") or ""
        errors = export.get("errors") or []
        if not errors and (canceled or is_failed(state)) and message:
            errors, message = [message], ""  # Canvas keeps why a job failed only there
        if download:
            text.append(f"progress: {download[0]:.0f}% running — downloading {download[1]}\n")
        elif progress:
            word = "canceled" if canceled else progress.get("workflow_state", "")  # Progress says failed
            text.append(
                f"progress: {progress.get('completion', 0):.0f}% {word}{' — ' + message if message else ''}\n"
            )
        for error in errors:
            text.append(
                f"⊘ {error}\n" if canceled else f"✗ {error}\n", style="italic" if canceled else "bold red"
            )
        for warning in export.get("warnings") or []:
            text.append(f"⚠ {warning}\n", style="yellow")
        text.rstrip()
        self._put(summary, text)
        pbar.display = is_running(state) and not canceled
        pbar.update(progress=download[0] if download else (progress or {}).get("completion") or 0)
        self._put(raw, Text(json.dumps(api_fields(export), indent=2, ensure_ascii=False), style="dim"))

    def _put(self, static: Static, text: Text) -> None:
        """Update only what changed, and lay the screen out again only when the height may have:
        a progress message ticking four times a second must not reflow everything."""
        width = max(1, static.size.width)
        height = sum(max(1, -(-cell_len(line) // width)) for line in text.plain.split("\n"))
        before = self._shown.get(static.id)
        if before is not None and before[0] == text:
            return
        static.update(text, layout=before is None or before[1] != height)
        self._shown[static.id] = (text.copy(), height)


def file_line(export: dict[str, Any], download: tuple[float, str] | None = None) -> Text:
    """Where the export's file is: its local path, or what ``d`` (or ``enter`` here) fetches."""
    path, att = path_of(export), attachment_of(export)
    if path:
        return Text(f"file: {path}")
    if download:
        return Text(f"file: downloading {download[1]}…")
    if att and is_downloadable(export.get("workflow_state")):
        name = att.get("display_name") or att.get("filename") or "the file"
        size = human_size(att.get("size"))
        return Text.assemble(
            f"file: {name}{f' ({size})' if size else ''}, not on this disk yet — ",
            ("d", "bold"),
            " or ",
            ("enter", "bold"),
            " downloads it",
        )
    if is_running(export.get("workflow_state")):
        return Text("file: (none yet)")
    return Text("file: (none)")


class FileLine(Static, can_focus=True):
    """The detail's file line: ``enter`` downloads a file that is not on this disk yet."""

    BINDINGS = [
        Binding(
            "enter", "screen.download_export", "Download", id="download_file", tooltip="Download the file"
        )
    ]


class ContentTree(Tree[Key | str]):
    """The picker's tree: one branch per ``select`` type, ticks drawn in the labels."""

    BINDINGS = [
        Binding("right,l", "open_node", "Open", id="open_branch", tooltip="Open the branch (or go into it)"),
        Binding(
            "left,h", "close_node", "Close", id="close_branch", tooltip="Close the branch or go to its parent"
        ),
        Binding("space", "tick", "Tick", id="tick", tooltip="Tick or untick the item or the whole branch"),
        Binding(
            "a", "tick_all", "Tick all", id="tick_all", tooltip="Tick everything this export type carries"
        ),
        Binding("j", "cursor_down", "Down", show=False, id="tree_down"),
        Binding("k", "cursor_up", "Up", show=False, id="tree_up"),
    ]

    def __init__(self, model: TickModel, **kwargs: Any):
        super().__init__("content", **kwargs)
        self.show_root = False
        self.model = model
        self.disabled_types: dict[str, str] = {}  # branch → reason
        self.branches: list[str] = list(SELECT_BRANCHES)  # a group's or user's picker: files only
        self.open_branches: set[str] = set()  # opened when the tree is built (the export type's own)
        self.query_text = ""

    def rebuild(self, query: str = "") -> None:
        """Build the tree; the opened branches show their items (a lone top folder is opened
        too), and the cursor rests on the first item of the first one, or on the first branch."""
        self.query_text = q = query.casefold().strip()
        self.clear()
        first: TreeNode | None = None
        for branch in self.branches:
            opened = bool(q) or len(self.branches) == 1 or branch in self.open_branches
            node = self.root.add(SELECT_BRANCHES[branch], data=branch, expand=opened)
            for key in self.model.roots[branch]:
                self._add(node, key, q)
            if q and not node.children:
                node.remove()
                continue
            if opened and len(node.children) == 1 and node.children[0].allow_expand:
                node.children[0].expand()
            if first is None and opened and node.children:
                first = node.children[0]
        self.root.expand()
        if first is None and self.root.children:
            first = self.root.children[0]
        if first is not None:
            self.call_after_refresh(self._put_cursor, first)

    def _put_cursor(self, node: TreeNode) -> None:
        if node.tree is self and node._line >= 0:
            self.move_cursor(node, animate=False)

    def action_open_node(self) -> None:
        """Open a closed branch; on an open one, go to its first item (as in file managers)."""
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if not node.is_expanded:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0], animate=False)

    def action_close_node(self) -> None:
        """Close an open branch; on anything else, go to its parent."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent, animate=False)

    def _add(self, parent: TreeNode, key: Key, q: str) -> bool:
        item = self.model.items[key]
        if q and not any(q in self.model.items[k].title.casefold() for k in self.model.subtree(key)):
            return False
        if item.children:
            node = parent.add(item.title, data=key, expand=bool(q))
            for child in item.children:
                self._add(node, child, q)
        else:
            parent.add_leaf(item.title, data=key)
        return True

    def render_label(self, node: TreeNode, base_style: Style, style: Style) -> Text:
        data = node.data
        label = Text(style=base_style)
        if node.allow_expand:
            label.append(self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE, style="bold")
        title = node._label.plain
        if isinstance(data, str):  # a branch heading: the ticks and counts of the whole type
            done, total = self.model.count(data)
            label.append(f"{TICKS[self.model.branch_state(data)]} {title} ({done}/{total})", style=style)
            if data in self.disabled_types:
                label.append(f" — {self.disabled_types[data]}", style="italic")
                label.stylize("dim")
        elif data is not None:
            label.append(f"{TICKS[self.model.item_state(data)]} {title}", style=style)
            if BRANCH_OF.get(data[0], data[0]) in self.disabled_types:
                label.stylize("dim")
        return label

    def action_tick(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            return
        if isinstance(node.data, str):
            self.model.toggle(self.model.branch_keys(node.data))
        else:
            self.model.toggle_item(node.data)
        self._refresh_ticks()

    def action_tick_all(self) -> None:
        """Tick (or untick) everything of the types this export can carry; the greyed ones stay as they are."""
        self.model.toggle_all([b for b in self.branches if b not in self.disabled_types])
        self._refresh_ticks()

    def _refresh_ticks(self) -> None:
        self._invalidate()
        self.post_message(self.Ticked())

    class Ticked(Message):
        """The ticked set changed."""

"""The help screen: every key of the app, from its bindings."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from ..widgets import KeysFooter


class HelpScreen(ModalScreen[None]):
    """Every key, per area, as the keymap in force has them."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="close_help")]

    def __init__(self, rows: list[tuple[str, str, str, str]]):
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Label(Text("Keys (remap them in the [keys] table of config.toml, by id)"), id="help-title")
            table = DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("Where", "Key", "Does", "id")
            yield table
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)

"""A question with a few answers, each on a key; ``enter`` gives the default one."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class AskScreen(ModalScreen[Any]):
    """Asks ``question``; ``answers`` are (key, label, value). ``enter`` gives the first
    (the default) and ``escape`` gives ``on_escape``."""

    BINDINGS = [
        Binding("enter", "default", "Default", show=False, priority=True, id="ask_default"),
        Binding("escape", "escape", "Close", show=False, id="ask_escape"),
    ]

    def __init__(self, title: str, question: str, answers: list[tuple[str, str, Any]], on_escape: Any = None):
        super().__init__()
        self.title_text, self.question, self.answers, self.on_escape = title, question, answers, on_escape

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Label(self.title_text, id="ask-title")
            yield Static(Text(self.question), id="ask-question")
            lines = Text()
            for i, (key, label, _) in enumerate(self.answers):
                lines.append(f"  {key}{' / enter' if i == 0 else ''}", style="bold")
                lines.append(f"  {label}{'  (default)' if i == 0 else ''}\n")
            lines.append("  esc", style="bold")
            lines.append("  close, do nothing")
            yield Static(lines, id="ask-answers")

    def on_key(self, event) -> None:
        for key, _, value in self.answers:
            if event.key == key:
                event.stop()
                self.dismiss(value)
                return

    def action_default(self) -> None:
        self.dismiss(self.answers[0][2])

    def action_escape(self) -> None:
        self.dismiss(self.on_escape)

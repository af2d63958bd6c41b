"""Import a course into the local library (``i``): a path that completes as you type, a
progress bar, then what was kept and every warning.  The same dialog follows *Copy this
course into the local library* on a Canvas instance: Canvas writes the cartridge, it comes
down, and it is imported."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, ProgressBar, Static

from ...backends.base import BackendError, ImportResult
from ..work import in_thread

#: a job that imports, reporting ``(percent, what)`` as it goes: run on a worker thread
ImportJob = Callable[[Callable[[float, str], None]], ImportResult]

PATH_HINT = "a Common Cartridge (.imscc, .zip or its folder), a QTI zip or a course folder"
MAX_SHOWN_WARNINGS = 200  # the rest are counted; the CLI's `import --json` lists them all


class PathSuggester(Suggester):
    """Completes the last part of a path from what is on disk (``~`` understood); a folder
    gets its ``/``.  Right arrow or tab takes the suggestion."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value)


def complete_path(value: str) -> str | None:
    """``~/cour`` → ``~/courses/``: the first entry by name that the last part starts with
    (hidden ones only when asked for with a dot)."""
    head, sep, stem = value.rpartition("/")
    folder = Path(os.path.expanduser(head + sep)) if sep else Path(".")
    if not value or (not sep and value == "~"):
        return None
    try:
        names = sorted(e.name for e in os.scandir(folder) if e.name.startswith(stem))
    except OSError:
        return None
    if not stem.startswith("."):
        names = [n for n in names if not n.startswith(".")]
    if not names:
        return None
    tail = "/" if (folder / names[0]).is_dir() else ""
    return f"{head}{sep}{names[0]}{tail}"


class ImportScreen(ModalScreen[ImportResult | None]):
    """Asks for a path (or runs ``job`` at once), imports with a bar, then shows the report.
    Dismisses with the import's result (None when nothing was imported)."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="import_close"),
        Binding("tab", "complete", "Complete", show=False, id="import_complete"),
    ]

    def __init__(
        self,
        importer: Callable[[Path, Callable[[int, int | None, str], None]], ImportResult] | None = None,
        *,
        job: ImportJob | None = None,
        title: str = "Import a course into the local library",
    ):
        super().__init__()
        self.importer, self.job, self.title_text = importer, job, title
        self.result: ImportResult | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(id="import"):
            yield Label(self.title_text, id="import-title")
            yield Input(
                placeholder="path to the package (tab completes)",
                suggester=PathSuggester(),
                id="import-path",
            )
            yield Static(Text(PATH_HINT), id="import-hint")
            yield ProgressBar(total=100, show_eta=False, id="import-bar")
            yield Static("", id="import-what")
            with VerticalScroll(id="import-report"):
                yield Static("", id="import-text")
            yield Static(Text("enter import · esc close"), id="import-keys")

    def on_mount(self) -> None:
        self.query_one("#import-bar").display = False
        self.query_one("#import-report").display = False
        if self.job is not None:
            self.query_one("#import-path").display = False
            self.query_one("#import-hint").display = False
            self.start(self.job)
        else:
            self.query_one("#import-path", Input).focus()

    def action_complete(self) -> None:
        box = self.query_one("#import-path", Input)
        if box.has_focus and box._suggestion and box.cursor_at_end:
            box.value = box._suggestion
            box.cursor_position = len(box.value)

    @on(Input.Submitted, "#import-path")
    def submitted(self, event: Input.Submitted) -> None:
        if self.running or self.importer is None:
            return
        text = event.value.strip()
        if not text:
            self.say_error("Type the path of a package to import")
            return
        path = Path(os.path.expanduser(text))
        importer = self.importer

        def job(moved: Callable[[float, str], None]) -> ImportResult:
            return importer(
                path, lambda done, total, what: moved(100.0 * done / total if total else 0.0, what)
            )

        self.start(job)

    def start(self, job: ImportJob) -> None:
        self.running = True
        self.query_one("#import-bar").display = True
        self.query_one("#import-report").display = False
        self.query_one("#import-path", Input).disabled = True
        self.query_one("#import-keys", Static).update(Text("importing… (it goes on if you close this)"))
        app = self.app

        def moved(percent: float, what: str) -> None:
            app.call_from_thread(self.moved, percent, what)

        def guarded() -> ImportResult:
            try:
                return job(moved)
            except BackendError:
                raise
            except Exception as e:  # noqa: BLE001 - a full disk, a vanished file: said here, not a traceback
                raise BackendError(f"{type(e).__name__}: {e}") from e

        in_thread(self, "import", guarded, then=self.done, on_error=self.failed)

    def moved(self, percent: float, what: str) -> None:
        self.query_one("#import-bar", ProgressBar).update(progress=percent)
        self.query_one("#import-what", Static).update(Text(what, overflow="ellipsis", no_wrap=True))

    def done(self, result: ImportResult) -> None:
        self.running = False
        self.result = result
        self.query_one("#import-bar", ProgressBar).update(progress=100)
        course = result.course
        source = result.report.get("source")
        text = Text()
        text.append(f"Added course {course.id}: {course.name}", style="bold")
        text.append(f"\nfrom {source}" if source else "")
        counts = result.counts()
        text.append("\nkept " + (", ".join(counts) if counts else "nothing (the package held no content)"))
        warnings = result.warnings
        if warnings:
            text.append(f"\n\n{len(warnings)} warning{'s' * (len(warnings) != 1)}:", style="bold")
            for w in warnings[:MAX_SHOWN_WARNINGS]:
                text.append(f"\n• {w}")
            if len(warnings) > MAX_SHOWN_WARNINGS:
                text.append(
                    f"\n… and {len(warnings) - MAX_SHOWN_WARNINGS} more (`tui-exports import --json` lists them all)"
                )
        self.show_report(text, "enter / esc back to the courses, the new one highlighted")

    def failed(self, message: str) -> None:
        self.running = False
        self.query_one("#import-bar").display = False
        self.query_one("#import-what", Static).update("")
        self.say_error(message)
        box = self.query_one("#import-path", Input)
        box.disabled = False
        if box.display:
            box.focus()

    def say_error(self, message: str) -> None:
        self.show_report(Text(f"Not imported: {message}", style="bold red"), "enter import · esc close")

    def show_report(self, text: Text, keys: str) -> None:
        self.query_one("#import-text", Static).update(text)
        self.query_one("#import-report").display = True
        self.query_one("#import-keys", Static).update(Text(keys))

    def on_key(self, event: Any) -> None:
        if event.key == "enter" and self.result is not None:
            event.stop()
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(self.result)


def pull_job(remote: Any, local_opener: Callable[[], Any], course_id: int) -> ImportJob:
    """The job of *Copy this course into the local library*: follow the export Canvas writes
    (0–60 %), its download (60–80 %), then the import (80–100 %)."""
    from ...backends.pull import pull_course
    from ...model import ContextType

    def job(moved: Callable[[float, str], None]) -> ImportResult:
        def followed(progress: dict[str, Any], export: dict[str, Any]) -> None:
            done = float((progress or {}).get("completion") or 0)
            moved(0.6 * done, f"Canvas is writing the cartridge: {export.get('workflow_state', '')}")

        def fetched(_att: dict[str, Any], done: int, total: int | None) -> None:
            moved(60 + (20.0 * done / total if total else 0.0), "downloading the cartridge")

        def imported(done: int, total: int | None, what: str) -> None:
            moved(80 + (20.0 * done / total if total else 0.0), f"importing {what}")

        return pull_course(
            remote,
            local_opener(),
            course_id,
            follow=lambda ce: remote.follow("content", ContextType.COURSE, course_id, ce, followed),
            download=lambda ce: remote.download("content", ce, fetched),
            progress=imported,
        )

    return job

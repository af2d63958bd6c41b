"""The terminal app: courses on the left, their export history on the right, live."""

from __future__ import annotations

import gc
import re
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Provider
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, OptionList, Static
from textual.worker import Worker, WorkerState, get_current_worker

from ..backends.base import (
    Backend,
    BackendError,
    CourseCatalogue,
    CourseSummary,
    ImportResult,
    UserSummary,
    progress_id_of,
)
from ..backends.profiles import open_profile, profile_names
from ..config import Config, ConfigError, write_config
from ..model import ContextType, is_downloadable, is_failed, is_running
from ..paths import Home, bundled
from .format import SHORT_TYPES, attachment_of, path_of, was_canceled
from .screens import (
    AskScreen,
    BulkScreen,
    EpubScreen,
    ExportRequest,
    HelpScreen,
    ImportScreen,
    NewExportScreen,
    PickerScreen,
    pull_job,
)
from .widgets import (
    MY_FILES,
    PAGE,
    ContentTree,
    CourseList,
    DetailPanel,
    FileLine,
    FilterBox,
    HistoryTable,
    KeysFooter,
)
from .work import DownloadProgress, EpubsLoaded, ExportFinished, ExportProgress, HistoryLoaded, in_thread, nap

if TYPE_CHECKING:
    from ..backends.local import LocalBackend

STYLES = bundled("styles", "app.tcss")
FOLLOW_SECONDS = 0.25  # between reads of an export this app started and follows
LOCAL = "local library"
SETTLE_SECONDS = 0.1  # the highlight rests this long before the history follows it
BUSY_SECONDS = 0.5  # between readings of the history while an export runs
CHANGED_SECONDS = (
    0.1  # a resting poller of a source that tells of changes (the local library) reads this soon
)
IDLE_SECONDS = 2.0  # the first pause once nothing runs; doubled while nothing changes …
IDLE_MAX_SECONDS = 60.0  # … up to this
NARROW = 100
#: the longest ``run_tui`` pauses Python's cyclic collector at start (it runs again once the
#: list is shown: what the start made is then collected once, and what it keeps frozen)
COLLECTOR_PAUSE_MAX = 10.0
SHORT = 20  # below this height the course list shows fewer lines, so the history keeps its rows  # below this width the course list stacks above the history (see HORIZONTAL_BREAKPOINTS)


def titled(widget: Any, title: str) -> Any:
    widget.border_title = title
    return widget


def running(exports: list[dict[str, Any]], progress: dict[int, dict[str, Any]]) -> bool:
    """Something runs: an export still moving whose Progress was read and not canceled (Canvas
    leaves a canceled export ``exporting``); the poller reads less often while nothing does."""
    return any(
        is_running(e.get("workflow_state"))
        and int(e["id"]) in progress
        and not was_canceled(e, progress[int(e["id"])])
        for e in exports
    )


class MainScreen(Screen):
    BINDINGS = [
        Binding("n", "new_export", "New export", id="new_export", tooltip="Start an export of this course"),
        Binding("e", "epub", "ePub", id="epub_screen", tooltip="ePub exports of all your courses"),
        Binding(
            "i",
            "import_course",
            "Import",
            id="import",
            tooltip="Import a course package into the local library",
        ),
        Binding("slash", "filter", "Filter", id="filter", tooltip="Filter courses as you type"),
        Binding("c", "copy_path", "Copy", id="copy_path", tooltip="Copy the file path (OSC 52)"),
        Binding("d", "download_export", "Download", id="download_export", tooltip="Download the file"),
        Binding("x", "cancel_export", "Cancel export", id="cancel_export", show=False),
        Binding("r", "refresh", "Refresh", id="refresh", show=False),
        Binding(
            "s", "toggle_side", "Pane", id="toggle_side", show=False, tooltip="Hide or show the course list"
        ),
        Binding("escape", "back", "Back", id="back", show=False),
        Binding("b", "bulk", "Bulk runs", id="bulk_screen", show=False, tooltip="Runs of tui-exports bulk"),
    ]

    AUTO_FOCUS = "#courses"  # not the filter (hidden until ``/``): focus moving on restyles both

    def compose(self) -> ComposeResult:
        # built as first shown (titles, the filter hidden): each change after mounting restyles
        box = FilterBox(placeholder="filter courses", id="course-filter", compact=True)
        box.display = False
        with Horizontal(id="main"):
            with Vertical(id="side"):
                yield box
                yield titled(CourseList(id="courses"), "Courses")
            with Vertical(id="right"):
                yield Label("", id="history-title")
                yield titled(HistoryTable(id="history"), "Exports")
                yield titled(DetailPanel(id="detail"), "Detail")
        yield Static(id="status")
        # the palette's key is on the status line: the footer keeps its width for the keys (80 columns)
        yield KeysFooter(show_command_palette=False)

    def on_mount(self) -> None:
        self.call_after_refresh(self.app.open_source)  # once this first frame is drawn

    @property
    def courses(self) -> CourseList:
        return self.query_one("#courses", CourseList)

    @property
    def history(self) -> HistoryTable:
        return self.query_one("#history", HistoryTable)

    @property
    def course(self) -> CourseSummary | None:
        return self.courses.highlighted_course

    #: the user's courses (a library may hold 100,000): pages of it and what the filter finds
    catalogue: CourseCatalogue | None = None
    _want: CourseSummary | None = None  # a course to highlight once a filter has found it

    def set_courses(
        self, courses: list[CourseSummary], found: int, want: CourseSummary | None = None
    ) -> None:
        """Show the courses found for the filter's text; ``want``: highlight that one (typing
        its name in the filter when it is beyond the courses shown)."""
        self.courses.one_line = self.app.size.width < NARROW
        box = self.query_one("#course-filter", Input)
        shown = self.courses.set_courses(courses, found, box.value, want.id if want else None)
        if want is not None and not shown and box.value != want.name:
            self._want = want
            box.value, box.display = want.name, True  # the filter finds it (Input.Changed)
            self.query_one("#side").display = True
        self.course_changed()

    def on_resize(self) -> None:
        if self.courses.option_count and self.courses.one_line != (self.app.size.width < NARROW):
            self.set_courses(self.courses.courses, self.courses.found)

    _settle: Timer | None = None

    @on(OptionList.OptionHighlighted, "#courses")
    def course_changed(self) -> None:
        """The title follows the highlight at once (one line, no layout pass); the history and
        detail follow once the highlight rests, so holding an arrow key stays smooth."""
        course = self.course
        title = f"{course.course_code} — {course.name}" if course else "no course"
        self.query_one("#history-title", Label).update(Text(title, style="bold"), layout=False)
        if self._settle is not None:
            self._settle.stop()
        self._settle = self.set_timer(SETTLE_SECONDS, self._course_settled)

    def _course_settled(self) -> None:
        course = self.course
        if course is None or course.id != self.history.course_id:
            self.history.show(course.id if course else None, [], {})
            self.show_detail()
        self.app.watch_course(course.id if course else None)

    def apply_history(self, msg: HistoryLoaded) -> None:
        course = self.course
        if course is None or course.id != msg.course_id:
            return
        self.history.show(msg.course_id, msg.exports, msg.progress)
        self.show_detail()

    @on(DataTable.RowHighlighted, "#history")
    def show_detail(self) -> None:
        key = self.history.selected_key
        self.query_one(DetailPanel).show(
            self.history.selected,
            self.history.progress.get(key) if key else None,
            self.history.downloads.get(key) if key else None,
        )

    # -- actions
    def action_new_export(self) -> None:
        course = self.course
        if course is None:
            self.notify("No course highlighted", severity="warning")
            return

        def ask(groups: list[dict[str, Any]]) -> None:
            user = self.app.user
            screen = NewExportScreen(self.app.backend, course, groups, user.id if user else 0)
            self.app.push_screen(screen, self.app.start_export)

        if course is MY_FILES:
            ask([])
            return
        known = self.app.group_names.get(self.app.groups_key(self.app.backend, course.id))
        if known is not None:  # the history has already read them: open at once
            ask([{"id": gid, "name": name} for gid, name in known.items()])
            return
        in_thread(self, "groups", self.app.backend.groups, course.id, then=ask, on_error=lambda _: ask([]))

    def action_epub(self) -> None:
        if self.app.opening():
            return
        self.app.push_screen(EpubScreen(self.app.backend, self.courses.courses))

    def action_import_course(self) -> None:
        self.app.open_import()

    def action_bulk(self) -> None:
        if self.app.opening():
            return
        self.app.push_screen(BulkScreen(self.app.backend))

    def action_filter(self) -> None:
        box = self.query_one("#course-filter", Input)
        self.query_one("#side").display = True
        box.display = True
        box.focus()

    @on(Input.Changed, "#course-filter")
    def _filter(self, event: Input.Changed) -> None:
        """Ask the catalogue on a worker (its first search reads the index); a result for a
        text since changed is dropped."""
        catalogue, text = self.catalogue, event.value
        if catalogue is None:
            return

        def found(result: tuple[list[CourseSummary], int]) -> None:
            if self.catalogue is catalogue and self.query_one("#course-filter", Input).value == text:
                want, self._want = self._want, None
                self.set_courses(*result, want=want)

        in_thread(self, "filter", catalogue.find, text, PAGE, then=found)

    @on(CourseList.NeedMore)
    def _more_courses(self, event: CourseList.NeedMore) -> None:
        """The next page of what the filter finds, read on a worker; dropped if the list has
        changed meanwhile (another text, a reload)."""
        catalogue, text, shown = self.catalogue, self.courses.filter_text, event.shown
        if catalogue is None:
            return

        def found(result: tuple[list[CourseSummary], int]) -> None:
            if (
                self.catalogue is catalogue
                and self.courses.filter_text == text
                and len(self.courses.courses) == shown
            ):
                self.courses.add_courses(result[0])

        in_thread(self, "more", catalogue.find, text, PAGE, shown, then=found)

    @on(Input.Submitted, "#course-filter")
    def _filter_done(self) -> None:
        self.courses.focus()

    def action_back(self) -> None:
        box = self.query_one("#course-filter", Input)
        if box.has_focus or (
            box.display and (not box.value or self.courses.has_focus)
        ):  # esc clears a filter
            box.value = ""
            box.display = False
            self.courses.focus()
        elif self.query_one(DetailPanel).has_focus_within or self.query_one(DetailPanel).has_focus:
            self.history.focus()
        elif self.history.has_focus:
            self.courses.focus()

    def action_copy_path(self) -> None:
        export = self.history.selected
        self.app.copy_path(path_of(export), f"export {export['id']}" if export else "the export")

    def action_download_export(self) -> None:
        """Fetch the highlighted export's file to this disk (one made earlier on a Canvas instance:
        by the CLI, another run of the app, Canvas's own pages), with a bar, then its path."""
        export = self.history.selected
        if export is None:
            self.notify("Highlight an export to download its file", severity="warning")
            return
        what = f"Export {export.get('id')}"
        if not is_downloadable(export.get("workflow_state")) or not attachment_of(export):
            self.notify(
                f"{what} has no file to download ({export.get('workflow_state')})", severity="warning"
            )
        elif path_of(export):
            self.notify(f"{what} is on this disk:\n{path_of(export)}", title="Already downloaded")
        elif self.history.selected_key in self.history.downloads:
            self.notify(f"{what} is being downloaded", title="Downloading")
        else:
            self.history.update_download(int(export["id"]), 0.0, file_name_of(export))
            self.show_detail()
            self.app.download_earlier(self.app.backend, export)

    def action_cancel_export(self) -> None:
        export = self.history.selected
        pid = progress_id_of((export or {}).get("progress_url"))
        if export is None or pid is None or not is_running(export.get("workflow_state")):
            self.notify("Highlight a running export to cancel it", severity="warning")
            return
        kind = SHORT_TYPES.get(export.get("export_type", ""), export.get("export_type", ""))
        self.app.ask_cancel(self.app.backend, export, f"the {kind} export {export['id']}")

    def action_refresh(self) -> None:
        self.app.load_courses()

    def action_toggle_side(self) -> None:
        side = self.query_one("#side")
        side.display = not side.display
        if not side.display and side.has_focus_within:
            self.history.focus()

    _status = ""

    def set_status(self, text: str) -> None:
        """The status line, redrawn only when its text changes, and without a layout pass (it
        is one line high): the history is read twice a second while an export runs, and each
        reading set it, laying out and repainting the whole screen."""
        if text != self._status:
            self._status = text
            self.query_one("#status", Static).update(Text(text), layout=False)


class ExportsCommands(Provider):
    """Every action of the app, "act as" each user of the local library, and the sources of courses."""

    commands: list[tuple[str, Any, str]] = []

    async def startup(self) -> None:
        """Once per opening of the palette (it reads the config file's profiles), not per key."""
        self.commands = self.app.palette_commands()  # type: ignore[attr-defined]

    async def discover(self):
        for name, callback, help_text in self.commands:
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str):
        matcher = self.matcher(query)
        for name, callback, help_text in self.commands:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


def load_config(path: Path) -> tuple[dict[str, str], str | None, str | None]:
    """``[keys]`` (binding id → keys) and ``theme`` from config.toml; a problem is returned (the app shows it), not raised."""
    try:
        config = Config.load(path)
        return config.keys(), config.theme(), None
    except ConfigError as e:
        return {}, None, str(e)


class ExportsApp(App[None]):
    CSS_PATH = STYLES / "app.tcss"
    TITLE = "tui-exports"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT, "-tall")]
    COMMANDS = App.COMMANDS | {ExportsCommands}
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="help", tooltip="Every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave (running exports go on)"),
        Binding("ctrl+q", "quit", "Quit", id="quit_ctrl", show=False, priority=True),
    ]

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        opener: Callable[[], Backend] | None = None,
        home: Home | None = None,
        config_file: Path | None = None,
        watch_css: bool = False,
    ):
        """On ``backend``; or on what ``opener`` returns, called on a worker thread once the
        first frame is drawn (``tui-exports``: opening the library imports the engine and the
        store, which the first frame does not need)."""
        super().__init__(watch_css=watch_css)
        if (backend is None) == (opener is None):
            raise TypeError("ExportsApp takes either a backend or an opener")
        self.opener = opener
        #: why the opener failed: the app ends, and ``run_tui`` raises it for the CLI to say
        self.open_error: BaseException | None = None
        self.home = home or Home.from_env()
        self.config_file = config_file if config_file is not None else self.home.config_file
        #: every source opened so far (the local library, Canvas profiles), closed when the app ends
        self.sources: dict[str, Backend] = {}
        self.backend: Backend | None = None
        if backend is not None:
            self._take(backend)
        self.keymap, theme, problem = load_config(self.config_file)
        self.config_problem = problem
        self.wanted_theme = theme
        self.theme_at_start: str | None = None  # set on mount: the theme no one chose here
        self.main = MainScreen()
        self.user: UserSummary | None = None
        self.users: list[UserSummary] = []
        self.watched_course: int | None = None
        #: (source, user, course) → its groups you may export, and those whose exports the history shows
        self.group_names: dict[tuple[int, int | None, int], dict[int, str]] = {}
        self.busy_groups: dict[tuple[int, int | None, int], set[int]] = {}
        self.watch_epubs = False
        #: (source, progress id) → the last reading of a job this app follows (its follower reads it, no one else)
        self.followed: dict[tuple[int, int | None], dict[str, Any]] = {}
        #: (source, progress id) → the Progress of a failed job, read once (it will not change)
        self.ended: dict[tuple[int, int], dict[str, Any]] = {}
        #: (source, course) → the last generated ePub seen, shown beside a newer attempt that failed
        self.good_epubs: dict[tuple[int, int], dict[str, Any]] = {}
        self._starting = threading.Lock()  # held while an export is created and registered
        self._wake = threading.Event()
        self._poll_error: str | None = None
        self.poll_pause = IDLE_SECONDS  # the poller's current pause (it backs off while idle)

    def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        if self.wanted_theme:
            if self.wanted_theme in self.available_themes:
                self.theme = self.wanted_theme
            else:
                self.notify(f"unknown theme {self.wanted_theme!r}", severity="warning")
        if self.config_problem:
            self.notify(self.config_problem, title="Config ignored", severity="warning")
        self.theme_at_start = self.theme
        self.theme_changed_signal.subscribe(self, self._save_theme)
        self.set_timer(COLLECTOR_PAUSE_MAX, gc.enable)  # should the list never be shown
        self.push_screen(self.main)
        if self.backend is not None:
            self.load_courses()
            self.poll()

    def _take(self, backend: Backend) -> None:
        """The backend opened at start (or given): the source shown."""
        self.backend = backend
        self._hear_status(backend)
        self.sources[source_key(backend)] = backend

    def open_source(self) -> None:
        """Once the main screen's first frame is drawn: open the library on a worker thread,
        then show its courses. A library that cannot be opened ends the app (the CLI says why)."""
        opener = self.opener
        if opener is None or self.backend is not None:
            return

        def job() -> None:
            worker = get_current_worker()
            try:
                backend = opener()
            except Exception as e:  # noqa: BLE001 - said by the CLI, as for every command
                self.open_error = e
                self.call_from_thread(self.exit, None, 2)
                return
            if worker.is_cancelled:  # the app ended while the library opened
                backend.close()
                return
            try:
                courses = read_courses(backend)
            except Exception as e:  # noqa: BLE001 - the app stays, on the opened library (r reads again)
                courses = None
                why = str(e) if isinstance(e, BackendError) else f"{type(e).__name__}: {e}"
                self.call_from_thread(self.show_error, why)
            self.call_from_thread(self._opened, backend, courses)

        self.run_worker(job, thread=True, group="open", name="open", exit_on_error=False)

    def _opened(self, backend: Backend, courses: CoursesRead | None) -> None:
        self._take(backend)
        if courses is not None:
            self._courses_loaded(courses)
        else:  # no list to wait for
            gc.enable()
        self.poll()

    def opening(self) -> bool:
        """True, and a notice saying so, while the library is still being opened at start."""
        if self.backend is not None:
            return False
        self.notify("Opening the library…")
        return True

    def _save_theme(self, theme: Any) -> None:
        """A theme chosen (in the palette) is kept in config.toml, everything else there kept."""
        name = getattr(theme, "name", None)
        if not name or name == (self.wanted_theme or self.theme_at_start):
            return  # the theme the app started with (configured or Textual's default) is no choice
        try:
            config = Config.load(self.config_file)
            config.theme()  # a file with a bad theme value is not rewritten over
            write_config(self.config_file, {**config.data, "theme": name})
        except (ConfigError, OSError) as e:
            self.notify(f"The theme was not saved: {e}", severity="warning")
            return
        self.wanted_theme = name
        self.notify(f"Theme {name} saved in {self.config_file}", title="Theme")

    def notify(self, message: str, *, markup: bool = False, **kwargs: Any) -> None:
        """Never as markup: messages carry select keys (``[modules]``), paths and course titles."""
        super().notify(message, markup=False, **kwargs)

    # -- errors are messages, never tracebacks
    def show_error(self, message: str) -> None:
        self.notify(message, title="Error", severity="error", timeout=10)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.show_error(
                f"{type(error).__name__}: {error}" if not isinstance(error, BackendError) else str(error)
            )

    # -- loading
    def load_courses(self, highlight: CourseSummary | None = None) -> None:
        """Read the courses again (for the filter's text); ``highlight``: then put the
        highlight on that course."""
        if self.backend is None:  # being opened: its courses are read then
            return
        query = self.main.query_one("#course-filter", Input).value if self.main_ready else ""
        in_thread(
            self,
            "courses",
            read_courses,
            self.backend,
            query,
            then=partial(self._courses_loaded, highlight=highlight),
        )

    def _courses_loaded(self, result: CoursesRead, highlight: CourseSummary | None = None) -> None:
        self.user, self.users = result.user, result.users
        if not self.main_ready:
            return
        self.main.catalogue = result.catalogue
        self.main.set_courses(result.courses, result.found, highlight)
        self.update_status()
        self.wake_poller()
        self.call_after_refresh(self._freeze_long_lived)
        # the filter's index (every course's words) is read now, beside the shown list, so the
        # first key typed after / does not wait for it
        in_thread(self, "index", result.catalogue.index)

    def _freeze_long_lived(self) -> None:
        """Not while a dialog is open: it would stay frozen, uncollected, after it closes.
        The collector, paused by ``run_tui`` for the start, runs again from here on."""
        gc.enable()
        if self.screen is self.main:
            freeze_long_lived()

    def act_as(self, user_id: int) -> None:
        """Switch user, then show their courses: the highlight stays on the course if they can
        see it, else moves to one they can (the history of a course they cannot see is never read)."""
        backend = self.backend
        self.watched_course = None  # no pass reads the old course as the new user

        query = self.main.query_one("#course-filter", Input).value if self.main_ready else ""

        def switch() -> CoursesRead:
            backend.act_as(user_id)
            return read_courses(backend, query)

        def switched(result: CoursesRead) -> None:
            self.notify(f"Now acting as {result.user.name} ({result.user.key})")
            self._courses_loaded(result)

        in_thread(self, "act_as", switch, then=switched)

    def palette_commands(self) -> list[tuple[str, Any, str]]:
        """(name, callback, help) of every command the palette offers."""
        app, main = self, self.main
        out: list[tuple[str, Any, str]] = [
            ("New export", partial(main.run_action, "new_export"), "Export the highlighted course"),
            ("ePub exports", partial(main.run_action, "epub"), "The ePub of each of your courses"),
            (
                "Import a course",
                app.open_import,
                "A cartridge, QTI zip or course folder into the local library",
            ),
            ("Bulk runs", partial(main.run_action, "bulk"), "Runs of tui-exports bulk, their items live"),
            ("Refresh", app.load_courses, "Reload courses and exports"),
            ("Copy path", partial(main.run_action, "copy_path"), "Copy the highlighted export's file path"),
            (
                "Cancel export",
                partial(main.run_action, "cancel_export"),
                "Cancel the highlighted running export",
            ),
            ("Toggle course pane", partial(main.run_action, "toggle_side"), "Hide or show the course list"),
            ("Filter courses", partial(main.run_action, "filter"), "Filter the course list as you type"),
            ("Help: every key of this app", app.action_help, "Every key binding, by area, with its id"),
        ]
        for user in app.users:
            out.append(
                (f"Act as {user.name} ({user.key})", partial(app.act_as, user.id), "Switch the current user")
            )
        if app.backend is None:  # still being opened: no other source yet
            return out
        current = next((k for k, b in app.sources.items() if b is app.backend), None)
        if current != LOCAL:
            out.append(
                (
                    "Copy this course into the local library",
                    app.copy_course_here,
                    "Canvas writes its cartridge; it is downloaded and imported, to export offline (ePub too)",
                )
            )
            out.append(
                ("Use the local library", partial(app.use_source, None), "The courses of the local library")
            )
        for name in app.profiles():
            if name != current:
                out.append(
                    (
                        f"Use Canvas profile {name}",
                        partial(app.use_source, name),
                        "The courses of that Canvas instance",
                    )
                )
        return out

    # -- import
    def local_library(self) -> LocalBackend:
        """The local library, opened when first needed (on a worker thread: it may seed)."""
        from ..backends.local import LocalBackend

        backend = self.sources.get(LOCAL)
        if backend is None:
            backend = self.sources[LOCAL] = LocalBackend.open(self.home, jobs="worker")
        return backend  # type: ignore[return-value]

    def open_import(self) -> None:
        """``i``: a package into the local library; its course is highlighted after."""
        if self.opening():
            return
        screen = ImportScreen(lambda path, progress: self.local_library().import_package(path, progress))
        self.push_screen(screen, self._imported)

    def copy_course_here(self) -> None:
        """On a Canvas instance: Canvas writes a cartridge of the highlighted course, which
        comes down and goes into the local library."""
        course = self.main.course
        if self.backend is None or source_key(self.backend) == LOCAL or course is None or course is MY_FILES:
            self.notify("Highlight a course of a Canvas instance to copy it", severity="warning")
            return
        job = pull_job(self.backend, self.local_library, course.id)
        title = f"Copy {course.course_code} from {self.backend.label} into the local library"
        self.push_screen(ImportScreen(job=job, title=title), self._imported)

    def _imported(self, result: ImportResult | None) -> None:
        if result is None:
            return
        if self.sources.get(LOCAL) is self.backend:
            self.load_courses(highlight=result.course)
        else:
            self.notify(
                f"Course {result.course.id} is in the local library: ctrl+p, Use the local library, to see it",
                title="Imported",
            )

    def profiles(self) -> list[str]:
        """The Canvas profiles of the config file (none when it cannot be read: said on switching)."""
        try:
            return profile_names(self.home)
        except BackendError:
            return []

    def use_source(self, profile: str | None) -> None:
        """Show the courses of a Canvas profile, or of the local library (``None``)."""
        key = profile or LOCAL
        if self.opening():
            return
        if self.sources.get(key) is self.backend:
            self.notify(f"Already on {self.backend.label}")
            return

        query = self.main.query_one("#course-filter", Input).value if self.main_ready else ""

        def open_source() -> tuple[Backend, CoursesRead]:
            if profile is None:
                backend = self.local_library()
            else:
                backend = self.sources.get(key) or open_profile(profile, self.home)
                self.sources[key] = backend  # closed with the others when the app ends
            return backend, read_courses(
                backend, query
            )  # a source that cannot list courses is not switched to

        def opened(result: tuple[Backend, CoursesRead]) -> None:
            backend, courses = result
            self.backend = backend
            self._hear_status(backend)
            self.watched_course = None
            if self.main_ready:
                self.main.history.show(None, [], {})  # the other source's ids mean other courses
            self._courses_loaded(courses)
            self.notify(f"Now on {backend.label}")

        self.notify(f"Opening {profile or LOCAL}…")
        in_thread(self, "source", open_source, then=opened)

    def _hear_status(self, backend: Backend) -> None:
        """What a backend says it waits for (Canvas throttling us) shows as a notice."""
        if not hasattr(backend, "on_status"):
            return

        def say(message: str) -> None:
            try:
                self.call_from_thread(self.notify, message, severity="warning")
            except RuntimeError:  # said on the app's own thread
                self.notify(message, severity="warning")

        backend.on_status = say

    def update_status(self) -> None:
        who = f"{self.user.name} ({self.user.key})" if self.user else "…"
        running = sum(is_running(e.get("workflow_state")) for e in self.main.history.exports.values())
        busy = f" · {running} running" if running else ""
        self.main.set_status(f"{self.backend.label} · as {who}{busy} · ctrl+p commands")

    # -- the poller: one thread worker reading the Backend, faster while something runs
    def watch_course(self, course_id: int | None) -> None:
        if course_id != self.watched_course:
            self.watched_course = course_id
            self.wake_poller()

    def wake_poller(self) -> None:
        self._wake.set()

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def poll(self) -> None:
        """Read the history often while something runs; when nothing does, less and less often
        while nothing changes (a Canvas instance is not asked every 2 s by an idle app); a wake
        (``r``, a new export, another course) reads at once and starts over."""
        worker = get_current_worker()
        pause, seen = IDLE_SECONDS, None
        while not worker.is_cancelled:
            woken = self._wake.is_set()
            self._wake.clear()
            busy = False
            watched, user, backend = self.watched_course, self.user, self.backend
            mark, read_at = backend.change_mark(), time.monotonic()  # before the read: none is missed
            try:
                busy, now = self._poll_once()
                self._poll_error = None
                pause = next_pause(busy, woken or now != seen, pause)
                seen = now
            except Exception as e:  # noqa: BLE001 - the history must keep refreshing whatever one pass met
                if (self.watched_course, self.user) != (
                    watched,
                    user,
                ):  # read for a course or user left since
                    continue
                message = str(e) if isinstance(e, BackendError) else f"{type(e).__name__}: {e}"
                if message != self._poll_error:  # say it once, not every poll
                    self._poll_error = message
                    self.call_from_thread(self.notify, message, title="Could not refresh", severity="warning")
                pause = next_pause(False, False, pause)
            self.poll_pause = pause
            # while something runs the busy pause already reads often: only a resting poller is woken
            if not nap(pause, partial(self._woken, backend, None if busy else mark, read_at)):
                return

    def _woken(self, backend: Backend, mark: Any, read_at: float) -> bool:
        """The poller reads again: ``r``, a new export, another course; or the source says
        that something changed since it was last read (not sooner than ``CHANGED_SECONDS``)."""
        if self._wake.is_set():
            return True
        if mark is None or time.monotonic() - read_at < CHANGED_SECONDS:
            return False
        return backend.change_mark() != mark

    def _poll_once(self) -> tuple[bool, Any]:
        """One reading: whether something runs, and what was seen (to tell a change)."""
        busy = False
        seen: list[Any] = []
        backend, course_id = self.backend, self.watched_course  # one source per pass, even if it is switched
        if course_id is not None:
            exports = self._course_history(backend, course_id)
            progress = self._progress_of(backend, exports)
            busy = running(exports, progress)
            seen.append((course_id, [(e.get("id"), e.get("workflow_state")) for e in exports]))
            self.post_message(HistoryLoaded(course_id, exports, progress, backend))
        if self.watch_epubs:
            items = backend.epub_exports()
            epubs = [i["epub_export"] for i in items if i.get("epub_export")]
            progress = self._progress_of(backend, epubs)
            busy = busy or running(epubs, progress)
            seen.append([(i.get("id"), (i.get("epub_export") or {}).get("id")) for i in items])
            seen.append([(i.get("epub_export") or {}).get("workflow_state") for i in items])
            self.post_message(EpubsLoaded(items, progress))
        return busy, seen

    def groups_key(self, backend: Backend, course_id: int) -> tuple[int, int | None, int]:
        """Groups are per source, per user (act as) and per course."""
        return id(backend), self.user.id if self.user else None, course_id

    def _course_history(self, backend: Backend, course_id: int) -> list[dict[str, Any]]:
        """The course's exports and those of its groups, newest first.

        A course may have many groups: all are looked at once when the course is first
        shown; after that only the groups that have exports (or one just started) are.
        """
        if course_id == MY_FILES.id:
            return backend.content_exports(ContextType.USER, backend.current_user().id, 1, 50)[0]
        exports, _ = backend.content_exports(ContextType.COURSE, course_id, 1, 50)
        key = self.groups_key(backend, course_id)
        names = self.group_names.get(key)
        busy = self.busy_groups.setdefault(key, set())
        if names is None:
            try:
                groups = backend.groups(course_id)
            except BackendError:  # an instance that will not list groups still shows the course's exports
                groups = []
            names = self.group_names[key] = {int(g["id"]): str(g["name"]) for g in groups}
            busy.update(names)
        for group_id in sorted(busy):
            try:
                found, _ = backend.content_exports(ContextType.GROUP, group_id, 1, 50)
            except BackendError:  # left the group, or it was deleted: the course's history goes on
                found = []
            if not found:
                busy.discard(group_id)
            exports += [dict(e, _scope=f"group: {names.get(group_id, group_id)}") for e in found]
        return sorted(exports, key=lambda e: int(e["id"]), reverse=True)

    def _progress_of(self, backend: Backend, exports: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """The Progress of the running exports (one this app follows is read by its follower
        alone, one poller per job, and its last reading is passed on here), and of the failed
        ones, read once: Canvas says why a job failed only in its Progress's ``message``."""
        out = {}
        with self._starting:  # an export being started is registered before it is looked at
            for e in exports:
                pid = progress_id_of(e.get("progress_url"))
                if pid is None:
                    continue
                if is_running(e.get("workflow_state")):
                    followed = self.followed.get((id(backend), pid))
                    if followed is None:
                        out[int(e["id"])] = backend.progress(pid)
                    elif followed:
                        out[int(e["id"])] = followed
                elif is_failed(e.get("workflow_state")):
                    if (id(backend), pid) not in self.ended:
                        try:
                            self.ended[id(backend), pid] = backend.progress(pid)
                        except BackendError:  # gone (Canvas deletes old ones): the export's own errors
                            self.ended[id(backend), pid] = {}
                    if self.ended[id(backend), pid]:
                        out[int(e["id"])] = self.ended[id(backend), pid]
        return out

    @property
    def main_ready(self) -> bool:
        """The main screen is up (messages can still arrive while it is being built or torn down)."""
        parts = ("#courses", "#history", "#detail", "#status")  # torn down one by one when the app exits
        return self.main.is_attached and not self._exit and all(self.main.query(p) for p in parts)

    def on_history_loaded(self, msg: HistoryLoaded) -> None:
        if not self.main_ready or msg.backend is not self.backend:  # read before a switch of source
            return
        self.main.apply_history(msg)
        self.update_status()

    def on_epubs_loaded(self, msg: EpubsLoaded) -> None:
        if isinstance(self.screen, EpubScreen):
            self.screen.show(msg.items, msg.progress)

    # -- starting and following exports
    def start_export(self, request: ExportRequest | None) -> None:
        if request is None:
            return
        if request.kind == "epub":
            if (
                request.context_type is not ContextType.COURSE
            ):  # the dialog offers none: never a course's instead
                self.show_error("An ePub exists only for courses: choose the course as its scope")
                return
            self.start_epub(request.course.id, request.skip_notifications)
            return
        self._run_export(request)

    @work(thread=True, group="start", exit_on_error=False)
    def _run_export(self, request: ExportRequest) -> None:
        backend = request.backend
        try:
            with self._starting:  # the poller takes no reading of it before its follower is known
                export = backend.create_content_export(
                    request.context_type,
                    request.context_id,
                    request.kind,
                    request.select,
                    skip_notifications=request.skip_notifications,
                    version=request.version,
                )
                self._note_followed(backend, export)
        except BackendError as e:
            self.call_from_thread(self.show_error, f"Could not start the export: {e}")
            return
        if request.context_type is ContextType.GROUP:
            self.busy_groups.setdefault(self.groups_key(backend, request.course.id), set()).add(
                request.context_id
            )
        self.call_from_thread(setattr, self.main.history, "wanted", str(export["id"]))
        self._follow(
            backend,
            request.kind,
            request.context_type,
            request.context_id,
            export,
            not request.skip_notifications,
        )

    def start_epub(self, course_id: int, skip_notifications: bool) -> None:
        self._run_epub(course_id, skip_notifications)

    @work(thread=True, group="start", exit_on_error=False)
    def _run_epub(self, course_id: int, skip_notifications: bool) -> None:
        backend = self.backend
        try:
            with self._starting:
                created = backend.create_epub_export(course_id)["epub_export"]
                self._note_followed(backend, created)
        except BackendError as e:
            self.call_from_thread(self.show_error, f"Could not start the ePub: {e}")
            return
        self._follow(backend, "epub", ContextType.COURSE, course_id, created, not skip_notifications)

    def _follow(
        self,
        backend: Backend,
        kind: str,
        context_type: ContextType,
        context_id: int,
        export: dict[str, Any],
        notify: bool,
    ) -> None:
        """Follow the export to its end (``Backend.follow``, on the calling thread worker), then
        fetch its files (``Backend.download``).  While it runs, this is the only reader of its
        Progress: the history poller takes the readings from ``self.followed``."""
        job = "epub" if kind == "epub" else "content"
        key = self._note_followed(backend, export)
        last: dict[str, Any] = {}

        def moved(progress: dict[str, Any], current: dict[str, Any]) -> None:
            nonlocal last
            if progress:
                last = self.followed[key] = progress
                self.post_message(ExportProgress(kind, int(export["id"]), progress, backend))

        self.wake_poller()
        try:
            final = backend.follow(
                job, context_type, context_id, export, moved, pause=lambda _: nap(FOLLOW_SECONDS)
            )
        except BackendError as e:
            self.call_from_thread(self.show_error, str(e))
            return
        finally:
            self.followed.pop(key, None)
        if get_current_worker().is_cancelled:
            return
        if is_downloadable(final.get("workflow_state"), job):
            try:
                final = self._download(backend, kind, final)
            except (BackendError, OSError) as e:  # the row ends without a bar; the message says why
                self.call_from_thread(
                    self.show_error,
                    f"{'ePub' if kind == 'epub' else 'Export'} {final.get('id')} is "
                    f"ready on {backend.label}, but its file could not be downloaded: {e}",
                )
                notify = False
        self.post_message(ExportFinished(kind, final, last, notify, backend))

    def _note_followed(self, backend: Backend, export: dict[str, Any]) -> tuple[int, int | None]:
        """Note that this app follows the export: from now on only its follower reads its Progress."""
        key = (id(backend), progress_id_of(export.get("progress_url")))
        if key[1] is not None:
            self.followed.setdefault(key, {})
        return key

    @work(thread=True, group="download", exit_on_error=False)
    def download_earlier(self, backend: Backend, export: dict[str, Any]) -> None:
        """Download a finished export's file on request (``d``): the row's bar, then its path."""
        try:
            final = self._download(backend, "content", export)
        except (BackendError, OSError) as e:
            self.call_from_thread(self._downloaded, backend, export, str(e))
            return
        self.call_from_thread(self._downloaded, backend, final, None)

    def _downloaded(self, backend: Backend, export: dict[str, Any], error: str | None) -> None:
        if self.main_ready and backend is self.backend:
            self.main.history.finished(export)  # the bar goes; with the path when it came down
            self.main.show_detail()
        if error is not None:
            self.show_error(f"Export {export.get('id')} could not be downloaded: {error}")
        else:
            self.notify(f"Export {export.get('id')}:\n{path_of(export)}", title="✓ Downloaded", timeout=8)

    def _download(self, backend: Backend, kind: str, export: dict[str, Any]) -> dict[str, Any]:
        """Fetch the finished files that are not on this disk yet (a Canvas instance's), with a bar.

        The local library's files already have a ``path``; a Canvas backend streams its
        files to the downloads folder and reports their paths from then on.
        """

        def tick(att: dict[str, Any], done: int, total: int | None) -> None:
            name = att.get("display_name") or att.get("filename") or "file"
            self.post_message(DownloadProgress(kind, int(export["id"]), name, done, total, backend))

        return backend.download("epub" if kind == "epub" else "content", export, tick)

    def on_export_progress(self, msg: ExportProgress) -> None:
        if msg.kind != "epub" and self.main_ready and msg.backend is self.backend:
            self.main.history.update_progress(msg.export_id, msg.progress)
            if self.main.history.selected_key == str(msg.export_id):
                self.main.show_detail()

    def on_download_progress(self, msg: DownloadProgress) -> None:
        if msg.kind != "epub" and self.main_ready and msg.backend is self.backend:
            self.main.history.update_download(msg.export_id, msg.percent, msg.name)
            if self.main.history.selected_key == str(msg.export_id):
                self.main.show_detail()

    def on_export_finished(self, msg: ExportFinished) -> None:
        self.wake_poller()
        if msg.kind != "epub" and self.main_ready and msg.backend is self.backend:
            self.main.history.finished(msg.export)
            self.main.show_detail()
        export, state = msg.export, msg.export.get("workflow_state")
        what = f"{'ePub' if msg.kind == 'epub' else 'Export'} {export.get('id')}"
        if is_downloadable(state):
            if msg.notify:
                self.notify(
                    f"{what} is ready:\n{path_of(export) or '(no file)'}", title="✓ Export done", timeout=8
                )
        elif was_canceled(export, msg.progress):
            self.notify(f"{what} was canceled", title="⊘ Export canceled", timeout=8)
        else:
            errors = export.get("errors") or [msg.progress.get("message") or state or "unknown error"]
            self.notify(
                f"{what} failed: " + "; ".join(map(str, errors)),
                title="✗ Export failed",
                severity="error",
                timeout=12,
            )

    # -- small shared actions
    def ask_cancel(self, backend: Backend, export: dict[str, Any], what: str) -> None:
        """Ask, then cancel the running export (or ePub) through its Progress."""
        pid = progress_id_of(export.get("progress_url"))
        if pid is None:
            self.notify(f"{what[:1].upper()}{what[1:]} cannot be canceled (no progress)", severity="warning")
            return

        def answered(cancel: bool | None) -> None:
            if cancel:
                in_thread(self, "cancel", backend.cancel, pid, then=lambda _: self.wake_poller())

        self.push_screen(
            AskScreen(
                f"Cancel {what}?",
                f"{what[:1].upper()}{what[1:]} stops where it is; it makes no file.",
                [("n", "Keep it running", False), ("y", "Cancel it", True)],
                on_escape=False,
            ),
            answered,
        )

    def copy_path(self, path: str | None, what: str = "the file") -> None:
        """Copy the path shell-quoted (a name with spaces or ``&`` pastes into a shell as one
        word), and say what was copied."""
        if not path:
            self.notify(f"{what[:1].upper()}{what[1:]} has no file (yet)", severity="warning")
            return
        quoted = shlex.quote(path)
        self.copy_to_clipboard(quoted)
        note = " (shell-quoted)" if quoted != path else ""
        self.notify(f"{quoted}", title=f"Copied the path of {what}{note}")

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_rows()))

    def key_rows(self) -> list[tuple[str, str, str, str]]:
        areas = [
            ("everywhere", ExportsApp),
            ("main screen", MainScreen),
            ("course list", CourseList),
            ("export history", HistoryTable),
            ("detail panel", DetailPanel),
            ("detail file line", FileLine),
            ("new export", NewExportScreen),
            ("content picker", PickerScreen),
            ("content tree", ContentTree),
            ("ePub screen", EpubScreen),
        ]
        rows = [
            ("everywhere", "ctrl+p", "Command palette", "-"),
            ("everywhere", "tab / shift+tab", "Next / previous pane", "-"),
        ]
        for area, cls in areas:
            for b in cls.BINDINGS:
                if isinstance(b, Binding):
                    keys = self.keymap.get(b.id or "", b.key)
                    rows.append((area, self.keys_display(keys), b.description or b.action, b.id or ""))
        return rows

    def keys_display(self, keys: str) -> str:
        """``question_mark,f1`` → ``? / F1``: keys as people type them (Textual's key display,
        with function keys in capitals and ``ctrl+`` spelled out)."""
        shown = []
        for key in keys.split(","):
            display = self.get_key_display(Binding(key.strip(), ""))
            if re.fullmatch(r"f\d+", display):
                display = display.upper()
            elif display.startswith("^") and len(display) > 1:
                display = "ctrl+" + display[1:]
            shown.append(display)
        return " / ".join(shown)

    def running_count(self) -> int:
        """Exports this app follows, and those running in the history shown."""
        followed = {pid for _, pid in self.followed}
        shown = {
            progress_id_of(e.get("progress_url"))
            for e in self.main.history.exports.values()
            if is_running(e.get("workflow_state"))
        }
        return len(followed | shown)

    def action_quit(self) -> None:
        """With exports running, ask once whether to leave them in the background (the default)."""
        running = self.running_count() if self.main_ready else 0
        if not running or isinstance(self.screen, AskScreen):
            self.exit()
            return
        these = "1 export is" if running == 1 else f"{running} exports are"
        self.push_screen(
            AskScreen(
                "Quit?",
                f"{these} still running. They go on in the background and show their state "
                "the next time you open the app.",
                [("q", "Quit; they go on in the background", True), ("s", "Stay", False)],
                on_escape=False,
            ),
            lambda leave: self.exit() if leave else None,
        )


def next_pause(busy: bool, changed: bool, previous: float) -> float:
    """The history poller's next pause: short while something runs; when nothing does, from
    ``IDLE_SECONDS`` doubling up to ``IDLE_MAX_SECONDS`` while nothing changes."""
    if busy:
        return BUSY_SECONDS
    if changed or previous < IDLE_SECONDS:
        return IDLE_SECONDS
    return min(IDLE_MAX_SECONDS, previous * 2)


def file_name_of(export: dict[str, Any]) -> str:
    att = attachment_of(export) or {}
    return str(att.get("display_name") or att.get("filename") or "file")


def freeze_long_lived() -> None:
    """Keep what the app holds for its whole run (the course list, its widgets) out of
    Python's cyclic collector: with 10,000 courses each full collection walked them all,
    30-40 ms every second or two while exports reported progress, and a keypress that
    met one waited for it.  What was frozen before is let go and collected first, so a
    reloaded list does not leak the old one."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class CoursesRead:
    """Who you are, whom you may act as, your courses' catalogue, and the first courses it
    finds for the filter's text (of ``found``)."""

    user: UserSummary
    users: list[UserSummary]
    catalogue: CourseCatalogue
    courses: list[CourseSummary]
    found: int


def read_courses(backend: Backend, query: str = "") -> CoursesRead:
    """On a worker thread: a page of courses, never all of them (a library may hold 100,000)."""
    catalogue = backend.course_catalogue()
    courses, found = catalogue.find(query, PAGE)
    return CoursesRead(backend.current_user(), backend.users(), catalogue, courses, found)


def source_key(backend: Backend) -> str:
    """How the palette names a source: the local library, or a Canvas profile by name."""
    from ..backends.local import LocalBackend

    return LOCAL if isinstance(backend, LocalBackend) else getattr(backend, "profile", None) or backend.label


def run_tui(backend: Backend | None = None, *, opener: Callable[[], Backend] | None = None) -> None:
    """Open the terminal app (``tui-exports`` with no arguments) on this backend, or on what
    ``opener`` returns once the first frame is drawn; what the opener raised is raised here,
    after the terminal is given back.

    Python's cyclic collector is paused until the course list is shown: the start (importing
    Textual, building the screen) found almost nothing to collect, yet its full collections
    of everything imported took a fifth of the CPU to the first frame."""
    gc.disable()
    app = ExportsApp(backend, opener=opener)
    try:
        app.run()
    finally:
        gc.enable()
        for source in {id(b): b for b in [*([backend] if backend else []), *app.sources.values()]}.values():
            source.close()
    if app.open_error is not None:
        raise app.open_error

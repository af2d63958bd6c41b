"""What the local and the Canvas CLI share: exit codes, checking the config file, reading
``--select`` and the context arguments, and writing JSON, sizes, exports and progress bars."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..backends.base import BackendError, progress_id_of
from ..backends.profiles import profiles_of
from ..config import Config
from ..model import ContextType
from ..paths import Home
from ..tui.format import human_size  # plain text, no Textual: the app's sizes are the CLI's
from ..vocab import FORMAT_BY_NAME, FORMATS, SELECT_BY_KEY, SELECT_NAMES

EXIT_OK, EXIT_FAILED, EXIT_BAD_REQUEST = 0, 1, 2


# ------------------------------------------------------------------ config


def check_config(home: Home) -> None:
    """The whole config file, once, before any command: a bad ``[keys]``, ``theme``, ``[engine]``,
    ``[server]``, ``[import]`` or ``[profiles.NAME]`` value is a ConfigError (one line naming the
    file and the key)."""
    from ..engine.settings import Settings

    config = Config.load(home.config_file)
    config.keys()
    config.theme()
    Settings.from_config(config)
    profiles_of(config)
    config.server()
    config.import_limits()


# ------------------------------------------------------------------ arguments


def id_arg(text: str) -> int:
    """An id on the command line: ASCII digits that the library can store (below 2^63)."""
    if text.isascii() and text.isdigit() and len(text) <= 19 and 0 < int(text) < 2**63:
        return int(text)
    raise argparse.ArgumentTypeError(f"not an id: {text[:40]!r}" + ("…" if len(text) > 40 else ""))


def count_arg(limit: int) -> Callable[[str], int]:
    """A whole number no larger than ``limit`` either way, for ``--page``, ``--files N``, …
    (the command says what it makes of 0 or less)."""

    def parse(text: str) -> int:
        t = text.strip()
        digits = t[1:] if t[:1] in "+-" else t
        if digits.isascii() and digits.isdigit() and len(digits) <= 12 and int(digits) <= limit:
            return int(t)
        raise argparse.ArgumentTypeError(f"not a whole number up to {limit}: {text[:40]!r}")

    return parse


def port_arg(text: str) -> int:
    t = text.strip()
    if t.isascii() and t.isdigit() and len(t) <= 5 and int(t) <= 65535:
        return int(t)
    raise argparse.ArgumentTypeError(f"not a port (0 to 65535): {text[:40]!r}")


def size_mb_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or value > 1024 * 1024:
        raise argparse.ArgumentTypeError(f"not a size in MiB (0 to 1048576): {text[:40]!r}")
    return value


def select_arg(values: Sequence[str] | None) -> dict[str, Any] | None:
    """``pages=1,2 files=7 all_quizzes everything`` → a select hash.  A type named without ids
    (``files``, ``files=``) is refused here, with what to write instead."""
    if not values:
        return None
    select: dict[str, Any] = {}
    bare: list[str] = []
    for value in values:
        for part in value.split():
            key, eq, ids = part.partition("=")
            if key.startswith("all_") or key in ("everything", "syllabus_body", "course_settings"):
                select[key] = ids if eq else True
                continue
            items = [i.strip() for i in ids.split(",") if i.strip()]
            if not items and key in SELECT_NAMES:
                bare.append(key)
                continue
            if not eq:
                select[key] = True  # not a select type: the engine names the unknown key
                continue
            # only ASCII digits are an id (not ١٢); the engine refuses the rest, naming them
            select.setdefault(key, []).extend(_plain_id(key, i) for i in items)
    for key, value in select.items():
        if isinstance(value, list) and any(isinstance(i, str) and _MIGRATION_ID.match(i) for i in value):
            select[key] = _hash_form(key, value)
    if bare:
        raise BackendError(
            "--select "
            + ", ".join(bare)
            + ": name the ids, e.g. "
            + " ".join(f"{k}=3,4" for k in bare)
            + " (`tui-exports content COURSE_ID` lists them), or "
            + " ".join(f"all_{k}" for k in bare)
            + " for every one",
            400,
        )
    return select


_MIGRATION_ID = re.compile(r"^[ig][0-9a-f]{32}$")


def _plain_id(key: str, item: str) -> int | str:
    """``wiki_page_2`` → 2 under ``pages``: Canvas reads listed entries as plain ids (it prefixes
    them itself, so an asset string in a list would select nothing); the rest stays as typed."""
    entry = SELECT_BY_KEY.get(SELECT_NAMES.get(key, key))
    if entry is not None and item.startswith(entry.prefix + "_"):
        item = item[len(entry.prefix) + 1 :]
    return int(item) if item.isascii() and item.isdigit() and len(item) <= 19 else item


def _hash_form(key: str, items: list[int | str]) -> dict[str, str]:
    """A list holding migration ids goes as Canvas's hash form, which takes them (and asset
    strings) as keys: ``select[pages][i0f3…]=1``, plain ids written as ``wiki_page_2``."""
    entry = SELECT_BY_KEY.get(SELECT_NAMES.get(key, key))
    out: dict[str, str] = {}
    for i in items:
        name = f"{entry.prefix}_{i}" if isinstance(i, int) and entry is not None else str(i)
        out[name] = "1"
    return out


def export_context(args) -> tuple[ContextType, int]:
    """The context a command names: exactly one of COURSE_ID, ``--group`` or ``--user``."""
    chosen = [x for x in (args.group, args.user) if x is not None]
    if len(chosen) > 1 or (chosen and args.course_id is not None):
        raise BackendError("give one of COURSE_ID, --group ID or --user ID", 400)
    if args.group is not None:
        return ContextType.GROUP, args.group
    if args.user is not None:
        return ContextType.USER, args.user
    if args.course_id is None:
        export_id = getattr(args, "export_id", None)
        if export_id is not None:  # ``show 7``: the one number is the export's
            raise BackendError(
                f"`{args.command} {export_id}` names the export but not whose it is: give a COURSE_ID, "
                f"--group ID or --user ID before it (tui-exports {args.command} COURSE_ID EXPORT_ID)",
                400,
            )
        raise BackendError(
            f"`{args.command}` needs whose exports: give a COURSE_ID, --group ID or --user ID", 400
        )
    return ContextType.COURSE, args.course_id


def export_version(args) -> str | None:
    """``--cc-version`` if the format has versions (the registry says which); refused otherwise."""
    fmt = FORMAT_BY_NAME[args.export_type]
    if args.cc_version is not None and not fmt.versions:
        with_versions = " and ".join(f.name for f in FORMATS if f.versions)
        raise BackendError(
            f"--cc-version is for {with_versions} exports; a {fmt.name} export has no version: drop it", 400
        )
    return args.cc_version


# ------------------------------------------------------------------ output


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def describe_progress(p: dict[str, Any]) -> str:
    """``progress 14  completed  100%  Done: the ePub is written``."""
    completion = p.get("completion")
    percent = f"{float(completion):.0f}%" if completion is not None else ""
    return "  ".join(
        x
        for x in (f"progress {p['id']}", p.get("workflow_state") or "", percent, p.get("message") or "")
        if x
    )


def describe_export(ce: dict[str, Any], progress: dict[str, Any] | None = None) -> str:
    """An export in a few lines; its Progress by id and state (``progress``: as read now), never
    by URL: text output is for people, and the URL names a server that may not be running."""
    # any field may be missing or odd (canvasapi's minimal fixtures, other Canvas versions): never a KeyError
    head = (
        f"export {ce.get('id', '?')}",
        str(ce.get("export_type") or "?"),
        str(ce.get("workflow_state") or "state unknown"),
        f"created {ce['created_at']}" if ce.get("created_at") else "",
    )
    lines = ["  ".join(x for x in head if x)]
    att = ce.get("attachment") or ce.get("epub_attachment")
    if att:
        lines.append(f"  file: {att.get('path') or att.get('url')}  ({human_size(att.get('size'))})")
    if ce.get("zip_attachment"):
        z = ce["zip_attachment"]
        lines.append(f"  companion zip: {z.get('path') or z.get('url')}  ({human_size(z.get('size'))})")
    if progress:
        lines.append(f"  {describe_progress(progress)}")
    elif progress_id_of(ce.get("progress_url")) is not None:
        lines.append(f"  progress {progress_id_of(ce.get('progress_url'))}")
    for err in ce.get("errors") or []:
        lines.append(f"  ! {err}")
    return "\n".join(lines)


class ProgressBar:
    """A progress bar on stderr.  On a terminal, ``rich.progress`` draws one line that fits the
    terminal's width (measured on the stream itself) and is redrawn in place; otherwise (a pipe,
    a log file) a plain line at each tenth of the way, so a long download is a dozen lines."""

    #: at most this many redraws a second on a terminal (a download reports every chunk)
    REDRAWS_PER_SECOND = 10

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = _isatty(self.stream)
        self._last_step = -1
        self._last_drawn = 0.0
        self._progress = None
        if self.tty:
            self._start_bar()

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
        from rich.table import Column

        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            width = None  # rich's own guess
        console = Console(file=self.stream, width=width, force_terminal=True, highlight=False)
        self._progress = Progress(
            TextColumn("{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=2)),
            BarColumn(bar_width=None, table_column=Column(ratio=2)),
            TaskProgressColumn(),
            TextColumn(
                "{task.fields[note]}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=3)
            ),
            console=console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
            expand=True,
        )
        self._task = self._progress.add_task(self.label, total=100, note="")
        self._progress.start()

    def update(self, percent: float, state: str, message: str | None = None) -> None:
        percent = max(0.0, min(100.0, percent))
        if self._progress is not None:
            note = f"{state} {message or ''}".strip()
            self._progress.update(self._task, completed=percent, note=note)
            now = time.monotonic()
            if percent >= 100 or now - self._last_drawn >= 1 / self.REDRAWS_PER_SECOND:
                self._last_drawn = now
                self._progress.refresh()
            return
        step = int(percent // 10)
        if step != self._last_step:
            self._last_step = step
            self.stream.write(f"{self.label}: {percent:.0f}% {state}\n")
            self.stream.flush()

    def done(self) -> None:
        if self._progress is not None:
            self._progress.refresh()
            self._progress.stop()
            self._progress = None


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False

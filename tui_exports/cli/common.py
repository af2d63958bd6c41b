"""What the local and the Canvas CLI share: exit codes, checking the config file, reading
``--select`` and the context arguments, and writing JSON, sizes, exports and progress bars."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..backends.base import BackendError
from ..backends.profiles import profiles_of
from ..config import Config
from ..model import ContextType
from ..paths import Home
from ..tui.format import human_size  # plain text, no Textual: the app's sizes are the CLI's

EXIT_OK, EXIT_FAILED, EXIT_BAD_REQUEST = 0, 1, 2


# ------------------------------------------------------------------ config


def check_config(home: Home) -> None:
    """The whole config file, once, before any command: a bad ``[keys]``, ``theme``, ``[engine]``
    or ``[profiles.NAME]`` value is a ConfigError (one line naming the file and the key)."""
    from ..engine.settings import Settings

    config = Config.load(home.config_file)
    config.keys()
    config.theme()
    Settings.from_config(config)
    profiles_of(config)
    config.server()


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
    """``pages=1,2 files=7 all_quizzes everything`` → a select hash."""
    if not values:
        return None
    select: dict[str, Any] = {}
    for value in values:
        for part in value.split():
            key, eq, ids = part.partition("=")
            if not eq:
                select[key] = True
                continue
            if key.startswith("all_") or key in ("everything", "syllabus_body"):
                select[key] = ids
                continue
            items = [i.strip() for i in ids.split(",") if i.strip()]
            # only ASCII digits are an id (not ١٢); the engine refuses the rest, naming them
            select.setdefault(key, []).extend(
                int(i) if i.isascii() and i.isdigit() and len(i) <= 19 else i for i in items
            )
    return select


def export_context(args) -> tuple[ContextType, int]:
    """The context an export command names: exactly one of COURSE_ID, ``--group`` or ``--user``."""
    chosen = [x for x in (args.group, args.user) if x is not None]
    if len(chosen) > 1 or (chosen and args.course_id is not None):
        raise BackendError("give one of COURSE_ID, --group ID or --user ID", 400)
    if args.group is not None:
        return ContextType.GROUP, args.group
    if args.user is not None:
        return ContextType.USER, args.user
    if args.course_id is None:
        raise BackendError("give a COURSE_ID, --group ID or --user ID", 400)
    return ContextType.COURSE, args.course_id


# ------------------------------------------------------------------ output


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def describe_export(ce: dict[str, Any]) -> str:
    lines = [f"export {ce['id']}  {ce['export_type']}  {ce['workflow_state']}  created {ce['created_at']}"]
    att = ce.get("attachment") or ce.get("epub_attachment")
    if att:
        lines.append(f"  file: {att.get('path') or att.get('url')}  ({human_size(att.get('size'))})")
    if ce.get("zip_attachment"):
        z = ce["zip_attachment"]
        lines.append(f"  companion zip: {z.get('path') or z.get('url')}  ({human_size(z.get('size'))})")
    if ce.get("progress_url"):
        lines.append(f"  progress: {ce['progress_url']}")
    for err in ce.get("errors") or []:
        lines.append(f"  ! {err}")
    return "\n".join(lines)


class ProgressBar:
    """A progress bar on stderr: redrawn in place on a terminal, a line per 10 % otherwise."""

    WIDTH = 30

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last_step = -1
        self._last_text = ""

    def update(self, percent: float, state: str, message: str | None = None) -> None:
        percent = max(0.0, min(100.0, percent))
        if self.tty:
            filled = int(self.WIDTH * percent / 100)
            bar = "█" * filled + "░" * (self.WIDTH - filled)
            text = f"\r{self.label} [{bar}] {percent:5.1f}% {state:<10} {(message or '')[:40]:<40}"
            if text != self._last_text:
                self.stream.write(text)
                self.stream.flush()
                self._last_text = text
        else:
            step = int(percent // 10)
            if step != self._last_step:
                self._last_step = step
                self.stream.write(f"{self.label}: {percent:.0f}% {state}\n")
                self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

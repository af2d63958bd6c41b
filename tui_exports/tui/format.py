"""Plain formatting for the screens: words, glyphs, sizes, times (no Textual here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..model import (  # noqa: F401 - the fronts' names for them
    DONE_STATES,
    RUNNING_STATES,
    is_downloadable,
    is_failed,
    is_running,
    was_canceled,
)
from ..vocab import FORMATS, PICKER_ORDER, SELECT_VOCAB

#: Every state as a glyph *and* a word: colour is never the only signal.
STATE_GLYPHS = {
    "created": "○",
    "queued": "○",
    "waiting_for_external_tool": "…",
    "exporting": "◔",
    "generating": "◑",
    "running": "◔",
    "exported": "✓",
    "exported_for_course_copy": "✓",
    "generated": "✓",
    "completed": "✓",
    "failed": "✗",
    "canceled": "⊘",
    "deleted": "–",
}

#: Export types the new-export dialog offers, in order: value → label (``vocab.FORMATS``).
EXPORT_TYPES = {f.name: f.label for f in FORMATS}
SHORT_TYPES = {f.name: f.short for f in FORMATS}

#: The picker's branches: ``select`` key as the API takes it → heading (``vocab.SELECT_VOCAB``).
SELECT_BRANCHES = {t.api: t.heading for t in PICKER_ORDER if t.heading}
#: ``content_list`` keys (the engine's canonical names) → the API aliases we send.
API_KEYS = {t.key: t.api for t in SELECT_VOCAB if t.aliases}


def state_text(state: str | None) -> str:
    state = state or "unknown"
    return f"{STATE_GLYPHS.get(state, '?')} {state.replace('_', ' ')}"


def shown_state(export: dict[str, Any] | None, progress: dict[str, Any] | None = None) -> str | None:
    """The state to show: ``canceled`` for a canceled export, else its workflow state."""
    return "canceled" if was_canceled(export, progress) else (export or {}).get("workflow_state")


def bar(completion: float | None, width: int = 10) -> str:
    """``▰▰▰▱▱▱▱▱▱▱  30%``: a text progress bar for a table cell."""
    pct = max(0.0, min(100.0, completion or 0.0))
    full = round(pct / 100 * width)
    return "▰" * full + "▱" * (width - full) + f" {pct:3.0f}%"


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""  # pragma: no cover


def parse_time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def short_time(stamp: str | None) -> str:
    """Canvas's UTC stamp shown as ``2026-11-23 04:48`` (UTC, so it reads the same everywhere)."""
    dt = parse_time(stamp)
    return dt.strftime("%Y-%m-%d %H:%M") if dt else ""


def course_dates(start: str | None, end: str | None) -> str:
    a, b = parse_time(start), parse_time(end)
    if not a and not b:
        return ""
    return f"{a.strftime('%b %Y') if a else '…'}–{b.strftime('%b %Y') if b else '…'}"


def attachment_of(export: dict[str, Any]) -> dict[str, Any] | None:
    """The finished file of a ContentExport or the ``.epub`` of an EpubExport."""
    return export.get("attachment") or export.get("epub_attachment")


def path_of(export: dict[str, Any] | None) -> str | None:
    att = attachment_of(export or {})
    return att.get("path") if att else None


def file_name(path: str | None) -> str:
    """The history's File column: the name (the detail panel has the whole path)."""
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else ""


def api_fields(export: dict[str, Any]) -> dict[str, Any]:
    """The API object without the screen's own ``_`` keys (such as ``_scope``)."""
    return {k: v for k, v in export.items() if not k.startswith("_")}


def select_preview(select: dict[str, Any] | None) -> str:
    """The select hash on one line per key, as the API receives it."""
    if not select:
        return "{}  (nothing ticked: the default, everything this export type carries)"
    parts = [f'  "{k}": {v if not isinstance(v, bool) else str(v).lower()}' for k, v in select.items()]
    return "{\n" + ",\n".join(parts) + "\n}"

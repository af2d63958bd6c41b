"""Following a job and fetching its files with bars on stderr: what the local and the Canvas
CLI both do (``--wait``, ``show --download``), through ``Backend.follow`` and ``Backend.download``."""

from __future__ import annotations

from typing import Any

from ..backends.base import Backend
from ..model import ContextType, is_failed
from .common import ProgressBar, human_size


def follow_with_bar(
    backend: Backend,
    kind: str,
    context_type: ContextType,
    context_id: int,
    export: dict[str, Any],
    label: str,
    *,
    interval: float | None = None,
    show: str = "export",
) -> dict[str, Any]:
    """Follow the job to its end with a bar; returns the export in its final state.  The bar's
    word is the export's state (``show="export"``) or its Progress's (``show="progress"``)."""
    bar = ProgressBar(label)

    def moved(progress: dict[str, Any], current: dict[str, Any]) -> None:
        if progress:
            word = (progress if show == "progress" else current).get("workflow_state", "")
            bar.update(float(progress.get("completion") or 0), word, progress.get("message"))

    try:
        export = backend.follow(kind, context_type, context_id, export, moved, interval=interval)
        if show == "export" and not is_failed(export.get("workflow_state"), kind):
            bar.update(100, export["workflow_state"])
    finally:
        bar.done()
    return export


def download_with_bars(backend: Backend, kind: str, export: dict[str, Any]) -> dict[str, Any]:
    """The export with each of its files on this disk (a ``path``), a bar per file fetched."""
    bars: list[tuple[dict[str, Any], ProgressBar]] = []  # one per file, the last one drawing

    def tick(att: dict[str, Any], done: int, total: int | None) -> None:
        if not bars or bars[-1][0] is not att:
            if bars:
                bars[-1][1].done()
            name = att.get("filename") or att.get("display_name") or att.get("id")
            bars.append((att, ProgressBar(f"download {name}")))
        bars[-1][1].update(100.0 * done / total if total else 0.0, human_size(done))

    try:
        return backend.download(kind, export, tick)
    finally:
        if bars:
            bars[-1][1].done()

"""Room on disk for an export: its size estimated before it starts (the bytes of the files it
carries, as many times as its format writes them, and a margin for its text), a refusal when
it obviously cannot fit in the exports folder, and what a full disk says when it fills anyway."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..model import CourseSnapshot, Selection
from ..vocab import ExportFormat

MB = 1024 * 1024
#: the package's own files (manifest, settings, the book's frame), and each item as text
BASE_BYTES = 64 * 1024
ITEM_BYTES = 8 * 1024
#: the job's settings key holding the estimate made when it was queued
ESTIMATE_KEY = "estimated_bytes"


def estimate(snap: CourseSnapshot, selection: Selection, fmt: ExportFormat) -> int:
    """Bytes an export of ``selection`` will take in the exports folder (an estimate from above
    for text, exact for the files it carries; files only linked from HTML are not counted)."""
    sizes = {f.id: f.size or 0 for f in snap.files}
    files = sum(sizes.get(i, 0) for i in selection.of("attachments")) if fmt.allows("attachments") else 0
    items = sum(
        len(ids) for t, ids in selection.ids.items() if t not in ("attachments", "folders") and fmt.allows(t)
    )
    return files * fmt.file_copies + BASE_BYTES + ITEM_BYTES * items


def free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def refusal(folder: Path, needed: int) -> str | None:
    """Why an export of ``needed`` bytes cannot start in ``folder`` (None when it fits)."""
    free = free_bytes(folder)
    if free is None or needed <= free:
        return None
    return (
        f"not enough space on device for this export (needed ~{mb(needed)} MB, free {mb(free)} MB): "
        "free some space and try again"
    )


def no_space(folder: Path, needed: int | None = None) -> str:
    """The reason a job that filled the disk fails with (measured after its files were removed);
    ``needed``: what it would have written, when known."""
    free = free_bytes(folder)
    said = [f"needed ~{mb(needed)} MB"] if needed is not None else []
    said += [f"free {mb(free)} MB"] if free is not None else []
    room = f" ({', '.join(said)})" if said else ""
    return f"no space left on device{room}: free some space and start the export again"


def used_bytes(folder: Path) -> int:
    """What a job's work folder holds now (what it had written when the disk filled)."""
    total = 0
    for path in folder.rglob("*") if folder.is_dir() else []:
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:
            pass
    return total


def mb(n: int) -> str:
    """Megabytes as people read them: one decimal below 10 MB, whole above."""
    return f"{n / MB:.1f}" if n < 10 * MB else f"{n / MB:.0f}"

"""``export_type=zip``: the files and folders of a course, group or user (spec §6).

Paths are relative to the deepest folder shared by everything selected, every folder
gets an explicit directory entry (empty ones too), every entry carries the export
time in the course's time zone, and bytes are streamed chunk by chunk: memory stays
flat however large the files are.  Deflate runs beside the writer (:mod:`.common.zipwriter`).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..model import CourseSnapshot, ExportResult, File, Folder, OutputFile, ProgressFn
from ..vocab import FORMAT_BY_NAME
from .common.compression import compress_type
from .common.zipwriter import ZipWriter

CHUNK = 1 << 20
_UNSAFE = re.compile(r'[\x00 /\\?:*"]')


def archive_name(folder_name: str) -> str:
    """Canvas's ``<folder>_export.zip`` with NUL, space, slashes and ``?:*"`` made ``_``."""
    return FORMAT_BY_NAME["zip"].file_for(_UNSAFE.sub("_", folder_name))


def dos_time(moment: datetime, time_zone: str) -> tuple[int, int, int, int, int, int]:
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)


class _Tree:
    def __init__(self, folders: list[Folder]):
        self.by_id = {f.id: f for f in folders}

    def chain(self, folder_id: int | None) -> list[Folder]:
        """Root first, down to ``folder_id``."""
        out = []
        while folder_id is not None and folder_id in self.by_id:
            f = self.by_id[folder_id]
            out.append(f)
            folder_id = f.parent_id
        return out[::-1]


def _common_prefix(chains: list[list[Folder]]) -> list[Folder]:
    if not chains:
        return []
    prefix = chains[0]
    for c in chains[1:]:
        n = 0
        while n < min(len(prefix), len(c)) and prefix[n].id == c[n].id:
            n += 1
        prefix = prefix[:n]
    return prefix


def export_zip(snapshot: CourseSnapshot, workdir: Path, progress: ProgressFn) -> ExportResult:
    sel = snapshot.selection
    tree = _Tree(snapshot.folders)
    folders = [f for f in snapshot.folders if sel.has("folders", f.id)]
    files = [f for f in snapshot.files if sel.has("attachments", f.id) and f.folder_id in tree.by_id]
    root = snapshot.root_folder()

    # the deepest folder that holds everything selected (a selected folder counts from its parent)
    chains = [tree.chain(f.parent_id) for f in folders] + [tree.chain(f.folder_id) for f in files]
    if root is not None and sel.has("folders", root.id):
        base = [root]
    else:
        base = _common_prefix(chains) or ([root] if root else [])
    base_id = base[-1].id if base else None
    name = archive_name(base[-1].name if base else "files")

    def rel_dir(folder: Folder) -> str:
        chain = tree.chain(folder.id)
        names = [f.name for f in chain[len(base) :]]
        return "/".join(names)

    dirs: set[str] = set()
    for f in folders:
        if f.id != base_id:
            d = rel_dir(f)
            if d:
                dirs.add(d)
    for f in files:
        d = rel_dir(tree.by_id[f.folder_id])
        while d:
            dirs.add(d)
            d = posixpath.dirname(d)

    stamp = dos_time(snapshot.exported_at, snapshot.course.time_zone)
    warnings: list[str] = []
    total = sum(f.size for f in files) or 1
    copied = 0
    out_path = workdir / name
    used: set[str] = set()
    with ZipWriter(out_path) as zf:
        for d in sorted(dirs):
            info = zipfile.ZipInfo(d + "/", date_time=stamp)
            info.external_attr = 0o40755 << 16 | 0x10
            zf.writestr(info, b"")
            used.add(d + "/")
        progress(0, f"{len(files)} files")
        for f in files:
            entry = _unique(posixpath.join(rel_dir(tree.by_id[f.folder_id]), f.display_name), used)
            try:
                if f.blob_path is None:
                    raise FileNotFoundError("its bytes are missing from the library")
                src = open(f.blob_path, "rb")
            except OSError as e:
                warnings.append(
                    f"Skipped file {f.display_name} due to error: {getattr(e, 'strerror', None) or e}"
                )
                copied += f.size
                continue
            with src:
                info = zipfile.ZipInfo(entry, date_time=stamp)
                info.compress_type = compress_type(f.display_name, f.content_type)
                info.external_attr = 0o644 << 16
                with zf.open(info, force_zip64=f.size > 0x7FFF0000) as dst:
                    while chunk := src.read(CHUNK):
                        dst.write(chunk)
                        copied += len(chunk)
                        progress(min(99.0, copied * 100 / total), None)
            progress(min(99.0, copied * 100 / total), f"added {entry}")
    if not files:  # Canvas makes the empty zip silently; say so
        warnings.append("the zip is empty: there were no files to export")
    progress(100, None)
    return ExportResult([OutputFile(out_path, "application/zip", zf.sha256)], warnings)


def _unique(path: str, used: set[str]) -> str:
    """Two files with one display name in one folder: the second becomes ``name (1).ext``."""
    if path not in used:
        used.add(path)
        return path
    stem, ext = posixpath.splitext(path)
    n = 1
    while f"{stem} ({n}){ext}" in used:
        n += 1
    used.add(f"{stem} ({n}){ext}")
    return f"{stem} ({n}){ext}"


def files_of(snapshot: CourseSnapshot) -> list[File]:
    """The files a zip of this snapshot would carry (for previews and counts)."""
    return [f for f in snapshot.files if snapshot.selection.has("attachments", f.id)]

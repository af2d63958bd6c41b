"""Importers: read untrusted packages (cartridges, QTI zips, course folders) into the library.

:func:`import_path` is the one entry point: it tells what ``path`` is and hands it to the
reader for that kind of package.  Every reader writes the whole course inside one transaction
and removes the blobs it wrote when anything fails, so a failed import leaves the library as
it was; it raises :class:`PackageError` (one line, naming the entry at fault) for a package it
cannot read, and records everything it read but could not keep as warnings in the report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import ImportReport

if TYPE_CHECKING:
    from ..store import Library

#: ``progress(done, total, what)``: units done of ``total`` (None: unknown yet), and what is read now.
ImportProgress = Callable[[int, int | None, str], None]


class PackageError(ValueError):
    """A package that cannot be imported; the message is one line naming the path or entry."""


def import_path(library: Library, path: Path, *, progress: ImportProgress | None = None) -> ImportReport:
    """Import the package or course folder at ``path`` as one new course; returns its report."""
    from .course_folder import add_course_folder

    path = Path(path)
    if path.is_dir() and (path / "course.toml").is_file():
        loaded = add_course_folder(library, path)
        report = ImportReport(loaded.course_id, loaded.name, "course folder")
        for w in loaded.warnings:
            report.warn(w)
        return report
    from .qti import import_qti_zip, is_qti_zip

    if path.is_file() and is_qti_zip(path):
        return import_qti_zip(library, path, progress=progress)
    raise PackageError(f"{path}: not a package this version can import (a course folder has a course.toml)")

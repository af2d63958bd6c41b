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

from ..model import Enrollment, ImportCount, ImportReport, Role

if TYPE_CHECKING:
    from ..store import Library

#: ``progress(done, total, what)``: units done of ``total`` (None: unknown yet), and what is read now.
ImportProgress = Callable[[int, int | None, str], None]


class PackageError(ValueError):
    """A package that cannot be imported; the message is one line naming the path or entry."""


def import_path(
    library: Library, path: Path, *, teacher_id: int | None = None, progress: ImportProgress | None = None
) -> ImportReport:
    """Import the package or course folder at ``path`` as one new course, taught by
    ``teacher_id`` when given; returns its report.  The course, its enrollment and every row
    go in one transaction; on any failure it is rolled back and the blobs written are removed."""
    from .course_folder import add_course_folder
    from .qti import import_qti_zip, is_qti_zip

    path = Path(path)
    if not path.exists():
        raise PackageError(f"{path}: no such file or folder")
    with library.transaction():
        if path.is_dir() and (path / "course.toml").is_file():
            loaded = add_course_folder(library, path)
            report = ImportReport(loaded.course_id, loaded.name, "course folder")
            for key, n in loaded.counts.items():  # a folder is read whole or refused: all kept
                report.types[key] = ImportCount(read=n, kept=n)
            for w in loaded.warnings:
                report.warn(w)
        elif path.is_file() and is_qti_zip(path):
            report = import_qti_zip(library, path, progress=progress)
        else:
            raise PackageError(
                f"{path}: not a package this version can import (a course folder has a course.toml)"
            )
        if teacher_id is not None:
            library.content.enroll(Enrollment(teacher_id, report.course_id, Role.TEACHER))
    return report

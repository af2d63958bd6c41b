"""Importers: read untrusted packages (cartridges, QTI zips, course folders) into the library.

:func:`import_path` is the one entry point: it tells what ``path`` is and hands it to the
reader for that kind of package.  It owns the one transaction the whole course is written
in, the teacher's enrollment, and the list of blobs every reader writes (taken away again
when anything fails), so a failed import leaves the library as it was.  A reader raises
:class:`PackageError` (one line, naming the entry at fault) for a package it cannot read,
and records everything it read but could not keep as warnings in the report.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config, ImportLimits
from ..model import Enrollment, ImportCount, ImportReport, Role

if TYPE_CHECKING:
    from ..store import Library

#: ``progress(done, total, what)``: units done of ``total`` (None: unknown yet), and what is read now.
ImportProgress = Callable[[int, int | None, str], None]


class PackageError(ValueError):
    """A package that cannot be imported; the message is one line naming the path or entry."""


def import_path(
    library: Library,
    path: Path,
    *,
    progress: ImportProgress | None = None,
    limits: ImportLimits | None = None,
    teacher_id: int | None = None,
) -> ImportReport:
    """Import the package or course folder at ``path`` as one new course; returns its report.

    ``limits`` (the zip-bomb caps) default to the library's ``config.toml`` ``[import]`` table.
    ``teacher_id`` teaches the course (a package brings no people; a course folder names its
    own, and the importing user is added as its teacher when the folder does not enrol them)."""
    from .cartridge import import_cartridge
    from .course_folder import add_course_folder
    from .qti import import_qti_zip

    path = Path(path)
    if not path.exists():
        raise PackageError(f"{path}: no such file or folder")
    if not path.is_dir() and not path.is_file():
        raise PackageError(f"{path}: not a file or a folder")
    created: list[str] = []  # every blob this import writes: taken away again if it fails

    def course_folder() -> ImportReport:
        loaded = add_course_folder(library, path, created=created)
        report = ImportReport(loaded.course_id, loaded.name, "course folder")
        for key, n in loaded.counts.items():  # a folder is read whole or refused: all kept
            report.types[key] = ImportCount(read=n, kept=n)
        for w in loaded.warnings:
            report.warn(w)
        return report

    def qti_zip() -> ImportReport:
        """A plain IMS content package of QTI (Canvas's quiz export, other tools'), or QTI files alone."""
        return import_qti_zip(library, path, progress=progress, created=created)

    def cartridge() -> ImportReport:
        return import_cartridge(
            library,
            path,
            progress=progress,
            limits=limits or Config.load(library.home.config_file).import_limits(),
            created=created,
            qti_zip=qti_zip,
        )

    read = course_folder if path.is_dir() and (path / "course.toml").is_file() else cartridge
    try:
        with library.transaction():  # the course, its content and its teacher, or nothing
            report = read()
            if teacher_id is not None and library.content.user(teacher_id) is not None:
                library.content.enroll(Enrollment(teacher_id, report.course_id, Role.TEACHER))
    except BaseException as e:
        library.blobs.remove(created)  # no orphan blobs: the library is as it was
        if isinstance(e, (OSError, EOFError, zipfile.BadZipFile)):
            reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
            raise PackageError(f"{path}: cannot be read: {reason}"[:300]) from None
        raise
    return report

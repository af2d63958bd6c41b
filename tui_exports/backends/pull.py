"""Copying a course from a Canvas instance into the local library: Canvas writes a Common
Cartridge of it (a ``common_cartridge`` content export), we follow its Progress, download the
package (resuming a partial one) and import it.  The course can then be exported offline in
every format, ePub included, even where the instance has ePub export turned off.

The CLI (``import --from-profile``) and the app (*Copy this course into the local library*)
both run :func:`pull_course`; each passes how it follows and downloads (with its own bars).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..model import ContextType, is_downloadable
from .base import Backend, BackendError, ImportProgress, ImportResult, final_progress
from .canvas import no_file
from .local import LocalBackend

#: ``follow(export) -> export``: the started export followed to its end.
Follow = Callable[[dict[str, Any]], dict[str, Any]]
#: ``download(export) -> export``: the finished export with its file on this disk (``path``).
Download = Callable[[dict[str, Any]], dict[str, Any]]


def start_course_export(remote: Backend, course_id: int) -> dict[str, Any]:
    """Ask the instance for a Common Cartridge of the whole course (Canvas's default select)."""
    return remote.create_content_export(ContextType.COURSE, course_id, "common_cartridge", None)


def pull_course(
    remote: Backend,
    local: LocalBackend,
    course_id: int,
    *,
    follow: Follow,
    download: Download,
    progress: ImportProgress | None = None,
    keep_package: bool = False,
) -> ImportResult:
    """Export course ``course_id`` on ``remote`` as a cartridge and import it into ``local``.

    The downloaded package is removed once imported (``keep_package`` keeps it); when anything
    fails it stays where the download put it, so a second run resumes the download."""
    export = follow(start_course_export(remote, course_id))
    if not is_downloadable(export.get("workflow_state"), "content") or not export.get("attachment"):
        raise no_file("content", export, progress=final_progress(remote, export))
    export = download(export)
    path = Path(export["attachment"]["path"])
    try:
        result = local.import_package(path, progress)
    except BackendError as e:
        raise BackendError(
            f"the cartridge Canvas wrote for course {course_id} ({path}): {e}", e.status
        ) from e
    if not keep_package:
        path.unlink(missing_ok=True)
    return result

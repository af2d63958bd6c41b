"""Course files in a package: ``web_resources/<folder path>/<display name>`` (spec §4.3).

Paths are decided before any HTML is written, because the link rewriter must know
where each file will live; blobs are copied last (Canvas's order, progress 60→70).
A file whose blob is missing or unreadable is skipped with a warning and links to
it stay pointing at the course.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...model import CourseSnapshot, File
from .package import PackageWriter, Stepper

WEB_RESOURCES = "web_resources"


@dataclass
class PlannedFile:
    file: File
    path: str  # entry name in the zip, e.g. "web_resources/docs/notes.pdf"

    @property
    def below_root(self) -> str:
        return self.path[len(WEB_RESOURCES) + 1 :]


def plan_files(
    pkg: PackageWriter, snapshot: CourseSnapshot, files: list[File], warnings: list[str]
) -> list[PlannedFile]:
    """Reserve a zip path for every file that can be copied."""
    planned = []
    for f in files:
        if f.blob_path is None or not f.blob_path.is_file():
            warnings.append(f'Skipped file "{f.display_name}" (id {f.id}): its content is missing')
            continue
        planned.append(PlannedFile(f, pkg.unique(f"{WEB_RESOURCES}/{snapshot.file_path(f)}")))
    return planned


def copy_files(
    pkg: PackageWriter, planned: list[PlannedFile], steps: Stepper, end: float, warnings: list[str]
) -> list[PlannedFile]:
    """Stream each planned file into the zip, advancing progress by bytes; returns those written."""
    steps.step(end, sum(max(p.file.size, 1) for p in planned) or 1, "Copying files")
    written = []
    for p in planned:
        size = max(p.file.size, 1)
        try:
            copied = pkg.copy_file(
                p.path,
                p.file.blob_path,
                p.file.size,
                p.file.content_type,
                on_bytes=lambda n: steps.advance(n),
            )
        except OSError as e:
            warnings.append(
                f'Skipped file "{p.file.display_name}" (id {p.file.id}) due to error: {e.strerror or e}'
            )
            if pkg.last_entry == p.path:  # failed mid-copy: the entry exists, keep it referenced
                written.append(p)
            steps.advance(size)
            continue
        steps.advance(max(0, size - copied))
        written.append(p)
    steps.finish()
    return written

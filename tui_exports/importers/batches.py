"""Writing one course in batches, inside the one transaction ``import_path`` holds: an importer
holds one batch of bodies at a time, however large the package or the course folder."""

from __future__ import annotations

from typing import Any

from ..model import Course
from ..store import CourseBundle, Library

BATCH = 200  # pages, assignments, topics and quiz questions written at a time


class Batches:
    """The course's content lists (pages … modules), written ``BATCH`` items at a time; a quiz
    weighs its questions too, a module its items.  ``counts`` is what has been written, by select type, as
    :meth:`CourseBundle.counts` counts it."""

    def __init__(self, library: Library, course: Course):
        self.library, self.course = library, course
        self.bundle = CourseBundle(course=course)
        self.pending = 0
        self.counts: dict[str, int] = {}

    def begin(self, bundle: CourseBundle) -> None:
        """The course row, its people, groups and file trees (and whatever else ``bundle`` holds)."""
        self._count(bundle)
        self.library.content.insert_course(bundle)

    def add(self, lists: str, obj: Any) -> None:
        """Keep ``obj`` in the bundle's list ``lists`` (``pages``…): it goes into the next batch."""
        getattr(self.bundle, lists).append(obj)
        self.pending += 1 + len(getattr(obj, "questions", ()) or getattr(obj, "items", ()))
        if self.pending >= BATCH:
            self.flush()

    def flush(self) -> None:
        self._count(self.bundle)
        self.library.content.insert_content(self.bundle)
        self.bundle = CourseBundle(course=self.course)
        self.pending = 0

    def _count(self, bundle: CourseBundle) -> None:
        for key, n in bundle.counts().items():
            self.counts[key] = self.counts.get(key, 0) + n

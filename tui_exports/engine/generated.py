"""Synthetic courses (``library generate``): the engine's door to the generator, so that fronts
never import an importer. A bad size or an existing folder is a BadRequest, as any bad request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..importers.synthetic import CourseSpec
from ..importers.synthetic import write_course_folder as _write_course_folder
from .errors import BadRequest


def course_spec(**fields: Any) -> CourseSpec:
    """A generated course's sizes (``CourseSpec``), refused with the reason when out of range."""
    try:
        return CourseSpec(**fields)
    except ValueError as e:
        raise BadRequest(str(e)) from None


def write_course_folder(spec: CourseSpec, out: Path, progress: Callable[[str], None] | None = None) -> Path:
    """Write the course as a course folder (the ``data/`` format) instead of into a library."""
    try:
        return _write_course_folder(spec, out, progress=progress)
    except FileExistsError as e:
        raise BadRequest(str(e)) from None

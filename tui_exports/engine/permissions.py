"""Who may do what (spec §1.7 and §3.2), as pure functions of a user's standing.

Canvas answers 401 with one fixed message; we keep that body and add a
``reason`` in plain words, so nobody has to guess (Canvas issue #1458).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import (
    SELECT_TYPES,
    ContentExport,
    ContextType,
    Course,
    Enrollment,
    EpubExport,
    EpubExportState,
    ExportType,
    Role,
    is_downloadable,
)
from ..store.exports import VisibleTo
from ..vocab import CONTENT_FORMATS, FORMAT_BY_NAME, formats_for
from .errors import BadRequest, Unauthorized

#: export types allowed per context (spec §1.6; ``vocab.FORMATS``): groups and users only zip.
TYPES_FOR_CONTEXT = {c: tuple(ExportType(f.name) for f in formats_for(c.value)) for c in ContextType}

#: Exports everyone may make of what they can read; the rest need read_as_admin
#: (Canvas's user_data export is one too, though this library never makes it).
NON_ADMIN_TYPES = (*(f.name for f in CONTENT_FORMATS if not f.admin_only), "user_data")


#: Roles, strongest first: a user with two enrollments in a course stands in the stronger.
ROLE_ORDER = (Role.TEACHER, Role.TA, Role.DESIGNER, Role.STUDENT, Role.OBSERVER)


@dataclass(frozen=True)
class Standing:
    """A user's place in one course: strongest role, and whether it is still current."""

    user_id: int
    role: Role | None
    current: bool  # an active enrollment in a course that has not concluded

    @classmethod
    def of(cls, user_id: int, course: Course, enrollments: list[Enrollment]) -> Standing:
        roles = {e.role for e in enrollments}
        role = next((r for r in ROLE_ORDER if r in roles), None)
        current = not course.concluded and any(e.state == "active" and e.role == role for e in enrollments)
        return cls(user_id, role, current)

    @property
    def can_read(self) -> bool:
        return self.role is not None

    @property
    def is_admin(self) -> bool:
        """Canvas's read_as_admin (teachers, TAs, designers; concluded ones keep it)."""
        return self.role is not None and self.role.is_admin


def check_export_type(context: ContextType, export_type: str | None) -> ExportType:
    allowed = TYPES_FOR_CONTEXT[context]
    if export_type not in [t.value for t in allowed]:
        what = ", ".join(t.value for t in allowed)
        raise BadRequest(
            "invalid export_type",
            [
                {
                    "field": "export_type",
                    "message": f"'{export_type}' is not one of: {what} (for a {context.value.lower()})",
                }
            ],
        )
    return ExportType(export_type)


def allowed_select_types(context: ContextType, export_type: str | None) -> dict[str, str | None]:
    """Every ``select`` type, and why this export type cannot carry it here (None: it can).

    What a picker greys out before anyone ticks: the format's own types, and for a type
    this context does not take at all, that refusal on every select type."""
    try:
        etype = check_export_type(context, export_type)
    except BadRequest as e:
        why = e.errors[0]["message"]
        return {t: why for t in SELECT_TYPES}
    fmt = FORMAT_BY_NAME[etype.value]
    return {t: None if fmt.allows(t) else fmt.refusal for t in SELECT_TYPES}


def check_course_create(standing: Standing, export_type: ExportType) -> None:
    if not standing.can_read:
        raise Unauthorized("you are not enrolled in this course")
    if export_type.value not in NON_ADMIN_TYPES and not standing.is_admin:
        raise Unauthorized(
            f"a {standing.role.value} may only export files (export_type=zip); "
            f"{export_type.value} needs a teacher, TA or designer"
        )


def can_read_export(user_id: int, standing: Standing | None, export: ContentExport) -> bool:
    """Show: your own exports; for course admins also every non-zip course export."""
    if export.user_id == user_id:
        return standing is None or standing.can_read
    return (
        export.context_type is ContextType.COURSE
        and standing is not None
        and standing.is_admin
        and export.export_type not in NON_ADMIN_TYPES
    )


def index_visibility(user_id: int, standing: Standing | None, context_type: ContextType) -> VisibleTo:
    """Canvas's index scopes (spec §1.7): course admins see every course export but others'
    zip/user_data; everyone else (and every group/user context) sees only their own."""
    if context_type is ContextType.COURSE and standing is not None and standing.is_admin:
        return VisibleTo(user_id, others_except=NON_ADMIN_TYPES)
    return VisibleTo(user_id)


def check_read_export(user_id: int, standing: Standing | None, export: ContentExport) -> None:
    if not can_read_export(user_id, standing, export):
        if export.export_type in NON_ADMIN_TYPES:
            raise Unauthorized("a files (zip) export can only be read by the person who made it")
        raise Unauthorized("only the person who made this export, or a teacher of the course, may read it")


# ---------------------------------------------------------------- ePub (spec §3.2)


def check_epub_create(standing: Standing) -> None:
    if standing.is_admin:
        return
    if standing.role is Role.STUDENT and standing.current:
        return
    if standing.role is Role.STUDENT:
        raise Unauthorized(
            "this course has concluded for you, so you can no longer create an ePub of it; "
            "ePubs made before it concluded are still listed"
        )
    if standing.role is None:
        raise Unauthorized("you are not enrolled in this course")
    raise Unauthorized(f"a {standing.role.value} cannot create ePub exports")


def can_create_epub(standing: Standing) -> bool:
    try:
        check_epub_create(standing)
    except Unauthorized:
        return False
    return True


def check_epub_read(user_id: int, standing: Standing, epub: EpubExport) -> None:
    if epub.user_id != user_id and not standing.is_admin:
        raise Unauthorized("only the person who made this ePub, or a teacher of the course, may read it")


def epub_permissions(user_id: int, standing: Standing, epub: EpubExport) -> dict[str, bool]:
    readable = epub.user_id == user_id or standing.is_admin
    return {
        "download": readable and is_downloadable(epub.workflow_state, "epub"),
        "regenerate": epub.workflow_state in (EpubExportState.GENERATED, EpubExportState.FAILED)
        and can_create_epub(standing),
    }

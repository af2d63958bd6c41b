"""Telling a person that an export ended (spec §1.4): the one place notifications are written."""

from __future__ import annotations

from ..model import ContentExport, ContextType, EpubExport
from ..store import Library
from .formats import format_of


def send_notification(library: Library, record: ContentExport | EpubExport, ok: bool) -> None:
    """Spec §1.4: course, not zip, not skipped, not part of an ePub (which notifies itself)."""
    if record.settings.get("skip_notifications"):
        return
    if isinstance(record, ContentExport):
        quiet = not format_of(record.export_type).notifies
        if record.context_type is not ContextType.COURSE or quiet or record.epub_export_id:
            return
        course = library.content.course(record.context_id)
        ctx, what = "ContentExport", f"{record.export_type} export"
    else:
        course = library.content.course(record.course_id)
        ctx, what = "EpubExport", "ePub export"
    name = course.name if course else "a course"
    if ok:
        subject = f"Course Export Finished: {name}"
        body = f"Your {what} of {name} is ready."
    else:
        subject = f"Course Export Failed: {name}"
        body = f"Your {what} of {name} failed: {'; '.join(record.errors[-1:]) or 'unknown error'}"
    library.exports.notify(
        user_id=record.user_id,
        name="content_export_finished" if ok else "content_export_failed",
        context_type=ctx,
        context_id=record.id,
        subject=subject,
        body=body,
    )

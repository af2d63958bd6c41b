"""The one serializer per API object (User, Course, Group, Folder, File, ContentExport,
EpubExport, CourseEpubExport, Progress).

The CLI's ``--json``, the HTTP server and the TUI all print these dicts.  Field names
and states are Canvas's; our additions are additive: ``errors`` (per-item problems
Canvas swallows) and, for local use, ``path`` on a file (where it is on disk).
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from typing import Any

from .model import (
    Attachment,
    ContentExport,
    ContextType,
    Course,
    EpubExport,
    File,
    Group,
    Progress,
    Role,
    User,
)

#: The files of an EpubExport: the book, and the companion zip of what a book cannot hold.
EPUB_FILES = ("epub_attachment", "zip_attachment")


def iso(dt: datetime | None) -> str | None:
    """Canvas's timestamp form: ISO 8601 in UTC with a ``Z`` (a naive time is taken as UTC)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


MIME_CLASSES = {
    "application/zip": "zip",
    "application/epub+zip": "file",
    "application/pdf": "pdf",
}


#: Canvas's enrollment class name for each role (an enrollment's ``role``)
ENROLLMENT_ROLE = {
    Role.TEACHER: "TeacherEnrollment",
    Role.TA: "TaEnrollment",
    Role.DESIGNER: "DesignerEnrollment",
    Role.STUDENT: "StudentEnrollment",
    Role.OBSERVER: "ObserverEnrollment",
}


def user_json(u: User) -> dict[str, Any]:
    """Canvas's User as ``/users/self`` answers it."""
    return {
        "id": u.id,
        "name": u.name,
        "sortable_name": u.sortable_name or u.name,
        "short_name": u.short_name or u.name,
        "login_id": u.login_id,
        "primary_email": u.email,
        "time_zone": u.time_zone,
    }


def course_json(course: Course, *, role: Role | None, current: bool, user_id: int) -> dict[str, Any]:
    """Canvas's Course, with the viewer's enrollment (``role``: their strongest; ``current``:
    active in a course that has not concluded). ``/api/v1/courses`` and ``courses --json``."""
    enrollments = []
    if role is not None:
        enrollments.append(
            {
                "type": role.value,
                "role": ENROLLMENT_ROLE[role],
                "user_id": user_id,
                "enrollment_state": "active" if current else "completed",
            }
        )
    return {
        "id": course.id,
        "name": course.name,
        "course_code": course.course_code,
        "uuid": course.uuid,
        "workflow_state": course.workflow_state,
        "start_at": iso(course.start_at),
        "end_at": iso(course.end_at),
        "time_zone": course.time_zone,
        "default_view": course.default_view,
        "locale": course.locale,
        "license": course.license,
        "term": {"name": course.term},
        "concluded": course.concluded,
        "enrollments": enrollments,
    }


def group_json(g: Group) -> dict[str, Any]:
    """Canvas's Group (of a course)."""
    return {
        "id": g.id,
        "name": g.name,
        "context_type": "Course",
        "course_id": g.course_id,
        "members_count": len(g.member_ids),
    }


def folder_json(
    folder: dict[str, Any],
    context_type: ContextType,
    context_id: int,
    *,
    files_count: int,
    folders_count: int,
) -> dict[str, Any]:
    """Canvas's Folder, the fields a picker needs, from an entry of a ``folders`` listing
    (``id``, ``title``, ``path``, ``parent_id``: what ``context_files`` lists)."""
    return {
        "id": folder["id"],
        "name": folder["title"],
        "full_name": folder["path"],
        "parent_folder_id": folder["parent_id"],
        "context_type": context_type.value,
        "context_id": context_id,
        "files_count": files_count,
        "folders_count": folders_count,
    }


def listed_file_json(f: dict[str, Any]) -> dict[str, Any]:
    """Canvas's File as a context's file listing shows it, without download URLs, from an entry
    of an ``attachments`` listing (``id``, ``title``, ``folder_id``, ``size``). A finished
    export's file, with its URL, is :func:`attachment_json`."""
    return {
        "id": f["id"],
        "display_name": f["title"],
        "filename": f["title"],
        "folder_id": f["folder_id"],
        "size": f["size"],
    }


def progress_url(base_url: str, progress_id: int) -> str:
    return f"{base_url.rstrip('/')}/api/v1/progress/{progress_id}"


def file_download_url(base_url: str, att: Attachment | File) -> str:
    """Canvas's session-less download link: the verifier is the file's uuid."""
    return f"{base_url.rstrip('/')}/files/{att.id}/download?download_frd=1&verifier={att.uuid}"


def mime_class(content_type: str) -> str:
    """Canvas's ``mime_class`` of a content type (the few classes a client tells apart)."""
    if content_type in MIME_CLASSES:
        return MIME_CLASSES[content_type]
    major = content_type.split("/", 1)[0]
    if content_type == "text/html":
        return "html"
    return major if major in ("image", "audio", "video", "text") else "file"


def file_json(f: File, base_url: str, *, locked_for_user: bool = False) -> dict[str, Any]:
    """Canvas's File (``lib/api/v1/attachment.rb#attachment_json``) of a course, group or user
    file, as ``/api/v1/files/:id`` answers it: the download URL carries the file's verifier."""
    return {
        "id": f.id,
        "uuid": f.uuid,
        "folder_id": f.folder_id,
        "display_name": f.display_name,
        "filename": f.filename,
        "upload_status": "success",
        "content-type": f.content_type,
        "url": file_download_url(base_url, f),
        "size": f.size,
        "created_at": iso(f.created_at),
        "updated_at": iso(f.updated_at),
        "unlock_at": iso(f.unlock_at),
        "locked": f.locked,
        "hidden": f.hidden,
        "lock_at": iso(f.lock_at),
        "hidden_for_user": False,
        "thumbnail_url": None,
        "modified_at": iso(f.updated_at),
        "mime_class": mime_class(f.content_type),
        "media_entry_id": None,
        "category": "uncategorized",
        "locked_for_user": locked_for_user,
    }


def attachment_json(att: Attachment, base_url: str, *, local: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": att.id,
        "uuid": att.uuid,
        "folder_id": None,
        "display_name": att.display_name,
        "filename": att.filename,
        "upload_status": "success",
        "content-type": att.content_type,
        "url": file_download_url(base_url, att),
        "size": att.size,
        "created_at": iso(att.created_at),
        "updated_at": iso(att.updated_at),
        "unlock_at": None,
        "locked": False,
        "hidden": False,
        "lock_at": None,
        "hidden_for_user": False,
        "thumbnail_url": None,
        "modified_at": iso(att.updated_at),
        "mime_class": mime_class(att.content_type),
        "media_entry_id": None,
        "category": "uncategorized",
        "locked_for_user": False,
    }
    if local:
        data["path"] = str(att.path)
    return data


def progress_json(p: Progress, base_url: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": p.id,
        "context_id": p.context_id,
        "context_type": p.context_type,
        "user_id": p.user_id,
        "tag": p.tag,
        "completion": round(p.completion, 1),
        "workflow_state": p.workflow_state.value,
        "message": p.message,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "url": progress_url(base_url, p.id),
    }
    if p.results is not None:
        data["results"] = p.results
    return data


def content_export_json(
    ce: ContentExport, base_url: str, *, attachment: Attachment | None, expired: bool, local: bool
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": ce.id,
        "user_id": ce.user_id,
        "created_at": iso(ce.created_at),
        "workflow_state": ce.workflow_state.value,
        "export_type": ce.export_type,
    }
    if ce.context_type is ContextType.COURSE:
        data["course_id"] = ce.context_id
    if ce.progress_id is not None:
        data["progress_url"] = progress_url(base_url, ce.progress_id)
    if attachment is not None and not expired:
        data["attachment"] = attachment_json(attachment, base_url, local=local)
    data["errors"] = ce.errors
    return data


def epub_export_json(
    ep: EpubExport,
    base_url: str,
    *,
    permissions: dict[str, bool],
    epub: Attachment | None,
    zip_file: Attachment | None,
    local: bool,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": ep.id,
        "created_at": iso(ep.created_at),
        "updated_at": iso(ep.updated_at),
        "user_id": ep.user_id,
        "course_id": ep.course_id,
        "content_export_id": ep.content_export_id,
        "workflow_state": ep.workflow_state.value,
        "permissions": permissions,
        "progress_id": ep.progress_id,
        "progress_url": progress_url(base_url, ep.progress_id) if ep.progress_id else None,
    }
    if epub is not None:
        data["epub_attachment"] = attachment_json(epub, base_url, local=local)
    if zip_file is not None:
        data["zip_attachment"] = attachment_json(zip_file, base_url, local=local)
    data["errors"] = ep.errors
    return data


def course_epub_export_json(
    course: Course, epub_export: dict[str, Any] | None, last_generated: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Canvas's CourseEpubExport.  Ours adds ``last_generated_epub_export`` (an extra Canvas
    clients ignore) when the latest attempt is not a finished book but an older one is: a failed or
    canceled regeneration does not hide the last good ePub."""
    out: dict[str, Any] = {"id": course.id, "name": course.name, "epub_export": epub_export}
    if last_generated is not None:
        out["last_generated_epub_export"] = last_generated
    return out


def guess_content_type(filename: str) -> str:
    if filename.endswith(".epub"):
        return "application/epub+zip"
    if filename.endswith(".imscc"):
        return "application/zip"
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"

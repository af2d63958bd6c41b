"""Publishing a job's files: fsync and hash them in the work folder, record what is about to
be published (each file's name, size and SHA-256) in the job, rename them into the job's final
folder, and only then, in one transaction, write the file rows and move the job.

What a job recorded before its renames is what lets recovery tell a finished file from a
half one: a process killed after the renames (before the row's move) left files that match
it, and recovery adopts them; anything else at a final path is removed."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model import (
    Attachment,
    ContentExport,
    ContentExportState,
    EpubExport,
    EpubExportState,
    JobKind,
    OutputFile,
)
from ..store import Library
from .faults import point

#: the job's settings key holding what it is about to publish (recorded before the renames)
FILES_KEY = "files"
#: the file rows' context type, by kind of job
CONTEXT_TYPES = {JobKind.CONTENT: "ContentExport", JobKind.EPUB: "EpubExport"}
EPUB_TYPE = "application/epub+zip"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Placed:
    """One file of a job: where it is, what it is, its size and SHA-256."""

    path: Path
    content_type: str
    size: int
    sha256: str

    def entry(self) -> dict[str, Any]:
        return {
            "name": self.path.name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


def kind_of(record: ContentExport | EpubExport) -> JobKind:
    return JobKind.CONTENT if isinstance(record, ContentExport) else JobKind.EPUB


def final_dir(library: Library, kind: JobKind, job_id: int) -> Path:
    """Where a job's files are published: ``exports/content-N``, ``exports/epub-N``."""
    return library.exports_dir / f"{kind}-{job_id}"


def work_dir(library: Library, kind: JobKind, job_id: int) -> Path:
    """Where a job writes before publishing: ``exports/.work-content-N``, ``.work-epub-N``."""
    return library.exports_dir / f".work-{kind}-{job_id}"


def publish(library: Library, record: ContentExport | EpubExport, outs: list[OutputFile]) -> list[Placed]:
    """fsync and hash each file, record them in the job, rename them into its final folder
    (fsynced); returns them at their final paths.  The file rows are the caller's (:func:`attach`)."""
    kind = kind_of(record)
    ready = []
    for out in outs:
        ready.append(_fsync_and_hash(out.path, out.content_type, out.sha256))
    point(f"{kind}:fsynced")
    update = (
        library.exports.update_content_export
        if kind is JobKind.CONTENT
        else library.exports.update_epub_export
    )
    fresh = library.exports.job(kind, record.id)
    update(record.id, settings={**fresh.settings, FILES_KEY: [p.entry() for p in ready]})
    point(f"{kind}:recorded")
    target = final_dir(library, kind, record.id)
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    placed = []
    for p in ready:
        os.chmod(p.path, library.home.file_mode)  # private, like the library (0600)
        os.replace(p.path, target / p.path.name)
        placed.append(Placed(target / p.path.name, p.content_type, p.size, p.sha256))
        point(f"{kind}:renamed")
    fsync_dir(target)
    point(f"{kind}:dir-synced")
    return placed


def attach(library: Library, record: ContentExport | EpubExport, placed: list[Placed]) -> dict[str, int]:
    """The file rows of a job's published files (in the caller's transaction): the record's
    fields naming them (``attachment_id``; an ePub's ``epub_attachment_id``, ``zip_attachment_id``)."""
    kind = kind_of(record)
    fields = {}
    for p in placed:
        att: Attachment = library.exports.insert_attachment(
            context_type=CONTEXT_TYPES[kind],
            context_id=record.id,
            uuid=uuid.uuid4().hex,
            display_name=p.path.name,
            filename=p.path.name,
            content_type=p.content_type,
            size=p.size,
            sha256=p.sha256,
            path=p.path,
        )
        if kind is JobKind.CONTENT:
            fields["attachment_id"] = att.id
        else:
            fields["epub_attachment_id" if p.content_type == EPUB_TYPE else "zip_attachment_id"] = att.id
    return fields


def drop_unpublished(library: Library, record: ContentExport | EpubExport) -> None:
    """After a run: files renamed into place for a job that did not reach its published state
    (canceled between the rename and the row's move, or the move failed) are removed at once."""
    kind = kind_of(record)
    fresh = library.exports.job(kind, record.id)
    if fresh is None or fresh.workflow_state not in (ContentExportState.EXPORTED, EpubExportState.GENERATED):
        shutil.rmtree(final_dir(library, kind, record.id), ignore_errors=True)


def adoptable(library: Library, record: ContentExport | EpubExport) -> list[Placed] | None:
    """The files a job recorded before its renames, if every one of them (and nothing else) is
    at its final path with the recorded size and SHA-256; None otherwise."""
    entries = record.settings.get(FILES_KEY)
    folder = final_dir(library, kind_of(record), record.id)
    if not entries or not folder.is_dir():
        return None
    if sorted(p.name for p in folder.iterdir()) != sorted(e["name"] for e in entries):
        return None
    placed = []
    for e in entries:
        path = folder / e["name"]
        if not path.is_file() or path.stat().st_size != e["size"]:
            return None
        found = _fsync_and_hash(path, e["content_type"])
        if found.sha256 != e["sha256"]:
            return None
        placed.append(found)
    return placed


def _fsync_and_hash(path: Path, content_type: str, sha256: str | None = None) -> Placed:
    """The file flushed to disk and hashed: both at once (the flush waits on the disk, the hash
    on the CPU, each letting go of the GIL), so a large export pays the longer of the two.  A
    hash the writer took as it wrote (``sha256``) is not taken again: the flush alone is paid."""
    if sha256 is not None:
        with open(path, "rb") as f:
            os.fsync(f.fileno())
            return Placed(path, content_type, os.fstat(f.fileno()).st_size, sha256)
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        flushed: list[BaseException] = []
        flush = threading.Thread(target=_fsync, args=(f.fileno(), flushed), name="fsync")
        flush.start()
        try:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        finally:
            flush.join()
        if flushed:
            raise flushed[0]
    return Placed(path, content_type, size, digest.hexdigest())


def _fsync(fd: int, errors: list[BaseException]) -> None:
    try:
        os.fsync(fd)
    except OSError as e:  # raised on the caller's thread, as a plain fsync would
        errors.append(e)


def fsync_dir(path: Path) -> None:
    """A folder's entries flushed to disk (or a file's bytes: either is opened read-only and
    fsynced); one gone or unreadable is left as it is."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""A process killed after renaming an export's files into place, before its row moved: the
next start adopts the files only when they are what the job recorded before the renames
(size and SHA-256), and otherwise removes them and fails the job."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import tui_exports.engine.publish as publish
import tui_exports.engine.runner as runner
from tui_exports.model import ContextType, JobKind

DEAD_PID = 999_999_999  # no process, no runner lock


class Killed(BaseException):
    """Stands for kill -9 at the crash point: nothing after it runs (no except Exception)."""


def _killed_after_rename(service, monkeypatch, kind: JobKind):
    def die(name: str) -> None:
        if name == f"{kind}:dir-synced":
            raise Killed

    monkeypatch.setattr(publish, "point", die)
    monkeypatch.setattr(runner, "drop_unpublished", lambda *a: None)  # a kill runs no finally
    owner = service.owner_id()
    if kind is JobKind.CONTENT:
        record = service.create_content_export(owner, ContextType.COURSE, 1, "zip")
    else:
        record = service.create_epub_export(owner, 1)
    assert service.store.claim(kind, record.id, DEAD_PID, state="created")
    run = service.run_content_export if kind is JobKind.CONTENT else service.run_epub_export
    with pytest.raises(Killed):
        run(record.id)
    monkeypatch.undo()
    return service.store.job(kind, record.id)


@pytest.mark.parametrize("kind", [JobKind.CONTENT, JobKind.EPUB])
def test_whole_files_are_adopted(service, monkeypatch, kind):
    record = _killed_after_rename(service, monkeypatch, kind)
    assert record.workflow_state.value in ("exporting", "generating") and record.settings["files"]
    done = service.recover()
    assert any("adopted" in line for line in done), done
    record = service.store.job(kind, record.id)
    assert record.workflow_state.value in ("exported", "generated")
    att = service.store.attachment(
        record.attachment_id if kind is JobKind.CONTENT else record.epub_attachment_id
    )
    data = Path(att.path).read_bytes()
    assert att.size == len(data) and att.sha256 == hashlib.sha256(data).hexdigest()
    assert service.store.progress(record.progress_id).workflow_state.value == "completed"


@pytest.mark.parametrize("kind", [JobKind.CONTENT, JobKind.EPUB])
def test_a_file_that_is_not_what_was_recorded_is_removed(service, monkeypatch, kind):
    record = _killed_after_rename(service, monkeypatch, kind)
    folder = service.library.exports_dir / f"{kind}-{record.id}"
    victim = sorted(folder.iterdir())[0]
    with open(victim, "ab") as f:  # same name, other bytes
        f.write(b"x")
    done = service.recover()
    assert not folder.exists(), done
    record = service.store.job(kind, record.id)
    assert record.workflow_state.value == "failed" and record.errors[-1].startswith("interrupted")
    assert service.library.exports.unnamed_attachments() == []


def test_a_content_file_is_recorded_with_its_size_and_hash(service):
    ce = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")
    service.store.claim("content", ce.id, 1, state="created")
    service.run_content_export(ce.id)
    ce = service.store.content_export(ce.id)
    att = service.store.attachment(ce.attachment_id)
    data = Path(att.path).read_bytes()
    assert att.sha256 == hashlib.sha256(data).hexdigest()
    assert ce.settings["files"] == [
        {
            "name": Path(att.path).name,
            "content_type": att.content_type,
            "size": len(data),
            "sha256": att.sha256,
        }
    ]


def test_files_of_a_job_canceled_meanwhile_are_not_adopted(service, monkeypatch):
    record = _killed_after_rename(service, monkeypatch, JobKind.CONTENT)
    service.cancel(service.owner_id(), record.progress_id)  # the person canceled it as it died
    service.recover()
    record = service.store.content_export(record.id)
    assert record.workflow_state.value == "failed" and record.attachment_id is None
    assert not (service.library.exports_dir / f"content-{record.id}").exists()


def test_a_job_canceled_between_its_rename_and_its_move_leaves_no_file(service, monkeypatch):
    """The person cancels just as the file lands: the job ends canceled and its file goes at
    once, not at the next start."""
    ce = service.create_content_export(service.owner_id(), ContextType.COURSE, 1, "zip")

    def cancel_now(name: str) -> None:
        if name == "content:dir-synced":
            service.cancel(service.owner_id(), ce.progress_id)

    monkeypatch.setattr(publish, "point", cancel_now)
    service.store.claim(JobKind.CONTENT, ce.id, 1, state="created")
    service.run_content_export(ce.id)
    record = service.store.content_export(ce.id)
    assert record.workflow_state.value == "failed" and record.attachment_id is None
    assert not (service.library.exports_dir / f"content-{ce.id}").exists()
    assert service.library.exports.unnamed_attachments() == []

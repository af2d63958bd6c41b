"""The store returns typed records and encodes no rule the engine owns: the engine says which
states are unfinished, which state a job is claimed from, and whose exports a listing shows."""

from __future__ import annotations

import inspect
import re

from tui_exports.engine import permissions as perms
from tui_exports.engine.states import running_states
from tui_exports.model import (
    ContentExport,
    ContentExportState,
    ContextType,
    EpubExport,
    EpubExportState,
    JobKind,
)
from tui_exports.store import exports as store_exports
from tui_exports.store.exports import VisibleTo


def test_the_store_names_no_state_and_no_export_type() -> None:
    source = inspect.getsource(store_exports)
    words = {s.value for e in (ContentExportState, EpubExportState) for s in e} - {"deleted"} | {
        "zip",
        "user_data",
    }
    quoted = set(re.findall(r"'([a-z_]+)'", source)) | set(re.findall(r'"([a-z_]+)"', source))
    assert not words & quoted, words & quoted


def test_jobs_come_back_as_records_of_their_kind(service, users) -> None:
    ce = service.create_content_export(users["teacher"], ContextType.COURSE, 1, "zip")
    ep = service.create_epub_export(users["teacher"], 1)
    content = service.store.unfinished(JobKind.CONTENT, running_states(ContentExportState))
    epubs = service.store.unfinished(JobKind.EPUB, running_states(EpubExportState))
    assert ce.id in {r.id for r in content} and all(isinstance(r, ContentExport) for r in content)
    assert ep.id in {r.id for r in epubs} and all(isinstance(r, EpubExport) for r in epubs)
    assert service.store.unfinished(JobKind.CONTENT, {"exported"}) == []
    assert not service.store.claim(
        JobKind.CONTENT, ce.id, 1, state=ContentExportState.EXPORTING
    )  # not in that state
    assert service.store.claim(JobKind.CONTENT, ce.id, 1, state=ContentExportState.CREATED)
    assert not service.store.claim(JobKind.CONTENT, ce.id, 2, state=ContentExportState.CREATED)  # taken
    service.store.heartbeat(JobKind.CONTENT, [ce.id])
    job = service.store.job(JobKind.CONTENT, ce.id)
    assert isinstance(job, ContentExport) and job.runner_pid == 1 and job.heartbeat_at is not None


def test_whose_exports_a_listing_shows_is_decided_by_the_engine(service, users) -> None:
    teacher, student = users["teacher"], users["student1"]
    _, t_standing = service.course(teacher, 1)
    _, s_standing = service.course(student, 1)
    assert perms.index_visibility(teacher, t_standing, ContextType.COURSE) == VisibleTo(
        teacher, ("zip", "user_data")
    )
    assert perms.index_visibility(teacher, t_standing, ContextType.GROUP) == VisibleTo(teacher)
    assert perms.index_visibility(student, s_standing, ContextType.COURSE) == VisibleTo(student)
    mine = service.create_content_export(teacher, ContextType.COURSE, 1, "zip")
    cc = service.create_content_export(teacher, ContextType.COURSE, 1, "common_cartridge")
    theirs = service.create_content_export(student, ContextType.COURSE, 1, "zip")
    everyone = service.store.content_exports(ContextType.COURSE, 1, visible_to=VisibleTo(teacher, ()))
    assert {mine.id, cc.id, theirs.id} <= {e.id for e in everyone}
    shown = service.list_content_exports(teacher, ContextType.COURSE, 1).items
    assert {e.id for e in shown} >= {mine.id, cc.id} and theirs.id not in {e.id for e in shown}
    assert [e.id for e in service.list_content_exports(student, ContextType.COURSE, 1).items] == [theirs.id]

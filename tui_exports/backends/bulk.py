"""Bulk runs on a Canvas instance (``tui-exports --profile NAME bulk ...``): each item is a
content (or ePub) export that Canvas makes, followed and downloaded through the CanvasBackend.

Items run on a few threads (default 3) that share the one client of the token and its
:class:`~.canvas.RateBudget`: a throttle or a low ``X-Rate-Limit-Remaining`` seen by one item
holds back all of them.  Each export is followed up to a time limit (default 90 min), then
fails its item with the reason.  The file is downloaded (resumably) into the run's work folder,
then renamed into ``--out/<course_code>-<id>/`` as a local item's file is.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ..engine.bulk import (
    WORK_DIR,
    BadRequest,
    BulkRequest,
    FuturesPool,
    ItemResult,
    ItemTask,
    Plan,
    check_formats,
    check_out,
    in_term,
    pick_courses,
    run_chunk,
    stable_name,
)
from ..model import ContextType, is_failed
from .base import BackendError, export_files

DEFAULT_ITEMS_AT_ONCE = 3
DEFAULT_TIMEOUT_SECONDS = 90 * 60


def canvas_plan(backend: Any, request: BulkRequest) -> Plan:
    """The run's items, from the courses this token may export (checked before anything runs)."""
    if request.packages:
        raise BadRequest("--packages imports into the local library: drop --profile")
    formats, version = check_formats(request.formats, request.cc_version)
    out = check_out(request.out)
    epub_only = formats == ("epub",)
    mine = [c for c in backend.courses() if (c.can_create_epub if epub_only else c.can_export_all_types)]
    terms = {c.id: (c.canvas.get("enrollment_term_id"), c.term) for c in mine}
    courses, spec = in_term([(c.id, c.course_code, c.name) for c in mine], terms, request)
    chosen = pick_courses(courses, spec, request.filter)
    items = [{"course_id": cid, "course_code": code, "format": f} for cid, code in chosen for f in formats]
    return Plan(formats, out, items, version, source=f"canvas:{backend.base_url}")


def recorded_export(backend: Any, task: ItemTask) -> dict[str, Any] | None:
    """The export already made for this item (a resumed run), when Canvas still has it and it
    has not failed; None when there is none to follow (a new one is then made)."""
    kind, _, ident = (task.remote or "").partition(":")
    if kind not in ("content", "epub") or not ident.isdigit():
        return None
    try:
        if kind == "epub":
            data = backend.epub_export(task.course_id, int(ident))
            state = (data.get("epub_export") or {}).get("workflow_state")
        else:
            data = backend.content_export(ContextType.COURSE, task.course_id, int(ident))
            state = data.get("workflow_state")
    except BackendError as e:
        if e.status in (404, 410):  # gone (deleted, or expired): make it again
            return None
        raise
    return None if is_failed(state, kind) else data


def canvas_item(
    backend: Any,
    task: ItemTask,
    *,
    timeout: float,
    stop: threading.Event,
    note: Callable[[int, str], None] = lambda item_id, export: None,
) -> ItemResult:
    """Create the export on Canvas (or follow the one a resumed item recorded), record it
    (``note``) as soon as Canvas answers, follow it (up to ``timeout`` s), download it, put it
    in place."""
    folder = Path(task.folder)
    work = folder.parent / WORK_DIR / f"canvas-{task.item_id}-{uuid.uuid4().hex[:8]}"
    ran_on = backend.label

    def pause(seconds: float) -> bool:
        return not stop.wait(seconds)

    try:
        follow = {"timeout": timeout, "pause": pause}
        found = recorded_export(backend, task)
        if task.format == "epub":
            made = found or backend.create_epub_export(task.course_id)
            made_id = (made.get("epub_export") or {}).get("id")
            if found is None and made_id is not None:
                note(task.item_id, f"epub:{made_id}")
            data = backend.wait_epub_export(task.course_id, made, **follow)
            kind, export = "epub", data["epub_export"]
        else:
            ce = found or backend.create_content_export(
                ContextType.COURSE, task.course_id, task.format, version=task.version
            )
            if found is None and ce.get("id") is not None:
                note(task.item_id, f"content:{ce['id']}")
            kind, export = (
                "content",
                backend.wait_content_export(ContextType.COURSE, task.course_id, ce, **follow),
            )
        if stop.is_set():
            return ItemResult(task.item_id, False, error="stopped before Canvas finished", ran_on=ran_on)
        export = {k: v for k, v in export.items()}
        for key in export_files(kind, export):  # always a fresh copy into this item's work folder
            export[key] = {k: v for k, v in export[key].items() if k != "path"}
        got = backend.download(kind, export, dest_dir=work)
        folder.mkdir(parents=True, exist_ok=True)
        placed = []
        for key in export_files(kind, got):
            src = Path(got[key]["path"])
            target = folder / stable_name(src.name)
            os.replace(src, target)
            placed.append(target)
        if not placed:
            raise BackendError(f"Canvas finished export {export.get('id')} without a file")
        return ItemResult.placed(task.item_id, placed, export.get("errors") or (), ran_on)
    except BackendError as e:
        return ItemResult(task.item_id, False, error=str(e), ran_on=ran_on)
    except Exception as e:  # noqa: BLE001 - one course's failure is its item's error
        return ItemResult(task.item_id, False, error=f"{type(e).__name__}: {e}", ran_on=ran_on)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class CanvasPool(FuturesPool):
    """Items on threads that share one CanvasBackend (one token, one rate budget)."""

    def __init__(self, backend: Any, slots: int, timeout: float):
        from .canvas import RateBudget

        if getattr(backend, "budget", "absent") is None:
            backend.budget = RateBudget(backend._sleep)
        self.stop = threading.Event()
        self.note: Callable[[int, str], None] = lambda item_id, export: None  # the coordinator's
        item = partial(canvas_item, backend, timeout=timeout, stop=self.stop, note=self._note)
        fn = partial(run_chunk, item)
        super().__init__(lambda: cf.ThreadPoolExecutor(slots, thread_name_prefix="bulk-canvas"), slots, fn)

    def _note(self, item_id: int, export: str) -> None:
        self.note(item_id, export)

    def close(self, cancel: bool) -> None:
        if cancel:
            self.stop.set()  # followers stop polling; downloads under way end with their item
        super().close(cancel)


def canvas_pool(backend: Any, slots: int = DEFAULT_ITEMS_AT_ONCE, timeout: float = DEFAULT_TIMEOUT_SECONDS):
    return CanvasPool(backend, slots, timeout)

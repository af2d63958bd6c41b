"""Following a job and fetching its files with bars on stderr: what the local and the Canvas
CLI both do (``--wait``, ``show --download``), through ``Backend.follow`` and ``Backend.download``."""

from __future__ import annotations

from typing import Any

from ..backends.base import Backend, BackendError, progress_id_of
from ..model import ContextType, is_failed, is_final
from .common import (
    EXIT_OK,
    ProgressBar,
    describe_export,
    describe_progress,
    export_context,
    human_size,
    print_json,
)


def follow_with_bar(
    backend: Backend,
    kind: str,
    context_type: ContextType,
    context_id: int,
    export: dict[str, Any],
    label: str,
    *,
    interval: float | None = None,
    show: str = "export",
) -> dict[str, Any]:
    """Follow the job to its end with a bar; returns the export in its final state.  The bar's
    word is the export's state (``show="export"``) or its Progress's (``show="progress"``)."""
    bar = ProgressBar(label)

    def moved(progress: dict[str, Any], current: dict[str, Any]) -> None:
        if progress:
            word = (progress if show == "progress" else current).get("workflow_state", "")
            bar.update(float(progress.get("completion") or 0), word, progress.get("message"))

    try:
        export = backend.follow(kind, context_type, context_id, export, moved, interval=interval)
        if show == "export" and not is_failed(export.get("workflow_state"), kind):
            bar.update(100, export["workflow_state"])
    finally:
        bar.done()
    return export


def download_with_bars(backend: Backend, kind: str, export: dict[str, Any]) -> dict[str, Any]:
    """The export with each of its files on this disk (a ``path``), a bar per file fetched."""
    bars: list[tuple[dict[str, Any], ProgressBar]] = []  # one per file, the last one drawing

    def tick(att: dict[str, Any], done: int, total: int | None) -> None:
        if not bars or bars[-1][0] is not att:
            if bars:
                bars[-1][1].done()
            name = att.get("filename") or att.get("display_name") or att.get("id")
            bars.append((att, ProgressBar(f"download {name}")))
        bars[-1][1].update(100.0 * done / total if total else 0.0, human_size(done))

    try:
        return backend.download(kind, export, tick)
    finally:
        if bars:
            bars[-1][1].done()


def describe(
    backend: Backend,
    export: dict[str, Any],
    course: dict[str, Any] | None = None,
    *,
    running_only: bool = False,
) -> str:
    """An export as text, with its Progress's id and state as read now (``describe_export``).
    ``course``: the CourseEpubExport an ePub export came in (its course is named last).
    ``running_only``: read the Progress only of an export still running (a long listing on a
    rate-limited Canvas instance); an ended one shows its Progress's id."""
    progress = None
    pid = progress_id_of(export.get("progress_url"))
    kind = "epub" if export.get("export_type") == "epub" else "content"
    if running_only and is_final(export.get("workflow_state"), kind):
        pid = None
    if pid is not None:
        try:
            progress = backend.progress(pid)
        except BackendError:  # gone (Canvas deletes old ones): the id alone
            progress = None
    text = describe_export(export, progress)
    if course is not None:
        text += f"\n  course {course.get('id')}: {course.get('name', '')}"
    return text


# ------------------------------------------------------------------ cancel

CANCEL_FORMS = (
    "tui-exports cancel COURSE_ID EXPORT_ID (as `export` printed it; --group ID EXPORT_ID or "
    "--user ID EXPORT_ID for those), cancel --epub COURSE_ID EXPORT_ID, or cancel --progress ID"
)


def cancel_command(args, backend: Backend) -> int:
    """``cancel``: the export as every other command names it (its context and id), an ePub
    export of a course, or a bare Progress with ``--progress``; never a number meaning another object."""
    if (
        args.export_id is None
        and args.course_id is not None
        and (args.group is not None or args.user is not None)
    ):
        args.export_id, args.course_id = args.course_id, None  # ``cancel --group 1 7``
    if args.progress is not None:
        named = (args.export_id, args.course_id, args.group, args.user)
        if args.epub or any(x is not None for x in named):
            raise BackendError(f"--progress ID names the job alone; give one of: {CANCEL_FORMS}", 400)
        state = backend.progress(args.progress).get("workflow_state")
        if is_final(state, "progress"):  # Canvas answers 200 and leaves it as it was: say so
            raise BackendError(
                f"progress {args.progress} has already ended ({state}): nothing to cancel", 400
            )
        p = backend.cancel(args.progress)
        print_json(p) if args.json else print(f"canceled: {describe_progress(p)}")
        return EXIT_OK
    if args.export_id is None:
        given = "no export id" if args.course_id is None else f"only one id ({args.course_id})"
        raise BackendError(f"cancel needs the export, got {given}: {CANCEL_FORMS}", 400)
    if args.epub:
        if args.group is not None or args.user is not None:
            raise BackendError(
                "ePub exports are made of courses only: cancel --epub COURSE_ID EXPORT_ID", 400
            )
        if args.course_id is None:
            raise BackendError(f"give the course of the ePub export: {CANCEL_FORMS}", 400)
        kind, what = "epub", f"ePub export {args.export_id}"
        export = backend.epub_export(args.course_id, args.export_id)["epub_export"]
    else:
        ctx, cid = export_context(args)
        kind, what = "content", f"export {args.export_id}"
        export = backend.content_export(ctx, cid, args.export_id)
    state = export.get("workflow_state")
    pid = progress_id_of(export.get("progress_url")) or export.get("progress_id")
    if is_final(state, kind):
        raise BackendError(f"{what} has already ended ({state}): nothing to cancel", 400)
    if pid is None:
        raise BackendError(f"{what} has no job to cancel (no Progress)", 400)
    p = backend.cancel(int(pid))
    if args.json:
        print_json(p)
    else:
        print(f"canceled {what} ({describe_progress(p)})")
    return EXIT_OK

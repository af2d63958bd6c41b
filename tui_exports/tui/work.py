"""Running Backend calls off the UI thread, and the messages workers post back."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.dom import DOMNode
from textual.message import Message
from textual.worker import Worker, get_current_worker

from ..backends.base import BackendError


def in_thread(
    node: DOMNode,
    group: str,
    fn: Callable[..., Any],
    *args: Any,
    then: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> Worker:
    """Call ``fn(*args, **kwargs)`` on a thread worker; ``then(result)`` runs on the UI thread.

    A ``BackendError`` becomes a readable message (``on_error`` or a notification); the
    newest call in a group replaces an older one still running (``exclusive``).
    """
    app = node.app

    def job() -> None:
        worker = get_current_worker()
        try:
            result = fn(*args, **kwargs)
        except BackendError as e:
            if not worker.is_cancelled:
                app.call_from_thread(on_error or app.show_error, str(e))
            return
        if then is not None and not worker.is_cancelled:
            app.call_from_thread(then, result)

    return node.run_worker(job, thread=True, group=group, name=group, exclusive=True, exit_on_error=False)


def nap(seconds: float, wake: Callable[[], bool] | None = None) -> bool:
    """Sleep in short slices; False as soon as the current worker is cancelled."""
    worker = get_current_worker()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.is_cancelled:
            return False
        if wake is not None and wake():
            return True
        time.sleep(0.05)
    return not worker.is_cancelled


class HistoryLoaded(Message):
    """The exports of one course (newest first) and the Progress of those still running."""

    def __init__(
        self,
        course_id: int,
        exports: list[dict[str, Any]],
        progress: dict[int, dict[str, Any]],
        backend: Any = None,
    ):
        super().__init__()
        self.course_id, self.exports, self.progress = course_id, exports, progress
        self.backend = backend  # the source it was read from (the app may have switched since)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HistoryLoaded)


class EpubsLoaded(Message):
    def __init__(self, items: list[dict[str, Any]], progress: dict[int, dict[str, Any]]):
        super().__init__()
        self.items, self.progress = items, progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EpubsLoaded)


class ExportProgress(Message):
    """A followed export moved (``kind`` is an export type or ``epub``)."""

    def __init__(self, kind: str, export_id: int, progress: dict[str, Any], backend: Any = None):
        super().__init__()
        self.kind, self.export_id, self.progress = kind, export_id, progress
        self.backend = backend  # ids are per source: a row of another source must not move

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ExportProgress) and (message.kind, message.export_id) == (
            self.kind,
            self.export_id,
        )


class DownloadProgress(Message):
    """A finished export's file is coming down: ``done`` of ``total`` bytes (None: unknown)."""

    def __init__(
        self, kind: str, export_id: int, name: str, done: int, total: int | None, backend: Any = None
    ):
        super().__init__()
        self.kind, self.export_id, self.name, self.done, self.total = kind, export_id, name, done, total
        self.backend = backend

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 0.0

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DownloadProgress) and (message.kind, message.export_id) == (
            self.kind,
            self.export_id,
        )


class ExportFinished(Message):
    def __init__(
        self, kind: str, export: dict[str, Any], progress: dict[str, Any], notify: bool, backend: Any = None
    ):
        super().__init__()
        self.kind, self.export, self.progress, self.notify = kind, export, progress, notify
        self.backend = backend

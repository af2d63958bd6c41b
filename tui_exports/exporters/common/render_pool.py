"""Rendering an export's items on the other cores.

Building an item's document (parsing its HTML, rewriting its links, writing its XML and
deflating the entry) is Python under the GIL: threads do not help.  An export big enough to
pay for starting one hands that work to a pool of ``cores - 1`` processes, started for the
export: the export walks the course, reads each item's row (the one reading of the library:
a render process never opens it, so it sees exactly what the serial path would) and sends
the rows in batches; a process renders a batch and sends back the finished entries,
deflated with their CRC (:func:`~.zipwriter.deflate_whole`), which the export copies into
the archive in course order.  What the items need besides their rows (the course's file
paths, its page ids…) is handed to each process once, when it starts (``setup``).

The export does not wait for them: when the oldest batch sent is not back yet (a process
starting, or one starved of its core by other work), the export renders the next batch
itself (``setup`` made here too) and goes on, up to :data:`AHEAD` batches ahead; whatever
renders a batch, the same functions make the same bytes, written in the same order.

Bounded: at most :data:`IN_FLIGHT` batches per process are queued or being rendered, each
of at most :data:`BATCH` items (by weight), so memory does not grow with the course.  A
process that dies fails the export (:class:`RenderPoolError`), it never hangs it; leaving
the pool early (a cancel, an error) stops its processes at once.

Processes are ``spawn`` ed (never ``fork`` ed from this multi-threaded process), as children of
the export's process: it waits for them, so their CPU time is counted in its own (a
``forkserver``'s children would not be).  A program that starts an export must keep its
main module's work under ``if __name__ == "__main__"`` (the console scripts and ``-m``
modules here do), as ``spawn`` imports it again in each process.

The pool is generic: ``setup`` and ``render`` are module-level functions of the format (the
cartridge's and the QTI export's are in :mod:`..cc.render` and :mod:`..qti.render`).  For the
ePub to adopt it: its chapter (XHTML) rendering as such a ``render`` function of a row, its
link targets (chapter of each page…) as the ``setup``, and its writer copying the results
with ``PackageWriter.write_deflated``; a student's snapshot has no ``rows`` loader, so its
items are sent whole (made here, pickled), which works and costs the parent more.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .zipwriter import threads

#: ``1`` starts the pool for any export that has items to render, ``0`` never: tests and
#: benchmarks compare the two paths; unset, the size of the course decides (:func:`processes_for`).
FORCE_ENV = "TUI_EXPORTS_RENDER_POOL"
#: Items (weighed as the format weighs them) from which an export starts its pool: below,
#: the start of a process (~0.4-0.5 s of CPU) costs more than it saves (measured loaded: RESULTS.md).
MIN_WEIGHT = 3_000
#: The weight of one batch: enough work to pay for its trip, little enough to keep memory flat.
BATCH = 48
#: Batches per process queued or being rendered.
IN_FLIGHT = 3
#: Batches the export may render itself ahead of the oldest one still in a process (while one
#: starts, or falls behind): their results wait, deflated, to be written in order.
AHEAD = 8


class RenderPoolError(RuntimeError):
    """A render process died (killed, out of memory…): the export fails with this."""

    def __init__(self, why: BaseException):
        super().__init__(f"a render process of the export died: {why}")


#: False in a process whose own pool spreads the work over the cores (a bulk run's worker, a
#: Dask worker): its exports start no render processes (:func:`keep_to_this_process`).
_allowed = True


def keep_to_this_process() -> None:
    """From now on this process's exports render their items themselves."""
    global _allowed
    _allowed = False


def processes_for(weight: int) -> int:
    """How many render processes an export of this weight starts (0: it renders itself).

    None in a process told so (:func:`keep_to_this_process`), nor in a daemonic one: it may not
    have children (a Dask worker, behind a nanny)."""
    others = threads() - 1
    force = os.environ.get(FORCE_ENV, "").strip()
    if force == "0" or weight <= 0 or not _allowed or multiprocessing.current_process().daemon:
        return 0
    if force == "1":
        return max(1, others)
    return others if weight >= MIN_WEIGHT else 0


# ------------------------------------------------------------------ in a render process
_state: Any = None


def _start(setup: Callable[..., Any], args: tuple) -> None:
    global _state
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ctrl+c is the export's to handle (a cancel)
    parent = os.getppid()

    def watch() -> None:  # the export's process killed (kill -9, out of memory): leave with it
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="render-parent", daemon=True).start()
    _state = setup(*args)


def _render(render: Callable[[Any, Any], Any], payloads: list[Any]) -> list[Any]:
    return [render(_state, p) for p in payloads]


# ------------------------------------------------------------------ in the export
def _done(future: Future | None) -> bool:
    return future is None or future.done()


class RenderPool:
    """``processes`` render processes, each started with ``setup(*args)``; see the module."""

    def __init__(
        self,
        setup: Callable[..., Any],
        args: tuple,
        processes: int,
        here: Callable[[], Any] | None = None,
    ):
        """``here`` makes the renderer of a batch rendered in this process (default:
        ``setup(*args)`` too): one that needs less of ``args`` (the export's own lookups)
        lets them go once every process has started."""
        ctx = multiprocessing.get_context("spawn")
        self.processes = processes
        self._make_here = here if here is not None else (lambda: setup(*args))
        self._here: Any = None  # this process's own renderer, made when first needed
        self._executor = ProcessPoolExecutor(
            processes, mp_context=ctx, initializer=_start, initargs=(setup, args)
        )

    def ordered(
        self,
        jobs: Iterable[tuple[Any, Any]],
        render: Callable[[Any, Any], Any],
        weight: Callable[[Any], int] = lambda _: 1,
    ) -> Iterator[tuple[Any, Any]]:
        """``(key, render(payload))`` for each ``(key, payload)`` of ``jobs``, in their order,
        rendered in the processes; a job whose payload is None is passed through as
        ``(key, None)`` in its place.  ``jobs`` is read as the results are taken."""
        queue: deque[tuple[list[tuple[Any, bool]], Future | None]] = deque()
        keys: list[tuple[Any, bool]] = []
        payloads: list[Any] = []
        load = 0
        limit = IN_FLIGHT * self.processes
        for key, payload in jobs:
            keys.append((key, payload is not None))
            if payload is not None:
                payloads.append(payload)
                load += weight(payload)
            if load >= BATCH:
                # the processes are behind: this one renders the batch instead of waiting for them
                behind = len(queue) >= limit and not _done(queue[0][1])
                queue.append((keys, (self._render_here if behind else self._submit)(render, payloads)))
                keys, payloads, load = [], [], 0
                while queue and (len(queue) > limit + AHEAD or _done(queue[0][1])):
                    yield from self._results(*queue.popleft())
        if keys:
            queue.append((keys, self._submit(render, payloads)))
        while queue:
            yield from self._results(*queue.popleft())

    def _render_here(self, render: Callable[[Any, Any], Any], payloads: list[Any]) -> Future:
        if self._here is None:
            self._here = self._make_here()
        done: Future = Future()
        done.set_result([render(self._here, p) for p in payloads])
        return done

    def _submit(self, render: Callable[[Any, Any], Any], payloads: list[Any]) -> Future | None:
        if not payloads:
            return None
        try:
            future = self._executor.submit(_render, render, payloads)
        except BrokenProcessPool as e:
            raise RenderPoolError(e) from None
        if len(self._executor._processes or ()) >= self.processes:
            self._executor._initargs = ()  # all started (none is started again): not held for nothing
        return future

    @staticmethod
    def _results(keys: list[tuple[Any, bool]], future: Future | None) -> Iterator[tuple[Any, Any]]:
        try:
            results = iter(future.result() if future is not None else ())
        except BrokenProcessPool as e:
            raise RenderPoolError(e) from None
        for key, rendered in keys:
            yield key, next(results) if rendered else None

    def close(self, stop: bool = False) -> None:
        """Let the processes go; ``stop``: at once, whatever they are rendering."""
        if stop:
            for p in list((self._executor._processes or {}).values()):
                if p.is_alive():
                    p.terminate()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        self.close(stop=exc_type is not None)

"""Bulk runs: many courses, each in one or more formats, exported into one folder in a run that
can be watched, stopped and resumed (``tui-exports bulk``).

A run is planned (every course and format checked before anything runs), recorded in the
library (``store.bulk``: one item per (course, format)), then worked by a coordinator that
hands items to a pool — worker processes on this machine, threads that drive a Canvas
instance, or a Dask cluster — and alone writes the items' rows as the result records come
back.  A worker writes its file into a work folder beside the output, renames it to
``--out/<course_code>-<id>/<Canvas's file name>``; the item says ``exported`` only after the
rename, so a coordinator killed at any point leaves items that a resume runs again (the rename
replaces a file, never adds a second one) and none lost.  Two coordinators on one ``--out``
are refused by an advisory lock (``fcntl.flock``) on ``--out/.bulk.lock``.

Durability: a ``kill -9`` loses no written file (the kernel keeps it), and a resume checks
every exported item's file against its recorded size and SHA-256 and makes again one that a
power loss took; so this machine's workers do not wait for the disk (an ``fsync`` of a small
course's file and of its folder cost a third of its time): the coordinator's :class:`Flusher`
fsyncs each placed file and its folder on a thread of its own while the run goes on, and
waits for the last ones before the reports (only the run's own files: ``os.sync`` flushed
every program's, and waited for them).  A worker on another machine, whose cache the
coordinator cannot flush, fsyncs each file itself (``ItemTask.fsync``).
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import hashlib
import heapq
import importlib
import io
import json
import os
import queue
import re
import shutil
import signal
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Protocol

from ..model import (
    BULK_ITEM_DOWNLOADABLE,
    BULK_ITEM_FAILED,
    BULK_ITEM_RUNNING,
    BulkItem,
    BulkItemState,
    BulkRun,
    CourseSnapshot,
    ExportType,
    no_progress,
)
from ..paths import Home
from ..store import utcnow
from ..vocab import FORMAT_BY_NAME, FORMATS
from .errors import BadRequest, NotFound
from .formats import exporter_of, format_of
from .publish import fsync_dir
from .runner import describe_failure
from .select import SelectRequest, default_select, resolve
from .snapshot import build_snapshot

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: tries of one item in one invocation (run or resume) before it stays failed
MAX_ATTEMPTS = 3
#: the first retry waits this long, each next one twice as long
BACKOFF_SECONDS = 2.0
LOCK_NAME = ".bulk.lock"
WORK_DIR = ".bulk-work"
REPORT_FIELDS = (
    "course_id",
    "course_code",
    "package",
    "format",
    "state",
    "path",
    "size",
    "sha256",
    "attempts",
    "error",
    "warnings",
    "ran_on",
)


# ------------------------------------------------------------------ planning


@dataclass(frozen=True)
class BulkRequest:
    """What ``bulk`` was asked, as typed (checked by :func:`plan`)."""

    formats: tuple[str, ...]
    out: Path
    courses: str | None = None  # "all" or "ID,ID,..."
    filter: str | None = None
    packages: tuple[Path, ...] = ()
    cc_version: str | None = None
    term: str | None = None  # only the courses of this term (its id or name)


@dataclass
class Plan:
    formats: tuple[str, ...]
    out: Path
    items: list[dict[str, Any]]
    version: str | None
    source: str = "library"

    @property
    def settings(self) -> dict[str, Any]:
        return {"version": self.version} if self.version else {}


def check_formats(formats: Iterable[str], cc_version: str | None) -> tuple[tuple[str, ...], str | None]:
    """The formats (``vocab.FORMATS`` names, no repeats) and the canonical CC version."""
    names = tuple(dict.fromkeys(f.strip() for f in formats if f.strip()))
    if not names:
        raise BadRequest(f"--formats: name one or more of {', '.join(f.name for f in FORMATS)}")
    unknown = [n for n in names if n not in FORMAT_BY_NAME]
    if unknown:
        raise BadRequest(
            f"--formats: unknown format {', '.join(unknown)}; choose from {', '.join(f.name for f in FORMATS)}"
        )
    version = None
    versioned = [FORMAT_BY_NAME[n] for n in names if FORMAT_BY_NAME[n].versions]
    if cc_version is not None:
        if not versioned:
            with_versions = " and ".join(f.name for f in FORMATS if f.versions)
            raise BadRequest(f"--cc-version is for {with_versions} exports; none of --formats has a version")
        version = versioned[0].version(cc_version)
        if version is None:
            raise BadRequest(
                f"--cc-version: '{cc_version}' is not {' or '.join(versioned[0].version_choices)}"
            )
    return names, version


def check_out(out: Path) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadRequest(f"--out {out} is a file, not a folder")
    return out.resolve()


def pick_courses(
    courses: list[tuple[int, str, str]], spec: str | None, text: str | None
) -> list[tuple[int, str]]:
    """(id, course_code) of the courses ``--courses all|ID,...`` / ``--filter TEXT`` name, from
    ``courses`` (id, code, name) that may be exported; an id not among them is refused."""
    if (spec is None) == (text is None):
        raise BadRequest("give --courses all, --courses ID,ID,... or --filter TEXT (one of them)")
    if text is not None:
        needle = text.casefold()
        chosen = [(i, code) for i, code, name in courses if needle in f"{code} {name}".casefold()]
        if not chosen:
            raise BadRequest(f"--filter {text!r}: no course's code or name contains it")
        return chosen
    if spec.strip() == "all":
        if not courses:
            raise BadRequest("--courses all: there are no courses you may export")
        return [(i, code) for i, code, _ in courses]
    wanted: list[int] = []
    for part in spec.split(","):
        p = part.strip()
        if not (p.isascii() and p.isdigit() and len(p) <= 19):
            raise BadRequest(f"--courses: not a course id: {p[:40]!r} (give all, or ids such as 1,2,3)")
        wanted.append(int(p))
    known = {i: code for i, code, _ in courses}
    missing = [str(i) for i in wanted if i not in known]
    if missing:
        raise BadRequest(f"--courses: no course {', '.join(missing)} that you may export")
    return [(i, known[i]) for i in dict.fromkeys(wanted)]


def in_term(
    courses: list[tuple[int, str, str]], terms: dict[int, tuple[Any, ...]], request: BulkRequest
) -> tuple[list[tuple[int, str, str]], str | None]:
    """``--term ID_OR_NAME``: the courses whose term (``terms``: id → its id and name) it names,
    and the ``--courses`` to pick among them (all of them when none was given)."""
    if request.term is None:
        return courses, request.courses
    want = request.term.strip().casefold()
    kept = [c for c in courses if want in (str(t).casefold() for t in terms.get(c[0], ()) if t)]
    if not kept:
        raise BadRequest(f"--term {request.term!r}: no course you may export is in that term")
    return kept, request.courses or (None if request.filter else "all")


def plan(service: Any, request: BulkRequest) -> Plan:
    """Check everything ``bulk`` was asked before anything runs (a BadRequest names the problem)."""
    formats, version = check_formats(request.formats, request.cc_version)
    out = check_out(request.out)
    if request.packages:
        if request.courses is not None or request.filter is not None:
            raise BadRequest("give either --packages or --courses/--filter, not both")
        items = [{"package": str(p), "format": f} for p in package_paths(request.packages) for f in formats]
        return Plan(formats, out, items, version, source="packages")
    owner = service.owner_id()
    mine = [c for c, standing in service.courses(owner) if standing.is_admin]
    terms = {c.id: (c.term,) for c in mine}
    exportable, spec = in_term([(c.id, c.course_code, c.name) for c in mine], terms, request)
    chosen = pick_courses(exportable, spec, request.filter)
    items = [{"course_id": cid, "course_code": code, "format": f} for cid, code in chosen for f in formats]
    return Plan(formats, out, items, version)


def package_paths(given: Iterable[Path]) -> list[Path]:
    """``--packages DIR_OR_LIST``: a folder's packages (``.imscc``, ``.zip`` and course folders,
    those with a ``course.toml``), or the paths listed one a line in a text file."""
    found: list[Path] = []
    for p in given:
        p = Path(p)
        if p.is_dir() and not (p / "course.toml").is_file():
            for child in sorted(p.iterdir()):
                if child.suffix.lower() in (".imscc", ".zip") or (child / "course.toml").is_file():
                    found.append(child.resolve())
        elif p.is_file() and p.suffix.lower() in (".txt", ".lst", ".list"):
            for line in p.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    found.append(Path(line.strip()).expanduser().resolve())
        elif p.exists():
            found.append(p.resolve())
        else:
            raise BadRequest(f"--packages: no such file or folder: {p}")
    if not found:
        raise BadRequest("--packages: no package found (.imscc, .zip, or a course folder)")
    missing = [str(p) for p in found if not p.exists()]
    if missing:
        raise BadRequest(f"--packages: no such package: {missing[0]}")
    return list(dict.fromkeys(found))


def create_run(service: Any, planned: Plan) -> int:
    return service.library.bulk.create_run(
        source=planned.source,
        out_dir=str(planned.out),
        formats=planned.formats,
        settings=planned.settings,
        items=planned.items,
    )


# ------------------------------------------------------------------ one item (runs in a worker)


@dataclass(frozen=True)
class ItemTask:
    """One item as a worker gets it: plain data, never a token or a connection.  A worker on this
    machine opens the library at ``home`` (read-only use, once per process); a cluster worker on
    another machine gets ``snapshot``, built and shipped by the coordinator, and reads course
    files at their blob paths (shared storage)."""

    item_id: int
    course_id: int
    format: str
    folder: str
    version: str | None = None
    home: str | None = None
    snapshot: CourseSnapshot | None = None
    max_embed_bytes: int = 25 * 1024 * 1024
    remote: str | None = None  # Canvas: the export already made for this item, to follow
    fsync: bool = False  # on another machine: each file flushed (this machine's: once per run)


@dataclass(frozen=True)
class ItemResult:
    """What a worker sends back: the coordinator writes it to the item's row."""

    item_id: int
    ok: bool
    path: str | None = None
    size: int | None = None
    sha256: str | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None
    ran_on: str = "local"
    companions: tuple[str, ...] = ()  # the item's other files (an ePub's companion zip)

    @property
    def files(self) -> tuple[str, ...]:
        return (self.path, *self.companions) if self.path else ()

    @classmethod
    def placed(cls, item_id: int, placed: list[Path], warnings: Iterable[str], ran_on: str) -> ItemResult:
        """An exported item whose files are in its course folder: the first its main file
        (size and SHA-256 taken from the disk), the others its companions."""
        size, digest = file_digest(placed[0])
        return cls(
            item_id,
            True,
            str(placed[0]),
            size,
            digest,
            tuple(warnings),
            ran_on=ran_on,
            companions=tuple(str(p) for p in placed[1:]),
        )


def course_snapshot(
    service: Any, user_id: int, course_id: int, fmt: str | None, *, detail: str = "outline"
) -> CourseSnapshot:
    """The course as ``user_id`` sees it, with the selection Canvas makes when no ``select`` is
    given (an ePub: everything); no selection when ``fmt`` is None (:func:`with_selection` adds it)."""
    course, standing = service.course(user_id, course_id)
    snap = build_snapshot(
        service.library, course.id, service.user(user_id), standing.role, now=utcnow(), detail=detail
    )
    return snap if fmt is None else with_selection(snap, fmt)


def with_selection(snap: CourseSnapshot, fmt: str) -> CourseSnapshot:
    """A copy of ``snap`` selecting what a ``fmt`` export of the course carries by default."""
    snap = replace(snap)
    snap.__dict__.pop("_indexes", None)
    if fmt == "epub":
        snap.selection = resolve(SelectRequest(everything=True), snap)
    else:
        snap.selection = resolve(
            default_select(ExportType(fmt)), snap, linked_files=format_of(fmt).linked_files
        )
    return snap


_opened: dict[str, Any] = {}  # a worker process's service per library folder
_inherited: list[dict[str, Any]] = []  # a forked worker's copy of its parent's services


def _service_at(home: str) -> Any:
    if home not in _opened:
        from .service import ExportService

        _opened[home] = ExportService.open(Home.from_env(home), seed=False, recover=False)
    return _opened[home]


def build_items(tasks: Iterable[ItemTask], ran_on: str = "local") -> list[ItemResult]:
    """A chunk of items, one after the other in this worker; the formats of one course share
    the course read from the library once."""
    read: dict[tuple[str | None, int], CourseSnapshot] = {}
    return [build_item(task, ran_on, read) for task in tasks]


def build_item(
    task: ItemTask, ran_on: str = "local", read: dict[tuple[str | None, int], CourseSnapshot] | None = None
) -> ItemResult:
    """Export one item into its course folder: work folder, fsync, rename.  Every failure is a
    result with its reason, never an exception (a worker must not die of one course)."""
    folder = Path(task.folder)
    workdir = folder.parent / WORK_DIR / f"{task.item_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        snap = task.snapshot
        if snap is None:
            key = (task.home, task.course_id)
            course = (read or {}).get(key)
            if course is None:
                service = _service_at(task.home or "")
                course = course_snapshot(service, service.owner_id(), task.course_id, None)
                if read is not None:
                    read[key] = course
            snap = with_selection(course, task.format)
        workdir.mkdir(mode=0o700, parents=True)
        result = _export(snap, task, workdir)
        folder.mkdir(parents=True, exist_ok=True)
        placed = []
        for out in result.files:
            if task.fsync:
                with open(out.path, "rb") as f:
                    os.fsync(f.fileno())
            target = folder / stable_name(out.path.name)
            os.replace(out.path, target)
            placed.append(target)
        if task.fsync:
            fsync_dir(folder)
        return ItemResult.placed(task.item_id, placed, result.warnings, ran_on)
    except Exception as e:  # noqa: BLE001 - one course's failure is its item's error
        return ItemResult(task.item_id, False, error=describe_failure(e, folder.parent), ran_on=ran_on)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _export(snap: CourseSnapshot, task: ItemTask, workdir: Path):
    if task.format == "epub":
        epub = exporter_of("epub")
        book = epub.render_book(snap, workdir, no_progress, max_embed_bytes=task.max_embed_bytes)
        result = epub.package_book(book, workdir, no_progress)
        result.files.sort(key=lambda f: f.content_type != "application/epub+zip")  # the book first
        return result
    export = exporter_of(task.format)
    if format_of(task.format).versions:
        return export(snap, workdir, no_progress, version=task.version or format_of(task.format).versions[0])
    return export(snap, workdir, no_progress)


_STAMP = re.compile(r"-\d{4}-[A-Za-z]{3}-\d{2}_\d{2}-\d{2}-\d{2}(?=\.[a-z]+$)")


def stable_name(name: str) -> str:
    """Canvas's file name without the time an ePub carries in it (``Course-2026-Dec-02_03-02-03.epub``
    → ``Course.epub``): an item made again replaces its file instead of adding a second one."""
    return _STAMP.sub("", name)


def file_digest(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def course_folder(out: Path, course_code: str, course_id: int) -> Path:
    """``--out/<course_code>-<id>/``, the code made safe as one folder name."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in course_code).strip("._") or "course"
    return out / f"{safe[:80]}-{course_id}"


# ------------------------------------------------------------------ pools


class Pool(Protocol):
    """Where items run: ``slots`` chunks at once (and ``ahead`` more queued, so no worker waits
    for the coordinator between two chunks); a chunk holds up to ``chunk_items`` items.
    ``submit`` starts a chunk (a tuple of tasks), ``finished`` returns (handle, [ItemResult, …])
    pairs of the chunks that ended, waiting up to ``timeout`` for one."""

    slots: int
    ahead: int
    chunk_items: int

    def submit(self, tasks: tuple[Any, ...]) -> Any: ...

    def finished(self, timeout: float) -> list[tuple[Any, list[ItemResult]]]: ...

    def close(self, cancel: bool) -> None: ...


def run_chunk(fn: Callable[[Any], ItemResult], tasks: Iterable[Any]) -> list[ItemResult]:
    """A chunk's items, one after the other (``fn`` builds one item)."""
    return [fn(task) for task in tasks]


class InlinePool:
    """One item at a time in this process (``--workers 1``)."""

    slots = 1
    ahead = 0
    chunk_items = 1

    def __init__(self, fn: Callable[[Any], ItemResult] | None = None):
        self.fn = fn
        self._queue: deque[tuple[Any, tuple[Any, ...]]] = deque()

    def submit(self, tasks: tuple[Any, ...]) -> Any:
        handle = object()
        self._queue.append((handle, tasks))
        return handle

    def finished(self, timeout: float) -> list[tuple[Any, list[ItemResult]]]:
        if not self._queue:
            time.sleep(min(timeout, 0.05))
            return []
        handle, tasks = self._queue.popleft()
        return [(handle, run_chunk(self.fn, tasks) if self.fn else build_items(tasks))]

    def close(self, cancel: bool) -> None:
        self._queue.clear()


class FuturesPool:
    """Chunks on a ``concurrent.futures`` executor: worker processes (local) or threads (Canvas).
    ``fn`` builds one chunk (a list of results), ``ahead`` chunks wait queued beyond ``slots``."""

    ahead = 0
    chunk_items = 1

    def __init__(
        self, make: Callable[[], cf.Executor], slots: int, fn: Callable[[tuple[Any, ...]], list[ItemResult]]
    ):
        self.make, self.slots, self.fn = make, slots, fn
        self.executor = make()
        self._futures: dict[cf.Future, tuple[Any, ...]] = {}

    def submit(self, tasks: tuple[Any, ...]) -> Any:
        if getattr(self.executor, "_broken", False):  # a worker process died: a new pool for the rest
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self.make()
        future = self.executor.submit(self.fn, tasks)
        self._futures[future] = tasks
        return future

    failed_on = "local"  # ``ran_on`` of an item whose future raised

    def finished(self, timeout: float) -> list[tuple[Any, list[ItemResult]]]:
        if not self._futures:
            time.sleep(min(timeout, 0.05))
            return []
        return collect(self.wait(timeout), self._futures, ran_on=self.failed_on)

    def wait(self, timeout: float) -> Iterable[Any]:
        """The futures that ended, waiting up to ``timeout`` for the first one."""
        return cf.wait(list(self._futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)[0]

    def close(self, cancel: bool) -> None:
        self.executor.shutdown(wait=True, cancel_futures=cancel)


def collect(
    done: Iterable[Any], futures: dict[Any, tuple[Any, ...]], ran_on: str = "local"
) -> list[tuple[Any, list[ItemResult]]]:
    """The results of ``done`` futures (taken out of ``futures``); one that raised — a worker
    process that died, a Dask worker lost on every try — is the failure of each of its items."""
    out = []
    for future in done:
        tasks = futures.pop(future)
        try:
            out.append((future, list(future.result())))
        except BaseException as e:  # noqa: BLE001 - whatever ended the task is its items' error
            reason = describe_failure(e)
            out.append((future, [ItemResult(t.item_id, False, error=reason, ran_on=ran_on) for t in tasks]))
    return out


def _worker_start(home: str | None = None) -> None:
    """In each worker process: Ctrl-C is the coordinator's to handle, and a worker whose
    coordinator died (``kill -9``) leaves at once instead of finishing orphaned items.  The
    library at ``home`` is opened here, once per process, while the coordinator still plans."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the run's workers are its use of the cores: an export here starts no render processes
    from ..exporters.common.render_pool import keep_to_this_process

    keep_to_this_process()
    # a forked worker opens its own connections; its parent's are kept, never used nor closed
    _inherited.append(_opened.copy())
    _opened.clear()
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    if home:
        _service_at(home)


def _warm() -> int:
    return os.getpid()


#: the most items in one chunk of a local or cluster pool: a small course's item takes ~8 ms of
#: CPU, and handing a task over and taking its records back costs the coordinator (and a Dask
#: scheduler and worker) a few ms whatever its size, on the same two cores; so a chunk is up to
#: ten items (five courses in two formats), and smaller as the run ends (``Coordinator``: the
#: items left shared among the chunks in flight), so every worker stays busy to the end
CHUNK_ITEMS = 10


def process_pool(workers: int, home: str | Path | None = None) -> Pool:
    """``workers`` processes on this machine (one: this process, no pool), started at once, each
    with the library at ``home`` opened."""
    if workers <= 1:
        return InlinePool()
    import multiprocessing

    # forked from this process once the exporters are imported: a worker is ready at once (a
    # fork server would import them again, half a second before the first item could start).
    # A worker uses none of this process's connections (``_worker_start`` drops them) and
    # leaves within 0.2 s of a coordinator that died, so the --out lock it may hold goes too.
    ctx = multiprocessing.get_context("fork")
    for f in FORMATS:
        importlib.import_module(f.exporter.partition(":")[0])

    def make() -> cf.Executor:
        executor = cf.ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_worker_start, initargs=(str(home) if home else None,)
        )
        for _ in range(workers):  # start the processes now, not at the first chunk
            executor.submit(_warm)
        return executor

    pool = FuturesPool(make, workers, build_items)
    pool.ahead, pool.chunk_items = workers, CHUNK_ITEMS
    return pool


# ------------------------------------------------------------------ the coordinator


#: Set by a Ctrl-C during a run.  Python raises KeyboardInterrupt wherever the main thread is,
#: and code run by the collector or a finalizer (``__del__``, a weakref callback) only prints
#: what it raises: the run loop looks at this too, so a Ctrl-C is never lost.
_ctrl_c = threading.Event()


@contextmanager
def _ctrl_c_remembered() -> Iterator[None]:
    _ctrl_c.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def remember(signum: int, frame: Any) -> None:
        _ctrl_c.set()
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, remember)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Flusher:
    """The run's files made durable while it works: each placed file, then its folder, fsynced
    on a thread of the coordinator (an fsync waits on the disk and lets go of the GIL), batch by
    batch as records come back; :meth:`close` waits for the last ones and the course folders'
    entries in ``--out``.  Only the run's own files, never the whole machine's."""

    def __init__(self, out: Path):
        self.out = out
        self._queue: queue.SimpleQueue[tuple[str, ...] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def add(self, paths: Iterable[str]) -> None:
        paths = tuple(paths)
        if not paths:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="bulk-flush", daemon=True)
            self._thread.start()
        self._queue.put(paths)

    def _work(self) -> None:
        ended = False
        while not ended:
            batch: list[str] = []
            paths = self._queue.get()  # then whatever else came meanwhile, in one batch
            while paths is not None:
                batch += paths
                try:
                    paths = self._queue.get_nowait()
                except queue.Empty:
                    break
            ended = paths is None
            for path in batch:  # fsync_dir opens read-only and fsyncs: a file as well as a folder
                fsync_dir(Path(path))
            for folder in dict.fromkeys(os.path.dirname(p) for p in batch):
                fsync_dir(Path(folder))

    def close(self) -> None:
        """Wait for what was given; then the course folders' entries in ``--out``."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
            fsync_dir(self.out)


@dataclass
class BulkStatus:
    """What a front shows while a run works: counts, bytes, items in flight, the last event."""

    run_id: int
    total: int
    exported: int = 0
    failed: int = 0
    skipped: int = 0
    bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    in_flight: dict[int, str] = field(default_factory=dict)  # item id -> label
    event: str = ""  # "exported", "failed", "retry", "start", "import"
    item: BulkItem | None = None
    message: str = ""

    @property
    def done(self) -> int:
        return self.exported + self.failed

    def eta(self) -> float | None:
        worked = self.done - self.skipped
        if worked <= 0:
            return None
        rate = (time.monotonic() - self.started) / worked
        return rate * (self.total - self.done)


def item_label(item: BulkItem | dict[str, Any]) -> str:
    """``ASTR 101-1 zip``: a course by code and id (a package not imported yet by its name)."""
    r = item if isinstance(item, dict) else item.record()
    who = f"{r['course_code']}-{r['course_id']}" if r["course_id"] else Path(r["package"]).name
    return f"{who} {r['format']}"


class OutLocked(BadRequest):
    pass


def lock_out(out: Path) -> IO[str] | None:
    """Take ``--out/.bulk.lock`` for this run (kept until released or this process ends)."""
    out.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover - Windows
        return None
    handle = open(out / LOCK_NAME, "a+")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise OutLocked(
            f"another bulk run is writing to {out} (it holds {out / LOCK_NAME}): "
            "wait for it to end, or give another --out"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


class Coordinator:
    """Works one run to its end: the only writer of its rows."""

    def __init__(
        self,
        service: Any,
        run_id: int,
        pool: Pool,
        *,
        task_of: Callable[[BulkItem], Any] | None = None,
        on_status: Callable[[BulkStatus], None] = lambda s: None,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: float = BACKOFF_SECONDS,
    ):
        self.service = service
        self.store = service.library.bulk
        run = self.store.run(run_id)
        if run is None:
            raise NotFound(f"no bulk run {run_id} (`tui-exports bulk list` shows them)")
        self.run_record: BulkRun = run
        self.out = Path(run.out_dir)
        self.pool = pool
        self.task_of = task_of or self.local_task
        self.on_status = on_status
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.version = run.settings.get("version")
        self.max_embed = service.settings.epub_max_embed_mb * 1024 * 1024
        self._last_snapshot: tuple[int | None, Any] = (None, None)
        self._pool_closed = False
        self.flusher = Flusher(self.out)
        if hasattr(pool, "note"):  # Canvas: each export is recorded as soon as Canvas made it
            pool.note = self.note_remote

    @property
    def run_id(self) -> int:
        return self.run_record.id

    def local_task(self, item: BulkItem) -> ItemTask:
        return ItemTask(
            item_id=item.id,
            course_id=item.course_id,  # type: ignore[arg-type]
            format=item.format,
            folder=str(course_folder(self.out, item.course_code, item.course_id or 0)),
            version=self.version,
            home=str(self.service.library.home.data),
            max_embed_bytes=self.max_embed,
            remote=item.remote_export,
        )

    def note_remote(self, item_id: int, export: str) -> None:
        """The export Canvas made for an item (``content:ID``/``epub:ID``), recorded before it is
        followed: a resume follows it instead of asking Canvas for another."""
        self.store.update_item(item_id, remote_export=export)

    def snapshot_task(self, item: BulkItem) -> ItemTask:
        """The item with its course snapshot shipped (for workers that have no library); the
        items of one course follow each other, so its snapshot is read once for all its formats."""
        cached_id, snap = self._last_snapshot
        if cached_id != item.course_id:
            snap = course_snapshot(
                self.service, self.service.owner_id(), item.course_id, "zip", detail="full"
            )
            self._last_snapshot = (item.course_id, snap)
        return replace(
            self.local_task(item), home=None, snapshot=with_selection(snap, item.format), fsync=True
        )

    # -- the run
    def run(self) -> BulkRun:
        """Work the run to its end; the pool is closed however it ends (its processes, started
        when it was made, never outlive a refused or canceled run)."""
        try:
            lock = lock_out(self.out)
            try:
                return self._run()
            finally:
                if lock is not None:
                    lock.close()
        finally:
            self._close_pool()
            self.flusher.close()  # a run that failed before its end leaves no thread behind

    def _close_pool(self) -> None:
        if not self._pool_closed:
            self._pool_closed = True
            self.pool.close(cancel=True)

    def _run(self) -> BulkRun:
        with _ctrl_c_remembered():
            return self._run_items()

    def _run_items(self) -> BulkRun:
        if self.store.run(self.run_id).workflow_state is BulkItemState.CANCELED:
            return self.store.run(self.run_id)  # `bulk resume` opens it again
        self.store.set_run(self.run_id, BulkItemState.EXPORTING, "")
        status = BulkStatus(self.run_id, total=sum(self.store.counts(self.run_id).values()))
        self._prepare(status)
        self._import_packages(status)
        tries: dict[int, int] = {}
        retries: list[tuple[float, int]] = []  # (when, item id)
        in_flight: dict[Any, list[BulkItem]] = {}  # a chunk's handle -> its items
        cursor = 0
        pending: deque[BulkItem] = deque()
        exhausted = False
        interrupted = False
        last_check = time.monotonic()
        size = max(1, getattr(self.pool, "chunk_items", 1))
        left = self.store.counts(self.run_id).get(BulkItemState.CREATED, 0)  # not handed out yet
        try:
            while True:
                if _ctrl_c.is_set():  # a Ctrl-C whose KeyboardInterrupt was swallowed where it landed
                    raise KeyboardInterrupt
                limit = self.pool.slots + getattr(self.pool, "ahead", 0)
                if not exhausted and len(pending) < 2 * limit * size:
                    page = self.store.items(
                        self.run_id, [BulkItemState.CREATED], after=cursor, limit=max(200, 2 * limit * size)
                    )
                    if page:
                        cursor = page[-1].id
                        pending.extend(page)
                    else:
                        exhausted = True
                while len(in_flight) < limit:
                    chunk = self._next_chunk(pending, retries, min(size, max(1, left // limit)))
                    if not chunk:
                        break
                    left -= len(chunk)
                    for item in chunk:
                        tries[item.id] = tries.get(item.id, 0) + 1
                    self._start(chunk, in_flight, status)
                if not in_flight and not pending and exhausted:
                    if not retries:
                        break
                    time.sleep(max(0.0, min(0.2, retries[0][0] - time.monotonic())))
                    continue
                ended = []
                for handle, results in self.pool.finished(timeout=0.2):
                    by_id = {item.id: item for item in in_flight.pop(handle)}
                    ended += [(by_id[r.item_id], r) for r in results if r.item_id in by_id]
                if ended:
                    self._record(ended, status, tries, retries)
                if time.monotonic() - last_check > 0.5:
                    last_check = time.monotonic()
                    now_run = self.store.run(self.run_id)
                    if now_run and now_run.workflow_state is BulkItemState.CANCELED:
                        break
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            self._close_pool()
            self.flusher.close()  # the files this run placed are on disk before the reports say so
            if interrupted:  # what was handed out goes back, what is marked and not handed out yet too
                self.store.reopen(self.run_id, [BulkItemState.EXPORTING])
                self.store.set_run(self.run_id, BulkItemState.FAILED, "interrupted")
            self.write_reports()
            if not interrupted:  # nothing is in flight any more: what a lost worker left goes
                shutil.rmtree(self.out / WORK_DIR, ignore_errors=True)
        return self._finish()

    def _next_chunk(
        self, pending: deque[BulkItem], retries: list[tuple[float, int]], size: int
    ) -> list[BulkItem]:
        """The next items to hand out together: a retry that is due (alone), or up to ``size``
        pending items, a course's formats kept in one chunk."""
        if retries and retries[0][0] <= time.monotonic():
            _, item_id = heapq.heappop(retries)
            item = self.store.item(item_id)
            return [item] if item else []
        chunk: list[BulkItem] = []
        while pending and (len(chunk) < size or pending[0].course_id == chunk[-1].course_id):
            chunk.append(pending.popleft())
        return chunk

    def _start(self, chunk: list[BulkItem], in_flight: dict[Any, list[BulkItem]], status: BulkStatus) -> None:
        """The chunk's items say ``exporting`` (one transaction), then go to the pool as one task."""
        self.store.start_items([item.id for item in chunk])
        tasks, started = [], []
        for item in chunk:
            item = replace(
                item, workflow_state=BulkItemState.EXPORTING, attempts=item.attempts + 1, error=None
            )
            try:
                tasks.append(self.task_of(item))
            except Exception as e:  # noqa: BLE001 - a course that cannot be read fails its item only
                self._record([(item, ItemResult(item.id, False, error=describe_failure(e)))], status, {}, [])
                continue
            started.append(item)
        if not started:
            return
        handle = self.pool.submit(tuple(tasks))
        in_flight[handle] = started
        for item in started:
            status.in_flight[item.id] = item_label(item)
        status.event, status.item, status.message = "start", started[0], ""
        self.on_status(status)

    def _record(
        self,
        ended: list[tuple[BulkItem, ItemResult]],
        status: BulkStatus,
        tries: dict[int, int],
        retries: list[tuple[float, int]],
    ) -> None:
        """The records of the items that ended since the last wake-up, in one transaction; then
        the front hears of each."""
        changes: list[tuple[BulkItem, dict[str, Any]]] = []
        for item, result in ended:
            if result.ok:
                fields: dict[str, Any] = {
                    "workflow_state": BulkItemState.EXPORTED,
                    "path": result.path,
                    "size": result.size,
                    "sha256": result.sha256,
                    "warnings": result.warnings,
                    "error": None,
                    "ran_on": result.ran_on,
                }
            else:
                fields = {
                    "workflow_state": BulkItemState.FAILED,
                    "error": result.error,
                    "ran_on": result.ran_on,
                }
            changes.append((item, fields))
        self.store.update_items([(item.id, fields) for item, fields in changes])
        self.flusher.add(path for _, result in ended for path in result.files)
        for (item, fields), (_, result) in zip(changes, ended, strict=True):
            status.in_flight.pop(item.id, None)
            if result.ok:
                status.exported += 1
                status.bytes += result.size or 0
                status.event, status.message = "exported", ""
            else:
                n = tries.get(item.id, self.max_attempts)
                if n < self.max_attempts:
                    wait = self.backoff * (2 ** (n - 1))
                    heapq.heappush(retries, (time.monotonic() + wait, item.id))
                    status.event, status.message = "retry", f"{result.error}; retrying in {wait:.0f} s"
                else:
                    status.failed += 1
                    status.event, status.message = "failed", result.error or ""
            status.item = replace(item, **fields)
            self.on_status(status)

    def _prepare(self, status: BulkStatus) -> None:
        """Before working: items left ``exporting`` by a coordinator that died, failed and
        canceled ones go back to ``created``; an exported item whose file is gone or differs
        from its recorded size and hash is made again; the rest are skipped."""
        shutil.rmtree(self.out / WORK_DIR, ignore_errors=True)
        for half_written in self.out.glob(".report.*"):  # reports of a coordinator that died writing them
            half_written.unlink(missing_ok=True)
        self.store.reopen(self.run_id, [BulkItemState.EXPORTING, BulkItemState.FAILED])
        cursor = 0
        kept: set[Path] = set()
        while page := self.store.items(self.run_id, BULK_ITEM_DOWNLOADABLE, after=cursor, limit=500):
            cursor = page[-1].id
            for item in page:
                if _file_matches(item):
                    status.exported += 1
                    status.skipped += 1
                    status.bytes += item.size or 0
                    kept.add(Path(item.path).parent)
                else:
                    self.store.update_item(item.id, workflow_state=BulkItemState.CREATED)
        for folder in kept:  # kept from a run that may have died before it flushed them
            self.flusher.add(str(p) for p in folder.iterdir() if p.is_file())

    def _import_packages(self, status: BulkStatus) -> None:
        """Packages not imported yet become courses of the library (the coordinator alone writes it)."""
        seen: set[str] = set()
        for item in self.store.items(self.run_id, [BulkItemState.CREATED]):
            if item.course_id is not None or not item.package or item.package in seen:
                continue
            seen.add(item.package)
            status.event, status.item, status.message = "import", item, f"importing {item.package}"
            self.on_status(status)
            try:
                # the course and the items that name it commit together: a coordinator killed
                # at any point leaves either both or neither, so a resume never imports twice
                with self.store.transaction():
                    report = self.service.import_package(Path(item.package))
                    course = self.service.content.course(report.course_id)
                    self.store.set_package_course(self.run_id, item.package, course.id, course.course_code)
            except Exception as e:  # noqa: BLE001 - a package that cannot be read fails its items
                reason = e.describe() if hasattr(e, "describe") else describe_failure(e)
                for it in self.store.items(self.run_id, [BulkItemState.CREATED]):
                    if it.package == item.package:
                        self.store.update_item(
                            it.id,
                            workflow_state=BulkItemState.FAILED,
                            attempts=it.attempts + 1,
                            error=f"import: {reason}",
                        )
                        status.failed += 1

    def _finish(self) -> BulkRun:
        counts = self.store.counts(self.run_id)
        run = self.store.run(self.run_id)
        if run.workflow_state in (BulkItemState.CANCELED,) or run.message == "interrupted":
            return run
        open_ = sum(counts.get(s, 0) for s in BULK_ITEM_RUNNING)
        failed = sum(counts.get(s, 0) for s in BULK_ITEM_FAILED)
        state = BulkItemState.FAILED if failed or open_ else BulkItemState.EXPORTED
        message = f"{counts.get('exported', 0)} exported, {failed} failed" if failed else ""
        self.store.set_run(self.run_id, state, message)
        return self.store.run(self.run_id)

    # -- reports
    def write_reports(self) -> None:
        write_reports(self.store, self.run_id, self.out)


def _file_matches(item: BulkItem) -> bool:
    if not item.path or item.size is None or not item.sha256:
        return False
    path = Path(item.path)
    try:
        if path.stat().st_size != item.size:
            return False
    except OSError:
        return False
    return file_digest(path) == (item.size, item.sha256)


def report_rows(store: Any, run_id: int) -> Iterable[dict[str, Any]]:
    cursor = 0
    while page := store.items(run_id, after=cursor, limit=500):
        cursor = page[-1].id
        for item in page:
            yield item.record()


def write_reports(store: Any, run_id: int, out: Path) -> None:
    """``report.json`` and ``report.csv``: the same records, each written whole then renamed."""
    out.mkdir(parents=True, exist_ok=True)
    tmp_json = out / f".report.json.{os.getpid()}"
    tmp_csv = out / f".report.csv.{os.getpid()}"
    with open(tmp_json, "w", encoding="utf-8") as j, open(tmp_csv, "w", encoding="utf-8", newline="") as c:
        writer = csv.DictWriter(c, fieldnames=REPORT_FIELDS, extrasaction="ignore")
        writer.writeheader()
        j.write(f'{{"run_id": {run_id}, "items": [')
        first = True
        for record in report_rows(store, run_id):
            j.write(("" if first else ",") + "\n  " + json.dumps(record, ensure_ascii=False))
            first = False
            writer.writerow({**record, "warnings": " | ".join(record["warnings"])})
        j.write("\n]}\n")
    os.replace(tmp_json, out / "report.json")
    os.replace(tmp_csv, out / "report.csv")


def csv_text(records: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=REPORT_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for r in records:
        writer.writerow({**r, "warnings": " | ".join(r["warnings"])})
    return buf.getvalue()


# ------------------------------------------------------------------ what fronts call


def cancel_run(service: Any, run_id: int) -> int:
    store = service.library.bulk
    run = store.run(run_id)
    if run is None:
        raise NotFound(f"no bulk run {run_id} (`tui-exports bulk list` shows them)")
    if run.workflow_state in (BulkItemState.EXPORTED, BulkItemState.CANCELED):
        raise BadRequest(f"bulk run {run_id} has already ended ({run.workflow_state}): nothing to cancel")
    return store.cancel(run_id)


def reopen_for_resume(service: Any, run_id: int) -> BulkRun:
    store = service.library.bulk
    run = store.run(run_id)
    if run is None:
        raise NotFound(f"no bulk run {run_id} (`tui-exports bulk list` shows them)")
    if run.workflow_state is BulkItemState.CANCELED:
        store.reopen(run_id, [BulkItemState.CANCELED])
        store.set_run(run_id, BulkItemState.CREATED, "")
    return store.run(run_id)


def run_json(run: BulkRun, counts: dict[str, int]) -> dict[str, Any]:
    """A run as ``bulk list --json``, ``bulk show --json`` and the app's Bulk screen read it."""
    return {
        "id": run.id,
        "source": run.source,
        "out_dir": run.out_dir,
        "formats": list(run.formats),
        "workflow_state": str(run.workflow_state),
        "message": run.message,
        "created_at": run.created_at.isoformat(),
        "updated_at": run.updated_at.isoformat(),
        "counts": counts,
    }


def runs(service: Any) -> list[dict[str, Any]]:
    """Every run, newest first, with its item count per state."""
    return [run_json(run, counts) for run, counts in service.library.bulk.runs()]


def run_detail(service: Any, run_id: int, states: Iterable[str] | None = None) -> dict[str, Any]:
    """``{"run": …, "items": [records]}`` (only the items in ``states`` when given)."""
    store = service.library.bulk
    run = store.run(run_id)
    if run is None:
        raise NotFound(f"no bulk run {run_id} (`tui-exports bulk list` shows them)")
    items = store.items(run_id, states)
    return {"run": run_json(run, store.counts(run_id)), "items": [i.record() for i in items]}


def retry_failed(service: Any, run_id: int, pool: Pool | None = None) -> BulkRun:
    """Run a run's failed (and canceled, unfinished) items again, here, to the end."""
    reopen_for_resume(service, run_id)
    return Coordinator(service, run_id, pool or InlinePool()).run()

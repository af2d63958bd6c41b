"""``tui-exports bulk``: many courses in one resumable run (``engine.bulk`` does the work).

    bulk --courses all|ID,...|--filter TEXT --formats zip,common_cartridge --out DIR [--workers N]
    bulk --packages DIR_OR_LIST --formats ... --out DIR
    bulk list · bulk show RUN_ID [--json] · bulk resume RUN_ID · bulk cancel RUN_ID

Exit 0 when every item ended exported, 1 when some failed (they are listed), 2 for a bad
request (checked before anything runs), 130 after Ctrl-C (with how to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..paths import Home
from ..vocab import FORMATS
from .common import EXIT_FAILED, EXIT_OK, ProgressBar, _isatty, count_arg, human_size, id_arg, print_json

ACTIONS = ("list", "show", "resume", "cancel")


def add_parser(sub: Any) -> None:
    names = ",".join(f.name for f in FORMATS)
    sp = sub.add_parser(
        "bulk",
        help="export many courses (or packages) in one resumable run",
        description="Export many courses in one run that can be watched, stopped and resumed: "
        "one folder per course in --out, with report.csv and report.json. "
        "`bulk list`, `bulk show RUN_ID`, `bulk resume RUN_ID`, `bulk cancel RUN_ID` manage runs.",
    )
    sp.add_argument(
        "action", nargs="?", choices=ACTIONS, metavar="ACTION", help="list, show, resume or cancel"
    )
    sp.add_argument("run_id", nargs="?", type=id_arg, metavar="RUN_ID")
    sp.add_argument("--courses", metavar="all|ID,ID", help="all your courses, or these ids")
    sp.add_argument("--filter", metavar="TEXT", help="the courses whose code or name contains TEXT")
    sp.add_argument(
        "--term",
        metavar="ID|NAME",
        help="only the courses of this term (all of them, or those --courses names)",
    )
    sp.add_argument(
        "--packages",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="packages to import then export: a folder or a list file",
    )
    sp.add_argument("--formats", metavar="F,F", help=f"comma-separated: {names}")
    sp.add_argument("--out", type=Path, metavar="DIR", help="where the course folders and reports go")
    sp.add_argument("--cc-version", metavar="1.1|1.3", help="Common Cartridge version (default 1.1)")
    sp.add_argument(
        "--workers",
        type=count_arg(256),
        default=None,
        metavar="N",
        help="items at once (default 2; Canvas: 3)",
    )
    sp.add_argument(
        "--retries", type=count_arg(100), default=None, metavar="N", help="tries per item (default 3)"
    )
    sp.add_argument(
        "--timeout",
        type=count_arg(100_000),
        default=90,
        metavar="MIN",
        help="Canvas: minutes one export may take on the server (default 90)",
    )
    sp.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the items on a Dask cluster")
    sp.add_argument("--json", action="store_true", help="print the run's records as JSON on stdout")


def bulk_command(args: argparse.Namespace, home: Home, remote: Any = None) -> int:
    from ..engine import ExportService
    from ..engine import bulk as engine_bulk

    _check_args(args)
    service = ExportService.open(home)
    try:
        if args.action == "list":
            return _list(service, args)
        if args.action == "show":
            return _show(service, args)
        if args.action == "cancel":
            n = engine_bulk.cancel_run(service, args.run_id)
            print(
                f"canceled bulk run {args.run_id}: {n} items will not run (`bulk resume {args.run_id}` runs them)"
            )
            return EXIT_OK
        if args.action == "resume":
            run = engine_bulk.reopen_for_resume(service, args.run_id)
            canvas = run.source[len("canvas:") :] if run.source.startswith("canvas:") else None
            if canvas is not None and (remote is None or remote.base_url != canvas):
                raise engine_bulk.BadRequest(
                    f"bulk run {run.id} exports from Canvas ({canvas}): resume it with --profile NAME of that instance"
                )
            if canvas is None and remote is not None:
                raise engine_bulk.BadRequest(
                    f"bulk run {run.id} exports the local library: resume it without --profile"
                )
            return _work(service, args, run.id, remote)
        request = engine_bulk.BulkRequest(
            formats=tuple((args.formats or "").split(",")),
            out=args.out,
            courses=args.courses,
            filter=args.filter,
            packages=tuple(args.packages or ()),
            cc_version=args.cc_version,
            term=args.term,
        )
        if remote is not None:
            from ..backends.bulk import canvas_plan

            planned = canvas_plan(remote, request)
        else:
            planned = engine_bulk.plan(service, request)
        pool = _pool(args, remote, service)  # a missing cluster extra is said before the run is recorded
        run_id = engine_bulk.create_run(service, planned)
        print(f"bulk run {run_id}: {len(planned.items)} items into {planned.out}", file=sys.stderr)
        return _work(service, args, run_id, remote, pool)
    finally:
        service.close()


def _check_args(args: argparse.Namespace) -> None:
    from ..engine.errors import BadRequest

    if getattr(args, "as_user", None):
        raise BadRequest("bulk exports as the library's owner (teacher of the courses): drop --as")
    if args.action in ("show", "resume", "cancel") and args.run_id is None:
        raise BadRequest(f"bulk {args.action} needs the run's id: tui-exports bulk {args.action} RUN_ID")
    if args.action in (None,) and args.run_id is not None:
        raise BadRequest(f"`bulk {args.run_id}`: to act on a run, say how (bulk show|resume|cancel RUN_ID)")
    if args.action is None:
        if not args.formats:
            raise BadRequest("bulk needs --formats, e.g. --formats zip,common_cartridge")
        if args.out is None:
            raise BadRequest("bulk needs --out DIR: where the course folders and reports go")
    if args.workers is not None and args.workers < 1:
        raise BadRequest("--workers must be 1 or more")
    if args.retries is not None and args.retries < 1:
        raise BadRequest("--retries must be 1 or more")
    if args.timeout < 1:
        raise BadRequest("--timeout must be 1 minute or more")
    if args.scheduler is not None and not args.scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise BadRequest(f"--scheduler {args.scheduler!r}: give the scheduler's address, tcp://HOST:PORT")


def _pool(args: argparse.Namespace, remote: Any, service: Any):
    from ..engine import bulk as engine_bulk

    if remote is not None:
        if args.scheduler:
            raise engine_bulk.BadRequest("--scheduler runs library courses; Canvas exports run on Canvas")
        from ..backends.bulk import canvas_pool

        return canvas_pool(remote, args.workers or 3, timeout=args.timeout * 60)
    if args.scheduler:
        from ..engine.cluster import cluster_pool

        return cluster_pool(args.scheduler)
    return engine_bulk.process_pool(args.workers or 2, service.library.home.data)


def _work(service: Any, args: argparse.Namespace, run_id: int, remote: Any, pool: Any = None) -> int:
    from ..engine import bulk as engine_bulk

    pool = pool or _pool(args, remote, service)
    view = BulkView(run_id)
    coordinator = engine_bulk.Coordinator(
        service,
        run_id,
        pool,
        on_status=view.update,
        max_attempts=args.retries or engine_bulk.MAX_ATTEMPTS,
    )
    if args.scheduler:
        from ..engine.cluster import workers_share_this_machine

        if not workers_share_this_machine(args.scheduler):  # no library there: each task carries its course
            coordinator.task_of = coordinator.snapshot_task
    try:
        run = coordinator.run()
    except KeyboardInterrupt:
        view.done()
        print(
            f"\ninterrupted: bulk run {run_id} stopped; items not finished run again with "
            f"`tui-exports{' --profile NAME' if remote is not None else ''} bulk resume {run_id}`",
            file=sys.stderr,
        )
        return 130
    finally:
        view.done()
    return _summary(service, run, args)


def _summary(service: Any, run: Any, args: argparse.Namespace) -> int:
    from ..engine import bulk as engine_bulk
    from ..model import BULK_ITEM_FAILED, BULK_ITEM_RUNNING

    detail = engine_bulk.run_detail(service, run.id)
    counts = detail["run"]["counts"]
    failed = [i for i in detail["items"] if i["state"] in BULK_ITEM_FAILED]
    if args.json:
        print_json(detail)
    else:
        print(
            f"bulk run {run.id} {run.workflow_state}: {_counts_text(counts)}; report: {Path(run.out_dir) / 'report.csv'}"
        )
        for item in failed:
            print(f"  failed: {_label(item)}: {item['error'] or item['state']}")
    unfinished = any(counts.get(s) for s in BULK_ITEM_RUNNING)
    return EXIT_FAILED if failed or unfinished or run.workflow_state == "canceled" else EXIT_OK


def _label(item: Any) -> str:
    from ..engine.bulk import item_label

    return item_label(item)


def _counts_text(counts: dict[str, int]) -> str:
    order = ("exported", "failed", "canceled", "exporting", "created")
    return ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s)) or "no items"


def _list(service: Any, args: argparse.Namespace) -> int:
    from ..engine import bulk as engine_bulk

    runs = engine_bulk.runs(service)
    if args.json:
        print_json(runs)
        return EXIT_OK
    if not runs:
        print("no bulk runs yet: tui-exports bulk --courses all --formats common_cartridge --out DIR")
    for run in runs:
        print(
            f"{run['id']:>4}  {run['workflow_state']:<9}  {run['created_at'][:16].replace('T', ' ')}  "
            f"{','.join(run['formats'])}  {_counts_text(run['counts'])}  → {run['out_dir']}"
        )
    return EXIT_OK


def _show(service: Any, args: argparse.Namespace) -> int:
    from ..engine import bulk as engine_bulk

    detail = engine_bulk.run_detail(service, args.run_id)
    if args.json:
        print_json(detail)
        return EXIT_OK
    run = detail["run"]
    print(f"bulk run {run['id']}  {run['workflow_state']}  {run['source']}  → {run['out_dir']}")
    print(f"  {_counts_text(run['counts'])}{'  ' + run['message'] if run['message'] else ''}")
    for item in detail["items"]:
        size = human_size(item["size"]) if item["size"] is not None else ""
        extra = item["error"] or item["path"] or ""
        print(f"  {item['id']:>6}  {item['state']:<9}  {_label(item):<40}  {size:>9}  {extra}")
    return EXIT_OK


class BulkView:
    """The run on stderr: on a terminal one overall bar (items done of all, bytes, ETA) with the
    items in flight beside it; into a pipe or a log a plain line per item that ends."""

    def __init__(self, run_id: int, stream=None):
        self.run_id = run_id
        self.stream = stream or sys.stderr
        self.bar: ProgressBar | None = None
        self._tty = _isatty(self.stream)

    def update(self, status: Any) -> None:
        percent = 100.0 * status.done / status.total if status.total else 100.0
        if self._tty:
            if self.bar is None:
                self.bar = ProgressBar(f"bulk {self.run_id}", self.stream)
            eta = status.eta()
            flying = ", ".join(list(status.in_flight.values())[:3])
            note = f"{human_size(status.bytes)}" + (f" ETA {_duration(eta)}" if eta is not None else "")
            self.bar.update(percent, f"{status.done}/{status.total}", f"{note}  {flying}".rstrip())
            return
        if status.event in ("exported", "failed", "retry", "import") and status.item is not None:
            what = _label(status.item)
            tail = f" {human_size(status.item.size)}" if status.event == "exported" else f": {status.message}"
            if status.event == "import":
                what, tail = status.message, ""
            self.stream.write(
                f"bulk {self.run_id} [{status.done}/{status.total}] {status.event} {what}{tail}\n"
            )
            self.stream.flush()

    def done(self) -> None:
        if self.bar is not None:
            self.bar.done()
            self.bar = None


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"

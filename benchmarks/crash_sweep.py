#!/usr/bin/env python3
"""Crash sweep (issue 16): ``kill -9`` an export at random points of its life, recover, and
check that the library is whole every time.

    python benchmarks/crash_sweep.py                 # 120 random points, seed 16, writes RESULTS.md
    python benchmarks/crash_sweep.py --points 300 --seed 7 --results -

Each kill is a forked child that opens the library as any process does, runs one export (a
zip, a Common Cartridge, a QTI, an ePub, or one whose exporter fails) on a direct call or on a
``JobRunner`` (as the worker and ``serve`` run them), and ``SIGKILL``s itself at a crash point
(``tui_exports.engine.faults``: before or after the temp folder, mid-write progress, fsync,
the record of what it publishes, each rename, the row's move, the notification...).  The
parent then opens the library (recovery runs), runs what recovery queued again, and asserts:

* ``library check`` finds nothing: no file at a final path without its finished export, no
  finished export without its file, no work folder, no orphan or missing blob or file row,
  no job left running, ``PRAGMA integrity_check`` ok;
* the killed job has ended: failed with the reason, adopted (its published files matched what
  it recorded before the renames), or finished;
* and, at the end, one more export of each kind succeeds.

The suite runs a fixed set of points (``tests/engine/test_crash_sweep.py``); this runs many
random ones and writes their counts to ``benchmarks/RESULTS.md`` (a section of its own).
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tui_exports.engine import (  # noqa: E402
    ExportService,
    JobRunner,
    faults,  # noqa: E402
)
from tui_exports.engine.integrity import check_library  # noqa: E402
from tui_exports.model import ContextType, JobKind  # noqa: E402
from tui_exports.paths import Home  # noqa: E402

#: the jobs a kill can hit: (name, kind, export type or None for an ePub, exporter fails)
JOBS = {
    "zip": (JobKind.CONTENT, "zip", False),
    "common_cartridge": (JobKind.CONTENT, "common_cartridge", False),
    "qti": (JobKind.CONTENT, "qti", False),
    "epub": (JobKind.EPUB, None, False),
    "zip-failing": (JobKind.CONTENT, "zip", True),
    "epub-failing": (JobKind.EPUB, None, True),
}


class Broken(RuntimeError):
    """The failure of a job made to fail (its ``failing`` point is on the way to recording it)."""


def _child(home: Path, job: str, kind: JobKind, job_id: int, point: str, via_runner: bool) -> None:
    """In the forked child: run the queued job, dying at ``point``; never returns."""
    code = 0
    try:
        faults.arm(point)
        service = ExportService.open(Home.from_env(home), seed=False, recover=False)
        if JOBS[job][2]:
            _break(service, kind)
        if via_runner:
            runner = JobRunner(service, workers=1, poll_seconds=0.01)
            runner.run(kind, job_id)
            runner.wait_idle(60)
        else:
            service.store.claim(kind, job_id, os.getpid(), state="created")
            run = service.run_content_export if kind is JobKind.CONTENT else service.run_epub_export
            run(job_id)
    except BaseException:  # noqa: BLE001 - the parent sees it as an exit code
        code = 3
    os._exit(code)  # no atexit, no test-runner cleanup in the child: it ends here


def _break(service: ExportService, kind: JobKind) -> None:
    def fail(*args, **kwargs):
        raise Broken("the exporter broke")

    if kind is JobKind.CONTENT:
        service.runner.exporter = lambda ce: fail
    else:
        from tui_exports.engine.formats import exporter_of

        exporter_of("epub").render_book = fail


def kill_at(home: Path, job: str, point: str, *, via_runner: bool = False) -> tuple[str, str, list[str]]:
    """Queue ``job``, run it in a forked child armed to die at ``point``, then recover and check
    the library as the next process would.  Returns how the child ended ("killed"; "ran" when it
    never reached the point; "crashed" on an exception), the job's outcome ("failed: …",
    "adopted", "requeued, then exported", "exported"…) and the problems ``library check`` found."""
    kind, export_type, _ = JOBS[job]
    service = ExportService.open(Home.from_env(home), seed=False, recover=False)
    try:
        owner = service.owner_id()
        if kind is JobKind.CONTENT:
            job_id = service.create_content_export(owner, ContextType.COURSE, 1, export_type).id
        else:
            job_id = service.create_epub_export(owner, 1).id
    finally:
        service.close()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(home, job, kind, job_id, point, via_runner)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        ended = "killed"
    else:
        ended = "ran" if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else "crashed"
    return (ended, *recover_and_check(home, kind, job_id))


def recover_and_check(home: Path, kind: JobKind, job_id: int) -> tuple[str, list[str]]:
    """Open the library and recover, run what recovery queued again, and check the library."""
    service = ExportService.open(Home.from_env(home), seed=False, recover=False)
    try:
        done = " ".join(line for line in service.recover() if line.startswith(f"{kind}_exports {job_id}:"))
        runner = JobRunner(service, workers=1, poll_seconds=0.01)
        runner.wait_idle(60)
        runner.stop(wait=True)
        problems = [f.line() for f in check_library(service)]
        record = service.store.job(kind, job_id)
        state = record.workflow_state.value
        if state not in ("exported", "generated", "failed"):
            problems.append(f"{kind} export {job_id} left {state}")
        if state == "failed":
            outcome = "failed: " + (record.errors or ["no reason"])[-1].split(" (pid")[0][:64]
        elif "queued again" in done:
            outcome = f"requeued, then {state}"
        elif "adopted" in done:
            outcome = f"adopted ({state})"
        else:
            outcome = state
        return outcome, problems
    finally:
        service.close()


def random_points(rng: random.Random, count: int) -> list[tuple[str, str, bool]]:
    """``count`` random (job, point, on a runner): any point of the job's kind, a repeated one
    (progress writes, an ePub's renames) at a random occurrence."""
    out = []
    for _ in range(count):
        job = rng.choice(sorted(JOBS))
        kind = JOBS[job][0]
        names = [p for p in faults.POINTS if p.startswith(f"{kind}:")]
        if JOBS[job][2]:  # a job that fails reaches only the points before its exporter, then failing
            names = [f"{kind}:{n}" for n in ("claimed", "exporting", "workdir", "failing")]
        else:
            names.remove(f"{kind}:failing")
        point = rng.choice(names)
        if point.endswith((":progress", ":renamed")):
            point += f"#{rng.randint(1, 2)}"
        out.append((job, point, rng.random() < 0.5))
    return out


def run_sweep(points: int, seed: int, quiet: bool = False) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="crash-sweep-") as tmp:
        home = Path(tmp) / "home"
        ExportService.open(Home.from_env(home)).close()  # the demo library, seeded once
        started = time.monotonic()
        ended: collections.Counter = collections.Counter()
        outcomes: collections.Counter = collections.Counter()
        distinct: set[str] = set()
        failures = []
        for i, (job, point, on_runner) in enumerate(random_points(rng, points)):
            how, outcome, problems = kill_at(home, job, point, via_runner=on_runner)
            ended[how] += 1
            outcomes[outcome] += 1
            distinct.add(point)
            if problems or how == "crashed":
                failures.append((job, point, how, problems))
            if not quiet:
                print(f"{i + 1:>4} {job:<17} {point:<22} {how:<7} {outcome}", file=sys.stderr)
        service = ExportService.open(Home.from_env(home))
        try:  # the next export of each kind still succeeds
            owner = service.owner_id()
            after = [
                service.create_content_export(owner, ContextType.COURSE, 1, "zip"),
                service.create_epub_export(owner, 1),
            ]
            runner = JobRunner(service, workers=1, poll_seconds=0.01)
            runner.wait_idle(120)
            runner.stop(wait=True)
            next_ok = [
                service.store.content_export(after[0].id).workflow_state.value == "exported",
                service.store.epub_export(after[1].id).workflow_state.value == "generated",
            ]
        finally:
            service.close()
    return {
        "points": points,
        "seed": seed,
        "distinct": len(distinct),
        "seconds": time.monotonic() - started,
        "ended": dict(ended),
        "outcomes": dict(outcomes),
        "failures": failures,
        "next_ok": all(next_ok),
    }


def section(result: dict, when: str) -> str:
    lines = [
        "## Crash sweep",
        "",
        f"Run of {when} (UTC): `python benchmarks/crash_sweep.py --points {result['points']} --seed {result['seed']}`, "
        f"{result['seconds']:.0f} s. {result['points']} random `kill -9` points ({result['distinct']} distinct "
        "crash points of `tui_exports.engine.faults`, across zip, Common Cartridge, QTI, ePub and failing "
        "exports, half on a direct run, half on a JobRunner), each followed by recovery and `library check`.",
        "",
        "`killed`: the process died at its point; `ran`: the job ended before it reached the point "
        "(an export too quick to write a second progress), and the library was checked all the same.",
        "",
        "| how the process ended | count |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in sorted(result["ended"].items())),
        "",
        "| the killed job after recovery | count |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in sorted(result["outcomes"].items())),
        "",
        f"Problems found by `library check` after a kill: {len(result['failures'])}"
        + (
            ": " + "; ".join(f"{j} at {p}: {pr}" for j, p, _, pr in result["failures"][:5])
            if result["failures"]
            else ""
        )
        + f". The next zip and ePub export after the sweep: {'both succeeded' if result['next_ok'] else 'FAILED'}.",
        "",
    ]
    return "\n".join(lines)


def write_results(path: Path, text: str) -> None:
    """Replace the ``## Crash sweep`` section of RESULTS.md (or add it at the end)."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    match = re.search(r"^## Crash sweep\n.*?(?=^## |\Z)", old, flags=re.S | re.M)
    new = (
        old[: match.start()] + text + "\n" + old[match.end() :] if match else old.rstrip("\n") + "\n\n" + text
    )
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", type=int, default=120, help="random kill points (default 120)")
    p.add_argument("--seed", type=int, default=16, help="random seed (default 16)")
    p.add_argument(
        "--results", default=str(ROOT / "benchmarks" / "RESULTS.md"), help="file to write, or - for none"
    )
    p.add_argument("--quiet", action="store_true", help="no line per kill on stderr")
    args = p.parse_args(argv)
    if not hasattr(os, "fork"):
        print("the crash sweep forks the processes it kills: not on this system", file=sys.stderr)
        return 2
    result = run_sweep(args.points, args.seed, args.quiet)
    text = section(result, time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
    print(text)
    if args.results != "-":
        write_results(Path(args.results), text)
    return 1 if result["failures"] or not result["next_ok"] else 0


if __name__ == "__main__":
    sys.exit(main())

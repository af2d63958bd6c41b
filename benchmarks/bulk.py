#!/usr/bin/env python3
"""Benchmarks of bulk runs (issue 19), ratios measured in one run.

    python benchmarks/bulk.py                # 200 small generated courses, zip + Common Cartridge
    python benchmarks/bulk.py --courses 20   # a smaller smoke run

In a temporary library it generates the courses, then times whole ``tui-exports bulk`` processes
(start-up included, each into a fresh ``--out``):

* ``--workers 1`` (the baseline), ``--workers 2``, and ``--scheduler`` on a 2-process Dask
  ``LocalCluster`` started beside it (when the cluster extra is installed);
* the coordinator's own cost per item: a run whose items take no time (a pool that returns at
  once), so what is left is planning, claiming, recording and reporting, per item;
* the coordinator's peak RSS (as ``run.py`` measures it) for 200 and for 2,000 such items.

It prints one table and writes the part of ``benchmarks/RESULTS.md`` between the ``bulk``
markers (``--results``), leaving the rest of the file as it is.  Its work folder (the library it
generated, every run's ``--out``: ~1.5 GB) is removed when it ends, however it ends, unless
``--keep`` is given.  Before timing it compiles ``tui_exports`` to bytecode, as an install does
(with ``PYTHONDONTWRITEBYTECODE`` set, every run compiled its modules again: 0.3 s of each
run's serial start).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import measure  # noqa: E402

BEGIN, END = "<!-- bulk:begin -->", "<!-- bulk:end -->"
SPEC = dict(pages=4, quizzes=1, questions_per_quiz=5, files=3, file_mb=0.3, modules=2)


def generate(home: Path, n: int) -> None:
    os.environ["TUI_EXPORTS_HOME"] = str(home)
    from tui_exports.engine import ExportService
    from tui_exports.engine.generated import course_spec

    service = ExportService.open()
    try:
        for seed in range(1, n + 1):
            service.generate_course(course_spec(**SPEC, seed=seed))
    finally:
        service.close()


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (bytes) and CPU seconds of one child process (with the worker
    processes it forked and reaped; not a Dask cluster's): ``run.py``'s :func:`measure`."""
    run = measure(cmd, env, check=False)
    if run.code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{run.err[-2000:]}")
    return run.wall, int(run.rss_mb * 1024) * 1024, run.cpu


@dataclass
class Paired:
    """Runs taken pair by pair (baseline, other, baseline, other, …): the speed-up is the median
    of the pairs' ratios, so load that comes and goes during the benchmark touches both halves
    of a pair alike."""

    pairs: list[tuple[float, float, float]]  # (baseline s, other s, load average at the pair's start)
    #: CPU seconds: the baseline's process tree, the other's, and the other's outside its tree
    #: (a cluster's workers, scheduler and nannies; 0 for worker processes, which are its children)
    cpu: list[tuple[float, float, float]]
    #: wall seconds from each run's start to its first file, and from its last file to its exit
    #: (baseline start, baseline end, other start, other end): its serial parts, seen from outside
    edges: list[tuple[float, float, float, float]]

    @property
    def ratios(self) -> list[float]:
        return [a / b for a, b, _ in self.pairs]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def middle(self) -> tuple[float, float, float]:
        """The pair whose ratio is the median (the lower middle one of an even number)."""
        return sorted(self.pairs, key=lambda p: p[0] / p[1])[(len(self.pairs) - 1) // 2]

    @property
    def base(self) -> float:
        return self.middle[0]

    @property
    def other(self) -> float:
        return self.middle[1]

    def ratio_text(self) -> str:
        return f"{self.ratio:.2f}× faster ({min(self.ratios):.2f}–{max(self.ratios):.2f})"

    def describe(self, name: str) -> str:
        each = ", ".join(f"{a:.2f}/{b:.2f} s = {a / b:.2f}× (load {load:.1f})" for a, b, load in self.pairs)
        text = f"{name}, pair by pair (--workers 1 / {name}): {each}."
        a, b, c = (statistics.median(x[i] for x in self.cpu) for i in (0, 1, 2))
        text += f" CPU time, median: --workers 1 {a:.1f} s; {name} {b + c:.1f} s"
        text += (
            f" ({b:.1f} s the bulk process, {c:.1f} s the cluster's processes)."
            if c
            else " (its process tree)."
        )
        s1, e1, s2, e2 = (statistics.median(x[i] for x in self.edges) for i in range(4))
        return text + (
            f" Start to first file / last file to exit, median: --workers 1 {s1:.2f} s / {e1:.2f} s;"
            f" {name} {s2:.2f} s / {e2:.2f} s."
        )


def edges(cmd: list[str], started: float, ended: float) -> tuple[float, float]:
    """Wall seconds from a run's start to its first file, and from its last file to its exit."""
    out = Path(cmd[cmd.index("--out") + 1])
    times = [p.stat().st_mtime for p in out.glob("*/*") if p.is_file()]
    return min(times) - started, ended - max(times)


def paired(
    base: Callable[[], list[str]],
    other: Callable[[], list[str]],
    env: dict[str, str],
    n: int,
    elsewhere: Callable[[], float] | None = None,
) -> Paired:
    """``n`` pairs; ``elsewhere`` (a cluster's CPU seconds so far) adds the CPU that the other's
    run spent outside its own process tree."""
    pairs: list[tuple[float, float, float]] = []
    cpu: list[tuple[float, float, float]] = []
    walls: list[tuple[float, float, float, float]] = []
    for _ in range(n):
        load = os.getloadavg()[0]
        cmd_a, cmd_b = base(), other()
        t = time.time()
        a, _, cpu_a = timed(cmd_a, env)
        edges_a = edges(cmd_a, t, time.time())
        before = elsewhere() if elsewhere else 0.0
        t = time.time()
        b, _, cpu_b = timed(cmd_b, env)
        edges_b = edges(cmd_b, t, time.time())
        cluster = (elsewhere() - before) if elsewhere else 0.0
        pairs.append((a, b, load))
        cpu.append((cpu_a, cpu_b, cluster))
        walls.append((*edges_a, *edges_b))
        print(f"  pair: {a:.2f} s / {b:.2f} s = {a / b:.2f}× (load {load:.1f}; CPU {cpu_a:.1f} s / {cpu_b:.1f}"
              f"{f' + {cluster:.1f}' if cluster else ''} s)", file=sys.stderr)  # fmt: skip
    return Paired(pairs, cpu, walls)


def cluster_cpu(cluster) -> Callable[[], float]:
    """CPU seconds so far of a LocalCluster: its worker processes and this process (which runs
    its scheduler and nannies)."""
    import psutil

    procs = [psutil.Process(n.process.process.pid) for n in cluster.workers.values()] + [psutil.Process()]

    def total() -> float:
        return sum(sum(p.cpu_times()[:2]) for p in procs)

    return total


def bulk_cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tui_exports.cli", "bulk", "--filter", "SYN-", "--formats",
            "zip,common_cartridge", "--out", str(out), *extra]  # fmt: skip


def coordinator_only(n: int) -> None:
    """(child) A run of ``n`` items whose pool returns at once: the coordinator's own work."""
    from tui_exports.engine import ExportService, bulk

    service = ExportService.open(seed=False, recover=False)
    courses = [c for c, _ in service.courses(service.owner_id())]
    items = [
        {"course_id": courses[i % len(courses)].id, "course_code": courses[i % len(courses)].course_code,
         "format": "zip"}
        for i in range(n)
    ]  # fmt: skip
    out = Path(os.environ["BULK_BENCH_OUT"])
    run_id = service.library.bulk.create_run(
        source="library", out_dir=str(out), formats=["zip"], settings={}, items=items
    )

    def instant(task):
        return bulk.ItemResult(task.item_id, True, path=str(out / "x"), size=1, sha256="0" * 64)

    pool = bulk.InlinePool(instant)
    pool.slots = 4
    start = time.perf_counter()
    bulk.Coordinator(service, run_id, pool).run()
    print(f"{(time.perf_counter() - start) / n * 1000:.3f}")
    service.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--courses", type=int, default=200)
    parser.add_argument("--results", type=Path, default=Path(__file__).resolve().parent / "RESULTS.md")
    parser.add_argument("--no-results", action="store_true", help="print the table only")
    parser.add_argument(
        "--home", type=Path, help="a library generated by an earlier run (kept; made when empty)"
    )
    parser.add_argument("--pairs", type=int, default=3, help="pairs of runs per speed-up (at least 3)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (generated library, every --out)"
    )
    parser.add_argument("--coordinator-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pairs < 3:
        parser.error("--pairs: 3 or more (the speed-up is the median of the pairs' ratios)")
    if args.coordinator_only:
        coordinator_only(args.coordinator_only)
        return 0
    work = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    try:
        return bench(args, work)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def bench(args: argparse.Namespace, work: Path) -> int:
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "tui_exports")], check=True)
    home = args.home or work / "home"
    gen_start = time.perf_counter()
    if not (home / "library.db").exists():
        generate(home, args.courses)
    gen = time.perf_counter() - gen_start
    env = {**os.environ, "TUI_EXPORTS_HOME": str(home)}
    rows: list[tuple[str, str, str, str, str, str]] = []
    items = 2 * args.courses
    runs = [0]

    def fresh() -> Path:
        runs[0] += 1
        return work / f"out{runs[0]}"

    one_cmd = lambda: bulk_cmd(fresh(), "--workers", "1")  # noqa: E731
    two = paired(one_cmd, lambda: bulk_cmd(fresh(), "--workers", "2"), env, args.pairs)
    rows.append((f"{items} items, --workers 1 (wall, median pair)", f"{two.base:.2f} s", "", "", "", ""))
    rows.append(("--workers 2 (wall, median pair)", f"{two.other:.2f} s", f"{two.base:.2f} s (--workers 1)",
                 two.ratio_text(), "≥ 1.8×", "pass" if two.ratio >= 1.8 else "FAIL"))  # fmt: skip
    notes = [two.describe("--workers 2")]
    try:
        from distributed import LocalCluster
    except ImportError:
        rows.append(
            (
                "Dask LocalCluster, 2 processes (wall)",
                "not run: pip install 'tui-exports[cluster]'",
                "",
                "",
                "",
                "",
            )
        )
    else:
        import dask.config

        from tui_exports.engine.cluster import QUIET_CONFIG

        with (
            dask.config.set(QUIET_CONFIG),
            LocalCluster(
                n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
            ) as cluster,
        ):
            dask = paired(
                one_cmd,
                lambda: bulk_cmd(fresh(), "--scheduler", cluster.scheduler_address),
                env,
                args.pairs,
                elsewhere=cluster_cpu(cluster),
            )
        rows.append(("Dask LocalCluster, 2 processes (wall, median pair)", f"{dask.other:.2f} s",
                     f"{dask.base:.2f} s (--workers 1)", dask.ratio_text(), "≥ 1.6×",
                     "pass" if dask.ratio >= 1.6 else "FAIL"))  # fmt: skip
        notes.append(dask.describe("Dask"))
    rss = {}
    per_item = {}
    for n in (200, 2000):
        child_env = {**env, "BULK_BENCH_OUT": str(work / f"c{n}")}
        out = subprocess.run(
            [sys.executable, __file__, "--coordinator-only", str(n)],
            env=child_env,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        per_item[n] = float(out.stdout.strip().splitlines()[-1])
        _, rss[n], _ = timed([sys.executable, __file__, "--coordinator-only", str(n)], child_env)
    rows.append(("coordinator overhead per item (2,000 items)", f"{per_item[2000]:.1f} ms", "", "", "≤ 50 ms",
                 "pass" if per_item[2000] <= 50 else "FAIL"))  # fmt: skip
    ratio = rss[2000] / rss[200]
    rows.append(("coordinator peak RSS, 2,000 items", f"{rss[2000] / 2**20:.0f} MB", f"{rss[200] / 2**20:.0f} MB (200 items)",
                 f"{ratio:.2f}×", "≤ 1.15×", "pass" if ratio <= 1.15 else "FAIL"))  # fmt: skip
    elapsed = time.perf_counter() - t0
    table = ["| measure | value | baseline | ratio | target | result |", "|---|---|---|---|---|---|"]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    print("\n".join(table))
    print("\n".join(notes))
    if not args.no_results:
        cpu = platform.processor() or platform.machine()
        body = [
            BEGIN,
            f"Bulk runs, {started} (UTC), {elapsed / 60:.1f} minutes in all: `python benchmarks/bulk.py"
            + (f" --courses {args.courses}" if args.courses != 200 else "")
            + (" --home DIR" if args.home else "")
            + (f" --pairs {args.pairs}`" if args.pairs != 3 else "`")
            + f". Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
            f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (other work on the machine: "
            "a speed-up needs idle cores).",
            "",
            *table,
            "",
            f"{args.courses} generated courses ({SPEC['pages']} pages, {SPEC['quizzes']} quiz × {SPEC['questions_per_quiz']}, "
            f"{SPEC['files']} files of {SPEC['file_mb']} MiB in all each; "
            + (f"generating them took {gen:.0f} s), " if gen > 1 else "generated by an earlier run), ")
            + "each to zip and Common Cartridge; every time is a whole `tui-exports bulk` process into a fresh --out, "
            f"and a speed-up is the median of {args.pairs} pairs' ratios (the spread in brackets). "
            "The overhead and RSS rows run the coordinator on items that take no time.",
            "",
            *notes,
            END,
        ]
        old = args.results.read_text(encoding="utf-8") if args.results.exists() else ""
        if BEGIN in old and END in old:
            head, _, rest = old.partition(BEGIN)
            _, _, tail = rest.partition(END)
            new = head + "\n".join(body) + tail
        else:
            new = old.rstrip("\n") + "\n\n" + "\n".join(body) + "\n"
        args.results.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The app's start, by an older tree of the code and by this one, pair by pair.

    git archive <old-commit> | tar -x -C OLD_TREE
    python benchmarks/startup.py --before OLD_TREE [--courses 100000] [--pairs 8]

Each pair starts ``tui-exports`` (no arguments) with the old code, then with this one, in a
120x40 pseudo-terminal (``tui_session`` of ``run.py``) on the same library, and reads the
seconds and the CPU of the app's process (every thread, from ``/proc``: exact where the
machine is shared, unlike wall time) to its first frame (the "Courses" pane) and to the
course list ("ASTR 101"). Both trees are compiled to bytecode first, as an installed program
is. Printed: each pair, then the medians and the median of the per-pair ratios (after / before),
with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, spread, tui_session  # noqa: E402


def cpu_ms(pid: int) -> float:
    """CPU time of every thread of the process so far (``schedstat``: nanoseconds on a CPU)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e6


def start(tree: Path, home: Path) -> tuple[float, float, float, float]:
    """(first frame s, list s, CPU ms at the first frame, CPU ms at the list) of one start."""
    env = {**os.environ, "TUI_EXPORTS_HOME": str(home), "PYTHONPATH": str(tree)}
    session = tui_session(sys.executable, env)
    try:
        first = session.wait_for(b"Courses", 60)
        cpu_first = cpu_ms(session.proc.pid)
        listed = session.wait_for(b"ASTR 101", 60)
        return first, listed, cpu_first, cpu_ms(session.proc.pid)
    finally:
        session.close()


def app_starts(count: int) -> None:
    """(child, run with the tree on PYTHONPATH) ``count`` starts of the app in this process as
    the tests start it (``run_test``, until the list is shown and 0.3 s more); prints the
    median CPU ms per start, the first left out."""
    import asyncio
    import time

    from tui_exports.backends.local import LocalBackend
    from tui_exports.tui import app as app_module

    app_module.freeze_long_lived = lambda: None  # as tests/tui/conftest.py does
    home = Path(os.environ["TUI_EXPORTS_HOME"])
    backend = LocalBackend.open(jobs="inprocess")

    async def one() -> float:
        cpu = time.process_time()
        app = app_module.ExportsApp(backend, config_file=home / "config.toml")
        async with app.run_test(size=(80, 24)) as pilot:
            while not app.main.courses.option_count:
                await pilot.pause(0.01)
            await pilot.pause(0.3)
        return (time.process_time() - cpu) * 1000

    async def all_starts() -> list[float]:
        return [await one() for _ in range(count)]

    try:
        print(statistics.median(asyncio.run(all_starts())[1:]))
    finally:
        backend.close()


def in_process(args: argparse.Namespace, home: Path) -> int:
    ratios = []
    for n in range(args.pairs):
        pair = []
        for tree in (args.before, ROOT):
            env = {**os.environ, "TUI_EXPORTS_HOME": str(home), "PYTHONPATH": str(tree)}
            child = [sys.executable, __file__, "--before", str(tree), "--child", "--app-starts"]
            out = subprocess.run([*child, str(args.app_starts)], env=env, check=True, capture_output=True)
            pair.append(float(out.stdout.decode().split()[-1]))
        ratios.append(pair[1] / pair[0])
        print(f"pair {n + 1}: CPU per start {pair[0]:.0f} → {pair[1]:.0f} ms, load {os.getloadavg()[0]:.1f}")
    print(f"CPU per in-process start: pair ratio {statistics.median(ratios):.2f} [{spread(ratios)}]")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", type=Path, required=True, help="a tree of the older code")
    p.add_argument("--courses", type=int, default=0, help="empty courses added to the demo library")
    p.add_argument("--pairs", type=int, default=8)
    p.add_argument(
        "--app-starts",
        type=int,
        default=0,
        metavar="N",
        help="instead: N in-process starts (as the tests' run_test) per side and pair, CPU ms per start",
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        app_starts(args.app_starts)
        return 0
    for tree in (args.before, ROOT):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "tui_exports")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "TUI_EXPORTS_HOME": str(home), "PYTHONPATH": str(ROOT)}
        subprocess.run(
            [sys.executable, "-m", "tui_exports.cli", "courses"], env=env, check=True, capture_output=True
        )
        if args.courses:
            from tui_exports.engine import ExportService
            from tui_exports.importers.synthetic import add_empty_courses
            from tui_exports.paths import Home

            service = ExportService.open(Home.from_env(home), seed=False, recover=False)
            try:
                add_empty_courses(service.library, args.courses, service.owner_id())
            finally:
                service.close()
        if args.app_starts:
            return in_process(args, home)
        rows = []
        for n in range(args.pairs):
            pair = (start(args.before, home), start(ROOT, home))
            rows.append(pair)
            (b, a) = pair
            print(
                f"pair {n + 1}: first frame {b[0]:.3f} → {a[0]:.3f} s (CPU {b[2]:.0f} → {a[2]:.0f} ms), "
                f"list {b[1]:.3f} → {a[1]:.3f} s (CPU {b[3]:.0f} → {a[3]:.0f} ms), "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    med = statistics.median
    names = ("first frame wall", "list wall", "first frame CPU", "list CPU")
    for i, name in enumerate(names):
        ratios = [a[i] / b[i] for b, a in rows]
        shown = "{:.3f} s" if i < 2 else "{:.0f} ms"
        before, after = (shown.format(med(r[i] for r in side)) for side in zip(*rows, strict=True))
        print(f"{name}: {before} → {after}, pair ratio {med(ratios):.2f} [{spread(ratios)}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

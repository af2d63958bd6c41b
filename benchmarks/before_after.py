#!/usr/bin/env python3
"""Exports of one course by an older tree of the code and by this one, pair by pair.

    git archive <old-commit> | tar -x -C OLD_TREE
    python benchmarks/before_after.py --before OLD_TREE --home LIBRARY --course 4

Each pair runs ``tui-exports export COURSE --type T --wait`` (``epub COURSE --wait`` for the
ePub) with the old code, then with this one, in the same library (same schema), deleting the
package after each run.  Printed per type: median wall and CPU (user + system) of each side,
the median of the per-pair wall ratios (after / before) with the pairs, CPU/wall, peak RSS.
Both trees must read the same library; the exports run as child processes through
``measure`` of ``run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, measure, spread  # noqa: E402


def export(tree: Path, home: Path, course: int, kind: str):
    env = {**os.environ, "TUI_EXPORTS_HOME": str(home), "PYTHONPATH": str(tree)}
    args = ["epub", str(course)] if kind == "epub" else ["export", str(course), "--type", kind]
    run = measure([sys.executable, "-m", "tui_exports.cli", *args, "--wait", "--json"], env, cwd=tree)
    body = json.loads(run.out)
    body = body.get("epub_export", body)
    for key in ("attachment", "epub_attachment", "zip_attachment"):
        if body.get(key):
            Path(body[key]["path"]).unlink(missing_ok=True)
    return run


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", type=Path, required=True, help="a tree of the older code")
    p.add_argument("--home", type=Path, required=True, help="the library (TUI_EXPORTS_HOME)")
    p.add_argument("--course", type=int, required=True)
    p.add_argument("--types", default="zip,common_cartridge,epub,qti")
    p.add_argument("--pairs", type=int, default=3)
    args = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    for kind in args.types.split(","):
        before, after = [], []
        for _ in range(args.pairs):
            before.append(export(args.before, args.home, args.course, kind))
            after.append(export(ROOT, args.home, args.course, kind))
        ratios = [a.wall / b.wall for a, b in zip(after, before, strict=True)]
        cpu = [a.cpu / b.cpu for a, b in zip(after, before, strict=True)]
        med = statistics.median
        print(
            f"{kind}: wall {med(r.wall for r in before):.2f} s → {med(r.wall for r in after):.2f} s, "
            f"pair ratio {med(ratios):.2f} [{spread(ratios)}]; "
            f"CPU {med(r.cpu for r in before):.2f} s → {med(r.cpu for r in after):.2f} s (ratio {med(cpu):.2f}); "
            f"CPU/wall {med(r.cpu_per_wall for r in before):.2f} → {med(r.cpu_per_wall for r in after):.2f}; "
            f"peak RSS {max(r.rss_mb for r in before):.0f} → {max(r.rss_mb for r in after):.0f} MB; "
            f"load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

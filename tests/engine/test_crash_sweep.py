"""The crash sweep: ``kill -9`` at every crash point of a content export's and an ePub's life,
on a direct run and on a JobRunner, then recovery as the next process runs it.  After every
kill ``library check`` finds nothing, and the job ended failed with the reason, adopted, or
finished; at the end the next exports succeed.  (``benchmarks/crash_sweep.py`` runs many
random points.)"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from tui_exports.engine import ExportService
from tui_exports.engine.faults import POINTS
from tui_exports.paths import Home

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,  # 28 forked children
    pytest.mark.skipif(not hasattr(os, "fork"), reason="the sweep forks the process it kills"),
]


def _sweep():
    spec = importlib.util.spec_from_file_location("crash_sweep", ROOT / "benchmarks" / "crash_sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


INTERRUPTED = "failed: interrupted: the process running this export"


def _expected(point: str) -> str:
    kind, _, name = point.partition(":")
    done = "exported" if kind == "content" else "generated"
    if name == "claimed":
        return f"requeued, then {done}"
    if name in ("renamed#2", "dir-synced") or (kind == "content" and name == "renamed"):
        return f"adopted ({done})"
    if name in ("finished", "notified"):
        return done
    return INTERRUPTED


# every point, and the second rename of an ePub (its first is between the two) and a later progress write
CASES = [*POINTS, "epub:renamed#2", "epub:progress#2"]


def test_every_crash_point_leaves_a_whole_library_and_an_ended_job(home):
    sweep = _sweep()
    ExportService.open(Home.from_env(home)).close()  # the demo library, seeded once
    content_jobs = ["zip", "common_cartridge", "qti"]
    seen = {}
    for i, point in enumerate(CASES):
        kind, _, name = point.partition(":")
        if name == "failing":
            job = f"{'zip' if kind == 'content' else 'epub'}-failing"
        else:
            job = content_jobs[i % 3] if kind == "content" else "epub"
        ended, outcome, problems = sweep.kill_at(home, job, point, via_runner=bool(i % 2))
        seen[point] = outcome
        assert ended == "killed", (point, ended)
        assert problems == [], (point, problems)
        assert outcome.startswith(_expected(point)), (point, outcome)
    assert len(seen) >= 20
    service = ExportService.open(Home.from_env(home))
    try:
        owner = service.owner_id()
        from tui_exports.engine import JobRunner
        from tui_exports.model import ContextType

        ce = service.create_content_export(owner, ContextType.COURSE, 1, "common_cartridge")
        ep = service.create_epub_export(owner, 1)
        runner = JobRunner(service, workers=1, poll_seconds=0.01)
        assert runner.wait_idle(60)
        runner.stop(wait=True)
        assert service.store.content_export(ce.id).workflow_state.value == "exported"
        assert service.store.epub_export(ep.id).workflow_state.value == "generated"
    finally:
        service.close()

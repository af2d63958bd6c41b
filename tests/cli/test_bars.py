"""``--wait`` bars: on an 80-column terminal (a pty) one line redrawn in place, never wider than
the terminal; into a pipe a few plain lines, however many updates there are."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading

import pytest

from tui_exports.cli.common import ProgressBar

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def _pty(columns: int = 80, rows: int = 24) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return master, slave


class Reader(threading.Thread):
    """Drains the terminal's other side while the bar writes (a full pty buffer blocks a writer)."""

    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master, self.chunks = master, []

    def run(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the other side closed
                return
            if not data:
                return
            self.chunks.append(data)

    def text(self) -> str:
        self.join(timeout=60)
        return b"".join(self.chunks).decode("utf-8", "replace")


def screen_lines(raw: str) -> list[str]:
    """Every stretch of text the terminal shows on one row: split at newlines and at the
    carriage returns and escapes that move back to redraw."""
    text = raw.replace("\r\n", "\n")
    pieces = []
    for line in text.split("\n"):
        for part in re.split(r"\r|\x1b\[\d*[AK]|\x1b\[2K", line):
            pieces.append(ANSI.sub("", part))
    return pieces


@pytest.mark.slow
def test_a_bar_on_an_80_column_terminal_fits_and_redraws_in_place():
    master, slave = _pty(80)
    reader = Reader(master)
    reader.start()
    stream = open(slave, "w", encoding="utf-8", closefd=True)
    bar = ProgressBar("download Introduction to Astronomy_ Stars & Planets-2026-Dec-02_01-26-39.epub", stream)
    bar.REDRAWS_PER_SECOND = 10**9  # every update drawn: the worst case for the terminal
    assert bar.tty
    for i in range(500):
        bar.update(i / 5, "exporting", f"added files/folder {i}/a rather long file name-{i}.pdf")
    bar.update(100, "exported")
    bar.done()
    stream.close()
    raw = reader.text()
    os.close(master)
    lines = screen_lines(raw)
    assert max(len(x) for x in lines) <= 80, max(lines, key=len)
    assert raw.replace("\r\n", "\n").count("\n") <= 2  # 500 updates, one row redrawn in place
    assert "100%" in lines[-2] or "100%" in raw.rsplit("\n", 2)[-2]
    assert "exported" in ANSI.sub("", raw)


def test_a_bar_into_a_pipe_is_a_few_plain_lines():
    stream = io.StringIO()
    bar = ProgressBar("download big.zip", stream)
    assert not bar.tty
    for i in range(10_001):
        bar.update(i / 100, "1.4 GB")
    bar.done()
    lines = stream.getvalue().splitlines()
    assert 1 < len(lines) <= 11 and lines[-1] == "download big.zip: 100% 1.4 GB"
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()


@pytest.mark.slow  # a subprocess
def test_export_wait_on_an_80_column_terminal(home):
    master, slave = _pty(80)
    env = {**os.environ, "TUI_EXPORTS_HOME": str(home), "TERM": "xterm-256color"}
    env.pop("COLUMNS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_exports.cli", "export", "3", "--type", "common_cartridge", "--wait"],
        stdin=slave,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    reader = Reader(master)
    reader.start()
    assert proc.wait(timeout=120) == 0
    raw = reader.text()
    os.close(master)
    lines = [x for x in screen_lines(raw) if x.strip()]
    assert lines and max(len(x) for x in lines) <= 80, max(lines, key=len)
    assert "100%" in ANSI.sub("", raw) and raw.replace("\r\n", "\n").count("\n") <= 2


@pytest.mark.slow  # a subprocess
def test_export_wait_into_a_pipe_is_plain_lines(home):
    env = {**os.environ, "TUI_EXPORTS_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-m", "tui_exports.cli", "export", "3", "--type", "common_cartridge", "--wait"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert 1 <= len(lines) <= 11 and lines[-1].endswith("100% exported")
    assert "\r" not in out.stderr and "\x1b" not in out.stderr

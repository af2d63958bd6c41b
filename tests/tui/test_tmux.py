"""The real program in a real terminal (tmux): first screen, then the new-export dialog."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

PROGRAM = (
    "from tui_exports.tui.app import run_tui; from tui_exports.backends.local import LocalBackend; "
    "run_tui(LocalBackend.open(jobs='worker'))"
)


def capture(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
    ).stdout


def wait_screen(session: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(session)
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")


@pytest.mark.slow  # the real program in a subprocess
def test_real_program_in_tmux(home: Path) -> None:
    session = f"tui-exports-{uuid.uuid4().hex[:8]}"
    # COLUMNS/LINES would pin the app to the size of the terminal pytest runs in
    command = (
        f'env -u COLUMNS -u LINES TUI_EXPORTS_HOME={home} TERM=xterm-256color {sys.executable} -c "{PROGRAM}"'
    )
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command], check=True)
    try:
        started = time.monotonic()
        wait_screen(session, "ASTR 101")
        first_screen = time.monotonic() - started
        screen = wait_screen(session, "CS 110")  # all three courses once the 100-column layout is drawn
        assert "HIST 390" in screen and "concluded" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "n"], check=True)
        screen = wait_screen(session, "skip notifications")  # the dialog (the footer also says "New export")
        assert "New export — ASTR 101" in screen and "Common Cartridge" in screen and "zip of files" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        time.sleep(0.3)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 10
        while (
            time.monotonic() < deadline
            and session
            in subprocess.run(
                ["tmux", "list-sessions", "-F", "#{session_name}"], capture_output=True, text=True
            ).stdout
        ):
            time.sleep(0.1)
        print(f"first screen after {first_screen:.2f}s")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)

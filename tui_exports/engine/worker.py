"""The background worker process: runs queued exports after the TUI or CLI that queued them exits.

``ensure_worker`` starts it detached (its own session, no terminal) unless one is
already running for this library; a lock file makes sure only one runs.  It exits
by itself after a quiet spell with nothing queued.

Run by hand: ``python -m tui_exports.engine.worker``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ..paths import Home

IDLE_EXIT_SECONDS = 20.0

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, at worst two workers share the queue
    fcntl = None  # type: ignore[assignment]


def _lock_path(home: Home) -> Path:
    return home.data / "worker.lock"


def _try_lock(home: Home):
    """The open lock file when we got the lock, else None."""
    handle = open(_lock_path(home), "a+")
    if fcntl is None:
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def worker_running(home: Home) -> bool:
    home.ensure()
    handle = _try_lock(home)
    if handle is None:
        return True
    handle.close()
    return False


def ensure_worker(home: Home) -> bool:
    """Start the background worker unless one runs already; True if one was started."""
    if worker_running(home):
        return False
    env = dict(os.environ, TUI_EXPORTS_HOME=str(home.data))
    log = open(home.data / "worker.log", "ab")
    subprocess.Popen(
        [sys.executable, "-m", "tui_exports.engine.worker"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        close_fds=True,
    )
    log.close()
    return True


AUTOGROUP = Path("/proc/self/autogroup")


def lower_priority(steps: int) -> None:
    """Exports are batch work: on a small server the terminal app someone is typing in, and
    its repaints, come first (``nice``; where the system has none, Windows, nothing changes).
    Call it before any thread starts: Linux applies nice to the calling thread alone, and
    threads inherit it from the thread that starts them."""
    if steps > 0 and hasattr(os, "nice"):
        try:
            os.nice(steps)
        except OSError:
            pass
        _lower_session_group(steps)


def _lower_session_group(steps: int) -> None:
    """Where Linux groups processes by session for the scheduler (``autogroup``, on by default
    on desktops and many servers), nice only ranks threads within their session: a worker in a
    session of its own got as much CPU as the app's whole session, nice or not.  Its group's
    nice is set too -- only when the worker leads a session of its own (as ``ensure_worker``
    starts it), never a terminal session it would slow down with it.  A process the kernel
    schedules by cgroup instead (containers) reads an empty file there: nothing to do."""
    try:
        if os.getsid(0) == os.getpid() and AUTOGROUP.read_text(encoding="ascii").strip():
            AUTOGROUP.write_text(str(min(19, steps)), encoding="ascii")
    except OSError:
        pass


def main() -> int:
    from .jobs import JobRunner
    from .service import ExportService

    home = Home.from_env().ensure()
    handle = _try_lock(home)
    if handle is None:
        return 0  # another worker has the queue
    service = ExportService.open(home, seed=False)
    lower_priority(service.settings.worker_nice)
    runner = JobRunner(service).start()
    try:
        while runner.idle_seconds() < IDLE_EXIT_SECONDS:
            time.sleep(0.5)
    finally:
        handed_back = runner.stop(wait=True)
        service.close()
        handle.close()
    if handed_back:  # stopped (a signal) with jobs unfinished: a new worker takes them
        ensure_worker(home)
    return 0


if __name__ == "__main__":
    sys.exit(main())

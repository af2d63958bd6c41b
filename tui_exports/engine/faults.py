"""Crash points: named moments of a job's life where the crash sweep makes the process kill
itself (``SIGKILL``: no ``finally``, no flush, exactly as ``kill -9``), to show that whatever
the moment, recovery leaves the library whole (``engine.integrity``).

Off unless armed: :func:`arm` in a process made to be killed (a forked child in the tests and
``benchmarks/crash_sweep.py``), or ``TUI_EXPORTS_CRASH_AT=epub:renamed#2`` for a process started
by hand (the N-th time the point is reached; the first when no ``#N`` is given)."""

from __future__ import annotations

import os
import signal

#: a job's life, in order: claimed, moved to running, its work folder made, progress written,
#: the file written, fsynced and hashed, recorded in the job, renamed into place (an ePub's
#: two files: ``renamed#1`` is between them), the folder fsynced, the row moved, notified; and
#: ``failing``, on the way to recording a failure
LIFE = (
    "claimed", "exporting", "workdir", "progress", "written", "fsynced", "recorded",
    "renamed", "dir-synced", "finished", "notified", "failing",
)  # fmt: skip
#: an ePub also stops between its two halves: the book rendered, then its row moved to generating
EPUB_HALVES = ("rendered", "generating")
_AT = LIFE.index("progress") + 1

#: every point, in the order a job reaches it; ``content:``/``epub:`` say whose life it is
POINTS: tuple[str, ...] = (
    *(f"content:{name}" for name in LIFE),
    *(f"epub:{name}" for name in (*LIFE[:_AT], *EPUB_HALVES, *LIFE[_AT:])),
)

_armed: tuple[str, int] | None = None
_seen = 0


def arm(spec: str | None) -> None:
    """Kill this process the N-th time it reaches the point ``spec`` names (``name`` or ``name#N``)."""
    global _armed, _seen
    _seen = 0
    if not spec:
        _armed = None
        return
    name, _, nth = spec.partition("#")
    if name not in POINTS:
        raise ValueError(f"no crash point {name!r} (known: {', '.join(POINTS)})")
    _armed = (name, int(nth) if nth.isdigit() and int(nth) > 0 else 1)


def point(name: str) -> None:
    """A job reached ``name``: the process dies here if it is the armed point."""
    global _seen
    if _armed is None or _armed[0] != name:
        return
    _seen += 1
    if _seen == _armed[1]:
        os.kill(os.getpid(), signal.SIGKILL)


try:
    arm(os.environ.get("TUI_EXPORTS_CRASH_AT"))
except ValueError:  # a mistyped point arms nothing: this is a test hook, not a setting
    _armed = None

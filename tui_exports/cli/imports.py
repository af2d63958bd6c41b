"""``tui-exports import``: a package into the local library as a new course (``library add``
is the same command under its older name), or, with ``--from-profile``, a course copied from a
Canvas instance (Canvas writes its cartridge, which is downloaded and imported)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..backends.base import BackendError, ImportResult
from ..paths import Home
from .common import EXIT_OK, ProgressBar, id_arg, print_json


class ImportBar:
    """A bar on stderr for an import, drawn from its first ``progress(done, total, what)`` on
    (with ``--from-profile`` the export's and the download's bars come first)."""

    def __init__(self, label: str):
        self.label = label
        self.bar: ProgressBar | None = None

    def __call__(self, done: int, total: int | None, what: str) -> None:
        if self.bar is None:
            self.bar = ProgressBar(self.label)
        self.bar.update(100.0 * done / total if total else 0.0, "reading", what)

    def done(self, imported: bool) -> None:
        if self.bar is not None:
            if imported:
                self.bar.update(100, "imported")
            self.bar.done()


def import_command(args, home: Home, open_local) -> int:
    """``import PATH`` / ``import --from-profile NAME COURSE_ID`` / ``library add PATH``."""
    from_profile = getattr(args, "from_profile", None)
    local = open_local(args, home, "none")
    try:
        if from_profile:
            result = _pull(args, home, local, from_profile)
        else:
            path = Path(args.source)
            bar = ImportBar(f"import {path.name or path}")
            result = None
            try:
                result = local.import_package(path, bar)
            finally:
                bar.done(result is not None)
    finally:
        local.close()
    _report(args, result)
    return EXIT_OK


def _pull(args, home: Home, local, profile: str) -> ImportResult:
    from ..backends.pull import pull_course
    from ..model import ContextType
    from .jobs import download_with_bars, follow_with_bar
    from .remote import POLL_SECONDS, open_remote

    try:
        course_id = id_arg(str(args.source))
    except argparse.ArgumentTypeError as e:
        raise BackendError(f"import --from-profile {profile} takes a course id: {e}", 400) from None
    remote = open_remote(profile, home)
    try:
        bar = ImportBar(f"import course {course_id} from {profile}")
        result = None
        try:
            result = pull_course(
                remote,
                local,
                course_id,
                follow=lambda ce: follow_with_bar(
                    remote,
                    "content",
                    ContextType.COURSE,
                    course_id,
                    ce,
                    f"export {ce['id']} on {profile}",
                    interval=POLL_SECONDS,
                    show="progress",
                ),
                download=lambda ce: download_with_bars(remote, "content", ce),
                progress=bar,
            )
            return result
        finally:
            bar.done(result is not None)
    finally:
        remote.close()


def _report(args, result: ImportResult) -> None:
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if getattr(args, "json", False):
        print_json(result.as_json())
        return
    course = result.course
    source = result.report.get("source")
    print(f"added course {course.id}: {course.name}" + (f" (from {source})" if source else ""))
    counts = result.counts()
    if counts:
        print(f"  kept {', '.join(counts)}")
    if result.warnings:
        print(f"  {len(result.warnings)} warning{'s' * (len(result.warnings) != 1)} (on stderr)")
    print(course.id)

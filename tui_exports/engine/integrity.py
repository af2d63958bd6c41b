"""``library check``: is the library whole?  SQLite's own integrity check; jobs left running
by a process that is gone; files at a final path whose export did not finish, and anything
else in ``exports/`` no export wrote; blobs no file row names (orphans), file rows whose blob
is gone (missing); finished exports whose file is gone.

With ``repair``, what can be repaired is: recovery's own moves (``recovery.plan``: fail or
requeue a stuck job, adopt or remove what it left), orphan blobs and file rows removed.  A
missing blob or a finished export's missing file cannot be made again here: they stay problems."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .jobs import has_unclaimed
from .recovery import plan
from .service import ExportService
from .worker import ensure_worker, worker_running


@dataclass
class Finding:
    problem: str  # "stuck job", "orphan blob", …
    subject: str  # what it is about: "content_exports 3", "blobs/ab/ab12…"
    why: str
    repaired: str | None = None  # what --repair did about it

    def to_json(self) -> dict[str, str | None]:
        return {"problem": self.problem, "subject": self.subject, "why": self.why, "repaired": self.repaired}

    def line(self) -> str:
        text = f"{self.problem}: {self.subject}: {self.why}"
        return f"{text} -> {self.repaired}" if self.repaired else text


def check_library(service: ExportService, *, repair: bool = False) -> list[Finding]:
    """Every problem found (and, with ``repair``, what was done about each)."""
    library = service.library
    found = [Finding("database", "library.db", line) for line in library.database.integrity_check()]
    for r in plan(service):
        found.append(Finding(r.problem, r.subject, r.why, (r.apply() or "already done") if repair else None))
    if has_unclaimed(service) and not worker_running(library.home):
        f = Finding("queued job", "the queue", "jobs wait and no worker runs them")
        if repair:
            f.repaired = "worker started" if ensure_worker(library.home) else "a worker runs now"
        found.append(f)
    refs = library.content.blob_refs()
    stored = library.blobs.stored()
    for key, path in stored.items():
        if key not in refs:
            rel = path.relative_to(library.home.data)
            f = Finding("orphan blob", str(rel), "no file row names it")
            if repair:
                path.unlink(missing_ok=True)
                f.repaired = "removed"
            found.append(f)
    for sha, ids in refs.items():
        if sha not in stored:
            which = ", ".join(map(str, ids[:5])) + (" …" if len(ids) > 5 else "")
            found.append(
                Finding("missing blob", f"blobs/{sha[:2]}/{sha}", f"the bytes of file {which} are gone")
            )
    for kind, job_id, att in library.exports.finished_files():
        subject = f"{kind}_exports {job_id}"
        if att is None:
            found.append(Finding("missing export file", subject, "finished, but no file row"))
        elif not Path(att.path).is_file():
            found.append(Finding("missing export file", subject, f"its file {att.path} is gone"))
    for att in library.exports.unnamed_attachments():
        f = Finding("orphan file row", f"file {att.id}", f"no export names it ({att.path})")
        if repair:
            library.exports.delete_attachment(att.id)
            f.repaired = "removed"
        found.append(f)
    return found

"""Helpers of the cartridge import tests: packages written on disk, library state, exports."""

from __future__ import annotations

import importlib.util
import stat
import zipfile
from pathlib import Path

from tui_exports.engine.select import SelectRequest, resolve
from tui_exports.engine.snapshot import build_snapshot
from tui_exports.exporters.cc import export_common_cartridge
from tui_exports.model import Role, no_progress

CP11 = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
HAS_QTI = importlib.util.find_spec("tui_exports.importers.qti") is not None


def manifest(
    resources: str, organization: str = "", ns: str = CP11, version: str = "1.1.0", title="Thin"
) -> str:
    org = (
        f'<organizations><organization identifier="org" structure="rooted-hierarchy">'
        f'<item identifier="root">{organization}</item></organization></organizations>'
        if organization is not None
        else "<organizations/>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest identifier="m1" xmlns="{ns}">'
        f"<metadata><schema>IMS Common Cartridge</schema><schemaversion>{version}</schemaversion>"
        f'<lomimscc:lom xmlns:lomimscc="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest"><lomimscc:general>'
        f"<lomimscc:title><lomimscc:string>{title}</lomimscc:string></lomimscc:title></lomimscc:general>"
        f"</lomimscc:lom></metadata>{org}<resources>{resources}</resources></manifest>"
    )


def write_zip(path: Path, entries: dict[str, bytes | str], *, symlinks: dict[str, str] | None = None) -> Path:
    """A zip of ``entries`` (deflated), plus entries whose mode says symlink."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data.encode() if isinstance(data, str) else data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return path


def write_folder(path: Path, entries: dict[str, bytes | str]) -> Path:
    for name, data in entries.items():
        p = path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def state(library) -> tuple:
    """Row counts of every content table and the blobs on disk: what a failed import must not change."""
    db = library.database.db
    tables = sorted(t for t in db.table_names() if not t.startswith(("sqlite_", "_")))
    counts = tuple((t, db.execute(f"SELECT COUNT(*) FROM [{t}]").fetchone()[0]) for t in tables)
    blobs = sorted(p.name for p in Path(library.home.blobs).rglob("*") if p.is_file())
    return counts, blobs


def export_cc(service, course_id: int, out: Path, version: str = "1.3.0") -> Path:
    """The whole course as a teacher exports it (select everything)."""
    lib = service.library
    snap = build_snapshot(lib, course_id, service.user(service.owner_id()), Role.TEACHER)
    snap.selection = resolve(SelectRequest(everything=True), snap)
    out.mkdir(parents=True, exist_ok=True)
    return export_common_cartridge(snap, out, no_progress, version=version).files[0].path


def teacher_snapshot(service, course_id: int):
    lib = service.library
    snap = build_snapshot(lib, course_id, service.user(service.owner_id()), Role.TEACHER)
    snap.selection = resolve(SelectRequest(everything=True), snap)
    return snap


def _epub_helpers():
    """The ePub tests' builders and EPUBCheck runner (tests/epub/conftest.py), reused."""
    import sys

    tests_dir = str(Path(__file__).resolve().parents[1])
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)
    from epub import conftest

    return conftest


def build_epub(snapshot, workdir: Path) -> Path:
    helpers = _epub_helpers()
    return helpers.epub_of(helpers.build(snapshot, workdir))


def run_epubcheck(java: str, books: list[Path], reports: Path, run_dir: Path) -> dict[str, str]:
    """EPUBCheck (the ePub tests' runner, the run's JVM) on every book: {book: its messages} for
    books with any."""
    helpers = _epub_helpers()
    found = helpers.run_epubcheck(java, books, reports, run_dir)
    return {str(book): helpers.describe(messages) for book, messages in found.items() if messages}

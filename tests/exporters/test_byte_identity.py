"""Byte identity: every package the exporters write for the demo courses, entry by entry.

Each demo course in ``data/`` is exported the way the product does it (``LocalBackend`` →
engine → job runner → exporter) as a teacher in CC 1.1, CC 1.3, QTI, zip and ePub, and as a
student in zip and ePub (a student may not export CC or QTI); each group's files are zipped by
a teacher and by a student.  For every package the test records the file name, the entry names
in order, each entry's compression method and the SHA-256 of its bytes, and compares them with
``golden/packages.json``: a refactor that changes one byte of one entry fails here, naming the
course, the format and the entry.

What is random by design is taken out first:

* the clock is frozen at ``FROZEN`` (what a student may see, lock notes, the ePub's
  identifier all depend on "now"; a golden file must not expire with the calendar);
* then, per entry, the values derived from the export time or from a uuid are replaced by
  placeholders (``NORMALISE``); zip entries' timestamps are not recorded.

Regenerate the golden file ON PURPOSE, when an output change is intended, and review the
diff of ``golden/packages.json`` in the same commit::

    UPDATE_GOLDEN=1 pytest tests/exporters/test_byte_identity.py

To see what changed inside an entry, dump the normalised entries on both sides and diff them::

    GOLDEN_DUMP=dump-before pytest tests/exporters/test_byte_identity.py   # on the old code
    GOLDEN_DUMP=dump-after pytest tests/exporters/test_byte_identity.py    # on the new code
    diff -r dump-before dump-after
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui_exports.model import ContextType

GOLDEN = Path(__file__).parent / "golden" / "packages.json"
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))
DUMP = os.environ.get("GOLDEN_DUMP")

#: Mid-term of the demo courses: some content is open, some locked, some not yet posted.
FROZEN = datetime(2026, 10, 15, 17, 30, 0, tzinfo=UTC)

#: (user key, export type, CC version) of every content export; "epub" is an ePub export.
RUNS = [
    ("teacher", "common_cartridge", "1.1.0"),
    ("teacher", "common_cartridge", "1.3.0"),
    ("teacher", "qti", None),
    ("teacher", "zip", None),
    ("teacher", "epub", None),
    # a student may export course files (what they may see) and, where the course allows, an ePub
    ("student1", "zip", None),
    ("student1", "epub", None),
]
#: Who exports the files of each group of the demo courses (zip is the only type for a group).
GROUP_RUNS = ["teacher", "student1"]

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_STAMP = rb"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)?"

#: (format, regex of entry names, [(pattern, placeholder)]): what is random by design, per entry.
#: Not formatted: a table reads better with one line per format and entry.
NORMALISE: list[tuple[str, str, list[tuple[bytes, bytes]]]] = [
    # the package's metadata date (the export day)
    ("common_cartridge", r"imsmanifest\.xml", [(rb"(<lomimscc:dateTime>)" + _STAMP + rb"(</lomimscc:dateTime>)", rb"\1DATE\2")]),
    ("qti", r"imsmanifest\.xml", [(rb"(<imsmd:datetime>)" + _STAMP + rb"(</imsmd:datetime>)", rb"\1DATE\2")]),
    # the ePub's identifier is a uuid of course, viewer and export time; its modified date
    ("epub", r"OEBPS/(content\.opf|toc\.ncx)", [
        (rb"urn:uuid:" + _UUID.encode(), b"urn:uuid:UUID"),
        (rb'(property="dcterms:modified">)' + _STAMP + rb"(<)", rb"\1DATE\2"),
    ]),
    # "Exported Thu Oct 15, 2026 11:30 MDT" on the title page
    ("epub", r"OEBPS/title\.xhtml", [(rb"(<p>Exported )[^<]*(</p>)", rb"\1DATE\2")]),
]  # fmt: skip

#: The ePub's file name carries the export time (Canvas's naming): 2026-Oct-15_11-30-00.
_FILE_STAMP = re.compile(r"\d{4}-[A-Z][a-z]{2}-\d{2}_\d{2}-\d{2}-\d{2}")


def normalise(fmt: str, name: str, data: bytes) -> bytes:
    for f, entry, subs in NORMALISE:
        if f == fmt and re.fullmatch(entry, name):
            for pattern, placeholder in subs:
                data = re.sub(pattern, placeholder, data)
    return data


# --------------------------------------------------------------------------- running the exports
def _freeze_clock(mp: pytest.MonkeyPatch) -> None:
    """Every module of the product that bound the library's clock gets the frozen one."""
    import tui_exports.backends.local  # noqa: F401 - the engine and the store, loaded before patching
    from tui_exports.store import utcnow

    patched = 0
    for name, mod in list(sys.modules.items()):
        if name == "tui_exports" or name.startswith("tui_exports."):
            for attr, value in list(vars(mod).items()):
                if value is utcnow:
                    mp.setattr(mod, attr, lambda: FROZEN)
                    patched += 1
    assert patched, "no module holds the clock: update _freeze_clock"


def _wait(read, done: str, timeout: float = 60.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        record = read()
        if record["workflow_state"] in (done, "failed"):
            assert record["workflow_state"] == done, record
            return record
        time.sleep(0.01)
    raise AssertionError(f"still {record['workflow_state']} after {timeout}s: {record}")


def _describe(path: Path, fmt: str, label: str) -> dict:
    entries = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            data = normalise(fmt, info.filename, z.read(info))
            entries.append([info.filename, info.compress_type, hashlib.sha256(data).hexdigest()])
            # the export time reached the exporter: the frozen clock held
            day = datetime(*info.date_time[:3], tzinfo=UTC)
            assert abs(day - FROZEN.replace(hour=0, minute=0)) <= timedelta(days=1), (
                label,
                info.filename,
                info.date_time,
            )
            if DUMP:
                target = Path(DUMP) / label.replace(" / ", "/").replace(" ", "_") / info.filename
                if not info.is_dir():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
    return {"file": _FILE_STAMP.sub("STAMP", path.name), "entries": entries}


def export_demo_library(home: Path) -> dict[str, dict]:
    """label → {file, entries: [[name, compression method, sha256 of normalised bytes]]}."""
    from tui_exports.backends.local import LocalBackend
    from tui_exports.engine import ExportService
    from tui_exports.paths import Home

    out: dict[str, dict] = {}
    with pytest.MonkeyPatch.context() as mp:
        _freeze_clock(mp)
        backend = LocalBackend(ExportService.open(Home.from_env(home)), jobs="inprocess")
        try:
            users = {u.key: u.id for u in backend.users()}
            for who, export_type, version in RUNS:
                backend.act_as(users[who])
                for course in backend.courses():
                    label = f"{course.course_code} / {who} / {export_type}{' ' + version if version else ''}"
                    if export_type == "epub":
                        if not course.can_create_epub:
                            continue
                        ep = backend.create_epub_export(course.id)["epub_export"]
                        assert ep["created_at"] == FROZEN.isoformat().replace("+00:00", "Z"), ep
                        record = _wait(
                            lambda c=course.id, e=ep["id"]: backend.epub_export(c, e)["epub_export"],
                            "generated",
                        )
                        for key in ("epub_attachment", "zip_attachment"):
                            if record.get(key):
                                out[f"{label} {key}"] = _describe(Path(record[key]["path"]), "epub", label)
                        continue
                    ce = backend.create_content_export(
                        ContextType.COURSE, course.id, export_type, None, version=version
                    )
                    assert ce["created_at"] == FROZEN.isoformat().replace("+00:00", "Z"), ce
                    record = _wait(
                        lambda c=course.id, e=ce["id"]: backend.content_export(ContextType.COURSE, c, e),
                        "exported",
                    )
                    out[label] = _describe(Path(record["attachment"]["path"]), export_type, label)
            for who in GROUP_RUNS:
                backend.act_as(users[who])
                for course in backend.courses():
                    for group in backend.groups(course.id):
                        label = f"{course.course_code} / group {group['name']} / {who} / zip"
                        ce = backend.create_content_export(ContextType.GROUP, group["id"], "zip")
                        record = _wait(
                            lambda g=group["id"], e=ce["id"]: backend.content_export(ContextType.GROUP, g, e),
                            "exported",
                        )
                        out[label] = _describe(Path(record["attachment"]["path"]), "zip", label)
        finally:
            backend.close()
    return out


# --------------------------------------------------------------------------- the tests
def _golden() -> dict[str, dict]:
    return json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, dict]:
    got = export_demo_library(tmp_path_factory.mktemp("golden-home"))
    if UPDATE:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(_dumps(got), encoding="utf-8")
    return got


def _dumps(packages: dict[str, dict]) -> str:
    """JSON with one line per entry, so a change reads as a one-line diff in review."""
    out = ["{"]
    for n, (label, package) in enumerate(packages.items()):
        entries = ",\n".join(f"    {json.dumps(e, ensure_ascii=False)}" for e in package["entries"])
        comma = "," if n < len(packages) - 1 else ""
        out.append(
            f"  {json.dumps(label, ensure_ascii=False)}: {{\n"
            f'   "file": {json.dumps(package["file"], ensure_ascii=False)},\n'
            f'   "entries": [\n{entries}\n   ]\n  }}{comma}'
        )
    out.append("}")
    return "\n".join(out) + "\n"


def _lines(package: dict) -> list[str]:
    return [f"file {package['file']}"] + [
        f"{name}  method={method}  sha256={sha}" for name, method, sha in package["entries"]
    ]


def test_the_same_packages_are_written(packages):
    """Every course × role × format of the golden file is exported, and nothing else."""
    golden = _golden()
    assert golden, (
        f"{GOLDEN.name} is missing: run UPDATE_GOLDEN=1 pytest tests/exporters/{Path(__file__).name}"
    )
    assert sorted(packages) == sorted(golden)


@pytest.mark.parametrize("label", sorted(_golden()) or ["(no golden file)"])
def test_package_is_byte_identical(packages, label):
    golden = _golden()
    if label not in golden:
        pytest.skip("no golden file yet")
    assert label in packages, f"{label}: not exported any more"
    want, got = golden[label], packages[label]
    if want != got:
        diff = "\n".join(difflib.unified_diff(_lines(want), _lines(got), "golden", "now", lineterm="", n=1))
        pytest.fail(
            f"{label}: the package differs from {GOLDEN.name} (entry names, order, compression or bytes).\n"
            f"{diff}\n"
            f"If the change is intended, regenerate: UPDATE_GOLDEN=1 pytest tests/exporters/{Path(__file__).name}; "
            f"to see inside entries, GOLDEN_DUMP=DIR on both sides and diff -r.",
            pytrace=False,
        )

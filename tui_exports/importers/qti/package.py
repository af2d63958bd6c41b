"""A QTI 1.2 zip → one new course whose quizzes are the zip's assessments.

Three shapes are read: Canvas's quiz export (an IMS CP manifest, one folder per quiz with its
QTI and ``assessment_meta.xml``, the files the questions show under ``web_resources/``), another
tool's IMS content package with QTI (Respondus, Blackboard, the IMS examples: no namespace, a
DOCTYPE), and a bare zip of ``<questestinterop>`` files.  Every other entry (images, audio,
PDFs) becomes a course file, and the links of the questions to them (``$IMS-CC-FILEBASE$/…``,
``$IMS_CC_FILE_BASE$…`` or relative paths, which other tools write relative to anywhere in the
package, so a unique suffix match is tried as Canvas's converter does) become library links.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
import stat
import uuid
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import unquote, urlsplit

from lxml import etree

from ...html_fragments import rewrite_attrs
from ...model import GRADED_QUIZ_TYPES, ContextType, Course, File, ImportReport, Quiz, quiz_assignment
from ...store import ContextFiles, CourseBundle, Library
from .. import ImportProgress, PackageError
from ..course_folder import UUID_NS, _Ids
from ..folders import FolderTree
from .assessment import read_assessment
from .xml import kid, local, parse_bytes, text, under

#: What a QTI zip may hold (the shared safe-archive layer takes these from config.toml).
MAX_ENTRIES = 50_000
MAX_TOTAL_BYTES = 4 << 30
MAX_RATIO = 200  # uncompressed ÷ compressed, per entry above 1 MiB
MAX_XML_BYTES = 64 << 20
FILEBASE = re.compile(r"^\$(IMS-CC-FILEBASE|IMS_CC_FILEBASE|IMS_CC_FILE_BASE)\$/?")
CANVAS_TOKEN = re.compile(r"^\$([A-Z_]+)\$/?(.*)$")
FILES_ROOT = "web_resources/"
CANVAS_TITLE = re.compile(r'QTI Quiz Export for course "(.*)"')  # Canvas's title (spec 5.4)
SKIPPED = ("__MACOSX/", ".DS_Store", "Thumbs.db")
SCHEMAS = (".xsd", ".dtd")


# --------------------------------------------------------------------------- the zip (kept apart:
# the shared safe-archive layer of the importers replaces checked_entries and open_entry)


def checked_entries(zf: zipfile.ZipFile, where: Path) -> list[zipfile.ZipInfo]:
    """The zip's file entries, refused as a whole when one is unsafe: ``..``, absolute or drive
    paths, symlinks, duplicate names, too many entries, too many bytes, a bomb's ratio."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise PackageError(f"{where}: {len(infos)} entries, more than the {MAX_ENTRIES} a package may hold")
    seen: set[str] = set()
    total = 0
    out = []
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise PackageError(f"{where}: entry '{name}' points outside the package; refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise PackageError(f"{where}: entry '{name}' is a symbolic link; refused")
        key = name.rstrip("/")
        if key in seen:
            raise PackageError(f"{where}: entry '{name}' is in the zip twice; refused")
        seen.add(key)
        if info.is_dir():
            continue
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise PackageError(f"{where}: more than {MAX_TOTAL_BYTES >> 20} MiB once unpacked; refused")
        if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PackageError(
                f"{where}: entry '{name}' unpacks {MAX_RATIO}× beyond its size (a zip bomb?); refused"
            )
        out.append(info)
    return out


class _Capped:
    """A stream over one entry that stops at its declared size (a lying header is a bomb too)."""

    def __init__(self, raw: IO[bytes], limit: int, name: str):
        self.raw, self.left, self.name = raw, limit, name

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(self.left + 1 if n < 0 else min(n, self.left + 1))
        self.left -= len(chunk)
        if self.left < 0:
            raise PackageError(f"entry '{self.name}' holds more bytes than its header says; refused")
        return chunk


def open_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Capped:
    return _Capped(zf.open(info), info.file_size, info.filename)


# --------------------------------------------------------------------------- telling a QTI zip


def only_qti_resources(types: list[str]) -> bool:
    """Whether a manifest's resource types make a QTI package, not a cartridge: QTI besides
    files and quiz settings.  Canvas names its QTI export's manifest with the CC 1.1 namespace,
    so the types tell, not the namespace: a cartridge's assessments are
    ``imsqti_xmlv1p2/imscc_xmlv1p1/assessment``."""
    types = [t.lower() for t in types]
    qti = [t for t in types if t.startswith("imsqti") and "imscc" not in t]
    return bool(qti) and all(
        t in qti
        or t == "webcontent"
        or t.startswith("associatedcontent")
        or t.endswith("learning-application-resource")
        for t in types
    )


def is_qti_zip(path: Path) -> bool:
    """A zip whose manifest lists only QTI (and plain files / quiz settings), or that has no
    manifest but ``<questestinterop>`` files: what :func:`import_qti_zip` reads."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [i for i in zf.infolist() if not i.is_dir()][:MAX_ENTRIES]
            manifest = next((i for i in names if i.filename.lower() == "imsmanifest.xml"), None)
            if manifest is not None:
                if manifest.file_size > MAX_XML_BYTES:
                    return False
                root = parse_bytes(open_entry(zf, manifest).read())
                return only_qti_resources([r.get("type") or "" for r in under(root, "resource")])
            for info in names:
                if info.filename.lower().endswith((".xml", ".qti")):
                    with zf.open(info) as f:
                        if b"questestinterop" in f.read(4096):
                            return True
    except (
        zipfile.BadZipFile,
        OSError,
        etree.XMLSyntaxError,
        ValueError,
        PackageError,
        RuntimeError,
        zlib.error,
    ):
        return False
    return False


# --------------------------------------------------------------------------- the import


def import_qti_zip(
    library: Library, path: Path, *, progress: ImportProgress | None = None, created: list[str] | None = None
) -> ImportReport:
    """Import the QTI zip at ``path`` as one new course; everything or nothing is written.  The
    blobs it writes are added to ``created`` when given (the caller takes them away if its
    transaction fails)."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise PackageError(f"{path}: not a zip file ({e})") from None
    owned = created is None  # else the caller's transaction, and its clean-up, hold this one
    created = [] if created is None else created
    with zf:
        entries = checked_entries(zf, path)
        try:
            with library.transaction():
                reader = _QtiZip(library, zf, entries, path, created, progress)
                bundle = reader.build(_Ids(library.content.next_ids()))
                library.content.insert_course(bundle)
        except BaseException as e:
            if owned:  # no orphan blobs: the library is as it was
                library.blobs.remove(created)
            if isinstance(e, (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error)):
                raise PackageError(f"{path}: the zip is damaged ({e})") from None
            if isinstance(e, (RuntimeError, NotImplementedError)):  # encrypted, unknown compression
                raise PackageError(f"{path}: an entry cannot be unpacked ({e})") from None
            if isinstance(e, (UnicodeError, RecursionError, MemoryError)):
                raise PackageError(f"{path}: {type(e).__name__}: {e}"[:300]) from None
            raise
    return reader.report


class _QtiZip:
    def __init__(
        self,
        library: Library,
        zf: zipfile.ZipFile,
        entries: list[zipfile.ZipInfo],
        path: Path,
        created: list[str],
        progress: ImportProgress | None,
    ):
        self.library, self.zf, self.entries, self.path = library, zf, entries, path
        self.created = created
        self.progress = progress or (lambda done, total, what: None)
        self.report = ImportReport(0, "", "QTI 1.2")
        self.file_ids: dict[str, int] = {}  # entry name → file id
        self.quiz_ids: dict[str, int] = {}  # assessment ident → quiz id
        self.course_id = 0
        self._said: set[str] = set()
        self.qti2: list[str] = []  # QTI 2 entries: said, not read

    def warn(self, message: str, select_type: str | None = "quizzes") -> None:
        if message not in self._said:  # a link repeated in every feedback is said once
            self._said.add(message)
            self.report.warn(message, select_type)

    # ------------------------------------------------------------------ reading
    def xml(self, info: zipfile.ZipInfo) -> etree._Element | None:
        if info.file_size > MAX_XML_BYTES:
            self.warn(
                f"{info.filename}: {info.file_size >> 20} MiB of XML is more than a quiz holds; skipped"
            )
            return None
        try:
            return parse_bytes(open_entry(self.zf, info).read())
        except (etree.XMLSyntaxError, ValueError) as e:
            self.warn(f"{info.filename}: not well-formed XML ({str(e)[:160]}); skipped")
            return None

    def classify(self) -> tuple[list, dict, dict, list, etree._Element | None]:
        """(assessments as (entry, element), banks, metas, file entries, manifest)."""
        assessments: list[tuple[zipfile.ZipInfo, etree._Element]] = []
        banks: dict[str, etree._Element] = {}
        metas: dict[str, etree._Element] = {}
        files: list[zipfile.ZipInfo] = []
        manifest = None
        for n, info in enumerate(self.entries):
            self.progress(n, 2 * len(self.entries), info.filename)  # reading, then storing the files
            name = info.filename
            base = posixpath.basename(name)
            if name.startswith(SKIPPED[0]) or base in SKIPPED or base.startswith("."):
                continue
            if name.lower().endswith(SCHEMAS):
                continue
            if not name.lower().endswith((".xml", ".qti")):
                files.append(info)
                continue
            root = self.xml(info)
            if root is None:
                continue
            kind = local(root)
            if name.lower() == "imsmanifest.xml" and kind == "manifest":
                manifest = root
            elif kind == "questestinterop":
                for bank in root.iter("{*}objectbank"):
                    banks[bank.get("ident") or ""] = bank
                found = [a for a in root.iter("{*}assessment")]
                if found:
                    assessments += [(info, a) for a in found]
                elif any(local(c) in ("item", "section") for c in root):
                    assessments.append((info, root))
            elif kind == "quiz":
                metas[root.get("identifier") or ""] = root
            elif kind in ("assessmentItem", "assessmentTest"):
                self.qti2.append(name)
                self.warn(f"{name}: a QTI 2 {kind}, which this version does not import; skipped")
            else:
                files.append(info)
        return assessments, banks, metas, files, manifest

    # ------------------------------------------------------------------ the course
    def build(self, ids: _Ids) -> CourseBundle:
        assessments, banks, metas, files, manifest = self.classify()
        if not assessments:
            if self.qti2:
                raise PackageError(
                    f"{self.path}: '{self.qti2[0]}' is QTI 2 ({len(self.qti2)} such entries); "
                    "this version imports QTI 1.2 only"
                )
            raise PackageError(
                f"{self.path}: no QTI assessment in this zip (no <questestinterop> with items)"
            )
        order = _manifest_order(manifest)
        assessments.sort(key=lambda pair: order.get(pair[0].filename, len(order)))
        self.course_id = ids("courses")
        name = _manifest_title(manifest) or self.path.stem
        self.report.course_id, self.report.name = self.course_id, name
        if metas:
            self.report.source = "QTI 1.2 (Canvas)"
        tree = self.file_tree(files, ids)
        quiz_ids = [ids("quizzes") for _ in assessments]  # first, so links between quizzes resolve
        for (_, a), quiz_id in zip(assessments, quiz_ids, strict=True):
            if local(a) == "assessment" and a.get("ident"):
                self.quiz_ids.setdefault(a.get("ident"), quiz_id)
        bundle = CourseBundle(
            course=Course(
                id=self.course_id,
                name=name,
                course_code=name[:60],
                uuid=str(uuid.uuid5(UUID_NS, f"qti:{self.course_id}:{name}")),
            ),
            source=str(self.path),
        )
        bundle.file_trees.append(tree)
        count = self.report.count("quizzes")
        for (info, a), quiz_id in zip(assessments, quiz_ids, strict=True):
            count.read += 1
            ident = a.get("ident") if local(a) == "assessment" else None
            base = posixpath.dirname(info.filename)
            where = info.filename

            def html(h: str, base: str = base, where: str = where) -> str:
                return self.rewrite(h, base, where)

            try:
                quiz = read_assessment(
                    a,
                    quiz_id=quiz_id,
                    ids=ids,
                    html=html,
                    warn=lambda m, where=where: self.warn(f"{where}: {m}"),
                    banks=banks,
                    meta=metas.get(ident or ""),
                )
            except Exception as e:  # noqa: BLE001 — one bad assessment must not sink the package
                self.warn(f"{where}: assessment {ident or ''} could not be read ({str(e)[:160]}); left out")
                continue
            if ident is None or quiz.title == "Untitled quiz":
                quiz = replace(quiz, title=_stem(info.filename))
            bundle.quizzes.append(self.owned_assignment(bundle, quiz, ids))
            count.kept += 1
        return bundle

    def owned_assignment(self, bundle: CourseBundle, quiz: Quiz, ids: _Ids) -> Quiz:
        """A graded quiz is graded through an assignment (Canvas's model), as course folders do."""
        if quiz.quiz_type not in GRADED_QUIZ_TYPES:
            return quiz
        aid = ids("assignments")
        bundle.assignments.append(quiz_assignment(quiz, aid, position=len(bundle.assignments) + 1))
        return replace(quiz, assignment_id=aid)

    # ------------------------------------------------------------------ files
    def file_tree(self, files: list[zipfile.ZipInfo], ids: _Ids) -> ContextFiles:
        tree = ContextFiles(ContextType.COURSE, self.course_id)
        folder = FolderTree(tree, ids)
        count = self.report.count("attachments")
        for n, info in enumerate(files):
            self.progress(len(self.entries) + n, 2 * len(self.entries), info.filename)
            count.read += 1
            below = (
                info.filename[len(FILES_ROOT) :] if info.filename.startswith(FILES_ROOT) else info.filename
            )
            sha, size = self.library.blobs.put_stream(open_entry(self.zf, info), self.created)
            fid = ids("files")
            display = posixpath.basename(below)
            tree.files.append(
                File(
                    id=fid,
                    folder_id=folder(posixpath.dirname(below)),
                    display_name=display,
                    filename=display,
                    content_type=mimetypes.guess_type(display)[0] or "application/octet-stream",
                    size=size,
                    sha256=sha,
                    uuid=str(uuid.uuid5(UUID_NS, f"Course:{self.course_id}:{below}:{sha}")),
                    blob_path=None,
                )
            )
            self.file_ids[info.filename] = fid
            count.kept += 1
        return tree

    # ------------------------------------------------------------------ links
    def rewrite(self, html: str, base_dir: str, where: str) -> str:
        """The links of ``html`` (read from ``base_dir``) → this course's own links."""
        return rewrite_attrs(
            html, lambda attr, value: self.link(value.strip(), base_dir, attr == "src", where)
        )

    def link(self, value: str, base_dir: str, is_src: bool, where: str) -> str | None:
        c = f"/courses/{self.course_id}"
        m = FILEBASE.match(value)
        if m:
            candidates = [value[m.end() :]]
        else:
            token = CANVAS_TOKEN.match(value)
            if token:
                kind, _, rest = token.group(2).partition("/")
                if (
                    token.group(1) == "CANVAS_OBJECT_REFERENCE"
                    and kind == "quizzes"
                    and rest in self.quiz_ids
                ):
                    return f"{c}/quizzes/{self.quiz_ids[rest]}"
                if token.group(1) == "CANVAS_COURSE_REFERENCE" and kind not in ("file_ref", "modules", ""):
                    return f"{c}/{token.group(2)}"  # a course-level page: this course's
                self.warn(f"{where}: link '{value[:120]}' points at nothing in this package; kept as is")
                return None
            parts = urlsplit(value)
            if parts.scheme or parts.netloc or value.startswith(("#", "/")) or not parts.path:
                return None
            candidates = [posixpath.join(base_dir, parts.path), parts.path]
        for cand in candidates:
            path = posixpath.normpath(unquote(urlsplit(cand).path)).lstrip("/")
            fid = self.file_id(path)
            if fid is not None:
                frag = urlsplit(cand).fragment
                target = f"{c}/files/{fid}/preview" if is_src else f"{c}/files/{fid}/download?wrap=1"
                return target + (f"#{frag}" if frag else "")
        self.warn(f"{where}: link '{value[:120]}' points at no file in the package; kept as is")
        return None

    def file_id(self, path: str) -> int | None:
        for key in (path, FILES_ROOT + path):
            if key in self.file_ids:
                return self.file_ids[key]
        ends = [fid for name, fid in self.file_ids.items() if name.endswith("/" + path)]
        return ends[0] if len(ends) == 1 else None


def _manifest_title(manifest: etree._Element | None) -> str:
    """The package's title; of Canvas's QTI export, the course name it names."""
    if manifest is None:
        return ""
    general = next(iter(under(manifest, "general")), None)
    title = kid(general, "title") if general is not None else None
    name = " ".join(text(title).split()) if title is not None else ""
    canvas = CANVAS_TITLE.fullmatch(name)
    return canvas.group(1) if canvas and canvas.group(1).strip() else name


def _manifest_order(manifest: etree._Element | None) -> dict[str, int]:
    """Entry name → its place among the manifest's resources (hrefs and files)."""
    order: dict[str, int] = {}
    if manifest is None:
        return order
    for res in under(manifest, "resource"):
        for href in [res.get("href")] + [f.get("href") for f in under(res, "file")]:
            if href:
                order.setdefault(posixpath.normpath(unquote(href)), len(order))
    return order


def _stem(name: str) -> str:
    base = posixpath.basename(name)
    for ext in (".xml.qti", ".xml", ".qti"):
        if base.lower().endswith(ext):
            return base[: -len(ext)] or base
    return base

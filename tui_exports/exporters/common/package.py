"""The zip writer and progress stepper shared by the CC and QTI exporters.

Entries are written straight into the zip (no work directory to copy from): XML is
built in memory per item and file blobs are streamed chunk by chunk, so memory stays
flat however large the course files are; deflate runs beside the writer on the other cores
(:mod:`.zipwriter`).  Paths are made safe here, once: no
absolute or ``..`` segments, no duplicates (case-insensitively, so the package also
unpacks on macOS and Windows).
"""

from __future__ import annotations

import re
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from lxml import etree

from ...model import ProgressFn
from .compression import is_compressed
from .digests import DigestSet
from .xmlutil import XML_DECLARATION, clean, write_streamed
from .zipwriter import Deflated, ZipWriter

CHUNK = 1024 * 1024


def slugify(text: str, max_length: int = 200, fallback: str = "untitled") -> str:
    """Ruby ``to_url`` in spirit: ASCII, lower case, words joined by ``-``."""
    words = re.split(r"[\W_]+", text or "")  # any non-word character separates, "1650–1800" too
    ascii_text = " ".join(
        unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode("ascii") for w in words
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or fallback


#: Characters that would make a manifest ``href`` an invalid URI (``%``, ``[``, ``]``) or
#: change its meaning (``#``, ``?``); the original name is kept in files_meta.xml.
_URI_UNSAFE = re.compile(r"[/\\%\[\]#?]")


def safe_segment(name: str) -> str:
    """One path segment that cannot escape its folder, name a directory or break a URI."""
    seg = _URI_UNSAFE.sub("_", clean(name)).strip()
    if seg in ("", ".", ".."):
        return "_" if seg else "file"
    return seg


def safe_path(path: str) -> str:
    """A relative POSIX path made of safe segments."""
    return "/".join(safe_segment(s) for s in path.split("/") if s not in ("",)) or "file"


class PackageWriter:
    """A zip being written; remembers every entry name it handed out (:meth:`unique`) as a digest,
    so that a course of 100,000 entries costs no more memory than one of 10."""

    def __init__(self, path: Path, when: datetime):
        self.path = path
        #: the entry written last, or being written (a copy that failed midway left it behind)
        self.last_entry: str | None = None
        self._files = DigestSet()  # lower-cased entry names
        self._dirs: set[str] = set()  # lower-cased folder paths in use
        self._dir_names: dict[str, str] = {}  # requested folder path (lower) → folder path used
        year = max(1980, min(when.year, 2107))
        self._date_time = (year, when.month, when.day, when.hour, when.minute, when.second)
        self.zip = ZipWriter(path)

    def __enter__(self) -> PackageWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.__exit__(*exc)

    @property
    def sha256(self) -> str | None:
        """The package's SHA-256, taken as it was written (once closed)."""
        return self.zip.sha256

    def unique(self, path: str) -> str:
        """``path`` made safe and not yet used (``name-2.ext`` when it is).

        Names are compared case-insensitively, and a file never takes the name of a
        folder or the other way round (``docs`` the file beside ``docs/`` the folder
        cannot both be unpacked): a clashing folder is renamed the same way for every
        file in it.
        """
        *dirs, name = safe_path(path).split("/")
        parent = ""
        for seg in dirs:
            requested = f"{parent}/{seg}".lower()
            if requested not in self._dir_names:
                self._dir_names[requested] = self._free(parent, seg, self._files)
                self._dirs.add(self._dir_names[requested].lower())
            parent = self._dir_names[requested]
        full = self._free(parent, name, self._files, self._dirs)
        self._files.add(full.lower())
        return full

    @staticmethod
    def _free(parent: str, name: str, *taken: set[str] | DigestSet) -> str:
        """``parent/name``, or ``parent/name-N.ext``, whose lower-cased form is in none of ``taken``."""
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, ext = name, ""
        n = 1
        while True:
            candidate = name if n == 1 else (f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}")
            full = f"{parent}/{candidate}" if parent else candidate
            if not any(full.lower() in t for t in taken):
                return full
            n += 1

    def _info(self, name: str, stored: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self._date_time)
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def write_bytes(self, name: str, data: bytes) -> str:
        """Write ``data`` at ``name`` (which must come from :meth:`unique`)."""
        self.zip.writestr(self._info(name, is_compressed(name)), data)
        self.last_entry = name
        return name

    def write_deflated(self, name: str, deflated: Deflated) -> str:
        """:meth:`write_bytes` of bytes deflated already (:func:`~.zipwriter.deflate_whole`, by a
        render process): the same entry, its deflate copied (inflated again for a name stored)."""
        if is_compressed(name):
            return self.write_bytes(name, zlib.decompress(deflated.data, -15))
        self.zip.write_deflated(self._info(name, False), deflated)
        self.last_entry = name
        return name

    def write_xml(self, name: str, root: etree._Element) -> str:
        """Serialise ``root`` the way Canvas's files look (declaration, UTF-8, two-space indent,
        final newline) straight into the zip entry: a manifest of thousands of resources is
        never held serialised, nor compressed, in memory."""
        etree.indent(root, space="  ")
        with self.zip.open(self._info(name, is_compressed(name))) as dst:
            dst.write(XML_DECLARATION)
            etree.ElementTree(root).write(dst, encoding="UTF-8", xml_declaration=False)
            dst.write(b"\n")
        self.last_entry = name
        return name

    def write_xml_streamed(
        self,
        name: str,
        root: etree._Element,
        fills: Mapping[etree._Element, Iterable[etree._Element | bytes]],
    ) -> str:
        """:meth:`write_xml`, byte for byte, for a document whose big parts are never held
        whole: the children of each element of ``fills`` come from its iterable
        (:func:`~.xmlutil.write_streamed`)."""
        with self.zip.open(self._info(name, is_compressed(name))) as dst:
            dst.write(XML_DECLARATION)
            write_streamed(dst, root, fills, indent=True, trailer=b"\n")
        self.last_entry = name
        return name

    def copy_file(self, name: str, source: Path, size: int, content_type: str = "", on_bytes=None) -> int:
        """Stream ``source`` into the zip at ``name``; returns bytes copied.

        The source is opened before the entry is created, so a missing or unreadable
        blob raises ``OSError`` without leaving a half-made entry behind.
        """
        copied = 0
        with open(source, "rb") as src:
            info = self._info(name, is_compressed(name, content_type))
            info.file_size = max(size, 0)
            with self.zip.open(info, force_zip64=size >= zipfile.ZIP64_LIMIT // 2) as dst:
                self.last_entry = name
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
                    copied += len(chunk)
                    if on_bytes:
                        on_bytes(len(chunk))
        return copied


class Stepper:
    """Turns "n of m items done in this step" into Canvas's overall percentages.

    Canvas jumps between fixed checkpoints (spec §2.4); we move smoothly from one
    checkpoint to the next as items are written, and call ``progress`` at most about
    20 times a second (the engine throttles its own writes further).
    """

    def __init__(self, progress: ProgressFn, min_interval: float = 0.05):
        self.progress = progress
        self.min_interval = min_interval
        self.start = self.end = self.percent = 0.0
        self.total = self.done = 0.0
        self._last = 0.0

    def report(self, percent: float, message: str | None = None, force: bool = True) -> None:
        percent = max(self.percent, min(100.0, percent))
        now = time.monotonic()
        if force or now - self._last >= self.min_interval:
            self._last = now
            self.progress(round(percent, 2), message)
        self.percent = percent

    def step(self, end: float, total: float, message: str | None = None) -> None:
        """Begin a step that ends at ``end`` percent after ``total`` units of work."""
        self.start, self.end = self.percent, max(end, self.percent)
        self.total, self.done = float(total), 0.0
        self.report(self.start, message)

    def advance(self, units: float = 1) -> None:
        self.done += units
        frac = min(1.0, self.done / self.total) if self.total else 1.0
        self.report(self.start + (self.end - self.start) * frac, None, force=False)

    def finish(self, message: str | None = None) -> None:
        """End the current step exactly at its checkpoint."""
        self.report(self.end, message)

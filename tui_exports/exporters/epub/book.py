"""Packaging: the ``.epub`` (OCF zip) and the companion ``.zip`` (spec §3.5).

Why not ``ebooklib.write_epub``: ebooklib keeps every item's bytes in the ``EpubBook``
object and writes each with ``ZipFile.writestr(item.get_content())``, so a course with
hundreds of MB of media would sit in memory whole; it also re-parses every chapter with
its HTML parser (undoing our XHTML serialisation), deflates already-compressed media and
swallows ``OSError`` unless told otherwise.  The container format is small, so we write it
with our own zip writer (:mod:`..common.zipwriter`: deflate beside the writer, on the other
cores): ``mimetype`` first and stored with no extra field, then the media streamed from
their blobs in 1 MiB chunks (while phase 1 renders the chapters: :class:`MediaWriter`), then
``META-INF/container.xml``, the package document, navigation and chapters (on disk from
phase 1) — memory stays flat whatever the course size, and a cancel is noticed between
chunks.  (ebooklib is still
useful as an independent reader: the tests open our books with ``ebooklib.epub.read_epub``.)
"""

from __future__ import annotations

import re
import shutil
import threading
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lxml import etree

from tui_exports.model import ExportResult, OutputFile, ProgressFn
from tui_exports.vocab import FORMAT_BY_NAME

from ..common.compression import compress_type
from ..common.zipwriter import ZipWriter
from .media import MediaFile
from .sanitize import book_href
from .xhtml import clean_text, file_timestamp, title_text

OPF_NS = "http://www.idpf.org/2007/opf"
DC_NS = "http://purl.org/dc/elements/1.1/"
CONTAINER_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""
CHUNK = 1 << 20
CREATOR = "tui-exports"


@dataclass
class RenderedBook:
    """Phase 1's result: everything phase 2 needs, with no file contents in memory."""

    title: str
    course_code: str
    language: str
    identifier: str  # urn:uuid:…
    modified: str  # dcterms:modified
    exported_at: datetime
    stem: str  # output file name without extension
    staging: Path  # directory holding the rendered documents
    documents: list[tuple[str, str]]  # (file, chapter title), spine order
    media: list[MediaFile] = field(default_factory=list)  # embedded
    companion: list[MediaFile] = field(default_factory=list)  # for the companion zip
    warnings: list[str] = field(default_factory=list)
    #: the media being copied into the book since the chapters began to render (None: not begun)
    writer: MediaWriter | None = field(default=None, repr=False, compare=False)


def path_safe(name: str, limit: int = 200) -> str:
    """A course name usable as a file name: no separators or reserved characters, ≤ ``limit``
    characters and ≤ ``limit`` UTF-8 bytes (file systems count bytes)."""
    name = unicodedata.normalize("NFC", clean_text(name))
    name = re.sub(r'[\\/:*?"<>|]', "_", name)
    name = " ".join(name.split()).strip(". ")[:limit]
    while len(name.encode("utf-8")) > limit:
        name = name[:-1]
    return name.rstrip(". ") or "course"


def output_stem(course_name: str, exported_at: datetime) -> str:
    return f"{path_safe(course_name)}-{file_timestamp(exported_at)}"


def package_document(book: RenderedBook) -> bytes:
    """``content.opf`` (EPUB 3.3 package document)."""

    def opf(tag: str, parent=None, text: str | None = None, **attrs) -> etree._Element:
        el = etree.SubElement(parent, f"{{{OPF_NS}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    package = etree.Element(f"{{{OPF_NS}}}package", nsmap={None: OPF_NS}, version="3.0")
    package.set("unique-identifier", "book-id")
    package.set("{http://www.w3.org/XML/1998/namespace}lang", book.language)
    metadata = etree.SubElement(package, f"{{{OPF_NS}}}metadata", nsmap={"dc": DC_NS})
    for tag, text, attrs in (
        ("identifier", book.identifier, {"id": "book-id"}),
        ("title", title_text(book.title, "Course"), {}),
        ("language", book.language, {}),
        ("creator", CREATOR, {}),
    ):
        etree.SubElement(metadata, f"{{{DC_NS}}}{tag}", attrs).text = text
    if book.course_code.strip():
        etree.SubElement(metadata, f"{{{DC_NS}}}subject").text = title_text(book.course_code)
    opf("meta", metadata, book.modified, property="dcterms:modified")

    manifest = opf("manifest", package)
    opf(
        "item",
        manifest,
        id="nav",
        href="nav.xhtml",
        properties="nav",
        **{"media-type": "application/xhtml+xml"},
    )
    opf("item", manifest, id="ncx", href="toc.ncx", **{"media-type": "application/x-dtbncx+xml"})
    opf("item", manifest, id="css", href="style.css", **{"media-type": "text/css"})
    for n, (file, _) in enumerate(book.documents, 1):
        opf("item", manifest, id=f"c{n}", href=file, **{"media-type": "application/xhtml+xml"})
    for n, media in enumerate(book.media, 1):
        opf(
            "item",
            manifest,
            id=f"m{n}",
            href=book_href(media.book_path or ""),
            **{"media-type": media.media_type},
        )
    spine = opf("spine", package, toc="ncx")
    for n in range(1, len(book.documents) + 1):
        opf("itemref", spine, idref=f"c{n}")
    return etree.tostring(package, xml_declaration=True, encoding="utf-8", pretty_print=True)


class _Writer:
    """Streams files into a zip, reporting progress by bytes."""

    def __init__(self, zf: ZipWriter, when: datetime, report: Callable[[int], None]):
        self.zf, self.report = zf, report
        self.date_time = max(
            (when.year, when.month, when.day, when.hour, when.minute, when.second), (1980, 1, 1, 0, 0, 0)
        )

    def info(self, name: str, compress: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self.date_time)
        info.compress_type = compress
        info.external_attr = 0o644 << 16
        return info

    def bytes(self, name: str, data: bytes, compress: int = zipfile.ZIP_DEFLATED) -> None:
        self.zf.writestr(self.info(name, compress), data)
        self.report(len(data))

    def file(self, name: str, source: Path, compress: int) -> None:
        info = self.info(name, compress)
        info.file_size = source.stat().st_size
        with source.open("rb") as src, self.zf.open(info, force_zip64=info.file_size > (1 << 31)) as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                self.report(len(chunk))

    def media(self, name: str, media: MediaFile) -> None:
        """A course file, stored when its bytes are already compressed."""
        if media.source is None or not media.source.exists():
            raise FileNotFoundError(
                f'course file "{media.name}" (id {media.file_id}) left the library during the export'
            )
        self.file(name, media.source, compress_type(name))


class _Stopped(Exception):
    """The media writer was told to stop (the export was canceled or failed elsewhere)."""


class MediaWriter:
    """Writes the book's media, then the companion zip, on a thread of its own while the
    chapters render (:func:`~tui_exports.exporters.epub.render_book`): copying the files is
    reads and writes (and the CRC), which release the GIL, and rendering is Python, so the two
    share the cores instead of one waiting for the other.  The ``.epub`` begins with its
    ``mimetype`` and the media (OCF asks only that ``mimetype`` comes first); the packager
    appends the documents once the chapters are written (:func:`package`)."""

    def __init__(self, epub_path: Path, zip_path: Path, when: datetime, media: list[MediaFile], companion):
        self.epub_path, self.zip_path, self.when = epub_path, zip_path, when
        self.media, self.companion = media, companion
        self.total = sum(m.size for m in media) + sum(m.size for m in companion)
        self.written = 0  # bytes of files copied so far (read by the packager for its progress)
        self.zip_sha256: str | None = None
        self.taken = False  # by the packager: the book is its to finish or remove
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._zf: ZipWriter | None = None
        self._thread = threading.Thread(target=self._run, name="epub-media", daemon=True)
        self._thread.start()

    def _count(self, n: int) -> None:
        if self._stop.is_set():
            raise _Stopped()
        self.written += n

    def _run(self) -> None:
        zf = ZipWriter(self.epub_path)
        try:
            out = _Writer(zf, self.when, self._count)
            out.bytes("mimetype", b"application/epub+zip", zipfile.ZIP_STORED)
            for media in self.media:
                out.media(f"OEBPS/{media.book_path}", media)
            if self.companion:
                with ZipWriter(self.zip_path) as companion:
                    out = _Writer(companion, self.when, self._count)
                    for media in self.companion:
                        out.media(media.zip_path or "", media)
                self.zip_sha256 = companion.sha256
            self._zf = zf
        except BaseException as e:  # noqa: BLE001 - handed to the thread that joins
            zf.abort()
            self._error = e

    def join(self, wait: Callable[[], None] = lambda: None) -> ZipWriter:
        """The ``.epub`` with its media written, once they are (``wait`` is called while they
        are not: it may raise, to cancel); raises what stopped the copying."""
        self.taken = True
        while self._thread.is_alive():
            wait()
            self._thread.join(0.2)
        if self._error is not None:
            self.remove()
            raise self._error
        assert self._zf is not None
        return self._zf

    def abort(self) -> None:
        """Stop copying and leave no file behind (the export was canceled or failed)."""
        self._stop.set()
        self._thread.join()
        if self._zf is not None:
            self._zf.abort()
        self.remove()

    def remove(self) -> None:
        self.epub_path.unlink(missing_ok=True)
        self.zip_path.unlink(missing_ok=True)


def start_media(book_stem: str, workdir: Path, when: datetime, media, companion) -> MediaWriter:
    return MediaWriter(
        workdir / FORMAT_BY_NAME["epub"].file_for(book_stem),
        workdir / f"{book_stem}.zip",
        when,
        media,
        companion,
    )


def package(book: RenderedBook, workdir: Path, progress: ProgressFn) -> ExportResult:
    writer = book.writer or start_media(book.stem, workdir, book.exported_at, book.media, book.companion)
    book.writer = None
    docs = [name for name, _ in book.documents] + ["nav.xhtml", "toc.ncx", "style.css"]
    total = writer.total + sum((book.staging / d).stat().st_size for d in docs)
    done = 0
    last = -1.0

    def report(n: int, message: str = "Writing the ePub") -> None:
        nonlocal done, last
        done += n
        percent = round(min(99.0, 100.0 * (done + writer.written) / max(total, 1)), 1)
        if percent >= last + 1 or n == 0:
            last = percent
            progress(percent, message)

    progress(0, "Writing the ePub")
    try:
        zf = writer.join(lambda: report(0, "Writing the ePub's files"))
    except BaseException:
        writer.abort()
        raise
    try:
        with zf:
            out = _Writer(zf, book.exported_at, report)
            out.bytes("META-INF/container.xml", CONTAINER_XML)
            out.bytes("OEBPS/content.opf", package_document(book))
            for name in docs:
                out.file(f"OEBPS/{name}", book.staging / name, zipfile.ZIP_DEFLATED)
    except BaseException:  # canceled or failed: leave no half-written archive behind
        writer.remove()
        raise
    files = [OutputFile(writer.epub_path, "application/epub+zip", zf.sha256)]
    if book.companion:
        files.append(OutputFile(writer.zip_path, "application/zip", writer.zip_sha256))
    shutil.rmtree(book.staging, ignore_errors=True)
    progress(100, "ePub written")
    return ExportResult(files=files, warnings=list(book.warnings))

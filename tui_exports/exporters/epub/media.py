"""Which course files go inside the book and which go to the companion zip (spec §3.5).

A file is *embedded* (a manifest item under ``media/``) when its bytes are an EPUB 3
core media type — jpeg, png, gif, webp, svg images; mp3, AAC-in-mp4 and opus audio —
and it is no larger than ``max_embed_bytes``.  Everything else (PDF, office documents,
video, archives, oversize or unsafe files) goes to the companion zip at
``media/<folder path>/<name>``, as Canvas's ``FilesDirectory`` does.

The type is sniffed from the first bytes, never trusted from the name or the stored
``content_type``: EPUBCheck compares an image's bytes with its extension (PKG-022) and
its manifest type (OPF-029).  In-book names are also made OCF-safe (no spaces, PKG-010;
none of ``"*:<>?\\|``, PKG-009) and unique after case folding (OPF-060); the zip keeps the
course's own names.  Duplicates get `` (n)`` (in the book ``_(n)``, spaces being unsafe).
Only a few bytes of each file are read here, except SVG, which is stream-parsed to check
that it holds no script and no outside reference.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from tui_exports.model import CourseSnapshot, File

from .xhtml import clean_text

MEDIA_DIR = "media"

#: Core media types (EPUB 3.3 §3.2) → the extensions that name them.
IMAGE_TYPES = {
    "image/jpeg": ("jpg", "jpeg", "jpe"),
    "image/png": ("png",),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/svg+xml": ("svg",),
}
AUDIO_TYPES = {
    "audio/mpeg": ("mp3",),
    "audio/mp4": ("m4a", "mp4", "m4b", "aac"),
    "audio/ogg; codecs=opus": ("opus", "ogg", "oga"),
}

_SVG_NS = "http://www.w3.org/2000/svg"
_SVG_FORBIDDEN = {"script", "foreignObject", "iframe", "handler", "listener", "animation"}
_HREF_ATTRS = ("href", "{http://www.w3.org/1999/xlink}href")


@dataclass(frozen=True)
class MediaFile:
    """One course file and where it ended up."""

    file_id: int
    name: str  # display name, for notes
    source: Path | None
    size: int
    media_type: str | None = None  # manifest media type when embedded
    book_path: str | None = None  # "media/images/orion.jpg" inside the book (relative to the OPF)
    zip_path: str | None = None  # "media/handouts/star chart.pdf" inside the companion zip
    reason: str = ""  # why it is not embedded: unsupported | too large | unsafe svg | missing

    @property
    def kind(self) -> str | None:
        if self.media_type in IMAGE_TYPES:
            return "image"
        if self.media_type in AUDIO_TYPES:
            return "audio"
        return None


@dataclass
class MediaPlan:
    files: dict[int, MediaFile] = field(default_factory=dict)

    @property
    def embedded(self) -> list[MediaFile]:
        return [m for m in self.files.values() if m.book_path]

    @property
    def companion(self) -> list[MediaFile]:
        return [m for m in self.files.values() if m.zip_path]

    def get(self, file_id: int | None) -> MediaFile | None:
        return self.files.get(file_id) if file_id is not None else None


def sniff(head: bytes, declared: str = "", name: str = "") -> str | None:
    """The core media type of a file from its first bytes (and, for mp4, its declared type)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return "audio/mpeg"  # ID3 tag, or an MPEG frame sync with layer III
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        ext = name.rpartition(".")[2].lower()
        if brand in (b"M4A ", b"M4B ", b"F4A ") or declared.startswith("audio/") or ext in ("m4a", "m4b"):
            return "audio/mp4"
        return None  # video: not a core media type
    if head[:4] == b"OggS" and b"OpusHead" in head[28:40]:
        return "audio/ogg; codecs=opus"
    return None


def svg_is_safe(path: Path) -> bool:
    """Well-formed SVG with no script, no event handler, no DTD and no reference outside itself."""
    with path.open("rb") as fh:  # closed however the parse ends (an early verdict too)
        start = fh.read(4096)
        if b"<!DOCTYPE" in start or b"<!ENTITY" in start:
            return False
        fh.seek(0)
        return _svg_parts_safe(fh)


def _svg_parts_safe(fh) -> bool:
    try:
        depth_in_metadata = 0
        for event, el in etree.iterparse(
            fh, events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False
        ):
            if not isinstance(el.tag, str):
                continue
            ns, _, local = el.tag.rpartition("}")
            if event == "end":
                if local == "metadata":
                    depth_in_metadata -= 1
                el.clear(keep_tail=True)
                continue
            if ns.lstrip("{") != _SVG_NS and not depth_in_metadata:
                return False
            if local == "metadata":
                depth_in_metadata += 1
            if local in _SVG_FORBIDDEN or any(a.lower().startswith("on") for a in el.attrib):
                return False
            if any(not (el.get(a) or "#").startswith("#") for a in _HREF_ATTRS):
                return False
            if el.getparent() is None and local != "svg":
                return False
    except (etree.XMLSyntaxError, OSError):
        return False
    return True


# ------------------------------------------------------------------ names


def _ocf_segment(name: str) -> str:
    """A path segment that OCF and EPUBCheck accept: letters, marks, digits and ``-_.()``."""
    name = unicodedata.normalize("NFC", name)
    out = [ch if unicodedata.category(ch)[0] in "LNM" or ch in "-_.()" else "_" for ch in name]
    seg = re.sub(r"_+", "_", "".join(out)).strip("._") or "file"
    return seg if len(seg) <= 120 else _shorten(seg, 120)


def _zip_segment(name: str) -> str:
    """A zip path segment: the course's name minus separators, controls and ``..``."""
    seg = re.sub(r"[\x00-\x1f\x7f/\\]", "_", unicodedata.normalize("NFC", name)).strip()
    seg = seg if seg not in ("", ".", "..") else "file"
    return seg if len(seg) <= 200 else _shorten(seg, 200)


def _shorten(name: str, limit: int) -> str:
    stem, dot, ext = name.rpartition(".")
    if dot and 0 < len(ext) <= 10:
        return stem[: limit - len(ext) - 1] + "." + ext
    return name[:limit]


def _fold(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()


def unique_path(path: str, taken: set[str], suffix: str = " ({n})") -> str:
    """``path`` or ``stem (n).ext`` — the first that is free after case folding; records it."""
    folder, slash, name = path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    candidate, n = path, 0
    while _fold(candidate) in taken:
        n += 1
        candidate = f"{folder}{slash}{stem}{suffix.format(n=n)}{'.' + ext if ext else ''}"
    taken.add(_fold(candidate))
    return candidate


def _with_extension(name: str, media_type: str) -> str:
    exts = IMAGE_TYPES.get(media_type) or AUDIO_TYPES.get(media_type) or ()
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    return name if not exts or ext in exts else f"{name}.{exts[0]}"


# ------------------------------------------------------------------ the plan


def plan_media(
    snapshot: CourseSnapshot,
    files: Iterable[File],
    max_embed_bytes: int,
    warn: Callable[[str], None],
    tick: Callable[[], None] = lambda: None,
) -> MediaPlan:
    """Decide, for every file, embedded / companion zip / missing."""
    plan = MediaPlan()
    book_taken: set[str] = set()
    zip_taken: set[str] = set()
    for file in sorted(files, key=lambda f: (snapshot.file_path(f).casefold(), f.id)):
        tick()
        segments = [s for s in snapshot.file_path(file).split("/") if s] or [file.display_name or "file"]
        label = " ".join(clean_text(file.display_name or file.filename).split()) or f"file {file.id}"
        source = file.blob_path
        try:
            size = source.stat().st_size if source else -1
        except OSError:
            size = -1
        if size < 0:
            warn(f'File "{label}" (id {file.id}) has no stored content; it is left out of the ePub.')
            plan.files[file.id] = MediaFile(file.id, label, None, 0, reason="missing")
            continue
        assert source is not None
        with source.open("rb") as fh:
            head = fh.read(64)
        media_type = sniff(head, file.content_type or "", file.display_name)
        if media_type is None and ("svg" in (file.content_type or "") or label.lower().endswith(".svg")):
            media_type = "image/svg+xml"
        reason = "" if media_type else "unsupported"
        if media_type and size > max_embed_bytes:
            warn(
                f'File "{label}" ({size / 1048576:.1f} MB) is larger than the '
                f"{max_embed_bytes / 1048576:g} MB embedding limit; it is in the companion zip."
            )
            media_type, reason = None, "too large"
        elif media_type == "image/svg+xml" and not svg_is_safe(source):
            warn(f'SVG image "{label}" is not plain, self-contained SVG; it is in the companion zip.')
            media_type, reason = None, "unsafe svg"
        if media_type:
            book_segments = [_ocf_segment(s) for s in segments]
            book_segments[-1] = _with_extension(book_segments[-1], media_type)
            path = unique_path("/".join([MEDIA_DIR, *book_segments]), book_taken, "_({n})")
            plan.files[file.id] = MediaFile(file.id, label, source, size, media_type, book_path=path)
        else:
            path = unique_path("/".join([MEDIA_DIR, *(_zip_segment(s) for s in segments)]), zip_taken)
            plan.files[file.id] = MediaFile(file.id, label, source, size, zip_path=path, reason=reason)
    return plan

"""Which files to store rather than deflate: already-compressed formats gain nothing.

The one list every archive this program writes follows (zip of files, Common Cartridge, QTI,
the ePub and its companion zip), and the benchmarks' baselines too.
"""

from __future__ import annotations

import posixpath
import zipfile

#: Extensions whose bytes are already compressed (media, archives, office and PDF files).
COMPRESSED_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .png .gif .webp .heic .avif .mp3 .m4a .m4b .aac .ogg .oga .ogv .opus .flac .mp4 "
    ".m4v .mov .webm .mkv .avi .zip .gz .tgz .bz2 .xz .7z .rar .zst .pdf .docx .xlsx .pptx .odt .ods "
    ".odp .epub .imscc .woff .woff2 .jar .apk".split()
)
#: Content types (or their prefixes) of already-compressed files, for names without such an extension.
COMPRESSED_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "audio/",
    "video/",
    "application/zip",
    "application/pdf",
)


def is_compressed(name: str, content_type: str = "") -> bool:
    """Whether ``name`` (of ``content_type``) is already compressed: store it, don't deflate it."""
    # not PurePosixPath(name).suffix: pathlib interns every path segment, so a package of
    # thousands of entries would grow the interpreter's table of interned strings by a megabyte
    if posixpath.splitext(name)[1].lower() in COMPRESSED_EXTENSIONS:
        return True
    return bool(content_type) and content_type.lower().startswith(COMPRESSED_TYPES)


def compress_type(name: str, content_type: str = "") -> int:
    """The zip compression for ``name``: stored when already compressed, else deflated."""
    return zipfile.ZIP_STORED if is_compressed(name, content_type) else zipfile.ZIP_DEFLATED

"""Which files to store rather than deflate: already-compressed formats gain nothing."""

from __future__ import annotations

import zipfile

COMPRESSED_EXTENSIONS = frozenset(
    ".jpg .jpeg .png .gif .webp .heic .avif .mp3 .m4a .aac .ogg .oga .opus .flac .mp4 .m4v .mov "
    ".webm .mkv .avi .zip .gz .tgz .bz2 .xz .7z .rar .zst .pdf .docx .xlsx .pptx .odt .ods .odp "
    ".epub .imscc .woff .woff2 .jar".split()
)
COMPRESSED_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "audio/",
    "video/",
    "application/zip",
)


def compress_type(name: str, content_type: str = "") -> int:
    lower = name.lower()
    dot = lower.rfind(".")
    if dot >= 0 and lower[dot:] in COMPRESSED_EXTENSIONS:
        return zipfile.ZIP_STORED
    if content_type and content_type.startswith(COMPRESSED_TYPES):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED

"""Which files to store rather than deflate (already-compressed formats gain nothing), and how
the rest is deflated.

The one list every archive this program writes follows (zip of files, Common Cartridge, QTI,
the ePub and its companion zip), and the benchmarks' baselines too.

Deflate is ISA-L's level 1 (``isal``), chosen by measurement on the benchmark course's text
(HTML, XML, CSS: 7 % of its bytes), one core: zlib level 6 21 MiB/s (ratio 0.297), zlib level 1
63 MiB/s (0.334), ISA-L level 1 318 MiB/s (0.319), ISA-L level 2 179 MiB/s (0.315), libdeflate
level 1 191 MiB/s (0.309, but one-shot only: no streaming, no priming dictionary).  ISA-L's
CRC-32 runs at 19 GiB/s where zlib's does 0.8 GiB/s -- and every stored byte of media needs
one.  Both release the GIL, so :mod:`.zipwriter` deflates on the other cores.  Where ``isal``
has no wheel, zlib level 1 does the same work, slower.
"""

from __future__ import annotations

import posixpath
import zipfile

try:
    from isal import isal_zlib as _zlib
except ImportError:  # pragma: no cover - a platform without isal wheels
    import zlib as _zlib

#: The deflate level of every deflated entry (ISA-L has levels 0-3; zlib's 1 is its fastest too).
LEVEL = 1
crc32 = _zlib.crc32

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


def deflate_chunk(data: bytes, primer: bytes, final: bool) -> bytes:
    """``data`` as raw deflate, primed with ``primer`` (the bytes just before it); a chunk that is
    not ``final`` ends on a sync-flush boundary, so chunks joined in order are one deflate stream."""
    c = (
        _zlib.compressobj(LEVEL, _zlib.DEFLATED, -15, zdict=primer)
        if primer
        else _zlib.compressobj(LEVEL, _zlib.DEFLATED, -15)
    )
    return c.compress(data) + c.flush(_zlib.Z_FINISH if final else _zlib.Z_SYNC_FLUSH)

"""The safe archive layer: a package's entries, from a zip or an unpacked folder, read as streams.

Nothing is extracted: file entries are streamed straight into the blob store, and only XML and
HTML under a size cap are read into memory.  Entries a stranger could use against us are
refused or skipped with a message naming them:

- a name with ``..``, an absolute path or a drive letter (zip slip), a symlink (a zip entry whose
  mode says so, or a link inside an unpacked folder), a duplicate name, a name that is not text;
- a package whose entries add up to more than ``[import] max_total_mb``, holds more than
  ``max_entries`` entries, or has an entry that expands more than ``max_ratio`` times (zip bombs):
  the whole package is refused before anything is read.
"""

from __future__ import annotations

import os
import posixpath
import stat
import struct
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple
from urllib.parse import unquote

from ..config import ImportLimits
from . import PackageError
from .xmltools import XmlProblem, parse_xml

_S_IFLNK = 0o120000
#: a zip's local file header: signature, then (skipped) version; flags; (skipped) method, time,
#: date, CRC, sizes; name length, extra length
_LOCAL_HEADER = struct.Struct("<4s2xH18xHH")


class Entry(NamedTuple):
    """One entry, made when it is asked for: the archive keeps only a compact index of them."""

    name: str  # normalised, "/"-separated, relative
    size: int
    index: int  # its row in the archive's index


def _clean_name(raw: str) -> tuple[str | None, str]:
    """(normalised name, "") or (None, why it is refused)."""
    name = raw.replace("\\", "/")
    if name.startswith("/") or name.startswith("//"):
        return None, "an absolute path"
    if len(name) >= 2 and name[1] == ":" and name[0].isalpha():
        return None, "a drive letter"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None, "a '..' that leads out of the package"
    if any("\x00" in p for p in parts):
        return None, "a NUL character"
    return "/".join(parts), ""


def _utf8_name(info: zipfile.ZipInfo) -> str:
    """A zip name without the UTF-8 flag that is UTF-8 all the same (most tools write it so)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


class _Sink(list):
    """Where zipfile puts each entry of the central directory as it reads it: handed on, not kept."""

    def __init__(self, take: Callable[[zipfile.ZipInfo], None]):
        super().__init__()
        self.take = take

    def append(self, info: zipfile.ZipInfo) -> None:
        self.take(info)


class _NoNames(dict):
    def __setitem__(self, key, value) -> None:  # the archive's own index answers names
        pass


class _StreamedZip(zipfile.ZipFile):
    """A ``ZipFile`` that hands each central-directory entry to ``take`` as it is read, and keeps
    none of them: 50,000 ``ZipInfo`` objects (~25 MB) are never held at once."""

    def __init__(self, path: Path, take: Callable[[zipfile.ZipInfo], None]):
        self._take = take
        super().__init__(path)

    def _RealGetContents(self) -> None:  # noqa: N802 - zipfile's name
        self.filelist = _Sink(self._take)
        self.NameToInfo = _NoNames()
        try:
            super()._RealGetContents()
        finally:
            self.filelist, self.NameToInfo = [], {}


class Archive:
    """The entries of one package; ``warn`` receives every skipped entry, named.

    ``entries`` maps each name to its row in a compact index (arrays of numbers), from which
    an :class:`Entry` (and, to read a zip entry, a ``ZipInfo``) is made when it is asked for."""

    def __init__(self, path: Path, limits: ImportLimits, warn: Callable[[str], None]):
        self.path = Path(path)
        self.limits = limits
        self.warn = warn
        self.entries: dict[str, int] = {}
        self._names: list[str] = []  # row → its name: the one string every lookup hands out
        self._size = array("q")
        self._zip: zipfile.ZipFile | None = None
        self._total = 0
        if self.path.is_dir():
            self._scan_folder()
        else:
            self._scan_zip()

    # ------------------------------------------------------------------ scanning
    def _add(self, raw: str, size: int) -> str | None:
        """Index ``raw`` under its normalised name (returned), or skip it with a message naming it."""
        name, why = _clean_name(raw)
        if name is None:
            self.warn(f"skipped entry '{raw}': {why}")
            return None
        if not name:
            return None
        if name in self.entries:
            self.warn(f"skipped entry '{raw}': a second entry with the same name")
            return None
        if len(self.entries) >= self.limits.max_entries:
            raise PackageError(
                f"{self.path}: more than {self.limits.max_entries} entries ([import] max_entries); refused"
            )
        self.entries[name] = len(self._size)
        self._names.append(name)
        self._size.append(size)
        return name

    def _grow(self, size: int) -> None:
        """Add to the running uncompressed total, refused past ``[import] max_total_mb``."""
        self._total += size
        if self._total > self.limits.max_total_bytes:
            raise PackageError(
                f"{self.path}: its entries expand to more than {self.limits.max_total_mb:g} MB "
                "([import] max_total_mb); refused"
            )

    def _scan_zip(self) -> None:
        self._offset, self._packed, self._crc = array("q"), array("q"), array("L")
        self._method, self._flags = array("H"), array("H")
        self._zip_names: dict[int, str] = {}  # row → zipfile's own name, where it is not the index's
        try:
            self._zip = _StreamedZip(self.path, self._take)
        except PackageError:  # an entry refused (a bomb, too many): its own reason
            raise
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise PackageError(
                f"{self.path}: not a package: a cartridge or QTI zip, or a folder, was expected ({e})"
            ) from None

    def _take(self, info: zipfile.ZipInfo) -> None:
        """One entry of the central directory: checked, then indexed (or skipped, named)."""
        raw = _utf8_name(info)
        if info.is_dir():
            return
        if stat.S_IFMT(info.external_attr >> 16) == _S_IFLNK:
            self.warn(f"skipped entry '{raw}': a symbolic link")
            return
        if info.flag_bits & 0x1:
            self.warn(f"skipped entry '{raw}': it is encrypted")
            return
        self._grow(info.file_size)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > self.limits.RATIO_FLOOR and ratio > self.limits.max_ratio:
            raise PackageError(
                f"{self.path}: entry '{raw}' expands {ratio:.0f} times (more than [import] max_ratio "
                f"{self.limits.max_ratio:g}): a zip bomb? refused"
            )
        row = len(self._size)
        name = self._add(raw, info.file_size)
        if name is None:
            return
        if info.orig_filename != name:
            self._zip_names[row] = info.orig_filename
        self._offset.append(info.header_offset)
        self._packed.append(info.compress_size)
        self._crc.append(info.CRC)
        self._method.append(info.compress_type)
        self._flags.append(info.flag_bits)

    def _scan_folder(self) -> None:
        base = self.path
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            here = Path(dirpath)
            for d in list(dirnames):
                if (here / d).is_symlink():
                    dirnames.remove(d)
                    self.warn(f"skipped entry '{(here / d).relative_to(base).as_posix()}/': a symbolic link")
            dirnames.sort()
            for f in sorted(filenames):
                p = here / f
                rel = p.relative_to(base).as_posix()
                try:
                    rel.encode("utf-8")
                except UnicodeEncodeError:
                    self.warn(f"skipped entry {rel!r}: its name is not UTF-8 text")
                    continue
                st = p.lstat()
                if stat.S_ISLNK(st.st_mode):
                    self.warn(f"skipped entry '{rel}': a symbolic link")
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.warn(f"skipped entry '{rel}': not a regular file")
                    continue
                self._grow(st.st_size)
                self._add(rel, st.st_size)

    # ------------------------------------------------------------------ reading
    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def entry(self, name: str) -> Entry | None:
        """The entry of that (normalised) name, or None."""
        row = self.entries.get(name)
        return None if row is None else Entry(self._names[row], self._size[row], row)

    def items(self) -> Iterator[Entry]:
        """Every entry, in package order."""
        for name, row in self.entries.items():
            yield Entry(name, self._size[row], row)

    def find(self, href: str | None, base: str = "") -> Entry | None:
        """The entry an href names (relative to ``base``), URL-encoded or not."""
        if not href:
            return None
        for candidate in (href, unquote(href)):
            name, _ = _clean_name(posixpath.join(base, candidate) if base else candidate)
            if name and name in self.entries:
                return self.entry(name)
        return None

    def names(self) -> Iterator[str]:
        return iter(self.entries)

    def open(self, entry: Entry) -> BinaryIO:
        """A stream of the entry's bytes (never more than the size it declared)."""
        if self._zip is not None:
            row = entry.index
            info = zipfile.ZipInfo(self._zip_names.get(row, entry.name))
            info.header_offset = self._offset[row]
            info.compress_size = self._packed[row]
            info.file_size = self._size[row]
            info.CRC = self._crc[row]
            info.compress_type = self._method[row]
            info.flag_bits = self._flags[row]
            return self._zip.open(info)
        fd = os.open(self.path / entry.name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        return os.fdopen(fd, "rb")

    def read(self, entry: Entry, cap: int | None = None) -> bytes:
        """The whole entry, for small files only (XML, HTML): refused past ``cap`` bytes."""
        cap = self.limits.max_xml_bytes if cap is None else cap
        if entry.size > cap:
            raise XmlProblem(f"{entry.size} bytes, more than the {cap} read into memory")
        try:
            data = self._read_zip(entry)
            if data is None:
                with self.open(entry) as f:
                    data = f.read(cap + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, zlib.error) as e:
            raise XmlProblem(f"cannot be read ({e})") from None
        if len(data) > cap:
            raise XmlProblem(f"more than the {cap} bytes read into memory")
        return data

    def _read_zip(self, entry: Entry) -> bytes | None:
        """A stored or deflated zip entry read whole in two ``pread`` calls, with the checks
        ``ZipFile.open`` makes (header, name, length, CRC); None for anything else (the caller
        streams it).  Thousands of small pages read several times faster than through zipfile."""
        row = entry.index
        if self._zip is None or self._method[row] not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        fd = self._zip.fp.fileno()
        offset = self._offset[row]
        header = os.pread(fd, _LOCAL_HEADER.size, offset)
        if len(header) != _LOCAL_HEADER.size:
            raise zipfile.BadZipFile("Truncated file header")
        magic, flags, name_len, extra_len = _LOCAL_HEADER.unpack(header)
        if magic != b"PK\x03\x04":
            raise zipfile.BadZipFile("Bad magic number for file header")
        raw = os.pread(fd, name_len, offset + _LOCAL_HEADER.size)
        name = raw.decode("utf-8" if flags & 0x800 else "cp437")
        if name != self._zip_names.get(row, entry.name):
            raise zipfile.BadZipFile(f"File name in directory {entry.name!r} and header {raw!r} differ.")
        packed = os.pread(fd, self._packed[row], offset + _LOCAL_HEADER.size + name_len + extra_len)
        if len(packed) != self._packed[row]:
            raise EOFError("the entry is cut short")
        size = self._size[row]
        data = (
            packed
            if self._method[row] == zipfile.ZIP_STORED
            else zlib.decompressobj(-15).decompress(packed, size)
        )
        if len(data) > size:
            data = data[:size]
        if len(data) != size:
            raise EOFError("the entry is cut short")
        if zlib.crc32(data) != self._crc[row]:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {entry.name!r}")
        return data

    def xml(self, entry: Entry, warn: Callable[[str], None] | None = None):
        return parse_xml(self.read(entry), warn or self.warn, entry.name)

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
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from ..config import ImportLimits
from . import PackageError
from .xmltools import XmlProblem, parse_xml

_S_IFLNK = 0o120000


@dataclass(frozen=True)
class Entry:
    name: str  # normalised, "/"-separated, relative
    size: int
    zip_info: zipfile.ZipInfo | None = None
    path: Path | None = None


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


class Archive:
    """The entries of one package; ``warn`` receives every skipped entry, named."""

    def __init__(self, path: Path, limits: ImportLimits, warn: Callable[[str], None]):
        self.path = Path(path)
        self.limits = limits
        self.warn = warn
        self.entries: dict[str, Entry] = {}
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            self._scan_folder()
        else:
            self._scan_zip()

    # ------------------------------------------------------------------ scanning
    def _add(self, raw: str, entry_for: Callable[[str], Entry]) -> None:
        name, why = _clean_name(raw)
        if name is None:
            self.warn(f"skipped entry '{raw}': {why}")
            return
        if not name:
            return
        if name in self.entries:
            self.warn(f"skipped entry '{raw}': a second entry with the same name")
            return
        if len(self.entries) >= self.limits.max_entries:
            raise PackageError(
                f"{self.path}: more than {self.limits.max_entries} entries ([import] max_entries); refused"
            )
        self.entries[name] = entry_for(name)

    def _grow(self, total: int, size: int) -> int:
        """The running uncompressed total, refused past ``[import] max_total_mb``."""
        total += size
        if total > self.limits.max_total_bytes:
            raise PackageError(
                f"{self.path}: its entries expand to more than {self.limits.max_total_mb:g} MB "
                "([import] max_total_mb); refused"
            )
        return total

    def _scan_zip(self) -> None:
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise PackageError(
                f"{self.path}: not a package: a cartridge or QTI zip, or a folder, was expected ({e})"
            ) from None
        total = 0
        for info in self._zip.infolist():
            raw = _utf8_name(info)
            if info.is_dir():
                continue
            if stat.S_IFMT(info.external_attr >> 16) == _S_IFLNK:
                self.warn(f"skipped entry '{raw}': a symbolic link")
                continue
            if info.flag_bits & 0x1:
                self.warn(f"skipped entry '{raw}': it is encrypted")
                continue
            total = self._grow(total, info.file_size)
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > self.limits.RATIO_FLOOR and ratio > self.limits.max_ratio:
                raise PackageError(
                    f"{self.path}: entry '{raw}' expands {ratio:.0f} times (more than [import] max_ratio "
                    f"{self.limits.max_ratio:g}): a zip bomb? refused"
                )
            self._add(raw, lambda n, i=info: Entry(n, i.file_size, zip_info=i))

    def _scan_folder(self) -> None:
        base = self.path
        total = 0
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
                total = self._grow(total, st.st_size)
                self._add(rel, lambda n, p=p, s=st.st_size: Entry(n, s, path=p))

    # ------------------------------------------------------------------ reading
    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def find(self, href: str | None, base: str = "") -> Entry | None:
        """The entry an href names (relative to ``base``), URL-encoded or not."""
        if not href:
            return None
        for candidate in (href, unquote(href)):
            name, _ = _clean_name(posixpath.join(base, candidate) if base else candidate)
            if name and name in self.entries:
                return self.entries[name]
        return None

    def names(self) -> Iterator[str]:
        return iter(self.entries)

    def open(self, entry: Entry) -> BinaryIO:
        """A stream of the entry's bytes (never more than the size it declared)."""
        if self._zip is not None and entry.zip_info is not None:
            return self._zip.open(entry.zip_info)
        assert entry.path is not None
        fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        return os.fdopen(fd, "rb")

    def read(self, entry: Entry, cap: int | None = None) -> bytes:
        """The whole entry, for small files only (XML, HTML): refused past ``cap`` bytes."""
        cap = self.limits.max_xml_bytes if cap is None else cap
        if entry.size > cap:
            raise XmlProblem(f"{entry.size} bytes, more than the {cap} read into memory")
        try:
            with self.open(entry) as f:
                data = f.read(cap + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as e:
            raise XmlProblem(f"cannot be read ({e})") from None
        if len(data) > cap:
            raise XmlProblem(f"more than the {cap} bytes read into memory")
        return data

    def xml(self, entry: Entry, warn: Callable[[str], None] | None = None):
        return parse_xml(self.read(entry), warn or self.warn, entry.name)

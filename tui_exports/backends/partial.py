"""A download in progress: ``<name>.<file id>.part`` plus a small sidecar (``….part.json``).

The sidecar says which file the ``.part`` holds the beginning of (the instance, the file id
of the download URL, the expected size) and the validators the server gave for it (ETag,
Last-Modified), so a later run can ask for the rest with ``Range`` / ``If-Range``.

The invariant that makes resuming safe: **no sidecar, no resume.** Before a ``.part`` is
started over, its sidecar is removed; the new sidecar is written before the first byte.
A ``.part`` found without a matching sidecar is discarded. The download URL itself is
never written (on Canvas it carries a verifier that grants access to the file).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SIDECAR_VERSION = 1
_FILE_ID = re.compile(r"/files/(\d+)(?:/|$)")


def file_id_of(attachment: dict[str, Any], url: str) -> str | None:
    """The attachment's id, or the ``/files/:id`` of its download URL."""
    if attachment.get("id") is not None:
        return str(attachment["id"])
    m = _FILE_ID.search(url.split("?", 1)[0])
    return m.group(1) if m else None


@dataclass
class PartialDownload:
    part: Path
    base_url: str
    file_id: str | None
    size: int | None = None  # the whole file's size, when known
    etag: str | None = None
    last_modified: str | None = None

    @property
    def sidecar(self) -> Path:
        return self.part.with_name(self.part.name + ".json")

    @classmethod
    def open(cls, part: Path, base_url: str, file_id: str | None, size: int | None) -> PartialDownload:
        """The state of ``part``: kept when its sidecar describes this file, else cleared."""
        dl = cls(part, base_url, file_id, size)
        saved = dl._read_sidecar()
        if (
            file_id is not None
            and saved is not None
            and part.is_file()
            and saved.get("version") == SIDECAR_VERSION
            and saved.get("base_url") == base_url
            and saved.get("file_id") == file_id
            and (size is None or saved.get("size") in (None, size))
            and (saved.get("size") is None or part.stat().st_size <= saved["size"])
        ):
            dl.size = saved.get("size") if size is None else size
            dl.etag, dl.last_modified = saved.get("etag"), saved.get("last_modified")
        else:  # another file's beginning, an unknown one, or a sidecar without its .part
            dl.discard()
        return dl

    def _read_sidecar(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def have(self) -> int:
        try:
            return self.part.stat().st_size
        except FileNotFoundError:
            return 0

    def resume_headers(self) -> dict[str, str]:
        """``Range`` for the missing tail, with ``If-Range`` when there is a validator to send."""
        have = self.have()
        if not have:
            return {}
        headers = {"Range": f"bytes={have}-"}
        if self.etag and not self.etag.startswith("W/"):  # If-Range needs a strong validator
            headers["If-Range"] = self.etag
        elif self.last_modified:
            headers["If-Range"] = self.last_modified
        return headers

    def matches(self, *, size: int | None, etag: str | None, last_modified: str | None) -> bool:
        """Does a 206 describe the file the ``.part`` began? (For servers that ignore If-Range.)"""
        return (
            (self.size is None or size is None or size == self.size)
            and (self.etag is None or etag is None or etag == self.etag)
            and (self.last_modified is None or last_modified is None or last_modified == self.last_modified)
        )

    def start_over(self, *, size: int | None, etag: str | None, last_modified: str | None):
        """Empty the ``.part`` for a fresh copy and record its validators; returns it open for writing."""
        self.sidecar.unlink(missing_ok=True)  # first: a crash below must not leave a stale sidecar
        f = open(self.part, "wb")
        self.size = size if size is not None else self.size
        self.etag, self.last_modified = etag, last_modified
        self._write_sidecar()
        return f

    def _write_sidecar(self) -> None:
        data = {
            "version": SIDECAR_VERSION,
            "base_url": self.base_url,
            "file_id": self.file_id,
            "size": self.size,
            "etag": self.etag,
            "last_modified": self.last_modified,
        }
        tmp = self.sidecar.with_name(self.sidecar.name + ".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.sidecar)

    def discard(self) -> None:
        self.sidecar.unlink(missing_ok=True)
        self.part.unlink(missing_ok=True)
        self.etag = self.last_modified = None

    def finish(self, final: Path) -> Path:
        """fsync, then the one atomic rename that makes the final name; the sidecar goes last.
        An existing file is never replaced (exports are often named alike): ``name (2).ext``."""
        with open(self.part, "rb+") as f:
            os.fsync(f.fileno())
        final = claim_name(self.part, final)
        self.sidecar.unlink(missing_ok=True)
        return final


def claim_name(part: Path, path: Path) -> Path:
    """Give ``part`` the name ``path``, or ``stem (2).ext``, ``stem (3).ext``… the first free one.

    Taken atomically, so two downloads finishing at once (Canvas names every course zip
    alike) never replace each other: a hard link fails if the name exists; where links are
    not supported, the name is reserved with ``O_EXCL`` and then replaced by the file."""
    n = 2
    candidate = path
    while True:
        try:
            try:
                os.link(part, candidate)
                part.unlink()
            except FileExistsError:
                raise
            except OSError:  # no hard links here: reserve the name, then move the file onto it
                os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
                os.replace(part, candidate)
            return candidate
        except FileExistsError:
            candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
            n += 1

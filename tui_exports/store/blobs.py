"""Content-addressed file bytes beside the database (never inside SQLite)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


class BlobStore:
    """``blobs/ab/abcdef…``: one file per distinct SHA-256, written atomically."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_stream(self, stream: BinaryIO, created: list[str] | None = None) -> tuple[str, int]:
        """Copy a stream in chunks; returns (sha256, size). A blob this call wrote (not one
        already stored) is added to ``created``, so a failed import can take it away again."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path_for(sha)
            if final.exists():
                os.unlink(tmp)
            else:
                final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.replace(tmp, final)
                if created is not None:
                    created.append(sha)
            return sha, size
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def put_file(self, path: Path, created: list[str] | None = None) -> tuple[str, int]:
        with open(path, "rb") as f:
            return self.put_stream(f, created)

    def remove(self, shas: list[str]) -> None:
        """Take away blobs (those a failed import wrote); missing ones are no error."""
        for sha in shas:
            try:
                self.path_for(sha).unlink()
            except FileNotFoundError:
                pass

    def stored(self) -> dict[str, Path]:
        """Every file under the blob folder: a blob's SHA-256 (or, for anything else, such as
        the ``.incoming-`` file of a write that was killed, its path) → its path."""
        found: dict[str, Path] = {}
        if not self.root.is_dir():
            return found
        for path in sorted(self.root.rglob("*")):
            if path.is_dir():
                continue
            rel = path.relative_to(self.root)
            is_blob = len(rel.parts) == 2 and rel.parts[0] == path.name[:2] and len(path.name) == 64
            found[path.name if is_blob else str(rel)] = path
        return found

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        import io

        return self.put_stream(io.BytesIO(data))

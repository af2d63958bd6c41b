"""Where the library lives on disk.

``TUI_EXPORTS_HOME`` overrides everything (tests point it at a temp dir);
otherwise platformdirs picks the per-user data and config folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "tui-exports"


@dataclass(frozen=True)
class Home:
    """The folders of one library: database, blobs, finished exports, config."""

    data: Path
    config_dir: Path

    @classmethod
    def from_env(cls, override: str | os.PathLike[str] | None = None) -> Home:
        root = override or os.environ.get("TUI_EXPORTS_HOME")
        if root:
            path = Path(root).expanduser().resolve()
            return cls(data=path, config_dir=path)
        return cls(
            data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        )

    @property
    def db_path(self) -> Path:
        return self.data / "library.db"

    @property
    def blobs(self) -> Path:
        return self.data / "blobs"

    @property
    def exports(self) -> Path:
        return self.data / "exports"

    @property
    def downloads(self) -> Path:
        return self.data / "downloads"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    def ensure(self) -> Home:
        """Create the library's folders, private (0700) when this creates them: a folder the user
        has opened up since (``chmod 750``) is left as it is, and :attr:`file_mode` follows it."""
        for p in (self.data, self.blobs, self.exports, self.config_dir):
            private_dir(p)
        return self

    @property
    def file_mode(self) -> int:
        """The mode of the library's files (``library.db``, exports): the library folder's
        read and write bits, so 0600 in the 0700 folder it is created as."""
        try:
            return (self.data.stat().st_mode & 0o666) | 0o600
        except OSError:
            return 0o600


def private_dir(path: Path) -> Path:
    """``mkdir -p``, the folders it creates 0700 (whatever the umask); existing ones untouched."""
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(p, 0o700)
    return path


def bundled(top: str, marker: str) -> Path:
    """A top-level folder of the project (``data``, ``styles``): beside the package in a
    checkout, inside it as ``_<name>`` in an installed wheel (see setup.py)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / top, here / f"_{top}"):
        if (candidate / marker).exists():
            return candidate
    return here.parent / top


def bundled_data_dir() -> Path:
    """The demo library sources (``data/`` at the top of the project)."""
    return bundled("data", "library.toml")

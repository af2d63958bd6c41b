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
        for p in (self.data, self.blobs, self.exports, self.config_dir):
            p.mkdir(parents=True, exist_ok=True)
        return self


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

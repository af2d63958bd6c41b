"""The config file, ``config.toml`` (``Home.config_file``): the one place that reads and writes it.

    theme = "textual-dark"              # the app's theme
    [keys]                              # the app's key bindings: binding id = "keys"
    new_export = "N"
    [engine]                            # engine settings (engine/settings.py)
    workers = 2
    [server]                            # `tui-exports serve` (ServerConfig below)
    max_body_mb = 4
    allow_query_token = false
    [import]                            # packages read by `import` / `library add` (ImportLimits below)
    max_total_mb = 8192
    max_ratio = 200
    [profiles.school]                   # Canvas instances (backends/profiles.py)
    base_url = "https://canvas.example.edu"
    token_env = "SCHOOL_CANVAS_TOKEN"

One error policy: a file that cannot be used is a :class:`ConfigError` whose message is one
line naming the file and the key (``Config.error``). The CLI prints it and exits 2; the app
shows it. Each table's owner checks its own values through :meth:`Config.table`.
The file is written with mode 0600: it names where the Canvas tokens are.
"""

from __future__ import annotations

import os
import stat
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w


class ConfigError(ValueError):
    """The config file cannot be used; the message names the file and what to change."""


class ConfigPermissionWarning(UserWarning):
    """The config file can be read by other users of this machine."""


@dataclass(frozen=True)
class ServerConfig:
    """``[server]``: the largest request body read (past it: 413), and whether a token may come
    in the query string (``?access_token=``: it ends up in logs and histories; Canvas itself
    discourages it), which is refused unless allowed here."""

    max_body_mb: float = 4.0
    allow_query_token: bool = False

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)


@dataclass(frozen=True)
class ImportLimits:
    """``[import]``: what a package may hold before it is refused as a zip bomb.

    ``max_total_mb``: the uncompressed size of all its entries together; ``max_ratio``: how
    many times an entry may expand (checked on entries above ``RATIO_FLOOR`` bytes, where a
    high ratio is not just a small text file); ``max_xml_mb``: the largest XML file read
    into memory (manifest, settings, QTI); ``max_entries``: entries in one package."""

    max_total_mb: float = 8192.0
    max_ratio: float = 200.0
    max_xml_mb: float = 64.0
    max_entries: int = 500_000

    RATIO_FLOOR = 1 << 20

    @property
    def max_total_bytes(self) -> int:
        return int(self.max_total_mb * 1024 * 1024)

    @property
    def max_xml_bytes(self) -> int:
        return int(self.max_xml_mb * 1024 * 1024)


@dataclass(frozen=True)
class Config:
    """The parsed config file (empty when there is none)."""

    path: Path | None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> Config:
        if not path or not path.is_file():
            return cls(path)
        try:
            with open(path, "rb") as f:
                return cls(path, tomllib.load(f))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path} is not valid TOML: {e}") from None
        except OSError as e:
            raise ConfigError(f"{path} cannot be read: {e.strerror or e}") from None

    def error(self, message: str, kind: type[ConfigError] = ConfigError) -> ConfigError:
        """The one form of a config problem: ``<file>: <what, naming the key>``."""
        return kind(f"{self.path}: {message}")

    def table(self, name: str) -> dict[str, Any]:
        """A top-level table (``{}`` when absent)."""
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise self.error(f"{name} must be a table ([{name}]), not {value!r}")
        return value

    def keys(self) -> dict[str, str]:
        """The app's ``[keys]``: binding id → keys (e.g. ``new_export = "N"``)."""
        table = self.table("keys")
        for binding, keys in table.items():
            if not isinstance(keys, str):
                raise self.error(f'[keys] {binding} must be keys in quotes (e.g. "ctrl+n"), not {keys!r}')
        return dict(table)

    def theme(self) -> str | None:
        """The app's ``theme``, if set."""
        value = self.data.get("theme")
        if value is not None and not isinstance(value, str):
            raise self.error(f'theme must be a theme name in quotes (e.g. "textual-dark"), not {value!r}')
        return value

    def server(self) -> ServerConfig:
        """The ``[server]`` table of ``tui-exports serve``, checked."""
        table = self.table("server")
        unknown = sorted(set(table) - {"max_body_mb", "allow_query_token"})
        if unknown:
            raise self.error(
                f"unknown [server] settings {unknown}; known: ['allow_query_token', 'max_body_mb']"
            )
        size = table.get("max_body_mb", ServerConfig.max_body_mb)
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size <= 1024:
            raise self.error(f"[server] max_body_mb must be a number of MiB from 0 to 1024, not {size!r}")
        query = table.get("allow_query_token", False)
        if not isinstance(query, bool):
            raise self.error(f"[server] allow_query_token must be true or false, not {query!r}")
        return ServerConfig(max_body_mb=float(size), allow_query_token=query)

    def import_limits(self) -> ImportLimits:
        """The ``[import]`` table, checked: positive numbers (``max_entries`` a whole one)."""
        table = self.table("import")
        known = ("max_total_mb", "max_ratio", "max_xml_mb", "max_entries")
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise self.error(f"unknown [import] settings {unknown}; known: {sorted(known)}")
        for name, value in table.items():
            whole = name == "max_entries"
            kinds = (int,) if whole else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
                what = "a whole number" if whole else "a number"
                raise self.error(f"[import] {name} must be {what} above 0, not {value!r}")
        return ImportLimits(**{k: (int(v) if k == "max_entries" else float(v)) for k, v in table.items()})

    def with_entry(self, table: str, name: str, value: dict[str, Any]) -> Path:
        """Write the file with ``[table.name]`` set to ``value``, everything else kept (comments
        are not); mode 0600, atomically."""
        data = dict(self.data)
        data[table] = {**self.table(table), name: value}
        return write_config(self.path, data)  # type: ignore[arg-type]


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """Replace the config file with ``data``: mode 0600, through a temp file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        tomli_w.dump(data, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def check_permissions(path: Path) -> None:
    """Warn when the config file is group- or world-readable (it names where tokens live)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.warn(
            f"{path} is readable by other users (mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}",
            ConfigPermissionWarning,
            stacklevel=2,
        )

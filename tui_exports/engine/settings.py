"""Engine settings: read from the ``[engine]`` table of the config file, with Canvas's defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from ..config import Config, ConfigError

__all__ = ["ConfigError", "Settings"]


@dataclass(frozen=True)
class Settings:
    workers: int = 2  # size of the job thread pool
    worker_nice: int = 10  # how far the background worker lowers its CPU priority (0: not at all)
    expire_days: int = 30  # Canvas's content_exports_expire_after_days; 0 disables expiry
    epub_timeout_minutes: int = 120  # Canvas's epub_generation_expiration_minutes
    epub_max_embed_mb: int = 25  # larger media go to the companion zip
    base_url: str = "http://127.0.0.1:8080"  # where `tui-exports serve` answers by default
    heartbeat_seconds: float = 2.0
    stale_after_seconds: float = 60.0  # a runner silent this long is considered dead
    progress_writes_per_second: float = 4.0

    @classmethod
    def load(cls, config_file: Path | None) -> Settings:
        return cls.from_config(Config.load(config_file))

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        """The ``[engine]`` table, checked: an unknown name or a value of the wrong kind is a ConfigError."""
        table = config.table("engine")
        known = {f.name: type(f.default) for f in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise config.error(f"unknown [engine] settings {unknown}; known: {sorted(known)}")
        for name, value in table.items():
            wanted = known[name]
            ok = (
                isinstance(value, wanted)
                and not isinstance(value, bool)
                or (wanted is float and isinstance(value, int) and not isinstance(value, bool))
            )
            if not ok:
                raise config.error(f"[engine] {name} must be {_KINDS[wanted]}, not {value!r}")
        return cls(**table)


_KINDS = {int: "a whole number", float: "a number", str: "text"}

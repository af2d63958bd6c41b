"""Canvas profiles: ``[profiles.NAME]`` tables in the config file.

    [profiles.school]
    base_url = "https://canvas.example.edu"
    token_env = "SCHOOL_CANVAS_TOKEN"   # the token is read from this environment variable
    # or: keyring = true                # from the OS keyring (service "tui-exports", user = NAME)

The token itself is never written to the config file, printed, logged or stored in SQLite.
When this module writes the config file it does so with mode 0600.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from ..paths import Home
from .base import BackendError, canvas_base_url

KEYRING_SERVICE = "tui-exports"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigPermissionWarning(UserWarning):
    """The config file can be read by other users of this machine."""


@dataclass(frozen=True)
class Profile:
    name: str
    base_url: str
    token_env: str | None = None
    keyring: bool = False

    @classmethod
    def new(cls, name: str, base_url: str, *, token_env: str | None = None, keyring: bool = False) -> Profile:
        """A checked profile: a short name, a Canvas address, and exactly one place for the token."""
        if not _NAME.fullmatch(name):
            raise BackendError(f"profile names are letters, digits, '-' and '_' (at most 64): {name!r}")
        if bool(token_env) == bool(keyring):
            raise BackendError("say where the token is: an environment variable (token_env) or the OS keyring")
        if token_env is not None and not _ENV_VAR.fullmatch(token_env):
            # never echo the value: it may be the token itself, pasted in the wrong place
            raise BackendError("token_env takes the NAME of an environment variable (e.g. SCHOOL_CANVAS_TOKEN), not the token")
        return cls(name, canvas_base_url(base_url), token_env or None, bool(keyring))

    @property
    def token_source(self) -> str:
        """Where the token comes from, for display (never the token)."""
        if self.token_env:
            return f"${self.token_env}"
        return f"OS keyring ({KEYRING_SERVICE}/{self.name})" if self.keyring else "no token source"

    def token(self) -> str:
        """The profile's token, from its environment variable or the OS keyring."""
        if self.token_env:
            value = os.environ.get(self.token_env, "").strip()
            if not value:
                raise BackendError(f"profile '{self.name}': the environment variable {self.token_env} is not set")
            return value
        if self.keyring:
            import keyring  # only profiles that use it need the keyring backend
            from keyring.errors import KeyringError

            try:
                value = keyring.get_password(KEYRING_SERVICE, self.name)
            except KeyringError as e:
                raise BackendError(f"profile '{self.name}': the OS keyring is not available ({e.__class__.__name__})") from None
            if not value:
                raise BackendError(
                    f"profile '{self.name}': no token in the OS keyring (service '{KEYRING_SERVICE}', user '{self.name}')"
                )
            return value
        raise BackendError(f"profile '{self.name}': set token_env = \"VAR\" or keyring = true")


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


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    with open(path, "rb") as f:
        try:
            return tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise BackendError(f"{path} is not valid TOML: {e}") from None


def load_profiles(home: Home) -> dict[str, Profile]:
    config = _read_config(home.config_file)
    out = {}
    for name, table in (config.get("profiles") or {}).items():
        if not isinstance(table, dict) or not table.get("base_url"):
            raise BackendError(f"{home.config_file}: [profiles.{name}] needs base_url")
        unknown = set(table) - {"base_url", "token_env", "keyring"}
        if "token" in table:
            raise BackendError(
                f"{home.config_file}: [profiles.{name}] holds a token; remove it and use token_env or keyring = true"
            )
        if unknown:
            raise BackendError(f"{home.config_file}: [profiles.{name}] has unknown keys {sorted(unknown)}")
        out[name] = Profile(name, str(table["base_url"]), table.get("token_env"), bool(table.get("keyring", False)))
    return out


def profile_names(home: Home | None = None) -> list[str]:
    """The names of the Canvas profiles in the config file, sorted (for pickers and the
    command palette; open one with ``open_profile(name, home)``). A malformed config
    file is a BackendError with a readable message."""
    return sorted(load_profiles(home or Home.from_env()))


def save_profile(home: Home, profile: Profile, token: str | None = None) -> Path:
    """Add or replace ``[profiles.NAME]`` (other settings kept; comments are not), mode 0600.
    With ``keyring = true`` and a ``token``, the token goes to the OS keyring, never to the file."""
    path = home.config_file
    check_permissions(path)
    config = _read_config(path)
    table: dict[str, Any] = {"base_url": profile.base_url}
    if profile.token_env:
        table["token_env"] = profile.token_env
    if profile.keyring:
        table["keyring"] = True
        if token:
            import keyring
            from keyring.errors import KeyringError

            try:
                keyring.set_password(KEYRING_SERVICE, profile.name, token)
            except KeyringError as e:
                raise BackendError(f"the OS keyring is not available ({e.__class__.__name__}); use token_env instead") from None
    config.setdefault("profiles", {})[profile.name] = table
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        tomli_w.dump(config, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def open_profile(name: str, home: Home | None = None, **kwargs: Any):
    """A CanvasBackend for ``[profiles.NAME]``, recording its exports in the local library."""
    from ..store import Library
    from .canvas import CanvasBackend

    home = home or Home.from_env()
    check_permissions(home.config_file)
    profiles = load_profiles(home)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise BackendError(f"no profile '{name}' in {home.config_file} (known: {known})")
    profile = profiles[name]
    token = profile.token()
    library = Library(home)
    try:
        backend = CanvasBackend(profile.base_url, token, library=library, downloads=home.downloads,
                                close_library=True, **kwargs)  # fmt: skip
    except BaseException:
        library.close()
        raise
    backend.profile = name
    return backend

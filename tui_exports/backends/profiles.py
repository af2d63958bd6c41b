"""Canvas profiles: ``[profiles.NAME]`` tables in the config file.

    [profiles.school]
    base_url = "https://canvas.example.edu"
    token_env = "SCHOOL_CANVAS_TOKEN"   # the token is read from this environment variable
    # or: keyring = true                # from the OS keyring (service "tui-exports", user = NAME)

The token itself is never written to the config file, printed, logged or stored in SQLite.
The file is read and written (mode 0600) by ``tui_exports.config``; a bad table is a
``ProfileError``: a config error (one line naming the file and key) that is also a BackendError.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config, ConfigError, ConfigPermissionWarning, check_permissions, write_config
from ..paths import Home
from .base import BackendError, canvas_base_url

KEYRING_SERVICE = "tui-exports"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


__all__ = [
    "ConfigPermissionWarning",
    "Profile",
    "ProfileError",
    "check_permissions",
    "load_profiles",
    "open_profile",
    "profile_names",
    "profiles_of",
    "remove_profile",
    "save_profile",
]


class ProfileError(BackendError, ConfigError):
    """The config file, or a ``[profiles.NAME]`` table in it, cannot be used."""


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
            raise BackendError(
                "say where the token is: an environment variable (token_env) or the OS keyring"
            )
        if token_env is not None and not _ENV_VAR.fullmatch(token_env):
            # never echo the value: it may be the token itself, pasted in the wrong place
            raise BackendError(
                "token_env takes the NAME of an environment variable (e.g. SCHOOL_CANVAS_TOKEN), not the token"
            )
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
                raise BackendError(
                    f"profile '{self.name}': the environment variable {self.token_env} is not set"
                )
            return value
        if self.keyring:
            import keyring  # only profiles that use it need the keyring backend
            from keyring.errors import KeyringError

            try:
                value = keyring.get_password(KEYRING_SERVICE, self.name)
            except KeyringError as e:
                raise BackendError(
                    f"profile '{self.name}': the OS keyring is not available ({e.__class__.__name__})"
                ) from None
            if not value:
                raise BackendError(
                    f"profile '{self.name}': no token in the OS keyring (service '{KEYRING_SERVICE}', user '{self.name}')"
                )
            return value
        raise BackendError(f"profile '{self.name}': set token_env = \"VAR\" or keyring = true")


def _config(home: Home) -> Config:
    try:
        return Config.load(home.config_file)
    except ConfigError as e:
        raise ProfileError(str(e)) from None


def load_profiles(home: Home) -> dict[str, Profile]:
    return profiles_of(_config(home))


def profiles_of(config: Config) -> dict[str, Profile]:
    """The ``[profiles.NAME]`` tables, checked (a ProfileError names the file and the key)."""
    try:
        tables = config.table("profiles")
    except ConfigError as e:
        raise ProfileError(str(e)) from None
    out = {}
    for name, table in tables.items():
        where = f"[profiles.{name}]"
        if not isinstance(table, dict) or not table.get("base_url"):
            raise config.error(f"{where} needs base_url", ProfileError)
        unknown = set(table) - {"base_url", "token_env", "keyring"}
        if "token" in table:
            raise config.error(
                f"{where} holds a token; remove it and use token_env or keyring = true", ProfileError
            )
        if unknown:
            raise config.error(f"{where} has unknown keys {sorted(unknown)}", ProfileError)
        for key, kind, what in (
            ("base_url", str, "an address in quotes"),
            ("token_env", str, "a variable name in quotes"),
            ("keyring", bool, "true or false"),
        ):
            if key in table and not isinstance(table[key], kind):
                raise config.error(f"{where} {key} must be {what}, not {table[key]!r}", ProfileError)
        out[name] = Profile(name, table["base_url"], table.get("token_env"), table.get("keyring", False))
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
    config = _config(home)
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
                raise BackendError(
                    f"the OS keyring is not available ({e.__class__.__name__}); use token_env instead"
                ) from None
    try:
        return config.with_entry("profiles", profile.name, table)
    except ConfigError as e:
        raise ProfileError(str(e)) from None


def remove_profile(home: Home, name: str) -> Profile:
    """Remove ``[profiles.NAME]`` (other settings kept; comments are not), mode 0600, and its
    token from the OS keyring if it kept one there.  Returns the profile as it was."""
    path = home.config_file
    check_permissions(path)
    config = _config(home)
    profiles = profiles_of(config)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise BackendError(f"no profile '{name}' in {path} (known: {known})")
    data = dict(config.data)
    rest = {k: v for k, v in config.table("profiles").items() if k != name}
    if rest:
        data["profiles"] = rest
    else:
        data.pop("profiles", None)
    write_config(path, data)
    if profiles[name].keyring:
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.delete_password(KEYRING_SERVICE, name)
        except KeyringError:  # not there, or no keyring here: nothing left to remove
            pass
    return profiles[name]


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
        backend = CanvasBackend(
            profile.base_url, token, library=library, downloads=home.downloads, close_library=True, **kwargs
        )
    except BaseException:
        library.close()
        raise
    backend.profile = name
    return backend

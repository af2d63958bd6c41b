"""Canvas profiles: tokens from the environment or the OS keyring, never from the file."""

from __future__ import annotations

import os
import stat

import pytest

from tui_exports.backends.base import BackendError
from tui_exports.backends.canvas import CanvasBackend
from tui_exports.backends.profiles import (
    ConfigPermissionWarning,
    Profile,
    load_profiles,
    open_profile,
    profile_names,
    save_profile,
)
from tui_exports.paths import Home


@pytest.fixture
def h(home) -> Home:
    return Home.from_env(home)


def test_token_env_profile(h, monkeypatch):
    save_profile(h, Profile("school", "https://canvas.example.edu/", token_env="SCHOOL_TOKEN"))
    with pytest.raises(BackendError, match="SCHOOL_TOKEN is not set"):
        open_profile("school", h)
    monkeypatch.setenv("SCHOOL_TOKEN", "tok-abc")
    b = open_profile("school", h)
    assert (
        isinstance(b, CanvasBackend) and b.base_url == "https://canvas.example.edu" and b.profile == "school"
    )
    assert b.downloads == h.downloads and b.library is not None
    b.close()
    with pytest.raises(BackendError, match="no profile 'other'.*school"):
        open_profile("other", h)


def test_keyring_profile_and_file_hygiene(h, memory_keyring):
    path = save_profile(h, Profile("work", "https://lms.example.org", keyring=True), token="tok-from-ring")
    assert memory_keyring.store == {("tui-exports", "work"): "tok-from-ring"}
    text = path.read_text()
    assert "tok-from-ring" not in text and "keyring = true" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_profiles(h)["work"].token() == "tok-from-ring"
    b = open_profile("work", h)
    assert b.label == "lms.example.org"
    b.close()
    memory_keyring.store.clear()
    with pytest.raises(BackendError, match="no token in the OS keyring"):
        load_profiles(h)["work"].token()


def test_existing_settings_kept_and_readable_file_warns(h):
    h.config_file.write_text("[engine]\nworkers = 3\n")
    os.chmod(h.config_file, 0o644)
    with pytest.warns(ConfigPermissionWarning, match="chmod 600"):
        save_profile(h, Profile("a", "https://a.example", token_env="A"))
    assert "workers = 3" in h.config_file.read_text()
    assert stat.S_IMODE(h.config_file.stat().st_mode) == 0o600


def test_token_in_the_config_file_is_refused(h):
    h.config_file.write_text('[profiles.bad]\nbase_url = "https://x.example"\ntoken = "oops"\n')
    os.chmod(h.config_file, 0o600)
    with pytest.raises(BackendError, match="holds a token"):
        load_profiles(h)
    h.config_file.write_text('[profiles.bad]\nbase_url = "https://x.example"\n')
    with pytest.raises(BackendError, match="token_env"):
        load_profiles(h)["bad"].token()


def test_profile_names_for_pickers(h):
    assert profile_names(h) == []
    save_profile(h, Profile.new("zeta", "https://z.example", token_env="Z"))
    save_profile(h, Profile.new("alpha", "https://a.example/", keyring=True))
    assert profile_names(h) == ["alpha", "zeta"]
    assert load_profiles(h)["alpha"].base_url == "https://a.example"
    h.config_file.write_text("[profiles.broken\n")
    with pytest.raises(BackendError, match="is not valid TOML"):
        profile_names(h)


def test_new_profile_checks():
    with pytest.raises(BackendError, match="environment variable .* or the OS keyring"):
        Profile.new("a", "https://a.example")
    with pytest.raises(BackendError, match="environment variable .* or the OS keyring"):
        Profile.new("a", "https://a.example", token_env="A", keyring=True)
    with pytest.raises(BackendError, match="profile names"):
        Profile.new("a b", "https://a.example", token_env="A")
    assert Profile.new("a", " https://a.example/ ", token_env="A").token_source == "$A"

"""A live ``tui-exports serve`` on loopback for CanvasBackend, and a client-side library."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend

from tui_exports.backends.canvas import CanvasBackend
from tui_exports.engine import ExportService, JobRunner
from tui_exports.paths import Home
from tui_exports.server import running_server
from tui_exports.store import Library


@pytest.fixture
def server(tmp_path, copy_demo_library):
    """(base_url, service, tokens by user key) of a seeded library served on 127.0.0.1."""
    server_home = copy_demo_library(tmp_path / "server-home")
    service = ExportService.open(Home.from_env(server_home))
    runner = JobRunner(service, poll_seconds=0.05).start()
    tokens = {key: service.create_token(uid) for key, uid in {"teacher": 1, "student1": 3}.items()}
    with running_server(service, runner) as base_url:
        yield base_url, service, tokens
    runner.stop(wait=True)
    service.close()


@pytest.fixture
def client_library(tmp_path):
    lib = Library(Home.from_env(tmp_path / "client-home"))
    yield lib
    lib.close()


@pytest.fixture
def backend(server, client_library):
    base_url, _, tokens = server
    b = CanvasBackend(base_url, tokens["teacher"], library=client_library, timeout=5, backoff=0.01)
    yield b
    b.close()


class MemoryKeyring(KeyringBackend):
    """An OS keyring in memory: tests never touch the real one."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)

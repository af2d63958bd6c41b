"""Fixtures for the API server: a seeded library, one token per demo user, a TestClient."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():  # starlette prefers httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from tui_exports.engine import JobRunner
from tui_exports.server import create_app, running_server

USERS = {"teacher": 1, "ta": 2, "student1": 3, "student2": 4}


@pytest.fixture
def tokens(service) -> dict[str, str]:
    return {key: service.create_token(uid, purpose="tests") for key, uid in USERS.items()}


@pytest.fixture
def client(service):
    """No runner: jobs stay queued unless a test runs them (``run_jobs``)."""
    with TestClient(create_app(service), base_url="http://testserver.local:8123") as c:
        yield c


@pytest.fixture
def run_jobs(service):
    runner = JobRunner(service)

    def run() -> None:
        assert runner.wait_idle(30)

    yield run
    runner.stop(wait=True)


@pytest.fixture
def auth(tokens):
    def headers(user: str = "teacher") -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[user]}"}

    return headers


@pytest.fixture
def live(service):
    """``serve`` on loopback (real uvicorn, real HTTP) with a job runner; yields its base URL."""
    runner = JobRunner(service, poll_seconds=0.05).start()
    with running_server(service, runner) as base_url:
        yield base_url
    runner.stop(wait=True)


@pytest.fixture
def http(live):
    """An httpx client on the live server."""
    import httpx

    with httpx.Client(base_url=live, timeout=10) as c:
        yield c

"""An engine on a fresh copy of the demo library, with an in-process job runner."""

from __future__ import annotations

import pytest

from tui_exports.engine import JobRunner


@pytest.fixture
def runner(service):
    r = JobRunner(service, workers=2)
    yield r
    r.stop(wait=True)


@pytest.fixture
def users(service):
    """key → id for the demo users."""
    return {service.content.user_key(u.id): u.id for u in service.content.users()}

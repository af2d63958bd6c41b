"""Fixtures of the importer tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def library(home):
    """An empty library (no demo courses: quicker than ``service`` where no engine is needed)."""
    from tui_exports.paths import Home
    from tui_exports.store import Library

    lib = Library(Home.from_env(home))
    yield lib
    lib.close()

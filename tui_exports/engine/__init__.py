"""The engine: the rules of Canvas's export APIs, and the jobs that run exports.

Its names are imported when first asked for (``from tui_exports.engine import ExportService``
works as ever): a module that needs only ``engine.settings`` (the CLI checking the config file
before the app's first frame) does not import the service, the store and sqlite-utils with it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_MODULE_OF = {
    "ApiError": "errors",
    "BadRequest": "errors",
    "IllegalTransition": "errors",
    "NotFound": "errors",
    "Unauthorized": "errors",
    "Unprocessable": "errors",
    "JobRunner": "jobs",
    "LibraryUnusable": "service",
    "ExportService": "service",
    "Page": "service",
    "Settings": "settings",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value

"""The format registry's runnable half: each format's exporter, imported on first use.

The declarations (contexts, select types, role, defaults, labels) are ``vocab.FORMATS``,
importable by every front without importing the engine; here a format's ``exporter``
reference ("module:function") becomes the function, so start-up imports no exporter.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ..vocab import FORMAT_BY_NAME, ExportFormat


def format_of(name: str) -> ExportFormat:
    return FORMAT_BY_NAME[name]


def exporter_of(name: str) -> Any:
    """The exporter function of a format (for a pipeline such as ePub: its module)."""
    module, _, attr = format_of(name).exporter.partition(":")
    loaded = import_module(module)
    return getattr(loaded, attr) if attr else loaded

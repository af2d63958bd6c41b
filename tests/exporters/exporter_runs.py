"""One-call exports for the exporter tests (a module of its own: every test folder has a
``conftest`` module, so importing helpers ``from conftest`` picks whichever loaded first)."""

from __future__ import annotations

from pathlib import Path

from tui_exports.exporters.cc import export_common_cartridge
from tui_exports.exporters.qti.exporter import export_qti
from tui_exports.model import no_progress


def export_cc(snapshot, out_dir: Path, version: str = "1.1.0", progress=no_progress):
    result = export_common_cartridge(snapshot, out_dir, progress, version=version)
    return result.files[0].path, result


def export_quiz_zip(snapshot, out_dir: Path, progress=no_progress):
    result = export_qti(snapshot, out_dir, progress)
    return result.files[0].path, result

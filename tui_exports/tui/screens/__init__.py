"""Dialogs and secondary screens, one module each: new export, content picker, ePub exports, import,
bulk runs, help."""

from .ask import AskScreen
from .bulk import BulkScreen
from .epub import EpubScreen
from .help import HelpScreen
from .imports import ImportScreen, pull_job
from .new_export import ExportRequest, NewExportScreen, type_reasons
from .picker import PickerScreen, branch_reasons

__all__ = [
    "AskScreen",
    "BulkScreen",
    "EpubScreen",
    "ExportRequest",
    "HelpScreen",
    "ImportScreen",
    "NewExportScreen",
    "PickerScreen",
    "branch_reasons",
    "pull_job",
    "type_reasons",
]

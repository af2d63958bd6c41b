"""Dialogs and secondary screens, one module each: new export, content picker, ePub exports, bulk runs, help."""

from .ask import AskScreen
from .bulk import BulkScreen
from .epub import EpubScreen
from .help import HelpScreen
from .new_export import ExportRequest, NewExportScreen, type_reasons
from .picker import PickerScreen, branch_reasons

__all__ = [
    "AskScreen",
    "BulkScreen",
    "EpubScreen",
    "ExportRequest",
    "HelpScreen",
    "NewExportScreen",
    "PickerScreen",
    "branch_reasons",
    "type_reasons",
]

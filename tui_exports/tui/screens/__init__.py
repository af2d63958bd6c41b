"""Dialogs and secondary screens, one module each: new export, content picker, ePub exports, help."""

from .ask import AskScreen
from .epub import EpubScreen
from .help import HelpScreen
from .new_export import ExportRequest, NewExportScreen, type_reasons
from .picker import PickerScreen, branch_reasons

__all__ = [
    "AskScreen",
    "EpubScreen",
    "ExportRequest",
    "HelpScreen",
    "NewExportScreen",
    "PickerScreen",
    "branch_reasons",
    "type_reasons",
]

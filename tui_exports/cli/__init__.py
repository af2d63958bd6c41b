"""The command line: ``tui-exports`` opens the app; sub-commands run headless."""

from .commands import main

__all__ = ["main"]

"""Running the command line in the test process (importable from every test folder: pytest puts
``tests/`` on the path for its conftest)."""

from __future__ import annotations

from tui_exports.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``tui-exports ARGS`` in-process: (exit code, stdout, stderr); never a traceback."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err

"""A new user's first steps: README says how ``tui-exports`` gets on PATH before its first bare
example, and ``library path`` names both places (library folder, config file)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_says_how_to_reach_tui_exports_before_using_it_bare():
    text = README.read_text(encoding="utf-8")
    blocks = [m for m in re.finditer(r"```sh\n(.*?)```", text, re.S)]
    first_bare = next(
        m.start() + m.group(1).index(line)
        for m in blocks
        for line in m.group(1).splitlines()
        if line.startswith("tui-exports ")
    )
    activate = text.find(". .venv/bin/activate")
    assert 0 <= activate < first_bare


@pytest.mark.slow  # a subprocess
def test_library_path_prints_the_library_and_the_config_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TUI_EXPORTS_HOME"}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "conf"))
    out = subprocess.run(
        [sys.executable, "-m", "tui_exports.cli", "library", "path"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert out.stdout.splitlines() == [
        f"library: {tmp_path / 'data' / 'tui-exports'}",
        f"config:  {tmp_path / 'conf' / 'tui-exports' / 'config.toml'}",
    ]


def test_library_path_with_a_home_puts_the_config_file_there(home, capsys):
    from tui_exports.cli import main

    assert main(["library", "path"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"library: {home}", f"config:  {home / 'config.toml'}"]

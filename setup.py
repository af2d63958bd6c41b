"""Wheels carry the demo library and the stylesheets inside the package.

The project keeps ``data/`` and ``styles/`` at the top (DESIGN.md); an editable install reads
them there. A regular install (``pip install .``, ``pipx``) has no checkout beside it, so the
build copies them to ``tui_exports/_data`` and ``tui_exports/_styles``, where ``paths`` looks next.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = {"data": "_data", "styles": "_styles"}


class BuildWithBundledFiles(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source, name in BUNDLED.items():
            target = Path(self.build_lib) / "tui_exports" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / source, target)


setup(cmdclass={"build_py": BuildWithBundledFiles})

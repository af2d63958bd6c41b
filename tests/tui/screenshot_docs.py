"""Write ``docs/screenshot-main.svg``: the main screen with an export in progress.

Run from the project root: ``.venv/bin/python -m tests.tui.screenshot_docs``.  A fresh temp
library; the newest export is pictured mid-run (its Progress is frozen at 45 %).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="tui-exports-shot-"))
    os.environ["TUI_EXPORTS_HOME"] = str(home)
    from tui_exports.backends.local import LocalBackend
    from tui_exports.model import ContextType

    from .conftest import FrozenBackend, make_app, wait_done

    backend = LocalBackend.open(jobs="inprocess")
    backend.create_content_export(ContextType.COURSE, 1, "zip", {"files": [1, 2]})
    wait_done(backend, 1)
    running = backend.create_content_export(ContextType.COURSE, 1, "zip")
    wait_done(backend, 1)
    app = make_app(FrozenBackend(backend, home, fake_running={running["id"]: 45.0}), home)
    async with app.run_test(size=(110, 30)) as pilot:
        deadline = asyncio.get_running_loop().time() + 10
        while app.main.history.row_count < 2 and asyncio.get_running_loop().time() < deadline:
            await pilot.pause(0.05)
        await pilot.press("tab")
        await pilot.pause(0.3)
        (ROOT / "docs").mkdir(exist_ok=True)
        app.save_screenshot("screenshot-main.svg", path=str(ROOT / "docs"))
    backend.close()


if __name__ == "__main__":
    asyncio.run(main())

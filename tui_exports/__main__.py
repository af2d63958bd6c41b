"""``python -m tui_exports`` is the ``tui-exports`` command."""

import sys

from .cli import main

sys.exit(main())

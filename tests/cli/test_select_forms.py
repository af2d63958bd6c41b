"""Asset strings inside ``select`` lists (issue 15, items 5 and 7).  Canvas's
``ContentMigration.process_copy_params`` prefixes every listed id itself, so
``select[pages][]=wiki_page_2`` becomes ``wiki_page_wiki_page_2`` and selects nothing, silently.
Our fronts send plain ids in lists (and Canvas's hash form for migration ids); ``serve`` refuses an
asset string in a list, naming it and the forms it takes."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx

from tui_exports.backends.canvas import CanvasBackend
from tui_exports.cli.common import select_arg
from tui_exports.exporters.common.ids import mig_id
from tui_exports.model import ContextType


def test_the_cli_sends_plain_ids_in_lists():
    assert select_arg(["pages=wiki_page_2,3", "files=attachment_7", "quizzes=quizzes:quiz_4"]) == {
        "pages": [2, 3],
        "files": [7],
        "quizzes": [4],
    }


def test_migration_ids_go_in_the_hash_form_canvas_takes():
    mig = mig_id("wiki_pages", 4)
    assert select_arg([f"pages=2,{mig}"]) == {"pages": {"wiki_page_2": "1", mig: "1"}}


def test_what_reaches_canvas_selects_what_was_asked():
    sent: list[list[tuple[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(parse_qsl(request.content.decode()))
        return httpx.Response(
            200, json={"id": 1, "workflow_state": "created", "export_type": "common_cartridge"}
        )

    b = CanvasBackend(
        "https://canvas.example.edu", "t", transport=httpx.MockTransport(handler), sleep=lambda s: None
    )
    b.create_content_export(ContextType.COURSE, 1, "common_cartridge", select_arg(["pages=wiki_page_2"]))
    b.create_content_export(
        ContextType.COURSE, 1, "common_cartridge", select_arg([f"pages={mig_id('wiki_pages', 4)}"])
    )
    assert ("select[pages][]", "2") in sent[0]
    assert not any("wiki_page" in v for _, v in sent[0])  # no asset string as a listed value
    assert (f"select[pages][{mig_id('wiki_pages', 4)}]", "1") in sent[1]

"""A cartridge's pages rendered in a render process (:mod:`..common.render_pool`); its quizzes
are rendered as a QTI export's are (:mod:`..qti.render`, which also holds what each process
keeps: :class:`~..qti.render.Renderer`).

:func:`render_page` gives back what the serial path (:class:`.exporter.CCExporter`) would have
written for the page, deflated, with the warnings it would have given, in its order.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from ...model import Page
from ..common.zipwriter import Deflated, deflate_whole
from ..qti.render import Renderer, deep_checked, skip_reason, whole
from . import content


class PageDone(NamedTuple):
    warnings: list[str]
    failed: str | None
    document: Deflated | None


def page_here(outline: Page, rows: Any) -> Page:
    """What the export keeps of a page sent as rows: its outline, at the url it was read with."""
    return replace(outline, url=rows.value("url"))


def render_page(r: Renderer, payload: tuple[str, Any]) -> PageDone:
    what, page = payload[0], whole(payload[1])
    warning = deep_checked(what, page)
    warnings = [warning] if warning else []
    try:
        doc = content.page_document(page, r.rewriter.fragment(page.body))
    except Exception as e:  # noqa: BLE001 — the item is skipped, as the serial path skips it
        return PageDone(warnings, skip_reason(e), None)
    return PageDone(warnings, None, deflate_whole(doc))

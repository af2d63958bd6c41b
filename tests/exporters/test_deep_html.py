"""Very deep HTML (issue 16, item 13): a page body and a quiz question nested 10,000 and
100,000 elements deep keep their text in the Common Cartridge, the QTI and the ePub, and each
export warns naming the item; the parser (libxml2 keeps 256 levels) no longer drops it silently."""

from __future__ import annotations

import os
import zipfile

import pytest

from tui_exports.html_fragments import MAX_DEPTH, flatten_deep, parse_fragment
from tui_exports.model import ContextType, JobKind

MARK = "DEEP-TEXT-KEPT"


def _deepen(service, depth: int) -> tuple[str, str]:
    body = "<div>" * depth + MARK + "</div>" * depth
    db = service.library.database.db
    page = db.execute(
        "SELECT id, title FROM pages WHERE course_id = 1 AND published = 1 ORDER BY id"
    ).fetchone()
    question = db.execute(
        "SELECT q.id, q.name FROM quiz_questions q JOIN quizzes z ON z.id = q.quiz_id "
        "WHERE z.course_id = 1 ORDER BY q.id"
    ).fetchone()
    with service.library.transaction():
        db.execute("UPDATE pages SET body = ? WHERE id = ?", [body, page[0]])
        db.execute("UPDATE quiz_questions SET question_text = ? WHERE id = ?", [body, question[0]])
    return page[1], question[1]


def _run(service, kind: JobKind, export_type: str | None = None):
    owner = service.owner_id()
    if kind is JobKind.CONTENT:
        record = service.create_content_export(owner, ContextType.COURSE, 1, export_type)
    else:
        record = service.create_epub_export(owner, 1)
    service.store.claim(kind, record.id, os.getpid(), state="created")
    (service.run_content_export if kind is JobKind.CONTENT else service.run_epub_export)(record.id)
    record = service.store.job(kind, record.id)
    att = service.store.attachment(
        record.attachment_id if kind is JobKind.CONTENT else record.epub_attachment_id
    )
    with zipfile.ZipFile(att.path) as z:
        holding = [n for n in z.namelist() if MARK.encode() in z.read(n)]
    return record, holding


@pytest.mark.parametrize("depth", [10_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_deep_html_keeps_its_text_and_warns_naming_the_item(service, depth):
    page, question = _deepen(service, depth)
    flattened = "nested deeper than 200 elements; past that depth it was flattened (its text is kept)"

    ce, holding = _run(service, JobKind.CONTENT, "common_cartridge")
    assert ce.workflow_state.value == "exported"
    assert any(n.startswith("wiki_content/") for n in holding) and any(
        n.endswith("assessment_qti.xml") for n in holding
    )
    assert any(w.startswith(f'page "{page}"') and flattened in w for w in ce.errors), ce.errors
    assert any(w.startswith(f'question "{question}"') and flattened in w for w in ce.errors), ce.errors

    qti, holding = _run(service, JobKind.CONTENT, "qti")
    assert qti.workflow_state.value == "exported" and holding
    assert [w for w in qti.errors if w.startswith(f'question "{question}"') and flattened in w]

    ep, holding = _run(service, JobKind.EPUB)
    assert ep.workflow_state.value == "generated" and holding
    assert any(w.startswith(f'page "{page}"') and flattened in w for w in ep.errors), ep.errors


def test_flattening_keeps_text_and_leaves_shallow_html_alone():
    shallow = "<p>a <b>bold</b> <br> <img src='x.png'/> word</p>" * 300
    assert flatten_deep(shallow) is shallow  # many tags, none deep: the very same string
    deep = "<section>" + "<div><span>x</span>" * 500 + "end" + "</div>" * 500 + "</section><p>after</p>"
    root = parse_fragment(deep)
    text = "".join(root.itertext())
    assert text == "x" * 500 + "end" + "after"
    assert max(len(list(el.iterancestors())) for el in root.iter()) <= MAX_DEPTH + 1
    assert root[-1].tag == "p"  # what follows the deep part is still its own element

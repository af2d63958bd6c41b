"""The one job-state vocabulary (model.JOB_STATES) covers every state, and agrees with the
state machines and with every place that used to keep its own list."""

from __future__ import annotations

import pytest

from tui_exports import model
from tui_exports.engine import states
from tui_exports.model import ContentExportState as CE
from tui_exports.model import EpubExportState as EP
from tui_exports.model import ProgressState as P

KINDS = {
    "content": (CE, states.CONTENT_EXPORT),
    "epub": (EP, states.EPUB_EXPORT),
    "progress": (P, states.PROGRESS),
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_state_is_running_or_final_never_both(kind: str) -> None:
    enum, _ = KINDS[kind]
    running, final, failed, downloadable = model.JOB_STATES[kind]
    values = {s.value for s in enum}
    assert running | final == values
    assert not running & final
    assert failed <= final and downloadable <= final
    assert not failed & downloadable
    # what is final and neither failed nor downloadable is only "deleted"
    assert final - failed - downloadable <= {"deleted"}


@pytest.mark.parametrize("kind", KINDS)
def test_the_sets_agree_with_the_state_machine(kind: str) -> None:
    enum, machine = KINDS[kind]
    for state in enum:
        ends = not machine[state] - {CE.DELETED, EP.DELETED}
        assert model.is_final(state, kind) is ends, state
        assert model.is_running(state, kind) is (not ends), state
        assert states.is_final(state) is ends
    assert states.running_states(enum) == {s for s in enum if not model.is_final(s, kind)}


def test_records_and_progress_read_the_vocabulary() -> None:
    assert {s for s in CE if s in model.CONTENT_EXPORT_RUNNING} == {
        CE.CREATED,
        CE.WAITING_FOR_EXTERNAL_TOOL,
        CE.EXPORTING,
    }
    assert {s for s in EP if s in model.EPUB_EXPORT_RUNNING} == {
        EP.CREATED,
        EP.EXPORTING,
        EP.EXPORTED,
        EP.GENERATING,
    }
    assert {s for s in P if s in model.PROGRESS_RUNNING} == {P.QUEUED, P.RUNNING, P.WAITING_FOR_EXTERNAL_TOOL}


def test_a_bare_state_word() -> None:
    """Without the kind: a word that ends some kind well is done (an ePub's ``exported`` too)."""
    assert model.DONE_STATES == {"exported", "exported_for_course_copy", "generated", "completed"}
    assert model.RUNNING_STATES == {
        "created",
        "queued",
        "waiting_for_external_tool",
        "exporting",
        "generating",
        "running",
    }
    assert model.FAILED_STATES == {"failed", "canceled"}
    assert model.is_downloadable("exported_for_course_copy")
    assert model.is_running("exported", "epub") and not model.is_running("exported")
    assert not model.is_running(None) and not model.is_final(None, "content")


def test_the_fronts_derive_their_sets() -> None:
    from tui_exports.tui import format as fmt

    assert fmt.RUNNING_STATES == model.RUNNING_STATES
    assert fmt.DONE_STATES == model.DONE_STATES
    assert set(fmt.STATE_GLYPHS) == {s.value for e in (CE, EP, P) for s in e}

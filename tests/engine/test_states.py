"""Every legal and every illegal move of the three state machines."""

from __future__ import annotations

import itertools

import pytest

from tui_exports.engine import states
from tui_exports.engine.errors import IllegalTransition
from tui_exports.model import ContentExportState as CE
from tui_exports.model import EpubExportState as EP
from tui_exports.model import ProgressState as P

LEGAL = [
    (CE.CREATED, CE.EXPORTING),
    (CE.CREATED, CE.WAITING_FOR_EXTERNAL_TOOL),
    (CE.CREATED, CE.FAILED),
    (CE.WAITING_FOR_EXTERNAL_TOOL, CE.EXPORTING),
    (CE.WAITING_FOR_EXTERNAL_TOOL, CE.FAILED),
    (CE.EXPORTING, CE.EXPORTED),
    (CE.EXPORTING, CE.EXPORTED_FOR_COURSE_COPY),
    (CE.EXPORTING, CE.FAILED),
    (EP.CREATED, EP.EXPORTING),
    (EP.CREATED, EP.FAILED),
    (EP.EXPORTING, EP.EXPORTED),
    (EP.EXPORTING, EP.FAILED),
    (EP.EXPORTED, EP.GENERATING),
    (EP.EXPORTED, EP.FAILED),
    (EP.GENERATING, EP.GENERATED),
    (EP.GENERATING, EP.FAILED),
    (P.QUEUED, P.RUNNING),
    (P.QUEUED, P.FAILED),
    (P.RUNNING, P.COMPLETED),
    (P.RUNNING, P.FAILED),
    (P.RUNNING, P.WAITING_FOR_EXTERNAL_TOOL),
    (P.WAITING_FOR_EXTERNAL_TOOL, P.COMPLETED),
    (P.WAITING_FOR_EXTERNAL_TOOL, P.FAILED),
]  # a list: equal-valued StrEnum pairs would collapse in a set
# soft delete is legal from every export state but deleted itself
LEGAL += [(s, CE.DELETED) for s in CE if s is not CE.DELETED]
LEGAL += [(s, EP.DELETED) for s in EP if s is not EP.DELETED]

# StrEnum members of different machines compare equal by value ("failed" == "failed"):
# key the table by machine too, or EpubExport's exported→failed would pass for ContentExport
LEGAL_KEYS = {(type(a), a.value, b.value) for a, b in LEGAL}

ALL_PAIRS = [pair for enum in (CE, EP, P) for pair in itertools.product(enum, enum)]


@pytest.mark.parametrize("current,target", ALL_PAIRS, ids=lambda s: f"{type(s).__name__}.{s.value}")
def test_every_pair(current, target):
    if (type(current), current.value, target.value) in LEGAL_KEYS:
        states.check(current, target)
    else:
        with pytest.raises(IllegalTransition):
            states.check(current, target)


def test_cross_machine_moves_are_illegal():
    with pytest.raises(IllegalTransition):
        states.check(CE.CREATED, EP.EXPORTING)


def test_final_states():
    assert {s for s in CE if states.is_final(s)} == {
        CE.EXPORTED,
        CE.EXPORTED_FOR_COURSE_COPY,
        CE.FAILED,
        CE.DELETED,
    }
    assert {s for s in EP if states.is_final(s)} == {EP.GENERATED, EP.FAILED, EP.DELETED}
    assert {s for s in P if states.is_final(s)} == {P.COMPLETED, P.FAILED, P.CANCELED}
    assert states.EPUB_PERCENT == {EP.CREATED: 0, EP.EXPORTED: 80, EP.GENERATING: 90, EP.GENERATED: 100}

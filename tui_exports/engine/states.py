"""The workflow state machines of ContentExport, EpubExport and Progress (spec §1.3, §2.3, §3.3).

Canvas declares the states without events for exports; these tables are the moves
its code actually makes.  Anything else is a bug and raises :class:`IllegalTransition`.
"""

from __future__ import annotations

from enum import StrEnum

from .. import model
from ..model import ContentExportState as CE
from ..model import EpubExportState as EP
from ..model import ProgressState as P
from .errors import IllegalTransition

CONTENT_EXPORT: dict[CE, frozenset[CE]] = {
    CE.CREATED: frozenset({CE.EXPORTING, CE.WAITING_FOR_EXTERNAL_TOOL, CE.FAILED, CE.DELETED}),
    CE.WAITING_FOR_EXTERNAL_TOOL: frozenset({CE.EXPORTING, CE.FAILED, CE.DELETED}),
    CE.EXPORTING: frozenset({CE.EXPORTED, CE.EXPORTED_FOR_COURSE_COPY, CE.FAILED, CE.DELETED}),
    CE.EXPORTED: frozenset({CE.DELETED}),
    CE.EXPORTED_FOR_COURSE_COPY: frozenset({CE.DELETED}),
    CE.FAILED: frozenset({CE.DELETED}),
    CE.DELETED: frozenset(),
}

EPUB_EXPORT: dict[EP, frozenset[EP]] = {
    EP.CREATED: frozenset({EP.EXPORTING, EP.FAILED, EP.DELETED}),
    EP.EXPORTING: frozenset({EP.EXPORTED, EP.FAILED, EP.DELETED}),
    EP.EXPORTED: frozenset({EP.GENERATING, EP.FAILED, EP.DELETED}),
    EP.GENERATING: frozenset({EP.GENERATED, EP.FAILED, EP.DELETED}),
    EP.GENERATED: frozenset({EP.DELETED}),
    EP.FAILED: frozenset({EP.DELETED}),
    EP.DELETED: frozenset(),
}

#: A cancel is a move to ``failed`` (Canvas's ``progress#cancel``); Canvas's ``canceled`` is
#: never written here (it marks Progresses orphaned by a replaced delayed job).
PROGRESS: dict[P, frozenset[P]] = {
    P.QUEUED: frozenset({P.RUNNING, P.FAILED}),
    P.RUNNING: frozenset({P.COMPLETED, P.FAILED, P.WAITING_FOR_EXTERNAL_TOOL}),
    P.WAITING_FOR_EXTERNAL_TOOL: frozenset({P.COMPLETED, P.FAILED}),
    P.COMPLETED: frozenset(),
    P.FAILED: frozenset(),
    P.CANCELED: frozenset(),
}

#: ePub overall progress per state (Canvas's PERCENTAGE_COMPLETE).
EPUB_PERCENT = {EP.CREATED: 0, EP.EXPORTED: 80, EP.GENERATING: 90, EP.GENERATED: 100}

_MACHINES = {CE: CONTENT_EXPORT, EP: EPUB_EXPORT, P: PROGRESS}


def check(current: StrEnum, target: StrEnum) -> None:
    """Raise unless ``current → target`` is a legal move of its machine."""
    table = _MACHINES[type(current)]
    if type(target) is not type(current) or target not in table[current]:
        raise IllegalTransition(f"{type(current).__name__}: {current.value} → {target.value} is not allowed")


_KIND = {CE: "content", EP: "epub", P: "progress"}


def is_final(state: StrEnum) -> bool:
    """Ended (the vocabulary of ``model.JOB_STATES``): it moves to nothing but ``deleted``."""
    return model.is_final(state, _KIND[type(state)])


def running_states(kind: type[StrEnum]) -> frozenset[StrEnum]:
    """The states of a machine a job is still moving in (queued or running), as its enum."""
    return frozenset(kind(s) for s in model.JOB_STATES[_KIND[kind]][0])

"""Canvas migration ids (spec §4.4): ``i`` + MD5 of an optional prefix and the asset string.

Stable across repeated exports of the same course, and equal to the keys that a
``select`` names (``create_key("attachment_5")`` is the id of file 5).
"""

from __future__ import annotations

import hashlib

from ...vocab import SELECT_VOCAB

#: Canvas's asset-string prefix per select type (spec §1.5; ``vocab.SELECT_VOCAB``), and of
#: the other objects an export names.
ASSET_PREFIX = {
    **{t.key: t.prefix for t in SELECT_VOCAB},
    "assignment_groups": "assignment_group",
    "courses": "course",
    "quiz_questions": "quiz_question",
    "quiz_groups": "quizzes/quiz_group",
}


def asset_string(select_type: str, obj_id: int) -> str:
    """``asset_string("wiki_pages", 42)`` → ``"wiki_page_42"``."""
    return f"{ASSET_PREFIX[select_type]}_{obj_id}"


def create_key(key: str, prepend: str = "") -> str:
    """``create_key("wiki_page_42")`` → ``"i"`` + md5 hex (33 characters)."""
    return "i" + hashlib.md5((prepend + key).encode("utf-8")).hexdigest()


def mig_id(select_type: str, obj_id: int, prepend: str = "") -> str:
    """The migration id of a content object, e.g. ``mig_id("wiki_pages", 42)``."""
    return create_key(asset_string(select_type, obj_id), prepend)

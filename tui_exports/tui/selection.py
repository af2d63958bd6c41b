"""The content picker's model: which items are ticked, and the ``select`` hash that makes.

Pure Python, so it is tested without a screen.  Keys are ``(api_type, id)`` with the
API's names (``modules``, ``module_items``, ``pages``, ``files``, ``folders``, …).
A module holds its items and a folder its sub-folders and files: ticking a parent
ticks everything under it, and the hash names only the parent (the engine's closure
adds the rest, as Canvas does).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..vocab import PICKER_ORDER, SELECT_VOCAB
from .format import API_KEYS, SELECT_BRANCHES

Key = tuple[str, int]

#: Item type → the branch (picker heading) it is listed under (``vocab.SELECT_VOCAB``).
BRANCH_OF = {t.api: t.parent for t in SELECT_VOCAB if t.parent}
ORDER = [t.api for t in PICKER_ORDER]
#: API name → its entry.
_BY_API = {t.api: t for t in SELECT_VOCAB}


@dataclass
class Item:
    key: Key
    title: str
    parent: Key | None = None
    children: list[Key] = field(default_factory=list)


class TickModel:
    def __init__(self, content: dict[str, list[dict[str, Any]]]):
        self.items: dict[Key, Item] = {}
        self.roots: dict[str, list[Key]] = {b: [] for b in SELECT_BRANCHES}
        self.ticked: set[Key] = set()
        for ctype, rows in content.items():
            api = API_KEYS.get(ctype, ctype)
            for row in rows:
                key = (api, int(row["id"]))
                self.items[key] = Item(key, str(row.get("title") or f"{api} {row['id']}"))
        for ctype, rows in content.items():
            api = API_KEYS.get(ctype, ctype)
            for row in rows:
                key = (api, int(row["id"]))
                parent = None
                entry = _BY_API.get(api)
                if entry and entry.parent_field and row.get(entry.parent_field) is not None:
                    parent = (entry.branch, int(row[entry.parent_field]))
                if parent in self.items:
                    self.items[key].parent = parent
                    self.items[parent].children.append(key)
                elif BRANCH_OF.get(api, api) in self.roots:
                    self.roots[BRANCH_OF.get(api, api)].append(key)
        for item in self.items.values():  # folders before files under a folder
            item.children.sort(key=lambda k: (k[0] != "folders", ORDER.index(k[0])))

    # -- structure
    def subtree(self, key: Key) -> list[Key]:
        out, stack = [], [key]
        while stack:
            k = stack.pop()
            out.append(k)
            stack.extend(self.items[k].children)
        return out

    def branch_keys(self, branch: str) -> list[Key]:
        return [k for root in self.roots.get(branch, []) for k in self.subtree(root)]

    def leaves(self, keys: Iterable[Key]) -> list[Key]:
        return [k for k in keys if not self.items[k].children]

    # -- ticking (shown over the leaves: a folder whose files are all ticked reads as ticked)
    def state(self, keys: Iterable[Key]) -> str:
        """``all``, ``none`` or ``some`` of the leaves among these keys are ticked."""
        leaves = self.leaves(keys)
        n = sum(k in self.ticked for k in leaves)
        return "none" if n == 0 else "all" if n == len(leaves) else "some"

    def item_state(self, key: Key) -> str:
        return self.state(self.subtree(key))

    def branch_state(self, branch: str) -> str:
        return self.state(self.branch_keys(branch))

    def toggle(self, keys: Iterable[Key]) -> None:
        keys = list(keys)
        if self.state(keys) == "all":
            self.ticked.difference_update(keys)
        else:
            self.ticked.update(keys)
            return
        for k in keys:  # a parent can no longer be whole once a child is unticked
            parent = self.items[k].parent
            while parent is not None:
                self.ticked.discard(parent)
                parent = self.items[parent].parent

    def toggle_item(self, key: Key) -> None:
        self.toggle(self.subtree(key))

    def toggle_all(self, branches: Iterable[str] | None = None) -> None:
        """Tick everything of these branches (all of them when None), or untick it if all is ticked."""
        if branches is None:
            self.toggle(self.items)
        else:
            self.toggle([k for b in branches for k in self.branch_keys(b)])

    def count(self, branch: str) -> tuple[int, int]:
        leaves = self.leaves(self.branch_keys(branch))
        return sum(k in self.ticked for k in leaves), len(leaves)

    # -- the request
    def select(self) -> dict[str, list[int]]:
        """The ``select`` hash: ticked items whose parent is not ticked, per type, ids sorted."""
        out: dict[str, list[int]] = {}
        for key in self.ticked:
            parent = self.items[key].parent
            if parent is not None and parent in self.ticked:
                continue
            out.setdefault(key[0], []).append(key[1])
        return {t: sorted(out[t]) for t in ORDER if t in out}

"""A context's folder tree as an importer meets its paths: the one way every importer (course
folders, cartridges, QTI zips) makes Canvas's folders, parents first under the root folder."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from ..model import Folder
from ..store import ContextFiles

#: Canvas's name for the root folder of a course's files.
COURSE_ROOT = "course files"


class FolderTree:
    """``tree(rel)`` is the id of folder ``rel`` ("" is the root) in ``files``, made with its
    parents when first met; ``attrs(rel)`` gives a folder's other fields (hidden, locked, dates)."""

    def __init__(
        self,
        files: ContextFiles,
        ids: Callable[[str], int],
        root_name: str = COURSE_ROOT,
        attrs: Callable[[str], dict[str, Any]] | None = None,
    ):
        self.files, self.ids, self.root_name = files, ids, root_name
        self.attrs = attrs or (lambda rel: {})
        self.by_path: dict[str, int] = {}
        self("")

    def __call__(self, rel: str) -> int:
        if rel in self.by_path:
            return self.by_path[rel]
        parent = self(posixpath.dirname(rel)) if rel else None
        fid = self.ids("folders")
        self.files.folders.append(
            Folder(
                id=fid,
                parent_id=parent,
                name=posixpath.basename(rel) if rel else self.root_name,
                full_name=f"{self.root_name}/{rel}" if rel else self.root_name,
                position=len(self.files.folders),
                **self.attrs(rel),
            )
        )
        self.by_path[rel] = fid
        return fid

"""Turning a package's links into the library's own: the inverse of the cartridge writer's rewriter.

A cartridge body links with tokens (``$IMS-CC-FILEBASE$/docs/a.pdf``, ``$WIKI_REFERENCE$/pages/<mig>``,
``$CANVAS_OBJECT_REFERENCE$/assignments/<mig>``, ``$CANVAS_COURSE_REFERENCE$/modules/items/<mig>``)
or, in the thinner cartridges of other systems, with paths relative to the HTML file.  Each becomes
the Canvas URL a course body holds in the library (``/courses/C/files/F/preview``,
``/courses/C/pages/slug``, ``/courses/C/assignments/A``…), so that a later export writes the token
back.  A link that points at nothing the package holds is kept as it was, with a warning.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ..html_fragments import parse_fragment, serialize_fragment
from ..vocab import CC_COURSE_TOKEN, CC_FILEBASE, CC_OBJECT_TOKEN, CC_TOKENS, CC_WIKI_TOKEN

#: Attributes that can hold a link (as the exporters read them).
LINK_ATTRS = ("href", "src", "data", "poster")
WEB_RESOURCES = "web_resources"
_FILEBASE_OLD = "$IMS_CC_FILEBASE$"
#: (token, a spelling of it in a link): as written, URL-encoded, and the underscore spelling of
#: the file base some Canvas versions wrote
_TOKEN_FORMS = tuple(
    (token, form)
    for token in CC_TOKENS
    for spelling in ((token, _FILEBASE_OLD) if token == CC_FILEBASE else (token,))
    for form in (spelling, quote(spelling, safe=""))
)


def _suffix(query: str, fragment: str) -> str:
    return (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")


class LinkMap:
    """What the package's names became in the library, filled while ids are handed out."""

    def __init__(self, course_id: int):
        self.course_id = course_id
        self.files: dict[str, int] = {}  # entry name in the package → file id
        self.pages: dict[str, str] = {}  # migration id or entry name → page slug
        self.objects: dict[str, int] = {}  # migration id → id (assignments, quizzes, topics, modules…)

    @property
    def course(self) -> str:
        return f"/courses/{self.course_id}"

    def html(self, text: str, base_dir: str, where: str, warn: Callable[[str], None]) -> str:
        """``text`` with every link resolved; ``base_dir`` is the folder of the file it came from."""
        if not text or not any(k in text for k in ("href", "src", "data", "poster")):
            return text or ""
        try:
            root = parse_fragment(text)
        except Exception:  # noqa: BLE001 — HTML a parser refuses stays as it was
            return text
        return serialize_fragment(root) if self.rewrite_tree(root, base_dir, where, warn) else text

    def rewrite_tree(self, root, base_dir: str, where: str, warn: Callable[[str], None]) -> bool:
        """Resolve every link below ``root`` (an HTML element) in place; True if one changed."""
        changed = False
        missing: list[str] = []
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            for attr in LINK_ATTRS:
                value = el.get(attr)
                if not value:
                    continue
                try:
                    new = self.link(value.strip(), base_dir, is_src=attr != "href")
                except ValueError:
                    new = None
                if new is None:
                    if self._is_local(value):
                        missing.append(value)
                    continue
                if new != value:
                    el.set(attr, new)
                    changed = True
        for value in dict.fromkeys(missing):
            warn(f"{where}: link '{value[:200]}' points at nothing in the package; kept as it was")
        return changed

    @staticmethod
    def _is_local(value: str) -> bool:
        v = value.strip()
        if not v or v.startswith(("#", "/", "data:", "mailto:", "javascript:")):
            return False
        parts = urlsplit(v)
        return not parts.scheme and not parts.netloc

    def link(self, value: str, base_dir: str, *, is_src: bool) -> str | None:
        """The library link for one href/src, None to keep it (external, fragment, unknown)."""
        if "$" in value or "%24" in value:
            for token, form in _TOKEN_FORMS:
                if value == form or value.startswith(form + "/"):
                    return self._token(token, value[len(form) :].lstrip("/"))
        if not self._is_local(value):
            return None
        parts = urlsplit(value)
        name = posixpath.normpath(posixpath.join(base_dir, unquote(parts.path)))
        fid = self.files.get(name)
        if fid is not None:
            sub = "preview" if is_src else "download?wrap=1"
            return f"{self.course}/files/{fid}/{sub}" + (f"#{parts.fragment}" if parts.fragment else "")
        slug = self.pages.get(name)
        if slug is not None:
            return f"{self.course}/pages/{quote(slug)}" + _suffix("", parts.fragment)
        return None

    def _token(self, token: str, rest: str) -> str | None:
        parts = urlsplit(rest)
        path = unquote(parts.path)
        if token == CC_FILEBASE:
            fid = self.files.get(posixpath.normpath(f"{WEB_RESOURCES}/{path}")) or self.files.get(path)
            if fid is None:
                return None
            sub, query = "preview", []
            for k, v in parse_qsl(parts.query, keep_blank_values=True):
                if k.startswith("canvas_qs_"):
                    query.append((k[len("canvas_qs_") :], v))
                elif k.startswith("canvas_") and v == "1":
                    sub = k[len("canvas_") :]
            return f"{self.course}/files/{fid}/{sub}" + _suffix(urlencode(query), parts.fragment)
        segs = path.split("/")
        if token == CC_WIKI_TOKEN:
            kind = segs[0] if segs[0] in ("pages", "wiki") else "pages"
            key = "/".join(segs[1:]) if len(segs) > 1 else segs[0]
            slug = self.pages.get(key, key)
            return f"{self.course}/{kind}/{quote(slug)}" + _suffix(parts.query, parts.fragment)
        if token == CC_OBJECT_TOKEN and len(segs) >= 2:
            oid = self.objects.get(segs[1])
            if oid is None:
                return None
            tail = "/".join(segs[2:])
            query = self._module_item_query(parts.query)
            return (
                f"{self.course}/{segs[0]}/{oid}"
                + (f"/{tail}" if tail else "")
                + _suffix(query, parts.fragment)
            )
        if token == CC_COURSE_TOKEN:
            if len(segs) >= 3 and segs[0] == "modules" and segs[1] == "items":
                oid = self.objects.get(segs[2])
                if oid is None:
                    return None
                return f"{self.course}/modules/items/{oid}" + _suffix(parts.query, parts.fragment)
            tail = path.strip("/")
            return self.course + (f"/{tail}" if tail else "") + _suffix(parts.query, parts.fragment)
        return None

    def _module_item_query(self, query: str) -> str:
        if "module_item_id=" not in query:
            return query
        pairs = [
            (k, str(self.objects.get(v, v)) if k == "module_item_id" else v)
            for k, v in parse_qsl(query, keep_blank_values=True)
        ]
        return urlencode(pairs)

"""A cartridge's module structure: from Canvas's ``module_meta.xml`` when it has one, else from
its organization (Canvas's ``lib/cc/importer/standard/org_converter.rb``: the root's children are
modules, deeper containers indented sub-headers).

``module_meta.xml`` of a 50,000-page course is ~20 MB of XML: it is streamed twice, never held.
The first pass, before any body is read, hands out the ids of its modules and items (a body may
link to a module item); the second, once every page, assignment, topic and quiz is kept, writes
each module with its items as it is read.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from dataclasses import replace

from lxml import etree

from ..model import Module, ModuleItem, ModuleItemType
from ..store import CourseBundle
from .archive import Entry
from .manifest import OrgItem, Resource
from .xmltools import (
    XmlProblem,
    child,
    descendants,
    flat,
    local,
    parse_xml_stream,
    text_bool,
    text_datetime,
    text_int,
    text_of,
)

#: module_meta.xml content_type → the item type the library keeps it as
ITEM_TYPES = {t.value: t for t in ModuleItemType}
LTI_ITEM = "ContextExternalTool"
#: resource kind → module item type of an item pointing at it
KIND_ITEMS = {
    "page": ModuleItemType.PAGE,
    "file": ModuleItemType.FILE,
    "assignment": ModuleItemType.ASSIGNMENT,
    "topic": ModuleItemType.DISCUSSION,
    "quiz": ModuleItemType.QUIZ,
    "weblink": ModuleItemType.EXTERNAL_URL,
    "lti": ModuleItemType.EXTERNAL_URL,
}


class ModuleReader:
    """The module part of :class:`~.cartridge.CartridgeReader` (a mixin: it reads through the
    reader's archive, links, ids and report)."""

    def _allocate_module(self, event: str, el: etree._Element, module: etree._Element | None) -> None:
        """The ids of module_meta's modules and items, as each opens."""
        if event == "module":
            self.links.objects[el.get("identifier", "")] = self.ids("modules")
        elif event == "item":
            self.links.objects[el.get("identifier", "")] = self.ids("module_items")

    def _module_meta(
        self,
        entry: Entry,
        take: Callable[[str, etree._Element, etree._Element | None], None],
        warn: bool = True,
    ) -> bool:
        """Stream module_meta.xml: ``take("module", el, None)`` and ``take("item", el, module)`` as
        each opens, ``take("item_end", …)`` and ``take("module_end", …)`` as each closes, then
        dropped from the tree.  False (with a warning) when it cannot be read; ``warn=False`` on the
        second pass, whose warnings the first gave."""

        def level(el: etree._Element) -> str | None:
            """'module' for a <module> of the root, 'item' for an <item> of its <items>."""
            parent = el.getparent()
            name = local(el)
            if name == "module" and parent is not None and parent.getparent() is None:
                return "module"
            if name == "item" and parent is not None and local(parent) == "items":
                module = parent.getparent()
                if module is not None and local(module) == "module" and module.getparent() is not None:
                    if module.getparent().getparent() is None:
                        return "item"
            return None

        def start(el: etree._Element) -> None:
            what = level(el)
            if what is not None:
                take(what, el, el.getparent().getparent() if what == "item" else None)

        def end(el: etree._Element) -> bool:
            what = level(el)
            if what is None:
                return False
            take(what + "_end", el, el.getparent().getparent() if what == "item" else None)
            return True

        try:
            with self.ar.open(entry) as stream:
                parse_xml_stream(
                    stream,
                    (lambda m: self.warn(m, "context_modules")) if warn else None,
                    entry.name,
                    prune=end,
                    start=start,
                    tags=("module", "item"),
                )
        except (XmlProblem, zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as err:
            self.warn(f"module_meta.xml: '{self.name(entry)}' cannot be read: {err}", "context_modules")
            return False
        return True

    # ------------------------------------------------------------------ modules
    def _target(self, ref: str | None, where: str) -> tuple[str, int | None, Resource | None] | None:
        """(kind, id, resource) an item's identifierref names; None (with a warning) if nothing."""
        if not ref:
            return None
        r = self.resources.get(ref)
        if r is None:
            self.warn(
                f"{where}: it refers to resource '{ref}', which the manifest does not have; dropped",
                "content_tags",
            )
            return None
        if r.ident in self.res_ids:
            kind, rid = self.res_ids[r.ident]
            kept = self._kept().get(kind, {})
            if rid not in kept:
                self.warn(f"{where}: the {kind} it points at was not kept; dropped", "content_tags")
                return None
            return kind, rid, r
        if r.kind in ("weblink", "lti"):
            return r.kind, None, r
        self.warn(
            f"{where}: it points at resource '{ref}' ({r.kind}), which the library cannot link a module item to; dropped",
            "content_tags",
        )
        return None

    def _kept(self) -> dict[str, dict[int, str]]:
        """kind → id → title of what the course keeps."""
        return self.kept

    def _title_of(self, kind: str, oid: int | None) -> str:
        return self._kept().get(kind, {}).get(oid, "") if oid is not None else ""

    def _link_url(self, r: Resource) -> tuple[str, bool]:
        """(URL, opens in a new tab) of a web link or an LTI link."""
        root = self.xml(r.files[0] if r.files else r.href, f"link '{r.ident}'", "content_tags")
        if root is None:
            return "", False
        if r.kind == "weblink":
            url = child(root, "url")
            if url is None:
                return "", False
            return (url.get("href") or "").strip(), (url.get("target") or "").strip() == "_blank"
        if not r.title:
            r.title = text_of(root, "title").strip()
        return (text_of(root, "secure_launch_url") or text_of(root, "launch_url")).strip(), False

    def _modules(self) -> None:
        """Write the modules, one at a time: from module_meta.xml, else from the organization."""
        used: dict[str, int] = {}
        if self.module_meta is not None:
            self._from_module_meta(self.module_meta, used)
        else:
            for module in self._from_organization(used):
                self._write_module(module)
        for ref, n in used.items():
            if n > 1:
                self.warn(
                    f"resource '{ref}' is used by {n} module items; each of them points at it", "content_tags"
                )
        for r in self.resources.values():
            if r.kind in ("weblink", "lti") and r.ident not in used and r.ident not in self.links_in_org:
                self.warn(
                    f"{'web link' if r.kind == 'weblink' else 'LTI link'} '{r.title or r.ident}' is in no module; "
                    "the library keeps links only as module items: not kept",
                    "content_tags",
                )

    def _write_module(self, module: Module) -> None:
        self.library.content.insert_content(CourseBundle(course=self.course, modules=[module]))

    def _item(
        self,
        mid: int,
        iid: int,
        title: str,
        ref: str | None,
        declared: str | None,
        f: Mapping[str, str],
        where: str,
        used: dict[str, int],
    ) -> ModuleItem | None:
        self.report.count("content_tags").read += 1
        if declared == "ContextModuleSubHeader" or (declared is None and not ref):
            ctype, cid, url = ModuleItemType.SUB_HEADER, None, ""
        elif declared in ("ExternalUrl", LTI_ITEM) and (f.get("url") or "").strip():
            ctype, cid, url = ModuleItemType.EXTERNAL_URL, None, f["url"].strip()
            if declared == LTI_ITEM:
                self.warn(f"{where}: an LTI tool link, kept as an external URL", "content_tags")
            if ref:
                used[ref] = used.get(ref, 0) + 1
        else:
            target = self._target(ref, where)
            if target is None:
                if not ref and declared:
                    self.warn(f"{where}: a {declared} item that points at nothing; dropped", "content_tags")
                return None
            used[ref] = used.get(ref, 0) + 1
            kind, cid, r = target
            ctype = KIND_ITEMS[kind]
            url = ""
            title = title or self._title_of(kind, cid)
            if kind in ("weblink", "lti"):
                url, new_tab = self._link_url(r)
                f = {**f, "new_tab": "true"} if new_tab else f
                title = title or r.title
                if kind == "lti":
                    self.warn(f"{where}: an LTI link, kept as an external URL", "content_tags")
                if not url:
                    self.warn(f"{where}: the link has no URL; dropped", "content_tags")
                    return None
            elif declared in ITEM_TYPES and ITEM_TYPES[declared] != ctype:
                self.warn(
                    f"{where}: declared {declared} but points at a {kind}; kept as a {kind}", "content_tags"
                )
        if not title:
            title = url or "Untitled"
            self.warn(f"{where}: no title; called it '{title}'", "content_tags")
        self.report.count("content_tags").kept += 1
        return ModuleItem(
            id=iid,
            module_id=mid,
            content_type=ctype,
            title=title,
            content_id=cid,
            url=url,
            position=0,
            indent=max(0, text_int(f.get("indent"))),
            published=(f.get("workflow_state") or "active") != "unpublished",
            new_tab=text_bool(f.get("new_tab")),
        )

    def _from_module_meta(self, entry: Entry, used: dict[str, int]) -> None:
        items: list[ModuleItem] = []
        count = self.report.count("context_modules")

        def take(event: str, el: etree._Element, module: etree._Element | None) -> None:
            if event == "module":
                count.read += 1
                items.clear()
            elif event == "item_end":
                assert module is not None
                itf = flat(el)
                title = itf.get("title", "").strip()
                name = text_of(module, "title").strip() or f"Module {count.read}"
                item = self._item(
                    self.links.objects[module.get("identifier", "")],
                    self.links.objects[el.get("identifier", "")],
                    title,
                    itf.get("identifierref") or None,
                    itf.get("content_type") or None,
                    itf,
                    f"module '{name}' item '{title or el.get('identifier', '')}'",
                    used,
                )
                if item is not None:
                    items.append(replace(item, position=len(items) + 1))
            elif event == "module_end":
                f = flat(el)
                prereqs = tuple(
                    self.links.objects[p]
                    for p in (
                        text_of(x, "identifierref")
                        for x in descendants(child(el, "prerequisites"), "prerequisite")
                    )
                    if p in self.links.objects
                )
                self._write_module(
                    Module(
                        id=self.links.objects[el.get("identifier", "")],
                        name=f.get("title", "").strip() or f"Module {count.read}",
                        position=text_int(f.get("position"), count.read),
                        published=(f.get("workflow_state") or "active") != "unpublished",
                        unlock_at=text_datetime(f.get("unlock_at")),
                        require_sequential_progress=text_bool(f.get("require_sequential_progress")),
                        prerequisite_ids=prereqs,
                        items=tuple(items),
                    )
                )
                count.kept += 1

        self._module_meta(entry, take, warn=False)

    def _from_organization(self, used: dict[str, int]) -> list[Module]:
        """Canvas's org_converter: the root's children are modules; a container below them is a
        sub-header, its items indented one more."""
        org = self.manifest.organizations[0] if self.manifest.organizations else None
        if org is None:
            if any(r.kind in KIND_ITEMS for r in self.resources.values()):
                self.warn(
                    "the package has no organization: its content is kept without modules", "context_modules"
                )
            return []
        tops = org.items
        # a rooted hierarchy has one root item whose children are the modules
        if len(tops) == 1 and not tops[0].ref:
            tops = tops[0].items
        modules: list[Module] = []
        loose: list[OrgItem] = []  # leaves at the top: one module of their own
        for top in tops:
            if top.ref:
                loose.append(top)
                continue
            modules.append(self._org_module(top, len(modules) + 1, used))
        if loose:
            holder = OrgItem("", None, org.title or "Course content", loose)
            modules.append(self._org_module(holder, len(modules) + 1, used))
        return modules

    def _org_module(self, node: OrgItem, position: int, used: dict[str, int]) -> Module:
        mid = self.ids("modules")
        name = node.title
        self.report.count("context_modules").read += 1
        if not name:
            name = f"Module {position}"
            self.warn(f"module '{node.ident}' has no title; called it '{name}'", "context_modules")
        items: list[ModuleItem] = []

        def walk(parent: OrgItem, indent: int) -> None:
            for it in parent.items:
                title = it.title
                ref = it.ref
                if not ref and it.items:
                    header = self._item(
                        mid,
                        self.ids("module_items"),
                        title or "Section",
                        None,
                        "ContextModuleSubHeader",
                        {"indent": str(indent)},
                        f"module '{name}' heading '{title}'",
                        used,
                    )
                    if header is not None:
                        items.append(replace(header, position=len(items) + 1))
                    walk(it, indent + 1)
                    continue
                if ref and ref in self.resources and not self.resources[ref].title:
                    self.resources[ref].title = title
                item = self._item(
                    mid,
                    self.ids("module_items"),
                    title,
                    ref,
                    None,
                    {"indent": str(indent)},
                    f"module '{name}' item '{title or it.ident}'",
                    used,
                )
                if item is not None:
                    items.append(replace(item, position=len(items) + 1))

        walk(node, 0)
        self.report.count("context_modules").kept += 1
        return Module(id=mid, name=name, position=position, items=tuple(items))

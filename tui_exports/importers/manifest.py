"""A cartridge's ``imsmanifest.xml``, read as a stream: its resources and its organizations.

The manifest of a 50,000-page course is ~20 MB of XML.  It is parsed a chunk at a time, and
each ``<resource>`` and each organization ``<item>`` is turned into a small record
(:class:`Resource`, :class:`OrgItem`) and dropped from the tree as the parser passes it; what
is left of the tree is the root and its ``<metadata>``.  Identifiers are interned, so a
resource, the items naming it and the module items of ``module_meta.xml`` share one string.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from lxml import etree

from .xmltools import child, children, descendants, local, parse_xml_stream, text_of

SETTINGS = "course_settings/"
HTML_SUFFIXES = (".html", ".htm", ".xhtml")


@dataclass(slots=True)
class Resource:
    ident: str
    type: str
    href: str | None
    files: tuple[str, ...]
    deps: tuple[str, ...]
    intendeduse: str | None
    variant_of: str | None = None  # Canvas 1.3's <cpx:variant>: the resource this one stands in for
    instructors_only: bool = False  # LOM intendedEndUserRole Instructor: a locked file
    kind: str = "unknown"
    title: str = ""  # from the organization, when an item names it

    def names(self) -> list[str]:
        """Its href, then its files."""
        return ([self.href] if self.href else []) + list(self.files)

    @property
    def main(self) -> str | None:
        """Its href, else its first file."""
        return self.href or (self.files[0] if self.files else None)


@dataclass(slots=True)
class OrgItem:
    """An ``<item>`` of an organization (or the ``<organization>`` itself, at the top)."""

    ident: str
    ref: str | None
    title: str
    items: list[OrgItem] | tuple[()] = ()

    def walk(self) -> Iterator[OrgItem]:
        """Every item below this one, in document order."""
        for it in self.items:
            yield it
            yield from it.walk()


@dataclass
class Manifest:
    root: etree._Element  # the <manifest> with its <metadata>, without resources and organizations
    resources: dict[str, Resource]
    organizations: list[OrgItem]  # one per <organization>, its items below it

    def items(self) -> Iterator[OrgItem]:
        """Every organization item, in document order."""
        for org in self.organizations:
            yield from org.walk()


_EMPTY: tuple[str, ...] = ()


def read_resource(res: etree._Element) -> Resource:
    """One ``<resource>`` as the reader needs it (the element itself is not kept)."""
    variant = child(res, "variant")
    href = res.get("href")
    files = tuple(
        href if f.get("href") == href else f.get("href") for f in children(res, "file") if f.get("href")
    )
    deps = tuple(sys.intern(d.get("identifierref", "")) for d in children(res, "dependency"))
    return Resource(
        sys.intern(res.get("identifier", "")),
        sys.intern((res.get("type") or "").strip()),
        href,
        files or _EMPTY,
        deps or _EMPTY,
        res.get("intendeduse"),
        variant_of=variant.get("identifierref", "") if variant is not None else None,
        instructors_only=any(
            (text_of(role, "value") or "").strip().lower() == "instructor"
            for role in descendants(child(res, "metadata"), "intendedEndUserRole")
        ),
    )


def read_manifest(stream: BinaryIO, warn) -> Manifest:
    """The manifest's resources by identifier (a repeated identifier is read too, under
    ``ident#2``) and its organizations; raises ``XmlProblem`` for a manifest that is not XML."""
    resources: dict[str, Resource] = {}
    organizations: list[OrgItem] = []
    open_items: list[list[OrgItem]] = []  # the items read so far below each open item / organization
    depth = 0  # inside <organizations>

    def start(el: etree._Element) -> None:
        nonlocal depth
        name = local(el)
        if name == "organizations":
            depth += 1
        elif depth and name in ("organization", "item"):
            open_items.append([])

    def take(el: etree._Element) -> bool:
        nonlocal depth
        name = local(el)
        if name == "resource":
            r = read_resource(el)
            if r.ident in resources:  # a repeated identifier: module items name the first one
                n = 2
                while f"{r.ident}#{n}" in resources:
                    n += 1
                warn(
                    f"resource identifier '{r.ident}' is used again (by '{r.href or r.ident}'); both are read"
                )
                r.ident = f"{r.ident}#{n}"
            resources[r.ident] = r
            return True
        if not depth:
            return False
        if name == "organizations":
            depth -= 1
            return False
        if name in ("organization", "item") and open_items:
            below = open_items.pop()
            ref = el.get("identifierref")
            item = OrgItem(
                sys.intern(el.get("identifier", "")),
                sys.intern(ref) if ref else None,
                text_of(el, "title").strip(),
                below or (),  # most items hold none: no list of their own
            )
            if name == "organization":
                organizations.append(item)
            elif open_items:
                open_items[-1].append(item)
            return True
        return False

    root = parse_xml_stream(
        stream,
        warn,
        "imsmanifest.xml",
        prune=take,
        start=start,
        tags=("organizations", "organization", "item", "resource"),
    )
    return Manifest(root, resources, organizations)


def cc_version(manifest: etree._Element) -> str:
    """ "1.3.0", "1.1.0"… from the schema version, else from the namespace."""
    declared = text_of(child(manifest, "metadata"), "schemaversion").strip()
    if declared:
        return declared
    ns = (etree.QName(manifest).namespace or "").strip()
    m = re.search(r"imsccv(\d)p(\d)", ns)
    return f"{m.group(1)}.{m.group(2)}.0" if m else "1.0.0"


def is_qti_only(resources: Mapping[str, Resource]) -> bool:
    """A plain IMS content package of QTI (Canvas's quiz export, Respondus, Blackboard…), not a
    cartridge (the QTI reader's rule)."""
    from .qti.package import only_qti_resources

    return only_qti_resources([r.type for r in resources.values()])


def classify(manifest: Manifest, is_canvas: bool) -> None:
    """Give every resource its kind (page, file, assignment, quiz…) and the title the
    organization gives it."""
    res = manifest.resources
    for it in manifest.items():
        r = res.get(it.ref or "")
        if r is not None and not r.title:
            r.title = it.title
    depended = {d for r in res.values() for d in r.deps}
    for r in res.values():
        t = r.type.lower()
        href = r.main
        files = r.files
        if r.intendeduse == "syllabus" or href == SETTINGS + "syllabus.html":
            r.kind = "syllabus"
        elif href and href.startswith(SETTINGS):
            r.kind = "settings"
        elif r.variant_of is not None:
            r.kind = "fallback"
        elif t.startswith("imsdt"):
            r.kind = "topic"
        elif t.startswith("imswl"):
            r.kind = "weblink"
        elif t.startswith("imsbasiclti"):
            r.kind = "lti"
        elif t == "assignment_xmlv1p0" or any(f.endswith("/assignment_settings.xml") for f in files):
            r.kind = "assignment"
        elif t.startswith("imsqti") and "question-bank" in t:
            r.kind = "bank"
        elif t.startswith("imsqti"):
            r.kind = "quiz"
        elif any(f.endswith("assessment_meta.xml") for f in files):
            r.kind = "quiz_meta" if r.ident in depended else "quiz"
        elif href and href.startswith("non_cc_assessments/"):
            r.kind = "bank"
        elif t == "webcontent" or t.startswith("associatedcontent"):
            if r.ident in depended and t.startswith("associatedcontent"):
                r.kind = "meta"
            elif href and (
                href.startswith("wiki_content/")
                # other systems' HTML resources are pages wherever they sit; Canvas's own
                # pages are in wiki_content/ and its web_resources/ HTML are course files
                or (href.lower().endswith(HTML_SUFFIXES) and not is_canvas)
            ):
                r.kind = "page"
            elif t == "webcontent":
                r.kind = "file"
            else:
                r.kind = "unknown"
        else:
            r.kind = "unknown"

"""An ``imsmanifest.xml`` under construction, shared by the CC and QTI packages.

Resources are appended as the exporter writes their files, so a skipped item simply
never gets one; problems are kept as XML comments at the end, as Canvas does.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from .xmlutil import Builder, clean


class Manifest:
    def __init__(self, namespace: str, identifier: str, nsmap: dict[str | None, str], schema_location: str):
        self.b = Builder(namespace)
        self.root = self.b.root("manifest", nsmap=nsmap, schema_location=schema_location, identifier=identifier)
        self.metadata = self.b.sub(self.root, "metadata")
        self.organizations = self.b.sub(self.root, "organizations")
        self.resources = self.b.sub(self.root, "resources")
        self.identifiers: set[str] = set()

    def resource(self, identifier: str, type_: str, href: str | None = None, files: Iterable[str] = (),
                 dependencies: Iterable[str] = (), intendeduse: str | None = None) -> etree._Element:
        """Add a ``<resource>``; ``href`` is also listed as its first ``<file>``."""
        res = self.b.sub(self.resources, "resource", identifier=identifier, type=type_)
        if href:
            res.set("href", href)
        if intendeduse:
            res.set("intendeduse", intendeduse)
        listed: list[str] = []
        for f in ([href] if href else []) + list(files):
            if f not in listed:
                listed.append(f)
                self.b.sub(res, "file", href=f)
        for dep in dependencies:
            self.b.sub(res, "dependency", identifierref=dep)
        self.identifiers.add(identifier)
        return res

    def resource_metadata(self, res: etree._Element) -> etree._Element:
        """The ``<metadata>`` of a resource (it must come before its files)."""
        md = etree.Element(self.b.tag("metadata"))
        res.insert(0, md)
        return md

    def add_comments(self, messages: Iterable[str]) -> None:
        for message in messages:
            # "--" may not appear inside an XML comment
            text = clean(message).replace("--", "- -").rstrip("-")
            self.root.append(etree.Comment(f" {text} "))

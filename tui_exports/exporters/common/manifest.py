"""An ``imsmanifest.xml`` under construction, shared by the CC and QTI packages.

Resources are added as the exporter writes their files, so a skipped item simply
never gets one; problems are kept as XML comments at the end, as Canvas does.  Each
resource is serialised as soon as it is made and spooled to a temporary file, so a
course of thousands of items never holds its manifest in memory; :meth:`Manifest.write`
puts the document together at the end, when the organization can be pruned to the
resources that made it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path

from lxml import etree

from .digests import DigestSet
from .package import CHUNK, PackageWriter
from .xmlutil import Builder, TextBuilder, child_xml, clean, render_child


class Manifest:
    def __init__(
        self,
        namespace: str,
        identifier: str,
        nsmap: dict[str | None, str],
        schema_location: str,
        spool_dir: Path | None = None,
    ):
        self.b = Builder(namespace)
        self.root = self.b.root(
            "manifest", nsmap=nsmap, schema_location=schema_location, identifier=identifier
        )
        self.metadata = self.b.sub(self.root, "metadata")
        self.organizations = self.b.sub(self.root, "organizations")
        self.resources = self.b.sub(self.root, "resources")
        self._text = TextBuilder(namespace)  # the resources' own namespace: the manifest's default
        #: the identifiers of the resources written (as digests: flat in memory however many)
        self.identifiers = DigestSet()
        self._spool = tempfile.TemporaryFile(dir=spool_dir)
        self._spool_error: OSError | None = None

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self._spool.close()

    def resource(
        self,
        identifier: str,
        type_: str,
        href: str | None = None,
        files: Iterable[str] = (),
        dependencies: Iterable[str] = (),
        intendeduse: str | None = None,
        metadata: Callable[[etree._Element], object] | None = None,
    ) -> None:
        """Add a ``<resource>``; ``href`` is also listed as its first ``<file>``.  ``metadata``
        fills the resource's ``<metadata>`` (its namespaces must be the manifest's).

        Written as text (:class:`~.xmlutil.TextBuilder`, the same bytes): a course's resources
        are as many as its items; as an lxml element when ``metadata`` fills one in, or when
        ``href`` or ``intendeduse`` holds a character XML cannot (lxml refuses it: the item fails)."""
        listed = list(dict.fromkeys(([href] if href else []) + list(files)))
        if metadata is None and all(v is None or clean(v) == v for v in (href, intendeduse)):
            t = self._text
            el = t.element(
                "resource",
                identifier=identifier,
                type=type_,
                href=href or None,
                intendeduse=intendeduse or None,
            )
            for f in listed:
                t.sub(el, "file", href=f)
            for dep in dependencies:
                t.sub(el, "dependency", identifierref=dep)
            self._spooled(identifier, render_child(el, 2))  # <manifest><resources><resource>
            return
        res = self.b.sub(self.resources, "resource", identifier=identifier, type=type_)
        try:
            if href:
                res.set("href", href)
            if intendeduse:
                res.set("intendeduse", intendeduse)
            if metadata is not None:
                metadata(self.b.sub(res, "metadata"))
            for f in listed:
                self.b.sub(res, "file", href=f)
            for dep in dependencies:
                self.b.sub(res, "dependency", identifierref=dep)
            data = child_xml(res)
        finally:  # a resource that failed to build leaves nothing behind
            self.resources.remove(res)
        self._spooled(identifier, data)

    def _spooled(self, identifier: str, data: bytes) -> None:
        try:
            self._spool.write(data)
        except OSError as e:  # a resource half written: the manifest cannot be trusted any more
            self._spool_error = e
            raise
        self.identifiers.add(identifier)

    def add_comments(self, messages: Iterable[str]) -> None:
        for message in messages:
            # "--" may not appear inside an XML comment
            text = clean(message).replace("--", "- -").rstrip("-")
            self.root.append(etree.Comment(f" {text} "))

    def write(
        self,
        pkg: PackageWriter,
        name: str,
        fills: Mapping[etree._Element, Iterable[etree._Element | bytes]] | None = None,
    ) -> str:
        """Write the manifest at ``name``: the spooled resources, and the children of other
        empty elements (an organization) from ``fills``, as :meth:`PackageWriter.write_xml_streamed`."""
        if self._spool_error is not None:
            raise OSError(f"the manifest's resources could not be spooled: {self._spool_error}")
        self._spool.seek(0)
        resources = iter(partial(self._spool.read, CHUNK), b"")
        return pkg.write_xml_streamed(name, self.root, {**(fills or {}), self.resources: resources})

"""Package checks shared by the exporter tests, built on ``../shared/schemas``.

The vendored tools are imported (schemas load once per process) rather than run per
package; a few tests also run them as the command-line tools they are.
"""

from __future__ import annotations

import functools
import importlib
import io
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import lxml.html
from lxml import etree

from tui_exports.exporters.qti.items import QTI_NS

PARSER = etree.XMLParser(no_network=True, resolve_entities=False)
CC_NS = {
    "1.1.0": "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1",
    "1.3.0": "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1",
}
MANIFEST_XSD = {
    "1.1.0": "cc_v1p1_moodle/ccv1p1_imscp_v1p2_v1p0.xsd",
    "1.3.0": "cc_v1p3/ccv1p3_imscp_v1p2_v1p0.xsd",
}
FULL_QTI_XSD = "cc_v1p0_moodle/domainProfile_4/ims_qtiasiv1p2.xsd"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"


@functools.cache
def tools(schemas_dir: str):
    """The vendored ``validate_cc``, ``load_schemas`` and ``cc_schematron`` modules."""
    if schemas_dir not in sys.path:
        sys.path.insert(0, schemas_dir)
    return (
        importlib.import_module("validate_cc"),
        importlib.import_module("load_schemas"),
        importlib.import_module("cc_schematron"),
    )


@functools.cache
def xsd(schemas_dir: str, rel: str) -> etree.XMLSchema:
    _, load_schemas, _ = tools(schemas_dir)
    return load_schemas.load(str(Path(schemas_dir) / rel))[0]


@functools.cache
def schematron(schemas_dir: str, version: str):
    _, _, cc_schematron = tools(schemas_dir)
    return cc_schematron.schematron_from_xsd(str(Path(schemas_dir) / MANIFEST_XSD[version]))


def _schema_errors(schema: etree.XMLSchema, doc: etree._ElementTree, name: str) -> list[str]:
    if schema.validate(doc):
        return []
    return [f"{name}:{e.line}: {e.message}" for e in schema.error_log]


def zip_errors(path: Path) -> list[str]:
    """Readable by zipfile and ``unzip -t``; names relative, unique and free of ``..``."""
    errors = []
    with zipfile.ZipFile(path) as z:
        bad = z.testzip()
        if bad:
            errors.append(f"zipfile: bad CRC in {bad}")
        names = z.namelist()
    if len(names) != len(set(names)):
        errors.append("duplicate entry names")
    lowered = {n.lower() for n in names}
    if len(lowered) != len(names):
        errors.append("entry names differ only by case")
    for n in names:  # a file named like a folder cannot be unpacked beside it
        parts = n.lower().split("/")
        errors += [
            f"{n!r} is inside {'/'.join(parts[:i])!r}, which is a file"
            for i in range(1, len(parts))
            if "/".join(parts[:i]) in lowered
        ]
    for n in names:
        parts = PurePosixPath(n).parts
        if n.startswith("/") or "\\" in n or ".." in parts or "." in parts or re.match(r"^[A-Za-z]:", n):
            errors.append(f"unsafe entry name {n!r}")
    if shutil.which("unzip"):
        run = subprocess.run(["unzip", "-tqq", str(path)], capture_output=True)
        if run.returncode != 0:
            errors.append(
                f"unzip -t failed: {run.stdout.decode(errors='replace')} {run.stderr.decode(errors='replace')}"
            )
    return errors


def reference_errors(manifest: etree._Element, names: list[str]) -> list[str]:
    """Every href exists, every entry is referenced, every identifierref resolves."""
    ns = etree.QName(manifest).namespace
    hrefs = set()
    for res in manifest.iter(f"{{{ns}}}resource"):
        if res.get("href"):
            hrefs.add(res.get("href"))
        hrefs |= {f.get("href") for f in res.iter(f"{{{ns}}}file")}
    entries = set(names) - {"imsmanifest.xml"}
    errors = [f"manifest names missing entry {h!r}" for h in sorted(hrefs - entries)]
    errors += [f"entry {n!r} is not referenced by the manifest" for n in sorted(entries - hrefs)]
    ids = {r.get("identifier") for r in manifest.iter(f"{{{ns}}}resource")}
    for el in manifest.iter(f"{{{ns}}}item", f"{{{ns}}}dependency"):
        ref = el.get("identifierref")
        if ref is not None and ref not in ids:
            errors.append(f"identifierref {ref!r} names no resource")
    return errors


def check_cc(path: Path, shared: Path, version: str) -> list[str]:
    """All the validity rules issue 3 promises for one ``.imscc``; returns the problems found."""
    schemas = str(shared / "schemas")
    validate_cc, _, _ = tools(schemas)
    errors = zip_errors(path)
    with zipfile.ZipFile(path) as z:
        names, manifest_doc = z.namelist(), etree.parse(io.BytesIO(z.read("imsmanifest.xml")), PARSER)
        manifest = manifest_doc.getroot()
        if etree.QName(manifest).namespace != CC_NS[version]:
            errors.append(f"manifest namespace {etree.QName(manifest).namespace} is not CC {version}")
        declared = manifest.findtext(f"{{{CC_NS[version]}}}metadata/{{{CC_NS[version]}}}schemaversion")
        if declared != version:
            errors.append(f"schemaversion {declared!r} != {version}")
        errors += _schema_errors(xsd(schemas, MANIFEST_XSD[version]), manifest_doc, "imsmanifest.xml")
        sch = schematron(schemas, version)
        if not sch.validate(manifest_doc):
            fails = sch.validation_report.findall(".//{http://purl.oclc.org/dsdl/svrl}failed-assert")
            errors += ["schematron: " + " ".join((f.findtext("{*}text") or "").split()) for f in fails]
        errors += reference_errors(manifest, names)
        if version == "1.3.0":
            errors += _cc13_errors(z.read("imsmanifest.xml"), manifest)
        for name in names:
            data = z.read(name)
            if name.endswith((".xml", ".qti")):
                try:
                    doc = etree.parse(io.BytesIO(data), PARSER)
                except etree.XMLSyntaxError as e:
                    errors.append(f"{name}: not well-formed: {e}")
                    continue
                ns = etree.QName(doc.getroot()).namespace
                if name == "imsmanifest.xml":
                    continue
                if ns == QTI_NS:
                    rel = FULL_QTI_XSD if name.startswith("non_cc_assessments/") else None
                    schema = xsd(schemas, rel) if rel else validate_cc.schema_for(ns)
                    errors += _schema_errors(schema, doc, name)
                elif (schema := validate_cc.schema_for(ns)) is not None:
                    errors += _schema_errors(schema, doc, name)
            elif name.endswith(".html"):
                try:
                    lxml.html.document_fromstring(data)
                except Exception as e:  # noqa: BLE001
                    errors.append(f"{name}: HTML does not parse: {e}")
    return errors


def _cc13_errors(raw: bytes, manifest: etree._Element) -> list[str]:
    """CC 1.3 must not borrow 1.1 type strings, cpx:variant, or ids starting with a digit."""
    errors = []
    if b"imscp_extensionv1p2" in raw or b"cpx:" in raw:
        errors.append("CC 1.3 manifest uses the cpx extension")
    for el in manifest.iter():
        if not isinstance(el.tag, str):
            continue
        t = el.get("type") or ""
        if "v1p1" in t or t in ("imsdt_xmlv1p1", "imswl_xmlv1p1", "imsbasiclti_xmlv1p0"):
            errors.append(f"CC 1.1 resource type {t!r} in a CC 1.3 manifest")
        for attr in ("identifier", "identifierref"):
            v = el.get(attr)
            if v is not None and (not v or v[0].isdigit()):
                errors.append(f"{attr} {v!r} starts with a digit")
    return errors


def check_qti_zip(path: Path, shared: Path) -> list[str]:
    """A QTI-only export: plain IMS CP manifest, full QTI 1.2 for every assessment."""
    schemas = str(shared / "schemas")
    validate_cc, _, _ = tools(schemas)
    errors = zip_errors(path)
    with zipfile.ZipFile(path) as z:
        names, manifest_doc = z.namelist(), etree.parse(io.BytesIO(z.read("imsmanifest.xml")), PARSER)
        errors += _schema_errors(validate_cc.schema_for(CP_NS), manifest_doc, "imsmanifest.xml")
        errors += reference_errors(manifest_doc.getroot(), names)
        for name in names:
            if name.endswith(".xml") and name != "imsmanifest.xml":
                doc = etree.parse(io.BytesIO(z.read(name)), PARSER)
                if etree.QName(doc.getroot()).namespace == QTI_NS:
                    errors += _schema_errors(xsd(schemas, FULL_QTI_XSD), doc, name)
    return errors


def run_cli_validators(path: Path, shared: Path, version: str, workdir: Path) -> list[str]:
    """Run ``validate_cc.py`` and ``cc_schematron.py`` as commands on an unpacked package.

    ``non_cc_assessments/`` holds full Canvas QTI, so it is checked with ``--full-qti``
    on its own; everything else against the CC profile.
    """
    schemas = shared / "schemas"
    unpacked, noncc = workdir / "unpacked", workdir / "noncc"
    with zipfile.ZipFile(path) as z:
        z.extractall(unpacked)
    if (unpacked / "non_cc_assessments").exists():
        noncc.mkdir()
        shutil.move(unpacked / "non_cc_assessments", noncc / "non_cc_assessments")
    runs = [
        [str(schemas / "validate_cc.py"), str(unpacked)],
        [str(schemas / "cc_schematron.py"), str(schemas / MANIFEST_XSD[version]), str(path)],
    ]
    if noncc.exists():
        runs.append([str(schemas / "validate_cc.py"), "--full-qti", str(noncc)])
    errors = []
    for args in runs:
        run = subprocess.run([sys.executable, *args], capture_output=True, text=True)
        if run.returncode != 0:
            errors.append(f"{' '.join(args[:1])}: {run.stdout[-2000:]} {run.stderr[-2000:]}")
    return errors


def check_package(path: Path, shared: Path) -> list[str]:
    """Every check for one package, cartridge or QTI zip: each file against its own schema."""
    if zipfile.is_zipfile(path) and "imsmanifest.xml" in zipfile.ZipFile(path).namelist():
        with zipfile.ZipFile(path) as z:
            ns = etree.QName(etree.fromstring(z.read("imsmanifest.xml"), PARSER)).namespace
        version = next((v for v, n in CC_NS.items() if n == ns), None)
        return check_cc(path, shared, version) if version else check_qti_zip(path, shared)
    return [f"{path}: not a zip with an imsmanifest.xml"]


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.exporters.validation PACKAGE... [--shared DIR]``: one line per problem."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("packages", nargs="+", type=Path)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2].parent / "shared")
    args = parser.parse_args(argv)
    if not (args.shared / "schemas" / "validate_cc.py").is_file():
        print(
            f"no schemas in {args.shared}: pass --shared DIR (the folder holding schemas/)", file=sys.stderr
        )
        return 2
    total = 0
    for package in args.packages:
        errors = check_package(package, args.shared)
        total += len(errors)
        for error in errors:
            print(error)
        print(f"# {package.name}: {len(errors)} errors")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())

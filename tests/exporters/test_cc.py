"""Common Cartridge layout, identifiers, progress, cancellation and per-item failures."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from datetime import datetime

import lxml.html
import pytest
from exporter_runs import export_cc
from lxml import etree
from snapshots import module_selection, rich_snapshot, selective
from validation import check_cc

from tui_exports.exporters.cc import export_common_cartridge
from tui_exports.exporters.common.cc_links import CCLinkRewriter
from tui_exports.exporters.common.ids import mig_id
from tui_exports.exporters.common.package import PackageWriter
from tui_exports.model import ExportCanceled, Selection

VERSIONS = ["1.1.0", "1.3.0"]


def md5_id(text: str) -> str:
    return "i" + hashlib.md5(text.encode()).hexdigest()


def manifest_of(path):
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("imsmanifest.xml")), z.namelist()


def resources(manifest) -> dict[str, etree._Element]:
    return {r.get("identifier"): r for r in manifest.iter("{*}resource")}


@pytest.mark.parametrize("version", VERSIONS)
def test_layout_and_resource_types_follow_canvas(blobs, out_dir, version):
    path, _ = export_cc(rich_snapshot(blobs), out_dir, version)
    manifest, names = manifest_of(path)
    v = "v1p1" if version == "1.1.0" else "v1p3"
    lor = f"associatedcontent/imscc_xml{v}/learning-application-resource"
    res = resources(manifest)
    with zipfile.ZipFile(path) as z:
        assert z.read("course_settings/canvas_export.txt").startswith(b"Q: What did the panda say")
    settings = res[mig_id("courses", 42)]
    assert settings.get("type") == lor and settings.get("href") == "course_settings/canvas_export.txt"
    assert {f.get("href") for f in settings.iter("{*}file")} == {
        f"course_settings/{n}"
        for n in (
            "canvas_export.txt",
            "course_settings.xml",
            "module_meta.xml",
            "assignment_groups.xml",
            "rubrics.xml",
            "files_meta.xml",
            "events.xml",
        )
    }
    syllabus = res[mig_id("courses", 42) + "_syllabus"]
    assert (
        syllabus.get("intendeduse") == "syllabus" and syllabus.get("href") == "course_settings/syllabus.html"
    )
    assert res[mig_id("wiki_pages", 100)].get("href") == "wiki_content/front-page.html"
    asg = mig_id("assignments", 600)
    files = [f.get("href") for f in res[asg].iter("{*}file")]
    if version == "1.1.0":
        assert res[asg].get("type") == lor and res[asg].get("href") == f"{asg}/essay-a-b-c.html"
        assert f"{asg}/assignment_settings.xml" in files
    else:
        assert (
            res[asg].get("type") == "assignment_xmlv1p0" and res[asg].get("href") == f"{asg}/assignment.xml"
        )
        assert {f"{asg}/essay-a-b-c.html", f"{asg}/assignment_settings.xml"} <= set(files)
    topic, meta = mig_id("discussion_topics", 800), mig_id("discussion_topics", 800, "meta")
    assert res[topic].get("type") == f"imsdt_xml{v}" and res[topic].get("href") is None
    assert [d.get("identifierref") for d in res[topic].iter("{*}dependency")] == [meta]
    assert res[meta].get("type") == lor and res[meta].get("href") == f"{meta}.xml"
    assert res[mig_id("content_tags", 1007, "weblink")].get("type") == f"imswl_xml{v}"
    quiz, quiz_meta = mig_id("quizzes", 300), mig_id("quizzes", 300, "canvas_")
    assert res[quiz].get("type") == f"imsqti_xmlv1p2/imscc_xml{v}/assessment"
    assert [f.get("href") for f in res[quiz].iter("{*}file")] == [f"{quiz}/assessment_qti.xml"]
    assert [f.get("href") for f in res[quiz_meta].iter("{*}file")] == [
        f"{quiz}/assessment_meta.xml",
        f"non_cc_assessments/{quiz}.xml.qti",
    ]
    assert res[mig_id("attachments", 12)].get("href") == "web_resources/docs/week 1 — Ünï/deep/photo.jpg"
    # no assignment resource for the quiz's or the graded topic's own assignment (no_submittables)
    assert mig_id("assignments", 700) not in res and mig_id("assignments", 701) not in res
    org = manifest.find("{*}organizations/{*}organization")
    assert org.get("identifier") == "org_1" and org.find("{*}item").get("identifier") == "LearningModules"


def test_identifiers_are_canvas_migration_ids(blobs, out_dir):
    path, _ = export_cc(rich_snapshot(blobs), out_dir)
    manifest, _ = manifest_of(path)
    assert manifest.get("identifier") == md5_id("common_cartridge_course_42")
    res = resources(manifest)
    for ident in (
        md5_id("course_42"),
        md5_id("wiki_page_100"),
        md5_id("assignment_600"),
        md5_id("quizzes:quiz_300"),
        md5_id("canvas_quizzes:quiz_300"),
        md5_id("discussion_topic_800"),
        md5_id("metadiscussion_topic_800"),
        md5_id("weblinkcontent_tag_1007"),
        md5_id("attachment_10"),
    ):
        assert ident in res
    items = {i.get("identifier") for i in manifest.iter("{*}item")}
    assert md5_id("context_module_1000") in items and md5_id("content_tag_1002") in items
    assert all(i.startswith("i") and len(i) == 33 for i in res if not i.endswith("_syllabus"))


@pytest.mark.parametrize("version", VERSIONS)
def test_repeated_exports_are_byte_identical(blobs, tmp_path, version):
    outs = []
    for n in range(2):
        out = tmp_path / f"run{n}"
        out.mkdir()
        path, _ = export_cc(rich_snapshot(blobs), out, version)
        with zipfile.ZipFile(path) as z:
            outs.append({name: z.read(name) for name in z.namelist()})
    assert outs[0] == outs[1]


def test_progress_follows_canvas_checkpoints_smoothly(blobs, out_dir, monkeypatch):
    clock = iter(range(10**6))  # a slow clock: the stepper's throttle lets every advance through
    monkeypatch.setattr("tui_exports.exporters.common.package.time.monotonic", lambda: next(clock))
    calls: list[tuple[float, str | None]] = []
    export_cc(rich_snapshot(blobs), out_dir, progress=lambda p, m: calls.append((p, m)))
    values = [p for p, _ in calls]
    assert values == sorted(values) and values[-1] == 100
    checkpoints = [5, 10, 15, 20, 25, 30, 32, 35, 37, 40, 60, 70, 89, 100]
    positions = [values.index(c) for c in checkpoints]
    assert positions == sorted(positions)
    assert any(40 < v < 60 for v in values)  # quizzes advance between checkpoints
    assert len(calls) < 200
    assert "Exporting quizzes" in {m for _, m in calls}


@pytest.mark.parametrize("stop_at", [5, 30, 50, 65])
def test_cancel_propagates_and_closes_the_zip(blobs, out_dir, monkeypatch, stop_at):
    closed = []
    original = PackageWriter.__exit__

    def exit_(self, *exc):
        closed.append(exc[0])
        return original(self, *exc)

    monkeypatch.setattr(PackageWriter, "__exit__", exit_)

    def progress(percent, message):
        if percent >= stop_at:
            raise ExportCanceled()

    with pytest.raises(ExportCanceled):
        export_common_cartridge(rich_snapshot(blobs), out_dir, progress)
    assert closed == [ExportCanceled]


@pytest.mark.parametrize("version", VERSIONS)
def test_missing_blobs_and_failing_items_are_skipped_with_warnings(
    shared_dir, blobs, out_dir, monkeypatch, version
):
    snap = rich_snapshot(blobs)
    snap.files = [
        replace(f, blob_path=None)
        if f.id == 10
        else replace(f, blob_path=blobs / "gone")
        if f.id == 13
        else f
        for f in snap.files
    ]
    for method in ("html", "fragment"):  # a page's body is rewritten parsed, other HTML as text
        original = getattr(CCLinkRewriter, method)

        def failing(self, body, original=original):
            if "Second" in (body or ""):
                raise ValueError("cannot parse this page")
            return original(self, body)

        monkeypatch.setattr(CCLinkRewriter, method, failing)
    original_copy = PackageWriter.copy_file

    def copy_file(self, name, source, *args, **kw):
        if name.endswith(".txt") and "naïve" in name:
            raise PermissionError(13, "Permission denied")
        return original_copy(self, name, source, *args, **kw)

    monkeypatch.setattr(PackageWriter, "copy_file", copy_file)
    path, result = export_cc(snap, out_dir, version)
    assert len(result.warnings) == 4, result.warnings
    assert 'Skipped file "handout.pdf" (id 10): its content is missing' in result.warnings
    assert any("Second page" in w and "cannot parse" in w for w in result.warnings)
    assert any("naïve café" in w and "Permission denied" in w for w in result.warnings)
    manifest, names = manifest_of(path)
    comments = [c.text.strip() for c in manifest.iter(etree.Comment)]
    assert len(comments) == 4 and all("Skipped" in c for c in comments)
    res = resources(manifest)
    assert mig_id("attachments", 10) not in res and mig_id("wiki_pages", 101) not in res
    # the organization drops the item whose content was skipped; links to a missing file stay absolute
    refs = {i.get("identifierref") for i in manifest.iter("{*}item")}
    assert mig_id("attachments", 10) not in refs and mig_id("wiki_pages", 101) not in refs
    with zipfile.ZipFile(path) as z:
        page = z.read("wiki_content/front-page.html").decode()
    assert "https://canvas.example.edu/courses/42/files/10/download?wrap=1" in page
    assert check_cc(path, shared_dir, version) == []


def test_compression_stores_media_and_deflates_text(blobs, out_dir):
    path, _ = export_cc(rich_snapshot(blobs), out_dir)
    with zipfile.ZipFile(path) as z:
        kinds = {i.filename: i.compress_type for i in z.infolist()}
    assert kinds["web_resources/docs/week 1 — Ünï/deep/photo.jpg"] == zipfile.ZIP_STORED
    assert kinds["web_resources/docs/handout.pdf"] == zipfile.ZIP_STORED
    assert kinds["web_resources/docs/week 1 — Ünï/naïve café 日本.txt"] == zipfile.ZIP_DEFLATED
    assert kinds["imsmanifest.xml"] == zipfile.ZIP_DEFLATED


def test_file_name_and_versions(blobs, out_dir):
    snap = rich_snapshot(blobs)
    path, _ = export_cc(snap, out_dir)
    assert path.name == "rich-a-b-c-unicode-course-export.imscc" and path.parent == out_dir
    snap.course = replace(snap.course, name="x" * 500)
    assert export_cc(snap, out_dir, "1.3")[0].name == "x" * 200 + "-export.imscc"
    snap.course = replace(snap.course, name="Coffeehouses, Print & the Public Sphere, 1650–1800")
    assert export_cc(snap, out_dir)[0].name == "coffeehouses-print-the-public-sphere-1650-1800-export.imscc"
    snap.course = replace(snap.course, name="日本語")
    assert export_cc(snap, out_dir)[0].name == "course-export.imscc"
    with pytest.raises(ValueError, match="1.2.0"):
        export_common_cartridge(snap, out_dir, lambda p, m: None, version="1.2.0")


def test_course_settings_and_syllabus_only_when_selected(blobs, out_dir):
    path, _ = export_cc(selective(rich_snapshot(blobs), wiki_pages={101}), out_dir)
    _, names = manifest_of(path)
    assert "course_settings/course_settings.xml" not in names and "course_settings/syllabus.html" not in names
    assert "course_settings/rubrics.xml" not in names and "course_settings/events.xml" not in names
    assert {
        "course_settings/module_meta.xml",
        "course_settings/files_meta.xml",
        "course_settings/assignment_groups.xml",
        "course_settings/canvas_export.txt",
    } <= set(names)
    snap = rich_snapshot(blobs)
    snap.selection = Selection(course_settings=True, syllabus_body=True)
    path, _ = export_cc(snap, out_dir)
    _, names = manifest_of(path)
    assert {"course_settings/course_settings.xml", "course_settings/syllabus.html"} <= set(names)


def test_module_items_whose_content_is_not_exported_are_left_out(shared_dir, blobs, out_dir):
    snap = module_selection(rich_snapshot(blobs), 1000)
    ids = dict(snap.selection.ids)
    ids["quizzes"] = frozenset()
    snap.selection = replace(snap.selection, ids=ids)
    path, _ = export_cc(snap, out_dir)
    manifest, names = manifest_of(path)
    assert mig_id("content_tags", 1004) not in {i.get("identifier") for i in manifest.iter("{*}item")}
    with zipfile.ZipFile(path) as z:
        meta = z.read("course_settings/module_meta.xml").decode()
    assert mig_id("content_tags", 1004) not in meta and mig_id("content_tags", 1003) in meta
    assert check_cc(path, shared_dir, "1.1.0") == []


def test_no_modules_gives_an_empty_learning_modules_root(blobs, out_dir):
    """Was: an empty <organizations/>. Canvas writes org_1 with an empty root item (issue 15)."""
    path, _ = export_cc(selective(rich_snapshot(blobs), wiki_pages={100}), out_dir)
    manifest, _ = manifest_of(path)
    (org,) = manifest.find("{*}organizations")
    (root,) = org
    assert root.get("identifier") == "LearningModules" and len(root) == 0


def test_cc13_assignment_resource_keeps_to_the_ims_assignment_schema(blobs, out_dir):
    """No XSD for it here: check the shape its schema (cc_extresource_assignmentv1p0) allows.

    ``gradable`` is a plain boolean (Canvas's ``points_possible`` attribute is not allowed) and
    ``extensions`` is left out, because its strict wildcard would need a Canvas schema.
    """
    path, _ = export_cc(rich_snapshot(blobs), out_dir, "1.3.0")
    allowed = {
        "title",
        "text",
        "instructor_text",
        "attachments",
        "gradable",
        "submission_formats",
        "extensions",
    }
    with zipfile.ZipFile(path) as z:
        docs = {n: etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith("/assignment.xml")}
    assert len(docs) == 3
    for name, root in docs.items():
        assert etree.QName(root).namespace == "http://www.imsglobal.org/xsd/imscc_extensions/assignment"
        assert root.get("identifier") == name.split("/")[0]
        tags = [etree.QName(c).localname for c in root]
        assert (
            set(tags) <= allowed
            and len(tags) == len(set(tags))
            and "title" in tags
            and "extensions" not in tags
        )
        gradable = root.find("{*}gradable")
        assert gradable.text in ("true", "false") and not gradable.attrib
        assert root.find("{*}text").get("texttype") == "text/html"
        assert {f.get("type") for f in root.iterfind("{*}submission_formats/{*}format")} <= {
            "text",
            "html",
            "url",
            "file",
        }
    essay = docs[f"{mig_id('assignments', 600)}/assignment.xml"]
    assert essay.findtext("{*}gradable") == "true"
    assert [f.get("type") for f in essay.iterfind("{*}submission_formats/{*}format")] == ["file", "html"]
    assert docs[f"{mig_id('assignments', 601)}/assignment.xml"].findtext("{*}gradable") == "false"


def test_package_paths_never_clash(tmp_path):
    """Case-insensitive, file-versus-folder safe, URI-safe names: a zip that unpacks anywhere."""
    with PackageWriter(tmp_path / "x.zip", datetime(2026, 1, 1)) as pkg:
        got = [
            pkg.unique(p)
            for p in (
                "web_resources/docs",
                "web_resources/docs/a.txt",
                "web_resources/Docs/b.txt",
                "web_resources/a.txt",
                "web_resources/A.TXT",
                "web_resources/docs-2",
                "web_resources/../etc/passwd",
                "/abs/x",
                "web_resources/50% [off] #1?.pdf",
                "web_resources/.hidden",
                "web_resources/.hidden",
                "web_resources/",
            )
        ]
    assert got == [
        "web_resources/docs",
        "web_resources/docs-2/a.txt",
        "web_resources/docs-2/b.txt",
        "web_resources/a.txt",
        "web_resources/A-2.TXT",
        "web_resources/docs-2-2",
        "web_resources/_/etc/passwd",
        "abs/x",
        "web_resources/50_ _off_ _1_.pdf",
        "web_resources/.hidden",
        "web_resources/.hidden-2",
        "web_resources-2",
    ]


def test_stepper_is_smooth_but_throttled():
    from tui_exports.exporters.common.package import Stepper

    calls = []
    steps = Stepper(lambda p, m: calls.append(p))
    steps.step(60, 10_000, "many items")
    for _ in range(10_000):
        steps.advance()
    steps.finish()
    assert calls[0] == 0 and calls[-1] == 60 and calls == sorted(calls)
    assert len(calls) < 50  # ~20 a second at most, plus the checkpoints


def test_xml_is_streamed_into_the_zip_as_the_same_bytes(tmp_path):
    """PackageWriter.write_xml serialises into the entry (no whole copy in memory); the bytes are
    those of a whole serialisation: declaration, UTF-8, two-space indent, a final newline."""
    import copy

    from tui_exports.exporters.common.package import PackageWriter
    from tui_exports.exporters.common.xmlutil import XML_DECLARATION

    root = etree.Element("{urn:x}manifest", nsmap={None: "urn:x"})
    for n in range(3):
        item = etree.SubElement(root, "{urn:x}item", identifier=f"i{n}")
        item.text = f"Ünïcode & <{n}>"
    root.append(etree.Comment(" a warning "))
    whole = copy.deepcopy(root)
    etree.indent(whole, space="  ")
    expected = XML_DECLARATION + etree.tostring(whole, encoding="UTF-8") + b"\n"
    assert expected.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="urn:x">\n  <item')
    with PackageWriter(tmp_path / "p.zip", datetime(2026, 1, 1)) as pkg:
        pkg.write_xml(pkg.unique("imsmanifest.xml"), root)
    with zipfile.ZipFile(tmp_path / "p.zip") as z:
        assert z.read("imsmanifest.xml") == expected
        assert z.getinfo("imsmanifest.xml").compress_type == zipfile.ZIP_DEFLATED


def _organization_skeleton(manifest: etree._Element) -> list[tuple[str, dict[str, str], int]]:
    """The organizations element down to the root item: (tag, attributes, number of children)."""
    orgs = manifest.find(f"{{{manifest.nsmap[None]}}}organizations")
    out = [(etree.QName(orgs).localname, dict(orgs.attrib), len(orgs))]
    for el in orgs.iter():
        if el is orgs or etree.QName(el).localname not in ("organization", "item"):
            continue
        out.append((etree.QName(el).localname, dict(el.attrib), len(el)))
        if el.get("identifier") == "LearningModules":
            break
    return out


@pytest.mark.parametrize("version", ["1.1.0", "1.3.0"])
def test_a_package_without_modules_has_canvas_organization_skeleton(blobs, out_dir, shared_dir, version):
    """Canvas always writes org_1 with a LearningModules root, empty when no module is exported
    (lib/cc/organization.rb); an empty <organizations/> crashes some importers (issue 15)."""
    path, _ = export_cc(selective(rich_snapshot(blobs), wiki_pages={101}), out_dir, version=version)
    ours = _organization_skeleton(manifest_of(path)[0])
    for sample in ("ccviewer_single-discussion.imscc", "ccviewer_all-question-types.imscc"):
        with zipfile.ZipFile(shared_dir / "samples" / "imscc" / sample) as z:
            canvas = _organization_skeleton(etree.fromstring(z.read("imsmanifest.xml")))
        assert ours == canvas, sample
    assert ours[-1] == ("item", {"identifier": "LearningModules"}, 0)
    assert check_cc(path, shared_dir, version) == []


def test_each_page_body_is_parsed_once(blobs, out_dir, monkeypatch):
    """A page's HTML is parsed once: its links are rewritten on the tree that becomes the page's
    document (it was parsed again, after being written back out, to be put into the page)."""
    parsed: list[str] = []
    original = lxml.html.fragment_fromstring

    def counting(html, *args, **kw):
        parsed.append(html)
        return original(html, *args, **kw)

    monkeypatch.setattr(lxml.html, "fragment_fromstring", counting)
    path, _ = export_cc(rich_snapshot(blobs), out_dir, "1.3.0")
    assert sum("<h2>Second</h2>" in html for html in parsed) == 1
    with zipfile.ZipFile(path) as z:
        page = z.read("wiki_content/second-page.html").decode()
    assert "<body><h2>Second</h2><p>plain</p></body>" in page

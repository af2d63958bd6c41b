"""Packages from strangers: zip slip, symlinks, bombs, XXE, billion laughs, broken and messy manifests.

A package that cannot be imported is refused in one line and leaves the library exactly as it was
(rows and blobs); a messy one that can be read gives warnings naming what was skipped and why.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from cartridge_kit import manifest, state, write_folder, write_zip

from tui_exports.cli import main
from tui_exports.config import ImportLimits
from tui_exports.importers import PackageError, import_path

PAGE = '<resource identifier="p1" type="webcontent" href="pages/one.html"><file href="pages/one.html"/></resource>'
ONE_PAGE = manifest(
    PAGE,
    '<item identifier="m"><title>Week 1</title><item identifier="i1" identifierref="p1"><title>One</title></item></item>',
)
HTML = "<html><head><title>One</title></head><body><p>Hello</p></body></html>"
SECRET = "root:x:0:0:the secret outside the package"


def refused(library, path: Path, message: str, limits: ImportLimits | None = None) -> None:
    before = state(library)
    with pytest.raises(PackageError, match=message):
        import_path(library, path, limits=limits)
    assert state(library) == before


def imported(library, path: Path, **kw):
    return import_path(library, path, **kw)


# ----------------------------------------------------------------------------- entries


def test_zip_slip_entries_are_skipped_and_nothing_is_written_outside(library, tmp_path):
    pkg = write_zip(
        tmp_path / "slip.imscc",
        {
            "imsmanifest.xml": ONE_PAGE,
            "pages/one.html": HTML,
            "../../evil.txt": "x",
            "/etc/evil.txt": "x",
            "C:/evil.txt": "x",
            "web_resources/../../../evil2.txt": "x",
        },
    )
    report = imported(library, pkg)
    skipped = [w for w in report.warnings if w.startswith("skipped entry")]
    assert any("'../../evil.txt'" in w and ".." in w for w in skipped)
    assert any("/etc/evil.txt" in w and "absolute" in w for w in skipped)
    assert any("C:/evil.txt" in w and "drive letter" in w for w in skipped)
    assert not list(tmp_path.parent.rglob("evil*.txt"))
    assert report.types["wiki_pages"].kept == 1


def test_symlink_entries_are_skipped_in_a_zip_and_in_a_folder(library, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    res = (
        PAGE
        + '<resource identifier="f1" type="webcontent" href="web_resources/link.txt"><file href="web_resources/link.txt"/></resource>'
    )
    pkg = write_zip(
        tmp_path / "link.imscc",
        {"imsmanifest.xml": manifest(res, ""), "pages/one.html": HTML},
        symlinks={"web_resources/link.txt": str(secret)},
    )
    report = imported(library, pkg)
    assert any("'web_resources/link.txt'" in w and "symbolic link" in w for w in report.warnings)
    folder = write_folder(
        tmp_path / "unpacked", {"imsmanifest.xml": manifest(res, ""), "pages/one.html": HTML}
    )
    (folder / "web_resources").mkdir()
    os.symlink(secret, folder / "web_resources" / "link.txt")
    os.symlink(tmp_path, folder / "web_resources" / "dir")
    report = imported(library, folder)
    assert any("web_resources/link.txt" in w and "symbolic link" in w for w in report.warnings)
    assert any("web_resources/dir" in w and "symbolic link" in w for w in report.warnings)
    blobs = [p.read_bytes() for p in Path(library.home.blobs).rglob("*") if p.is_file()]
    assert not any(SECRET.encode() in b for b in blobs)


def test_a_duplicate_entry_is_skipped_naming_it(library, tmp_path):
    pkg = tmp_path / "dup.imscc"
    with zipfile.ZipFile(pkg, "w") as z, pytest.warns(UserWarning):
        z.writestr("imsmanifest.xml", ONE_PAGE)
        z.writestr("pages/one.html", HTML)
        z.writestr("pages/one.html", "<p>the other one</p>")
    report = imported(library, pkg)
    assert any("'pages/one.html'" in w and "same name" in w for w in report.warnings)


def test_a_zip_bomb_is_refused_before_anything_is_read(library, tmp_path):
    pkg = tmp_path / "bomb.imscc"
    with zipfile.ZipFile(pkg, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("imsmanifest.xml", ONE_PAGE)
        z.writestr("web_resources/zeros.bin", b"\0" * (8 << 20))  # 8 MiB of zeros: ~1000×
    refused(library, pkg, "expands .* times .*max_ratio")
    refused(library, pkg, "more than 4 MB .*max_total_mb", ImportLimits(max_total_mb=4, max_ratio=10_000))
    refused(library, pkg, "more than 1 entries", ImportLimits(max_entries=1, max_ratio=10_000))


def test_the_caps_come_from_config_toml(home, tmp_path, capsys):
    (home / "config.toml").write_text("[import]\nmax_total_mb = 0.001\n")
    pkg = write_zip(tmp_path / "p.imscc", {"imsmanifest.xml": ONE_PAGE, "pages/one.html": HTML * 100})
    code = main(["library", "add", str(pkg)])
    err = capsys.readouterr().err
    assert code == 2 and "max_total_mb" in err and len(err.strip().splitlines()) == 1
    (home / "config.toml").write_text("[import]\nmax_ratio = 'lots'\n")
    code = main(["courses"])  # the whole file is checked before any command
    assert code == 2 and "[import] max_ratio must be a number" in capsys.readouterr().err
    (home / "config.toml").write_text("[import]\nmax_zip = 3\n")
    assert main(["courses"]) == 2 and "unknown [import] settings ['max_zip']" in capsys.readouterr().err


# ----------------------------------------------------------------------------- XML


XXE = """<?xml version="1.0"?>
<!DOCTYPE manifest [<!ENTITY secret SYSTEM "file://{path}">]>
<manifest identifier="m" xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"><metadata><schema>&secret;</schema></metadata><resources/></manifest>"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<topic xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imsdt_v1p1"><title>&lol4;</title><text>x</text></topic>"""


def test_xxe_in_the_manifest_is_refused(library, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    pkg = write_zip(tmp_path / "xxe.imscc", {"imsmanifest.xml": XXE.replace("{path}", str(secret))})
    refused(library, pkg, "imsmanifest.xml: .*declares XML entities")


def test_billion_laughs_in_a_topic_is_a_warning_and_never_expands(library, tmp_path):
    res = '<resource identifier="t1" type="imsdt_xmlv1p1"><file href="t1.xml"/></resource>'
    pkg = write_zip(tmp_path / "lol.imscc", {"imsmanifest.xml": manifest(res, ""), "t1.xml": LAUGHS})
    report = imported(library, pkg)
    assert report.types["discussion_topics"].read == 1 and report.types["discussion_topics"].kept == 0
    assert any("t1.xml" in w and "entities" in w for w in report.types["discussion_topics"].warnings)
    topics = library.content.course_content(report.course_id)["discussion_topics"]
    assert topics == []


def test_a_manifest_with_a_bom_and_a_namespace_with_a_stray_space(library, tmp_path):
    text = ONE_PAGE.replace(
        'xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"',
        'xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1 "',
    )
    pkg = write_zip(
        tmp_path / "bom.imscc", {"imsmanifest.xml": b"\xef\xbb\xbf" + text.encode(), "pages/one.html": HTML}
    )
    report = imported(library, pkg)
    assert report.types["wiki_pages"].kept == 1 and report.source == "Common Cartridge 1.1.0"
    assert any("stray spaces" in w for w in report.warnings)


@pytest.mark.parametrize(
    "entries, message",
    [
        ({"pages/one.html": HTML}, "no imsmanifest.xml"),
        ({"imsmanifest.xml": "<manifest"}, "imsmanifest.xml: not well-formed"),
        ({"imsmanifest.xml": "<html/>"}, "holds <html>, not a <manifest>"),
    ],
)
def test_a_package_that_is_no_cartridge_is_refused_in_one_line(library, tmp_path, entries, message):
    refused(library, write_zip(tmp_path / "x.imscc", entries), message)


def test_a_truncated_zip_is_refused(library, tmp_path):
    pkg = write_zip(tmp_path / "ok.imscc", {"imsmanifest.xml": ONE_PAGE, "pages/one.html": HTML})
    data = pkg.read_bytes()
    (tmp_path / "cut.imscc").write_bytes(data[: len(data) // 2])
    refused(library, tmp_path / "cut.imscc", "not a zip")


@pytest.mark.parametrize("step", ["insert_course", "insert_content"])  # the course row, a later batch
def test_a_failed_import_leaves_no_course_and_no_blob(library, tmp_path, monkeypatch, step):
    files = {f"web_resources/f{i}.bin": os.urandom(2000) for i in range(5)}
    res = "".join(
        f'<resource identifier="f{i}" type="webcontent" href="web_resources/f{i}.bin"/>' for i in range(5)
    )
    pkg = write_zip(
        tmp_path / "p.imscc", {"imsmanifest.xml": manifest(PAGE + res, ""), "pages/one.html": HTML, **files}
    )
    before = state(library)

    from tui_exports.store.content import ContentStore

    insert = getattr(ContentStore, step)

    def broken(self, bundle):  # the rows are in, the blobs are written: then the disk fills up
        insert(self, bundle)
        if bundle.pages or step == "insert_course":
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(ContentStore, step, broken)
    with pytest.raises(PackageError, match="No space left"):
        import_path(library, pkg)
    assert state(library) == before


# ----------------------------------------------------------------------------- messy but readable


def test_messy_package_gives_warnings_for_each_problem(library, tmp_path):
    resources = (
        PAGE
        + '<resource identifier="p2" type="webcontent" href="pages/empty.html"><file href="pages/empty.html"/></resource>'
        + '<resource identifier="gone" type="webcontent" href="web_resources/gone.pdf"><file href="web_resources/gone.pdf"/></resource>'
        + '<resource identifier="f1" type="webcontent" href="web_resources/a file é.txt"><file href="web_resources/a file é.txt"/></resource>'
    )
    org = (
        '<item identifier="m"><title></title>'
        '<item identifier="i1" identifierref="p1"><title>One</title></item>'
        '<item identifier="i2" identifierref="p1"><title>One again</title></item>'
        '<item identifier="i3" identifierref="nowhere"><title>Lost</title></item>'
        '<item identifier="i4" identifierref="p2"><title></title></item>'
        '<item identifier="i5" identifierref="f1"><title>A file</title></item>'
        "</item>"
    )
    pkg = write_zip(
        tmp_path / "messy.imscc",
        {
            "imsmanifest.xml": manifest(resources, org),
            "pages/one.html": HTML,
            "pages/empty.html": b"",
            "web_resources/a file é.txt": "spaces and an accent",
            "web_resources/stray.txt": "not in the manifest",
            "notes/stray.doc": "not in the manifest either",
        },
    )
    report = imported(library, pkg)
    w = "\n".join(report.warnings)
    assert "'web_resources/gone.pdf' is listed but not in the package" in w
    assert "'nowhere', which the manifest does not have" in w and "Lost" in w
    assert "resource 'p1' is used by 2 module items" in w
    assert "'pages/empty.html' is empty" in w
    assert "module 'm' has no title" in w
    assert "'web_resources/stray.txt' is in the package but not in its manifest; kept" in w
    assert "'notes/stray.doc' is in the package but not in its manifest; not imported" in w
    content = library.content.course_content(report.course_id)
    assert {f.display_name for f in content["files"]} == {"a file é.txt", "stray.txt"}
    (module,) = content["modules"]
    assert [i.title for i in module.items] == ["One", "One again", "empty", "A file"]
    assert report.types["content_tags"].read == 5 and report.types["content_tags"].kept == 4


def test_empty_organizations_and_a_zero_byte_file(library, tmp_path):
    res = PAGE + '<resource identifier="f1" type="webcontent" href="web_resources/zero.bin"/>'
    pkg = write_zip(
        tmp_path / "p.imscc",
        {"imsmanifest.xml": manifest(res, None), "pages/one.html": HTML, "web_resources/zero.bin": b""},
    )
    report = imported(library, pkg)
    assert report.types["wiki_pages"].kept == 1 and report.types["attachments"].kept == 1
    assert any("zero.bin" in w and "0 bytes" in w for w in report.warnings)
    assert library.content.course_content(report.course_id)["modules"] == []


def test_zip_names_without_the_utf8_flag(library, tmp_path):
    pkg = tmp_path / "cp.imscc"
    with zipfile.ZipFile(pkg, "w") as z:
        z.writestr("imsmanifest.xml", manifest(PAGE, ""))
        z.writestr("pages/one.html", HTML)
        z.writestr("web_resources/cafXY.txt", "UTF-8 bytes, no flag")
        z.writestr("web_resources/latinZ.txt", "a Latin-1 byte")
    # the names' bytes, patched in place (central directory and local headers alike)
    data = pkg.read_bytes().replace(b"cafXY", b"caf\xc3\xa9").replace(b"latinZ", b"latin\xe9")
    pkg.write_bytes(data)
    report = imported(library, pkg)
    names = sorted(f.display_name for f in library.content.course_content(report.course_id)["files"])
    assert names == ["café.txt", "latinΘ.txt"]  # UTF-8 read as such; other bytes as the zip spec says (cp437)
    assert any("café.txt" in w and "not in its manifest" in w for w in report.warnings)


def test_a_folder_name_that_is_not_utf8_is_skipped(library, tmp_path):
    folder = write_folder(tmp_path / "pkg", {"imsmanifest.xml": manifest(PAGE, ""), "pages/one.html": HTML})
    try:
        (folder / os.fsdecode(b"caf\xe9.txt")).write_bytes(b"x")
    except (OSError, UnicodeError):
        pytest.skip("this file system does not take non-UTF-8 names")
    report = imported(library, folder)
    assert any("not UTF-8" in w for w in report.warnings) and report.types["wiki_pages"].kept == 1

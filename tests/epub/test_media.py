"""Embedded vs companion files, names inside both archives, and the output file names."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

from tui_exports.exporters.epub.book import output_stem, path_safe
from tui_exports.exporters.epub.media import plan_media, sniff, svg_is_safe, unique_path

from .conftest import build, epub_of
from .media_samples import SAMPLES, SVG, UNSAFE_SVG
from .snapshots import CourseBuilder, astronomy


def test_sniff_core_media_types():
    assert sniff(SAMPLES["png"]) == "image/png"
    assert sniff(SAMPLES["jpg"]) == "image/jpeg"
    assert sniff(SAMPLES["gif"]) == "image/gif"
    assert sniff(SAMPLES["webp"]) == "image/webp"
    assert sniff(SAMPLES["mp3"]) == "audio/mpeg"
    assert sniff(SAMPLES["m4a"]) == "audio/mp4"
    assert sniff(SAMPLES["opus"]) == "audio/ogg; codecs=opus"
    video = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 16
    assert sniff(video, "video/mp4", "clip.mp4") is None
    assert sniff(video, "audio/mp4", "talk.mp4") == "audio/mp4"
    assert sniff(b"%PDF-1.7") is None and sniff(b"PK\x03\x04") is None and sniff(b"") is None


def test_svg_safety(tmp_path):
    (tmp_path / "ok.svg").write_bytes(SVG)
    (tmp_path / "script.svg").write_bytes(UNSAFE_SVG)
    (tmp_path / "ref.svg").write_bytes(
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        b'<image x:href="other.png"/></svg>'
    )
    (tmp_path / "dtd.svg").write_bytes(
        b'<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"/>'
    )
    (tmp_path / "broken.svg").write_bytes(b"<svg")
    assert svg_is_safe(tmp_path / "ok.svg")
    for name in ("script", "ref", "dtd", "broken"):
        assert not svg_is_safe(tmp_path / f"{name}.svg"), name


def test_unique_path_case_folds_and_numbers():
    taken: set[str] = set()
    assert unique_path("media/a/Guide.pdf", taken) == "media/a/Guide.pdf"
    assert unique_path("media/a/guide.PDF", taken) == "media/a/guide (1).PDF"
    assert unique_path("media/a/GUIDE.pdf", taken) == "media/a/GUIDE (2).pdf"
    assert unique_path("media/a/README", taken) == "media/a/README"
    assert unique_path("media/a/readme", taken, "_({n})") == "media/a/readme_(1)"


def test_plan_sorts_files_and_names_them(tmp_path):
    c = CourseBuilder(tmp_path)
    spaced = c.file('week 1/Moon "phases": draft?.png')
    renamed = c.file("images/photo.png", SAMPLES["jpg"])
    bare = c.file("images/diagram", SAMPLES["gif"])
    big = c.file("images/big.png", SAMPLES["png"] + b"\x00" * 2000)
    pdf = c.file("week 1/notes.pdf")
    pdf_twin = c.file("week 1/NOTES.pdf")
    video = c.file("week 1/launch.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 16)
    missing = c.file("week 1/gone.pdf", missing=True)
    warnings: list[str] = []
    plan = plan_media(c.snapshot(), c.files, 1000, warnings.append)
    assert plan.get(spaced.id).book_path == "media/week_1/Moon_phases_draft_.png"
    assert plan.get(renamed.id).book_path == "media/images/photo.png.jpg"  # extension follows the bytes
    assert plan.get(bare.id).book_path == "media/images/diagram.gif"
    assert plan.get(big.id).zip_path == "media/images/big.png" and plan.get(big.id).reason == "too large"
    assert plan.get(pdf.id).zip_path == "media/week 1/notes.pdf"
    assert plan.get(pdf_twin.id).zip_path == "media/week 1/NOTES (1).pdf"
    assert plan.get(video.id).zip_path == "media/week 1/launch.mp4"
    assert plan.get(missing.id).reason == "missing" and not plan.get(missing.id).zip_path
    assert any("big.png" in w and "embedding limit" in w for w in warnings)
    assert any("gone.pdf" in w for w in warnings)


def test_companion_zip_holds_the_unsupported_files(tmp_path):
    c = astronomy(tmp_path / "blobs")
    result = build(c.snapshot(), tmp_path / "out")
    companion = next(f.path for f in result.files if f.content_type == "application/zip")
    with zipfile.ZipFile(companion) as zf:
        assert sorted(zf.namelist()) == [
            "media/handouts/Star-Chart-Guide (1).pdf",
            "media/handouts/star-chart-guide.pdf",
            "media/handouts/starter.zip",
            "media/images/evil.svg",
            "media/images/not-really.png",
            "media/video/launch.mp4",
        ]
        assert zf.read("media/images/evil.svg") == UNSAFE_SVG
        assert zf.getinfo("media/handouts/star-chart-guide.pdf").compress_type == zipfile.ZIP_STORED
    with zipfile.ZipFile(epub_of(result)) as zf:
        media = sorted(n for n in zf.namelist() if n.startswith("OEBPS/media/"))
        assert "OEBPS/media/images/DUP_(1).gif" in media and "OEBPS/media/images/dup.gif" in media
        assert "OEBPS/media/audio/pulsar_clicks.mp3" in media
        assert zf.read("OEBPS/media/images/moon-phases.png") == SAMPLES["png"]


def test_oversize_files_go_to_the_companion_zip(tmp_path):
    c = CourseBuilder(tmp_path / "blobs")
    pic = c.file("pic.png")
    c.page("p", "P", f'<p><img src="{c.image_link(pic)}" alt="pic"></p>')
    result = build(c.snapshot(), tmp_path / "out", max_embed_bytes=10)
    with zipfile.ZipFile(result.files[1].path) as zf:
        assert zf.namelist() == ["media/pic.png"]
    with zipfile.ZipFile(epub_of(result)) as zf:
        page = zf.read("OEBPS/pages.xhtml").decode()
    assert 'Image "pic.png" could not be included in the ePub document' in page
    assert any("embedding limit" in w for w in result.warnings)


def test_output_names():
    when = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert output_stem("Astronomy 101", when) == "Astronomy 101-2026-Feb-03_04-05-06"
    assert path_safe('History: 1600/1700 <Seminar> "A|B"?*') == "History_ 1600_1700 _Seminar_ _A_B___"
    assert path_safe("  .. ") == "course"
    assert len(path_safe("x" * 5000)) == 200
    arabic = path_safe("ا" * 300)
    assert len(arabic.encode()) <= 200 and set(arabic) == {"ا"}

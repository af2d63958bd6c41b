"""How course links are rewritten for a cartridge (spec §4.6)."""

from __future__ import annotations

import pytest
from snapshots import rich_snapshot

from tui_exports.exporters.common import links
from tui_exports.exporters.common.cc_links import CCLinkRewriter, file_ids
from tui_exports.exporters.common.ids import mig_id
from tui_exports.html_fragments import serialize_fragment

PAGE = mig_id("wiki_pages", 101)


@pytest.fixture
def rewrite(blobs):
    snap = rich_snapshot(blobs)
    rewriter = CCLinkRewriter(snap, {10: "docs/handout.pdf", 11: "docs/a b/ü.txt"})

    def one(href: str, tag: str = "a", attr: str = "href") -> str:
        html = rewriter.html(f'<{tag} {attr}="{href}">x</{tag}>')
        from tui_exports.html_fragments import parse_fragment

        return parse_fragment(html)[0].get(attr)

    return one


@pytest.mark.parametrize(
    "href, expected",
    [
        (
            "/courses/42/files/10/download?wrap=1",
            "$IMS-CC-FILEBASE$/docs/handout.pdf?canvas_download=1&canvas_qs_wrap=1",
        ),
        ("/courses/42/files/10/preview", "$IMS-CC-FILEBASE$/docs/handout.pdf"),
        ("/courses/42/files/10", "$IMS-CC-FILEBASE$/docs/handout.pdf"),
        (
            "/courses/42/files/11/download?verifier=abc",
            "$IMS-CC-FILEBASE$/docs/a%20b/%C3%BC.txt?canvas_download=1",
        ),
        ("/files/10/download", "$IMS-CC-FILEBASE$/docs/handout.pdf?canvas_download=1"),
        (
            "https://canvas.example.edu/courses/42/files/10/download",
            "$IMS-CC-FILEBASE$/docs/handout.pdf?canvas_download=1",
        ),
        ("/courses/42/files/99/download", "https://canvas.example.edu/courses/42/files/99/download"),
        ("/courses/42/pages/second-page", f"$WIKI_REFERENCE$/pages/{PAGE}"),
        ("/courses/42/pages/second-page?x=1#h", f"$WIKI_REFERENCE$/pages/{PAGE}?x=1#h"),
        ("/courses/42/wiki/second-page", f"$WIKI_REFERENCE$/wiki/{PAGE}"),
        ("/courses/42/pages/Second-Page", f"$WIKI_REFERENCE$/pages/{PAGE}"),  # resolved by title
        ("/courses/42/pages/no-such-page", "$WIKI_REFERENCE$/pages/no-such-page"),
        (
            "/courses/42/assignments/600",
            f"$CANVAS_OBJECT_REFERENCE$/assignments/{mig_id('assignments', 600)}",
        ),
        (
            "/courses/42/assignments/600/submissions",
            f"$CANVAS_OBJECT_REFERENCE$/assignments/{mig_id('assignments', 600)}/submissions",
        ),
        ("/courses/42/quizzes/300", f"$CANVAS_OBJECT_REFERENCE$/quizzes/{mig_id('quizzes', 300)}"),
        (
            "/courses/42/announcements/802",
            f"$CANVAS_OBJECT_REFERENCE$/announcements/{mig_id('discussion_topics', 802)}",
        ),
        (
            "/courses/42/discussion_topics/800?module_item_id=1005",
            f"$CANVAS_OBJECT_REFERENCE$/discussion_topics/{mig_id('discussion_topics', 800)}"
            f"?module_item_id={mig_id('content_tags', 1005)}",
        ),
        (
            "/courses/42/modules/items/1002",
            f"$CANVAS_COURSE_REFERENCE$/modules/items/{mig_id('content_tags', 1002)}",
        ),
        ("/courses/42/modules/1000", f"$CANVAS_OBJECT_REFERENCE$/modules/{mig_id('context_modules', 1000)}"),
        ("/courses/42/grades", "$CANVAS_COURSE_REFERENCE$/grades"),
        ("/courses/42", "$CANVAS_COURSE_REFERENCE$"),
        ("/courses/7/pages/x", "https://canvas.example.edu/courses/7/pages/x"),
        ("/about", "https://canvas.example.edu/about"),
        ("https://example.com/courses/42/files/10", "https://example.com/courses/42/files/10"),
        ("mailto:a@b.c", "mailto:a@b.c"),
        ("#top", "#top"),
        ("relative/path.html", "relative/path.html"),
        ("http://[::1", "http://[::1"),  # not a URL: kept, and the page is not lost
        (
            "/courses/42/assignments/¹",
            "/courses/42/assignments/%C2%B9",
        ),  # isdigit() but no int: left (lxml escapes)
        ("/courses/42/pages/%ZZ", "$WIKI_REFERENCE$/pages/%25ZZ"),
    ],
)
def test_links(rewrite, href, expected):
    assert rewrite(href) == expected


def test_images_and_other_attributes(rewrite):
    assert rewrite("/courses/42/files/10/preview", "img", "src") == "$IMS-CC-FILEBASE$/docs/handout.pdf"
    assert (
        rewrite("/courses/42/files/10/download", "object", "data")
        == "$IMS-CC-FILEBASE$/docs/handout.pdf?canvas_download=1"
    )


def test_text_and_markup_survive(blobs):
    rewriter = CCLinkRewriter(rich_snapshot(blobs), {})
    assert rewriter.html("<p>a &amp; b <b>ünï</b></p>tail") == "<p>a &amp; b <b>ünï</b></p>tail"
    assert rewriter.html("") == ""
    assert rewriter.html("plain \x00 text\x0b") == "plain  text"


def test_file_ids_skip_malformed_links():
    html = (
        '<a href="http://[::1">bad</a><a href="/courses/42/files/7/download">ok</a>'
        '<img src="/courses/42/files/¹/preview"><a href="/courses/42/files/8">ok too</a>'
    )
    assert file_ids(html, 42) == {7, 8}


def test_a_link_met_again_is_worked_out_once(blobs, monkeypatch):
    """Bodies link to the same files and pages again and again: each link is classified and
    rewritten once per export, and written the same wherever it is met (a URL that cannot be
    parsed is left as it is, every time)."""
    seen: list[str] = []
    real = links.classify
    monkeypatch.setattr(links, "classify", lambda value, *rest: seen.append(value) or real(value, *rest))
    rewriter = CCLinkRewriter(rich_snapshot(blobs), {10: "docs/handout.pdf"})
    body = (
        '<a href="/courses/42/files/10/download">f</a><img src="/courses/42/files/10/download">'
        '<a href="http://[::1">bad</a>'
    )
    written = [rewriter.html(body) for _ in range(3)] + [serialize_fragment(rewriter.fragment(body))]
    assert len(set(written)) == 1
    assert written[0].count('="$IMS-CC-FILEBASE$/docs/handout.pdf?canvas_download=1"') == 2
    assert 'href="http://[::1"' in written[0]
    assert seen == ["/courses/42/files/10/download", "http://[::1"]

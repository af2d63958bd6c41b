"""The sanitizer: course HTML → safe, well-formed XHTML5 with book links."""

from __future__ import annotations

from lxml import etree

from tui_exports.exporters.epub.media import MediaFile
from tui_exports.exporters.epub.sanitize import Sanitizer, safe_url

MEDIA = {
    1: MediaFile(1, "moon.png", None, 1, "image/png", book_path="media/images/moon phases.png"),
    2: MediaFile(2, "guide.pdf", None, 1, zip_path="media/handouts/guide (1).pdf", reason="unsupported"),
    3: MediaFile(3, "clicks.mp3", None, 1, "audio/mpeg", book_path="media/audio/clicks.mp3"),
    4: MediaFile(4, "launch.mp4", None, 1, zip_path="media/video/launch.mp4", reason="unsupported"),
    5: MediaFile(5, "lost.pdf", None, 0, reason="missing"),
}


class Resolver:
    def content_href(self, link):
        return {("page", "welcome"): "i1.xhtml#iwelcome", ("assignment", "9"): "i1.xhtml#iessay"}.get(
            (link.kind, link.target)
        )

    def media(self, file_id):
        return MEDIA.get(file_id)


def clean(html: str) -> str:
    out = Sanitizer(1, "canvas.example.edu", Resolver()).to_xhtml(html, "ix")
    text = etree.tostring(out, encoding="unicode")
    etree.fromstring(text)  # well-formed XML
    return text.split(">", 1)[1].rsplit("</div>", 1)[0]  # inside the wrapper div


def test_active_content_is_removed():
    out = clean(
        '<p onclick="steal()" onmouseover=x>Hi<script>alert(1)</script><style>p{}</style>'
        '<a href="javascript:alert(1)" onclick="x">js</a> <a href=" JaVaScRiPt:x">js2</a>'
        '<a href="data:text/html,x">data</a> <a href="vbscript:x">vb</a></p>'
    )
    assert out == "<p>Hijs js2data vb</p>"


def test_iframes_objects_and_forms_become_links_or_notes():
    out = clean(
        '<iframe src="https://www.youtube.com/embed/abc" title="Lecture"></iframe>'
        '<object data="javascript:x"></object><embed src="/courses/1/files/2/download">'
        '<form action="/x"><p>Name?</p><input name=n><select><option>a</select><textarea>t</textarea>'
        "<button>Send</button></form>"
    )
    assert 'Embedded content: <a href="https://www.youtube.com/embed/abc">Lecture</a>' in out
    assert "(Embedded content was removed from this copy.)" in out
    assert 'File "guide.pdf" could not be included in the ePub document' in out
    assert "(An interactive form was removed from this copy.)" in out and "<p>Name?</p>" in out
    assert "input" not in out and "option" not in out and ">t<" not in out and "Send" in out


def test_unclosed_and_misnested_markup_is_rebuilt():
    assert clean("<p>one <b>two <i>three") == "<p>one <b>two <i>three</i></b></p>"
    assert clean("<span>a<div>b</div>c</span>") == "<span>a b c</span>"
    assert (
        clean("<ul>stray<li>one<p>x</p><li>two</ul>")
        == "<ul><li>stray</li><li>one<p>x</p></li><li>two</li></ul>"
    )
    assert clean("<li>loose</li>") == "<div>loose</div>"
    assert clean("<table><td>a<tr><th scope=col colspan=2 rowspan=x>b</table>") == (
        '<table><tbody><tr><td>a</td></tr><tr><th colspan="2" scope="col">b</th></tr></tbody></table>'
    )
    assert clean("<table>text</table>") == "text"  # no rows: the stray text stays, the table goes
    assert clean("<dl><dd>d</dd><dt>t</dt></dl>") == "<dl><dt/><dd>d</dd><dt>t</dt><dd/></dl>"
    assert clean("<a href='https://x.example/'>out<a href='https://y.example/'>in</a></a>").count("<a ") == 2
    assert clean("<p><a href='https://x.example/'><div>block</div></a></p>") == (
        '<p><a href="https://x.example/"> block </a></p>'
    )


def test_html5_void_elements_do_not_swallow_what_follows():
    assert clean("<p>a<wbr>b<source src=x>c<track>d</p>") == "<p>a<wbr/>bcd</p>"
    assert clean('<embed src="https://x.example/e">after').endswith("</a>after")


def test_obsolete_and_unknown_elements():
    assert clean("<center><font color=red>Hi</font></center>") == "<div><span>Hi</span></div>"
    assert clean("<x-widget><o:p>kept</o:p></x-widget>") == "kept"
    assert clean("<bdo dir=rtl>abc</bdo><bdo>def</bdo>") == '<bdo dir="rtl">abc</bdo><span>def</span>'
    assert (
        clean("<svg><title>chart</title><script>x</script></svg>")
        == '<span class="note">[drawing: chart]</span>'
    )


def test_text_entities_controls_rtl_and_emoji():
    out = clean("<p dir=rtl lang=ar>مرحبا &amp; &lt;tag&gt; &nbsp;&copy; &bogus; \x00\x07\x1b😀</p>")
    assert out == '<p dir="rtl" lang="ar" xml:lang="ar">مرحبا &amp; &lt;tag&gt; \xa0© &amp;bogus; 😀</p>'
    assert clean("<p lang='not valid!' dir='sideways' style='color:red' class=x>t</p>") == "<p>t</p>"


def test_ids_are_prefixed_and_fragments_follow():
    out = clean(
        '<a href="#sec">go</a> <h2 id="sec">S</h2><a href="#nowhere">dead</a><a name="top"></a>'
        '<h3 id="sec">dup</h3><a href="#top">up</a>'
    )
    assert '<a href="#ix-sec">go</a>' in out and '<h2 id="ix-sec">S</h2>' in out
    assert "dead" in out and "#nowhere" not in out  # a dangling fragment loses its link
    assert out.count('id="ix-sec"') == 1  # duplicate ids are dropped
    assert '<a href="#ix-top">up</a>' in out and 'id="ix-top"' in out


def test_canvas_links_to_content():
    out = clean(
        '<a href="/courses/1/pages/welcome#part">w</a> <a href="/courses/1/assignments/9">e</a> '
        '<a href="/courses/1/pages/gone">g</a> <a href="/courses/1/grades">grades</a> '
        '<a href="/courses/2/pages/x">other</a> <a href="notes.html">rel</a>'
    )
    assert '<a href="i1.xhtml#iwelcome">w</a>' in out and '<a href="i1.xhtml#iessay">e</a>' in out
    assert (
        'g<span class="note"> (link removed: the linked content is not included in this book)</span>' in out
    )
    assert '<a href="https://canvas.example.edu/courses/1/grades">grades</a>' in out
    assert '<a href="https://canvas.example.edu/courses/2/pages/x">other</a>' in out
    assert "rel<span" in out  # a relative link has no target in the book


def test_canvas_links_to_files():
    out = clean(
        '<img src="/courses/1/files/1/preview" width="200" height="big">'
        '<a href="/courses/1/files/1/download?wrap=1"><img src="/courses/1/files/1/preview" alt="thumb"></a>'
        '<a href="/courses/1/files/1/download">the diagram</a>'
        '<a href="/courses/1/files/3/download">listen</a><audio src="/courses/1/files/3/download"></audio>'
        '<a href="/courses/1/files/2/download?wrap=1">guide</a><video src="/courses/1/files/4/download"></video>'
        '<a href="/courses/1/files/5/download">lost</a><img src="/courses/1/files/77/preview" alt="other">'
    )
    assert '<img src="media/images/moon%20phases.png" alt="moon.png" width="200"/>' in out
    assert '<img src="media/images/moon%20phases.png" alt="thumb"/>' in out
    assert 'the diagram <img src="media/images/moon%20phases.png" alt="moon.png"/>' in out
    assert out.count('<audio controls="controls" src="media/audio/clicks.mp3">Audio: clicks.mp3</audio>') == 2
    assert "Please see the separate zip file for access: media/handouts/guide (1).pdf" in out
    assert 'Video "launch.mp4" could not be included' in out
    assert 'File "lost.pdf" is not included in this book.' in out
    assert "Image is not included in this book." in out


def test_remote_images_become_links():
    assert clean('<img src="https://example.com/a.png" alt="chart">') == (
        '<a href="https://example.com/a.png">[image: chart]</a>'
    )


def test_safe_url():
    assert safe_url("https://ok.example/a b?c=<d>#e f") == "https://ok.example/a%20b?c=%3Cd%3E#e%20f"
    assert safe_url("HTTPS://Ünïcode.example/päth") == "https://xn--ncode-cta3g.example/p%C3%A4th"
    assert safe_url("https://example.com/100%") == "https://example.com/100%25"
    assert safe_url("https://user:pw@example.com/") == "https://example.com/"
    assert safe_url("mailto:a@example.com") == "mailto:a@example.com"
    assert safe_url("mailto:2020@example.com") == "mailto:2020@example.com"
    for bad in (
        "http://exa mple.com/",
        "http://%zz/",
        "http://[::1]/",
        "ftp://x",
        "mailto:",
        "//x.example/",
        "http://example.com:99999/",
        "javascript:alert(1)",
        "data:x",
    ):
        assert safe_url(bad) is None, bad


def test_deep_nesting_does_not_recurse_forever():
    out = clean("<div>" * 200 + "<b>deep</b>" + "</div>" * 200)  # (libxml2 itself stops at 255 levels)
    assert "deep" in out and out.count("<div>") < 60

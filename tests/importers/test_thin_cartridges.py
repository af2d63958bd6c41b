"""The thinner cartridges other systems write (Moodle-like, Blackboard-like, publisher link packs):
webcontent pages and their images, web links, discussion topics, LTI links and the organization as
the only module structure (containers below a module become indented sub-headers)."""

from __future__ import annotations

from cartridge_kit import manifest, write_folder, write_zip

from tui_exports.importers import import_path

CP10 = "http://www.imsglobal.org/xsd/imscc/imscp_v1p1"
WL = "http://www.imsglobal.org/xsd/imsccv1p1/imswl_v1p1"
DT = "http://www.imsglobal.org/xsd/imsccv1p1/imsdt_v1p1"
BLTI = "http://www.imsglobal.org/xsd/imsbasiclti_v1p0"

MOODLE_RESOURCES = """
<resource identifier="r1" type="webcontent" href="resource1/index.html">
  <file href="resource1/index.html"/><file href="resource1/images/pic one.png"/></resource>
<resource identifier="r2" type="webcontent" href="web_resources/resource2/index.html"><file href="web_resources/resource2/index.html"/></resource>
<resource identifier="r3" type="webcontent" href="resource3/handout.pdf"><file href="resource3/handout.pdf"/></resource>
<resource identifier="wl1" type="imswl_xmlv1p1"><file href="wl1/weblink.xml"/></resource>
<resource identifier="dt1" type="imsdt_xmlv1p1"><file href="dt1/topic.xml"/></resource>
<resource identifier="lti1" type="imsbasiclti_xmlv1p0"><file href="lti1/basiclti.xml"/></resource>
"""
MOODLE_ORG = """
<item identifier="s0"><title>General</title>
  <item identifier="i1" identifierref="r1"><title>Welcome page</title></item>
  <item identifier="i2" identifierref="dt1"><title>News forum</title></item>
</item>
<item identifier="s1"><title>Topic 1</title>
  <item identifier="i3" identifierref="wl1"><title>A web link</title></item>
  <item identifier="c1"><title>Readings</title>
    <item identifier="i4" identifierref="r2"><title>Second page</title></item>
    <item identifier="i5" identifierref="r3"><title>Handout</title></item>
    <item identifier="c2"><title>Deeper</title>
      <item identifier="i6" identifierref="lti1"><title>Publisher tool</title></item>
    </item>
  </item>
</item>
"""
MOODLE_FILES = {
    "resource1/index.html": '<html><head><title>Welcome</title></head><body><p>Hi <img src="images/pic%20one.png"/>'
    ' and <a href="../web_resources/resource2/index.html#top">the next page</a> and <a href="../resource3/handout.pdf">the handout</a>'
    ' and <a href="https://example.org/x">away</a> and <a href="nowhere.html">broken</a></p></body></html>',
    "resource1/images/pic one.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
    "web_resources/resource2/index.html": "<html><head><title></title></head><body><p>Second</p></body></html>",
    "resource3/handout.pdf": b"%PDF-1.4\n%%EOF\n",
    "wl1/weblink.xml": f'<webLink xmlns="{WL}"><title>Example</title><url href="https://example.org/read" target="_blank"/></webLink>',
    "dt1/topic.xml": f'<topic xmlns="{DT}"><title>News forum</title><text texttype="text/html">&lt;p&gt;Say hello&lt;/p&gt;</text></topic>',
    "lti1/basiclti.xml": f'<cartridge_basiclti_link xmlns="{BLTI}" xmlns:blti="http://www.imsglobal.org/xsd/imsbasiclti_v1p0">'
    "<blti:title>Publisher tool</blti:title><blti:launch_url>https://tool.example.com/launch</blti:launch_url>"
    "</cartridge_basiclti_link>",
}


def test_a_moodle_like_cartridge(library, tmp_path):
    pkg = write_zip(
        tmp_path / "moodle.imscc",
        {"imsmanifest.xml": manifest(MOODLE_RESOURCES, MOODLE_ORG, title="Moodle course"), **MOODLE_FILES},
    )
    report = import_path(library, pkg)
    assert report.name == "Moodle course" and report.source == "Common Cartridge 1.1.0"
    c = library.content.course_content(report.course_id)
    cid = report.course_id
    pages = {p.title: p for p in c["pages"]}
    assert set(pages) == {"Welcome", "Second page"}  # an empty <title> takes the item's
    files = {f.display_name: f for f in c["files"]}
    assert set(files) == {"pic one.png", "handout.pdf"}
    body = pages["Welcome"].body
    assert f'src="/courses/{cid}/files/{files["pic one.png"].id}/preview"' in body
    assert f'href="/courses/{cid}/pages/{pages["Second page"].url}#top"' in body
    assert f'href="/courses/{cid}/files/{files["handout.pdf"].id}/download?wrap=1"' in body
    assert 'href="https://example.org/x"' in body and 'href="nowhere.html"' in body
    assert any("'nowhere.html' points at nothing" in w for w in report.types["wiki_pages"].warnings)
    folders = {f.full_name for f in c["folders"]}
    assert {"course files/resource1/images", "course files/resource3"} <= folders
    (topic,) = c["discussion_topics"]
    assert topic.title == "News forum" and topic.message == "<p>Say hello</p>"
    general, topic1 = c["modules"]
    assert (general.name, topic1.name) == ("General", "Topic 1")
    assert [(i.content_type.value, i.title) for i in general.items] == [
        ("WikiPage", "Welcome page"),
        ("DiscussionTopic", "News forum"),
    ]
    assert [(i.content_type.value, i.title, i.indent, i.url) for i in topic1.items] == [
        ("ExternalUrl", "A web link", 0, "https://example.org/read"),
        ("ContextModuleSubHeader", "Readings", 0, ""),
        ("WikiPage", "Second page", 1, ""),
        ("Attachment", "Handout", 1, ""),
        ("ContextModuleSubHeader", "Deeper", 1, ""),
        ("ExternalUrl", "Publisher tool", 2, "https://tool.example.com/launch"),
    ]
    assert any("LTI link, kept as an external URL" in w for w in report.warnings)
    assert [i.new_tab for i in topic1.items][0] is True  # the web link's target="_blank"
    assert report.types["content_tags"].read == report.types["content_tags"].kept == 8


def test_a_blackboard_like_cc_1_0_folder_without_a_root_item(library, tmp_path):
    resources = (
        '<resource identifier="res00001" type="webcontent" href="res00001/Syllabus.htm"><file href="res00001/Syllabus.htm"/></resource>'
        '<resource identifier="res00002" type="imsdt_xmlv1p0"><file href="res00002.xml"/></resource>'
        '<resource identifier="res00003" type="imswl_xmlv1p0"><file href="res00003.xml"/></resource>'
    )
    org = (
        '<organizations><organization identifier="o" structure="rooted-hierarchy">'
        '<item identifier="a"><title>Course Information</title><item identifier="a1" identifierref="res00001"><title>Syllabus</title></item></item>'
        '<item identifier="b" identifierref="res00002"><title>Discussion</title></item>'
        '<item identifier="c" identifierref="res00003"><title>Library</title></item>'
        "</organization></organizations>"
    )
    text = manifest(resources, "", ns=CP10, version="1.0.0", title="BB course")
    text = text.replace(text[text.index("<organizations>") : text.index("</organizations>") + 16], org)
    folder = write_folder(
        tmp_path / "bb",
        {
            "imsmanifest.xml": text,
            "res00001/Syllabus.htm": "<html><body><h1>Syllabus</h1></body></html>",
            "res00002.xml": '<topic xmlns="http://www.imsglobal.org/xsd/imsdt_v1p0"><title>Introduce yourself</title><text texttype="text/plain">Hello &lt;you&gt;</text></topic>',
            "res00003.xml": '<webLink xmlns="http://www.imsglobal.org/xsd/imswl_v1p0"><title>Library</title><url href="https://lib.example.edu"/></webLink>',
        },
    )
    report = import_path(library, folder)
    assert report.source == "Common Cartridge 1.0.0"
    c = library.content.course_content(report.course_id)
    assert [m.name for m in c["modules"]] == ["Course Information", "Course content"]
    assert [(i.content_type.value, i.title) for i in c["modules"][1].items] == [
        ("DiscussionTopic", "Discussion"),  # the item keeps its own title; the topic has its own
        ("ExternalUrl", "Library"),
    ]
    (page,) = c["pages"]
    assert page.title == "Syllabus" and "<h1>Syllabus</h1>" in page.body
    (topic,) = c["discussion_topics"]
    assert topic.title == "Introduce yourself" and topic.message == "Hello &lt;you&gt;"  # plain text, escaped


def test_progress_is_reported_per_resource(library, tmp_path):
    pkg = write_zip(
        tmp_path / "m.imscc", {"imsmanifest.xml": manifest(MOODLE_RESOURCES, MOODLE_ORG), **MOODLE_FILES}
    )
    seen = []
    import_path(library, pkg, progress=lambda done, total, what: seen.append((done, total, what)))
    assert seen and seen[-1][0] == seen[-1][1] and [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    assert any(what == "Welcome page" for _, _, what in seen)

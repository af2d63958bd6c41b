"""Hypothesis strategies for hostile courses: broken HTML, active content, odd names and links."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import strategies as st

from .media_samples import SAMPLES, SVG, UNSAFE_SVG
from .snapshots import EXPORTED_AT, CourseBuilder

TAGS = (
    "p div span a b i em strong u s ul ol li dl dt dd table thead tbody tfoot tr td th caption h1 h2 h3 h6 "
    "pre code blockquote img audio video source iframe object embed form input button select option "
    "textarea label script style noscript template svg math font center marquee big tt strike details "
    "summary figure figcaption section article header footer nav main address ruby rt rp bdo bdi time br hr "
    "wbr x-custom o:p q abbr sub sup mark small canvas map area picture track col colgroup html body head "
    "title meta link base frameset"
).split()

ATTRS = (
    "onclick onerror onload style id name href src data title lang dir class width height colspan rowspan "
    "start value type reversed scope alt data-x role aria-label controls cite datetime usemap target"
).split()

#: Text with what breaks naive writers: RTL, emoji, entities, controls, markup characters.
TEXT = st.lists(
    st.one_of(
        st.sampled_from(list("abc XYZ<>&\"'=/;:#%?\n\t")),
        st.sampled_from(
            [
                "שלום",
                "مرحبا",
                "\u202e",
                "\u200f",
                "😀",
                "👩\u200d🚀",
                "&amp;",
                "&bogus;",
                "&#0;",
                "&#x110000;",
                "&nbsp;",
                "&#128512;",
                "]]>",
                "<!--",
                "-->",
                "\x00",
                "\x07",
                "\x1b",
                "\ufeff",
                "\uffff",
                "\U0010fffd",
                "\ue000",
            ]
        ),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=30,
).map("".join)


def urls(course: CourseBuilder, ids: list[int]) -> st.SearchStrategy[str]:
    cid = course.course.id
    some_id = st.sampled_from(ids + [999999])
    return st.one_of(
        st.sampled_from(
            [
                "javascript:alert(1)",
                " JaVaScRiPt:alert(1)",
                "data:text/html,<script>x</script>",
                "vbscript:x",
                "file:///etc/passwd",
                "//evil.example/x",
                "http://exa mple.com/",
                'https://ok.example/a b?c=<d>&e="f"#g h',
                "mailto:",
                "mailto:someone@example.com?subject=hi there",
                "#",
                "#top",
                "#missing",
                "foo.html",
                "../files/handout.pdf",
                "http://[::1]/",
                "http://%zz/",
                "https://ünïcode.example/päth?q=ü",
                "ftp://example.com/x",
                "tel:+123",
                "  https://padded.example/  ",
                "http://example.com:99999/",
                "https://user:pass@example.com/",
                "https://example.com/%",
                "/courses/999/pages/elsewhere",
                f"/courses/{cid}/grades",
                f"/courses/{cid}/pages/",
                f"/courses/{cid}/pages/missing-page",
                f"/courses/{cid}/modules",
                "/about",
                "https://canvas.local/courses/999",
                "",
            ]
        ),
        some_id.map(lambda i: f"/courses/{cid}/files/{i}/download?wrap=1"),
        some_id.map(lambda i: f"/courses/{cid}/files/{i}/preview"),
        some_id.map(lambda i: f"/files/{i}/download"),
        st.integers(0, 8).map(lambda n: f"/courses/{cid}/pages/page-{n}#frag"),
        st.tuples(
            st.sampled_from(
                [
                    "assignments",
                    "quizzes",
                    "discussion_topics",
                    "announcements",
                    "modules",
                    "modules/items",
                    "calendar_events",
                    "rubrics",
                    "folders",
                ]
            ),
            some_id,
        ).map(lambda t: f"/courses/{cid}/{t[0]}/{t[1]}"),
        TEXT,
    )


def html(course: CourseBuilder, ids: list[int]) -> st.SearchStrategy[str]:
    attr_value = st.one_of(
        TEXT, urls(course, ids), st.sampled_from(["-1", "0", "3", "99999999999", "rtl", "x"])
    )
    attrs = st.lists(st.tuples(st.sampled_from(ATTRS), attr_value), max_size=4).map(
        lambda pairs: "".join(
            f' {k}="{v.replace(chr(34), "&quot;")}"' if i % 3 else f" {k}='{v}'"
            for i, (k, v) in enumerate(pairs)
        )
    )
    leaf = st.one_of(
        TEXT,
        st.sampled_from(
            [
                "<br>",
                "<hr>",
                "<img>",
                "</p>",
                "</div>",
                "<li>",
                "<td>",
                "<tr>",
                "<a href='#top' name='top'>",
                "<![CDATA[x]]>",
                "<?php x ?>",
                "<!DOCTYPE html>",
                "<!-- c -->",
                "&",
                "<",
                "<b><i>",
            ]
        ),
    )

    def element(children):
        return st.tuples(st.sampled_from(TAGS), attrs, st.lists(children, max_size=4), st.booleans()).map(
            lambda t: f"<{t[0]}{t[1]}>{''.join(t[2])}" + (f"</{t[0]}>" if t[3] else "")
        )

    url = urls(course, ids).map(lambda u: u.replace('"', "&quot;"))
    linked = st.one_of(
        st.tuples(url, TEXT).map(lambda t: f'<a href="{t[0]}">{t[1]}</a>'),
        st.tuples(url, TEXT).map(lambda t: f'<img src="{t[0]}" alt="{t[1]}" onerror="alert(1)">'),
        url.map(lambda u: f'<audio controls src="{u}"><source src="{u}"></audio>'),
        url.map(lambda u: f'<video poster="{u}"><source src="{u}">fallback</video>'),
        url.map(lambda u: f'<iframe src="{u}"></iframe><object data="{u}"></object><embed src="{u}">'),
        url.map(lambda u: f'<form action="{u}"><input name=q><button onclick="x()">Go</button></form>'),
    )
    body = st.recursive(st.one_of(leaf, linked), element, max_leaves=25)
    return st.tuples(st.lists(body, max_size=6), st.one_of(st.none(), st.none(), st.integers(1, 2000))).map(
        lambda t: "".join(t[0])[: t[1]]  # sometimes cut mid-tag
    )


TITLES = st.one_of(TEXT, st.just("Same title"), st.just("x" * 5000), st.just(""), st.just("   "))
FILE_NAMES = st.one_of(
    st.sampled_from(
        [
            "a b.png",
            'bad"*:<>?|.jpg',
            "trailing.",
            "..",
            "ÜBER.PNG",
            "über.png",
            "x" * 300 + ".gif",
            "نجمة.webp",
            "😀.mp3",
            "no-extension",
            "report.pdf",
            "clip.mp4",
            "REPORT.PDF",
            "draw.svg",
            "evil.svg",
            "sound.m4a",
            "voice.opus",
        ]
    ),
    TEXT.map(lambda t: (t.replace("/", "_") or "empty") + ".png"),
)


@st.composite
def hostile_course(draw, blob_dir):
    name = draw(st.one_of(TITLES, st.just("Course/With\\Slashes: <and> *stars*?"), st.just("ا" * 300)))
    course = CourseBuilder(
        blob_dir,
        name=name,
        course_code=draw(TITLES),
        locale=draw(
            st.sampled_from(["en", "ar", "he-IL", "zh_Hans", "en-AU-x-unimelb", "bogus locale", "", "x"])
        ),
        time_zone=draw(st.sampled_from(["UTC", "Asia/Tehran", "Not/AZone", ""])),
        syllabus_body="",
        organize_epub_by_content_type=draw(st.booleans()),
    )
    ids: list[int] = []
    for folder in draw(
        st.lists(
            st.sampled_from(["", "images/", "Images/", "a b/c d/", "x" * 150 + "/"]), min_size=1, max_size=6
        )
    ):
        file_name = draw(FILE_NAMES)
        ext = file_name.rpartition(".")[2].lower()
        data = {"svg": SVG if file_name == "draw.svg" else UNSAFE_SVG}.get(ext, SAMPLES.get(ext, b"bytes"))
        if ext == "png" and draw(st.booleans()):
            data = SAMPLES["jpg"]  # bytes that do not match the name
        ids.append(course.file(folder + file_name, data, missing=draw(st.booleans()) and ext == "pdf").id)
    pages = []
    for n in range(draw(st.integers(1, 8))):
        pages.append(course.page(f"page-{n}", draw(TITLES), "", published=draw(st.booleans())))
        ids.append(pages[-1].id)
    body = html(course, ids + [p.id for p in pages])
    course.pages = [replace(p, body=draw(body)) for p in course.pages]  # bodies may link anywhere
    course.course = replace(course.course, syllabus_body=draw(body))
    due = st.one_of(st.none(), st.integers(-400, 400).map(lambda h: EXPORTED_AT + timedelta(hours=h)))
    for _ in range(draw(st.integers(0, 4))):
        course.assignment(
            draw(TITLES),
            draw(body),
            due_at=draw(due),
            points_possible=draw(st.sampled_from([None, 0.0, 2.5])),
            submission_types=tuple(
                draw(
                    st.lists(st.sampled_from(["online_upload", "on_paper", "weird_type", "none"]), max_size=3)
                )
            ),
        )
    for _ in range(draw(st.integers(0, 2))):
        course.quiz(draw(TITLES), description=draw(body), due_at=draw(due), graded=draw(st.booleans()))
    for _ in range(draw(st.integers(0, 2))):
        course.topic(draw(TITLES), draw(body), points=draw(st.sampled_from([None, 1.0])))
        course.announcement(draw(TITLES), draw(body), posted_at=draw(due))
    contents = course.pages + course.assignments + course.quizzes + course.topics + course.files
    for _ in range(draw(st.integers(0, 3))):
        chosen = draw(st.lists(st.sampled_from(contents), max_size=6))
        extras = draw(
            st.lists(
                st.one_of(
                    st.tuples(st.just("subheader"), TITLES),
                    st.tuples(st.just("url"), TITLES, urls(course, ids)),
                ),
                max_size=2,
            )
        )
        course.module(
            draw(TITLES),
            *chosen,
            *extras,
            unlock_at=draw(st.sampled_from([None, EXPORTED_AT + timedelta(days=1)])),
        )
    return course

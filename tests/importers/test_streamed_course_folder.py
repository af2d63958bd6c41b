"""A course folder streams into its one transaction: course.toml is read a table at a time and the
items are written in batches as they are read, so the import's memory does not grow with the
course; what it writes is what a whole read of course.toml gives, and a failure anywhere leaves
the library as it was."""

from __future__ import annotations

import re
import textwrap
import tomllib
import tracemalloc
from pathlib import Path

import pytest
from cartridge_kit import state

from tui_exports.cli import main
from tui_exports.importers import import_path
from tui_exports.importers.course_folder import CourseFolderError, read_course_toml


def paged_folder(path: Path, pages: int, per_module: int = 50) -> Path:
    """A course of ``pages`` pages, each linking to the next, in modules of ``per_module`` items
    that give no titles of their own (the page's is used)."""
    (path / "pages").mkdir(parents=True)
    toml = ["[course]\nname = 'Big'\ncourse_code = 'BIG'\n"]
    for n in range(pages):
        toml.append(f"[[pages]]\nslug = 'p{n}'\ntitle = 'Page {n}'\n")
        link = f'<a href="p{n + 1}.html">next</a>' if n + 1 < pages else ""
        (path / "pages" / f"p{n}.html").write_text(f"<p>Body {n} {link}</p>", encoding="utf-8")
    for m in range(0, pages, per_module):
        items = ", ".join(f"{{ type = 'page', ref = 'p{n}' }}" for n in range(m, min(pages, m + per_module)))
        toml.append(f"[[modules]]\nkey = 'm{m}'\nname = 'Module {m}'\nitems = [{items}]\n")
    (path / "course.toml").write_text("\n".join(toml), encoding="utf-8")
    return path


def traced_peak(library, folder: Path) -> tuple[int, int]:
    """The import's peak of Python memory, and the new course's id."""
    tracemalloc.start()
    try:
        course_id = import_path(library, folder).course_id
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, course_id


@pytest.mark.slow
def test_a_course_folder_imports_in_memory_that_does_not_grow_with_its_items(library, tmp_path):
    import_path(library, paged_folder(tmp_path / "first", 50))  # what a first import loads, once
    small, _ = traced_peak(library, paged_folder(tmp_path / "small", 100))
    large, course_id = traced_peak(library, paged_folder(tmp_path / "large", 1000))

    # holding the course (its parsed course.toml, every page) costs ~3 KB a page here: ~2.5 MB more
    assert large - small < 300_000, (small, large)
    content = library.content.course_content(course_id)
    pages = {p.url: p for p in content["pages"]}
    assert len(pages) == 1000
    assert f'href="/courses/{course_id}/pages/p8"' in pages["p7"].body
    modules = content["modules"]
    assert len(modules) == 20 and modules[-1].name == "Module 950"
    items = modules[-1].items
    assert [(it.title, it.content_id) for it in items[-2:]] == [
        ("Page 998", pages["p998"].id),
        ("Page 999", pages["p999"].id),
    ]


def test_an_error_on_the_last_item_takes_back_every_row_and_blob_written_before_it(library, tmp_path):
    folder = paged_folder(tmp_path / "course", 450)  # past two batches of pages
    (folder / "files").mkdir()
    (folder / "files" / "notes.txt").write_text("the only blob", encoding="utf-8")
    with open(folder / "course.toml", "a", encoding="utf-8") as f:
        f.write("\n[[modules]]\nkey = 'last'\nname = 'Last'\nitems = [{ type = 'page', ref = 'nowhere' }]\n")
    before = state(library)

    with pytest.raises(CourseFolderError, match="module 'last' item #1: no page 'nowhere' in this course"):
        import_path(library, folder)
    assert state(library) == before


def test_two_pages_of_one_slug_are_refused_in_one_line(home, capsys, tmp_path):
    folder = tmp_path / "course"
    (folder / "pages").mkdir(parents=True)
    (folder / "pages" / "a.html").write_text("<p>a</p>", encoding="utf-8")
    (folder / "course.toml").write_text(
        "[course]\nname='X'\ncourse_code='X'\n[[pages]]\nslug='a'\ntitle='A'\n[[pages]]\nslug='a'\ntitle='B'\n",
        encoding="utf-8",
    )
    code = main(["import", str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.strip() == f"error: {folder / 'course.toml'} [[pages]] #1 and #2 have the same key"


# Documents whose header-like lines are not all headers, sub-tables of arrays, tables declared
# late or twice: read a table at a time, they give what tomllib gives for the whole.
DOCUMENTS = {
    "strings and arrays holding header lines": '''
        users = [
            { key = "t", name = "T" },
        ]
        [course]
        name = "C"
        [[quizzes]]
        key = "q"
        description = """
        [[pages]]
        [course]
        ["pages"]
        """
        literal = \'\'\'
        [[modules]]
        \'\'\'
        grid = [
          [1, 2],
        [3]
        ]
        [[pages]]
        slug = "a"
        [[pages]]
        slug = "b"
        ''',
    "sub-tables of an array": """
        [[rubrics]]
        key = "r"
        [[rubrics.criteria]]
        description = "one"
        [rubrics.extra]
        x = 1
        [[rubrics.criteria]]
        description = "two"
        [[rubrics]]
        key = "s"
        [[ "pages" ]]
        slug = 'quoted'
        [[pages]] # a comment
        slug = 'next'
        """,
    "a table declared in two places": """
        [course]
        name = "C"
        [[pages]]
        slug = "a"
        [course.extra]
        x = 1
        """,
    "arrays of tables interleaved": """
        [[pages]]
        slug = "a"
        [[modules]]
        key = "m"
        [[pages]]
        slug = "b"
        """,
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_course_toml_read_a_table_at_a_time_is_what_a_whole_read_gives(tmp_path, name):
    text = textwrap.dedent(DOCUMENTS[name])
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    whole = tomllib.loads(text)

    spec = read_course_toml(path)
    read = {key: list(spec.tables(key)) if key in spec.runs else spec.get(key) for key in whole}
    assert read == whole


@pytest.mark.parametrize(
    "text, reason",
    [
        (
            "[course]\nname='A'\n[[pages]]\nslug='a'\n[course]\nname='B'\n",
            "Cannot declare ('course',) twice (at line 5",
        ),
        ("[[pages]]\nslug='a'\ntitle = '''\n[[pages]]\n", "Expected \"'''\" (at end of document)"),
        ("pages = [1]\n[[pages]]\nslug='b'\n", "Cannot mutate immutable namespace ('pages',) (at line 2"),
        ("[[pages]]\nslug='a'\n[pages]\nx = 1\n", "Cannot declare ('pages',) twice (at line 3"),
        ("[course]\nname = 1\n[[pages]]\nslug = 1\n[[course]]\n", "Cannot overwrite a value (at line 5"),
    ],
)
def test_a_course_toml_that_is_not_toml_is_refused_in_tomllibs_words(tmp_path, text, reason):
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CourseFolderError, match=re.escape(f"course.toml: not valid TOML ({reason}")):
        read_course_toml(path)

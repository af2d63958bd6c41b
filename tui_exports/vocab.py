"""The vocabularies every layer shares, each declared once: ``select`` types and export formats.

Pure data (no imports of the package): the engine's parser, the id helper, the server,
the picker and the CLI derive their tables from :data:`SELECT_VOCAB`, and the engine,
permissions, the CLI, the server and the app read :data:`FORMATS`.  Adding a select
type is one :class:`SelectType` here plus the code that loads it (its ``catalogue``
and ``content_list`` rows, ``engine/select.py``); adding a format is one
:class:`ExportFormat` plus its exporter module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SelectType:
    """One ``select`` type, under its canonical (engine) name."""

    key: str  # canonical name, e.g. "wiki_pages"
    prefix: str  # Canvas's asset-string prefix: "wiki_page" → "wiki_page_42"
    word: str  # singular, in messages: "page"
    words: str  # plural: "pages"
    aliases: tuple[str, ...] = ()  # other names the API takes; the first is what fronts send
    heading: str | None = None  # the picker's branch heading (None: listed under ``parent``)
    parent: str | None = None  # API name of the branch it is listed under ("modules" for module items)
    parent_field: str | None = None  # the row field naming the item of ``branch`` it sits in ("module_id")
    list_title: str | None = None  # its title at the top of Canvas's content_list (None: not listed there)
    picker_rank: int = 0  # position in the picker and in the ``select`` hash it builds

    @property
    def api(self) -> str:
        """The name fronts send (Canvas's alias when there is one: ``pages``, ``files``…)."""
        return self.aliases[0] if self.aliases else self.key

    @property
    def branch(self) -> str:
        """The picker branch (API name) it is listed under."""
        return self.parent or self.api


#: The ``select`` types, in the order Canvas's content_list shows them.
# one row per type: it reads as the table it is
SELECT_VOCAB: tuple[SelectType, ...] = (
    SelectType("context_modules", "context_module", "module", "modules", ("modules",),
               heading="Modules", list_title="Modules", picker_rank=0),
    SelectType("content_tags", "content_tag", "module item", "module items", ("module_items",),
               parent="modules", parent_field="module_id", picker_rank=1),
    SelectType("assignments", "assignment", "assignment", "assignments",
               heading="Assignments", list_title="Assignments", picker_rank=3),
    SelectType("quizzes", "quizzes:quiz", "quiz", "quizzes",
               heading="Quizzes", list_title="Quizzes", picker_rank=4),
    SelectType("discussion_topics", "discussion_topic", "discussion topic", "discussion topics",
               heading="Discussion topics", list_title="Discussion Topics", picker_rank=5),
    SelectType("wiki_pages", "wiki_page", "page", "pages", ("pages",),
               heading="Pages", list_title="Pages", picker_rank=2),
    SelectType("announcements", "discussion_topic", "announcement", "announcements",
               heading="Announcements", list_title="Announcements", picker_rank=6),
    SelectType("calendar_events", "calendar_event", "calendar event", "calendar events",
               heading="Calendar events", list_title="Events", picker_rank=7),
    SelectType("rubrics", "rubric", "rubric", "rubrics",
               heading="Rubrics", list_title="Rubrics", picker_rank=8),
    SelectType("folders", "folder", "folder", "folders",
               heading="Files", parent_field="parent_id", picker_rank=9),
    SelectType("attachments", "attachment", "file", "files", ("files",),
               parent="folders", parent_field="folder_id", list_title="Files", picker_rank=10),
)  # fmt: skip

#: Canonical name → entry.
SELECT_BY_KEY: dict[str, SelectType] = {t.key: t for t in SELECT_VOCAB}
#: Every name the API takes (canonical and aliases) → canonical name.
SELECT_NAMES: dict[str, str] = {
    **{t.key: t.key for t in SELECT_VOCAB},
    **{a: t.key for t in SELECT_VOCAB for a in t.aliases},
}
#: The canonical names, in content_list order.
SELECT_KEYS: tuple[str, ...] = tuple(t.key for t in SELECT_VOCAB)
#: The entries in picker order.
PICKER_ORDER: tuple[SelectType, ...] = tuple(sorted(SELECT_VOCAB, key=lambda t: t.picker_rank))

#: Keys Canvas knows for content this library never holds: ``all_<x>`` is accepted and
#: selects nothing; a list of ids for them is an error (no such ids can exist here).
CANVAS_ONLY_TYPES = (
    "assessment_question_banks", "learning_outcomes", "context_external_tools",
    "tool_profiles", "course_paces", "blueprint_settings", "assignment_groups",
)  # fmt: skip


# ---------------------------------------------------------------- export formats


@dataclass(frozen=True)
class ExportFormat:
    """One export format: what it is called, what it may carry, who may make it, how it runs."""

    name: str  # the ``export_type`` value ("epub": the ePub pipeline, its own API)
    label: str  # the new-export dialog's label
    short: str  # the history's short label
    exporter: str  # "module:function" (or a module for a pipeline), imported on first use
    file_name: str  # the file it writes; ``{name}`` is the exporter's slug (course or folder name)
    contexts: tuple[str, ...] = ("Course",)  # ContextType values it may be made in
    select_types: tuple[str, ...] | None = None  # what it can carry (None: everything)
    refusal: str = ""  # why another type is refused: "zip exports only folders and files"
    admin_only: bool = True  # needs read_as_admin (teachers, TAs, designers)
    default_select: tuple[str, ...] | None = None  # ``all_<type>`` when no select is given (None: everything)
    versions: tuple[str, ...] = ()  # version choices, the first the default ("1.1.0", "1.3.0")
    linked_files: bool = True  # the engine's closure adds files linked from selected HTML
    notifies: bool = True  # the person is notified when a course export ends
    content_export: bool = True  # made through the Content Exports API (not the ePub one)
    file_copies: int = 1  # how many times it writes each file it carries (an ePub: the book and its zip)

    def file_for(self, name: str) -> str:
        """``file_for("astronomy-101")`` → ``"astronomy-101-export.imscc"``."""
        return self.file_name.format(name=name)

    def allows(self, select_type: str) -> bool:
        return self.select_types is None or select_type in self.select_types

    @property
    def version_choices(self) -> tuple[str, ...]:
        """``("1.1", "1.3")``: the short names people type."""
        return tuple(v.removesuffix(".0") for v in self.versions)

    def version(self, value: str | None) -> str | None:
        """The canonical version for ``1.1`` or ``1.1.0`` (the default for None); None if unknown."""
        if not self.versions:
            return None
        wanted = str(value or self.versions[0])
        return next((v for v in self.versions if wanted in (v, v.removesuffix(".0"))), None)


#: Every format, in the order the new-export dialog offers them.
# one entry per format: it reads as the table it is
FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("common_cartridge", "Common Cartridge", "cartridge",
                 "tui_exports.exporters.cc:export_common_cartridge", "{name}-export.imscc",
                 versions=("1.1.0", "1.3.0")),
    ExportFormat("qti", "QTI", "QTI", "tui_exports.exporters.qti:export_qti", "{name}-quiz-export.zip",
                 select_types=("quizzes",), refusal="qti exports only quizzes",
                 default_select=("quizzes",), linked_files=False),
    ExportFormat("zip", "zip of files", "zip", "tui_exports.exporters.zip:export_zip", "{name}_export.zip",
                 contexts=("Course", "Group", "User"), select_types=("folders", "attachments"),
                 refusal="zip exports only folders and files", admin_only=False,
                 default_select=("attachments",), notifies=False),
    ExportFormat("epub", "ePub", "ePub", "tui_exports.exporters.epub", "{name}.epub", admin_only=False,
                 content_export=False, file_copies=2),
)  # fmt: skip

FORMAT_BY_NAME: dict[str, ExportFormat] = {f.name: f for f in FORMATS}
#: The formats of the Content Exports API (``export_type``).
CONTENT_FORMATS: tuple[ExportFormat, ...] = tuple(f for f in FORMATS if f.content_export)


def formats_for(context: str) -> tuple[ExportFormat, ...]:
    """The content-export formats a course, group or user (ContextType value) may be exported as."""
    return tuple(f for f in CONTENT_FORMATS if context in f.contexts)


# ---------------------------------------------------------------- cartridge link tokens

#: The tokens a Common Cartridge body links with instead of course URLs (spec §4.6): the
#: exporter writes them (``exporters/common/cc_links.py``), the importer resolves them
#: back to the library's links (``importers/links.py``).
CC_FILEBASE = "$IMS-CC-FILEBASE$"
CC_WIKI_TOKEN = "$WIKI_REFERENCE$"
CC_COURSE_TOKEN = "$CANVAS_COURSE_REFERENCE$"
CC_OBJECT_TOKEN = "$CANVAS_OBJECT_REFERENCE$"
CC_TOKENS = (CC_FILEBASE, CC_WIKI_TOKEN, CC_OBJECT_TOKEN, CC_COURSE_TOKEN)

"""Synthetic courses of any size, for benchmarks and tests (``tui-exports library generate``).

:func:`write_course_folder` writes a course folder in the ``data/`` format (data/README.md):
pages of realistic HTML that link to each other, to files and to images; quizzes mixing
Canvas's question types (some showing a figure); modules holding pages, quizzes, files,
sub-headers and web links; and files that mix incompressible media (random bytes behind real
JPEG, PNG, MP3 and MP4 headers) with compressible text, CSV and PDF-like documents.
:func:`generate_course` writes such a folder beside the library and loads it with the
course-folder importer, so the course goes through exactly the code a real one does.

Everything is derived from the seed (same spec, same bytes), and file bytes are written in
1 MiB chunks: a 1 GB course never sits in memory.
"""

from __future__ import annotations

import random
import shutil
import struct
import tempfile
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import tomli_w

from ..model import Course, Enrollment, Role
from ..store import CourseBundle, Library
from .course_folder import LoadReport, add_course_folder

MIB = 1 << 20
CHUNK = MIB

WORDS = (
    "analysis approach argument assumption balance boundary cause claim climate compare concept "
    "context contrast curve data debate decline define density design detail diagram energy "
    "equation estimate evidence example experiment factor feature field figure force framework "
    "function growth history hypothesis image impact index input interval label layer limit "
    "matrix measure method model motion network number object orbit outcome pattern period "
    "phase policy pressure principle process property quantity range rate ratio reason record "
    "region result sample scale sequence signal source space spectrum structure surface system "
    "table theory trend value variable vector velocity volume wave weight the a of and to in is "
    "that for on with as by this we it be are from at or an which can these each their will "
    "more than when how why what between within across under over through during before after"
).split()
TOPICS = (
    "Foundations",
    "Measurement",
    "Patterns",
    "Models",
    "Evidence",
    "Systems",
    "Change",
    "Structure",
    "Energy",
    "Networks",
    "Signals",
    "Scale",
    "Methods",
    "Practice",
    "Review",
    "Applications",
)

#: (kind, extension, folder, relative average size); files take kinds in this repeating order,
#: so even a handful of files holds every kind, and 500 files hold the same mix 25 times.
KINDS = {
    "photo": ("jpg", 1.0),
    "figure": ("png", 0.05),
    "diagram": ("png", 0.4),
    "audio": ("mp3", 3.0),
    "video": ("mp4", 8.0),
    "handout": ("pdf", 1.0),
    "notes": ("txt", 0.3),
    "data": ("csv", 0.5),
}
PATTERN = (
    "photo",
    "handout",
    "notes",
    "video",
    "figure",
    "audio",
    "data",
    "diagram",
    "photo",
    "handout",
    "photo",
    "figure",
    "notes",
    "photo",
    "data",
    "photo",
    "handout",
    "diagram",
    "photo",
    "figure",
)
MEDIA_KINDS = ("photo", "figure", "diagram", "audio", "video")

QUESTION_PATTERN = (
    "multiple_choice",
    "true_false",
    "multiple_answers",
    "short_answer",
    "matching",
    "numerical",
    "fill_in_multiple_blanks",
    "multiple_choice",
    "multiple_dropdowns",
    "essay",
    "calculated",
    "multiple_choice",
    "true_false",
    "numerical",
    "multiple_answers",
    "file_upload",
    "short_answer",
    "multiple_choice",
    "matching",
    "text_only",
)


@dataclass(frozen=True)
class CourseSpec:
    """The size of a synthetic course.  ``file_mb`` is the total of all files, in MiB."""

    pages: int = 20
    quizzes: int = 2
    questions_per_quiz: int = 10
    files: int = 10
    file_mb: float = 5.0
    modules: int = 4
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("pages", "quizzes", "questions_per_quiz", "files", "modules"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more")
        if self.file_mb < 0:
            raise ValueError("file_mb must be 0 or more")

    @property
    def name(self) -> str:
        return (
            f"Synthetic Course {self.seed} ({self.pages} pages, {self.quizzes} quizzes, {self.files} files)"
        )

    @property
    def arguments(self) -> str:
        """The ``library generate`` options that make this course."""
        return (
            f"--pages {self.pages} --quizzes {self.quizzes} --questions-per-quiz {self.questions_per_quiz} "
            f"--files {self.files} --file-mb {self.file_mb:g} --modules {self.modules} --seed {self.seed}"
        )

    @property
    def questions(self) -> int:
        return self.quizzes * self.questions_per_quiz


@dataclass(frozen=True)
class PlannedFile:
    path: str  # below files/
    kind: str
    size: int


# ---------------------------------------------------------------------- files


def plan_files(spec: CourseSpec) -> list[PlannedFile]:
    """Every file's path, kind and size; the sizes add up to ``file_mb`` MiB exactly."""
    rng = random.Random(f"{spec.seed}:files")
    kinds = [PATTERN[i % len(PATTERN)] for i in range(spec.files)]
    weights = [KINDS[k][1] * rng.uniform(0.5, 1.5) for k in kinds]
    total = int(spec.file_mb * MIB)
    scale = total / (sum(weights) or 1)
    sizes = [int(w * scale) for w in weights]
    if sizes:
        sizes[-1] += total - sum(sizes)
    weeks = max(1, spec.modules)
    out = []
    seen = dict.fromkeys(KINDS, 0)
    for i, (kind, size) in enumerate(zip(kinds, sizes, strict=True)):
        n = i + 1
        ext = KINDS[kind][0]
        week = seen[kind] % weeks + 1  # each kind spread over the weeks
        seen[kind] += 1
        path = {
            "photo": f"images/week-{week:02d}/photo-{n:04d}.{ext}",
            "figure": f"images/figures/figure-{n:04d}.{ext}",
            "diagram": f"images/diagrams/Diagram {n:04d}.{ext}",
            "audio": f"audio/lecture-{n:04d}.{ext}",
            "video": f"video/week-{week:02d}/lecture-{n:04d}.{ext}",
            "handout": f"handouts/Handout {n:04d} (week {week}).{ext}",
            "notes": f"notes/week-{week:02d}/notes-{n:04d}.{ext}",
            "data": f"data/dataset-{n:04d}.{ext}",
        }[kind]
        out.append(PlannedFile(path, kind, size))
    return out


class _TextPool:
    """A seeded block of prose or CSV rows that compressible files are cut from (fast, and
    varied enough that deflate finds no long repeats inside its 32 KiB window)."""

    def __init__(self, rng: random.Random, kind: str, size: int = MIB):
        parts: list[str] = []
        length = 0
        row = 0
        while length < size:
            if kind == "data":
                row += 1
                line = f"{row},{rng.choice(WORDS)},{rng.uniform(0, 1000):.3f},{rng.randint(0, 99999)},{rng.choice(TOPICS)}\n"
            else:
                line = " ".join(rng.choices(WORDS, k=rng.randint(6, 18))).capitalize() + ".\n"
            parts.append(line)
            length += len(line)
        self.data = "".join(parts).encode("ascii")

    def chunks(self, rng: random.Random, size: int):
        """``size`` bytes taken from random places of the pool, whole lines where possible."""
        while size > 0:
            start = rng.randrange(len(self.data))
            start = self.data.find(b"\n", start) + 1
            piece = self.data[start : start + min(size, 64 * 1024)]
            if not piece:
                continue
            yield piece
            size -= len(piece)


def _random_bytes(rng: random.Random, size: int):
    while size > 0:
        n = min(size, CHUNK)
        yield rng.randbytes(n)
        size -= n


def _png_chunk_header(kind: bytes, length: int) -> bytes:
    return struct.pack(">I", length) + kind


def write_file(out: BinaryIO, planned: PlannedFile, rng: random.Random, pools: dict[str, _TextPool]) -> None:
    """The bytes of one file: a real header of its type, then random or text bytes, streamed.

    A file is ``planned.size`` bytes, or just its header and trailer when that is larger."""
    kind, size = planned.kind, planned.size
    if kind == "photo":
        head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
        tail = b"\xff\xd9"
        out.write(head)
        for chunk in _random_bytes(rng, size - len(head) - len(tail)):
            out.write(chunk)
        out.write(tail)
    elif kind in ("figure", "diagram"):
        ihdr = struct.pack(">IIBBBBB", 640, 480, 8, 2, 0, 0, 0)
        head = (
            b"\x89PNG\r\n\x1a\n"
            + _png_chunk_header(b"IHDR", 13)
            + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
        )
        iend = _png_chunk_header(b"IEND", 0) + struct.pack(">I", zlib.crc32(b"IEND"))
        body = max(0, size - len(head) - 12 - len(iend))
        out.write(head + _png_chunk_header(b"IDAT", body))
        crc = zlib.crc32(b"IDAT")
        for chunk in _random_bytes(rng, body):
            crc = zlib.crc32(chunk, crc)
            out.write(chunk)
        out.write(struct.pack(">I", crc) + iend)
    elif kind == "audio":
        head = b"ID3\x04\x00\x00\x00\x00\x00\x00"
        out.write(head)
        for chunk in _random_bytes(rng, size - len(head)):
            out.write(chunk)
    elif kind == "video":
        ftyp = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        body = max(0, size - len(ftyp) - 8)
        out.write(ftyp + struct.pack(">I", min(body + 8, 0xFFFFFFFF)) + b"mdat")
        for chunk in _random_bytes(rng, body):
            out.write(chunk)
    elif kind == "handout":
        head = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj\n<< /Length 0 >>\nstream\n"
        tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
        out.write(head)
        for chunk in pools["notes"].chunks(rng, size - len(head) - len(tail)):
            out.write(chunk)
        out.write(tail)
    else:  # notes, data
        head = b"id,term,value,count,topic\n" if kind == "data" else b"Lecture notes\n\n"
        out.write(head)
        for chunk in pools[kind].chunks(rng, size - len(head)):
            out.write(chunk)


# ---------------------------------------------------------------------- HTML


class _Html:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def words(self, lo: int, hi: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(lo, hi)))

    def sentence(self) -> str:
        return self.words(6, 16).capitalize() + "."

    def paragraph(self, extra: str = "") -> str:
        sentences = [self.sentence() for _ in range(self.rng.randint(3, 7))]
        if extra:
            sentences.insert(self.rng.randint(0, len(sentences)), extra)
        body = " ".join(sentences)
        return f"<p>{body}</p>"

    def title(self) -> str:
        return " ".join(w.capitalize() for w in self.rng.choices(WORDS[:100], k=self.rng.randint(2, 4)))


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def page_html(
    spec: CourseSpec,
    n: int,
    slugs: list[str],
    titles: list[str],
    files: list[PlannedFile],
    rng: random.Random,
) -> str:
    """One page body: headings, paragraphs, a list or a table, links to pages, files and images."""
    h = _Html(rng)
    images = [f for f in files if f.kind in ("photo", "figure", "diagram")]
    docs = [f for f in files if f.kind in ("handout", "notes", "data", "video", "audio")]
    parts = [f"<h2>{_attr(titles[n])}</h2>"]
    links = []
    for target in {(n + 1) % len(slugs), (n - 1) % len(slugs), rng.randrange(len(slugs))} - {n}:
        links.append(f'<a href="{slugs[target]}.html">{_attr(titles[target])}</a>')
    if docs:
        d = docs[rng.randrange(len(docs))]
        links.append(f'<a href="../files/{_href(d.path)}">{_attr(d.path.rsplit("/", 1)[-1])}</a>')
    if rng.random() < 0.3:
        links.append('<a href="https://en.wikipedia.org/wiki/Special:Random">further reading</a>')
    rng.shuffle(links)
    paragraphs = rng.randint(3, 6)
    for i in range(paragraphs):
        extra = f"See {links[i]}." if i < len(links) else ""
        parts.append(h.paragraph(extra))
        if i == 0 and images:
            img = images[rng.randrange(len(images))]
            parts.append(
                f'<p><img src="../files/{_href(img.path)}" alt="{_attr(h.words(3, 8))}" '
                f'width="480" height="360"></p>'
            )
        if i == 1:
            if rng.random() < 0.5:
                items = "".join(f"<li>{h.sentence()}</li>" for _ in range(rng.randint(3, 6)))
                parts.append(f"<h3>{_attr(h.title())}</h3><ul>{items}</ul>")
            else:
                rows = "".join(
                    f"<tr><td>{h.words(1, 3)}</td><td>{rng.uniform(0, 100):.2f}</td><td>{rng.randint(1, 9999)}</td></tr>"
                    for _ in range(rng.randint(3, 8))
                )
                parts.append(
                    f"<table><thead><tr><th>Term</th><th>Value</th><th>Count</th></tr></thead><tbody>{rows}</tbody></table>"
                )
    for link in links[paragraphs:]:
        parts.append(f"<p>Also: {link}</p>")
    return "\n".join(parts) + "\n"


def _href(path: str) -> str:
    return quote(path)


# ---------------------------------------------------------------------- quizzes


def question(kind: str, n: int, h: _Html, rng: random.Random, figure: str | None) -> dict:
    text = h.sentence()[:-1] + "?"
    if figure:
        text += f' <img src="../files/{_href(figure)}" alt="figure for question {n}">'
    q: dict = {
        "type": kind,
        "name": f"Question {n}",
        "text": f"<p>{text}</p>",
        "points": float(rng.randint(1, 4)),
    }
    if kind == "multiple_choice":
        right = rng.randrange(4)
        q["answers"] = [{"text": h.words(2, 6), "weight": 100 if i == right else 0} for i in range(4)]
        q["answers"][right]["comments"] = "Correct: " + h.sentence()
    elif kind == "true_false":
        right = rng.randrange(2)
        q["answers"] = [
            {"text": t, "weight": 100 if i == right else 0} for i, t in enumerate(("True", "False"))
        ]
    elif kind == "multiple_answers":
        q["answers"] = [{"text": h.words(2, 5), "weight": 100 if i % 2 == 0 else 0} for i in range(5)]
    elif kind == "short_answer":
        q["answers"] = [{"text": w} for w in rng.sample(WORDS[:100], 2)]
    elif kind == "matching":
        lefts = rng.sample(WORDS[:100], 4)
        q["answers"] = [{"left": w.capitalize(), "right": h.words(1, 3)} for w in lefts]
        q["distractors"] = [h.words(1, 3)]
    elif kind == "numerical":
        value = round(rng.uniform(1, 500), 2)
        q["answers"] = [
            {"kind": "exact", "exact": value, "margin": 0.5},
            {"kind": "range", "start": value - 1, "end": value + 1},
        ]
    elif kind in ("fill_in_multiple_blanks", "multiple_dropdowns"):
        q["text"] = f"<p>{h.words(3, 6)} [b1] {h.words(2, 5)} [b2].</p>"
        if kind == "fill_in_multiple_blanks":
            q["answers"] = [
                {"blank": "b1", "text": rng.choice(WORDS)},
                {"blank": "b2", "text": rng.choice(WORDS)},
            ]
        else:
            q["answers"] = [
                {"blank": b, "text": rng.choice(WORDS), "weight": 100 if i == 0 else 0}
                for b in ("b1", "b2")
                for i in range(3)
            ]
    elif kind == "calculated":
        a, b = rng.randint(1, 9), rng.randint(10, 20)
        q["text"] = "<p>What is [x] times [y]?</p>"
        q["calculated"] = {
            "formulas": ["x * y"],
            "variables": [
                {"name": "x", "min": 1.0, "max": 9.0, "scale": 0},
                {"name": "y", "min": 10.0, "max": 20.0, "scale": 0},
            ],
            "answer_tolerance": 0.0,
            "formula_decimal_places": 0,
            "var_sets": [
                {"variables": {"x": float(a + i), "y": float(b)}, "answer": float((a + i) * b)}
                for i in range(3)
            ],
        }
    elif kind == "text_only":
        q["points"] = 0.0
        q["text"] = h.paragraph()
    else:  # essay, file_upload
        q["neutral_comments"] = h.sentence()
    return q


def quiz_table(spec: CourseSpec, n: int, key: str, figures: list[PlannedFile], rng: random.Random) -> dict:
    h = _Html(rng)
    questions = []
    for j in range(spec.questions_per_quiz):
        figure = figures[rng.randrange(len(figures))].path if figures and j % 5 == 2 else None
        questions.append(question(QUESTION_PATTERN[(n + j) % len(QUESTION_PATTERN)], j + 1, h, rng, figure))
    quiz: dict = {
        "key": key,
        "title": f"Quiz {n + 1}: {h.title()}",
        "description": h.paragraph(),
        "quiz_type": "practice_quiz" if n % 5 == 4 else "assignment",
        "time_limit": 30,
        "allowed_attempts": 2,
        "shuffle_answers": True,
        "due_at": f"2026-{3 + n % 9:02d}-{1 + n % 27:02d}T23:59:00Z",
        "questions": questions,
    }
    if spec.questions_per_quiz >= 10:  # the last four questions: a group that shows two of them
        quiz["groups"] = [{"key": "pool", "name": "Question pool", "pick_count": 2, "question_points": 2.0}]
        for qq in questions[-4:]:
            qq["group"] = "pool"
    return quiz


# ---------------------------------------------------------------------- the folder


def _chunks(n: int, parts: int) -> list[range]:
    return [range(n * k // parts, n * (k + 1) // parts) for k in range(parts)]


def write_course_folder(
    spec: CourseSpec, out: Path, teacher_key: str = "teacher", progress: Callable[[str], None] | None = None
) -> Path:
    """Write a course folder (the ``data/`` format) at ``out``, which must not exist or be empty."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty")
    say = progress or (lambda message: None)
    rng = random.Random(f"{spec.seed}:course")
    h = _Html(rng)
    for sub in ("pages", "quizzes", "files"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    files = plan_files(spec)
    say(f"writing {len(files)} files ({spec.file_mb:g} MiB)")
    pools = {kind: _TextPool(random.Random(f"{spec.seed}:{kind}"), kind) for kind in ("notes", "data")}
    for i, f in enumerate(files):
        path = out / "files" / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            write_file(fh, f, random.Random(f"{spec.seed}:file:{i}"), pools)

    say(f"writing {spec.pages} pages")
    slugs = [f"page-{n + 1:04d}" for n in range(spec.pages)]
    titles = [f"{TOPICS[n % len(TOPICS)]} {n + 1}: {h.title()}" for n in range(spec.pages)]
    for n, slug in enumerate(slugs):
        body = page_html(spec, n, slugs, titles, files, random.Random(f"{spec.seed}:page:{n}"))
        (out / "pages" / f"{slug}.html").write_text(body, encoding="utf-8")

    say(f"writing {spec.quizzes} quizzes × {spec.questions_per_quiz} questions")
    figures = [f for f in files if f.kind == "figure"]
    quiz_keys = [f"quiz-{n + 1:03d}" for n in range(spec.quizzes)]
    for n, key in enumerate(quiz_keys):
        table = quiz_table(spec, n, key, figures, random.Random(f"{spec.seed}:quiz:{n}"))
        with open(out / "quizzes" / f"{key}.toml", "wb") as fh:
            tomli_w.dump(table, fh)

    syllabus = "<h2>Syllabus</h2>\n" + "\n".join(h.paragraph() for _ in range(4))
    if slugs:
        syllabus += f'\n<p>Start with <a href="pages/{slugs[0]}.html">{_attr(titles[0])}</a>.</p>'
    (out / "syllabus.html").write_text(syllabus + "\n", encoding="utf-8")

    modules = []
    handouts = [f for f in files if f.kind in ("handout", "video", "notes")]
    page_parts, quiz_parts = (
        _chunks(spec.pages, max(1, spec.modules)),
        _chunks(spec.quizzes, max(1, spec.modules)),
    )
    for k in range(spec.modules):
        items: list[dict] = [{"type": "subheader", "title": "Read"}]
        items += [{"type": "page", "ref": slugs[n], "indent": 1} for n in page_parts[k]]
        if handouts:
            items.append({"type": "file", "ref": handouts[k % len(handouts)].path, "indent": 1})
        items.append(
            {"type": "url", "title": "Reference", "url": f"https://example.org/ref/{k + 1}", "new_tab": True}
        )
        if len(quiz_parts[k]):
            items.append({"type": "subheader", "title": "Practice"})
            items += [{"type": "quiz", "ref": quiz_keys[n], "indent": 1} for n in quiz_parts[k]]
        module: dict = {
            "key": f"module-{k + 1:03d}",
            "name": f"Module {k + 1}: {TOPICS[k % len(TOPICS)]}",
            "items": items,
        }
        if k:
            module["prerequisites"] = [f"module-{k:03d}"]
        modules.append(module)

    course = {
        "course": {
            "name": spec.name,
            "course_code": f"SYN-{spec.seed}",
            "start_at": "2026-01-12T09:00:00Z",
            "end_at": "2026-05-29T17:00:00Z",
            "term": "Synthetic term",
            "syllabus": "syllabus.html",
            "license": "cc_by",
        },
        "users": [{"key": teacher_key, "name": "Synthetic Teacher", "login_id": teacher_key}],
        "enrollments": [{"user": teacher_key, "role": "teacher"}],
        "pages": [
            {"slug": s, "title": t, "front_page": n == 0}
            for n, (s, t) in enumerate(zip(slugs, titles, strict=True))
        ],
        "modules": modules,
    }
    with open(out / "course.toml", "wb") as fh:
        fh.write(f"# A synthetic course: tui-exports library generate {spec.arguments}\n".encode())
        tomli_w.dump(course, fh)
    say("done")
    return out


def generate_course(
    library: Library,
    spec: CourseSpec,
    teacher_key: str = "teacher",
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Write the course folder in a temporary directory beside the library, load it, remove it."""
    tmp = Path(tempfile.mkdtemp(prefix=".generate-", dir=library.home.data))
    try:
        folder = write_course_folder(spec, tmp / f"synthetic-{spec.seed}", teacher_key, progress)
        if progress:
            progress("loading into the library")
        return add_course_folder(library, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def add_empty_courses(library: Library, count: int, teacher_id: int, prefix: str = "Filler") -> list[int]:
    """``count`` courses with no content, the teacher enrolled in each (a long course list)."""
    ids = []
    with library.transaction():
        next_id = library.content.next_ids()["courses"]
        for n in range(count):
            cid = next_id + n
            course = Course(
                id=cid,
                name=f"{prefix} course {n + 1:05d}",
                course_code=f"{prefix[:3].upper()}-{n + 1:05d}",
                uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"tui-exports:{prefix}:{cid}")),
                term="Synthetic term",
            )
            bundle = CourseBundle(course=course, enrollments=[Enrollment(teacher_id, cid, Role.TEACHER)])
            library.content.insert_course(bundle)
            ids.append(cid)
    return ids

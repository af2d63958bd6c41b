#!/usr/bin/env python3
"""Benchmarks of tui-exports against baselines measured in the same run (issue 7).

    python benchmarks/run.py                 # the issue's size: 2,000 pages, 200 quizzes x 20, 500 files, 1 GiB
    python benchmarks/run.py --quick         # a small course, under a minute (CI smoke test)
    python benchmarks/run.py --size small    # a tenth of the full size
    python benchmarks/run.py --only exports  # some parts: exports, import, tui, items (comma-separated)

In a temporary library it generates a course of the chosen size (and one a tenth of it, to
show that memory does not grow with the course), then measures every export type as a child
process -- wall time, CPU time (user + system) and peak RSS from ``os.wait4`` -- each right
before its floor and its references doing the same work on the same bytes (A B A B: every ratio
is the median of the per-pair ratios, and the pairs are listed with their spread):

* every export vs the machine's floor for its package: read the blobs it carries, deflate
  exactly the bytes it deflates (``pigz -1`` on every core, or zlib level 1 split across the
  cores in threads when pigz is missing), write and fsync as many bytes as it has;
* zip export vs Python's zipfile zipping the tree our zip unpacks to with our store-or-deflate
  choices at level 1, and vs Info-ZIP ``zip -r -q -1`` storing the same already-compressed
  types (``-n .jpg:.mp4:...``);
* Common Cartridge vs zipfile of the tree the cartridge unpacks to (its files + XML/HTML);
* QTI vs its floor (and questions per second);
* ePub vs ebooklib writing the same chapters and media with our store-or-deflate choices at
  level 1 (plus the companion zip, with zipfile, as our export writes one too);
* CPU/wall of each export: how many cores it kept busy;
* peak RSS of each export at the size and at a tenth of it, and of a course with a tenth of the
  items but all the file bytes (what grows: the items, or the bytes);
* the terminal app with 10,000 courses in the library: time from process start to the first
  painted frame, and keypress-to-repaint latency (p50/p95) while three exports run.  The app runs
  in a pseudo-terminal exactly as a person starts it; a repaint is the first output after a key
  that shows the newly highlighted course.

It prints one table and writes ``benchmarks/RESULTS.md`` (``--results``; a --quick run writes
no file unless asked).  Only the part between the ``results`` markers is replaced: notes
below it (profiles, fixes with before/after) stay.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZES = {
    "quick": dict(pages=40, quizzes=4, questions_per_quiz=20, files=20, file_mb=8.0, modules=4),
    "small": dict(pages=200, quizzes=20, questions_per_quiz=20, files=50, file_mb=102.4, modules=4),
    "full": dict(pages=2000, quizzes=200, questions_per_quiz=20, files=500, file_mb=1024.0, modules=40),
}
TARGETS = {
    # x the machine's floor for the same package (issue 18): read the blobs, deflate the same bytes
    # with pigz -1 on every core, write and fsync as many bytes
    "zip": 1.5,
    "common_cartridge": 2.0,
    "qti": None,  # measured against the floor, with no goal: a QTI package is small, its time is items
    "epub": 2.0,
    "cpu_per_wall": 1.6,  # cores kept busy by the full-size zip, CC and ePub exports
    "zip_zipfile": 1.0,  # x Python's zipfile with our store-or-deflate choices
    "common_cartridge_zipfile": 1.5,  # x zipfile of the unpacked cartridge (its files + XML/HTML)
    "epub_ebooklib": 1.3,  # x ebooklib with our store-or-deflate choices
    "rss_mb": 150.0,
    "rss_growth": 1.15,  # 10x the course: at most 15 % more memory
    "import": 3.0,  # x unzip -q of the same package
    "tui_first_frame_s": 0.5,  # from process start, with 100,000 courses (issue 18)
    "tui_list_s": 1.0,
    "tui_rss_mb": 100.0,
    "tui_filter_p95_ms": 50.0,
    "tui_p95_ms": 50.0,
}
#: item-heavy courses (issue 18, items 4-5): items at the small and the large size of the rows
ITEM_SIZES = {"quick": (300, 3_000), "small": (1_000, 10_000), "full": (10_000, 100_000)}
#: the commit the item-heavy speed row is measured against ("today's code" of issue 18)
ITEM_BASE_COMMIT = "d9ece00"
TARGETS_ITEMS = {"cc_speed": 0.5, "rss_mb": 150.0, "rss_growth": 1.15}
#: The parts of a run, in order (``--only``).
PARTS = ("exports", "import", "tui", "items")
#: The exports timed, by ``--type`` (``epub``: an ePub export), and their names in the table.
EXPORTS = {"zip": "zip", "common_cartridge": "Common Cartridge", "qti": "QTI", "epub": "ePub"}
#: What else each export is timed against, beside the floor: (key, what it is).
REFERENCES = {
    "zip": [
        ("zipfile", "Python zipfile, our store-or-deflate choices, level 1, fsync"),
        ("infozip", "Info-ZIP zip -r -q -1, the same stored types, no fsync"),
    ],
    "common_cartridge": [("zipfile", "Python zipfile of the unpacked .imscc, our choices, level 1, fsync")],
    "qti": [],
    "epub": [("ebooklib", "ebooklib, our store-or-deflate choices, level 1, fsync (+ companion zip)")],
}


def tenth_of(size: dict) -> dict:
    """A course a tenth of ``size`` (as many questions per quiz)."""
    tenth = {k: (round(v / 10, 1) if isinstance(v, float) else max(1, v // 10)) for k, v in size.items()}
    tenth["questions_per_quiz"] = size["questions_per_quiz"]
    return tenth


#: courses added for the app's rows, by size (the quick run checks that the rows run, not the goals)
FILLER_COURSES = {"quick": 500, "small": 10_000, "full": 100_000}
RESULTS_BEGIN, RESULTS_END = "<!-- results:begin -->", "<!-- results:end -->"


# ------------------------------------------------------------------ child processes


@dataclass
class Run:
    wall: float
    rss_mb: float
    code: int
    out: str
    err: str
    cpu: float = 0.0  # user + system seconds of the child and its children

    @property
    def cpu_per_wall(self) -> float:
        """How many cores the run kept busy on average (1.0: one core all along)."""
        return self.cpu / self.wall if self.wall else 0.0


#: Runs a command and writes its peak RSS (KiB) and CPU seconds (user, system) to a file.  A child's ``ru_maxrss`` starts from the
#: memory of the process it was spawned from (Linux carries the high-water mark across exec), so the
#: command is spawned from this small launcher, never from the benchmark process itself.
LAUNCHER = (
    "import os, sys\n"
    "pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime}')\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)
GNU_TIME = "/usr/bin/time"


def measure(cmd: list[str], env: dict[str, str], cwd: Path | None = None, check: bool = True) -> Run:
    """Run ``cmd`` as a child: its wall time, its own peak RSS and CPU time, through
    ``/usr/bin/time`` when present (``%M %U %S``), else through a small Python launcher using
    ``os.wait4``."""
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file,
    ):
        if os.access(GNU_TIME, os.X_OK):
            full = [GNU_TIME, "-q", "-f", "%M %U %S", "-o", rss_file.name, *cmd]
        else:
            full = [sys.executable, "-c", LAUNCHER, rss_file.name, *cmd]
        start = time.perf_counter()
        proc = subprocess.run(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        wall = time.perf_counter() - start
        out.seek(0), err.seek(0)
        text = rss_file.read().strip().splitlines()
        fields = text[-1].split() if text else []
        try:
            rss_kb, cpu = int(fields[0]), float(fields[1]) + float(fields[2])
        except (IndexError, ValueError):
            rss_kb, cpu = 0, 0.0
        run = Run(wall, rss_kb / 1024, proc.returncode, out.read(), err.read(), cpu)
    if check and run.code != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])}… exited {run.code}:\n{run.err[-2000:]}")
    return run


@dataclass
class Floor:
    """The floor of one export: the blobs to read, the bytes to deflate, the bytes to write."""

    blobs: Path  # a list of blob paths, one a line
    deflated: Path
    size: int

    def __post_init__(self) -> None:
        self.deflated_size = self.deflated.stat().st_size


def spread(ratios: list[float]) -> str:
    """The pair ratios and their spread (max - min), a note on the noise."""
    return f"{', '.join(f'{r:.2f}' for r in ratios)} (spread {max(ratios) - min(ratios):.2f})"


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path):
        self.args = args
        self.work = work
        self.home = work / "home"
        self.env = {**os.environ, "TUI_EXPORTS_HOME": str(self.home), "PYTHONPATH": str(ROOT)}
        self.env.pop("TUI_EXPORTS_SHARED", None)
        self.py = sys.executable
        self.zip = shutil.which("zip")
        self.rows: list[dict] = []
        self.info: dict[str, str] = {}

    def cli(self, *args: str, check: bool = True) -> Run:
        return measure([self.py, "-m", "tui_exports.cli", *args], self.env, check=check)

    def log(self, message: str) -> None:
        if not self.args.quiet:
            print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    # -------------------------------------------------------------- setup
    def generate(self, size: dict, seed: int) -> tuple[int, Run]:
        run = self.cli("library", "generate", *self.flags(size), "--seed", str(seed))
        return int(run.out.strip().splitlines()[-1]), run

    # -------------------------------------------------------------- our exports
    def export(self, course: int, kind: str) -> tuple[Run, list[Path]]:
        if kind == "epub":
            run = self.cli("epub", str(course), "--wait", "--json")
            ep = json.loads(run.out)["epub_export"]
            if ep["workflow_state"] != "generated":
                raise RuntimeError(f"epub export failed: {ep}")
            paths = [Path(ep["epub_attachment"]["path"])]
            if ep.get("zip_attachment"):
                paths.append(Path(ep["zip_attachment"]["path"]))
            return run, paths
        run = self.cli("export", str(course), "--type", kind, "--wait", "--json")
        ce = json.loads(run.out)
        if ce["workflow_state"] != "exported":
            raise RuntimeError(f"{kind} export failed: {ce.get('errors')}")
        return run, [Path(ce["attachment"]["path"])]

    # -------------------------------------------------------------- baselines and the floor
    def zip_baseline(self, tree: Path, stored: list[str]) -> Run:
        """Info-ZIP of ``tree`` at our level, storing our already-compressed types (no fsync)."""
        out = self.work / "baseline.zip"
        out.unlink(missing_ok=True)
        run = measure([self.zip, "-r", "-q", "-1", "-n", ":".join(stored), str(out), "."], self.env, cwd=tree)
        out.unlink(missing_ok=True)
        return run

    def child(self, flag: str, *args: object) -> Run:
        """This script in a child process, as one of its ``--…-child`` helpers."""
        return measure([self.py, str(Path(__file__).resolve()), flag, *map(str, args)], self.env)

    def zipfile_baseline(self, tree: Path) -> Run:
        out = self.work / "baseline-zipfile.zip"
        run = self.child("--zipfile-child", tree, out)
        out.unlink(missing_ok=True)
        return run

    def ebooklib_baseline(self, book_tree: Path, companion_tree: Path | None) -> Run:
        out = self.work / "baseline-epub"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        run = self.child("--ebooklib-child", book_tree, companion_tree or "", out)
        shutil.rmtree(out, ignore_errors=True)
        return run

    def floor_inputs(self, kind: str, paths: list[Path], course: int) -> Floor:
        """What the floor of this export works on: the blobs its packages carry (matched by size),
        the bytes its packages deflate (one file), and the packages' size."""
        import sqlite3

        from tui_exports.paths import Home

        home = Home.from_env(self.home)
        with sqlite3.connect(home.db_path) as db:
            rows = db.execute("SELECT size, sha256 FROM files WHERE context_id = ?", (course,)).fetchall()
        by_size: dict[int, list[str]] = {}
        for size, sha in rows:
            by_size.setdefault(size, []).append(sha)
        blobs, out_size = [], 0
        deflated = self.work / f"floor-{kind}.bin"
        with deflated.open("wb") as dst:
            for path in paths:
                out_size += path.stat().st_size
                with zipfile.ZipFile(path) as zf:
                    for entry in zf.infolist():
                        if by_size.get(entry.file_size):
                            blobs.append(str(home.blobs / (sha := by_size[entry.file_size].pop())[:2] / sha))
                        if entry.compress_type == zipfile.ZIP_DEFLATED:
                            with zf.open(entry) as src:
                                shutil.copyfileobj(src, dst, 1 << 20)
        listing = self.work / f"floor-{kind}.blobs"
        listing.write_text("\n".join(blobs), encoding="utf-8")
        return Floor(listing, deflated, out_size)

    def floor_run(self, floor: Floor) -> tuple[Run, dict]:
        out = self.work / "floor.out"
        run = self.child("--floor-child", floor.blobs, floor.deflated, out, floor.size)
        out.unlink(missing_ok=True)
        return run, json.loads(run.out)

    # -------------------------------------------------------------- the courses
    def prepare(self) -> None:
        """Generate the course, one a tenth of its size, and one with a tenth of the items but all
        the bytes."""
        size = SIZES[self.args.size]
        tenth = tenth_of(size)
        self.log(
            "generating the course at a tenth of the size, and with a tenth of the items but all the bytes"
        )
        self.small_id, gen_small = self.generate(tenth, seed=1)
        self.bytes_id, _ = self.generate({**tenth, "file_mb": size["file_mb"]}, seed=3)
        self.log(f"generating the course: {size}")
        self.main_id, gen = self.generate(size, seed=2)
        self.info["course"] = (
            f"{size['pages']:,} pages, {size['quizzes']} quizzes × {size['questions_per_quiz']} "
            f"questions, {size['files']} files totalling {size['file_mb']:g} MiB, "
            f"{size['modules']} modules"
        )
        self.info["course_small"] = (
            f"{tenth['pages']:,} pages, {tenth['quizzes']} quizzes × "
            f"{tenth['questions_per_quiz']}, {tenth['files']} files, {tenth['file_mb']:g} MiB"
        )
        self.info["generate"] = (
            f"{gen.wall:.1f} s, peak RSS {gen.rss_mb:.0f} MB (tenth: {gen_small.wall:.1f} s, {gen_small.rss_mb:.0f} MB)"
        )
        self.row("generate the course (library generate)", gen.wall, None, None, "", "info", unit="s")

    # -------------------------------------------------------------- the export table
    def run_exports(self) -> None:
        """Each export, round after round, right before its floor and its references (A B A B):
        its ratio to each is the median of the per-pair ratios, with the pairs' spread noted."""
        from tui_exports.exporters.common.compression import COMPRESSED_EXTENSIONS

        args, size, main_id = self.args, SIZES[self.args.size], self.main_id
        stored = sorted(COMPRESSED_EXTENSIONS)
        walls: dict[str, list[float]] = {k: [] for k in EXPORTS}
        cores: dict[str, list[float]] = {k: [] for k in EXPORTS}
        pairs: dict[tuple[str, str], list[float]] = {}
        phases: dict[str, list[dict]] = {k: [] for k in EXPORTS}
        rss: dict[str, float] = {}
        base_rss: dict[str, float] = {}
        trees: dict[str, Path] = {}
        floors: dict[str, Floor] = {}
        for r in range(args.repeat):
            self.log(f"round {r + 1} of {args.repeat}")
            for kind in EXPORTS:
                run, paths = self.export(main_id, kind)
                walls[kind].append(run.wall)
                cores[kind].append(run.cpu_per_wall)
                rss[kind] = max(rss.get(kind, 0), run.rss_mb)
                self.log(f"  {kind}: {run.wall:.2f} s, CPU/wall {run.cpu_per_wall:.2f}, {run.rss_mb:.0f} MB")
                if kind not in floors:
                    floors[kind] = self.floor_inputs(kind, paths, main_id)
                    if REFERENCES[kind]:
                        trees[kind] = self.unpack(kind, paths[:1])
                    if kind == "epub" and len(paths) > 1:
                        trees["epub_companion"] = self.unpack("epub_companion", paths[1:])
                for p in paths:
                    p.unlink(missing_ok=True)
                floor, phase = self.floor_run(floors[kind])
                phases[kind].append({**phase, "cpu_per_wall": floor.cpu_per_wall})
                pairs.setdefault((kind, "floor"), []).append(run.wall / floor.wall)
                self.log(
                    f"  floor: {floor.wall:.2f} s ({', '.join(f'{k} {v:.2f}' for k, v in phase.items() if k != 'compressor')})"
                )
                for key, _ in REFERENCES[kind]:
                    if key == "zipfile":
                        b = self.zipfile_baseline(trees[kind])
                    elif key == "infozip":
                        if not self.zip:
                            continue
                        b = self.zip_baseline(trees[kind], stored)
                    else:
                        b = self.ebooklib_baseline(trees["epub"], trees.get("epub_companion"))
                    pairs.setdefault((kind, key), []).append(run.wall / b.wall)
                    base_rss[kind] = max(base_rss.get(kind, 0), b.rss_mb)
                    self.log(f"  {key}: {b.wall:.2f} s, {b.rss_mb:.0f} MB")
        self.log("peak RSS at a tenth of the size, and with 10x the bytes only (two at a time)")
        small_rss, bytes_rss = {}, {}

        def rss_of(job: tuple[int, str]) -> float:
            run, paths = self.export(*job)
            for p in paths:
                p.unlink(missing_ok=True)
            return run.rss_mb

        # a process's peak RSS does not depend on what else runs: two at a time halve the wait
        from concurrent.futures import ThreadPoolExecutor

        jobs = [(course, kind) for kind in EXPORTS for course in (self.small_id, self.bytes_id)]
        with ThreadPoolExecutor(2) as pool:
            for (course, kind), mb in zip(jobs, pool.map(rss_of, jobs), strict=True):
                (small_rss if course == self.small_id else bytes_rss)[kind] = mb
        for t in trees.values():
            shutil.rmtree(t, ignore_errors=True)
        for f in floors.values():
            f.blobs.unlink(missing_ok=True)
            f.deflated.unlink(missing_ok=True)

        for kind, name in EXPORTS.items():
            wall = statistics.median(walls[kind])
            floor_ratio = statistics.median(pairs[(kind, "floor")])
            self.row(
                f"{name} export (wall)",
                wall,
                wall / floor_ratio,
                TARGETS[kind],
                "the machine's floor, pair by pair",
                "le" if TARGETS[kind] else "info",
                unit="s",
            )
            self.row(
                f"{name} export CPU/wall",
                statistics.median(cores[kind]),
                None,
                TARGETS["cpu_per_wall"],
                "cores kept busy (user + system CPU / wall)",
                "ge" if kind != "qti" else "info",
                unit="×",
            )
            for key, label in REFERENCES[kind]:
                if (kind, key) not in pairs:
                    self.row(
                        f"{name} export vs {label}",
                        wall,
                        None,
                        None,
                        "",
                        "info",
                        unit="s",
                        missing="n/a: zip not installed",
                    )
                    continue
                ratio = statistics.median(pairs[(kind, key)])
                target = TARGETS.get(f"{kind}_{key}")
                self.row(
                    f"{name} export vs {label.split(',')[0]}",
                    wall,
                    wall / ratio,
                    target,
                    label + ", pair by pair",
                    "le" if target else "info",
                    unit="s",
                )
            self.info[f"{name} pair ratios"] = "; ".join(
                f"{'floor' if key == 'floor' else key} " + spread(values)
                for (k, key), values in pairs.items()
                if k == kind
            )
            median_phase = {
                k: statistics.median(p[k] for p in phases[kind]) for k in ("read", "compress", "write")
            }
            fl = floors[kind]
            self.info[f"{name} floor"] = (
                f"read {median_phase['read']:.2f} s of blobs, compress {fl.deflated_size / 2**20:.0f} MiB "
                f"{median_phase['compress']:.2f} s ({phases[kind][0]['compressor']}), write + fsync "
                f"{fl.size / 2**20:.0f} MiB {median_phase['write']:.2f} s; the floor's own CPU/wall "
                f"{statistics.median(p['cpu_per_wall'] for p in phases[kind]):.2f}"
            )
        questions = size["quizzes"] * size["questions_per_quiz"]
        self.row(
            "QTI questions per second",
            questions / statistics.median(walls["qti"]),
            None,
            None,
            f"{questions:,} questions",
            "info",
            unit="q/s",
        )
        for kind, name in EXPORTS.items():
            self.row(
                f"peak RSS, {name}: 10× everything",
                rss[kind],
                small_rss[kind],
                TARGETS["rss_growth"],
                "a course 1/10 the size",
                "rss",
                unit="MB",
            )
        for kind, name in EXPORTS.items():
            self.row(
                f"peak RSS, {name}: 10× the file bytes",
                bytes_rss[kind],
                small_rss[kind],
                TARGETS["rss_growth"],
                "a course 1/10 the size",
                "rss",
                unit="MB",
            )
        for kind, value in base_rss.items():
            self.info[f"baseline RSS {EXPORTS[kind]}"] = f"{value:.0f} MB"

    # -------------------------------------------------------------- import (issue 13)
    def cartridge_of(self, course: int, name: str) -> Path:
        """The course's own Common Cartridge, kept in the work folder."""
        run, paths = self.export(course, "common_cartridge")
        kept = self.work / f"{name}.imscc"
        shutil.move(paths[0], kept)
        return kept

    def import_run(self, package: Path) -> Run:
        run = self.cli("import", str(package))
        self.imported.append(int(run.out.strip().splitlines()[-1]))
        return run

    def unzip_run(self, package: Path) -> Run | None:
        if not self.unzip:
            return None
        out = self.work / "unzipped"
        shutil.rmtree(out, ignore_errors=True)
        run = measure([self.unzip, "-q", str(package), "-d", str(out)], self.env)
        shutil.rmtree(out, ignore_errors=True)
        return run

    def run_import(self) -> None:
        """Import the full-size course's cartridge, pair by pair against ``unzip -q`` of the same
        package (A B A B, median of the pair ratios), and peak RSS at 1× and 10× the items."""
        self.unzip = shutil.which("unzip")
        self.imported: list[int] = []
        self.log("import: the courses' own cartridges")
        big = self.cartridge_of(self.main_id, "course")
        small = self.cartridge_of(self.small_id, "course-tenth")
        ratios, walls, rss = [], [], 0.0
        for _ in range(self.args.repeat):
            a = self.import_run(big)
            b = self.unzip_run(big)
            walls.append(a.wall)
            rss = max(rss, a.rss_mb)
            if b is not None:
                ratios.append(a.wall / b.wall)
            self.log(
                f"  import {a.wall:.2f} s, {a.rss_mb:.0f} MB; unzip {b.wall if b else float('nan'):.2f} s"
            )
        small_run = self.import_run(small)
        ratio = statistics.median(ratios) if ratios else None
        self.row(
            "import of the course's cartridge (wall)",
            statistics.median(walls),
            statistics.median(walls) / ratio if ratio else None,
            TARGETS["import"],
            "unzip -q of the same .imscc, pair by pair",
            "le" if self.args.size != "quick" else "info",
            unit="s",
            missing=None if self.unzip else "n/a: unzip not installed",
        )
        self.row(
            "peak RSS, import: 10× the items",
            rss,
            small_run.rss_mb,
            TARGETS["rss_growth"],
            "the cartridge of a course 1/10 the size",
            "rss" if self.args.size != "quick" else "info",
            unit="MB",
        )
        self.info["import"] = (
            f"{big.stat().st_size / 2**20:.0f} MiB cartridge; pair ratios {', '.join(f'{x:.2f}' for x in ratios)}"
        )
        if self.args.size == "full":
            self.run_import_extremes()
        for p in (big, small):
            p.unlink(missing_ok=True)

    # -------------------------------------------------------------- item-heavy courses (issue 18)
    @staticmethod
    def item_spec(items: int) -> dict:
        """An item-heavy course of about ``items`` items: pages, quizzes of 30 questions and
        modules holding them all, with 20 tiny files (the bytes stay out of the picture)."""
        pages, quizzes = max(1, items * 3 // 10), max(1, items // 100)
        return dict(
            pages=pages,
            quizzes=quizzes,
            questions_per_quiz=30,
            files=20,
            file_mb=1.0,
            modules=max(1, items // 500),
        )

    @staticmethod
    def item_count(spec: dict) -> int:
        """Pages, quizzes, questions, files and module items (each module: its pages and quizzes,
        two sub-headers, a file and a link) of a generated course."""
        module_items = spec["pages"] + spec["quizzes"] + 4 * spec["modules"]
        return (
            spec["pages"] + spec["quizzes"] * (1 + spec["questions_per_quiz"]) + spec["files"] + module_items
        )

    def old_code(self) -> tuple[Path, dict[str, str]] | None:
        """The tree of :data:`ITEM_BASE_COMMIT` (``git archive``) and an environment running it on a
        library of its own, or None when git or the commit is not at hand."""
        tree = self.work / "old-code"
        if not tree.exists():
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", ITEM_BASE_COMMIT], capture_output=True, check=False
            )
            if archive.returncode != 0:
                return None
            tree.mkdir()
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        env = {**self.env, "TUI_EXPORTS_HOME": str(self.work / "old-home"), "PYTHONPATH": str(tree)}
        return tree, env

    def run_items(self) -> None:
        """Peak RSS of each export at two sizes of an item-heavy course (flat in items: ≤ 150 MB,
        ≤ 1.15× from the small to the large), course-folder import at both, and the large
        course's Common Cartridge export against the same export by the code of
        :data:`ITEM_BASE_COMMIT`, pair by pair (A B A B, median of the per-pair ratios)."""
        sizes = ITEM_SIZES[self.args.size]
        specs = [self.item_spec(n) for n in sizes]
        counts = [self.item_count(spec) for spec in specs]
        ids, folders = [], []
        for n, spec in enumerate(specs):
            self.log(f"items: generating a course of {counts[n]:,} items: {spec}")
            ids.append(self.generate(spec, seed=40 + n)[0])
            folder = self.work / f"items-folder-{n}"
            self.cli("library", "generate", *self.flags(spec), "--seed", str(40 + n), "--out", str(folder))
            folders.append(folder)
        self.info["items"] = " / ".join(
            f"{c:,} items ({s['pages']:,} pages, {s['quizzes']:,} quizzes × 30 questions, {s['modules']} modules)"
            for c, s in zip(counts, specs, strict=True)
        )
        rule = "rss"  # (a quick run checks that each row runs: Bench.row)
        for kind in ("common_cartridge", "qti", "zip", "epub"):
            runs = []
            for course in ids:
                run, paths = self.export(course, kind)
                runs.append(run)
                for p in paths:
                    p.unlink(missing_ok=True)
            self.log(f"  {kind}: " + ", ".join(f"{r.wall:.1f} s {r.rss_mb:.0f} MB" for r in runs))
            self.items_row(f"peak RSS, {kind}, {counts[1]:,} items", runs, counts, rule)
        imports = []
        for folder in folders:
            imports.append(self.cli("import", str(folder)))
            shutil.rmtree(folder, ignore_errors=True)
        self.log("  course-folder import: " + ", ".join(f"{r.wall:.1f} s {r.rss_mb:.0f} MB" for r in imports))
        self.items_row(f"peak RSS, course-folder import, {counts[1]:,} items", imports, counts, rule)
        self.run_item_speed(specs[1], ids[1], counts[1])

    def items_row(self, name: str, runs: list[Run], counts: list[int], rule: str) -> None:
        self.row(
            name,
            runs[1].rss_mb,
            runs[0].rss_mb,
            TARGETS_ITEMS["rss_growth"],
            f"the same at {counts[0]:,} items",
            rule,
            unit="MB",
        )

    def run_item_speed(self, spec: dict, course: int, count: int) -> None:
        old = self.old_code()
        name = f"Common Cartridge export, {count:,} items (wall)"
        if old is None:
            self.row(
                name,
                None,
                None,
                None,
                "",
                "info",
                unit="s",
                missing=f"n/a: no git tree of {ITEM_BASE_COMMIT}",
            )
            return
        tree, env = old
        self.log(f"items: the same course in a library of {ITEM_BASE_COMMIT}'s code")
        cli = [self.py, "-m", "tui_exports.cli"]
        gen = measure([*cli, "library", "generate", *self.flags(spec), "--seed", "41"], env, cwd=tree)
        old_course = int(gen.out.strip().splitlines()[-1])
        ratios, cpu_ratios, walls, old_walls = [], [], [], []
        for r in range(self.args.repeat):
            a = measure(
                [*cli, "export", str(old_course), "--type", "common_cartridge", "--wait", "--json"],
                env,
                cwd=tree,
            )
            old_file = (json.loads(a.out).get("attachment") or {}).get("path")
            if old_file:  # the old library's copy: not kept round after round
                Path(old_file).unlink(missing_ok=True)
            b, paths = self.export(course, "common_cartridge")
            for p in paths:
                p.unlink(missing_ok=True)
            old_walls.append(a.wall)
            walls.append(b.wall)
            ratios.append(b.wall / a.wall)
            cpu_ratios.append(b.cpu / a.cpu if a.cpu else float("nan"))
            self.log(
                f"  pair {r + 1}: {ITEM_BASE_COMMIT} {a.wall:.1f} s ({a.cpu:.1f} s CPU), "
                f"now {b.wall:.1f} s ({b.cpu:.1f} s CPU): {ratios[-1]:.2f}× wall, {cpu_ratios[-1]:.2f}× CPU"
            )
        ratio = statistics.median(ratios)
        self.row(
            name,
            statistics.median(walls),
            statistics.median(walls) / ratio,
            TARGETS_ITEMS["cc_speed"],
            f"{ITEM_BASE_COMMIT}'s code, pair by pair",
            "le",
            unit="s",
        )
        self.info["items_speed"] = (
            f"pair ratios {', '.join(f'{x:.2f}' for x in ratios)} (wall), "
            f"{', '.join(f'{x:.2f}' for x in cpu_ratios)} (CPU, user+sys: median "
            f"{statistics.median(cpu_ratios):.2f}×); load average {os.getloadavg()[0]:.2f}"
        )

    @staticmethod
    def flags(size: dict) -> list[str]:
        out = []
        for key, value in size.items():
            out += [f"--{key.replace('_', '-')}", f"{value:g}" if isinstance(value, float) else str(value)]
        return out

    def run_import_extremes(self) -> None:
        """A cartridge with one 1 GiB file, and one with 50,000 resources: peak RSS under the cap."""
        for label, size in (
            (
                "one 1 GiB file",
                dict(pages=2, quizzes=1, questions_per_quiz=2, files=1, file_mb=1024.0, modules=1),
            ),
            (
                "50,000 resources",
                dict(pages=50_000, quizzes=1, questions_per_quiz=2, files=1, file_mb=0.1, modules=10),
            ),
        ):
            self.log(f"import: a cartridge with {label}")
            course, _ = self.generate(size, seed=5)
            package = self.cartridge_of(course, "extreme")
            run = self.import_run(package)
            package.unlink(missing_ok=True)
            self.row(
                f"peak RSS, import of a cartridge with {label}",
                run.rss_mb,
                None,
                TARGETS["rss_mb"],
                f"{run.wall:.1f} s",
                "abs",
                unit="MB",
            )

    def unpack(self, kind: str, paths: list[Path]) -> Path:
        tree = self.work / f"tree-{kind}"
        shutil.rmtree(tree, ignore_errors=True)
        with zipfile.ZipFile(paths[0]) as zf:
            zf.extractall(tree)
        return tree

    # -------------------------------------------------------------- the terminal app
    @property
    def filler(self) -> int:
        return FILLER_COURSES[self.args.size]

    def run_tui(self) -> None:
        from tui_exports.engine import ExportService
        from tui_exports.importers.synthetic import add_empty_courses
        from tui_exports.paths import Home

        self.log(f"adding {self.filler:,} courses")
        service = ExportService.open(Home.from_env(self.home), seed=False, recover=False)
        try:
            add_empty_courses(service.library, self.filler, service.owner_id())
            owner = service.owner_id()
        finally:
            service.close()
        config = self.home / "config.toml"
        config.write_text("[engine]\nworkers = 3\n", encoding="utf-8")
        # the app starts from bytecode, as an installed program does: where the environment sets
        # PYTHONDONTWRITEBYTECODE each start compiled every module of the program again
        subprocess.run([self.py, "-m", "compileall", "-q", str(ROOT / "tui_exports")], check=True)

        # baseline: the demo library alone (3 courses)
        demo_home = self.work / "demo-home"
        measure(
            [self.py, "-m", "tui_exports.cli", "courses"], {**self.env, "TUI_EXPORTS_HOME": str(demo_home)}
        )
        first_demo = [
            tui_session(self.py, {**self.env, "TUI_EXPORTS_HOME": str(demo_home)}).first_frames()
            for _ in range(self.args.tui_starts)
        ]
        firsts = []
        for _ in range(self.args.tui_starts):
            firsts.append(tui_session(self.py, self.env).first_frames())
            self.log(f"  first frame {firsts[-1][0]:.2f} s, course list {firsts[-1][1]:.2f} s")
        med_any = statistics.median(f[0] for f in firsts)
        med_list = statistics.median(f[1] for f in firsts)
        self.row(
            f"TUI first frame, {self.filler:,} courses",
            med_any,
            statistics.median(f[0] for f in first_demo),
            TARGETS["tui_first_frame_s"],
            "3 courses",
            "abs",
            unit="s",
        )
        self.row(
            f"TUI course list painted, {self.filler:,} courses",
            med_list,
            statistics.median(f[1] for f in first_demo),
            TARGETS["tui_list_s"],
            "3 courses",
            "abs",
            unit="s",
        )

        self.tui_filter(owner)

        # keypresses: idle first (baseline), then while three exports run
        self.log("keypress latency")
        # in a session of its own, as the app starts it (``ensure_worker``): where Linux groups
        # processes by session for the scheduler, the worker then lowers its group's priority;
        # in this script's session it weighed as much as the app's whole session
        worker = subprocess.Popen(
            [self.py, "-m", "tui_exports.engine.worker"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        session = tui_session(self.py, self.env)
        try:
            session.wait_for(b"ASTR 101", 60)
            codes = course_codes(self.home, owner)
            position = 0
            for _ in range(codes.index("SYN-2")):  # down to the big course
                position += 1
                session.press(b"\x1b[B", codes[position].encode())
            idle = session.alternate(codes, position, self.args.presses)
            during = Exports(self.home, owner, self.main_id)
            try:
                busy = session.alternate(codes, position, self.args.presses, until=during.all_done)
            finally:
                during.close()
        finally:
            session.close()
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    worker.kill()
        lat_busy = [ms for ms, was_busy in busy if was_busy]
        lat_idle = [ms for ms, _ in idle]
        self.info["keypresses"] = (
            f"{len(lat_busy)} presses while all three exports ran "
            f"(zip, Common Cartridge, ePub of the big course, 3 worker threads), "
            f"{len(lat_idle)} with nothing running; "
            f"{len(busy) - len(lat_busy)} more after the first export ended (not counted)"
        )
        if during.error:
            self.info["exports during keypresses"] = during.error
        if lat_busy:
            self.row(
                "TUI keypress→repaint p50, 3 exports running",
                pct(lat_busy, 50),
                pct(lat_idle, 50),
                None,
                "no export running",
                "info",
                unit="ms",
            )
            self.row(
                "TUI keypress→repaint p95, 3 exports running",
                pct(lat_busy, 95),
                pct(lat_idle, 95),
                TARGETS["tui_p95_ms"],
                "no export running",
                "abs",
                unit="ms",
            )
        else:
            self.row(
                "TUI keypress→repaint p95, 3 exports running",
                None,
                pct(lat_idle, 95),
                TARGETS["tui_p95_ms"],
                "no export running",
                "abs",
                unit="ms",
                missing="n/a: the exports ended before the first press",
            )

    def tui_filter(self, owner: int) -> None:
        """``/`` then a course code typed key by key: ms until the first course the filter finds
        is drawn, each key; and the app's peak RSS with the whole library behind it."""
        from tui_exports.backends.local import LocalBackend
        from tui_exports.engine import ExportService
        from tui_exports.paths import Home

        target = f"FIL-{self.filler - 7:05d}"  # near the end: every key scans the whole index
        service = ExportService.open(Home.from_env(self.home), seed=False, recover=False)
        local = LocalBackend(service, jobs="none", user_id=owner)
        try:
            catalogue = local.course_catalogue()
            expect = [(catalogue.find(target[:n], 1)[0] or [None])[0] for n in range(1, len(target) + 1)]
        finally:
            local.close()
        session = tui_session(self.py, self.env)
        latencies: list[float] = []
        try:
            session.wait_for(b"ASTR 101", 60)
            session.press(b"/", b"filter", timeout=10)
            for ch, first in zip(target, expect, strict=True):
                if first is None:
                    break
                latencies.append(session.press(ch.encode(), first.course_code.encode()))
            rss = session.peak_rss_mb()
        finally:
            session.close()
        self.row(
            f"TUI filter, keypress→list p95, {self.filler:,} courses",
            pct(latencies, 95),
            pct(latencies, 50),
            TARGETS["tui_filter_p95_ms"],
            "its p50",
            "abs",
            unit="ms",
        )
        self.row(
            f"TUI peak RSS, {self.filler:,} courses",
            rss,
            None,
            TARGETS["tui_rss_mb"],
            "",
            "abs",
            unit="MB",
        )

    def tui_failed(self, error: Exception) -> None:
        first_line = str(error).split(":")[0].splitlines()[0][:80] if str(error) else ""
        why = f"n/a: {type(error).__name__}: {first_line}"
        self.info["terminal app"] = f"could not be measured ({type(error).__name__}: {first_line})"
        self.log(f"the terminal app could not be measured: {type(error).__name__}: {error}")
        have = {r["name"].split(",")[0] for r in self.rows}
        for name, target, unit in (
            ("TUI first frame", TARGETS["tui_first_frame_s"], "s"),
            ("TUI course list painted", TARGETS["tui_first_frame_s"], "s"),
            ("TUI keypress→repaint p95", TARGETS["tui_p95_ms"], "ms"),
        ):
            if name not in have:
                self.row(
                    f"{name}, {self.filler:,} courses" if "p95" not in name else f"{name}, 3 exports running",
                    None,
                    None,
                    target,
                    "",
                    "abs",
                    unit=unit,
                    missing=why,
                )

    # -------------------------------------------------------------- the table
    def row(
        self,
        name: str,
        value: float | None,
        baseline: float | None,
        target: float | None,
        against: str,
        rule: str,
        unit: str,
        missing: str | None = None,
    ) -> None:
        ratio = value / baseline if value is not None and baseline else None
        if missing:
            result = "n/a"
        elif self.args.size == "quick" and rule != "info":
            # toy sizes measure start-up, not the work: the quick run checks that each row runs
            result = "ran" if value is not None else "FAIL"
        elif rule == "le":
            result = "pass" if ratio is not None and ratio <= target else "FAIL"
        elif rule == "abs":
            result = "pass" if value is not None and value <= target else "FAIL"
        elif rule == "ge":
            result = "pass" if value is not None and value >= target else "FAIL"
        elif rule == "rss":
            ok = value <= TARGETS["rss_mb"] and ratio is not None and ratio <= target
            result = "pass" if ok else "FAIL"
        else:
            result = ""
        if rule == "le":
            target_text = f"≤ {target:g}×"
        elif rule == "abs":
            target_text = f"≤ {target:g} {unit}"
        elif rule == "ge":
            target_text = f"≥ {target:g}{unit}"
        elif rule == "rss":
            target_text = f"≤ {TARGETS['rss_mb']:g} MB, ≤ {target:g}×"
        else:
            target_text = ""
        self.rows.append(
            dict(
                name=name,
                value=value,
                baseline=baseline,
                ratio=ratio,
                target=target_text,
                against=against,
                result=result,
                unit=unit,
                missing=missing,
            )
        )

    def table(self) -> list[list[str]]:
        out = [["measure", "value", "baseline", "ratio", "target", "result"]]
        for r in self.rows:
            unit = r["unit"]
            base = r["missing"] or (
                f"{number(r['baseline'], unit)} ({r['against']})"
                if r["baseline"] is not None
                else r["against"]
            )
            ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else ""
            out.append(
                [
                    r["name"],
                    number(r["value"], unit) if r["value"] is not None else "n/a",
                    base,
                    ratio,
                    r["target"],
                    r["result"],
                ]
            )
        return out


def number(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "×":
        return f"{value:.2f}×"
    if unit in ("MB", "q/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:.1f} {unit}" if unit == "ms" else f"{value:.2f} {unit}"


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def course_codes(home: Path, owner: int) -> list[str]:
    """The owner's course codes in the app's order (course id)."""
    from tui_exports.engine import ExportService
    from tui_exports.paths import Home

    service = ExportService.open(Home.from_env(home), seed=False, recover=False)
    try:
        return [c.course_code for c, _ in service.courses(owner)]
    finally:
        service.close()


class Exports:
    """Three exports queued for the worker; ``all_done`` turns true when the first one ends."""

    def __init__(self, home: Path, owner: int, course: int):
        from tui_exports.engine import ExportService
        from tui_exports.model import ContextType
        from tui_exports.paths import Home

        self.error = ""
        self._stop = threading.Event()
        self.ended = threading.Event()
        self.service = ExportService.open(Home.from_env(home), seed=False, recover=False)
        s = self.service
        self.ids = [
            ("content", s.create_content_export(owner, ContextType.COURSE, course, "zip", None).id),
            (
                "content",
                s.create_content_export(owner, ContextType.COURSE, course, "common_cartridge", None).id,
            ),
            ("epub", s.create_epub_export(owner, course).id),
        ]
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        s = self.service
        running = {"created", "exporting", "generating"}
        try:
            while not self._stop.wait(0.2):
                states = [
                    (
                        s.store.content_export(i) if kind == "content" else s.store.epub_export(i)
                    ).workflow_state
                    for kind, i in self.ids
                ]
                if any(str(st) not in running for st in states):
                    self.ended.set()
                    return
        except Exception as e:  # noqa: BLE001
            self.error = f"could not follow the exports: {e}"
            self.ended.set()

    def all_done(self) -> bool:
        return self.ended.is_set()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.service.close()


# ------------------------------------------------------------------ the app in a pseudo-terminal


class tui_session:  # noqa: N801 - used like a function
    """``tui-exports`` (no arguments) in a 120x40 pseudo-terminal; output timestamped as it arrives."""

    def __init__(self, python: str, env: dict[str, str], cols: int = 120, rows: int = 40):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {
            **env,
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "COLUMNS": str(cols),
            "LINES": str(rows),
        }
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            [python, "-m", "tui_exports.cli"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.buf = bytearray()
        self.stamps: list[tuple[int, float]] = []  # (end offset in buf, time)
        self.lock = threading.Condition()
        self.closed = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.5)
                if not ready:
                    if self.closed:
                        return
                    continue
                data = os.read(self.master, 1 << 16)
            except OSError:
                data = b""
            now = time.perf_counter()
            with self.lock:
                if not data:
                    self.closed = True
                    self.lock.notify_all()
                    return
                self.buf += data
                self.stamps.append((len(self.buf), now))
                self.lock.notify_all()

    def wait_for(self, needle: bytes, timeout: float, since: int = 0) -> float:
        """Seconds from process start to the output that first holds ``needle`` after offset ``since``."""
        deadline = time.perf_counter() + timeout
        with self.lock:
            while True:
                at = self.buf.find(needle, since)
                if at >= 0:
                    end = at + len(needle)
                    when = next(t for off, t in self.stamps if off >= end)
                    return when - self.start
                if self.closed:
                    raise RuntimeError("the app exited: " + self.screen_text()[-800:])
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError(
                        f"no {needle!r} on screen after {timeout:g} s: " + self.screen_text()[-800:]
                    )
                self.lock.wait(left)

    def screen_text(self) -> str:
        return re.sub(
            r"\x1b\[[0-9;?<>=]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]", "", self.buf.decode("utf-8", "replace")
        )

    def first_frames(self) -> tuple[float, float]:
        """(first frame of the main screen, first frame showing the course list), in seconds.

        The main screen is recognised by its "Courses" pane title, or else by the course list itself."""
        try:
            listed = self.wait_for(b"ASTR 101", 60)
            with self.lock:
                end = self.buf.find(b"ASTR 101") + len(b"ASTR 101")
                pane = self.buf.find(b"Courses", 0, end)
            first = self.wait_for(b"Courses", 1) if pane >= 0 else listed
            return first, listed
        finally:
            self.close()

    def press(self, key: bytes, expect: bytes, timeout: float = 10) -> float:
        """Send ``key``; milliseconds until the output shows ``expect`` (the newly highlighted course)."""
        time.sleep(0.05)
        with self.lock:
            mark = len(self.buf)
        sent = time.perf_counter()
        os.write(self.master, key)
        at = self.wait_for(expect, timeout, since=mark) + self.start
        return (at - sent) * 1000

    def alternate(self, codes: list[str], position: int, presses: int, until=None):
        """Down to the next course and back up, ``presses`` times; [(ms, still busy)]."""
        out = []
        for n in range(presses):
            busy = until is None or not until()
            if until is not None and not busy:
                break
            if n % 2 == 0:
                ms = self.press(b"\x1b[B", codes[position + 1].encode())
            else:
                ms = self.press(b"\x1b[A", codes[position].encode())
            out.append((ms, busy and (until is None or not until())))
        if until is None:
            if presses % 2:
                self.press(b"\x1b[A", codes[position].encode())
            return out
        return out

    def peak_rss_mb(self) -> float | None:
        """The app's high-water RSS so far (Linux ``VmHWM``), or None elsewhere."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        return int(m.group(1)) / 1024 if m else None

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.write(self.master, b"\x11")  # ctrl+q
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        self.closed = True
        self.reader.join(2)
        try:
            os.close(self.master)
        except OSError:
            pass


# ------------------------------------------------------------------ the ebooklib baseline (child)


class OurChoices(zipfile.ZipFile):
    """Python's zipfile making our choices: already-compressed files stored, the rest deflated at
    level 1, whatever the caller (ebooklib) asks."""

    def __init__(self, file, mode="r", compression=zipfile.ZIP_STORED, allowZip64=True, compresslevel=None):
        super().__init__(file, mode, compression, allowZip64, compresslevel=1)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        from tui_exports.exporters.common.compression import compress_type as choice

        if compress_type is None and isinstance(zinfo_or_arcname, str):
            compress_type = choice(zinfo_or_arcname)
        return super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        from tui_exports.exporters.common.compression import compress_type as choice

        if compress_type is None and arcname:
            compress_type = choice(arcname)
        return super().write(filename, arcname, compress_type, compresslevel)


def fsync_file(path: Path) -> None:
    """What our exports do before they publish a file (the baselines pay it too)."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def zipfile_child(tree: Path, out: Path) -> None:
    """Zip ``tree`` with Python's zipfile and our choices, folders included, then fsync."""
    with OurChoices(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(tree.rglob("*")):
            zf.write(path, path.relative_to(tree).as_posix())
    fsync_file(out)


def floor_child(blob_list: Path, deflated: Path, out: Path, size: int) -> None:
    """The machine's floor for one package, printed as JSON seconds per phase: read the blobs,
    deflate the bytes the package deflates (``pigz -1`` on every core, else zlib level 1 split
    across the cores in threads), write and fsync as many bytes as the package has."""
    import zlib
    from concurrent.futures import ThreadPoolExecutor

    chunk = 1 << 20
    buf = bytearray(chunk)
    t0 = time.perf_counter()
    for line in blob_list.read_text(encoding="utf-8").splitlines():
        with open(line, "rb", buffering=0) as f:
            while f.readinto(buf):
                pass
    t1 = time.perf_counter()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    pigz = shutil.which("pigz")
    if pigz:
        compressor = f"pigz -1 -p {cores}"
        subprocess.run(
            [pigz, "-1", "-p", str(cores), "-c", str(deflated)], stdout=subprocess.DEVNULL, check=True
        )
    else:
        compressor = f"zlib level 1 in {cores} threads"
        data = memoryview(deflated.read_bytes())
        part = max(1, -(-len(data) // cores))

        def deflate(at: int) -> int:
            c = zlib.compressobj(1, zlib.DEFLATED, -15)
            return len(c.compress(data[at : at + part])) + len(c.flush())

        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(deflate, range(0, len(data), part)))
    t2 = time.perf_counter()
    block = os.urandom(chunk)
    with open(out, "wb", buffering=0) as f:
        left = size
        while left > 0:
            left -= f.write(block[: min(left, chunk)])
        os.fsync(f.fileno())
    t3 = time.perf_counter()
    print(json.dumps(dict(read=t1 - t0, compress=t2 - t1, write=t3 - t2, compressor=compressor)))


def ebooklib_child(book_tree: Path, companion_tree: Path | None, out: Path) -> None:
    """Write the chapters and media of an unpacked ePub with bare ebooklib, then the companion zip,
    both with our store-or-deflate choices (:class:`OurChoices`), then fsync them."""
    from ebooklib import epub
    from lxml import etree

    epub.zipfile.ZipFile = OurChoices  # what ebooklib opens its zip with (this child only)

    opf_path = book_tree / "OEBPS" / "content.opf"
    opf = etree.parse(str(opf_path))
    ns = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
    book = epub.EpubBook()
    book.set_identifier(opf.findtext(".//dc:identifier", namespaces=ns) or "baseline")
    book.set_title(opf.findtext(".//dc:title", namespaces=ns) or "Course")
    book.set_language(opf.findtext(".//dc:language", namespaces=ns) or "en")
    items = {i.get("id"): i for i in opf.iterfind(".//opf:manifest/opf:item", ns)}
    spine = [items[r.get("idref")] for r in opf.iterfind(".//opf:spine/opf:itemref", ns)]
    chapters = []
    for n, item in enumerate(spine, 1):
        href = item.get("href")
        content = (book_tree / "OEBPS" / href).read_bytes()
        title = re.search(rb"<title>(.*?)</title>", content, re.S)
        chapter = epub.EpubHtml(
            uid=f"c{n}", file_name=href, title=title.group(1).decode() if title else href, content=content
        )
        book.add_item(chapter)
        chapters.append(chapter)
    for item in items.values():
        mt = item.get("media-type")
        if mt.startswith(("image/", "audio/")) or mt == "text/css":
            book.add_item(
                epub.EpubItem(
                    uid=item.get("id"),
                    file_name=item.get("href"),
                    media_type=mt,
                    content=(book_tree / "OEBPS" / item.get("href")).read_bytes(),
                )
            )
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    epub.write_epub(str(out / "baseline.epub"), book, {"compresslevel": 1})
    fsync_file(out / "baseline.epub")
    if companion_tree and companion_tree.is_dir():
        with OurChoices(out / "baseline-companion.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(companion_tree.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(companion_tree).as_posix())
        fsync_file(out / "baseline-companion.zip")


# ------------------------------------------------------------------ the machine and the report


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kb / 1048576:.1f} GiB"
    except (OSError, AttributeError):
        pass
    os_name = platform.system()
    try:
        os_name = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    zip_version = "not installed"
    if shutil.which("zip"):
        m = re.search(
            r"This is Zip ([\d.]+)", subprocess.run(["zip", "-v"], capture_output=True, text=True).stdout
        )
        zip_version = f"Info-ZIP Zip {m.group(1)}" if m else "Info-ZIP Zip"
    versions = {}
    for dist in ("textual", "ebooklib", "lxml"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:  # noqa: BLE001
            versions[dist] = "?"
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": f"{os_name} (Linux {platform.release()})" if platform.system() == "Linux" else os_name,
        "Python": platform.python_version(),
        "zip": zip_version,
        "libraries": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def render_table(rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_results(path: Path, bench: Bench, started: str, elapsed: float) -> None:
    m = machine()
    body = [
        RESULTS_BEGIN,
        f"Run of {started} (UTC), size `{bench.args.size}`, {bench.args.repeat} round(s), "
        f"{elapsed / 60:.1f} minutes in all: `python benchmarks/run.py"
        + (f" --size {bench.args.size}" if bench.args.size != "full" else "")
        + (f" --repeat {bench.args.repeat}" if bench.args.repeat != default_repeat(bench.args.size) else "")
        + (f" --only {bench.args.only}" if bench.args.only else "")
        + "`.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" if k == "cores" else f"{k}: {v}" for k, v in m.items()) + ".",
        "",
        render_table(bench.table(), markdown=True),
        "",
        "Times are medians of the rounds; each export is a whole `tui-exports export … --wait` (or `epub … "
        "--wait`) process, start-up and progress polling included, measured from spawn to exit; peak RSS "
        "is that process's own (`wait4`). Course: "
        + bench.info.get("course", "")
        + "; the tenth: "
        + bench.info.get("course_small", "")
        + ".",
        "",
    ]
    for key, value in bench.info.items():
        if key not in ("course", "course_small"):
            body.append(f"- {key}: {value}")
    body.append(RESULTS_END)
    text = "\n".join(body)
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if RESULTS_BEGIN in old and RESULTS_END in old:
            head, _, rest = old.partition(RESULTS_BEGIN)
            _, _, tail = rest.partition(RESULTS_END)
            path.write_text(head + text + tail, encoding="utf-8")
            return
    path.write_text(
        "# Benchmark results\n\nWritten by `benchmarks/run.py`; what it measures and how is in its "
        "docstring.\n\n" + text + "\n",
        encoding="utf-8",
    )


def default_repeat(size: str) -> int:
    return 1 if size == "quick" else 3


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the quick size: a smoke test, under a minute")
    p.add_argument("--size", choices=sorted(SIZES), help="course size (default full; --quick means quick)")
    p.add_argument("--repeat", type=int, help="rounds of every export and baseline (default 3; quick 1)")
    p.add_argument(
        "--results", type=Path, help="write the report here (default benchmarks/RESULTS.md; --quick: none)"
    )
    p.add_argument("--workdir", type=Path, help="where to build the library (default: a temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument(
        "--no-tui", action="store_true", help="skip the terminal app measurements (--only exports,import)"
    )
    p.add_argument(
        "--only",
        help=f"the parts to run, comma-separated, of {', '.join(PARTS)} (default all; --quick leaves out items)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--ebooklib-child", nargs=3, metavar=("BOOK", "COMPANION", "OUT"), help=argparse.SUPPRESS)
    p.add_argument("--zipfile-child", nargs=2, metavar=("TREE", "OUT"), help=argparse.SUPPRESS)
    p.add_argument(
        "--floor-child", nargs=4, metavar=("BLOBS", "DEFLATED", "OUT", "SIZE"), help=argparse.SUPPRESS
    )
    args = p.parse_args(argv)
    if args.ebooklib_child:
        book, companion, out = args.ebooklib_child
        ebooklib_child(Path(book), Path(companion) if companion else None, Path(out))
        return 0
    if args.zipfile_child:
        zipfile_child(*map(Path, args.zipfile_child))
        return 0
    if args.floor_child:
        blobs, deflated, out, size = args.floor_child
        floor_child(Path(blobs), Path(deflated), Path(out), int(size))
        return 0
    only = args.only or ",".join(p for p in PARTS if not (args.quick and p == "items"))
    parts = [part.strip() for part in only.split(",") if part.strip()]
    if unknown := sorted(set(parts) - set(PARTS)):
        p.error(f"--only: unknown part {', '.join(unknown)} (parts: {', '.join(PARTS)})")
    if args.no_tui and "tui" in parts:
        parts.remove("tui")
    args.size = args.size or ("quick" if args.quick else "full")
    args.repeat = args.repeat or default_repeat(args.size)
    args.tui_starts = 1 if args.size == "quick" else 3  # quick: each row runs once (no goal is judged)
    args.presses = 6 if args.size == "quick" else 60
    if args.results is None and args.size != "quick" and not args.only:
        args.results = Path(__file__).resolve().parent / "RESULTS.md"

    work = Path(tempfile.mkdtemp(prefix="tui-exports-bench-", dir=args.workdir))
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    t0 = time.perf_counter()
    bench = Bench(args, work)
    try:
        if set(parts) & {"exports", "import", "tui"}:  # import and the app's rows use its courses
            bench.prepare()
        if "exports" in parts:
            bench.run_exports()
        if "import" in parts:
            bench.run_import()
        if "items" in parts:
            bench.run_items()
        if "tui" in parts:
            try:
                bench.run_tui()
            except Exception as e:  # noqa: BLE001 - the export table still stands; say what went wrong
                bench.tui_failed(e)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - t0
    print(render_table(bench.table(), markdown=False))
    for key, value in bench.info.items():
        print(f"  {key}: {value}")
    if args.results:
        write_results(args.results, bench, started, elapsed)
        print(f"wrote {args.results.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A large course for timing and memory: ``python -m epub.big_course OUT_DIR PAGES MEDIA_FILES MB_EACH``
(run from ``tests/``).  Prints one JSON line: seconds per phase and peak RSS before/after.

Media blobs are written in chunks and bodies are short strings, so what the process holds
before the export starts is the snapshot itself; the export should add little to that.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

from tui_exports.exporters.epub import package_book, render_book

from .media_samples import SAMPLES
from .snapshots import CourseBuilder


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_course(blob_dir: Path, pages: int, media_files: int, mb_each: float) -> CourseBuilder:
    c = CourseBuilder(blob_dir, name="Big course")
    files = []
    for n in range(media_files):
        # a real PNG header followed by padding: sniffed as PNG, streamed like any big image
        blob = blob_dir / f"blob-{n}"
        with blob.open("wb") as fh:
            fh.write(SAMPLES["png"])
            remaining = int(mb_each * 1024 * 1024)
            while remaining > 0:
                chunk = os.urandom(min(remaining, 1 << 20))
                fh.write(chunk)
                remaining -= len(chunk)
        files.append(c.file(f"images/picture {n}.png", b""))
        c.files[-1] = files[-1] = type(files[-1])(
            **{**files[-1].__dict__, "blob_path": blob, "size": blob.stat().st_size}
        )
    body = "<p>" + "Lorem ipsum dolor sit amet. " * 80 + "</p>"
    page_objs = []
    for n in range(pages):
        links = f'<a href="{c.page_link(f"page-{(n + 1) % pages}")}">next</a>'
        if files:
            links += f' <img src="{c.image_link(files[n % len(files)])}" alt="figure">'
        page_objs.append(c.page(f"page-{n}", f"Page {n}", f"<h2>Section {n}</h2>{body}<p>{links}</p>"))
    for m in range(0, pages, 100):
        c.module(f"Module {m // 100 + 1}", *page_objs[m : m + 100])
    return c


def main() -> None:
    out, pages, media_files, mb_each = (
        Path(sys.argv[1]),
        int(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    snapshot = big_course(out / "blobs", pages, media_files, mb_each).snapshot()
    before = peak_rss_mb()
    t0 = time.perf_counter()
    book = render_book(
        snapshot, out / "work", lambda p, m: None, max_embed_bytes=int((mb_each + 1) * 1048576)
    )
    t1 = time.perf_counter()
    result = package_book(book, out / "work", lambda p, m: None)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "pages": pages,
                "media_mb": round(media_files * mb_each, 1),
                "render_s": round(t1 - t0, 2),
                "package_s": round(t2 - t1, 2),
                "rss_before_mb": round(before, 1),
                "rss_peak_mb": round(peak_rss_mb(), 1),
                "epub": str(result.files[0].path),
                "epub_mb": round(result.files[0].path.stat().st_size / 1048576, 1),
            }
        )
    )


if __name__ == "__main__":
    main()

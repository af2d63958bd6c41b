"""The zip writer every archive goes through: deflate on the other cores, in bounded memory,
and packages that any unzip reads back byte for byte."""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
import sys
import threading
import tracemalloc
import zipfile
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from snapshots import make_file, rich_snapshot, with_everything

import tui_exports.engine.publish as publish
from tui_exports.exporters.common import package, zipwriter
from tui_exports.exporters.common.package import PackageWriter
from tui_exports.exporters.common.zipwriter import CHUNK, ZipWriter
from tui_exports.exporters.zip import export_zip
from tui_exports.model import ContextType, no_progress

WORDS = "course page quiz answer module lecture the of and week reading notes Ünï 日本 ☕".split()


def text(size: int, seed: int = 1) -> bytes:
    """Compressible text that is not one repeated line: 64 KiB of words drawn at random, then
    slices of it (deflate's window is 32 KiB: it does not see the repeats)."""
    rnd = random.Random(seed)
    base = " ".join(rnd.choices(WORDS, k=12_000)).encode()[: 64 << 10]
    out = bytearray()
    while len(out) < size:
        at = rnd.randrange(len(base) // 2)
        out += base[at:]
    return bytes(out[:size])


def info(name: str, stored: bool = False) -> zipfile.ZipInfo:
    i = zipfile.ZipInfo(name, (2026, 3, 1, 12, 0, 0))
    i.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    return i


def unzip_test(path: Path) -> None:
    """Info-ZIP's own check of every entry's CRC, where it is installed."""
    if shutil.which("unzip"):
        done = subprocess.run(["unzip", "-tqq", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_zip_export_of_big_files_unpacks_to_the_same_bytes(tmp_path, blobs):
    snap = rich_snapshot(blobs)
    big_text = text(5 * CHUNK + 12345)
    media = random.Random(2).randbytes(3 * CHUNK + 7)
    snap.files = [
        *snap.files,
        make_file(blobs, 90, 1, "lecture notes.txt", big_text, "text/plain"),
        make_file(blobs, 91, 1, "clip.mp4", media, "video/mp4"),
        make_file(blobs, 92, 1, "empty.txt", b"", "text/plain"),
    ]
    result = export_zip(with_everything(snap), tmp_path, no_progress)
    path = result.files[0].path
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        entries = {i.filename: i for i in z.infolist()}
        assert z.read("lecture notes.txt") == big_text
        assert z.read("clip.mp4") == media
        assert z.read("empty.txt") == b""
    notes = entries["lecture notes.txt"]
    assert notes.compress_type == zipfile.ZIP_DEFLATED
    assert notes.compress_size < 0.6 * len(big_text)  # deflated across chunk boundaries, not stored
    assert entries["clip.mp4"].compress_type == zipfile.ZIP_STORED
    unzip_test(path)


def test_big_entries_deflate_on_the_pool_threads_and_small_ones_inline(tmp_path, monkeypatch):
    where: list[tuple[int, str]] = []
    original = zipwriter.deflate_chunk

    def recording(data, primer, final):
        where.append((len(data), threading.current_thread().name))
        return original(data, primer, final)

    monkeypatch.setattr(zipwriter, "deflate_chunk", recording)
    body = text(3 * CHUNK + 5)
    path = tmp_path / "t.zip"
    with ZipWriter(path) as zw:
        zw.writestr(info("small.xml"), b"<a>small</a>\n")
        with zw.open(info("big.html")) as entry:
            for at in range(0, len(body), 7777):  # pieces that straddle chunk boundaries
                entry.write(body[at : at + 7777])
    me = threading.current_thread().name
    assert where[0] == (13, me)  # a small entry: no thread hop
    pooled = [name for size, name in where if size == CHUNK]
    assert len(pooled) == 3 and all(name.startswith("deflate") for name in pooled)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        assert z.read("big.html") == body
        assert z.read("small.xml") == b"<a>small</a>\n"
    unzip_test(path)


def test_memory_stays_bounded_however_big_the_entry(tmp_path):
    """32 MiB through one entry holds a few chunks at a time, not the entry."""
    mib = 1 << 20
    block = text(mib, seed=3)
    tracemalloc.start()
    try:
        with ZipWriter(tmp_path / "big.zip") as zw, zw.open(info("big.txt")) as entry:
            for n in range(32):
                entry.write(block[n:] + block[:n])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * mib
    with zipfile.ZipFile(tmp_path / "big.zip") as z:
        assert z.getinfo("big.txt").file_size == 32 * mib
        assert z.testzip() is None


def test_a_failure_mid_entry_closes_the_file_and_says_why(tmp_path):
    path = tmp_path / "broken.zip"
    with pytest.raises(OSError, match="disk gone"):
        with ZipWriter(path) as zw, zw.open(info("big.txt")) as entry:
            entry.write(text(3 * CHUNK))
            raise OSError("disk gone")
    assert zw.zip.fp is None  # closed: the caller can delete it


def test_the_archive_hash_is_taken_as_it_is_written(tmp_path):
    path = tmp_path / "h.zip"
    with ZipWriter(path) as zw:
        for n in range(40):  # past the hash thread's settle step several times
            with zw.open(info(f"part-{n}.txt")) as entry:
                entry.write(text(200_000, seed=n))
        zw.writestr(info("clip.mp4", stored=True), random.Random(5).randbytes(3 * CHUNK))
    assert zw.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("export_type", ["zip", "common_cartridge", "qti", "epub"])
def test_the_library_records_the_hash_of_the_published_file_without_reading_it_again(
    service, monkeypatch, export_type
):
    hashed = []
    counting = SimpleNamespace(sha256=lambda *a: hashed.append(a) or hashlib.sha256(*a))
    monkeypatch.setattr(publish, "hashlib", counting)
    owner = service.owner_id()
    if export_type == "epub":
        record = service.create_epub_export(owner, 1)
        service.store.claim("epub", record.id, 1, state="created")
        service.run_epub_export(record.id)
        record = service.store.epub_export(record.id)
        att = service.store.attachment(record.epub_attachment_id)
    else:
        record = service.create_content_export(owner, ContextType.COURSE, 1, export_type)
        service.store.claim("content", record.id, 1, state="created")
        service.run_content_export(record.id)
        record = service.store.content_export(record.id)
        att = service.store.attachment(record.attachment_id)
    assert att is not None, record.errors
    data = Path(att.path).read_bytes()
    assert (att.size, att.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert hashed == []  # the writer's hash, not a second pass over the package


def test_a_ctrl_c_while_an_entry_closes_stays_a_ctrl_c(tmp_path, monkeypatch):
    """A Ctrl-C that lands inside zipfile's closing of an entry leaves the zip "writing": the
    abort still closes the file, and the KeyboardInterrupt is what comes out (a ValueError
    from zipfile took its place, and a bulk run read the stop as a failed item)."""

    def interrupted(handle):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(zipfile._ZipWriteFile, "close", interrupted)
        m.setattr(zipwriter, "INLINE", 4 * CHUNK)  # deflated at once: the entry ends as it closes
        with pytest.raises(KeyboardInterrupt):
            with ZipWriter(tmp_path / "stopped.zip") as zw, zw.open(info("big.txt")) as entry:
                entry.write(text(2 * CHUNK))
        assert zw.zip.fp is None


def test_a_ctrl_c_while_the_archive_closes_closes_its_file(tmp_path, monkeypatch):
    """The archive's own end (its last entries, the central directory) interrupted: the file is
    closed all the same, and the KeyboardInterrupt comes out."""
    real, calls = zipwriter._Zip.close, []

    def interrupted_once(zf):
        if not calls:
            calls.append(1)
            raise KeyboardInterrupt
        return real(zf)

    monkeypatch.setattr(zipwriter._Zip, "close", interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        with ZipWriter(tmp_path / "stopped.zip") as zw:
            zw.writestr(info("a.txt"), b"first")
    assert calls and zw.zip.fp is None


def test_a_full_disk_fails_with_its_own_error_and_leaves_nothing_open(tmp_path, monkeypatch):
    """The first failed write is the error raised; the closing writes that fail after it are not."""
    path = tmp_path / "full.zip"
    zw = ZipWriter(path)
    zw.writestr(info("a.txt"), b"first")
    fp = zw.zip.fp

    def full(data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fp, "write", full)
    with pytest.raises(OSError, match="No space left") as raised:
        with zw, zw.open(info("b.txt")) as entry:
            entry.write(text(2 * CHUNK))
    assert raised.value.__context__ is None
    assert zw.zip.fp is None and fp.closed


def test_a_source_that_fails_mid_copy_leaves_a_valid_package(tmp_path, monkeypatch):
    """A blob that cannot be read past its first MiB: its entry is kept, cut short, and the
    entries after it are whole (the CC and QTI exporters warn and go on)."""
    first = text(1 << 20)

    class Failing:
        def __init__(self, *a):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise OSError(5, "Input/output error")
            return first

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    path = tmp_path / "p.zip"
    with PackageWriter(path, datetime(2026, 3, 1, 12, 0)) as pkg:
        with monkeypatch.context() as m:
            m.setattr(package, "open", Failing, raising=False)
            with pytest.raises(OSError, match="Input/output"):
                pkg.copy_file("web_resources/big.txt", tmp_path / "any", 3 << 20)
        pkg.write_bytes("after.txt", b"after")
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        assert z.read("web_resources/big.txt") == first
        assert z.read("after.txt") == b"after"
    unzip_test(path)


def test_a_hash_that_cannot_be_taken_is_none_never_wrong(tmp_path, monkeypatch):
    class Broken:
        def update(self, data):
            raise MemoryError

        def hexdigest(self):
            return "0" * 64

    monkeypatch.setattr(zipwriter, "hashlib", SimpleNamespace(sha256=Broken))
    path = tmp_path / "n.zip"
    with ZipWriter(path) as zw:
        zw.writestr(info("a.txt"), text(300_000))
    assert zw.sha256 is None  # publish then reads the file for it, as before
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None


class _Tail:
    """An archive's file position far along (past 4 GiB), without the bytes before it."""

    def __init__(self, at: int):
        self.at, self.out = at, bytearray()

    def write(self, data) -> int:
        self.out += data
        return len(data)

    def tell(self) -> int:
        return self.at + len(self.out)

    def flush(self) -> None:
        pass


def _zip64_infos() -> list[zipfile.ZipInfo]:
    """Entries of every ZIP64 case: small, > 4 GiB (deflated, stored), at an offset > 4 GiB."""
    out = []
    for n, (size, packed, offset, stored) in enumerate(
        [
            (10, 8, 0, False),
            (5 << 30, 1 << 30, 100, False),
            (5 << 30, 5 << 30, 6 << 30, True),
            (7, 7, 12 << 30, True),
        ]
    ):
        i = info(f"dir/ünï-{n}.bin", stored)
        i.file_size, i.compress_size, i.header_offset, i.CRC = size, packed, offset, 0xDEADBEEF - n
        i.external_attr = 0o644 << 16
        out.append(i)
    return out


@pytest.mark.parametrize(("count", "start"), [(4, 1000), (70_000, 1000), (4, 13 << 30)])
def test_the_spooled_central_directory_is_zipfiles_byte_for_byte(tmp_path, count, start):
    """The central directory packed entry by entry as they close, and the end records, are the
    bytes ``zipfile`` writes from its list of ``ZipInfo``: with entries and offsets past 4 GiB,
    more than 65,535 entries, a directory that starts past 4 GiB (the ZIP64 records)."""
    infos = (_zip64_infos() * (count // 4 + 1))[:count]
    expected, got = _Tail(start), _Tail(start)
    reference = zipfile.ZipFile(tmp_path / "ref.zip", "w")
    real_fp = reference.fp
    reference.fp, reference.start_dir, reference.filelist = expected, start, infos
    reference._write_end_record()
    reference.fp, reference.filelist, reference._didModify = real_fp, [], False
    reference.close()

    ours = zipwriter._Zip(tmp_path / "ours.zip")
    for i in infos:
        ours.filelist.append(i)
        ours.spool_closed()
    assert ours.filelist == [] and ours.NameToInfo == {}  # nothing held per entry
    real_fp = ours.fp
    ours.fp, ours.start_dir = got, start
    ours._write_end_record()
    ours.fp, ours._didModify = real_fp, False
    ours.close()
    assert len(got.out) > 46 * count
    assert bytes(got.out) == bytes(expected.out)


@pytest.mark.slow
def test_more_than_65535_entries_make_a_zip64_archive_any_unzip_reads(tmp_path):
    """Byte for byte the archive ``zipfile`` writes for the same stored entries."""
    names = [f"d/{n}.txt" for n in range(zipfile.ZIP_FILECOUNT_LIMIT + 5)]
    with ZipWriter(tmp_path / "many.zip") as zw:
        for n, name in enumerate(names):
            zw.writestr(info(name, stored=True), b"%d" % n)
    with zipfile.ZipFile(tmp_path / "ref.zip", "w") as z:
        for n, name in enumerate(names):
            z.writestr(info(name, stored=True), b"%d" % n)
    assert (tmp_path / "many.zip").read_bytes() == (tmp_path / "ref.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "many.zip") as z:
        assert z.namelist()[-1] == names[-1] and len(z.namelist()) == len(names)
        assert z.read(names[-1]) == b"%d" % (len(names) - 1)
    unzip_test(tmp_path / "many.zip")


def test_a_package_remembers_its_entry_names_as_digests(tmp_path):
    """Names handed out are never handed out again (case-insensitively, files against folders),
    while memory holds digests, not the names: 10,000 entries' names in under 400 KB (a set of
    their lower-cased names took over 1 MB)."""
    with PackageWriter(tmp_path / "p.zip", datetime(2026, 3, 1, 12, 0)) as pkg:
        assert pkg.unique("wiki_content/Intro.html") == "wiki_content/Intro.html"
        assert pkg.unique("wiki_content/intro.HTML") == "wiki_content/intro-2.HTML"
        assert pkg.unique("wiki_content") == "wiki_content-2"
        assert pkg.unique("wiki_content/intro.html") == "wiki_content/intro-3.html"
        tracemalloc.start()
        try:
            names = [pkg.unique(f"wiki_content/page-{n}.html") for n in range(10_000)]
            taken, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        held = taken - sum(sys.getsizeof(n) for n in names) - sys.getsizeof(names)
        assert held < 400 << 10
        assert pkg.unique("wiki_content/PAGE-9999.html") == "wiki_content/PAGE-9999-2.html"
        assert len(set(names)) == 10_000

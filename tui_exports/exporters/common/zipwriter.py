"""A zip file whose deflate runs beside the writer, on the other cores.

Every archive this program writes (Common Cartridge, QTI, zip of files, the ePub and its
companion zip) goes through :class:`ZipWriter`.  The calling thread builds and reads the bytes
and writes the archive, in order; an entry to deflate is cut into 256 KiB chunks, and each chunk is
compressed in a small thread pool as a raw deflate stream ending on a sync-flush boundary (the
last one on a final block), primed with the previous chunk's last 32 KiB -- what ``pigz`` does --
so the chunks joined are one valid deflate stream, about as small as a serial one.  The
compressor releases the GIL (:mod:`.compression`), so chunks deflate while the caller goes on.

Memory stays bounded: the chunks queued (deflating, or waiting behind one that is) hold at most
``2 × (threads + 1)`` chunks' bytes; past that the caller waits for the oldest and writes it.
(Chunks of 256 KiB rather than 1 MiB: the deflate threads' malloc arenas kept 5 MB more of
the bigger ones, for no measurable gain in speed.)  Small entries (most XML documents) are deflated inline: a
thread hop would cost more than the work.  The CRC-32 is taken as the bytes arrive (ISA-L's
runs at memory speed).

The archive's SHA-256 is taken beside the writer too, on another thread that reads back (from
the page cache) the part of the file that will not change any more -- everything before the
entry being written, whose local header is rewritten when it closes -- so the engine need not
read the whole package again to record its hash (:attr:`ZipWriter.sha256`).

The zip structure itself (local headers rewritten with the sizes, ZIP64) is :mod:`zipfile`'s: an
entry is opened with ``ZipFile.open(info, "w")`` when its first bytes are due, the compressed
bytes go straight to the archive, and the sizes and CRC are set on the handle before it is closed.
The central directory is not held as :mod:`zipfile` holds it (a ``ZipInfo`` per entry, and a dict
of names: ~0.5 KB an entry): each entry's record is packed as it closes, in :mod:`zipfile`'s bytes,
and spooled to a temporary file that is copied after the last entry (:class:`_Zip`), so a
package of 100,000 entries costs no more memory than one of 10.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import tempfile
import threading
import zipfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from .compression import crc32, deflate_chunk

CHUNK = 256 << 10
#: An entry this small is deflated on the calling thread.
INLINE = 64 << 10
#: Bytes of the previous chunk that prime the next one (deflate's window).
WINDOW = 32 << 10
#: The hash thread is woken when this much more of the archive is settled (and at the end).
SETTLE = 4 << 20
HASH_READ = 1 << 20
#: The central directory's records stay in memory up to this size, then spill to a temporary file.
SPOOL_IN_MEMORY = 1 << 20

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def threads() -> int:
    """The deflate threads: one per core this process may run on (at least one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _shared_pool() -> ThreadPoolExecutor:
    """One pool for the process: three exports at once still deflate on as many threads as cores."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(threads(), thread_name_prefix="deflate")
        return _pool


class _Flushed:
    """Stands in for ``zipfile``'s compressor: the bytes arrive deflated already."""

    @staticmethod
    def flush() -> bytes:
        return b""


def central_record(info: zipfile.ZipInfo) -> bytes:
    """The central directory record of one closed entry, byte for byte what
    ``ZipFile._write_end_record`` writes for it (ZIP64 extra field and versions included)."""
    dt = info.date_time
    dosdate = (dt[0] - 1980) << 9 | dt[1] << 5 | dt[2]
    dostime = dt[3] << 11 | dt[4] << 5 | (dt[5] // 2)
    extra = []
    file_size, compress_size, header_offset = info.file_size, info.compress_size, info.header_offset
    if file_size > zipfile.ZIP64_LIMIT or compress_size > zipfile.ZIP64_LIMIT:
        extra += [file_size, compress_size]
        file_size = compress_size = 0xFFFFFFFF
    if header_offset > zipfile.ZIP64_LIMIT:
        extra.append(header_offset)
        header_offset = 0xFFFFFFFF
    extra_data = info.extra
    min_version = 0
    if extra:
        extra_data = zipfile._strip_extra(extra_data, (1,))
        extra_data = struct.pack("<HH" + "Q" * len(extra), 1, 8 * len(extra), *extra) + extra_data
        min_version = zipfile.ZIP64_VERSION
    filename, flag_bits = info._encodeFilenameFlags()
    head = struct.pack(
        zipfile.structCentralDir,
        zipfile.stringCentralDir,
        max(min_version, info.create_version),
        info.create_system,
        max(min_version, info.extract_version),
        info.reserved,
        flag_bits,
        info.compress_type,
        dostime,
        dosdate,
        info.CRC,
        compress_size,
        file_size,
        len(filename),
        len(extra_data),
        len(info.comment),
        0,
        info.internal_attr,
        info.external_attr,
        header_offset,
    )
    return head + filename + extra_data + info.comment


class _Zip(zipfile.ZipFile):
    """:class:`zipfile.ZipFile` (write mode, stored or deflated entries) keeping no ``ZipInfo``
    of a closed entry: :meth:`spool_closed` packs the last closed entry's central directory
    record into a spooled temporary file, and the end of the archive is that file copied, then
    the end records (ZIP64 ones past 65,535 entries or 4 GiB), as ``zipfile`` writes them."""

    def __init__(self, path: Path | str):
        super().__init__(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._central = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, dir=Path(path).parent)
        self.entries = 0

    def spool_closed(self) -> None:
        """Move the entry just closed from ``filelist`` to the spooled central directory."""
        info = self.filelist.pop()
        self.NameToInfo.pop(info.filename, None)
        self._central.write(central_record(info))
        self.entries += 1

    def _write_end_record(self) -> None:
        try:
            for info in self.filelist:  # an entry closed by an abort, not spooled yet
                self._central.write(central_record(info))
                self.entries += 1
            self.filelist.clear()
            self._central.seek(0)
            shutil.copyfileobj(self._central, self.fp, HASH_READ)
        finally:
            self._central.close()
        pos2 = self.fp.tell()
        count, size, offset = self.entries, pos2 - self.start_dir, self.start_dir
        if count > zipfile.ZIP_FILECOUNT_LIMIT or offset > zipfile.ZIP64_LIMIT or size > zipfile.ZIP64_LIMIT:
            self.fp.write(
                struct.pack(
                    zipfile.structEndArchive64,
                    zipfile.stringEndArchive64,
                    44,
                    45,
                    45,
                    0,
                    0,
                    count,
                    count,
                    size,
                    offset,
                )
            )
            self.fp.write(
                struct.pack(zipfile.structEndArchive64Locator, zipfile.stringEndArchive64Locator, 0, pos2, 1)
            )
            count, size, offset = min(count, 0xFFFF), min(size, 0xFFFFFFFF), min(offset, 0xFFFFFFFF)
        self.fp.write(
            struct.pack(
                zipfile.structEndArchive, zipfile.stringEndArchive, 0, 0, count, count, size, offset, 0
            )
        )
        self.fp.flush()


class ZipWriter:
    """A zip being written at ``path``; entries are opened one after another with :meth:`open`."""

    def __init__(self, path: Path | str):
        self.zip = _Zip(path)
        self._hasher = _Hasher(path)
        #: the archive's SHA-256 (hex), once it is closed
        self.sha256: str | None = None
        self._queue: deque = deque()  # in archive order: _Open, bytes, Future, _Close
        self._held = 0  # bytes in the queue: chunks waiting to be deflated or written
        self._limit = 2 * (threads() + 1) * CHUNK
        self._handle = None  # zipfile's handle of the entry being written out
        self._failed: BaseException | None = None  # what broke the archive (a full disk…)
        self._open_entry: ZipEntry | None = None

    # ---------------------------------------------------------------- entries
    def open(self, info: zipfile.ZipInfo, force_zip64: bool = False) -> ZipEntry:
        """A writable file for entry ``info`` (its ``compress_type`` says store or deflate)."""
        if self._open_entry is not None:
            raise ValueError("an entry of this zip is still open")
        entry = ZipEntry(self, info, force_zip64)
        self._open_entry = entry
        self._queue.append(entry)
        return entry

    def writestr(self, info: zipfile.ZipInfo, data: bytes) -> None:
        if len(data) >= INLINE:
            with self.open(info) as entry:
                entry.write(data)
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            self.write_deflated(info, deflate_whole(data))
        else:
            self._whole(info, bytes(data), len(data), crc32(data))

    def write_deflated(self, info: zipfile.ZipInfo, deflated: Deflated) -> None:
        """Entry ``info`` (deflated) from bytes :func:`deflate_whole` made, maybe in another
        process: they are copied, as :meth:`writestr` of the same data would have written them."""
        self._whole(info, deflated.data, deflated.size, deflated.crc)

    def _whole(self, info: zipfile.ZipInfo, data: bytes, size: int, crc: int) -> None:
        if self._open_entry is not None:
            raise ValueError("an entry of this zip is still open")
        self._put(_Whole(info, data, size, crc), len(data))

    # ---------------------------------------------------------------- the queue
    def _put(self, item: bytes | Future, size: int) -> None:
        self._queue.append(item)
        self._held += size
        if isinstance(item, Future):
            item.size = size
        self._pump(keep=self._limit)

    def _deflate(self, data: bytes, primer: bytes, final: bool) -> None:
        if len(data) < INLINE:
            out = deflate_chunk(data, primer, final)
            self._put(out, len(out))
        else:
            self._put(_shared_pool().submit(deflate_chunk, data, primer, final), len(data))

    def _pump(self, keep: int | None) -> None:
        """Write out the head of the queue while it is ready; wait for a chunk in flight while
        the queue holds more than ``keep`` bytes (``None``: never wait, ``-1``: write everything).
        Once writing failed, every call raises that failure again."""
        if self._failed is not None:
            raise self._failed
        try:
            self._write_ready(keep)
        except BaseException as e:
            self._failed = e
            raise

    def _write_ready(self, keep: int | None) -> None:
        queue = self._queue
        while queue:
            head = queue[0]
            if isinstance(head, Future):
                if not head.done() and (keep is None or self._held <= keep):
                    return
                self._emit(head.result())
                self._held -= head.size
            elif isinstance(head, bytes | bytearray):
                self._emit(head)
                self._held -= len(head)
            elif isinstance(head, _Whole):
                self._write_whole(head)
                self._held -= len(head.data)
                self._closed()
            elif isinstance(head, ZipEntry):  # the entries before it are closed: its header is due
                self._handle = self.zip.open(head.info, "w", force_zip64=head.force_zip64)
                if head.info.compress_type == zipfile.ZIP_DEFLATED:
                    self._handle._compressor = _Flushed()
            else:  # _Close
                handle, self._handle = self._handle, None
                handle._file_size, handle._crc = head.size, head.crc
                handle.close()
                self._closed()
            queue.popleft()

    def _closed(self) -> None:
        """The entry just written is closed: its central record goes to the spool."""
        self.zip.spool_closed()
        if self.zip.start_dir - self._hasher.settled >= SETTLE:
            self.zip.fp.flush()
            self._hasher.settle(self.zip.start_dir)

    def _write_whole(self, whole: _Whole) -> None:
        """An entry whose bytes, size and CRC are all known: its local header written once, with
        them, where :mod:`zipfile` writes it empty and seeks back to fill it in on close -- the
        same bytes (``ZipFile._open_to_write`` and ``_ZipWriteFile.close``, seekable, no ZIP64)."""
        zf, info = self.zip, whole.info
        if len(whole.data) > zipfile.ZIP64_LIMIT or whole.size > zipfile.ZIP64_LIMIT:
            raise ValueError("an entry written whole must be smaller than ZIP64's limit")
        info.flag_bits = 0
        if not info.external_attr:
            info.external_attr = 0o600 << 16
        info.compress_size, info.file_size, info.CRC = len(whole.data), whole.size, whole.crc
        info.header_offset = zf.start_dir
        zf._writecheck(info)
        zf._didModify = True
        header = info.FileHeader(False)
        zf.fp.write(header)
        zf.fp.write(whole.data)
        zf.start_dir += len(header) + len(whole.data)
        zf.filelist.append(info)

    def _emit(self, data: bytes) -> None:
        self.zip.fp.write(data)
        self._handle._compress_size += len(data)

    def _entry_closed(self, entry: ZipEntry) -> None:
        self._open_entry = None
        self._queue.append(_Close(entry.size, entry.crc))
        self._pump(keep=None)

    # ---------------------------------------------------------------- the end
    def close(self) -> None:
        if self._open_entry is not None:
            self._open_entry.close()
        self._pump(keep=-1)
        self.zip.close()
        self.sha256 = self._hasher.finish()

    def abort(self) -> None:
        """Stop on a failure: drop what is queued and close the file (the caller deletes it).
        The failure that got here is the one raised: a disk that is full fails the closing
        writes too, and those second errors are dropped."""
        for item in self._queue:
            if isinstance(item, Future):
                item.cancel()
        self._queue.clear()
        self._open_entry = None
        try:
            if self._handle is not None:
                handle, self._handle = self._handle, None
                handle.close()
        except Exception:  # noqa: BLE001 - the first failure is the one raised
            pass
        finally:
            # a handle that a Ctrl-C stopped half-way through its opening or closing leaves the
            # zip "writing": without this, closing it raises ValueError, which would replace the
            # KeyboardInterrupt (a bulk run took the stop for a failed item, and retried it)
            self.zip._writing = False
            try:
                self.zip.close()
            except Exception:  # noqa: BLE001 - the first failure is the one raised
                pass
            finally:
                self._hasher.finish(whole=False)

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        if exc_type is not None:
            self.abort()
            return
        try:
            self.close()
        except BaseException:  # the last entries or the central directory failed (a full disk, a Ctrl-C)
            self.abort()
            raise


class _Hasher:
    """SHA-256 of a file being written, taken on its own thread up to what is settled.

    Any trouble (a read that comes back short, an error) gives no hash rather than a wrong one:
    the engine then reads the file to hash it, as it did before."""

    def __init__(self, path: Path | str):
        self._file = open(path, "rb", buffering=0)  # this thread's own handle: seek + readinto
        self._sha = hashlib.sha256()
        self._done = 0
        self._failed = False
        self.settled = 0
        self._end = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="zip-sha256", daemon=True)
        self._thread.start()

    def settle(self, offset: int) -> None:
        """Bytes before ``offset`` are written (flushed to the OS) for good."""
        with self._wake:
            self.settled = offset
            self._wake.notify()

    def _run(self) -> None:
        view = memoryview(bytearray(HASH_READ))  # one buffer: no allocation per read
        try:
            while True:
                with self._wake:
                    while self.settled <= self._done and not self._end:
                        self._wake.wait()
                    target, end = self.settled, self._end
                self._file.seek(self._done)
                while self._done < target:
                    n = self._file.readinto(view[: min(HASH_READ, target - self._done)])
                    if not n:
                        raise EOFError(f"the archive ends at {self._done}, before {target}")
                    self._sha.update(view[:n])
                    self._done += n
                if end:
                    return
        except BaseException:  # noqa: BLE001 - no hash, never a wrong one (see the class)
            self._failed = True

    def finish(self, whole: bool = True) -> str | None:
        """The hash of the whole file, once it is closed (``whole=False``: stop, the file is
        going away); None if it could not be taken."""
        with self._wake:
            if not self._end:
                self.settled = os.fstat(self._file.fileno()).st_size if whole else self._done
                self._end = True
                self._wake.notify()
        self._thread.join()
        self._file.close()
        return None if self._failed else self._sha.hexdigest()


class Deflated(NamedTuple):
    """One entry's bytes deflated whole: the raw deflate stream, the size and CRC-32 of the data."""

    data: bytes
    size: int
    crc: int


def deflate_whole(data: bytes) -> Deflated:
    """``data`` deflated exactly as :class:`ZipEntry` deflates it written at once (the same
    chunks, each primed with the one before), so the archive's bytes do not depend on where
    the entry was deflated."""
    out, primer, at = [], b"", 0
    while len(data) - at >= CHUNK:
        chunk = data[at : at + CHUNK]
        out.append(deflate_chunk(chunk, primer, final=False))
        primer, at = chunk[-WINDOW:], at + CHUNK
    out.append(deflate_chunk(data[at:], primer, final=True))
    return Deflated(b"".join(out), len(data), crc32(data))


class _Whole:
    __slots__ = ("info", "data", "size", "crc")

    def __init__(self, info: zipfile.ZipInfo, data: bytes, size: int, crc: int):
        self.info, self.data, self.size, self.crc = info, data, size, crc


class _Close:
    __slots__ = ("size", "crc")

    def __init__(self, size: int, crc: int):
        self.size, self.crc = size, crc


class ZipEntry:
    """One entry being written: a file object for ``write`` (lxml and ``shutil`` use it as one)."""

    def __init__(self, writer: ZipWriter, info: zipfile.ZipInfo, force_zip64: bool):
        self.writer, self.info, self.force_zip64 = writer, info, force_zip64
        self.deflated = info.compress_type == zipfile.ZIP_DEFLATED
        self.size = 0
        self.crc = 0
        self.closed = False
        self._buffer = bytearray()
        self._primer = b""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed zip entry")
        n = len(data)
        if not n:
            return 0
        self.size += n
        self.crc = crc32(data, self.crc)
        if not self.deflated:
            self.writer._put(bytes(data), n)
            return n
        self._buffer += data
        while len(self._buffer) >= CHUNK:
            chunk = bytes(self._buffer[:CHUNK])
            del self._buffer[:CHUNK]
            self.writer._deflate(chunk, self._primer, final=False)
            self._primer = chunk[-WINDOW:]
        return n

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.deflated:
            self.writer._deflate(bytes(self._buffer), self._primer, final=True)
            self._buffer = bytearray()
        self.writer._entry_closed(self)

    def flush(self) -> None:
        pass

    def __enter__(self) -> ZipEntry:
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        if self.writer._failed is None:
            self.close()  # a source that failed mid-copy still leaves a whole entry, cut short
        else:  # the archive itself failed: nothing more is queued (its abort closes the file)
            self.closed = True
            self.writer._open_entry = None

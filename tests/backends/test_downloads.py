"""Downloads that resume across runs: ``<name>.<file id>.part`` + its ``.json`` sidecar (httpx.MockTransport).

Each "run" is a new CanvasBackend over the same download folder, as a new process would be.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tui_exports.backends.base import BackendError
from tui_exports.backends.canvas import CanvasBackend

BASE = "https://canvas.example.edu"
OLD = bytes(range(256)) * 40  # 10 KiB
NEW = bytes(reversed(range(256))) * 48  # 12 KiB: the file after it changed on the server
ATT = {
    "id": 11,
    "filename": "course-export.imscc",
    "size": len(OLD),
    "url": f"{BASE}/files/11/download?verifier=sekrit",
}


class Cut(httpx.SyncByteStream):
    """A body that stops after ``at`` bytes as a dropped connection does."""

    def __init__(self, data: bytes, at: int):
        self.data, self.at = data, at

    def __iter__(self):
        yield self.data[: self.at]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


class FileServer:
    """One file at ``/files/11/download``, with switchable Range/If-Range support and drops."""

    def __init__(
        self,
        data: bytes = OLD,
        *,
        etag: str | None = '"v1"',
        last_modified: str | None = None,
        ranges: bool = True,
        if_range: bool = True,
    ):
        self.data, self.etag, self.last_modified = data, etag, last_modified
        self.ranges, self.if_range = ranges, if_range
        self.cut_at: int | None = None  # drop every response after this many body bytes
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        headers = {"Content-Type": "application/zip", "Accept-Ranges": "bytes" if self.ranges else "none"}
        if self.etag:
            headers["ETag"] = self.etag
        if self.last_modified:
            headers["Last-Modified"] = self.last_modified
        start = 0
        rng, cond = request.headers.get("range"), request.headers.get("if-range")
        if (
            rng
            and self.ranges
            and (not self.if_range or cond is None or cond in (self.etag, self.last_modified))
        ):
            start = int(rng.removeprefix("bytes=").rstrip("-"))
            if start >= len(self.data):
                return httpx.Response(416, headers={"Content-Range": f"bytes */{len(self.data)}"})
        body = self.data[start:]
        headers["Content-Length"] = str(len(body))
        status = 200
        if start:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(self.data) - 1}/{len(self.data)}"
        if self.cut_at is not None:
            return httpx.Response(status, headers=headers, stream=Cut(body, self.cut_at))
        return httpx.Response(status, headers=headers, content=body)

    def sent(self, name: str) -> list[str | None]:
        return [r.headers.get(name) for r in self.requests]


def run(server: FileServer, folder, *, retries: int = 1, att=ATT, progress=None):
    """One run of the program: a new backend, one fetch_file, closed."""
    b = CanvasBackend(
        BASE, "tok", transport=httpx.MockTransport(server.handler), sleep=lambda s: None, retries=retries
    )
    try:
        return b.fetch_file(att, folder, progress=progress)
    finally:
        b.close()


def interrupted_run(server: FileServer, folder, cut_at: int = 3000) -> None:
    """A run whose every attempt drops after ``cut_at`` bytes: it gives up, the .part stays."""
    server.cut_at = cut_at
    with pytest.raises(BackendError, match="was kept and the next download of this file continues it"):
        run(server, folder, retries=0)
    server.cut_at = None
    server.requests.clear()


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_resumes_in_a_later_run_with_range_and_if_range(tmp_path):
    server = FileServer()
    interrupted_run(server, tmp_path)
    assert names(tmp_path) == ["course-export.imscc.11.part", "course-export.imscc.11.part.json"]
    sidecar = json.loads((tmp_path / "course-export.imscc.11.part.json").read_text())
    assert sidecar == {
        "version": 1,
        "base_url": BASE,
        "file_id": "11",
        "size": len(OLD),
        "etag": '"v1"',
        "last_modified": None,
    }
    assert (
        "sekrit" not in (tmp_path / "course-export.imscc.11.part.json").read_text()
    )  # the verifier is never stored
    ticks = []
    path = run(server, tmp_path, progress=lambda d, t: ticks.append((d, t)))
    assert path.read_bytes() == OLD and names(tmp_path) == ["course-export.imscc"]
    assert server.sent("range") == ["bytes=3000-"] and server.sent("if-range") == ['"v1"']
    assert ticks[0] == (3000, len(OLD)) and ticks[-1] == (len(OLD), len(OLD))


def test_last_modified_is_the_validator_when_there_is_no_strong_etag(tmp_path):
    lm = "Wed, 21 Oct 2015 07:28:00 GMT"
    server = FileServer(etag='W/"weak"', last_modified=lm)
    interrupted_run(server, tmp_path)
    assert run(server, tmp_path).read_bytes() == OLD
    assert server.sent("if-range") == [lm]


def test_without_validators_resumes_with_range_alone(tmp_path):
    server = FileServer(etag=None)
    interrupted_run(server, tmp_path)
    assert run(server, tmp_path).read_bytes() == OLD
    assert server.sent("range") == ["bytes=3000-"] and server.sent("if-range") == [None]


def test_dropped_mid_file_twice_in_one_run(tmp_path):
    server = FileServer()
    drops = [2000, 5000]

    def handler(request):
        response = FileServer.handler(server, request)
        if drops:
            return httpx.Response(
                response.status_code, headers=response.headers, stream=Cut(response.read(), drops.pop(0))
            )
        return response

    b = CanvasBackend(BASE, "tok", transport=httpx.MockTransport(handler), sleep=lambda s: None, retries=3)
    assert b.fetch_file(ATT, tmp_path).read_bytes() == OLD
    assert server.sent("range") == [None, "bytes=2000-", "bytes=7000-"]
    assert names(tmp_path) == ["course-export.imscc"]


def test_server_that_ignores_range_restarts_cleanly(tmp_path):
    server = FileServer(ranges=False)
    interrupted_run(server, tmp_path)
    ticks = []
    assert run(server, tmp_path, progress=lambda d, t: ticks.append((d, t))).read_bytes() == OLD
    assert server.sent("range") == ["bytes=3000-"]  # asked; got the whole file; wrote it from byte 0
    assert ticks[0][0] == len(OLD) and names(tmp_path) == ["course-export.imscc"]


def test_changed_file_between_runs_comes_back_whole(tmp_path):
    """A server that honours If-Range answers the stale validator with the whole new file."""
    server = FileServer()
    interrupted_run(server, tmp_path)
    server.data, server.etag = NEW, '"v2"'
    att = {**ATT, "size": None}  # the listing did not say; the sidecar's size is not a reason to drop it
    assert run(server, tmp_path, att=att).read_bytes() == NEW
    assert server.sent("if-range") == ['"v1"'] and len(server.requests) == 1


def test_changed_file_and_a_server_that_ignores_if_range(tmp_path):
    """A 206 carrying another ETag (or total size) is not glued onto the old beginning."""
    server = FileServer(if_range=False)
    interrupted_run(server, tmp_path)
    server.data, server.etag = NEW, '"v2"'
    assert run(server, tmp_path, att={**ATT, "size": None}).read_bytes() == NEW
    assert server.sent("range") == ["bytes=3000-", None]
    server = FileServer(etag=None, if_range=False)  # no validators: the total size gives it away
    interrupted_run(server, tmp_path / "b")
    server.data = NEW
    assert run(server, tmp_path / "b", att={**ATT, "size": None}).read_bytes() == NEW
    assert server.sent("range") == ["bytes=3000-", None]


def test_a_listing_with_another_size_drops_the_part(tmp_path):
    server = FileServer()
    interrupted_run(server, tmp_path)
    server.data, server.etag = NEW, '"v2"'
    assert run(server, tmp_path, att={**ATT, "size": len(NEW)}).read_bytes() == NEW
    assert server.sent("range") == [None]


def test_part_of_another_file_or_without_sidecar_is_not_continued(tmp_path):
    server = FileServer()
    interrupted_run(server, tmp_path)
    other = {**ATT, "id": 12, "url": f"{BASE}/files/12/download?verifier=x"}
    assert run(server, tmp_path, att=other).read_bytes() == OLD
    assert server.sent("range") == [None]  # file 12 starts from zero: the .part of file 11 is not its
    assert (tmp_path / "course-export.imscc.11.part").exists()  # and stays for file 11's next run
    server.requests.clear()
    (tmp_path / "course-export.imscc.11.part.json").unlink()
    (tmp_path / "course-export.imscc.11.part").write_bytes(b"left by an older version")
    assert run(server, tmp_path).read_bytes() == OLD
    assert server.sent("range") == [None]
    assert names(tmp_path) == ["course-export (2).imscc", "course-export.imscc"]


def test_two_files_named_alike_downloading_at_once_keep_their_own_bytes(tmp_path):
    """Canvas names every course zip course_files_export.zip; the app follows each export in its
    own thread. Two downloads of that name at the same time end as two whole files."""
    import threading

    payloads = {11: OLD, 12: NEW}
    gate = threading.Barrier(2)

    def handler(request: httpx.Request) -> httpx.Response:
        file_id = int(request.url.path.split("/")[2])
        gate.wait(5)  # both downloads are under way before either writes
        return httpx.Response(200, content=payloads[file_id])

    def fetch(file_id: int, out: dict) -> None:
        b = CanvasBackend(BASE, "t", transport=httpx.MockTransport(handler), sleep=lambda s: None)
        att = {
            "id": file_id,
            "filename": "course_files_export.zip",
            "size": len(payloads[file_id]),
            "url": f"{BASE}/files/{file_id}/download?verifier=v",
        }
        try:
            out[file_id] = b.fetch_file(att, tmp_path)
        finally:
            b.close()

    got: dict[int, object] = {}
    threads = [threading.Thread(target=fetch, args=(i, got)) for i in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert {i: got[i].read_bytes() for i in payloads} == payloads
    assert names(tmp_path) == ["course_files_export (2).zip", "course_files_export.zip"]


def test_an_existing_file_of_the_same_name_is_never_replaced(tmp_path):
    """Canvas names many exports alike (course_files_export.zip): each download keeps its own file."""
    (tmp_path / "course-export.imscc").write_bytes(b"an earlier export")
    (tmp_path / "course-export (2).imscc").write_bytes(b"another one")
    path = run(FileServer(), tmp_path)
    assert path.name == "course-export (3).imscc" and path.read_bytes() == OLD
    assert (tmp_path / "course-export.imscc").read_bytes() == b"an earlier export"


def test_file_id_comes_from_the_url_when_the_attachment_has_none(tmp_path):
    server = FileServer()
    att = {k: v for k, v in ATT.items() if k != "id"}
    server.cut_at = 3000
    with pytest.raises(BackendError):
        run(server, tmp_path, retries=0, att=att)
    server.cut_at = None
    server.requests.clear()
    assert json.loads((tmp_path / "course-export.imscc.11.part.json").read_text())["file_id"] == "11"
    assert run(server, tmp_path, att=att).read_bytes() == OLD
    assert server.sent("range") == ["bytes=3000-"]


def test_complete_part_that_was_never_renamed(tmp_path):
    """A run that died between the last byte and the rename: 416 → start over, not an error."""
    server = FileServer()
    interrupted_run(server, tmp_path)
    (tmp_path / "course-export.imscc.11.part").write_bytes(OLD)
    assert run(server, tmp_path).read_bytes() == OLD
    assert server.sent("range") == [f"bytes={len(OLD)}-", None]


def test_a_server_sending_parts_of_something_else_gives_up(tmp_path):
    def handler(request):
        return httpx.Response(206, headers={"Content-Range": "bytes 5-9/10"}, content=b"12345")

    b = CanvasBackend(BASE, "tok", transport=httpx.MockTransport(handler), sleep=lambda s: None, retries=2)
    with pytest.raises(BackendError, match="parts of another file"):
        b.fetch_file(ATT, tmp_path)
    assert not (tmp_path / "course-export.imscc").exists()


def test_the_servers_length_counts_over_the_listings(tmp_path):
    def handler(request):
        return httpx.Response(200, content=OLD + b"extra")

    b = CanvasBackend(BASE, "tok", transport=httpx.MockTransport(handler), sleep=lambda s: None, retries=0)
    assert b.fetch_file(ATT, tmp_path).read_bytes() == OLD + b"extra"

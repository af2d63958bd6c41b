"""CanvasBackend against our own server over real HTTP on loopback: the whole flow."""

from __future__ import annotations

import httpx
import pytest

from tui_exports.backends.base import BackendError
from tui_exports.backends.canvas import CanvasBackend
from tui_exports.backends.local import LocalBackend
from tui_exports.model import ContextType

C = ContextType.COURSE


def test_user_and_courses(backend):
    assert backend.current_user().id == 1
    courses = backend.courses()
    assert [c.id for c in courses] == [1, 2, 3]
    assert all(c.role == "teacher" and c.can_export_all_types for c in courses)
    assert [c.concluded for c in courses] == [False, True, False]
    with pytest.raises(BackendError):
        backend.act_as(3)


def test_content_list_matches_local_shape(backend, server):
    _, service, _ = server
    remote = backend.content_list(1)
    local = LocalBackend(service, jobs="none", user_id=1).content_list(1)
    for kind in (
        "wiki_pages",
        "assignments",
        "quizzes",
        "context_modules",
        "content_tags",
        "attachments",
        "folders",
    ):
        assert [i["id"] for i in remote[kind]] == [i["id"] for i in local[kind]], kind
        assert [i["title"] for i in remote[kind]] == [i["title"] for i in local[kind]], kind
    assert [t["module_id"] for t in remote["content_tags"]] == [t["module_id"] for t in local["content_tags"]]
    assert sorted(a["folder_id"] for a in remote["attachments"]) == sorted(
        a["folder_id"] for a in local["attachments"]
    )


def test_zip_export_follow_and_fetch(backend, server, tmp_path, client_library):
    _, service, _ = server
    ce = backend.create_content_export(C, 1, "zip", {"files": [2, 3]}, skip_notifications=True)
    assert ce["workflow_state"] == "created"
    seen = []
    ce = backend.wait_content_export(C, 1, ce, interval=0.05, timeout=20, on_update=seen.append)
    assert ce["workflow_state"] == "exported" and seen[-1]["workflow_state"] == "completed"
    ticks = []
    path = backend.fetch_file(
        ce["attachment"], tmp_path / "dl", progress=lambda done, total: ticks.append((done, total))
    )
    assert path.read_bytes() == service.attachment(ce["attachment"]["id"]).path.read_bytes()
    assert ticks[-1] == (path.stat().st_size, path.stat().st_size)
    assert not list((tmp_path / "dl").glob("*.part"))
    att_id = ce["attachment"]["id"]  # the library keeps where the download went, and nothing else
    assert client_library.remote.download_paths(backend.base_url, [att_id]) == {att_id: str(path)}
    assert "remote_exports" not in client_library.database.db.table_names()
    items, total = backend.content_exports(C, 1, page=1, per_page=5)
    assert items[0]["id"] == ce["id"] and total is None
    assert items[0]["attachment"]["path"] == str(path)  # the history shows where the download is
    path.unlink()
    assert "path" not in backend.content_export(C, 1, ce["id"])["attachment"]  # gone: no stale path


def test_download_resumes_with_range_on_real_server(server, client_library, tmp_path):
    """The first response is cut after 100 bytes; the second attempt asks for the rest."""
    base_url, service, tokens = server
    ranges = []
    cut_next_download = [True]

    class Dropping(httpx.HTTPTransport):
        def handle_request(self, request):
            response = super().handle_request(request)
            ranges.append(request.headers.get("range"))
            if "/files/" in request.url.path and cut_next_download:
                cut_next_download.clear()
                inner = response.stream

                class Cut(httpx.SyncByteStream):
                    def __iter__(self):
                        sent = 0
                        for chunk in inner:
                            yield chunk[: 100 - sent]
                            sent += len(chunk[: 100 - sent])
                            if sent >= 100:
                                raise httpx.RemoteProtocolError("peer closed connection")

                    def close(self):
                        inner.close()

                return httpx.Response(
                    response.status_code, headers=response.headers, stream=Cut(), request=request
                )
            return response

    b = CanvasBackend(base_url, tokens["teacher"], library=client_library, backoff=0.01, transport=Dropping())
    ce = b.wait_content_export(C, 1, b.create_content_export(C, 1, "zip"), interval=0.05, timeout=20)
    ranges.clear()
    path = b.fetch_file(ce["attachment"], tmp_path)
    assert path.read_bytes() == service.attachment(ce["attachment"]["id"]).path.read_bytes()
    assert ranges == [None, "bytes=100-"]
    b.close()


def test_polling_an_unchanged_listing_writes_nothing_locally(backend, client_library, monkeypatch):
    """The app reads the history several times a second: nothing is written locally by a
    listing (only a download writes where it went), and its download paths come from one query."""
    ce = backend.wait_content_export(
        C, 1, backend.create_content_export(C, 1, "zip"), interval=0.05, timeout=20
    )
    writes, queries = [], []
    monkeypatch.setattr(client_library.remote, "record_download", lambda *a: writes.append(a))
    real = client_library.remote.download_paths
    monkeypatch.setattr(client_library.remote, "download_paths", lambda *a: queries.append(a) or real(*a))
    for _ in range(3):
        items, _ = backend.content_exports(C, 1, per_page=50)
    assert [e["id"] for e in items] == [ce["id"]] and writes == [] and len(queries) == 3


def test_context_files_match_the_local_listing(backend, server):
    _, service, _ = server
    for context, cid in ((ContextType.COURSE, 1), (ContextType.GROUP, 1)):
        remote = backend.context_files(context, cid)
        local = service.context_files(1, context, cid)
        for kind in ("folders", "attachments"):
            assert sorted(remote[kind], key=lambda x: x["id"]) == sorted(
                [{k: v for k, v in row.items() if k != "path" or kind == "folders"} for row in local[kind]],
                key=lambda x: x["id"],
            )


def test_epub_exports(backend):
    created = backend.create_epub_export(1)
    assert created["id"] == 1 and created["epub_export"]["id"]
    listed = backend.epub_exports()
    assert {c["id"] for c in listed} == {1, 2, 3}
    assert (
        backend.epub_export(1, created["epub_export"]["id"])["epub_export"]["id"]
        == created["epub_export"]["id"]
    )
    assert next(c for c in listed if c["id"] == 1)["epub_export"]["id"] == created["epub_export"]["id"]


def test_epub_downloads_keep_both_paths(backend, tmp_path):
    """An ePub export has two files; each keeps its own local path once downloaded."""
    created = backend.create_epub_export(3)["epub_export"]
    done = backend.wait_epub_export(3, {"epub_export": created}, interval=0.05, timeout=30)["epub_export"]
    paths = {key: backend.fetch_file(done[key], tmp_path) for key in ("epub_attachment", "zip_attachment")}
    shown = backend.epub_export(3, done["id"])["epub_export"]
    assert {key: shown[key]["path"] for key in paths} == {key: str(p) for key, p in paths.items()}
    assert paths["epub_attachment"].suffix == ".epub" and paths["zip_attachment"].suffix == ".zip"


def test_bad_token_and_someone_elses_export(server, client_library):
    base_url, _, tokens = server
    bad = CanvasBackend(base_url, "wrong", backoff=0.01)
    with pytest.raises(BackendError, match="rejected the access token") as e:
        bad.courses()
    assert e.value.status == 401 and "wrong" not in str(e.value)
    student = CanvasBackend(base_url, tokens["student1"])
    theirs = student.create_content_export(C, 1, "zip")
    teacher = CanvasBackend(base_url, tokens["teacher"])
    with pytest.raises(BackendError, match="not allowed") as e:
        teacher.content_export(C, 1, theirs["id"])
    assert e.value.status == 401
    with pytest.raises(BackendError, match="not allowed"):
        student.create_content_export(C, 1, "common_cartridge")
    with pytest.raises(BackendError, match="invalid export_type") as e:
        teacher.create_content_export(C, 1, "pdf")
    assert e.value.status == 400
    for b in (bad, student, teacher):
        b.close()


class CutEveryDownload(httpx.HTTPTransport):
    """Real HTTP, but every file body stops after ``at`` bytes, as a dropped connection does."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at
        self.seen: list[tuple[str | None, str | None, int]] = []  # (Range, If-Range, status) of downloads

    def handle_request(self, request):
        response = super().handle_request(request)
        if "/files/" not in request.url.path:
            return response
        self.seen.append(
            (request.headers.get("range"), request.headers.get("if-range"), response.status_code)
        )
        if self.at is None:
            return response
        inner, at = response.stream, self.at

        class Cut(httpx.SyncByteStream):
            def __iter__(self):
                sent = 0
                for chunk in inner:
                    yield chunk[: at - sent]
                    sent += len(chunk[: at - sent])
                    if sent >= at:
                        raise httpx.RemoteProtocolError("peer closed connection")

            def close(self):
                inner.close()

        return httpx.Response(response.status_code, headers=response.headers, stream=Cut(), request=request)


def _exported_zip(server, client_library):
    base_url, _, tokens = server
    b = CanvasBackend(base_url, tokens["teacher"], library=client_library, backoff=0.01)
    ce = b.wait_content_export(C, 1, b.create_content_export(C, 1, "zip"), interval=0.05, timeout=20)
    b.close()
    return ce["attachment"]


def _run(server, client_library, att, folder, transport=None, retries=4):
    """One run of the program: a new backend over the same download folder."""
    base_url, _, tokens = server
    b = CanvasBackend(
        base_url,
        tokens["teacher"],
        library=client_library,
        backoff=0.01,
        retries=retries,
        transport=transport,
    )
    try:
        return b.fetch_file(att, folder)
    finally:
        b.close()


def test_download_resumes_in_a_later_run_on_real_server(server, client_library, tmp_path):
    """Run 1 is cut every time and gives up; run 2 asks the server for the rest (Range + If-Range → 206)."""
    _, service, _ = server
    att = _exported_zip(server, client_library)
    on_disk = service.attachment(att["id"]).path.read_bytes()
    folder = tmp_path / "dl"
    first = CutEveryDownload(100)
    with pytest.raises(BackendError, match="was kept"):
        _run(server, client_library, att, folder, first, retries=1)
    assert first.seen == [(None, None, 200), ("bytes=100-", first.seen[1][1], 206)]
    assert (folder / f"{att['filename']}.{att['id']}.part").stat().st_size == 200
    assert not (folder / att["filename"]).exists()
    second = CutEveryDownload(None)
    path = _run(server, client_library, att, folder, second)
    assert path.read_bytes() == on_disk
    ((rng, if_range, status),) = second.seen
    assert rng == "bytes=200-" and if_range.startswith('"') and status == 206
    assert sorted(p.name for p in folder.iterdir()) == [att["filename"]]


def test_download_of_a_file_changed_between_runs_on_real_server(server, client_library, tmp_path):
    """The served file changes after run 1: its ETag no longer matches, the server sends it whole."""
    _, service, _ = server
    att = _exported_zip(server, client_library)
    with pytest.raises(BackendError):
        _run(server, client_library, att, tmp_path, CutEveryDownload(100), retries=0)
    blob = service.attachment(att["id"]).path
    blob.write_bytes(b"another file entirely" * 500)
    second = CutEveryDownload(None)
    path = _run(server, client_library, {**att, "size": None}, tmp_path, second)
    assert path.read_bytes() == blob.read_bytes()
    assert [(r, s) for r, _, s in second.seen] == [("bytes=100-", 200)]

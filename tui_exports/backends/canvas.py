"""CanvasBackend: a real Canvas instance through its REST API (httpx).

Every call has a timeout; lists follow ``Link: rel="next"``; 429, 5xx and dropped
connections are retried with bounded back-off (``Retry-After`` is honoured) and the
client slows down when ``X-Rate-Limit-Remaining`` runs low.  Downloads stream to
``<name>.part`` and resume with ``Range`` (and ``If-Range``) after a dropped connection,
in this run or a later one (``partial.py``: the sidecar that says what a ``.part`` holds);
only a complete file is renamed to the final name.

The token lives only in the HTTP client's headers: it is never logged, printed or stored.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from ..canvas_json import EPUB_FILES
from ..engine import ApiError
from ..engine.permissions import allowed_select_types, check_export_type
from ..engine.select import parse_select
from ..model import ContextType, is_downloadable, is_failed, was_canceled
from ..store import Library
from .base import (
    BackendError,
    CourseCatalogue,
    CourseSummary,
    FetchProgress,
    FollowProgress,
    FollowsJobs,
    UserSummary,
    canvas_base_url,
    final_progress,
)
from .partial import PartialDownload, file_id_of

log = logging.getLogger(__name__)

CONTEXT_PATH = {ContextType.COURSE: "courses", ContextType.GROUP: "groups", ContextType.USER: "users"}
ADMIN_ROLES = {"teacher", "ta", "designer"}
EPUB_DISABLED = "ePub export is not enabled on this Canvas instance"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_ASSET_ID = re.compile(r"(\d+)$")


def form_pairs(key: str, value: Any) -> list[tuple[str, str]]:
    """canvasapi's ``combine_kwargs``: lists → ``k[]=v``, dicts → ``k[sub]=v``, bools → true/false."""
    if isinstance(value, dict):
        return [pair for sub, v in value.items() for pair in form_pairs(f"{key}[{sub}]", v)]
    if isinstance(value, (list, tuple, set)):
        return [pair for v in value for pair in form_pairs(f"{key}[]", v)]
    if isinstance(value, bool):
        return [(key, "true" if value else "false")]
    return [(key, str(value))]


def canvas_message(body: Any, fallback: str) -> str:
    """The human part of a Canvas error body: ``message`` and/or ``errors[].message``."""
    if not isinstance(body, dict):
        return fallback
    errors = body.get("errors")
    if isinstance(errors, dict):  # {"errors": {"field": [{"message": …}]}}
        errors = [e for items in errors.values() if isinstance(items, list) for e in items]
    said = [str(e["message"]) for e in errors or [] if isinstance(e, dict) and e.get("message")]
    top = body.get("message")
    if top and said:
        return f"{top} ({'; '.join(said)})"
    return str(top) if top else "; ".join(said) or fallback


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def _numeric_id(asset: Any) -> int | str:
    """``wiki_page_12`` → 12; an id that is not an asset string stays as given."""
    if isinstance(asset, int):
        return asset
    m = _ASSET_ID.search(str(asset))
    return int(m.group(1)) if m else str(asset)


def _header_number(response: httpx.Response, name: str) -> float | None:
    """A numeric header of Canvas's throttle (``X-Rate-Limit-Remaining``, ``X-Request-Cost``)."""
    raw = response.headers.get(name)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


class RateBudget:
    """One token's request budget, shared by every thread that uses it (``bulk`` runs several
    exports at once): a pause one thread must take — a 403 throttle, ``X-Rate-Limit-Remaining``
    running low — holds back every thread's next request too, instead of each one finding the
    bucket empty on its own."""

    def __init__(
        self, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic
    ):
        self._sleep, self._clock = sleep, clock
        self._lock = threading.Lock()
        self._not_before = 0.0

    def hold(self, seconds: float) -> None:
        """Nobody sends before ``seconds`` from now; this thread waits them out."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)
        self._sleep(seconds)

    def wait(self) -> None:
        """Before a request: wait out a pause another thread took."""
        with self._lock:
            left = self._not_before - self._clock()
        if left > 0:
            self._sleep(left)


class CanvasBackend(FollowsJobs):
    poll_seconds = 1.0  # between Progress polls of a followed job (the API is rate limited)

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        library: Library | None = None,
        downloads: Path | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        rate_limit_low: float = 100.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        close_library: bool = False,
    ):
        base_url = canvas_base_url(base_url)
        parts = urlsplit(base_url)
        if not token:
            raise BackendError("no access token for this Canvas profile")
        self.base_url = base_url
        self.label = parts.netloc
        self.profile: str | None = None  # the config profile it was opened from (open_profile sets it)
        self.library = library
        self._close_library = close_library
        self.downloads = downloads or (library.home.downloads if library else Path.cwd())
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.rate_limit_low = rate_limit_low
        self._sleep = sleep
        #: shared with other threads on this token (``bulk``); None: this client paces alone
        self.budget: RateBudget | None = None
        self._jitter = random.random
        #: told, in words, what the client is waiting for ("Canvas is throttling, waiting 4 s")
        self.on_status: Callable[[str], None] | None = None
        self._client = httpx.Client(
            base_url=f"{base_url}/api/v1/",
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": "tui-exports",
                "Accept": "application/json",
            },
            timeout=timeout,
            transport=transport,
            follow_redirects=True,  # file downloads redirect to storage; httpx drops the token off-origin
        )
        self._user: UserSummary | None = None

    def __repr__(self) -> str:  # never shows the token
        return f"CanvasBackend({self.base_url!r})"

    # ------------------------------------------------------------------ HTTP
    def _send(self, method: str, url: str, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        """One request with bounded retries; returns a 2xx response or raises BackendError."""
        idempotent = method in ("GET", "HEAD")
        attempt = 0
        while True:
            if self.budget is not None:
                self.budget.wait()
            try:
                request = self._client.build_request(method, url, **kwargs)
                response = self._client.send(request, stream=stream)
            except httpx.TimeoutException as e:
                if not idempotent and not isinstance(e, httpx.ConnectTimeout):
                    raise BackendError(
                        f"{self.label} did not answer {method} {self._path(url)} in time"
                    ) from None
                error: Exception = e
            except httpx.TransportError as e:
                if not idempotent and not isinstance(e, httpx.ConnectError):
                    raise BackendError(
                        f"the connection to {self.label} failed during {method} {self._path(url)}: {e}"
                    ) from None
                error = e
            else:
                throttled = _throttled(response, stream)
                if not throttled:  # a throttle is waited out below, once
                    self._pace(response)
                retryable = (
                    response.status_code == 429
                    or throttled  # refused before it ran (request_throttle.rb): safe to send again
                    or (response.status_code >= 500 and (idempotent or response.status_code == 503))
                )
                if not retryable or attempt >= self.retries:
                    if response.is_success:
                        return response
                    if stream:
                        response.read()
                    raise self._error(response, throttled=throttled)
                delay = _retry_after(response)
                error = BackendError(f"{response.status_code} from {self.label}")
                response.close()
                if throttled:
                    delay = self._throttle_delay(attempt, delay)
                    self._say(f"Canvas is throttling, waiting {delay:.0f} s")
                self._wait(attempt, delay, error)
                attempt += 1
                continue
            if attempt >= self.retries:
                what = (
                    "did not answer in time"
                    if isinstance(error, httpx.TimeoutException)
                    else f"could not be reached ({error})"
                )
                raise BackendError(
                    f"{self.label} {what}: {method} {self._path(url)} failed {attempt + 1} times"
                ) from None
            self._wait(attempt, None, error)
            attempt += 1

    def _throttle_delay(self, attempt: int, retry_after: float | None) -> float:
        """Back off from a throttle: doubling, at least a second (Canvas's bucket leaks at about
        that pace), with jitter so that several clients on one token do not come back together."""
        base = retry_after if retry_after is not None else max(1.0, self.backoff) * 2**attempt
        return min(self.max_backoff, base * (1 + 0.5 * self._jitter()))

    def _say(self, message: str) -> None:
        log.info("%s", message)
        if self.on_status is not None:
            self.on_status(message)

    def _wait(self, attempt: int, delay: float | None, error: Exception) -> None:
        delay = min(self.max_backoff, delay if delay is not None else self.backoff * 2**attempt)
        log.info("retrying in %.1fs after %s", delay, error.__class__.__name__)
        self._hold(delay)

    def _hold(self, delay: float) -> None:
        """A pause the token's quota asks for: every thread of a shared budget takes it."""
        if self.budget is not None:
            self.budget.hold(delay)
        else:
            self._sleep(delay)

    def _pace(self, response: httpx.Response) -> None:
        """Canvas's leaky bucket: slow down (up to 2 s a call) as the remaining quota runs low,
        counting what a call like the last one costs (``X-Request-Cost``), before Canvas throttles."""
        remaining = _header_number(response, "x-rate-limit-remaining")
        if remaining is None:
            return
        left = remaining - (_header_number(response, "x-request-cost") or 0.0)
        if left < self.rate_limit_low:
            self._hold(2.0 * (self.rate_limit_low - max(0.0, left)) / self.rate_limit_low)

    def _path(self, url: str) -> str:
        return urlsplit(str(url)).path or str(url)

    def _error(self, response: httpx.Response, *, throttled: bool = False) -> BackendError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        status = response.status_code
        path = response.request.url.path
        said = canvas_message(body, response.reason_phrase or str(status))
        if throttled:
            msg = f"Canvas at {self.label} kept throttling us after {self.retries + 1} tries; try again later"
        elif status == 401 and "www-authenticate" in response.headers:
            msg = f"{self.label} rejected the access token (401: {said}); check or renew the profile's token"
        elif status in (401, 403):
            msg = f"not allowed on {self.label}: {said} ({status} for {path}); you may not export this course or item"
        elif status == 404 and "/epub_exports" in path:
            msg = EPUB_DISABLED
        elif status == 404:
            msg = f"not found on {self.label}: {path}"
        elif status == 429:
            msg = f"{self.label} is rate limiting us and kept saying so after {self.retries + 1} tries; try again later"
        elif status >= 500:
            msg = f"{self.label} had a server error ({status}) for {path}"
        else:
            msg = f"{self.label} refused the request ({status}): {said}"
        return BackendError(msg, status, body if isinstance(body, dict) else {"body": body})

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._body(self._send(method, path, **kwargs))

    def _body(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise BackendError(
                f"{self.label} answered {response.request.url.path} with something other than JSON; "
                f"is {self.base_url} the address of a Canvas instance?",
                response.status_code,
            ) from None

    def _pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a paginated list, following ``rel="next"``."""
        url: str | None = path
        query: Any = {"per_page": 100, **(params or {})}
        while url:
            response = self._send("GET", url, params=query)
            yield from self._body(response)
            url = response.links.get("next", {}).get("url")
            query = None  # the next URL carries everything

    # ------------------------------------------------------------------ people
    def current_user(self) -> UserSummary:
        if self._user is None:
            u = self._json("GET", "users/self")
            self._user = UserSummary(int(u["id"]), u.get("name", ""), u.get("login_id") or "")
        return self._user

    def users(self) -> list[UserSummary]:
        return [self.current_user()]

    def act_as(self, user_id: int) -> UserSummary:
        me = self.current_user()
        if user_id != me.id:
            raise BackendError(
                "on Canvas you act as the token's owner; acting as someone else is not possible"
            )
        return me

    # ------------------------------------------------------------------ courses
    def courses(self) -> list[CourseSummary]:
        out = []
        for c in self._pages("courses", {"include[]": ["term", "concluded"]}):
            if "name" not in c:  # access-restricted course stubs
                continue
            roles = [e.get("type", "").lower().removesuffix("enrollment") for e in c.get("enrollments") or []]
            role = next((r for r in ("teacher", "ta", "designer", "student", "observer") if r in roles), None)
            concluded = bool(c.get("concluded")) or c.get("workflow_state") == "completed"
            out.append(
                CourseSummary(
                    id=int(c["id"]),
                    name=c["name"],
                    course_code=c.get("course_code", ""),
                    term=(c.get("term") or {}).get("name", "") or "",
                    start_at=c.get("start_at"),
                    end_at=c.get("end_at"),
                    role=role,
                    concluded=concluded,
                    can_export_all_types=role in ADMIN_ROLES,
                    can_create_epub=role in ADMIN_ROLES or (role == "student" and not concluded),
                    canvas=c,
                )
            )
        return out

    def course_catalogue(self) -> CourseCatalogue:
        return CourseCatalogue(self.courses())

    def groups(self, course_id: int) -> list[dict[str, Any]]:
        return [
            {"id": g["id"], "name": g.get("name", "")} for g in self._pages(f"courses/{course_id}/groups")
        ]

    def content_list(self, course_id: int) -> dict[str, list[dict[str, Any]]]:
        """Canvas's selectable-content tree, flattened to ``{type: [{id, title, …}]}`` like the local one."""
        out: dict[str, list[dict[str, Any]]] = {}
        for entry in self._json("GET", f"courses/{course_id}/content_list"):
            if not entry.get("sub_items_url") and not entry.get("sub_items"):
                continue
            items = entry.get("sub_items") or self._json(
                "GET", f"courses/{course_id}/content_list", params={"type": entry["type"]}
            )
            self._flatten(items, out, None)
        return out

    def context_files(self, context_type: ContextType, context_id: int) -> dict[str, list[dict[str, Any]]]:
        """A course's, group's or user's folders and files (``/folders``, ``/files``), in
        ``content_list``'s shape, for a picker of what a zip export takes."""
        base = self._exports_path(context_type, context_id).rsplit("/", 1)[0]
        folders = [
            {
                "id": f["id"],
                "title": f.get("name", ""),
                "path": f.get("full_name", ""),
                "parent_id": f.get("parent_folder_id"),
            }
            for f in self._pages(f"{base}/folders")
        ]
        files = [
            {
                "id": f["id"],
                "title": f.get("display_name") or f.get("filename", ""),
                "folder_id": f.get("folder_id"),
                "size": f.get("size"),
            }
            for f in self._pages(f"{base}/files")
        ]
        return {"folders": folders, "attachments": files}

    def _flatten(
        self, items: list[dict[str, Any]], out: dict[str, list[dict[str, Any]]], parent: dict[str, Any] | None
    ) -> None:
        for item in items:
            kind = item.get("type", "")
            row: dict[str, Any] = {"id": _numeric_id(item.get("id", "")), "title": item.get("title", "")}
            if parent is not None and kind == "content_tags" and parent["type"] == "context_modules":
                row["module_id"] = parent["id"]
            if parent is not None and kind == "attachments" and parent["type"] == "folders":
                row["folder_id"] = parent["id"]
            for key in ("size", "path", "indent", "content_type", "linked_resource"):
                if key in item:
                    row[key] = item[key]
            out.setdefault(kind, []).append(row)
            if item.get("sub_items"):
                self._flatten(item["sub_items"], out, {"type": kind, "id": row["id"]})

    def validate_select(
        self, context_type: ContextType, context_id: int, export_type: str, select: dict[str, Any] | None
    ) -> list[str]:
        """Shape checks only (Canvas itself accepts any ``select`` and exports what matches)."""
        try:
            parse_select(select, check_export_type(context_type, export_type))
        except ApiError as e:
            return e.error_lines() or [e.describe()]
        return []

    def allowed_select_types(
        self, context_type: ContextType, context_id: int, export_type: str
    ) -> dict[str, str | None]:
        """Canvas's rules are the engine's format registry: answered here, with no request."""
        return allowed_select_types(context_type, export_type)

    # ------------------------------------------------------------------ content exports
    def _exports_path(self, context_type: ContextType, context_id: int) -> str:
        return f"{CONTEXT_PATH[context_type]}/{context_id}/content_exports"

    def create_content_export(
        self,
        context_type: ContextType,
        context_id: int,
        export_type: str,
        select: dict[str, Any] | None = None,
        *,
        skip_notifications: bool = False,
        version: str | None = None,
    ) -> dict[str, Any]:
        pairs = form_pairs("select", select) if select else []
        if skip_notifications:
            pairs.append(("skip_notifications", "true"))
        if version:
            pairs.append(("version", version))
        pairs.append(("export_type", export_type))
        ce = self._json(
            "POST", self._exports_path(context_type, context_id), content=urlencode(pairs), headers=FORM
        )
        return ce

    def content_exports(
        self, context_type: ContextType, context_id: int, page: int = 1, per_page: int = 10
    ) -> tuple[list[dict[str, Any]], int | None]:
        items = self._json(
            "GET", self._exports_path(context_type, context_id), params={"page": page, "per_page": per_page}
        )
        return self._with_paths(items, "attachment"), None

    def content_export(self, context_type: ContextType, context_id: int, export_id: int) -> dict[str, Any]:
        ce = self._json("GET", f"{self._exports_path(context_type, context_id)}/{export_id}")
        return self._with_paths([ce], "attachment")[0]

    def progress(self, progress_id: int) -> dict[str, Any]:
        return self._json("GET", f"progress/{progress_id}")

    def cancel(self, progress_id: int) -> dict[str, Any]:
        return self._json("POST", f"progress/{progress_id}/cancel")

    def follow_progress(
        self,
        progress_url: str,
        *,
        interval: float = 1.0,
        timeout: float | None = None,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll a bare ``progress_url`` until it ends (``follow_job``); a failed or canceled job
        is a BackendError.  (A front follows an export with :meth:`follow`, which re-reads it too.)"""
        p = self.follow(
            "progress",
            ContextType.COURSE,
            0,
            {"progress_url": progress_url},
            _progress_only(on_update),
            interval=interval,
            timeout=timeout,
        )
        if is_failed(p.get("workflow_state"), "progress"):
            raise BackendError(
                f"the export failed on {self.label}: {p.get('message') or p.get('workflow_state')}", body=p
            )
        return p

    def pause_between_polls(self, seconds: float) -> bool:
        self._sleep(seconds)  # injectable: the tests' clock
        return True

    def wait_content_export(
        self,
        context_type: ContextType,
        context_id: int,
        export: dict[str, Any],
        on_update: Callable[[dict[str, Any]], None] | None = None,
        **follow: Any,
    ) -> dict[str, Any]:
        """:meth:`follow` the export to its end (``on_update(progress)`` on each poll); Canvas
        marking it failed is a BackendError."""
        ce = self.follow("content", context_type, context_id, export, _progress_only(on_update), **follow)
        if is_failed(ce.get("workflow_state"), "content"):
            raise marked_failed("content", ce, progress=final_progress(self, ce))
        return ce

    # ------------------------------------------------------------------ ePub
    def create_epub_export(self, course_id: int) -> dict[str, Any]:
        try:
            data = self._json("POST", f"courses/{course_id}/epub_exports")
        except BackendError as e:
            if e.status == 422 and isinstance(e.body.get("epub_export"), dict):
                running = e.body["epub_export"]
                raise BackendError(
                    f"an ePub export of this course is already running (id {running.get('id')})", 422, e.body
                ) from None
            raise self._epub_404(e, course_id) from None
        return data

    def epub_exports(self) -> list[dict[str, Any]]:
        courses = self._json("GET", "epub_exports").get("courses", [])
        self._with_paths([c["epub_export"] for c in courses if c.get("epub_export")], *EPUB_FILES)
        return courses

    def epub_export(self, course_id: int, epub_id: int) -> dict[str, Any]:
        try:
            data = self._json("GET", f"courses/{course_id}/epub_exports/{epub_id}")
            self._with_paths([data["epub_export"]] if data.get("epub_export") else [], *EPUB_FILES)
            return data
        except BackendError as e:
            raise self._epub_404(e, course_id, epub_id) from None

    def _epub_404(self, error: BackendError, course_id: int, epub_id: int | None = None) -> BackendError:
        """Canvas answers 404 both when ePub export is off and when the course (or the export)
        is not there; one more request tells which."""
        if error.status != 404:
            return error
        try:
            self._send("GET", f"courses/{course_id}").close()
        except BackendError as e:
            return (
                BackendError(f"no course {course_id} on {self.label} that you can see", 404, e.body)
                if e.status == 404
                else error
            )
        if epub_id is None:
            return error  # the course is there: ePub export is off
        try:
            self._send("GET", "epub_exports").close()
        except BackendError:
            return error  # the ePub API is not there at all: off
        return BackendError(
            f"no ePub export {epub_id} of course {course_id} on {self.label}", 404, error.body
        )

    def wait_epub_export(
        self,
        course_id: int,
        data: dict[str, Any],
        on_update: Callable[[dict[str, Any]], None] | None = None,
        **follow: Any,
    ) -> dict[str, Any]:
        """:meth:`follow` a CourseEpubExport's job to its end; failed is a BackendError."""
        ep = self.follow(
            "epub",
            ContextType.COURSE,
            course_id,
            data.get("epub_export") or {},
            _progress_only(on_update),
            **follow,
        )
        data = {**data, "epub_export": ep}
        if is_failed(ep.get("workflow_state"), "epub"):
            raise marked_failed("epub", ep, data, final_progress(self, ep))
        return data

    # ------------------------------------------------------------------ local paths
    def _with_paths(self, exports: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
        """Give each attachment already downloaded its local ``path``, as the local library's
        attachments have (so the history shows where the file is, across runs): one query for
        a whole listing, which the app reads several times a second while exports run."""
        atts = [
            (e, k) for e in exports for k in keys if isinstance(e.get(k), dict) and e[k].get("id") is not None
        ]
        if self.library is None or not atts:
            return exports
        paths = self.library.remote.download_paths(self.base_url, [int(e[k]["id"]) for e, k in atts])
        for export, key in atts:
            path = paths.get(int(export[key]["id"]))
            if path and Path(path).is_file():
                export[key] = dict(export[key], path=path)
        return exports

    # ------------------------------------------------------------------ files
    def fetch_file(
        self, attachment: dict[str, Any], dest_dir: Path | None = None, progress: FetchProgress | None = None
    ) -> Path:
        """Stream the file to ``dest_dir`` (default: the downloads folder) through ``<name>.part``.

        A ``.part`` left by an earlier attempt or run is continued with ``Range`` when its
        sidecar (``<name>.part.json``) says it holds the beginning of this same file, with
        ``If-Range`` so a changed file comes back whole; otherwise it starts over. Only the
        final atomic rename makes ``<name>`` (``<name> (2)`` when that is taken: never replaced)."""
        url = attachment.get("url")
        if not url:
            raise BackendError("this file has no download URL (it may be locked or expired)")
        name = _safe_name(
            attachment.get("filename") or attachment.get("display_name") or f"file-{attachment.get('id')}"
        )
        folder = Path(dest_dir or self.downloads)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / name
        size = attachment.get("size")
        file_id = file_id_of(attachment, url)
        # the file id is in the .part's name: two files named alike download side by side
        part = folder / (f"{name}.{file_id}.part" if file_id else f"{name}.part")
        dl = PartialDownload.open(part, self.base_url, file_id, int(size) if isinstance(size, int) else None)
        failures = restarts = 0
        while True:
            try:
                if restarts > self.retries:
                    raise BackendError(
                        f"{self.label} kept answering the download of {name} with parts of another file"
                    )
                if self._download_into(url, dl, progress):
                    break
                error: Exception = BackendError("the connection closed before the whole file arrived")
            except (httpx.TransportError, httpx.StreamError) as e:
                error = e
            except _StartOver as e:  # the .part does not fit the file the server has now
                log.info("download of %s starts over: %s", name, e)
                dl.discard()
                restarts += 1
                continue
            except BackendError as e:
                if e.status == 416 and dl.have():  # our .part is not a prefix of the file (or is all of it)
                    dl.discard()
                    restarts += 1
                    continue
                raise
            failures += 1
            if failures > self.retries:
                raise BackendError(
                    f"downloading {name} from {self.label} failed {failures} times ({error}); "
                    f"{dl.part.name} was kept and the next download of this file continues it"
                ) from None
            self._wait(failures - 1, None, error)
        final = dl.finish(final)
        if self.library is not None and attachment.get("id") is not None:
            self.library.remote.record_download(self.base_url, int(attachment["id"]), str(final))
        return final

    def _download_into(self, url: str, dl: PartialDownload, progress: FetchProgress | None) -> bool:
        """One attempt: continue the ``.part`` on a matching 206, start it over on a 200.
        True when the whole file is there."""
        have = dl.have()
        response = self._send("GET", url, stream=True, headers=dl.resume_headers())
        try:
            etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
            if have and response.status_code == 206:
                start, total = _content_range(response)
                if start != have:
                    raise _StartOver(
                        f"asked for bytes {have}- and got {response.headers.get('content-range')!r}"
                    )
                if not dl.matches(size=total, etag=etag, last_modified=modified):
                    raise _StartOver("the file changed on the server since the .part was begun")
                if dl.size is None:
                    dl.size = total
                f = open(dl.part, "ab")
                if progress:
                    progress(have, total if total is not None else dl.size)
            else:  # a fresh start, or the server sent the whole file (no Range support, or If-Range said changed)
                if response.status_code == 206:
                    raise _StartOver("a partial answer to a request for the whole file")
                length = response.headers.get("content-length")
                have = 0
                f = dl.start_over(
                    size=int(length) if length and length.isdigit() else None,
                    etag=etag,
                    last_modified=modified,
                )
            total = dl.size
            with f:
                for chunk in response.iter_bytes():  # as they arrive: a drop loses nothing buffered
                    f.write(chunk)
                    have += len(chunk)
                    if progress:
                        progress(have, total)
        finally:
            response.close()
        if total is not None and have > total:
            raise BackendError(f"{self.label} sent {have} bytes of a {total}-byte file")
        return total is None or have == total

    def close(self) -> None:
        self._client.close()
        if self._close_library and self.library is not None:
            self.library.close()


def _progress_only(on_update: Callable[[dict[str, Any]], None] | None) -> FollowProgress | None:
    return None if on_update is None else (lambda progress, export: on_update(progress))


def _throttled(response: httpx.Response, stream: bool) -> bool:
    """Canvas throttles with a 403, ``403 Forbidden (Rate Limit Exceeded)`` in plain text and
    ``X-Rate-Limit-Remaining`` at 0 (``app/middleware/request_throttle.rb``), not a 429: a 403
    that says so, or that comes with the quota spent, is a throttle, not a refusal."""
    if response.status_code != 403:
        return False
    raw = response.headers.get("x-rate-limit-remaining")
    try:
        if raw is not None and float(raw) <= 1.0:
            return True
    except ValueError:
        pass
    if stream:
        response.read()
    return "rate limit exceeded" in response.text.lower()


#: Canvas deletes an export's file after ``content_exports_expire_after_days`` (default 30; spec §1.8)
CANVAS_EXPIRE_DAYS = 30


def marked_failed(
    kind: str,
    record: dict[str, Any],
    body: dict[str, Any] | None = None,
    progress: dict[str, Any] | None = None,
) -> BackendError:
    """The error of an export that Canvas marked failed, with the reason it gives: Canvas puts it
    only in ``Progress.message`` ("Unexpected error, ID: …"); the export's own ``errors`` are ours."""
    reasons = [str((progress or {}).get("message") or "")] + [str(e) for e in record.get("errors") or []]
    reasons = [r for r in dict.fromkeys(reasons) if r]
    what = "ePub export" if kind == "epub" else "content export"
    said = f": {'; '.join(reasons)}" if reasons else " (Canvas gave no reason)"
    return BackendError(f"Canvas marked {what} {record.get('id', '?')} as failed{said}", body=body or record)


def no_file(
    kind: str,
    record: dict[str, Any],
    body: dict[str, Any] | None = None,
    progress: dict[str, Any] | None = None,
) -> BackendError:
    """Why an export has no file to download, in words: failed (with Canvas's reason), canceled on
    Canvas (its Progress ``failed`` while the export still runs: ``progress#cancel``), expired (an
    exported record without ``attachment``), or not done yet."""
    what = "ePub export" if kind == "epub" else "content export"
    state = record.get("workflow_state")
    if was_canceled(record, progress, kind):  # Canvas's shape, or ours (the export failed too)
        message = (progress or {}).get("message")
        return BackendError(
            f"{what} {record.get('id', '?')} was canceled on Canvas" + (f": {message}" if message else ""),
            body=body or record,
        )
    if is_failed(state, kind):
        return marked_failed(kind, record, body, progress)
    if is_downloadable(state, kind):
        return BackendError(
            f"{what} {record.get('id', '?')} has expired: Canvas deletes export files after "
            f"{CANVAS_EXPIRE_DAYS} days (its default); start a new export",
            body=body or record,
        )
    return BackendError(
        f"{what} {record.get('id', '?')} is {state or 'in an unknown state'}: it has no file to download yet",
        body=body or record,
    )


class _StartOver(Exception):
    """The ``.part`` cannot be continued with what the server sent; drop it and ask again."""


def _content_range(response: httpx.Response) -> tuple[int | None, int | None]:
    """``Content-Range: bytes 100-999/1000`` → (100, 1000); unknown parts are None."""
    m = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", response.headers.get("content-range", ""))
    if not m:
        return None, None
    return int(m.group(1)), (int(m.group(2)) if m.group(2) != "*" else None)


def _safe_name(name: str) -> str:
    """A file name that stays in the downloads folder: no folders, no ``..``, no control characters."""
    name = Path(str(name).replace("\\", "/")).name.strip()
    if name.strip(".") == "":
        return "download"
    return re.sub(r'[\x00-\x1f<>:"|?*]', "_", name)


__all__ = ["CanvasBackend", "EPUB_DISABLED", "canvas_message", "form_pairs", "marked_failed", "no_file"]

"""The Canvas-compatible REST API (``/api/v1``) over the export engine.

Every handler authenticates the caller (``Authorization: Bearer``; ``?access_token=`` only
where ``[server] allow_query_token`` allows it) before it reads the body, which may be at
most ``[server] max_body_mb`` (past it: 413), then reads Rails-style parameters from the
query string and the body (form or JSON), calls
the engine, and answers with the engine's Canvas serializers (``local=False``: no disk
paths; URLs point back at this server, built from the request's own scheme and Host).
Engine refusals (``ApiError``) become their Canvas status and body.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .. import canvas_json
from ..config import Config, ServerConfig
from ..engine import ApiError, ExportService, JobRunner, NotFound, Page
from ..engine.select import ASSET_PREFIX, truthy
from ..model import Attachment, ContextFile, ContextType, Course
from ..vocab import SELECT_VOCAB
from .params import InvalidPage, ParamError, nest, page_params, parse_id

# Canvas's fixed error bodies (app/controllers/application_controller.rb: render_json_unauthorized,
# the AccessTokenError rescue, and the 404 of an unknown record or route)
INVALID_TOKEN = {"errors": [{"message": "Invalid access token."}]}
UNAUTHENTICATED = {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]}
log = logging.getLogger(__name__)
NOT_FOUND = {"errors": [{"message": "The specified resource does not exist."}]}
UNAUTHORIZED = {
    "status": "unauthorized",
    "errors": [{"message": "user not authorized to perform that action"}],
}
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="canvas-lms"'}
CONTEXTS = {"courses": ContextType.COURSE, "groups": ContextType.GROUP, "users": ContextType.USER}
#: the top of ``content_list``: (type, title); item types come from the engine (``vocab.SELECT_VOCAB``)
CONTENT_TYPES = [
    ("course_settings", "Course Settings"),
    ("syllabus_body", "Syllabus Body"),
    *((t.key, t.list_title) for t in SELECT_VOCAB if t.list_title),
]
LINK_DROPPED = {"page", "per_page", "access_token", "api_key"}


class AuthFailed(Exception):
    pass


@dataclass
class Call:
    """One authenticated request, as the handlers see it."""

    request: Request
    user_id: int
    params: dict[str, Any]
    base_url: str

    def path_int(self, name: str) -> int:
        return int(self.request.path_params[name])

    def flag(self, name: str) -> bool:
        return bool(truthy(self.params.get(name)))


STRING_IDS = "application/json+canvas-string-ids"
_ID_KEY = re.compile(r"(^|_)id$")
_IDS_KEY = re.compile(r"(^|_)ids$")


class ApiJSON(JSONResponse):
    """A JSON answer that keeps its data and headers, so ids can be turned into strings after."""

    def __init__(self, data: Any, status_code: int = 200, headers: dict[str, str] | None = None):
        super().__init__(data, status_code=status_code, headers=headers)
        self.data = data
        self.extra_headers = headers

    def with_string_ids(self) -> ApiJSON:
        return ApiJSON(stringify_json_ids(self.data), self.status_code, self.extra_headers)


def stringify_json_ids(value: Any) -> Any:
    """Canvas's ``Api.recursively_stringify_json_ids`` (lib/api.rb): in every object, an integer
    under ``id`` or ``*_id`` becomes a string, and so do the integers of an ``ids``/``*_ids`` list."""
    if isinstance(value, list):
        return [stringify_json_ids(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        if _ID_KEY.search(key) and isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        elif _IDS_KEY.search(key) and isinstance(v, list):
            v = [str(i) if isinstance(i, int) and not isinstance(i, bool) else i for i in v]
        out[key] = stringify_json_ids(v) if isinstance(v, (dict, list)) else v
    return out


def wants_string_ids(request: Request) -> bool:
    """``Accept: application/json+canvas-string-ids`` (application_controller.rb, stringify_json_ids?)."""
    return STRING_IDS in request.headers.get("accept", "")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return ApiJSON(data, status_code=status, headers=headers)


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    """Every 4xx this server answers is built here: Canvas's bodies always carry an ``errors``
    list of ``{"message": …}``; a body without one gets its ``message`` as the list's entry."""
    if not body.get("errors"):
        message = body.get("message") or "An error occurred."
        body = {**body, "errors": [{"message": message}]}
    return json_response(body, status, headers)


def api_error(e: ApiError) -> JSONResponse:
    """An engine refusal: its status and Canvas body (a 422 ePub answer is the export itself)."""
    if e.status == 422:
        return json_response(e.body, e.status)
    return error_response(e.status, e.body)


def invalid_token() -> JSONResponse:
    return error_response(401, INVALID_TOKEN, WWW_AUTHENTICATE)


def unauthenticated() -> JSONResponse:
    """No token at all: Canvas's ``render_json_unauthorized`` without a current user."""
    return error_response(401, UNAUTHENTICATED)


def request_base_url(request: Request) -> str:
    """The scheme and host the client used (Canvas builds URLs from them; canvasapi needs it)."""
    return f"{request.url.scheme}://{request.url.netloc}"


class QueryToken(ValueError):
    """``?access_token=`` where the settings do not allow it (answered with 400)."""


def bearer_token(request: Request, params: dict[str, Any], allow_query: bool = False) -> str | None:
    """The ``Authorization: Bearer`` token, else ``?access_token=`` when allowed; only ever the
    header and the query string, so the caller is known before the body is read."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = params.get("access_token")
    if token is not None and not allow_query:
        raise QueryToken(
            "access_token in the query string is refused (it would be written to logs): "
            "send it as an 'Authorization: Bearer' header"
        )
    return token if isinstance(token, str) and token else None


class BodyTooLarge(ValueError):
    """A request body past ``[server] max_body_mb`` (answered with 413)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read no further than ``limit`` bytes (a declared larger one is not read at all)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and len(declared) <= 19 and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # what request.body() and request.form() read from now on
    return body


async def read_params(
    request: Request,
    max_body: int = ServerConfig.max_body_mb * 1024 * 1024,
    query: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Query string, then the body (form-encoded or JSON) over it, as one nested dict."""
    params = nest(request.query_params.multi_items()) if query is None else query
    if request.method in ("GET", "HEAD"):
        return params
    body = await read_body(request, int(max_body))
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not body.strip():
        return params
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            data = json.loads(body)
        except ValueError as e:
            raise ParamError(f"the JSON body is not valid JSON: {e}") from None
        except RecursionError:
            raise ParamError("the JSON body is nested too deeply") from None
        if not isinstance(data, dict):
            raise ParamError("the JSON body must be an object")
        return {**params, **data}
    if ctype.startswith("multipart/"):
        form = await request.form()
        pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    else:  # form-encoded, or no content type at all
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {**params, **nest(pairs)}


def too_large(limit: int) -> JSONResponse:
    message = f"the request body is larger than {limit / (1024 * 1024):g} MB ([server] max_body_mb)"
    return error_response(413, {"errors": [{"message": message}], "message": message})


class CanvasIdConvertor(Convertor):
    """A path id: ASCII digits, read as an int only when it could be one (a 5,000-digit id is
    not parsed; it reads as 0, which :func:`ids_in_range` answers with 404)."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value) if len(value) <= 19 else 0

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("canvas_id", CanvasIdConvertor())


def ids_in_range(request: Request) -> bool:
    """Every id in the path is one we could store (ASCII digits below 2^63); ``self`` is a name."""
    for name, value in request.path_params.items():
        if (name.endswith("_id") or name == "context_id") and value != "self" and parse_id(value) is None:
            return False
    return True


_SECRET_PARAM = re.compile(r"((?:access_token|verifier)=)[^&\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    """A log line with the value of every ``access_token`` and ``verifier`` parameter hidden."""
    return _SECRET_PARAM.sub(r"\1[REDACTED]", text)


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's business, not ours
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_REDACT = _Redact()
LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "tui_exports")


def install_log_redaction() -> None:
    """Every line the server's loggers write (uvicorn's access log with its query strings
    included) goes through :func:`redact` (once per logger, however often it is called)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)


def bad_request(message: str) -> JSONResponse:
    return error_response(400, {"errors": [{"message": message}], "message": message})


class Api:
    def __init__(self, service: ExportService, server: ServerConfig | None = None):
        self.service = service
        self.server = server or ServerConfig()

    # ------------------------------------------------------------------ plumbing
    def endpoint(self, handler: Callable[[Call], Response]) -> Callable[[Request], Any]:
        service = self.service

        async def run(request: Request) -> Response:
            response = await answer(request)
            if isinstance(response, ApiJSON) and wants_string_ids(request):
                return response.with_string_ids()
            return response

        async def answer(request: Request) -> Response:
            if not ids_in_range(request):
                return error_response(404, NOT_FOUND)
            try:
                query = nest(request.query_params.multi_items())
                token = bearer_token(request, query, self.server.allow_query_token)
            except (ParamError, QueryToken) as e:
                return bad_request(str(e))
            if token is None:
                return unauthenticated()
            user_id = await run_in_threadpool(service.verify_token, token)
            if user_id is None:
                return invalid_token()
            # only now, for a known caller, is the body read, and no further than the cap
            try:
                params = await read_params(request, self.server.max_body_bytes, query)
            except ParamError as e:
                return bad_request(str(e))
            except BodyTooLarge:
                return too_large(self.server.max_body_bytes)
            call = Call(request, user_id, params, request_base_url(request))
            try:
                return await run_in_threadpool(handler, call)
            except ApiError as e:
                return api_error(e)
            except InvalidPage:
                return error_response(404, NOT_FOUND)
            except (OverflowError, RecursionError) as e:  # a number or a nesting past what we store
                log.info("refused %s %s: %s", request.method, request.url.path, type(e).__name__)
                return bad_request("a number in the request is out of range, or it is nested too deeply")

        run.__name__ = handler.__name__
        return run

    def paginate(self, call: Call, page: Page, items: list[Any]) -> JSONResponse:
        """Canvas's ``Api.paginate`` (lib/api.rb): the items plus an absolute ``Link`` header.

        The links name the context by its id, as Canvas's route helpers do: ``users/self``
        becomes ``users/<your id>``. Past the end, ``prev`` is the page before the one asked."""
        url = call.request.url
        kept = [(k, v) for k, v in call.request.query_params.multi_items() if k not in LINK_DROPPED]
        path = url.path
        if call.request.path_params.get("context_id") == "self":
            path = path.replace("/users/self/", f"/users/{call.user_id}/", 1)
        base = f"{call.base_url}{path}"

        def link(n: int, rel: str) -> str:
            query = urlencode([*kept, ("page", str(n)), ("per_page", str(page.per_page))])
            return f'<{base}?{query}>; rel="{rel}"'

        rels = [link(page.page, "current")]
        if page.page < page.last_page:
            rels.append(link(page.page + 1, "next"))
        if page.page > 1:
            rels.append(link(page.page - 1, "prev"))
        rels += [link(1, "first"), link(page.last_page, "last")]
        return json_response(items, headers={"Link": ",".join(rels)})

    def page_args(self, call: Call) -> tuple[int, int]:
        return page_params(call.params)

    def context(self, call: Call) -> tuple[ContextType, int]:
        raw = call.request.path_params["context_id"]
        kind = CONTEXTS.get(call.request.path_params["context"])
        if kind is None:
            raise NotFound(f"no such context: {call.request.path_params['context']}")
        if kind is ContextType.USER and raw == "self":
            return kind, call.user_id
        context_id = parse_id(raw)
        if context_id is None:
            raise NotFound(f"no {kind.value.lower()} {raw}")
        return kind, context_id

    # ------------------------------------------------------------------ users and courses
    def user_self(self, call: Call) -> Response:
        return json_response(canvas_json.user_json(self.service.user(call.user_id)))

    def user(self, call: Call) -> Response:
        """``GET /api/v1/users/:id`` (users_controller.rb#api_show): ``self`` or your own id;
        another user's profile is 401 (Canvas grants it to account admins), an unknown one 404."""
        raw = call.request.path_params["user_id"]
        if raw == "self":
            return self.user_self(call)
        user_id = parse_id(raw)
        if user_id is None:
            raise NotFound(f"no user {raw}")
        return json_response(canvas_json.user_json(self.service.visible_user(call.user_id, user_id)))

    def group(self, call: Call) -> Response:
        """``GET /api/v1/groups/:id`` (groups_controller.rb#show): members and the course's admins."""
        return json_response(
            canvas_json.group_json(self.service.group(call.user_id, call.path_int("group_id")))
        )

    def course_json(self, course: Course, standing: Any, user_id: int) -> dict[str, Any]:
        return canvas_json.course_json(course, role=standing.role, current=standing.current, user_id=user_id)

    def courses(self, call: Call) -> Response:
        wanted = call.params.get("enrollment_type")
        rows = [
            self.course_json(c, st, call.user_id)
            for c, st in self.service.courses(call.user_id)
            if not wanted or (st.role is not None and st.role.value == wanted)
        ]
        return self._page_of(call, rows)

    def course(self, call: Call) -> Response:
        course, standing = self.service.course(call.user_id, call.path_int("course_id"))
        return json_response(self.course_json(course, standing, call.user_id))

    def groups(self, call: Call) -> Response:
        """A course's groups you may export (all of them for its teachers, else your own), as Canvas's Group."""
        rows = [
            canvas_json.group_json(g) for g in self.service.groups(call.user_id, call.path_int("course_id"))
        ]
        return self._page_of(call, rows)

    def folders(self, call: Call) -> Response:
        """``GET /:context/:id/folders``: the folders you may export (Canvas's Folder, the fields a picker needs)."""
        kind, cid = self.context(call)
        listing = self.service.context_files(call.user_id, kind, cid)
        counts: dict[int | None, int] = {}
        for f in listing["attachments"]:
            counts[f["folder_id"]] = counts.get(f["folder_id"], 0) + 1
        rows = [
            canvas_json.folder_json(
                f,
                kind,
                cid,
                files_count=counts.get(f["id"], 0),
                folders_count=sum(1 for g in listing["folders"] if g["parent_id"] == f["id"]),
            )
            for f in listing["folders"]
        ]
        return self._page_of(call, rows)

    def files(self, call: Call) -> Response:
        """``GET /:context/:id/files``: the files you may export (Canvas's File, without download URLs)."""
        kind, cid = self.context(call)
        listing = self.service.context_files(call.user_id, kind, cid)
        return self._page_of(call, [canvas_json.listed_file_json(f) for f in listing["attachments"]])

    def _page_of(self, call: Call, rows: list[dict[str, Any]]) -> JSONResponse:
        pg, pp = self.page_args(call)
        items = rows[(pg - 1) * pp : pg * pp]
        return self.paginate(call, Page(items, pg, pp, len(rows)), items)

    def content_list(self, call: Call) -> Response:
        course_id = call.path_int("course_id")
        tree = self.service.content_list(call.user_id, course_id)
        wanted = call.params.get("type")
        if wanted is not None and not isinstance(wanted, str):
            raise ApiError(
                "type must be one content type", [{"field": "type", "message": "not a list or hash"}]
            )
        if not wanted:
            out = []
            for t, title in CONTENT_TYPES:
                entry: dict[str, Any] = {"type": t, "property": f"select[all_{t}]", "title": title}
                if t in tree:
                    entry["count"] = len(tree[t])
                    entry["sub_items_url"] = (
                        f"{call.base_url}/api/v1/courses/{course_id}/content_list?type={t}"
                    )
                out.append(entry)
            return json_response(out)
        if wanted == "attachments":
            return json_response(_folder_items(tree))
        if wanted not in tree or wanted == "content_tags":
            raise ApiError(
                f"unknown content type '{wanted}'", [{"field": "type", "message": f"one of {sorted(tree)}"}]
            )
        items = []
        for raw in tree[wanted]:
            item = _item(wanted, raw)
            if wanted == "context_modules":
                tags = [t for t in tree.get("content_tags", []) if t["module_id"] == raw["id"]]
                item["sub_items"] = [_item("content_tags", t) for t in tags]
            items.append(item)
        return json_response(items)

    # ------------------------------------------------------------------ content exports
    def content_exports(self, call: Call) -> Response:
        kind, cid = self.context(call)
        page, per_page = self.page_args(call)
        pg = self.service.list_content_exports(call.user_id, kind, cid, page, per_page)
        return self.paginate(call, pg, [self.export_json(call, ce) for ce in pg.items])

    def create_content_export(self, call: Call) -> Response:
        kind, cid = self.context(call)
        p = call.params
        version = p.get("version")
        ce = self.service.create_content_export(
            call.user_id,
            kind,
            cid,
            p.get("export_type"),
            p.get("select"),
            skip_notifications=call.flag("skip_notifications"),
            version=version if version else None,
        )
        return json_response(self.export_json(call, ce))

    def content_export(self, call: Call) -> Response:
        kind, cid = self.context(call)
        ce = self.service.show_content_export(call.user_id, kind, cid, call.path_int("export_id"))
        return json_response(self.export_json(call, ce))

    def export_json(self, call: Call, ce: Any) -> dict[str, Any]:
        return self.service.content_export_json(ce, local=False, base_url=call.base_url)

    # ------------------------------------------------------------------ ePub
    def epub_exports(self, call: Call) -> Response:
        return json_response(
            {"courses": self.service.course_epub_exports(call.user_id, local=False, base_url=call.base_url)}
        )

    def course_epub(self, call: Call, ep: Any) -> dict[str, Any]:
        course, _ = self.service.course(call.user_id, ep.course_id)
        data = self.service.epub_export_json(ep, call.user_id, local=False, base_url=call.base_url)
        return canvas_json.course_epub_export_json(course, data)

    def create_epub_export(self, call: Call) -> Response:
        course_id = call.path_int("course_id")
        try:
            ep = self.service.create_epub_export(
                call.user_id, course_id, skip_notifications=call.flag("skip_notifications")
            )
        except ApiError as e:
            if e.status == 422:  # the running one, with URLs for this server
                running = self.service.show_epub_export(call.user_id, course_id, e.body["epub_export"]["id"])
                return json_response(self.course_epub(call, running), 422)
            raise
        return json_response(self.course_epub(call, ep), 201)

    def epub_export(self, call: Call) -> Response:
        ep = self.service.show_epub_export(call.user_id, call.path_int("course_id"), call.path_int("epub_id"))
        return json_response(self.course_epub(call, ep))

    # ------------------------------------------------------------------ progress
    def progress(self, call: Call) -> Response:
        p = self.service.progress(call.user_id, call.path_int("progress_id"))
        return json_response(self.service.progress_json(p, call.base_url))

    def cancel(self, call: Call) -> Response:
        message = call.params.get("message")
        p = self.service.cancel(
            call.user_id, call.path_int("progress_id"), message if isinstance(message, str) else None
        )
        return json_response(self.service.progress_json(p, call.base_url))

    # ------------------------------------------------------------------ files
    def file_json(self, call: Call, found: Attachment | ContextFile) -> dict[str, Any]:
        if isinstance(found, ContextFile):
            return canvas_json.file_json(found.file, call.base_url)
        return canvas_json.attachment_json(found, call.base_url, local=False)

    def file(self, call: Call) -> Response:
        """``GET /api/v1/files/:id`` (files_controller.rb#api_show): any file you may read, by
        its id in the one space of export and course files."""
        found = self.service.readable_file(call.user_id, call.path_int("file_id"))
        return json_response(self.file_json(call, found))

    def context_file(self, call: Call) -> Response:
        """``GET /api/v1/courses/:id/files/:id`` (and groups, users): the file must belong to
        that context (Canvas finds it among the context's attachments), else 404."""
        kind, cid = self.context(call)
        file_id = call.path_int("file_id")
        found = self.service.stored_file(file_id)
        if not isinstance(found, ContextFile) or (found.context_type, found.context_id) != (kind, cid):
            raise NotFound(f"no file {file_id} in this {kind.value.lower()}")
        self.service.check_file_read(call.user_id, found)
        return json_response(self.file_json(call, found))

    async def download(self, request: Request) -> Response:
        """``/files/:id/download?verifier=<uuid>`` needs no token; without a verifier, a token
        whose user may read the file (its export, or its course, group or user listing).
        The id names one object, an export's file or a course file; an unknown id is 404."""
        service = self.service
        try:
            params = nest(request.query_params.multi_items())
        except ParamError as e:
            return bad_request(str(e))
        file_id = parse_id(request.path_params["file_id"])
        att = await run_in_threadpool(service.stored_file, file_id) if file_id is not None else None
        if att is None:
            return error_response(404, NOT_FOUND)
        verifier = params.get("verifier")
        uuid = att.file.uuid if isinstance(att, ContextFile) else att.uuid
        if isinstance(verifier, str) and secrets.compare_digest(verifier, uuid):
            return _file_response(att)
        try:
            token = bearer_token(request, params, self.server.allow_query_token)
        except QueryToken as e:
            return bad_request(str(e))
        user_id = await run_in_threadpool(service.verify_token, token)
        if user_id is None:
            if verifier:
                return error_response(401, UNAUTHORIZED)
            return invalid_token() if token else error_response(401, UNAUTHENTICATED, WWW_AUTHENTICATE)
        try:
            await run_in_threadpool(service.check_file_read, user_id, att)
        except ApiError as e:
            return api_error(e)
        return _file_response(att)


def _file_response(att: Attachment | ContextFile) -> Response:
    """The file, streamed. Starlette's FileResponse answers ``Range`` (206, 416) and ``If-Range``
    against the ETag / Last-Modified it sends, which is what resuming clients need."""
    if isinstance(att, ContextFile):
        path, f = att.file.blob_path, att.file
    else:
        path, f = att.path, att
    if path is None or not path.is_file():
        return error_response(404, NOT_FOUND)
    return FileResponse(path, media_type=f.content_type, filename=f.display_name)


def _asset(select_type: str, item_id: Any) -> str:
    return f"{ASSET_PREFIX[select_type]}_{item_id}"


def _item(select_type: str, raw: dict[str, Any]) -> dict[str, Any]:
    """One selectable item as Canvas's content_list shows it (``id`` = asset string)."""
    asset = _asset(select_type, raw["id"])
    extra = {k: v for k, v in raw.items() if k not in ("id", "title")}
    return {
        "type": select_type,
        "property": f"select[{select_type}][{asset}]",
        "title": raw["title"],
        "id": asset,
        **extra,
    }


def _folder_items(tree: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Files grouped under their folders (Canvas nests ``attachments`` this way)."""
    folders = []
    for f in tree.get("folders", []):
        entry = _item("folders", f)
        entry["sub_items"] = [
            _item("attachments", a) for a in tree.get("attachments", []) if a["folder_id"] == f["id"]
        ]
        folders.append(entry)
    return folders


def _not_found(request: Request, exc: Exception) -> Response:
    """Routing errors. A known path asked with another method is 404 too: Rails routes by
    method and path, so Canvas has no such route (``ActionController::RoutingError``)."""
    status = getattr(exc, "status_code", 404)
    if status in (404, 405):
        return error_response(404, NOT_FOUND)
    return error_response(status, {"message": str(getattr(exc, "detail", exc))})


def create_app(
    service: ExportService, runner: JobRunner | None = None, server: ServerConfig | None = None
) -> Starlette:
    """The API app; with a runner, new jobs wake it (start and stop it yourself, or use ``serve``).
    ``server``: the ``[server]`` settings, by default those of the library's config file."""
    if runner is not None:
        service.on_queued = runner.wake
    if server is None:
        server = Config.load(service.library.home.config_file).server()
    install_log_redaction()
    api = Api(service, server)
    ep = api.endpoint
    ctx = "/api/v1/{context:str}/{context_id:str}/content_exports"
    routes = [
        Route("/api/v1/users/self", ep(api.user_self)),
        Route("/api/v1/users/{user_id:str}", ep(api.user)),
        Route("/api/v1/groups/{group_id:canvas_id}", ep(api.group)),
        Route("/api/v1/courses", ep(api.courses)),
        Route("/api/v1/courses/{course_id:canvas_id}", ep(api.course)),
        Route("/api/v1/courses/{course_id:canvas_id}/groups", ep(api.groups)),
        Route("/api/v1/courses/{course_id:canvas_id}/content_list", ep(api.content_list)),
        Route("/api/v1/{context:str}/{context_id:str}/folders", ep(api.folders)),
        Route("/api/v1/{context:str}/{context_id:str}/files", ep(api.files)),
        Route("/api/v1/{context:str}/{context_id:str}/files/{file_id:canvas_id}", ep(api.context_file)),
        Route("/api/v1/files/{file_id:canvas_id}", ep(api.file)),
        Route(ctx, ep(api.content_exports), methods=["GET"]),
        Route(ctx, ep(api.create_content_export), methods=["POST"]),
        Route(ctx + "/{export_id:canvas_id}", ep(api.content_export)),
        Route("/api/v1/epub_exports", ep(api.epub_exports)),
        Route("/api/v1/epub_exports/", ep(api.epub_exports)),
        Route(
            "/api/v1/courses/{course_id:canvas_id}/epub_exports", ep(api.create_epub_export), methods=["POST"]
        ),
        Route(
            "/api/v1/courses/{course_id:canvas_id}/epub_exports/",
            ep(api.create_epub_export),
            methods=["POST"],
        ),
        Route("/api/v1/courses/{course_id:canvas_id}/epub_exports/{epub_id:canvas_id}", ep(api.epub_export)),
        Route("/api/v1/progress/{progress_id:canvas_id}", ep(api.progress)),
        Route("/api/v1/progress/{progress_id:canvas_id}/cancel", ep(api.cancel), methods=["POST"]),
        Route("/files/{file_id:str}/download", api.download),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _not_found})
    app.state.service = service
    return app

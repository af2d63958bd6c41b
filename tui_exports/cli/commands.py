"""``tui-exports``: no arguments opens the terminal app; sub-commands run the same operations headless.

Every command prints readable text, or with ``--json`` the Canvas-shaped objects.
A bad request prints its message (no traceback) and exits 2; a failed export exits 1.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..backends.base import Backend, BackendError
from ..canvas_json import EPUB_FILES
from ..model import ContextType, is_failed
from ..paths import Home
from ..vocab import CONTENT_FORMATS, FORMAT_BY_NAME, formats_for
from .common import (
    EXIT_BAD_REQUEST,
    EXIT_FAILED,
    EXIT_OK,
    check_config,
    count_arg,
    describe_progress,
    export_context,
    export_version,
    id_arg,
    port_arg,
    print_json,
    select_arg,
    size_mb_arg,
)
from .jobs import cancel_command, describe, follow_with_bar

# ------------------------------------------------------------------ argument parsing


class Parser(argparse.ArgumentParser):
    """argparse, with a bad command line as one line (``error: …``, exit 2), as every other refusal."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_BAD_REQUEST, f"error: {message} (see: {self.prog} --help)\n")


def export_type_arg(value: str) -> str:
    """``--type``: a format of the Content Exports API (``vocab.FORMATS``); the ePub has its own command."""
    fmt = FORMAT_BY_NAME.get(value)
    if fmt is not None and fmt.content_export:
        return value
    if fmt is not None:
        raise argparse.ArgumentTypeError(
            f"an {fmt.label} is not made with `export`: use tui-exports {fmt.name} COURSE_ID"
        )
    kinds = ", ".join(f.name for f in CONTENT_FORMATS)
    raise argparse.ArgumentTypeError(f"no export type {value!r} (one of {kinds}; an ePub: tui-exports epub)")


def whole_number(low: int, high: int | None = None, why: str = ""):
    def read(value: str) -> int:
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        # ASCII digits only (int() also reads ١٢ and 1_000), and short enough to store
        number = int(text) if digits.isascii() and digits.isdigit() and len(digits) <= 12 else None
        if number is None or number < low or (high is not None and number > high):
            span = f"{low} to {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"must be a whole number {span}{why}, not {value!r}")
        return number

    return read


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="tui-exports",
        description="Export courses (Common Cartridge, QTI, zip of files, ePub) the way Canvas LMS does. "
        "With no command, opens the terminal app.",
    )
    p.add_argument(
        "--as", dest="as_user", metavar="USER", help="act as this user (id or key) in the local library"
    )
    p.add_argument(
        "--home", metavar="DIR", help="library folder (default: $TUI_EXPORTS_HOME or the user data dir)"
    )
    p.add_argument(
        "--profile",
        metavar="NAME",
        help="work on the Canvas instance of this profile (`tui-exports profile list`) instead of the local library",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, help: str, json_flag: bool = True) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        if json_flag:
            sp.add_argument("--json", action="store_true", help="print Canvas-shaped JSON on stdout")
        return sp

    def context(sp: argparse.ArgumentParser, course_optional: bool = True) -> None:
        sp.add_argument("course_id", type=id_arg, nargs="?" if course_optional else None, metavar="COURSE_ID")
        sp.add_argument("--group", type=id_arg, metavar="ID", help="a group's files instead of a course")
        sp.add_argument("--user", type=id_arg, metavar="ID", help="a user's files instead of a course")

    cmd("courses", "list your courses")
    sp = cmd(
        "content", "list the selectable items of a course (or the files of a group or user), by select type"
    )
    context(sp)

    kinds = [f.name for f in CONTENT_FORMATS]
    named = f"{', '.join(kinds[:-1])} or {kinds[-1]}"
    cc = FORMAT_BY_NAME["common_cartridge"]
    sp = cmd("export", f"start a content export ({named})")
    context(sp)
    anywhere = " or ".join(f.name for f in formats_for(ContextType.GROUP.value))
    sp.add_argument(
        "--type",
        required=True,
        dest="export_type",
        metavar="TYPE",
        type=export_type_arg,  # a refusal in words (an ePub: its own command) before choices
        choices=kinds,
        help=f"{named} (groups and users: {anywhere})",
    )
    sp.add_argument(
        "--select",
        nargs="+",
        action="extend",
        metavar="KEY=ID,ID",
        help="what to export, e.g. pages=1,2 files=7 all_quizzes (default: Canvas's per type)",
    )
    sp.add_argument("--skip-notifications", action="store_true")
    sp.add_argument(
        "--cc-version",
        choices=cc.version_choices,
        help=f"Common Cartridge version (default {cc.version_choices[0]})",
    )
    sp.add_argument(
        "--wait", action="store_true", help="run it here with a progress bar, then print the result"
    )

    sp = cmd("exports", "list the exports of a course (newest first)")
    context(sp)
    sp.add_argument("--page", type=whole_number(1, why=" (the first page is 1)"), default=1, metavar="N")
    sp.add_argument(
        "--per-page",
        type=whole_number(1, 100, " (Canvas's limit)"),
        default=10,
        metavar="N",
        help="exports per page, 1 to 100 (default 10)",
    )

    sp = cmd("show", "show one content export")
    context(sp)
    sp.add_argument("export_id", type=id_arg, metavar="EXPORT_ID")
    sp.add_argument(
        "--download",
        action="store_true",
        help="with --profile: fetch its file if it is not on this disk yet (resumes a partial one)",
    )

    sp = cmd("epub", "start an ePub export of a course")
    sp.add_argument("course_id", type=id_arg, metavar="COURSE_ID")
    sp.add_argument(
        "--wait", action="store_true", help="run it here with a progress bar, then print the result"
    )
    cmd("epubs", "list the latest ePub export of each of your courses")

    sp = cmd("progress", "show a job's progress")
    sp.add_argument("progress_id", type=id_arg, metavar="PROGRESS_ID")
    sp = cmd(
        "cancel",
        "cancel a running export, named as `export` printed it: COURSE_ID EXPORT_ID "
        "(--group ID EXPORT_ID, --user ID EXPORT_ID), --epub COURSE_ID EXPORT_ID, or --progress ID",
    )
    context(sp)
    sp.add_argument("export_id", type=id_arg, nargs="?", metavar="EXPORT_ID")
    sp.add_argument("--epub", action="store_true", help="EXPORT_ID is an ePub export of COURSE_ID")
    sp.add_argument("--progress", type=id_arg, metavar="ID", help="cancel the job of this Progress instead")
    cmd("notifications", "list your notifications (export finished / failed)")

    sp = cmd(
        "import",
        "add a course to the local library from a package: a Common Cartridge (.imscc or .zip, "
        "1.0 to 1.3, from Canvas or any LMS, or its unpacked folder), a QTI 1.2 zip, or a course "
        "folder (the data/ format); with --from-profile NAME COURSE_ID, a course copied from a "
        "Canvas instance. Prints the new course's id on the last line.",
    )
    sp.add_argument("source", metavar="PATH", help="the package, or COURSE_ID with --from-profile")
    sp.add_argument(
        "--from-profile",
        metavar="NAME",
        help="ask the Canvas instance of this profile for a Common Cartridge of course COURSE_ID "
        "and import it",
    )

    lib = sub.add_parser("library", help="manage the local library", description="manage the local library")
    lsub = lib.add_subparsers(dest="library_command", metavar="ACTION", required=True)
    sp = lsub.add_parser(
        "add",
        help="add a course folder (the data/ format) or a package (.imscc, .zip, folder), as `import PATH` does",
    )
    sp.add_argument("source", metavar="PATH")
    lsub.add_parser("users", help="list the users of the library")
    lsub.add_parser("path", help="print where the library and the config file are on disk")
    sp = lsub.add_parser(
        "check",
        help="check the library: database, stuck jobs, orphan or missing files and blobs",
        description="Check the library: SQLite's integrity check, jobs left running by a process "
        "that is gone, files in exports/ whose export did not finish, blobs no file names, files "
        "whose blob is gone. Exits 0 when all is well, 1 when problems are left.",
    )
    sp.add_argument("--repair", action="store_true", help="fix what can be fixed, and say what was done")
    sp.add_argument("--json", action="store_true", help="print the findings as JSON")
    sp = lsub.add_parser(
        "generate",
        help="add a synthetic course of a chosen size (benchmarks, tests)",
        description="Generate a synthetic course: pages of linked HTML, quizzes of mixed question "
        "types, files mixing incompressible media and compressible text/PDF, modules. It is "
        "added to the library (its id is printed), or written as a course folder with --out.",
    )
    for flag, default, what in (
        ("--pages", 20, "pages"),
        ("--quizzes", 2, "quizzes"),
        ("--questions-per-quiz", 10, "questions in each quiz"),
        ("--files", 10, "files"),
        ("--modules", 4, "modules"),
    ):
        sp.add_argument(
            flag, type=count_arg(100_000), default=default, metavar="N", help=f"{what} (default {default})"
        )
    sp.add_argument(
        "--file-mb",
        type=size_mb_arg,
        default=5.0,
        metavar="N",
        help="total size of all the files, in MiB (default 5)",
    )
    sp.add_argument(
        "--seed", type=int, default=1, metavar="S", help="same seed, same course, byte for byte (default 1)"
    )
    sp.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write a course folder (the data/ format) here instead of adding it to the library",
    )

    from .bulk import add_parser as add_bulk_parser

    add_bulk_parser(sub)
    sp = sub.add_parser("serve", help="serve the library over Canvas's REST API")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=port_arg, default=8080)
    tok = sub.add_parser("token", help="API tokens for `serve`")
    tsub = tok.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    sp = tsub.add_parser("create", help="create a token (printed once, alone on the last line)")
    sp.add_argument("--user", metavar="USER", help="id or key (default: the library owner)")
    sp.add_argument("--purpose", default="")
    sp = tsub.add_parser(
        "list", help="list tokens: id, user, purpose, last 4 characters, created, last used (never a token)"
    )
    sp.add_argument("--user", metavar="USER", help="only this user's (id or key)")
    sp.add_argument("--json", action="store_true", help="print the list as JSON")
    sp = tsub.add_parser("revoke", help="revoke a token by its id (`token list`): it stops working at once")
    sp.add_argument("token_id", type=id_arg, metavar="TOKEN_ID")

    prof = sub.add_parser(
        "profile",
        help="Canvas instances to work on with --profile NAME",
        description="Canvas instances to work on with --profile NAME. The token is never written "
        "to the config file: it is read from an environment variable or the OS keyring.",
    )
    psub = prof.add_subparsers(dest="profile_command", metavar="ACTION", required=True)
    sp = psub.add_parser("add", help="add a profile (--replace to change an existing one)")
    sp.add_argument("name", metavar="NAME")
    sp.add_argument("--replace", action="store_true", help="replace a profile of this name")
    sp.add_argument(
        "--base-url",
        required=True,
        metavar="URL",
        help="the instance's address, e.g. https://canvas.example.edu",
    )
    where = sp.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--token-env", metavar="VAR", help="read the access token from this environment variable"
    )
    where.add_argument(
        "--keyring",
        action="store_true",
        help="keep the token in the OS keyring (asked for now, without echo; or read from stdin)",
    )
    sp = psub.add_parser(
        "list", help="list profiles: names, addresses and where their tokens are (never a token)"
    )
    sp.add_argument("--json", action="store_true")
    sp = psub.add_parser("remove", help="remove a profile (and its token from the OS keyring, if there)")
    sp.add_argument("name", metavar="NAME")
    return p


# ------------------------------------------------------------------ commands


def listing_text(backend: Backend, items: list, total: int | None, page: int, per_page: int) -> str:
    """``exports`` as text: the page's exports, and where the page sits in the whole list."""
    pages = max(1, -(-total // per_page)) if total is not None else None
    if not items:
        if page == 1:
            return "no exports"
        where = f": there are {total} on {pages} page{'s' * (pages != 1)} of {per_page}" if total else ""
        return f"no exports on page {page}{where}"
    lines = [describe(backend, ce, running_only=True) for ce in items]
    if total is not None and total > len(items):
        first = (page - 1) * per_page + 1
        more = f"; --page {page + 1} for more" if page < (pages or 0) else ""
        lines.append(f"(exports {first}–{first + len(items) - 1} of {total}, page {page} of {pages}{more})")
    return "\n".join(lines)


def _print_epub_files(ep: dict | None) -> None:
    """An ePub export's book and companion zip, one indented line each (path, else URL)."""
    for key in EPUB_FILES:
        if ep and ep.get(key):
            print(f"         {ep[key].get('path') or ep[key].get('url')}")


def run_command(args, backend: Backend) -> int:
    c = args.command
    if c == "courses":
        courses = backend.courses()
        if args.json:
            print_json([x.canvas for x in courses])
        else:
            for x in courses:
                mark = "  (concluded)" if x.concluded else ""
                print(f"{x.id:>5}  {x.course_code:<12} {x.name}  [{x.role}]{mark}")
        return EXIT_OK
    if c == "content":
        ctx, cid = export_context(args)
        content = backend.content_list(cid) if ctx is ContextType.COURSE else backend.context_files(ctx, cid)
        if args.json:
            print_json(content)
        else:
            for t, items in content.items():
                print(f"{t} ({len(items)})")
                for it in items:
                    print(f"  {it['id']:>6}  {it.get('path') or it['title']}")
        return EXIT_OK
    if c == "export":
        ctx, cid = export_context(args)
        select = select_arg(args.select)
        ce = backend.create_content_export(
            ctx,
            cid,
            args.export_type,
            select,
            skip_notifications=args.skip_notifications,
            version=export_version(args),
        )
        if args.wait:
            ce = follow_with_bar(backend, "content", ctx, cid, ce, f"export {ce['id']}")
        print_json(ce) if args.json else print(describe(backend, ce))
        return EXIT_FAILED if is_failed(ce["workflow_state"], "content") else EXIT_OK
    if c == "exports":
        ctx, cid = export_context(args)
        items, total = backend.content_exports(ctx, cid, args.page, args.per_page)
        if args.json:
            print_json(items)
        else:
            print(listing_text(backend, items, total, args.page, args.per_page))
        return EXIT_OK
    if c == "show":
        ctx, cid = export_context(args)
        ce = backend.content_export(ctx, cid, args.export_id)
        print_json(ce) if args.json else print(describe(backend, ce))
        return EXIT_OK
    if c == "epub":
        cee = backend.create_epub_export(args.course_id)
        ep = cee["epub_export"]
        if args.wait:
            ep = follow_with_bar(backend, "epub", ContextType.COURSE, args.course_id, ep, f"epub {ep['id']}")
            cee = {**cee, "epub_export": ep}
        print_json(cee) if args.json else print(describe(backend, {**ep, "export_type": "epub"}, cee))
        return EXIT_FAILED if is_failed(ep["workflow_state"], "epub") else EXIT_OK
    if c == "epubs":
        listing = backend.epub_exports()
        if args.json:
            print_json({"courses": listing})
        else:
            for entry in listing:
                ep = entry.get("epub_export")
                state = f"{ep['workflow_state']} (export {ep['id']})" if ep else "no ePub yet"
                print(f"{entry['id']:>5}  {entry['name']}: {state}")
                _print_epub_files(ep)
                good = entry.get("last_generated_epub_export")
                if good:
                    print(f"         last good ePub (export {good['id']}):")
                    _print_epub_files(good)
        return EXIT_OK
    if c == "progress":
        p = backend.progress(args.progress_id)
        print_json(p) if args.json else print(describe_progress(p))
        return EXIT_OK
    if c == "cancel":
        return cancel_command(args, backend)
    raise AssertionError(c)


def _library_command(args, home: Home) -> int:
    from ..engine import ExportService

    if args.library_command == "generate":
        return _generate(args, home)
    if args.library_command == "check":
        return _library_check(args, home)
    if args.library_command == "path":  # two places: the config file is in the platform's config folder
        print(f"library: {home.data}")
        print(f"config:  {home.config_file}")
        return EXIT_OK
    if args.library_command == "add":
        from .imports import import_command

        return import_command(args, home, _open_local)
    service = ExportService.open(home)
    try:
        if args.library_command == "users":
            owner = service.owner_id()
            for u, key in service.users():
                print(f"{u.id:>5}  {key:<12} {u.name}{'  (owner)' if u.id == owner else ''}")
    finally:
        service.close()
    return EXIT_OK


def _library_check(args, home: Home) -> int:
    """``library check [--repair] [--json]``: 0 when the library is whole, 1 when problems remain."""
    from ..engine import ExportService
    from ..engine.integrity import check_library

    if not home.db_path.is_file():
        raise BackendError(f"no library at {home.data}", 400)
    service = ExportService.open(home, seed=False, recover=False)  # recovery would hide what it repairs
    try:
        found = check_library(service, repair=args.repair)
    finally:
        service.close()
    left = [f for f in found if not f.repaired]
    if args.json:
        print_json({"ok": not left, "problems": [f.to_json() for f in found]})
    else:
        for f in found:
            print(f.line())
        print(
            f"{len(found)} problem{'s' * (len(found) != 1)} found, {len(found) - len(left)} repaired"
            if found
            else "the library is whole: no problems found"
        )
    return EXIT_FAILED if left else EXIT_OK


def _generate(args, home: Home) -> int:
    """``library generate``: a synthetic course into the library (prints its id) or a folder (--out)."""
    from ..engine.generated import course_spec, write_course_folder

    spec = course_spec(
        pages=args.pages,
        quizzes=args.quizzes,
        questions_per_quiz=args.questions_per_quiz,
        files=args.files,
        file_mb=args.file_mb,
        modules=args.modules,
        seed=args.seed,
    )
    say = lambda message: print(f"generate: {message}", file=sys.stderr)  # noqa: E731
    if args.out is not None:
        folder = write_course_folder(spec, args.out, progress=say)
        print(f"wrote course folder {folder} (load it with: tui-exports library add DIR)", file=sys.stderr)
        print(folder)
        return EXIT_OK
    from ..engine import ExportService

    service = ExportService.open(home)
    try:
        report = service.generate_course(spec, progress=say)
    finally:
        service.close()
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"added course {report.course_id}: {report.name}", file=sys.stderr)
    print(report.course_id)
    return EXIT_OK


def _open_local(args, home: Home, jobs: str):
    from ..backends.local import LocalBackend
    from ..engine import ExportService

    service = ExportService.open(home)
    user_id = None
    if args.as_user:
        try:
            user_id = service.find_user(args.as_user).id
        except Exception:
            service.close()
            raise
    return LocalBackend(service, jobs=jobs, user_id=user_id)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    home = Home.from_env(args.home)
    if args.home:
        os.environ["TUI_EXPORTS_HOME"] = str(home.data)
    try:
        check_config(home)
        if args.profile:
            from .remote import refusal

            why = refusal(args)
            if why:
                print(f"error: {why}", file=sys.stderr)
                return EXIT_BAD_REQUEST
        if args.command is None:
            return _run_app(args, home)
        if args.command == "profile":
            from .remote import profile_command

            return profile_command(args, home)
        if args.command == "bulk":
            from .bulk import bulk_command

            if not args.profile:
                return bulk_command(args, home)
            from .remote import open_remote

            remote = open_remote(args.profile, home)
            try:
                return bulk_command(args, home, remote)
            finally:
                remote.close()
        if args.profile:
            from .remote import interrupted, open_remote, run_remote

            remote = open_remote(args.profile, home)
            try:
                code = run_remote(args, remote)  # None: the command is the same as on the local library
                return run_command(args, remote) if code is None else code
            except KeyboardInterrupt:
                print(interrupted(remote), file=sys.stderr)
                return 130
            finally:
                remote.close()
        if args.command == "library":
            return _library_command(args, home)
        if args.command == "import":
            from .imports import import_command

            return import_command(args, home, _open_local)
        if args.command == "serve":
            from ..server import serve

            serve(home, args.host, args.port)
            return EXIT_OK
        if args.command == "token":
            return _token_command(args, home)
        waits = getattr(args, "wait", False)
        backend = _open_local(
            args, home, "inprocess" if waits else ("worker" if args.command in ("export", "epub") else "none")
        )
        try:
            if args.command == "notifications":
                return _notifications(backend)
            return run_command(args, backend)
        finally:
            backend.close()
    except BackendError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_REQUEST
    except BrokenPipeError:  # `tui-exports exports 1 | head`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as e:
        from ..config import ConfigError
        from ..engine import ApiError, LibraryUnusable

        if isinstance(e, ApiError):
            print(f"error: {e.describe()}", file=sys.stderr)
            return EXIT_BAD_REQUEST
        if isinstance(e, (ConfigError, LibraryUnusable, FileNotFoundError, PermissionError)):
            print(f"error: {e}", file=sys.stderr)
            return EXIT_BAD_REQUEST
        raise
    except KeyboardInterrupt:
        print(
            "\ninterrupted: the job this command was running goes back to the queue and finishes in the background",
            file=sys.stderr,
        )
        return 130


def _notifications(backend) -> int:
    service = backend.service
    for n in service.notifications(backend.user_id):
        print(f"{n.created_at:%Y-%m-%d %H:%M}  {n.subject}\n    {n.body}")
    service.mark_notifications_read(backend.user_id)
    return EXIT_OK


def _token_command(args, home: Home) -> int:
    from ..engine import ExportService

    service = ExportService.open(home)
    try:
        if args.token_command == "list":
            return _token_list(args, service)
        if args.token_command == "revoke":
            row = service.revoke_token(args.token_id)
            print(f"revoked token {row['id']} (…{row['hint']}, {row['purpose'] or 'no purpose'})")
            return EXIT_OK
        user = service.find_user(args.user) if args.user else service.user(service.owner_id())
        token = service.create_token(user.id, purpose=args.purpose)
        print(f"token for {user.name} (user {user.id}); it is shown only once:", file=sys.stderr)
        print(token)
    finally:
        service.close()
    return EXIT_OK


def _token_list(args, service) -> int:
    user_id = service.find_user(args.user).id if args.user else None
    rows = service.tokens(user_id)
    keys = {u.id: key for u, key in service.users()}
    if args.json:
        print_json([{**row, "user": keys.get(row["user_id"])} for row in rows])
        return EXIT_OK
    if not rows:
        print("no tokens; make one with: tui-exports token create --purpose WHAT")
    for row in rows:
        user = keys.get(row["user_id"], row["user_id"])
        print(
            f"{row['id']:>4}  …{row['hint']}  {user:<10}  created {row['created_at']}  "
            f"last used {row['last_used_at'] or 'never'}  {row['purpose'] or ''}".rstrip()
        )
    return EXIT_OK


def _run_app(args, home: Home) -> int:
    """The app; on the local library it draws its first frame before the library is opened
    (the engine and the store are imported then, on a worker thread). Python's cyclic
    collector is paused from here (importing Textual) until the list is shown (``run_tui``)."""
    gc.disable()
    try:
        return _start_app(args, home)
    finally:
        gc.enable()


def _start_app(args, home: Home) -> int:
    try:
        from ..tui.app import run_tui
    except ImportError:
        run_tui = None
    if run_tui is not None and not args.profile:
        run_tui(opener=lambda: _open_local(args, home, "worker"))
        return EXIT_OK
    if args.profile:
        from .remote import open_remote

        backend = open_remote(args.profile, home)
    else:
        backend = _open_local(args, home, "worker")
    if run_tui is not None:
        run_tui(backend)
        return EXIT_OK
    # the terminal app is not part of this build: show what it would list
    try:
        for x in backend.courses():
            print(f"{x.id:>5}  {x.course_code:<12} {x.name}  [{x.role}]")
    finally:
        backend.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

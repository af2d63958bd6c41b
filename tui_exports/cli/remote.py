"""The CLI against a Canvas instance: ``tui-exports --profile NAME …`` and ``tui-exports profile …``.

The commands are the local ones (``cli.run_command``, which dispatches here first) on a
CanvasBackend; only ``--wait`` and ``show --download`` differ: it follows the job's Progress on Canvas, then downloads the finished file (resuming
a ``.part`` left by an earlier run) with a progress bar on stderr, and prints where it is.
"""

from __future__ import annotations

import getpass
import os
import sys
import warnings
from typing import Any
from urllib.parse import urlsplit

from ..backends.base import BackendError, final_progress
from ..backends.canvas import no_file
from ..backends.profiles import (
    ConfigPermissionWarning,
    Profile,
    load_profiles,
    open_profile,
    remove_profile,
    save_profile,
)
from ..model import ContextType, is_downloadable, is_failed
from ..paths import Home
from .common import (
    EXIT_BAD_REQUEST,
    EXIT_FAILED,
    EXIT_OK,
    export_context,
    export_version,
    print_json,
    select_arg,
)
from .jobs import describe, download_with_bars, follow_with_bar

#: seconds between Progress polls on a Canvas instance (its API is rate limited)
POLL_SECONDS = 1.0

LOCAL_ONLY = {
    "library": "the local library",
    "import": "the local library (to copy a Canvas course into it: import --from-profile NAME COURSE_ID)",
    "notifications": "notifications of the local library",
    "serve": "serving the local library",
    "token": "tokens for `serve`",
    "profile": "managing profiles",
}


def refusal(args) -> str | None:
    """Why ``--profile`` cannot go with this command line, or None."""
    if args.as_user:
        return "--as acts as another user of the local library; on Canvas you are the token's owner (drop --as or --profile)"
    if args.command in LOCAL_ONLY:
        return f"`{args.command}` is about {LOCAL_ONLY[args.command]} and does not take --profile"
    return None


def open_remote(name: str, home: Home):
    """The CanvasBackend of ``[profiles.NAME]``; a readable config warning goes to stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConfigPermissionWarning)
        backend = open_profile(name, home)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    backend.on_status = lambda message: print(message, file=sys.stderr)  # "Canvas is throttling, …"
    return backend


def run_remote(args, backend) -> int | None:
    """Run what differs on a Canvas instance; None when the command is the local one
    (``cli.run_command``, which the caller runs then)."""
    if args.command == "export" and args.wait:
        return _export_and_download(args, backend)
    if args.command == "epub" and args.wait:
        return _epub_and_download(args, backend)
    if args.command == "show" and args.download:
        return _show_and_download(args, backend)
    return None


def interrupted(backend) -> str:
    """What Ctrl-C during a command on a Canvas instance left behind."""
    return (
        f"\ninterrupted: a started export keeps running on {backend.label}; "
        "a partial download continues where it stopped the next time it is fetched"
    )


def _failed(e: BackendError, args, record: dict[str, Any], text: str) -> int:
    """An export that ended without a file: the reason on stderr, the record on stdout, exit 1
    (as a failed local export)."""
    print(f"error: {e}", file=sys.stderr)
    print_json(record) if args.json else print(text)
    return EXIT_FAILED


def _show_and_download(args, backend) -> int:
    """``show … --download``: an export started without ``--wait``, fetched once it is done."""
    ctx, cid = export_context(args)
    ce = backend.content_export(ctx, cid, args.export_id)
    state = ce.get("workflow_state")
    if not is_downloadable(state, "content") or not ce.get("attachment"):
        print(f"error: {no_file('content', ce, progress=final_progress(backend, ce))}", file=sys.stderr)
        print_json(ce) if args.json else print(describe(backend, ce))
        return EXIT_FAILED if is_failed(state, "content") else EXIT_BAD_REQUEST
    ce = download_with_bars(backend, "content", ce)
    print_json(ce) if args.json else print(describe(backend, ce))
    return EXIT_OK


def _export_and_download(args, backend) -> int:
    ctx, cid = export_context(args)
    ce = backend.create_content_export(
        ctx,
        cid,
        args.export_type,
        select_arg(args.select),
        skip_notifications=args.skip_notifications,
        version=export_version(args),
    )
    ce = follow_with_bar(
        backend, "content", ctx, cid, ce, f"export {ce['id']}", interval=POLL_SECONDS, show="progress"
    )
    if not is_downloadable(ce.get("workflow_state"), "content") or not ce.get("attachment"):
        error = no_file("content", ce, progress=final_progress(backend, ce))
        return _failed(error, args, ce, describe(backend, {"export_type": args.export_type, **ce}))
    ce = download_with_bars(backend, "content", ce)
    print_json(ce) if args.json else print(describe(backend, ce))
    return EXIT_OK


def _epub_and_download(args, backend) -> int:
    cee = backend.create_epub_export(args.course_id)
    ep = cee["epub_export"]
    ep = follow_with_bar(
        backend,
        "epub",
        ContextType.COURSE,
        args.course_id,
        ep,
        f"epub {ep['id']}",
        interval=POLL_SECONDS,
        show="progress",
    )
    cee = {**cee, "epub_export": ep}
    if not is_downloadable(ep.get("workflow_state"), "epub") or not ep.get("epub_attachment"):
        error = no_file("epub", ep, cee, progress=final_progress(backend, ep))
        return _failed(error, args, cee, _describe_epub(backend, cee))
    cee = {**cee, "epub_export": download_with_bars(backend, "epub", ep)}
    print_json(cee) if args.json else print(_describe_epub(backend, cee))
    return EXIT_OK


def _describe_epub(backend, cee: dict[str, Any]) -> str:
    ep = cee.get("epub_export") or {}
    return describe(
        backend, {"id": "", "created_at": "", "workflow_state": "", **ep, "export_type": "epub"}, cee
    )


# ------------------------------------------------------------------ tui-exports profile …


def profile_command(args, home: Home) -> int:
    if args.profile_command == "add":
        return _profile_add(args, home)
    if args.profile_command == "remove":
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConfigPermissionWarning)
            gone = remove_profile(home, args.name)
        for w in caught:
            print(f"note: {w.message} (now fixed: mode 600)", file=sys.stderr)
        where = " and its token from the OS keyring" if gone.keyring else ""
        print(f"removed profile '{gone.name}' ({gone.base_url}){where} from {home.config_file}")
        return EXIT_OK
    profiles = load_profiles(home)
    if args.json:
        print_json(
            [
                {"name": p.name, "base_url": p.base_url, "token_env": p.token_env, "keyring": p.keyring}
                for _, p in sorted(profiles.items())
            ]
        )
        return EXIT_OK
    if not profiles:
        print("no profiles; add one with: tui-exports profile add NAME --base-url URL --token-env VAR")
    for name, p in sorted(profiles.items()):
        note = ""
        if p.token_env and not os.environ.get(p.token_env, "").strip():
            note = "  (not set in this shell)"
        print(f"{name:<16} {p.base_url}  token: {p.token_source}{note}")
    return EXIT_OK


def _profile_add(args, home: Home) -> int:
    profile = Profile.new(args.name, args.base_url, token_env=args.token_env, keyring=args.keyring)
    replaced = profile.name in load_profiles(home)
    if replaced and not args.replace:
        raise BackendError(
            f"a profile '{profile.name}' exists already: add --replace to change it "
            f"(or choose another name; tui-exports profile list shows them)",
            400,
        )
    token = None
    if profile.keyring:
        token = _read_token(profile.name)
    host = urlsplit(profile.base_url).hostname
    if profile.base_url.startswith("http://") and host not in ("localhost", "127.0.0.1", "::1"):
        print(
            "warning: http:// sends the token unencrypted; use https:// for a real Canvas instance",
            file=sys.stderr,
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConfigPermissionWarning)
        path = save_profile(home, profile, token)
    for w in caught:
        print(f"note: {w.message} (now fixed: mode 600)", file=sys.stderr)
    print(f"{'replaced' if replaced else 'added'} profile '{profile.name}': {profile.base_url} in {path}")
    if profile.token_env and not os.environ.get(profile.token_env, "").strip():
        print(f"before using it: export {profile.token_env}=<your Canvas access token>", file=sys.stderr)
    print(f"use it with: tui-exports --profile {profile.name} courses")
    return EXIT_OK


def _read_token(name: str) -> str:
    """The token for the keyring: typed without echo on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        token = getpass.getpass(f"Canvas access token for '{name}' (not shown): ")
    else:
        token = sys.stdin.readline()
    token = token.strip()
    if not token:
        raise BackendError("no token given; it is read from the terminal (or stdin) with --keyring")
    return token


__all__ = [
    "LOCAL_ONLY",
    "POLL_SECONDS",
    "interrupted",
    "open_remote",
    "profile_command",
    "refusal",
    "run_remote",
]

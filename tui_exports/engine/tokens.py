"""API access tokens for ``tui-exports serve`` (``tui-exports token create|list|revoke``).

A token is shown once, when it is made; the library keeps only its SHA-256 and, so that a
listing can tell tokens apart, its last 4 characters.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from ..store import Library, parse_iso, utcnow
from .errors import NotFound

TOKEN_BYTES = 32
TOUCH_EVERY = timedelta(seconds=60)


def create_token(library: Library, user_id: int, purpose: str = "") -> str:
    """Make a new token for ``user_id``; returns it (prints nothing, stores only the hash)."""
    if library.content.user(user_id) is None:
        raise ValueError(f"no user {user_id}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    library.tokens.insert(user_id=user_id, token=token, purpose=purpose)
    return token


def verify_token(library: Library, token: str | None) -> int | None:
    """The user id a token belongs to (and marks it used), or None for a missing/unknown token."""
    if not token:
        return None
    row = library.tokens.lookup(token)
    if row is None:
        return None
    last = parse_iso(row["last_used_at"])
    if last is None or utcnow() - last > TOUCH_EVERY:  # not a write on every poll
        library.tokens.touch(row["id"])
    return int(row["user_id"])


def list_tokens(library: Library, user_id: int | None = None) -> list[dict[str, Any]]:
    """The tokens (of one user, or all): ``id``, ``user_id``, ``hint`` (last 4 characters),
    ``purpose``, ``created_at``, ``last_used_at`` (None: never used)."""
    return library.tokens.listing(user_id)


def revoke_token(library: Library, token_id: int) -> dict[str, Any]:
    """Remove a token: requests with it are refused from now on.  Returns what it was."""
    row = next((t for t in library.tokens.listing() if t["id"] == token_id), None)
    if row is None or not library.tokens.delete(token_id):
        raise NotFound(f"no token {token_id} (tui-exports token list shows them)")
    return row

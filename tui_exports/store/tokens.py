"""API access tokens: only a SHA-256 of each token is stored, never the token itself."""

from __future__ import annotations

import hashlib
from typing import Any

from .db import Table, iso, utcnow


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore(Table):
    def insert(self, *, user_id: int, token: str, purpose: str = "") -> int:
        """Store the hash and a short hint (the last 4 characters) of a new token."""
        row = {
            "user_id": user_id,
            "token_hash": token_hash(token),
            "hint": token[-4:],
            "purpose": purpose,
            "created_at": iso(utcnow()),
        }
        return self.db["access_tokens"].insert(row).last_pk

    def lookup(self, token: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM access_tokens WHERE token_hash = ?", [token_hash(token)])
        return next(iter(rows), None)

    def touch(self, token_id: int) -> None:
        self.db.execute("UPDATE access_tokens SET last_used_at = ? WHERE id = ?", [iso(utcnow()), token_id])

    def of_user(self, user_id: int) -> list[dict[str, Any]]:
        sql = "SELECT id, user_id, hint, purpose, created_at, last_used_at FROM access_tokens WHERE user_id = ? ORDER BY id"
        return list(self.db.query(sql, [user_id]))

    def listing(self, user_id: int | None = None) -> list[dict[str, Any]]:
        """Every token (or one user's): id, user, hint, purpose, created, last used; never a hash."""
        sql = "SELECT id, user_id, hint, purpose, created_at, last_used_at FROM access_tokens"
        args: list[Any] = []
        if user_id is not None:
            sql += " WHERE user_id = ?"
            args.append(user_id)
        return list(self.db.query(sql + " ORDER BY id", args))

    def delete(self, token_id: int) -> bool:
        """Remove a token; False if there is none with that id."""
        return self.db.execute("DELETE FROM access_tokens WHERE id = ?", [token_id]).rowcount == 1

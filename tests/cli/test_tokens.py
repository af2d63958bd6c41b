"""``tui-exports token create|list|revoke``: a list that tells tokens apart without showing one,
and a revoked token refused by ``serve`` at once."""

from __future__ import annotations

import json
import re

import httpx
from cli_run import run_cli

from tui_exports.engine import ExportService
from tui_exports.paths import Home
from tui_exports.server import running_server


def test_token_list_and_revoke(home, capsys):
    code, out, _ = run_cli(capsys, "token", "list")
    assert code == 0 and out.startswith("no tokens")
    made = []
    for user, purpose in (("teacher", "sync script"), ("student1", "")):
        code, out, _ = run_cli(capsys, "token", "create", "--user", user, "--purpose", purpose)
        made.append(out.strip().splitlines()[-1])
    code, out, _ = run_cli(capsys, "token", "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert re.fullmatch(
        rf"\s+1  …{re.escape(made[0][-4:])}  teacher     created \S+Z  last used never  sync script", lines[0]
    ), lines[0]
    assert lines[1].split()[:3] == ["2", f"…{made[1][-4:]}", "student1"]
    assert not any(token in out for token in made)  # never a token, only its last 4 characters
    code, out, _ = run_cli(capsys, "token", "list", "--user", "student1", "--json")
    rows = json.loads(out)
    assert [(r["id"], r["user"], r["hint"]) for r in rows] == [(2, "student1", made[1][-4:])]
    assert set(rows[0]) == {"id", "user_id", "user", "hint", "purpose", "created_at", "last_used_at"}

    service = ExportService.open(Home.from_env(home))
    try:
        with running_server(service, None) as base_url:
            ask = lambda token: httpx.get(  # noqa: E731
                f"{base_url}/api/v1/users/self", headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
            assert ask(made[0]).status_code == 200
            code, out, _ = run_cli(capsys, "token", "list")
            assert "last used never" not in out.splitlines()[0]  # the request was recorded
            code, out, _ = run_cli(capsys, "token", "revoke", "1")
            assert code == 0 and out.strip() == f"revoked token 1 (…{made[0][-4:]}, sync script)"
            assert ask(made[0]).status_code == 401 and ask(made[1]).status_code == 200
    finally:
        service.close()
    code, out, _ = run_cli(capsys, "token", "list")
    assert [line.split()[0] for line in out.splitlines()] == ["2"]
    code, _, err = run_cli(capsys, "token", "revoke", "1")
    assert code == 2 and err.strip() == "error: no token 1 (tui-exports token list shows them)"

"""The caller is known before the body is read; bodies are capped (413); tokens and verifiers
never reach a log line."""

from __future__ import annotations

import logging
import socket
import warnings

import pytest

with warnings.catch_warnings():  # starlette prefers httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from tui_exports.config import Config, ConfigError, ServerConfig
from tui_exports.server import create_app, running_server
from tui_exports.server.app import redact


def _raw_post(base_url: str, headers: str, body: bytes = b"") -> tuple[int, bytes]:
    """A POST over a plain socket, to see when the server answers (before the body is sent)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(
            f"POST /api/v1/courses/1/content_exports HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode() + body
        )
        answer = s.recv(65536)
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            more = s.recv(65536)
            if not more:
                break
            answer += more
    status = int(answer.split(b" ", 2)[1])
    return status, answer


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_no_token_is_401_before_a_byte_of_a_300_mb_body_is_read(service):
    with running_server(service) as base:
        # a 300 MB body is declared and never sent: the answer comes anyway, so it was not read
        status, answer = _raw_post(
            base, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 314572800\r\n"
        )
    assert status == 401


def test_a_body_past_the_cap_is_413_with_a_canvas_body(service, tokens):
    with running_server(service) as base:
        status, answer = _raw_post(
            base,
            f"Authorization: Bearer {tokens['teacher']}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 314572800\r\n",
        )
    assert status == 413 and b"max_body_mb" in answer and b'"errors"' in answer


def test_a_streamed_body_past_the_cap_is_413(service, tokens):
    small = TestClient(create_app(service, server=ServerConfig(max_body_mb=0.01)))

    def chunks():
        for _ in range(100):
            yield b"export_type=zip&" + b"x" * 1000

    r = small.post(
        "/api/v1/courses/1/content_exports",
        content=chunks(),
        headers={
            "Authorization": f"Bearer {tokens['teacher']}",
            "content-type": "application/x-www-form-urlencoded",
        },
    )
    assert r.status_code == 413 and r.json()["errors"]
    r = small.post(
        "/api/v1/courses/1/content_exports",
        data={"export_type": "zip"},
        headers={"Authorization": f"Bearer {tokens['teacher']}"},
    )
    assert r.status_code == 200


def test_server_settings_come_from_the_config_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[server]\nmax_body_mb = 1\nallow_query_token = true\n")
    assert Config.load(path).server() == ServerConfig(max_body_mb=1.0, allow_query_token=True)
    assert Config.load(None).server().max_body_bytes == 4 * 1024 * 1024
    for bad in ("max_body_mb = 'big'", "max_body_mb = -1", "allow_query_token = 1", "nope = 1"):
        path.write_text(f"[server]\n{bad}\n")
        with pytest.raises(ConfigError, match=r"\[server\]"):
            Config.load(path).server()


@pytest.mark.parametrize(
    "line",
    [
        '127.0.0.1:5 - "GET /files/3/download?verifier=0123abcd&x=1 HTTP/1.1" 200',
        '127.0.0.1:5 - "GET /api/v1/users/self?access_token=secret-token HTTP/1.1" 400',
        "GET /api/v1/courses?per_page=2&ACCESS_TOKEN=secret-token&verifier=0123abcd",
    ],
)
def test_tokens_and_verifiers_are_redacted(line):
    out = redact(line)
    assert "secret-token" not in out and "0123abcd" not in out and "[REDACTED]" in out


def test_the_access_log_never_shows_a_token_or_verifier(service, tokens, caplog):
    from tui_exports.server.app import install_log_redaction

    install_log_redaction()
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    logger = logging.getLogger("uvicorn.access")
    logger.addHandler(caplog.handler)  # uvicorn may have stopped it propagating
    try:
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5",
            "GET",
            "/files/3/download?verifier=0123abcd&access_token=secret-token",
            "1.1",
            200,
        )
    finally:
        logger.removeHandler(caplog.handler)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "0123abcd" not in text and "secret-token" not in text and "[REDACTED]" in text


def test_an_expired_export_cannot_be_downloaded_by_any_path(client, auth, run_jobs, service):
    r = client.post(
        "/api/v1/courses/1/content_exports",
        data={"export_type": "zip", "select[files][]": "2"},
        headers=auth("student1"),
    )
    run_jobs()
    ce = client.get(f"/api/v1/courses/1/content_exports/{r.json()['id']}", headers=auth("student1")).json()
    att = ce["attachment"]
    assert client.get(att["url"]).status_code == 200
    plain = f"/files/{att['id']}/download"
    assert client.get(plain, headers=auth("student1")).status_code == 200
    service.library.database.db.execute(
        "UPDATE content_exports SET created_at = '2000-01-01T00:00:00Z' WHERE id = ?", [ce["id"]]
    )
    shown = client.get(f"/api/v1/courses/1/content_exports/{ce['id']}", headers=auth("student1")).json()
    assert "attachment" not in shown or not shown["attachment"]
    assert client.get(att["url"]).status_code == 404  # the old verifier URL
    assert client.get(plain, headers=auth("student1")).status_code == 404  # the owner's token
    assert client.get(f"/api/v1/files/{att['id']}", headers=auth("student1")).status_code == 404

"""Errors the engine raises for bad requests, with Canvas's status codes and bodies."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request the engine refuses. ``body`` is what Canvas would answer (plus our extras)."""

    status = 400

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.extra = extra

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body

    def error_lines(self) -> list[str]:
        """Each offending field as one line: ``field: message`` (or the message alone)."""
        return [f"{e['field']}: {e['message']}" if "field" in e else e["message"] for e in self.errors]

    def describe(self) -> str:
        """One readable paragraph: the message, then each offending field."""
        return "\n".join([self.message, *(f"  {line}" for line in self.error_lines())])


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    """Canvas answers 401 with a fixed body; ``reason`` (ours) says why in plain words."""

    status = 401
    CANVAS_MESSAGE = "user not authorized to perform that action"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def body(self) -> dict[str, Any]:
        return {"status": "unauthorized", "errors": [{"message": self.CANVAS_MESSAGE}], "reason": self.reason}

    def describe(self) -> str:
        return f"not authorized: {self.reason}"


class NotFound(ApiError):
    status = 404
    CANVAS_MESSAGE = "The specified resource does not exist."

    @property
    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.CANVAS_MESSAGE}], "message": self.message}


class Unprocessable(ApiError):
    """422: e.g. an ePub export of this user is already running (body: that export)."""

    status = 422

    def __init__(self, message: str, payload: dict[str, Any]):
        super().__init__(message)
        self.payload = payload

    @property
    def body(self) -> dict[str, Any]:
        return self.payload


class IllegalTransition(RuntimeError):
    """A workflow-state move the state machine forbids: always a bug, never user input."""

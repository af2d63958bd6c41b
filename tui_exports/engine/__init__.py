"""The engine: the rules of Canvas's export APIs, and the jobs that run exports."""

from .errors import ApiError, BadRequest, IllegalTransition, NotFound, Unauthorized, Unprocessable
from .jobs import JobRunner
from .service import ExportService, Page
from .settings import Settings

__all__ = [
    "ApiError",
    "BadRequest",
    "ExportService",
    "IllegalTransition",
    "JobRunner",
    "NotFound",
    "Page",
    "Settings",
    "Unauthorized",
    "Unprocessable",
]

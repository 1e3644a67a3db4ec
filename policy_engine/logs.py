"""structlog set-up: JSON lines in production, console in development.

Every line carries the request id bound by the API middleware (contextvars).
uvicorn's stdlib loggers go through the same processors, so all lines share one shape.
Log events name types, counts and ids; never a scanned value.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(fmt: str = "json", level: str = "info") -> None:
    """Route structlog and stdlib logging to stderr in one format."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        stdlib_logger = logging.getLogger(name)
        stdlib_logger.handlers[:] = []
        stdlib_logger.propagate = True
    # Presidio and spaCy are chatty at INFO and may log matched text at DEBUG.
    for name in ("presidio-analyzer", "presidio_analyzer", "spacy", "tldextract"):
        logging.getLogger(name).setLevel(logging.WARNING)


def ensure_library_logging() -> None:
    """When the host application has not configured structlog, route through stdlib logging.

    An embedding gateway then sees the engine's events in its own logging set-up (and,
    without one, only warnings and errors on stderr), never stray lines on stdout.
    """
    if structlog.is_configured():
        return
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)

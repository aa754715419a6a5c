"""structlog set-up: JSON lines off a terminal, event and correlation ids bound per message."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


def configure(service: str, level: str = "INFO", *, json: bool | None = None) -> None:
    use_json = not sys.stderr.isatty() if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries log through the standard library; keep their noise at warnings.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


def get(name: str | None = None) -> Any:
    return structlog.get_logger(name)

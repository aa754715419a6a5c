"""structlog set-up: JSON lines off a terminal, event and correlation ids bound per message."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

import structlog

from korpu_runtime import errors


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
            _safe_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # PrintLogger needs only write and flush.
        logger_factory=structlog.PrintLoggerFactory(cast(TextIO, _Stderr())),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries log through the standard library; keep their noise at warnings.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


class _Stderr:
    """Whatever `sys.stderr` is when a line is written, not when logging was set up.

    Loggers are cached on first use; one cached while a test captured stderr
    would otherwise write to that capture's closed file for good.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _safe_exc_info(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The traceback of `exc_info=True`, each exception's text as `errors.describe` gives it.

    An exception's own text may hold what it was given: pydantic's the input values,
    SQLAlchemy's the statement's parameters (for the referral service, a person).
    Rejected: structlog's `format_exc_info`, which prints that text as it is.
    """
    exc_info = event_dict.pop("exc_info", None)
    if not exc_info:
        return event_dict
    error = exc_info if isinstance(exc_info, BaseException) else None
    if error is None:
        error = (sys.exc_info() if exc_info is True else exc_info)[1]
    if error is not None:
        event_dict["exception"] = _render(error)
    return event_dict


def _render(error: BaseException) -> str:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        context = None if current.__suppress_context__ else current.__context__
        current = current.__cause__ or context
    lines: list[str] = []
    for link in reversed(chain):
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(link.__traceback__))
        lines.append(errors.describe(link) + "\n")
    return "".join(lines)


def get(name: str | None = None) -> Any:
    return structlog.get_logger(name)

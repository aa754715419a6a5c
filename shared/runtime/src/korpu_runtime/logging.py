"""structlog set-up: JSON lines off a terminal, event and correlation ids bound per message."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Callable, MutableMapping
from typing import Any, TextIO, cast

import structlog

from korpu_contracts import registry
from korpu_runtime import errors

# What an id of ours looks like, by the key it is logged under. Each is also a value
# a sender chooses (an envelope's id, correlation and causation ids, a task id in
# an event, an id in a URL): a line shows it only when it has the shape ours have,
# else INVALID and its length. Rejected: logging it escaped or cut short, which
# still writes what a sender chose (a name, a forged "correlation" of another
# case) into every log line of the message.
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_STREAM_ENTRY = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
# A path's parts: ids, and the lowercase words of our routes.
_PATH_PART = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|[a-z0-9_-]{1,40}")
INVALID = "<invalid>"


def _uuid(value: str) -> bool:
    return _UUID.fullmatch(value) is not None


def _path(value: str) -> bool:
    return value.startswith("/") and all(
        _PATH_PART.fullmatch(part) for part in value[1:].split("/") if part
    )


VALIDATED: dict[str, Callable[[str], bool]] = {
    **dict.fromkeys(
        (
            "correlation_id",
            "causation_id",
            "event_id",
            "referral_id",
            "task_id",
            "open_case",
            "organization_id",
            "key_id",
        ),
        _uuid,
    ),
    "stream_entry_id": lambda value: _STREAM_ENTRY.fullmatch(value) is not None,
    "entry": lambda value: _STREAM_ENTRY.fullmatch(value) is not None,
    "event_type": lambda value: value in registry.TYPES,
    "path": _path,
}


def configure(service: str, level: str = "INFO", *, json: bool | None = None) -> None:
    use_json = not sys.stderr.isatty() if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _validated_ids,
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


def _validated_ids(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Each id bound or passed under a key of VALIDATED, kept only when it has our shape.

    A processor, so every line is covered, bound in a context (the consumer's ids of
    the message at hand) or passed to the call, by code written now or later.
    """
    for key, valid in VALIDATED.items():
        value = event_dict.get(key)
        if isinstance(value, str) and not valid(value):
            event_dict[key] = INVALID
            event_dict[f"{key}_length"] = len(value)
    return event_dict


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

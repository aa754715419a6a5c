"""Error descriptions safe to log and publish: where and what, never the value."""

from __future__ import annotations

from pydantic import ValidationError


def field_errors(error: ValidationError) -> list[tuple[str, str]]:
    """(dotted field path, message) per bad field; pydantic's `input` is left out on purpose."""
    described = []
    for item in error.errors(include_input=False, include_url=False, include_context=False):
        path = ".".join(str(part) for part in item["loc"]) or "(body)"
        described.append((path, item["msg"]))
    return described


def describe(error: BaseException) -> str:
    """One line for logs: the error's kind, and for validation only the field paths."""
    if isinstance(error, ValidationError):
        fields = ", ".join(path for path, _ in field_errors(error))
        return f"{type(error).__name__}: invalid {fields}"
    return f"{type(error).__name__}: {error}"

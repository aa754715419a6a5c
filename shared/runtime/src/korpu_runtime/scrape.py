"""`/metrics`, for the holder of the scrape token alone.

The metrics hold no personal data, but they tell how busy each provider is and where
people wait: an outsider gets the 401 problem document every other route answers.
The token is one line in a file only its owner reads (`metrics_token_file`, by default
in the keys folder), made by the first service started outside production, as the
signing keys are; Prometheus reads the same file (`authorization: credentials_file:`).
It is read again at every scrape, so replacing the file changes it without a restart.
Rejected: an API key of an organization, which would give a scraper a door to the
agencies' or case workers' routes; and an open /metrics behind a network rule alone,
which the project's trust boundaries do not allow.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from korpu_runtime import logging as runtime_logging
from korpu_runtime import private
from korpu_runtime import problems as kinds
from korpu_runtime.problems import Problem
from korpu_runtime.settings import ServiceSettings

log = runtime_logging.get(__name__)

# The text format Prometheus reads (prometheus_client's CONTENT_TYPE_LATEST).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_TOKEN_BYTES = 1024


def make(path: Path) -> bool:
    """Write a new token at `path` (0600, its folder 0700) unless one is there; True if made.

    Two services starting together make one token: the file appears whole or not at all
    (written aside, then linked in place, which fails if another was first).
    """
    if path.exists():
        return False
    private.folder(path.parent)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, private.FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(partial, path)
    except FileExistsError:
        return False
    finally:
        partial.unlink()
    return True


def token(path: Path) -> str | None:
    """The token in `path`; None when there is none (then every scrape is refused)."""
    with contextlib.suppress(OSError):
        with path.open("rb") as file:
            found = file.read(MAX_TOKEN_BYTES).decode("utf-8", "replace").strip()
        return found or None
    return None


def router(settings: ServiceSettings, read: Callable[[], Awaitable[bytes]]) -> APIRouter:
    """/metrics answering `read()` (a service's `read_metrics`, the console's own)."""
    path = settings.metrics_token_file
    if settings.env != "production" and make(path):
        log.info("metrics_token_made", path=str(path))
    elif token(path) is None:
        log.warning("metrics_token_missing", path=str(path), effect="every scrape is refused")
    api = APIRouter(tags=["metrics"])

    @api.get(
        "/metrics",
        response_class=Response,
        responses={
            200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"},
            401: {
                "content": {kinds.PROBLEM_JSON: {"schema": {"type": "object"}}},
                "description": "No scrape token, or a wrong one",
            },
        },
    )
    async def metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
        """Every metric of the service (docs/metrics.md), for the scrape token's holder."""
        scheme, _, sent = (authorization or "").partition(" ")
        expected = token(path)
        if scheme.lower() != "bearer" or not sent.strip():
            raise Problem(kinds.UNAUTHORIZED, detail="Send `Authorization: Bearer <scrape token>`.")
        if expected is None or not hmac.compare_digest(sent.strip().encode(), expected.encode()):
            raise Problem(kinds.UNAUTHORIZED, detail="Unknown scrape token.")
        return Response(await read(), media_type=CONTENT_TYPE)

    return api

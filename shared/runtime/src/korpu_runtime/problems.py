"""Every kind of error an HTTP answer can be, each with its own problem `type` (RFC 9457).

One table for every service, documented in docs/problems.md (a test keeps the two
in step). A client tells errors apart by `type`, never by `title` or `detail`,
which are for people and may be reworded.

The URIs are identifiers, not links: `https://korpu.invalid/problems/<name>`.
`.invalid` is reserved (RFC 6761) and can never be registered, so no one can
put a page of their own behind a URI our answers carry, and the URI never
changes with where Körpü is deployed. Rejected: `about:blank` with the status
alone (a 400 for a body that is not JSON and one for a repeated key could not be
told apart), a domain we do not hold, and a relative URI (RFC 9457 advises
against them: clients resolve them differently).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"
BASE = "https://korpu.invalid/problems/"


@dataclass(frozen=True)
class Kind:
    """One kind of error: its `type` is `BASE + name`; `when` is what docs/problems.md says."""

    name: str
    status: int
    title: str
    when: str

    @property
    def type(self) -> str:
        return BASE + self.name


MALFORMED_REQUEST = Kind(
    "malformed-request", 400, "Malformed request", "The HTTP request itself could not be parsed."
)
MALFORMED_JSON = Kind(
    "malformed-json", 400, "Malformed JSON", "The body is not JSON, or is nested too deeply."
)
REPEATED_KEY = Kind(
    "repeated-json-key",
    400,
    "Repeated JSON key",
    "An object in the body names one key twice; which value counts would be a guess.",
)
INVALID_HEADER = Kind(
    "invalid-header",
    400,
    "Invalid header",
    "A header the route needs is missing or malformed (`Idempotency-Key`).",
)
BAD_REQUEST = Kind("bad-request", 400, "Bad request", "Any other request the service cannot read.")
UNAUTHORIZED = Kind(
    "unauthorized",
    401,
    "Unauthorized",
    "No API key, or an unknown or revoked one. Comes with `WWW-Authenticate: Bearer`.",
)
FORBIDDEN = Kind(
    "forbidden", 403, "Forbidden", "The API key is valid but lacks what the route needs."
)
MISSING_SCOPE = Kind(
    "missing-scope",
    403,
    "Missing scope",
    "The API key lacks the scope the route needs; `missing_scope` names it.",
)
OPEN_REFERRALS_CAP = Kind(
    "open-referrals-cap",
    403,
    "Too many open referrals",
    "The organization has as many open referrals as it may; a new one waits until one closes.",
)
NOT_FOUND = Kind(
    "not-found", 404, "Not found", "No such route or resource, or another organization's."
)
METHOD_NOT_ALLOWED = Kind(
    "method-not-allowed", 405, "Method not allowed", "The route exists but not with this method."
)
REQUEST_TIMEOUT = Kind(
    "request-timeout",
    408,
    "Request timeout",
    "The client took longer than allowed to send the request's headers or body.",
)
CONFLICT = Kind(
    "conflict", 409, "Conflict", "The resource is not in a state that allows the action."
)
BODY_TOO_LARGE = Kind(
    "body-too-large", 413, "Body too large", "The body passed the route's limit of bytes."
)
INVALID_REQUEST = Kind(
    "invalid-request",
    422,
    "Invalid request",
    "The body or query is JSON but breaks the contract; `errors` names every bad field.",
)
IDEMPOTENCY_KEY_REUSED = Kind(
    "idempotency-key-reused",
    422,
    "Idempotency-Key reused",
    "The `Idempotency-Key` was used before with another body.",
)
RATE_LIMITED = Kind(
    "rate-limited",
    429,
    "Too many requests",
    "The API key (or, without one, the client's address) sent more than its limit; "
    "`Retry-After` says when to try again.",
)
HEADERS_TOO_LARGE = Kind(
    "headers-too-large",
    431,
    "Request headers too large",
    "The request line and headers together passed the service's limit.",
)
INTERNAL_ERROR = Kind(
    "internal-error", 500, "Internal error", "A failure the service did not expect; it is logged."
)

# Every kind, in the order docs/problems.md lists them.
KINDS: tuple[Kind, ...] = (
    MALFORMED_REQUEST,
    MALFORMED_JSON,
    REPEATED_KEY,
    INVALID_HEADER,
    BAD_REQUEST,
    UNAUTHORIZED,
    FORBIDDEN,
    MISSING_SCOPE,
    OPEN_REFERRALS_CAP,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    REQUEST_TIMEOUT,
    CONFLICT,
    BODY_TOO_LARGE,
    INVALID_REQUEST,
    IDEMPOTENCY_KEY_REUSED,
    RATE_LIMITED,
    HEADERS_TOO_LARGE,
    INTERNAL_ERROR,
)
# The kind a bare status stands for, when a caller names only a status.
_GENERAL = (
    BAD_REQUEST,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    REQUEST_TIMEOUT,
    CONFLICT,
    BODY_TOO_LARGE,
    INVALID_REQUEST,
    RATE_LIMITED,
    HEADERS_TOO_LARGE,
    INTERNAL_ERROR,
)
BY_STATUS: dict[int, Kind] = {kind.status: kind for kind in _GENERAL}


def kind_of(status_or_kind: int | Kind) -> Kind:
    """The kind itself, or the general kind of a status; for a status the table lacks (one
    Starlette may raise), a kind named after it."""
    if isinstance(status_or_kind, Kind):
        return status_or_kind
    found = BY_STATUS.get(status_or_kind)
    if found is not None:
        return found
    return Kind(f"http-{status_or_kind}", status_or_kind, "Error", "")


def problem(
    status_or_kind: int | Kind,
    title: str | None = None,
    detail: str = "",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457 problem document of a kind (or of a status's general kind); a 401 says
    how to authenticate (RFC 6750). `title` defaults to the kind's."""
    kind = kind_of(status_or_kind)
    body: dict[str, Any] = {"type": kind.type, "title": title or kind.title, "status": kind.status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    answer_headers = dict(headers or {})
    if kind.status == 401:
        answer_headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        body, status_code=kind.status, media_type=PROBLEM_JSON, headers=answer_headers or None
    )


class Problem(Exception):
    """Raised in a route: answered as a problem document by the handler `build_app` installs."""

    def __init__(
        self, status_or_kind: int | Kind, title: str | None = None, detail: str = "", **extra: Any
    ) -> None:
        self.kind = kind_of(status_or_kind)
        super().__init__(title or self.kind.title)
        self.title, self.detail, self.extra = title, detail, extra

    def answer(self) -> JSONResponse:
        return problem(self.kind, self.title, self.detail, **self.extra)

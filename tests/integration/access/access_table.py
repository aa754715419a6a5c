"""Who may call each route of each service: the table every app is held to.

One entry per method and path an app serves. `test_access_every_route.py` fails
naming any route an app serves that has no entry here, so a new route is
decided on (and tested against outsiders) the day it is added. People's
sessions still to come change entries here, not the test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from korpu import catalog
from korpu_runtime import provider_access
from referral.adapters import organizations
from support.referrals import referral_body

Route: TypeAlias = tuple[str, str]  # (method, path template)


@dataclass(frozen=True)
class Keyed:
    """For an API key holding `scope` of one of the service's own organizations (an
    agency at the referral service, a provider's case workers at a provider); a key
    of any other service is unknown here.

    `owned`: the path names one organization's resource, so another organization's
    key, whatever its scopes, is answered 404 (never 403: that would tell it the
    resource exists). `body` and `query` make the smallest valid request, so a
    refusal can only come from the key.
    """

    scope: str
    owned: bool = False
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Open:
    """Answered without credentials; `why` says why that is safe."""

    why: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Scraper:
    """For the holder of the scrape token alone (korpu_runtime.scrape); any API key,
    an agency's or a case worker's, is refused like no key at all."""

    body: None = None


Access: TypeAlias = Keyed | Open | Scraper

_HEALTH = Open("liveness and readiness for the supervisor and orchestrators; holds no data")
_DESCRIPTION = Open("the API's own description; holds no data")

EVERY_SERVICE: dict[Route, Access] = {
    ("GET", "/health/live"): _HEALTH,
    ("GET", "/health/ready"): _HEALTH,
    ("GET", "/openapi.json"): _DESCRIPTION,
    ("GET", "/docs"): _DESCRIPTION,
    # Swagger UI, served by the service itself (korpu_runtime.http_docs).
    ("GET", "/docs/init.js"): _DESCRIPTION,
    ("GET", "/docs/swagger-ui-bundle.js"): _DESCRIPTION,
    ("GET", "/docs/swagger-ui.css"): _DESCRIPTION,
    ("GET", "/docs/favicon.png"): _DESCRIPTION,
    ("GET", "/metrics"): Scraper(),
}

_LAST_QUARTER = {"from": "2026-01-01", "to": "2026-03-31"}

REFERRAL: dict[Route, Access] = {
    ("POST", "/v1/referrals"): Keyed(organizations.SUBMIT, body=referral_body()),
    ("GET", "/v1/referrals/{referral_id}"): Keyed(organizations.READ, owned=True),
    ("POST", "/v1/referrals/{referral_id}/withdraw"): Keyed(organizations.SUBMIT, owned=True),
    ("GET", "/v1/referrals/{referral_id}/person"): Keyed(organizations.PERSONS, owned=True),
    ("POST", "/v1/referrals/{referral_id}/consent"): Keyed(
        organizations.SUBMIT, owned=True, body={"purpose": "employment", "consent": "withdrawn"}
    ),
    ("POST", "/v1/referrals/{referral_id}/not-a-duplicate"): Keyed(
        organizations.SUBMIT, owned=True
    ),
    ("GET", "/v1/submissions/{idempotency_key}"): Keyed(organizations.READ, owned=True),
    ("GET", "/v1/statistics"): Keyed(organizations.STATISTICS, query=_LAST_QUARTER),
    # The national coordinator's, across organizations: never `owned`, since every
    # organization's case is theirs to see; the key's scope is the whole of the door.
    ("GET", "/v1/coordinator/cases"): Keyed(organizations.COORDINATE),
    ("GET", "/v1/coordinator/queue"): Keyed(organizations.COORDINATE),
    ("GET", "/v1/coordinator/cases/{referral_id}"): Keyed(organizations.COORDINATE),
    ("POST", "/v1/coordinator/cases/{referral_id}/identification"): Keyed(
        organizations.COORDINATE,
        body={"status": "identified", "decided_on": str(dt.date.today())},
    ),
    ("POST", "/v1/coordinator/cases/{referral_id}/recovery-period"): Keyed(
        organizations.COORDINATE, body={"extend_days": 14, "reason": "health"}
    ),
    ("POST", "/v1/coordinator/cases/{referral_id}/duplicate-resolution"): Keyed(
        organizations.COORDINATE, body={"resolution": "different_people"}
    ),
    ("GET", "/v1/intake-key"): Open(
        "the public key agencies seal referrals to; a public key, holds no data"
    ),
    # A documentation address: refused as a target (422), which the owner's key reaches.
    ("POST", "/v1/webhooks"): Keyed(organizations.WEBHOOKS, body={"url": "https://192.0.2.1/"}),
    ("GET", "/v1/webhooks"): Keyed(organizations.WEBHOOKS),
    ("POST", "/v1/webhooks/{webhook_id}/rotate"): Keyed(organizations.WEBHOOKS, owned=True),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): Keyed(organizations.WEBHOOKS, owned=True),
    # Last: the owner's call removes the endpoint the routes above are checked against.
    ("DELETE", "/v1/webhooks/{webhook_id}"): Keyed(organizations.WEBHOOKS, owned=True),
}


def _provider(directory_path: str) -> dict[Route, Access]:
    """A provider's case workers' API: its directory, its capacity, the tasks, a task, and
    what a case worker does to one.

    Not `owned`: every organization of a provider is that provider's case workers,
    and sees all its tasks; no other service's key is known to it.
    """
    return {
        ("GET", directory_path): Keyed(provider_access.DIRECTORY_READ),
        # Counts by region only, for the operators' console (docs/capacity.md).
        ("GET", "/v1/capacity"): Keyed(provider_access.DIRECTORY_READ),
        ("GET", "/v1/tasks"): Keyed(provider_access.TASKS_READ, query={"limit": "1"}),
        ("GET", "/v1/tasks/{task_id}"): Keyed(provider_access.TASKS_READ),
        ("POST", "/v1/tasks/{task_id}/complete"): Keyed(
            provider_access.TASKS_ACT, body={"outcome": "goal_achieved"}
        ),
        # A case worker's actions (korpu_provider.actions).
        ("POST", "/v1/tasks/{task_id}/arrived"): Keyed(provider_access.TASKS_ACT),
        ("POST", "/v1/tasks/{task_id}/not-arrived"): Keyed(
            provider_access.TASKS_ACT, body={"reason": "client_unreachable"}
        ),
        ("POST", "/v1/tasks/{task_id}/decline"): Keyed(
            provider_access.TASKS_ACT, body={"by": "client"}
        ),
        ("POST", "/v1/tasks/{task_id}/transfer"): Keyed(
            provider_access.TASKS_ACT, body={"to": "Another facility"}
        ),
    }


# Service (as `korpu.catalog.SERVICES` names it) -> every route its app serves.
# A provider's directory route is its own (`/v1/facilities`); the rest is the kit's.
ROUTES: dict[str, dict[Route, Access]] = {
    "referral": EVERY_SERVICE | REFERRAL,
    **{
        name: EVERY_SERVICE
        | _provider(f"/v1/{catalog.bootstrap(name).SERVICE.provider.directory_route}")
        for name in catalog.PROVIDERS
    },
}

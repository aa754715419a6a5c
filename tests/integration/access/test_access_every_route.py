"""Every route of every service, held to the access table: outsiders refused, as problems.

Built from each app's own route table, so a route added without an entry in
`access_table.py` fails here by name, and one whose dependency is swapped for a
weaker one (a reader's key where a submitter's is needed) fails the 403 check.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from access_table import ROUTES, Access, Keyed, Open, Route, Scraper
from fastapi import FastAPI, routing
from sqlalchemy.engine import Connection

from korpu import catalog
from korpu_contracts import referral, streams
from korpu_runtime import scrape
from korpu_runtime.database import Database
from korpu_runtime.http import PROBLEM_JSON
from korpu_runtime.service import Service
from referral.adapters import organizations
from referral.service_layer import webhooks
from support import bus, infra, provider_keys
from support.referrals import referral_body

OWNED_IDEMPOTENCY_KEY = "access-owned-1"


@dataclass(frozen=True)
class Callers:
    """The keys the checks call with, and what the first organization owns."""

    owner: str  # the first organization, every scope
    lacking: dict[str, str]  # scope -> the first organization's key with every scope but it
    stranger: str  # another organization, every scope
    path_values: dict[str, str]
    # who -> a key with every scope of another service, made in that service's own
    # database: an agency's key at a provider, one provider's key at another.
    foreign: dict[str, str] = field(default_factory=dict)
    # The service's scrape token (korpu_runtime.scrape).
    scrape_token: list[str] = field(default_factory=list)


def _served(app: FastAPI) -> set[Route]:
    """(method, path) of every route the app answers, through included routers; HEAD goes with GET.

    `iter_route_contexts` is how FastAPI itself walks them for the OpenAPI document.
    """
    served = set()
    for context in routing.iter_route_contexts(app.routes):
        methods = getattr(context, "methods", None) or {"(no method: a mount or websocket)"}
        served |= {(method, context.path or repr(context.route)) for method in methods}
    return {(method, path) for method, path in served if method != "HEAD"}


def _unstarted_app(service: str) -> FastAPI:
    module = catalog.bootstrap(service)
    # Building an app connects to nothing until it starts.
    app: FastAPI = module.build_app(
        module.Settings(database_url="sqlite://", redis_url="redis://x")
    )
    return app


def test_the_table_names_every_service() -> None:
    assert set(ROUTES) == set(catalog.SERVICES), (
        "every service in korpu.catalog.SERVICES needs its routes in access_table.ROUTES"
    )


@pytest.mark.parametrize("service", catalog.SERVICES)
def test_every_route_an_app_serves_has_an_entry_in_the_table(service: str) -> None:
    served = _served(_unstarted_app(service))
    table = set(ROUTES[service])
    assert not served - table, (
        f"{service} serves routes with no entry in access_table.ROUTES: {sorted(served - table)}; "
        "decide who may call each and add it"
    )
    assert not table - served, f"entries for routes {service} does not serve: {table - served}"


@pytest.fixture
async def running(
    request: pytest.FixtureRequest, redis_db: str, tmp_path: Path
) -> AsyncIterator[tuple[str, httpx.AsyncClient, Callers]]:
    service_name: str = request.param
    module = catalog.bootstrap(service_name)
    settings = module.Settings(
        redis_url=redis_db,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        consumer_name="access-test",
        # Every route is called by a dozen callers from one address: the limit has its
        # own tests, and a service with many routes would meet it here.
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
    )
    app: FastAPI = module.build_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://korpu") as client:
            if service_name == "referral":
                callers = await _referral_callers(app.state.service, client)
            else:
                callers = await _provider_callers(service_name, app.state.service, client, redis_db)
            callers.foreign.update(_foreign_keys(service_name, tmp_path))
            token = scrape.token(settings.metrics_token_file)
            assert token is not None, "a service outside production makes its scrape token"
            callers.scrape_token.append(token)
            yield service_name, client, callers


async def _referral_callers(service: Service, client: httpx.AsyncClient) -> Callers:
    """Two organizations; the first with a key per missing scope and a referral of its own."""

    def keys(conn: Connection) -> Callers:
        organization_id, _ = organizations.create(conn, "Police anti-trafficking unit")
        _, owner = organizations.create_key(conn, organization_id, organizations.SCOPES)
        lacking = {
            scope: organizations.create_key(
                conn, organization_id, tuple(s for s in organizations.SCOPES if s != scope)
            )[1]
            for scope in organizations.SCOPES
        }
        stranger_id, _ = organizations.create(conn, "Another NGO")
        _, stranger = organizations.create_key(conn, stranger_id, organizations.SCOPES)
        # Made past the route's address check: the app under test refuses loopback.
        endpoint, _ = webhooks.register(conn, organization_id, "https://127.0.0.1/", [], 10)
        return Callers(owner, lacking, stranger, {"webhook_id": endpoint.id})

    callers = await service.db.run(keys)
    submitted = await client.post(
        "/v1/referrals",
        json=referral_body(),
        headers={
            "Authorization": f"Bearer {callers.owner}",
            "Idempotency-Key": OWNED_IDEMPOTENCY_KEY,
        },
    )
    assert submitted.status_code == 202, submitted.text
    callers.path_values.update(
        referral_id=submitted.json()["id"], idempotency_key=OWNED_IDEMPOTENCY_KEY
    )
    return callers


async def _provider_callers(
    service_name: str, service: Service, client: httpx.AsyncClient, redis_url: str
) -> Callers:
    """The provider's case workers with a key per missing scope, and a task it holds."""
    keyring = catalog.keyring(service_name)

    def keys(conn: Connection) -> Callers:
        organization_id, _ = keyring.create_organization(conn, "Case workers")
        _, owner = keyring.create_key(conn, organization_id, keyring.scopes)
        lacking = {
            scope: keyring.create_key(
                conn, organization_id, [s for s in keyring.scopes if s != scope]
            )[1]
            for scope in keyring.scopes
        }
        return Callers(owner, lacking, "", {})

    callers = await service.db.run(keys)
    task_id, referral_id = str(uuid.uuid4()), str(uuid.uuid4())
    requested = referral.TaskRequested(
        task_id=task_id, referral_id=referral_id, service=service_name, region="Baku",
        is_child=False, sex="female", age_years=30, languages=["az"],
    )  # fmt: skip
    stream = streams.REQUESTS_BY_SERVICE[service_name]
    await bus.publish(redis_url, stream, requested, subject=referral_id)
    headers = provider_keys.bearer(callers.owner)

    async def held() -> bool:
        answer = await client.get(f"/v1/tasks/{task_id}", headers=headers)
        return answer.status_code == 200

    await infra.wait_for(held, message=f"{service_name} never held the task requested")
    callers.path_values["task_id"] = task_id
    return callers


def _foreign_keys(service_name: str, tmp_path: Path) -> dict[str, str]:
    """A key of every other service, with all its scopes, made in that service's database."""
    found = {}
    for other in catalog.SERVICES:
        if other != service_name:
            url = f"sqlite:///{tmp_path / f'{other}-elsewhere.db'}"
            metadata = catalog.bootstrap(other).METADATA
            _, key = Database.once(url, metadata, _new_organization(other))
            who = "an agency's key" if other == "referral" else f"a {other} case workers' key"
            found[who] = key
    return found


def _new_organization(service_name: str) -> Callable[[Connection], tuple[str, str]]:
    keyring = catalog.keyring(service_name)
    return lambda conn: keyring.create_organization(conn, f"Someone at {service_name}")


async def _call(
    client: httpx.AsyncClient, route: Route, access: Access, callers: Callers, key: str | None
) -> httpx.Response:
    method, template = route
    headers = {"Idempotency-Key": OWNED_IDEMPOTENCY_KEY}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    query = access.query if isinstance(access, Keyed) else {}
    return await client.request(
        method,
        template.format(**callers.path_values),
        json=access.body,
        params=query,
        headers=headers,
    )


def _refused_as(answer: httpx.Response, status: int) -> str | None:
    """None when `answer` is the problem document of `status`, else what is wrong with it."""
    if answer.status_code != status:
        return f"answered {answer.status_code}, not {status}"
    if answer.headers.get("content-type") != PROBLEM_JSON or answer.json().get("status") != status:
        return f"answered {status}, but not as a problem document: {answer.text[:120]}"
    if status == 401 and answer.headers.get("www-authenticate") != "Bearer":
        return "answered 401 without `WWW-Authenticate: Bearer`"
    return None


async def _check_keyed(
    client: httpx.AsyncClient, route: Route, access: Keyed, callers: Callers
) -> list[str]:
    outsiders = [
        ("no key", None, 401),
        ("an unknown key", "korpu_not-a-key-of-anyone", 401),
        (f"a key of the owner without `{access.scope}`", callers.lacking[access.scope], 403),
    ]
    if access.owned:
        outsiders.append(("another organization's key with every scope", callers.stranger, 404))
    outsiders += [(who, key, 401) for who, key in callers.foreign.items()]
    failures = []
    for who, key, status in outsiders:
        wrong = _refused_as(await _call(client, route, access, callers, key), status)
        if wrong is not None:
            failures.append(f"{who}: {wrong}")
        elif status == 403:
            answer = await _call(client, route, access, callers, key)
            if answer.json().get("missing_scope") != access.scope:
                failures.append(f"{who}: the 403 does not name the missing scope {access.scope}")
    # The positive control: the owner gets past the door, so each refusal above came
    # from the key and the 404 is about ownership, not a resource that was never there.
    allowed = await _call(client, route, access, callers, callers.owner)
    if allowed.status_code in (401, 403, 404) or allowed.status_code >= 500:
        failures.append(f"the owner with every scope: answered {allowed.status_code}")
    return failures


async def _check_open(
    client: httpx.AsyncClient, route: Route, access: Open, callers: Callers
) -> list[str]:
    # Holds the table to the truth: the day a route starts to ask for a key, its entry
    # must say which, and the refusals above start to be checked.
    answer = await _call(client, route, access, callers, None)
    if answer.status_code in (401, 403) or answer.status_code >= 500:
        return [f"listed as open ({access.why}) but answered {answer.status_code} without a key"]
    return []


async def _check_scraper(
    client: httpx.AsyncClient, route: Route, access: Scraper, callers: Callers
) -> list[str]:
    outsiders = [
        ("no token", None),
        ("a wrong token", "not-the-scrape-token"),
        ("an API key of the service's own organization", callers.owner),
        *callers.foreign.items(),
    ]
    failures = []
    for who, key in outsiders:
        wrong = _refused_as(await _call(client, route, access, callers, key), 401)
        if wrong is not None:
            failures.append(f"{who}: {wrong}")
    allowed = await _call(client, route, access, callers, callers.scrape_token[0])
    if allowed.status_code != 200:
        failures.append(f"the scrape token: answered {allowed.status_code}")
    return failures


@pytest.mark.parametrize("running", catalog.SERVICES, indirect=True)
async def test_every_route_refuses_whoever_the_table_does_not_let_in(
    running: tuple[str, httpx.AsyncClient, Callers],
) -> None:
    service, client, callers = running
    failures = []
    for route, access in ROUTES[service].items():
        if isinstance(access, Keyed):
            found = await _check_keyed(client, route, access, callers)
        elif isinstance(access, Scraper):
            found = await _check_scraper(client, route, access, callers)
        else:
            found = await _check_open(client, route, access, callers)
        failures += [f"{service} {route[0]} {route[1]}: {failure}" for failure in found]
    assert not failures, "\n".join(failures)

"""Attacks on every service's HTTP edge: each refused, as a problem document of its own type.

Floods from one key or from made-up keys, repeated JSON keys, control characters in
an Idempotency-Key, a flood of referrals past the open-referral cap (over HTTP and on
the bus), slow and oversized request heads and slow bodies against a real uvicorn on a
real socket, and a /docs page that would load a third party's script.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Connection

from korpu import catalog
from korpu.embedded_redis import free_port
from korpu_contracts import intake, referral, streams
from korpu_runtime import http, problems, ratelimit
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from referral import bootstrap as referral_bootstrap
from referral.adapters import bus_keys, organizations, tables
from support import bus
from support.referrals import referral_body

REPO = Path(__file__).resolve().parents[2]
# A route of each service that takes a JSON body.
BODY_ROUTES = {
    "referral": "/v1/referrals",
    # Every provider (the kit's routes): a case worker ending a task.
    **{name: "/v1/tasks/t-1/complete" for name in catalog.PROVIDERS},
}


def _type(answer: httpx.Response) -> str:
    assert answer.headers["content-type"] == problems.PROBLEM_JSON, answer.text
    found: str = answer.json()["type"]
    return found


def _unstarted(service: str, **settings: Any) -> FastAPI:
    module = catalog.bootstrap(service)
    app: FastAPI = module.build_app(
        module.Settings(database_url="sqlite://", redis_url="redis://x", **settings)
    )
    return app


@contextlib.asynccontextmanager
async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://korpu") as client:
        yield client


# --- Every refusal a problem document with a type of its own --------------------------


@pytest.mark.parametrize("service", catalog.SERVICES)
async def test_each_kind_of_refusal_names_its_own_problem_type(service: str) -> None:
    path, as_json = BODY_ROUTES[service], {"Content-Type": "application/json"}
    async with _client(_unstarted(service)) as client:
        answers = {
            problems.NOT_FOUND: await client.get("/v1/no-such-thing"),
            problems.METHOD_NOT_ALLOWED: await client.delete("/health/live"),
            problems.MALFORMED_JSON: await client.post(path, content=b"{nope", headers=as_json),
            problems.REPEATED_KEY: await client.post(
                path, content=b'{"a": 1, "a": 2}', headers=as_json
            ),
            problems.BODY_TOO_LARGE: await client.post(
                path, content=b"[" + b" " * 70_000 + b"]", headers=as_json
            ),
        }
    for kind, answer in answers.items():
        assert answer.status_code == kind.status, (kind.name, answer.text)
        assert _type(answer) == kind.type
    assert len({answer.json()["type"] for answer in answers.values()}) == len(answers)


def test_every_problem_type_is_unique_and_documented_in_docs_problems_md() -> None:
    page = (REPO / "docs" / "problems.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in page.splitlines()
        if line.startswith("|")
    }
    assert len({kind.type for kind in problems.KINDS}) == len(problems.KINDS)
    for kind in problems.KINDS:
        assert kind.type in rows, f"{kind.type} is not in docs/problems.md"
        cells = [cell.strip() for cell in rows[kind.type].split("|")]
        assert cells[2:4] == [str(kind.status), kind.title], rows[kind.type]
    documented = {name for name in rows if name.startswith(problems.BASE)}
    assert documented == {kind.type for kind in problems.KINDS}


# --- Repeated keys and hostile JSON ------------------------------------------------------


@pytest.mark.parametrize("service", catalog.SERVICES)
async def test_a_repeated_json_key_is_refused_before_any_route_naming_no_value(
    service: str,
) -> None:
    # Deep in the body, as an agency's person could be sent with two names.
    body = (
        b'{"outcome": "goal_achieved", "person": {"given_name": "Aysel",'
        b' "family_name": "Q", "given_name": "Leyla"}}'
    )
    async with _client(_unstarted(service)) as client:
        answer = await client.post(
            BODY_ROUTES[service], content=body, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 400
    assert _type(answer) == problems.REPEATED_KEY.type
    assert "Aysel" not in answer.text and "Leyla" not in answer.text
    assert "given_name" not in answer.text


@pytest.mark.parametrize("service", catalog.SERVICES)
async def test_a_body_nested_too_deeply_to_parse_is_a_400_not_a_500(service: str) -> None:
    async with _client(_unstarted(service)) as client:
        answer = await client.post(
            BODY_ROUTES[service],
            content=b"[" * 8_000 + b"]" * 8_000,
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 400
    assert _type(answer) == problems.MALFORMED_JSON.type


# --- Idempotency-Key: printable ASCII, 255 at most, on HTTP and on the bus --------------


@pytest.mark.parametrize(
    "key", ["k\x1b]0;owned\x07", "a\u202eb", "k" * 256, "tab\tinside"], ids=repr
)
def test_the_bus_contract_refuses_an_idempotency_key_http_would_refuse(key: str) -> None:
    sealed = bus.submission("org-1", "k", referral_body()).sealed_referral
    command = {
        "organization_id": "org-1",
        "idempotency_key": key,
        "sealed_referral": sealed.model_dump(mode="json"),
    }
    with pytest.raises(pydantic.ValidationError) as refused:
        intake.SubmitReferral.model_validate(command)
    assert [error["loc"] for error in refused.value.errors()] == [("idempotency_key",)]
    assert intake.SubmitReferral.model_validate({**command, "idempotency_key": "k" * 255})


# --- The rate limit -----------------------------------------------------------------------


@pytest.fixture
async def limited_referral(
    redis_db: str, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Service, str, str]]:
    """A referral service allowing 3 requests at once and one more a minute (so none comes
    back while a test runs); two organizations' keys."""
    settings = referral_bootstrap.Settings(
        redis_url=redis_db,
        database_url=database_url,
        consumer_name="limit-test",
        rate_limit_per_minute=1,
        rate_limit_burst=3,
    )
    app = referral_bootstrap.build_app(settings)
    service: Service = app.state.service
    async with app.router.lifespan_context(app), _client(app) as client:
        _, first = await service.db.run(lambda conn: organizations.create(conn, "Hotline"))
        _, second = await service.db.run(lambda conn: organizations.create(conn, "Other NGO"))
        yield client, service, first, second


def _audit_rows(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(tables.audit_log)).scalar_one())


async def test_a_key_past_its_burst_is_answered_429_with_retry_after_and_ratelimit_fields(
    limited_referral: tuple[httpx.AsyncClient, Service, str, str],
) -> None:
    client, service, key, other_key = limited_referral
    path = f"/v1/referrals/{uuid.uuid4()}"
    answers = [await client.get(path, headers={"Authorization": f"Bearer {key}"}) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert answers[0].headers["ratelimit-policy"] == '"key";q=1;w=60'
    assert re.fullmatch(r'"key";r=2;t=\d+', answers[0].headers["ratelimit"])
    before = await service.db.run(_audit_rows)

    refused = await client.get(path, headers={"Authorization": f"Bearer {key}"})

    assert refused.status_code == 429
    assert _type(refused) == problems.RATE_LIMITED.type
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-policy"] == '"key";q=1;w=60'
    assert re.fullmatch(r'"key";r=0;t=\d+', refused.headers["ratelimit"])
    # Refused at the edge: the route never ran (each 404 above was recorded).
    assert await service.db.run(_audit_rows) == before
    # Another organization's key has its own bucket.
    other = await client.get(path, headers={"Authorization": f"Bearer {other_key}"})
    assert other.status_code == 404


async def test_made_up_keys_are_charged_to_their_address_and_then_refused_unlooked_up(
    limited_referral: tuple[httpx.AsyncClient, Service, str, str],
) -> None:
    client, _, key, _ = limited_referral
    path = f"/v1/referrals/{uuid.uuid4()}"
    assert (await client.get(path, headers={"Authorization": f"Bearer {key}"})).status_code == 404
    guesses = [
        await client.get(path, headers={"Authorization": f"Bearer korpu_{secrets.token_hex(8)}"})
        for _ in range(4)
    ]
    # Each guess has a fresh bucket of its own, but every 401 spends one of the address's.
    assert [answer.status_code for answer in guesses] == [401, 401, 401, 429]
    assert guesses[-1].headers["ratelimit-policy"].startswith('"address"')
    assert _type(guesses[-1]) == problems.RATE_LIMITED.type
    # A key answered before still goes through from the same address.
    assert (await client.get(path, headers={"Authorization": f"Bearer {key}"})).status_code == 404


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _call(app: Any, token: str | None, client: str = "10.0.0.1") -> int:
    headers = [] if token is None else [(b"authorization", f"Bearer {token}".encode())]
    scope = {"type": "http", "path": "/v1/x", "headers": headers, "client": (client, 1)}
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


async def test_random_keys_cannot_grow_a_process_without_bound() -> None:
    limited = ratelimit.RateLimit(_ok, per_minute=60, burst=5, capacity=100)
    for _ in range(2_000):
        await _call(limited, secrets.token_urlsafe(16), client=f"10.0.{secrets.randbelow(99)}.1")
    assert len(limited.buckets) <= 100


async def test_a_busy_hotline_s_key_can_be_given_a_higher_limit() -> None:
    busy, ordinary = "korpu_busy-hotline", "korpu_ordinary"
    # The hook is asked with the hash the key tables hold, to look the key's limit up there.
    assert ratelimit.key_hash(busy) == organizations.hash_key(busy)
    raised = {ratelimit.key_hash(busy): 600}
    frozen = ratelimit.RateLimit(
        _ok, per_minute=60, burst=5, limit_for=raised.get, clock=lambda: 0.0
    )
    assert [await _call(frozen, busy) for _ in range(50)] == [200] * 50
    assert [await _call(frozen, ordinary) for _ in range(6)] == [200] * 5 + [429]


def test_the_defaults_are_the_documented_ones_and_set_by_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = ServiceSettings(service="any")
    page = (REPO / "docs" / "problems.md").read_text(encoding="utf-8")
    assert (defaults.rate_limit_per_minute, defaults.rate_limit_burst) == (300, 100)
    assert "(300 by default)" in page and "(100 by default)" in page
    assert referral_bootstrap.Settings().max_open_referrals == 5_000
    monkeypatch.setenv("REFERRAL_RATE_LIMIT_PER_MINUTE", "1200")
    monkeypatch.setenv("REFERRAL_MAX_OPEN_REFERRALS", "20000")
    assert referral_bootstrap.Settings().rate_limit_per_minute == 1200
    assert referral_bootstrap.Settings().max_open_referrals == 20_000


# --- The cap on open referrals ------------------------------------------------------------


@pytest.fixture
async def capped_referral(
    redis_db: str, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Service, str, str]]:
    """A referral service letting an organization have 2 referrals open."""
    settings = referral_bootstrap.Settings(
        redis_url=redis_db,
        database_url=database_url,
        consumer_name="cap-test",
        max_open_referrals=2,
    )
    app = referral_bootstrap.build_app(settings)
    service: Service = app.state.service
    async with app.router.lifespan_context(app), _client(app) as client:
        organization_id, key = await service.db.run(
            lambda conn: organizations.create(conn, "Hotline")
        )
        yield client, service, organization_id, key


def _someone(number: int) -> dict[str, Any]:
    """A referral of a person of their own: the same person twice is a duplicate."""
    body = referral_body()
    # Names no spelling folds together (a doubled letter is one to the duplicate check).
    given = ("Aysel", "Leyla", "Nigar", "Sevda", "Günay", "Xədicə")[number]
    return {**body, "person": {**body["person"], "given_name": given}}


def _referrals(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(tables.referrals)).scalar_one())


async def test_past_the_open_referral_cap_a_submission_is_refused_and_writes_nothing(
    capped_referral: tuple[httpx.AsyncClient, Service, str, str],
) -> None:
    client, service, _, key = capped_referral

    def submit(number: int) -> Any:
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"cap-{number}"}
        return client.post("/v1/referrals", json=_someone(number), headers=headers)

    accepted = [await submit(1), await submit(2)]
    assert [answer.status_code for answer in accepted] == [202, 202]

    refused = await submit(3)

    assert refused.status_code == 403
    assert _type(refused) == problems.OPEN_REFERRALS_CAP.type
    assert refused.json()["max_open_referrals"] == 2
    assert await service.db.run(_referrals) == 2
    # A replay of what was accepted still answers as before.
    assert (await submit(1)).json()["id"] == accepted[0].json()["id"]
    # Once a case closes, a new one is taken.
    first = accepted[0].json()["id"]
    withdrawn = await client.post(
        f"/v1/referrals/{first}/withdraw", headers={"Authorization": f"Bearer {key}"}
    )
    assert withdrawn.status_code == 200
    assert (await submit(3)).status_code == 202


async def test_past_the_open_referral_cap_an_intake_entry_is_rejected_on_the_replies_stream(
    capped_referral: tuple[httpx.AsyncClient, Service, str, str], redis_db: str
) -> None:
    _, service, organization_id, _ = capped_referral
    agency_key = await service.db.run(lambda conn: bus_keys.create(conn, organization_id))
    for number in (1, 2, 3):
        command = bus.submission(
            organization_id,
            f"bus-cap-{number}",
            intake.ReferralRequest.model_validate(_someone(number)),
        )
        intake_stream = streams.intake(organization_id)
        await bus.publish(redis_db, intake_stream, command, f"BUS-{number}", agency_key=agency_key)
    replies = await bus.wait_for_events(
        redis_db,
        streams.intake_replies(organization_id),
        lambda found: len(found) >= 3,
        message="no answers",
    )
    by_key = {reply.data["idempotency_key"]: reply for reply in replies}
    assert by_key["bus-cap-1"].type == by_key["bus-cap-2"].type == referral.ReferralAccepted.TYPE
    assert by_key["bus-cap-3"].type == referral.ReferralRejected.TYPE
    [error] = by_key["bus-cap-3"].data["errors"]
    assert error["field"] == "data.organization_id" and "2 referrals open" in error["message"]
    assert await service.db.run(_referrals) == 2


# --- Slow and oversized requests, on a real socket to a real uvicorn ----------------------

HEAD_TIMEOUT = 0.5
MAX_HEAD = 2048


@contextlib.asynccontextmanager
async def _uvicorn(app: FastAPI) -> AsyncIterator[int]:
    """`app` under uvicorn as `korpu serve` runs it (http.uvicorn_config); yields its port."""
    port = free_port()
    running = uvicorn.Server(http.uvicorn_config(app, "127.0.0.1", port))
    task = asyncio.create_task(running.serve())
    async with asyncio.timeout(30):
        while not running.started:  # noqa: ASYNC110 (uvicorn sets a flag, no event)
            await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        running.should_exit = True
        await task


@pytest.fixture
async def served(redis_db: str, tmp_path: Path) -> AsyncIterator[int]:
    """The shelter service under uvicorn, with short limits on heads and bodies."""
    module = catalog.bootstrap("shelter")
    settings = module.Settings(
        redis_url=redis_db,
        database_url=f"sqlite:///{tmp_path / 'shelter.db'}",
        http_head_timeout_seconds=HEAD_TIMEOUT,
        http_body_timeout_seconds=HEAD_TIMEOUT,
        http_max_head_bytes=MAX_HEAD,
        http_keep_alive_seconds=60,  # longer than the head's deadline: that is what acts
    )
    async with _uvicorn(module.build_app(settings)) as port:
        yield port


async def _exchange(port: int, sent: bytes, then: Callable[[], bytes] | None = None) -> bytes:
    """Send `sent` (and then nothing), and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(sent)
        await writer.drain()
        # A deadline only so that a server that never closes fails the test, not hangs it.
        async with asyncio.timeout(20):
            return await reader.read(-1)
    finally:
        writer.close()


def _problem_answer(raw: bytes) -> tuple[int, str, dict[str, str]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert headers["content-type"] == problems.PROBLEM_JSON, raw
    return int(lines[0].split()[1]), json.loads(body)["type"], headers


async def test_a_request_head_sent_too_slowly_is_answered_408_and_closed(served: int) -> None:
    raw = await _exchange(served, b"GET /health/live HTTP/1.1\r\nHost: korpu\r\nX-Slow: ")
    status, kind, headers = _problem_answer(raw)
    assert (status, kind) == (408, problems.REQUEST_TIMEOUT.type)
    assert headers["connection"] == "close"


async def test_an_idle_connection_is_closed_without_an_answer(served: int) -> None:
    assert await _exchange(served, b"") == b""


async def test_a_request_head_over_the_limit_is_answered_431_and_closed(served: int) -> None:
    padding = b"X-Pad: " + b"a" * (MAX_HEAD + 100) + b"\r\n"
    raw = await _exchange(served, b"GET /health/live HTTP/1.1\r\nHost: korpu\r\n" + padding)
    status, kind, _ = _problem_answer(raw)
    assert (status, kind) == (431, problems.HEADERS_TOO_LARGE.type)


async def test_a_body_sent_too_slowly_is_answered_408_and_closed(served: int) -> None:
    head = (
        b"POST /v1/tasks/t-1/complete HTTP/1.1\r\nHost: korpu\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    raw = await _exchange(served, head + b'{"outcome": ')
    status, kind, headers = _problem_answer(raw)
    assert (status, kind) == (408, problems.REQUEST_TIMEOUT.type)
    assert headers["connection"] == "close"


async def test_a_request_line_that_is_not_http_is_a_problem_document(served: int) -> None:
    raw = await _exchange(served, b"\x16\x03\x01 not http at all\r\n\r\n")
    status, kind, _ = _problem_answer(raw)
    assert (status, kind) == (400, problems.MALFORMED_REQUEST.type)


async def test_a_whole_request_with_its_body_in_one_write_is_served(served: int) -> None:
    """The head's limit is on the head: a body arriving with it in one read is no head."""
    body = b'{"outcome": "goal_achieved"' + b" " * (MAX_HEAD * 3) + b"}"
    head = (
        b"POST /v1/tasks/t-1/complete HTTP/1.1\r\nHost: korpu\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    raw = await _exchange(served, head + body)
    status, kind, _ = _problem_answer(raw)
    # Refused for want of a key, by the route: past every limit of the edge.
    assert (status, kind) == (401, problems.UNAUTHORIZED.type)


# --- /docs loads nothing from another origin -----------------------------------------------


@pytest.mark.parametrize("service", catalog.SERVICES)
async def test_docs_loads_only_its_own_files_under_a_same_origin_policy(service: str) -> None:
    async with _client(_unstarted(service)) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        html = page.text
        loads = re.findall(r'(?:src|href)="([^"]*)"', html)
        assert loads, html
        assert all(url.startswith("/") and not url.startswith("//") for url in loads), loads
        # Every script is a file: the policy needs no 'unsafe-inline'.
        assert "<script>" not in html and re.findall(r"<script(?! src=)", html) == []
        served = {url: await client.get(url) for url in loads}
        start = await client.get("/docs/init.js")
        unknown = await client.get("/no-such-page")
    assert {url: answer.status_code for url, answer in served.items()} == dict.fromkeys(loads, 200)
    bundle = served["/docs/swagger-ui-bundle.js"]
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in bundle.text
    assert '"url": "/openapi.json"' in start.text and '"validatorUrl": null' in start.text
    for answer in (page, start, unknown, *served.values()):
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy


CHROMIUM = shutil.which("chromium")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (apt-get install chromium)")
async def test_docs_renders_in_a_real_browser_with_nothing_blocked_or_fetched_elsewhere(
    redis_db: str, tmp_path: Path
) -> None:
    """Swagger UI starts under the policy: every operation shown, no violation reported.

    Chromium reports each load or inline script the policy blocks on its console
    ("violates the following Content Security Policy directive"); any request to
    another origin would be one. A screenshot is left in the test's folder.
    """
    assert CHROMIUM is not None
    settings = referral_bootstrap.Settings(
        redis_url=redis_db, database_url=f"sqlite:///{tmp_path / 'referral.db'}", data_dir=tmp_path
    )
    async with _uvicorn(referral_bootstrap.build_app(settings)) as port:
        url = f"http://127.0.0.1:{port}/docs"
        dom, console = await _chromium("--dump-dom", url)
        await _chromium(f"--screenshot={tmp_path / 'docs.png'}", "--window-size=1280,1000", url)
    assert "/v1/referrals/{referral_id}/withdraw" in dom, dom[:500]
    assert "Körpü referral service" in dom
    assert [line for line in console if "CONSOLE" in line] == []
    assert (tmp_path / "docs.png").stat().st_size > 0


async def _chromium(*arguments: str) -> tuple[str, list[str]]:
    """Headless Chromium's output and its console lines, once the page had 10 s to settle."""
    assert CHROMIUM is not None
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",  # run as root in CI
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode(), err.decode(errors="replace").splitlines()

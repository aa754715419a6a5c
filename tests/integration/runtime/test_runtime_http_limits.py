"""Every service's HTTP edge: bodies counted as they arrive, every refusal a problem document,
no answer cached."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from korpu import catalog
from korpu_runtime import http
from referral.entrypoints import http as referral_http

# A route of each service that takes a body, and the limit it is held to.
BODY_ROUTES = {
    "referral": ("/v1/referrals", referral_http.MAX_BODY_BYTES),
    # Every provider's, the kit's route completing a task.
    **{name: ("/v1/tasks/t-1/complete", http.MAX_BODY_BYTES) for name in catalog.PROVIDERS},
}


@pytest.fixture(params=catalog.SERVICES)
async def client(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """The service's app, unstarted: the edge answers before any route or database."""
    module = catalog.bootstrap(request.param)
    app: FastAPI = module.build_app(
        module.Settings(database_url="sqlite://", redis_url="redis://x")
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://korpu") as client:
        yield request.param, client


class Chunks:
    """A body sent in chunks with no `Content-Length`, counting what was taken from it."""

    def __init__(self, total: int, chunk: int = 4096) -> None:
        self.total, self.chunk, self.taken = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.taken < self.total:
            self.taken += self.chunk
            yield b"x" * self.chunk


def _is_problem(answer: httpx.Response, status: int) -> bool:
    return (
        answer.status_code == status
        and answer.headers["content-type"] == http.PROBLEM_JSON
        and answer.json()["status"] == status
    )


async def test_a_chunked_body_without_credentials_is_refused_once_past_the_limit_unread(
    client: tuple[str, httpx.AsyncClient],
) -> None:
    service, http_client = client
    path, limit = BODY_ROUTES[service]
    body = Chunks(total=50 * limit)
    answer = await http_client.post(path, content=body)  # no key, no Content-Length
    assert _is_problem(answer, 413), answer.text
    assert str(limit) in answer.json()["detail"]
    # Read no further than the chunk that crossed the limit: the rest is never taken in.
    assert body.taken <= limit + body.chunk


async def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read(
    client: tuple[str, httpx.AsyncClient],
) -> None:
    service, http_client = client
    path, limit = BODY_ROUTES[service]
    body = Chunks(total=limit + 1)
    answer = await http_client.post(path, content=body, headers={"Content-Length": str(limit + 1)})
    assert _is_problem(answer, 413)
    assert body.taken == 0


async def test_a_body_within_the_limit_reaches_the_route(
    client: tuple[str, httpx.AsyncClient],
) -> None:
    service, http_client = client
    path, limit = BODY_ROUTES[service]
    answer = await http_client.post(path, content=b"{" + b" " * (limit - 2) + b"}")
    # Past the edge: refused by the route for what it is (no key, an invalid body), not its size.
    assert answer.status_code != 413
    assert answer.headers["content-type"] == http.PROBLEM_JSON


async def test_an_unknown_route_and_a_wrong_method_are_problem_documents(
    client: tuple[str, httpx.AsyncClient],
) -> None:
    _, http_client = client
    assert _is_problem(await http_client.get("/v1/no-such-thing"), 404)
    assert _is_problem(await http_client.delete("/health/live"), 405)


async def test_no_answer_may_be_kept_by_a_cache(client: tuple[str, httpx.AsyncClient]) -> None:
    _, http_client = client
    for answer in (
        await http_client.get("/health/live"),
        await http_client.get("/v1/no-such-thing"),
        await http_client.post(BODY_ROUTES["referral"][0], content=b"{}"),
        await http_client.post(BODY_ROUTES["referral"][0], content=Chunks(total=10**6)),
    ):
        assert answer.headers["cache-control"] == "no-store", answer.request.url

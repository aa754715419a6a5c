"""The whole system as separate processes, for end-to-end tests and the benchmark."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import redis

from korpu import catalog, seed
from korpu.embedded_redis import free_ports
from korpu.supervisor import Stack
from korpu_runtime.database import Database
from referral import bootstrap as referral_bootstrap

# One agency key sends every referral of a test or a benchmark, far faster and more
# than any agency would: the rate limit and the cap on open referrals raised (their
# defaults are held to in tests/security/test_security_http.py).
UNTHROTTLED = {
    "REFERRAL_RATE_LIMIT_PER_MINUTE": "10000000",
    "REFERRAL_RATE_LIMIT_BURST": "10000000",
    "REFERRAL_MAX_OPEN_REFERRALS": "10000000",
}


class AgencyClient(httpx.Client):
    """An agency's client of the referral service, knowing its organization (whose status
    stream, `streams.referral_status`, tells it of every change)."""

    def __init__(self, organization_id: str, **options: Any) -> None:
        super().__init__(**options)
        self.organization_id = organization_id


@contextlib.contextmanager
def running_stack(
    data_dir: Path,
    redis_url: str | None,
    directory: dict[str, list[dict[str, Any]]],
    database_urls: dict[str, str] | None = None,
    *,
    extra_env: dict[str, str] | None = None,
    replicas: dict[str, int] | None = None,
    service_env: dict[str, dict[str, str]] | None = None,
) -> Iterator[tuple[Stack, AgencyClient]]:
    """Start every service as its own process, seed the directory, yield an agency's client.

    With no Redis URL the stack starts an embedded one, as `korpu up` does; with
    no database URLs each service has its SQLite file in `data_dir`. `extra_env`
    reaches the services only (`SHELTER_CLAIM_IDLE_MS`...), over `UNTHROTTLED`;
    `replicas` as in `Stack`.
    """
    if redis_url is not None:
        redis.Redis.from_url(redis_url).flushdb()
    ports = free_ports(catalog.PROCESSES)
    env = {"KORPU_DATA_DIR": str(data_dir)}
    for service, url in (database_urls or {}).items():
        env[f"{service.upper()}_DATABASE_URL"] = url
    with contextlib.ExitStack() as stack_exit:
        stack_exit.enter_context(_environment(env))
        stack = Stack(
            data_dir,
            redis_url=redis_url,
            ports=ports,
            extra_env={**UNTHROTTLED, **(extra_env or {})},
            replicas=replicas,
            service_env=service_env,
        )
        stack_exit.enter_context(stack)
        seed.load(directory)
        organization_id, api_key = referral_bootstrap.create_organization(
            referral_bootstrap.Settings(), f"E2E agency {uuid.uuid4().hex[:6]}"
        )
        client = stack_exit.enter_context(
            AgencyClient(
                organization_id,
                base_url=stack.processes["referral"].url,
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=10,
            )
        )
        yield stack, client


def bus_organization() -> str:
    """A new organization with a bus key, whose intake the running referral service reads
    within a second. Inside `running_stack`, whose environment names its database."""
    from referral.adapters import bus_keys

    organization_id, _ = referral_bootstrap.create_organization(
        referral_bootstrap.Settings(), f"E2E bus agency {uuid.uuid4().hex[:6]}"
    )
    Database.once(
        referral_bootstrap.Settings().database_url,
        referral_bootstrap.METADATA,
        lambda conn: bus_keys.create(conn, organization_id),
    )
    return organization_id


def case_workers(stack: Stack, provider: str) -> httpx.Client:
    """A client of the provider's case workers' API, with a key of a new organization made
    in that provider's database. Inside `running_stack`, whose environment names it."""
    from korpu import org_keys

    _, api_key = org_keys.create_organization(provider, f"E2E case workers {uuid.uuid4().hex[:6]}")
    return httpx.Client(
        base_url=stack.processes[provider].url,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=10,
    )


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def all_stream_entries(redis_url: str) -> list[tuple[str, dict[bytes, bytes]]]:
    """Every entry of every stream in the database: what the personal-data scan reads."""
    client = redis.Redis.from_url(redis_url)
    found = []
    for key in client.scan_iter(_type="STREAM"):
        for _, fields in client.xrange(key):
            found.append((key.decode(), fields))
    return found

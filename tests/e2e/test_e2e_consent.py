"""Consent withdrawn for a shelter frees the bed for the next person waiting, as real processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from korpu import catalog
from support import postgres_server
from support.infra import wait_until
from support.referrals import referral_body
from support.stack import running_stack

pytestmark = pytest.mark.slow

# One bed, for two women: the second waits.
DIRECTORY: dict[str, list[dict[str, Any]]] = {
    "shelters": [{"name": "Shaki women's shelter", "region": "Shaki", "serves": ["women"],
                  "beds": 1}],
    "programs": [{"name": "Carpet weaving", "region": "Shaki", "seats": 5, "languages": ["az"],
                  "min_age": 16}],
    "lawyers": [],
}  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def agency(
    request: pytest.FixtureRequest,
    spare_redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[httpx.Client]:
    data_dir: Path = tmp_path_factory.mktemp(f"e2e-consent-{request.param}")
    factory = None
    database_urls = None
    if request.param == "postgres":
        factory = postgres_server.DatabaseFactory(request.getfixturevalue("postgres_admin_url"))
        database_urls = {name: factory(f"e2e_consent_{name}") for name in catalog.SERVICES}
    try:
        with running_stack(data_dir, spare_redis_url, DIRECTORY, database_urls) as (_, client):
            yield client
    finally:
        if factory is not None:
            factory.drop_all()


def _submit(agency: httpx.Client, name: str, **overrides: Any) -> str:
    body = referral_body(region="Shaki", needs=["shelter"], consent={"shelter": "granted"})
    body.update(overrides)
    body["person"] = {**body["person"], "given_name": name, "languages": ["az"]}
    answer = agency.post("/v1/referrals", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 202, answer.text
    referral_id: str = answer.json()["id"]
    return referral_id


def _shelter_becomes(agency: httpx.Client, referral_id: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        view: dict[str, Any] = agency.get(f"/v1/referrals/{referral_id}").json()
        return view if view["services"]["shelter"]["status"] == status else None

    return wait_until(reached, timeout=10.0, message=f"shelter never {status}")


def _consent(agency: httpx.Client, referral_id: str, purpose: str, given: str) -> dict[str, Any]:
    answer = agency.post(
        f"/v1/referrals/{referral_id}/consent", json={"purpose": purpose, "consent": given}
    )
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


def test_consent_withdrawn_for_the_shelter_gives_the_bed_to_the_next_woman_waiting(
    agency: httpx.Client,
) -> None:
    first = _submit(agency, "Birinci")
    _shelter_becomes(agency, first, "accepted")
    second = _submit(agency, "Ikinci")
    waiting = _shelter_becomes(agency, second, "on-hold")
    assert waiting["services"]["shelter"]["detail"]["waitlist_position"] == 1

    left = _consent(agency, first, "shelter", "withdrawn")

    assert left["services"]["shelter"]["status"] == "cancelled"
    placed = _shelter_becomes(agency, second, "accepted")
    assert placed["services"]["shelter"]["detail"]["facility"] == "Shaki women's shelter"

    # She changes her mind: asked for afresh, she waits behind the woman now in the bed.
    _consent(agency, first, "shelter", "granted")
    back = _shelter_becomes(agency, first, "on-hold")
    assert back["services"]["shelter"]["detail"]["waitlist_position"] == 1
    assert [e["status"] for e in back["history"] if e["service"] == "shelter"] == [
        "requested",
        "accepted",
        "consent_changed",
        "cancelled",
        "consent_changed",
        "requested",
        "on-hold",
    ]


def test_consent_granted_later_sends_the_missing_task_to_the_real_provider(
    agency: httpx.Client,
) -> None:
    referral_id = _submit(
        agency,
        "Ucuncu",
        needs=["employment"],
        consent={"employment": "refused"},
    )
    view = agency.get(f"/v1/referrals/{referral_id}").json()
    assert view["services"]["employment"]["reason"] == "consent_missing"

    _consent(agency, referral_id, "employment", "granted")

    def coordinated() -> dict[str, Any] | None:
        found: dict[str, Any] = agency.get(f"/v1/referrals/{referral_id}").json()
        accepted = found["services"]["employment"]["status"] == "accepted"
        return found if found["status"] == "coordinated" and accepted else None

    view = wait_until(coordinated, timeout=10.0, message="the granted task was never coordinated")
    assert view["services"]["employment"]["detail"]["program"] == "Carpet weaving"

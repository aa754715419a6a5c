"""The duplicate check is no oracle: one organization learns nothing of another's cases from it.

An organization sending a name and a birth date used to learn at once whether
that person had an open case anywhere, and which referral it was (`closed`,
and a flag naming the case). Now a match with another organization's case
waits in review, told to no one but the operators (`korpu duplicates`); the
match cannot be dodged with invisible characters or look-alike letters; and a
name needs a visible letter.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from korpu_contracts import intake, referral, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import Service
from korpu_runtime.service import Service as RunningService
from referral import bootstrap
from referral.adapters import bus_keys, organizations, tables
from support import bus, cli
from support.infra import wait_for
from support.referrals import referral_body

POLICE = "Police anti-trafficking unit"
NGO = "Ganja shelter NGO"


@dataclass
class Agencies:
    """A running referral service and two organizations: the police and an NGO."""

    service: RunningService
    client: httpx.AsyncClient
    police: tuple[str, str]  # organization id, API key
    ngo: tuple[str, str]
    database_url: str
    data_dir: Path
    redis_url: str

    async def submit(self, body: dict[str, Any], by: tuple[str, str]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {by[1]}", "Idempotency-Key": uuid.uuid4().hex}
        return await self.client.post("/v1/referrals", json=body, headers=headers)

    async def get(self, path: str, by: tuple[str, str]) -> httpx.Response:
        return await self.client.get(path, headers={"Authorization": f"Bearer {by[1]}"})

    async def status_events(self, organization_id: str, referral_id: str) -> list[Envelope]:
        """The status events about one referral, once the relay has sent at least one."""
        found = await bus.wait_for_events(
            self.redis_url,
            streams.referral_status(organization_id),
            lambda events: any(e.data.get("referral_id") == referral_id for e in events),
            message="no status event for the referral",
        )
        return [
            e
            for e in found
            if e.data.get("organization_id") == organization_id
            and e.data.get("referral_id") == referral_id
        ]

    def korpu(self, *args: str) -> Any:
        return cli.korpu(
            *args, data_dir=self.data_dir, env={"REFERRAL_DATABASE_URL": self.database_url}
        )


@pytest.fixture
async def agencies(redis_db: str, database_url: str, tmp_path: Path) -> AsyncIterator[Agencies]:
    # Its own data directory: `korpu` run as a process finds the same keys there.
    settings = bootstrap.Settings(
        redis_url=redis_db,
        database_url=database_url,
        data_dir=tmp_path,
        consumer_name="referral-dups",
    )
    app = bootstrap.build_app(settings)
    service: RunningService = app.state.service
    async with app.router.lifespan_context(app):
        police = await service.db.run(lambda conn: organizations.create(conn, POLICE))
        ngo = await service.db.run(lambda conn: organizations.create(conn, NGO))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://referral") as client:
            yield Agencies(service, client, police, ngo, database_url, tmp_path, redis_db)


def _person(given: str, family: str, born: str = "2002-06-15", **more: Any) -> dict[str, Any]:
    body = referral_body(agency_reference=f"REF-{uuid.uuid4().hex[:8]}")
    body["person"] = {**body["person"], "given_name": given, "family_name": family,
                      "date_of_birth": born}  # fmt: skip
    body.update(more)
    return body


async def _in_review(agencies: Agencies) -> tuple[str, str]:
    """The police's open case, and the NGO's referral of the same person: (police's, NGO's)."""
    police = await agencies.submit(_person("Aygün", "Nəsirova"), agencies.police)
    assert police.status_code == 202, police.text
    ngo = await agencies.submit(_person("Aygun", "NESIROVA"), agencies.ngo)
    assert ngo.status_code == 202, ngo.text
    police_id: str = police.json()["id"]
    ngo_id: str = ngo.json()["id"]
    return police_id, ngo_id


async def test_another_organization_sending_a_person_learns_nothing_of_the_open_case(
    agencies: Agencies,
) -> None:
    police = await agencies.submit(_person("Aygün", "Nəsirova"), agencies.police)
    fresh = await agencies.submit(_person("Könül", "Bağırova"), agencies.ngo)
    matched = await agencies.submit(_person("Aygun", "NESIROVA"), agencies.ngo)
    police_id, fresh_id, matched_id = (a.json()["id"] for a in (police, fresh, matched))

    # The answer: the same code and shape as a fresh referral's, and a status that
    # any referral may have, never `closed` at once.
    assert (matched.status_code, fresh.status_code) == (202, 202)
    assert set(matched.json()) == set(fresh.json()) == {"id", "status"}
    assert set(matched.headers) == set(fresh.headers)
    assert matched.json()["status"] == "in_review"
    assert matched.headers["location"].endswith(matched_id)

    # The view: waiting, open, no link, no flag, no word of a duplicate.
    seen = await agencies.get(f"/v1/referrals/{matched_id}", agencies.ngo)
    view = seen.json()
    assert view["status"] == "in_review" and view["closed_at"] is None
    assert view["services"] == {} and view["flags"] == []
    assert [step["status"] for step in view["history"]] == ["received", "in_review"]
    assert "duplicate" not in seen.text and "possible" not in seen.text

    # Asking about the submission, or overruling a link it was never told of,
    # answers as it does for the fresh referral.
    own_person = await agencies.get(f"/v1/referrals/{matched_id}/person", agencies.ngo)
    assert own_person.status_code == 200
    overrule = "/v1/referrals/{}/not-a-duplicate"
    headers = {"Authorization": f"Bearer {agencies.ngo[1]}"}
    answers = [
        await agencies.client.post(overrule.format(referral_id), headers=headers)
        for referral_id in (matched_id, fresh_id)
    ]
    assert [a.status_code for a in answers] == [409, 409]
    assert answers[0].json()["detail"] == answers[1].json()["detail"]

    # Status events for the NGO: no id of the police's case, no flag, not closed.
    events = await agencies.status_events(agencies.ngo[0], matched_id)
    assert [e.data["status"] for e in events] == ["in_review"]
    assert all(e.data.get("flags") in (None, []) for e in events)
    for text in [matched.text, seen.text, *(a.text for a in answers), own_person.text,
                 *(e.to_json() for e in events)]:  # fmt: skip
        assert police_id not in text


@pytest.mark.parametrize(
    "family_name",
    [
        pytest.param("Nə\u200bsirova", id="zero-width-space"),
        pytest.param("Nəsi\u200drova", id="zero-width-joiner"),
        pytest.param("\u200fNəsirova", id="right-to-left-mark"),
        pytest.param("\u202dNəsirova\u202c", id="bidi-override"),
        pytest.param("Nəsir\u00adova", id="soft-hyphen"),
        pytest.param("Nəsir\u2060ova", id="word-joiner"),
        pytest.param("Nəsirova\ufe0f", id="variation-selector"),
        pytest.param("Nə\u034fsirova", id="grapheme-joiner"),
        pytest.param("N\u04d9sirova", id="cyrillic-schwa"),
        pytest.param("Nəsir\u043eva", id="cyrillic-o"),
        pytest.param("N\u0415SIROVA", id="cyrillic-capital-e"),
        pytest.param("Nəsir\u03bfva", id="greek-omicron"),
        pytest.param("N\u0395\u0405\u0406R\u041eVA", id="all-capitals-look-alike"),
    ],
)
async def test_invisible_characters_and_look_alike_letters_do_not_dodge_the_match(
    agencies: Agencies, family_name: str
) -> None:
    # Within one organization, where a match is told: linked to the open case.
    first = await agencies.submit(_person("Aygün", "Nəsirova"), agencies.police)
    dodging = await agencies.submit(_person("Aygün", family_name), agencies.police)
    assert dodging.status_code == 202, dodging.text
    assert dodging.json()["status"] == "closed"  # matched: coordinated nowhere
    view = (await agencies.get(f"/v1/referrals/{dodging.json()['id']}", agencies.police)).json()
    assert [flag["related_referral_id"] for flag in view["flags"]] == [first.json()["id"]]


@pytest.mark.parametrize(
    ("field", "name"),
    [
        pytest.param("given_name", "\u200b\u200b", id="zero-width-only"),
        pytest.param("family_name", "\u202e\u200f", id="bidi-controls-only"),
        pytest.param("given_name", "\u3164", id="hangul-filler"),
        pytest.param("family_name", "🌙 ⭐", id="emoji-only"),
        pytest.param("given_name", "\u0301\u0308", id="marks-only"),
        pytest.param("family_name", "--- 1990", id="no-letter"),
    ],
)
async def test_a_name_without_a_visible_letter_is_refused_naming_the_field(
    agencies: Agencies, field: str, name: str
) -> None:
    body = _person("Aygün", "Nəsirova")
    body["person"][field] = name
    answer = await agencies.submit(body, agencies.police)
    assert answer.status_code == 422, answer.text
    assert f"person.{field}" in {error["field"] for error in answer.json()["errors"]}

    # The same on the bus: the entry is answered with a refusal naming the field.
    keys = agencies.service.settings.keys_dir
    sealed = bus.submission(agencies.police[0], "bus-invisible", body, keys)
    command = sealed.model_dump(mode="json")
    envelope = {
        "id": str(uuid.uuid4()),
        "type": intake.SubmitReferral.TYPE,
        "dataschemaversion": intake.SubmitReferral.VERSION,
        "source": "agency/police",
        "time": "2026-12-07T10:00:00Z",
        "subject": "bus-invisible",
        "correlationid": "bus-invisible",
        "data": command,
    }
    police_id = agencies.police[0]
    agency_key = await agencies.service.db.run(lambda conn: bus_keys.create(conn, police_id))
    intake_stream = streams.intake(police_id)
    await agencies.service.redis.xadd(
        intake_stream,
        bus.agency_entry(intake_stream, json.dumps(envelope), agency_key),  # type: ignore[arg-type]
    )
    [reply] = await bus.wait_for_events(
        agencies.redis_url, streams.intake_replies(police_id), lambda found: len(found) >= 1
    )
    assert reply.type == referral.ReferralRejected.TYPE
    assert f"data.referral.person.{field}" in {e["field"] for e in reply.data["errors"]}

    def referrals(conn: sa.Connection) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(tables.referrals)).scalar())

    assert await agencies.service.db.run(referrals) == 0


async def test_an_operator_lists_matches_without_personal_data_and_closes_the_same_person(
    agencies: Agencies,
) -> None:
    police_id, ngo_id = await _in_review(agencies)

    listed = agencies.korpu("duplicates", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert (entry["referral_id"], entry["organization"]) == (ngo_id, NGO)
    assert (entry["matches_referral_id"], entry["matches_organization"]) == (police_id, POLICE)
    assert entry["strength"] == "strong" and entry["since"]
    table = agencies.korpu("duplicates", "list")
    assert ngo_id in table.stdout and police_id in table.stdout
    for shown in (listed.stdout, table.stdout):
        for personal in ("Aygün", "Aygun", "Nəsirova", "Nesirova", "2002-06-15"):
            assert personal.casefold() not in shown.casefold()

    resolved = agencies.korpu("duplicates", "resolve", ngo_id, "--same-person")
    assert resolved.returncode == 0, resolved.stderr

    seen = await agencies.get(f"/v1/referrals/{ngo_id}", agencies.ngo)
    view = seen.json()
    assert view["status"] == "closed" and view["closed_at"] is not None
    assert view["services"] == {} and view["flags"] == []
    assert view["history"][-1]["status"] == "closed"
    assert view["history"][-1]["reason"] == "duplicate"
    assert police_id not in seen.text

    async def closed_told() -> list[Envelope]:
        events = await agencies.status_events(agencies.ngo[0], ngo_id)
        return events if events[-1].data["status"] == "closed" else []

    events = await wait_for(closed_told, message="the closing was never told")
    assert all(police_id not in e.to_json() for e in events)
    assert _audited(agencies, ngo_id) == [("same_person", police_id)]
    again = agencies.korpu("duplicates", "resolve", ngo_id, "--different-people")
    assert again.returncode == 1 and "not waiting in review" in again.stderr
    assert json.loads(agencies.korpu("duplicates", "list", "--json").stdout) == []
    [decided] = json.loads(agencies.korpu("duplicates", "list", "--all", "--json").stdout)
    assert (decided["referral_id"], decided["state"]) == (ngo_id, "same_person")


async def test_an_operator_says_two_people_and_the_referral_is_coordinated_as_a_new_case(
    agencies: Agencies,
) -> None:
    police_id, ngo_id = await _in_review(agencies)

    resolved = agencies.korpu("duplicates", "resolve", ngo_id, "--different-people", "--json")
    assert resolved.returncode == 0, resolved.stderr
    assert json.loads(resolved.stdout)["status"] == "coordinating"

    view = (await agencies.get(f"/v1/referrals/{ngo_id}", agencies.ngo)).json()
    assert view["status"] == "coordinating" and view["flags"] == []
    assert {service: task["status"] for service, task in view["services"].items()} == {
        "shelter": "requested", "employment": "requested", "legal_aid": "requested"
    }  # fmt: skip
    # The providers are asked, by the running service's relay, as for any referral.
    requests = await bus.wait_for_events(
        agencies.redis_url,
        streams.REQUESTS_BY_SERVICE[Service.SHELTER],
        lambda found: any(e.subject == ngo_id for e in found),
        message="the shelter was never asked",
    )
    assert all(police_id not in e.to_json() for e in requests if e.subject == ngo_id)
    assert _audited(agencies, ngo_id) == [("different_people", police_id)]


def _audited(agencies: Agencies, referral_id: str) -> list[tuple[str, str]]:
    trail = agencies.korpu("audit", "--referral", referral_id, "--json")
    assert trail.returncode == 0, trail.stderr
    return [
        (entry["detail"]["resolution"], entry["detail"]["related_referral_id"])
        for entry in json.loads(trail.stdout)
        if entry["action"] == "duplicate_resolved" and entry["actor_kind"] == "operator"
    ]

"""The audit trail: every access to a victim's case leaves one entry, and none can be rewritten."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from korpu_contracts import referral
from referral.adapters import audit, organizations, tables
from referral.service_layer import erasure
from support import bus, cases
from support.referrals import ReferralService, referral_body

MARKER = "Qaraxanliaudit"
NOTES = f"Marker notes for {MARKER}: met at the border."


def _marked(**overrides: Any) -> dict[str, Any]:
    body = referral_body(notes=NOTES, **overrides)
    body["person"] = {**body["person"], "given_name": "Zarifa", "family_name": MARKER}
    return body


async def _trail(referral_service: ReferralService) -> list[sa.Row[Any]]:
    query = sa.select(tables.audit_log).order_by(tables.audit_log.c.id)
    return await referral_service.service.db.run(lambda conn: list(conn.execute(query)))


async def _key_id(referral_service: ReferralService, organization_id: str) -> str:
    keys = await referral_service.service.db.run(
        lambda conn: organizations.keys(conn, organization_id)
    )
    return keys[0].id


async def _other_organization(referral_service: ReferralService) -> str:
    caller = await referral_service.service.db.run(
        lambda conn: organizations.authenticate(conn, referral_service.other_key)
    )
    assert caller is not None
    return caller.organization_id


def _entry(row: sa.Row[Any]) -> tuple[str, str, str | None, str | None, str]:
    return (row.actor_kind, row.actor_id, row.organization_id, row.referral_id, row.action)


async def test_submitting_reading_the_case_and_the_person_and_withdrawing_leave_one_entry_each(
    referral_service: ReferralService,
) -> None:
    client, headers = referral_service.client, referral_service.headers()
    key_id = await _key_id(referral_service, referral_service.organization_id)
    organization_id = referral_service.organization_id

    referral_id = await cases.submit(referral_service, _marked(), "audit-1")
    # The same submission again stores and shows nobody: nothing to record.
    await cases.submit(referral_service, _marked(), "audit-1")
    assert (await client.get(f"/v1/referrals/{referral_id}", headers=headers)).status_code == 200
    person = await client.get(f"/v1/referrals/{referral_id}/person", headers=headers)
    assert person.status_code == 200
    assert person.json()["person"]["family_name"] == MARKER
    assert person.json()["notes"] == NOTES
    withdrawn = await client.post(f"/v1/referrals/{referral_id}/withdraw", headers=headers)
    assert withdrawn.status_code == 200

    by_key = ("api_key", key_id, organization_id, referral_id)
    assert [_entry(row) for row in await _trail(referral_service)] == [
        (*by_key, audit.SUBMITTED),
        (*by_key, audit.VIEWED),
        (*by_key, audit.PERSON_VIEWED),
        (*by_key, audit.WITHDRAWN),
    ]


async def test_a_referral_from_an_agency_system_on_the_bus_is_recorded_as_that_organization(
    referral_service: ReferralService,
) -> None:
    await referral_service.submit_on_bus("bus-audit", _marked(), "POL-7")
    replies = await bus.wait_for_events(
        referral_service.redis_url,
        referral_service.replies,
        lambda events: any(e.type == referral.ReferralAccepted.TYPE for e in events),
    )
    referral_id = replies[0].data["referral_id"]

    [row] = await _trail(referral_service)
    organization_id = referral_service.organization_id
    assert _entry(row) == ("bus", organization_id, organization_id, referral_id, audit.SUBMITTED)
    assert set(row.detail) == {"intake_entry_id"}


async def test_another_organization_probing_for_a_case_is_refused_and_recorded(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _marked(), "audit-2")
    other_id = await _other_organization(referral_service)
    other_key_id = await _key_id(referral_service, other_id)
    client, headers = referral_service.client, referral_service.headers(referral_service.other_key)
    missing = "00000000-0000-4000-8000-000000000000"

    for path in (f"/v1/referrals/{referral_id}", f"/v1/referrals/{referral_id}/person"):
        assert (await client.get(path, headers=headers)).status_code == 404
    assert (
        await client.post(f"/v1/referrals/{referral_id}/withdraw", headers=headers)
    ).status_code == 404
    assert (await client.get(f"/v1/referrals/{missing}", headers=headers)).status_code == 404
    # Whatever is typed in the path is not kept: it could be anything, a name even.
    assert (await client.get(f"/v1/referrals/{MARKER}", headers=headers)).status_code == 404

    refused = [row for row in await _trail(referral_service) if row.organization_id == other_id]
    assert [(row.actor_id, row.action) for row in refused] == [
        (other_key_id, audit.ACCESS_DENIED)
    ] * 5
    assert [(row.referral_id, row.detail["reason"]) for row in refused] == [
        (referral_id, "other_organization"),
        (referral_id, "other_organization"),
        (referral_id, "other_organization"),
        (missing, "no_such_referral"),
        (None, "no_such_referral"),
    ]


async def test_a_key_without_persons_read_is_refused_the_person_and_the_attempt_is_recorded(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _marked(), "audit-3")
    organization_id = referral_service.organization_id
    key_id, reader = await referral_service.service.db.run(
        lambda conn: organizations.create_key(conn, organization_id, (organizations.READ,))
    )

    answer = await referral_service.client.get(
        f"/v1/referrals/{referral_id}/person", headers=referral_service.headers(reader)
    )

    assert answer.status_code == 403
    assert answer.json()["missing_scope"] == "persons:read"
    assert MARKER not in answer.text
    last = (await _trail(referral_service))[-1]
    assert _entry(last) == ("api_key", key_id, organization_id, referral_id, audit.ACCESS_DENIED)
    assert last.detail == {"reason": "missing_scope", "scope": "persons:read"}


async def test_a_request_without_a_valid_key_leaves_no_entry(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _marked(), "audit-4")
    before = await _trail(referral_service)
    for key in ("korpu_not-a-key", ""):
        for path in (f"/v1/referrals/{referral_id}", f"/v1/referrals/{referral_id}/person"):
            answer = await referral_service.client.get(path, headers={"Authorization": key})
            assert answer.status_code == 401
    assert await _trail(referral_service) == before


async def test_an_erased_person_is_gone_for_the_organization_too_and_the_trail_stays(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _marked(), "audit-5")
    await referral_service.client.get(
        f"/v1/referrals/{referral_id}/person", headers=referral_service.headers()
    )
    operator = audit.operator()
    await referral_service.service.db.run(
        lambda conn: erasure.erase(conn, referral_id, erasure.Basis.ORDER, operator, "Court 7/26")
    )

    answer = await referral_service.client.get(
        f"/v1/referrals/{referral_id}/person", headers=referral_service.headers()
    )

    assert answer.status_code == 404
    trail = await _trail(referral_service)
    assert [row.action for row in trail] == [
        audit.SUBMITTED,
        audit.PERSON_VIEWED,
        erasure.PERSON_ERASED,
        audit.ACCESS_DENIED,
    ]
    assert trail[2].actor_kind == "operator" and "@" in trail[2].actor_id
    assert trail[3].detail == {"reason": "erased"}


async def test_the_trail_carries_no_personal_data(referral_service: ReferralService) -> None:
    client, headers = referral_service.client, referral_service.headers()
    referral_id = await cases.submit(referral_service, _marked(), "audit-6")
    await client.get(f"/v1/referrals/{referral_id}", headers=headers)
    await client.get(f"/v1/referrals/{referral_id}/person", headers=headers)
    await client.get(f"/v1/referrals/{MARKER}/person", headers=headers)
    await client.post(f"/v1/referrals/{referral_id}/withdraw", headers=headers)

    trail = await _trail(referral_service)
    assert len(trail) == 5
    person = _marked()["person"]
    personal = [MARKER, NOTES, person["given_name"], person["contact_phone"], "2001-04-12"]
    text = json.dumps([[str(value) for value in row] for row in trail], ensure_ascii=False)
    assert not [value for value in personal if value in text]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'nothing_happened'",
        "DELETE FROM audit_log",
    ],
)
async def test_the_database_refuses_to_change_or_delete_an_entry(
    referral_service: ReferralService, statement: str
) -> None:
    await cases.submit(referral_service, _marked(), "audit-7")
    before = await _trail(referral_service)

    with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"):
        await referral_service.service.db.run(lambda conn: conn.execute(sa.text(statement)))

    assert await _trail(referral_service) == before != []


async def test_postgresql_refuses_to_empty_the_trail_at_once(
    referral_service: ReferralService, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no TRUNCATE (its DELETE is refused above)")
    await cases.submit(referral_service, _marked(), "audit-8")

    with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only") as refused:
        await referral_service.service.db.run(
            lambda conn: conn.execute(sa.text("TRUNCATE audit_log"))
        )

    assert "TRUNCATE refused" in str(refused.value)
    assert len(await _trail(referral_service)) == 1

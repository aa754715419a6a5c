"""Erasure on a legal decision: the person is gone from every table and the file; the case stays."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from korpu_contracts import intake, referral
from korpu_contracts.vocabulary import Service, TaskStatus
from referral.adapters import audit, organizations, repository, sealing, tables
from referral.adapters import erasure as erasure_adapter
from referral.service_layer import erasure
from support import bus, cases
from support.referrals import ReferralService, referral_body

# ASCII on purpose: JSON written by agencies escapes other letters, and the scan
# must find the name however it was written.
MARKER = "Qaraxanlitestova"
NOTES = f"Marker notes for {MARKER}: met at the border, speaks of a debt."
OPERATOR = audit.Actor("operator", "prosecutor-desk@tests")


def _marked(**overrides: Any) -> dict[str, Any]:
    body = referral_body(notes=NOTES, **overrides)
    body["person"] = {**body["person"], "given_name": "Zarifa", "family_name": MARKER}
    return body


async def _submit_on_the_bus_after_a_rejected_try(referral_service: ReferralService) -> str:
    """The agency's system first sends a broken entry, then the same key fixed."""
    broken = _marked()
    broken["person"] = {**broken["person"], "sex": "woman"}
    organization_id = referral_service.organization_id
    envelope = {
        "id": "e-erase", "type": intake.SubmitReferral.TYPE,
        "dataschemaversion": intake.SubmitReferral.VERSION,
        "source": "agency/police", "time": "2026-11-26T10:00:00Z", "subject": "POL-7",
        "correlationid": "POL-7",
        "data": bus.submission(organization_id, "bus-erase", broken).model_dump(mode="json"),
    }  # fmt: skip
    redis = referral_service.service.redis
    key = referral_service.bus_key
    assert key is not None
    await redis.xadd(referral_service.intake, referral_service.signed(json.dumps(envelope)))
    # Someone else's rejected entry, which the erasure must leave alone.
    someone_else = {
        **broken, "notes": "Another",
        "person": {**broken["person"], "family_name": "Else", "contact_phone": "+994000000000"},
    }  # fmt: skip
    other = {
        **envelope, "id": "e-other",
        "data": bus.submission(organization_id, "other", someone_else).model_dump(mode="json"),
    }  # fmt: skip
    await redis.xadd(referral_service.intake, referral_service.signed(json.dumps(other)))
    await referral_service.submit_on_bus("bus-erase", _marked(), "POL-7")
    replies = await bus.wait_for_events(
        referral_service.redis_url,
        referral_service.replies,
        lambda events: any(e.type == referral.ReferralAccepted.TYPE for e in events),
    )
    accepted = next(e for e in replies if e.type == referral.ReferralAccepted.TYPE)
    return str(accepted.data["referral_id"])


def _every_value(conn: sa.Connection) -> list[str]:
    """Every column of every row of every table in the database, as text, and every
    sealed person and intake entry opened with the service's keys."""
    reflected = sa.MetaData()
    reflected.reflect(conn)
    found = []
    for table in reflected.sorted_tables:
        for row in conn.execute(sa.select(table)):
            for value in row:
                if isinstance(value, bytes | memoryview):
                    found.append(bytes(value).decode("utf-8", "replace"))
                elif isinstance(value, dict | list):
                    found.append(json.dumps(value, ensure_ascii=False))
                else:
                    found.append(str(value))
    keyring = sealing.of(conn)
    rejections = tables.intake_rejections
    for entry_id, raw in conn.execute(sa.select(rejections.c.entry_id, rejections.c.raw_entry)):
        found.append(keyring.open(raw, sealing.rejection_place(entry_id)))
    cases_repository = repository.ReferralRepository(conn)
    for referral_id in conn.execute(sa.select(tables.persons.c.referral_id)).scalars():
        found.append(json.dumps(cases_repository.person(referral_id), default=str))
    return found


def _stored_person(conn: sa.Connection, referral_id: str) -> list[bytes]:
    """The person's row as stored (clear or encrypted): its longer texts, as on disk."""
    row = conn.execute(
        sa.select(tables.persons).where(tables.persons.c.referral_id == referral_id)
    ).one()
    stored = [bytes(v) if isinstance(v, bytes | memoryview) else v for v in row]
    return [
        value if isinstance(value, bytes) else value.encode()
        for value in stored
        if isinstance(value, bytes | str) and len(value) >= 12 and value != referral_id
    ]


def _file_bytes(database_url: str) -> bytes:
    path = Path(sa.make_url(database_url).database or "")
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


async def _erase(
    referral_service: ReferralService, referral_id: str, reason: str = "Court order 12/2026"
) -> erasure.Erased:
    db = referral_service.service.db
    erased = await db.run(
        lambda conn: erasure.erase(conn, referral_id, erasure.Basis.ORDER, OPERATOR, reason)
    )
    erasure_adapter.checkpoint(db.engine)  # as `korpu erase` does
    return erased


async def test_an_erased_person_leaves_no_trace_in_the_database_and_the_case_still_reads(
    referral_service: ReferralService, database_url: str
) -> None:
    referral_id = await _submit_on_the_bus_after_a_rejected_try(referral_service)
    await cases.answer(referral_service, referral_id, Service.SHELTER, TaskStatus.ACCEPTED)
    await cases.wait_for_service_status(
        referral_service, referral_id, Service.SHELTER, TaskStatus.ACCEPTED
    )
    db = referral_service.service.db
    stored = await db.run(lambda conn: _stored_person(conn, referral_id))
    before = await db.run(_every_value)
    assert any(MARKER in value for value in before)  # the rejected try, at least
    sqlite = database_url.startswith("sqlite")
    if sqlite:
        on_disk = _file_bytes(database_url)
        assert stored and all(value in on_disk for value in stored)

    erased = await _erase(referral_service, referral_id)

    after = await db.run(_every_value)
    assert not [value for value in after if MARKER in value]
    assert any("Else" in value for value in after)  # another person's entry stays
    if sqlite:
        on_disk = _file_bytes(database_url)
        assert MARKER.encode() not in on_disk
        assert not [value for value in stored if value in on_disk]
    person = await db.run(lambda conn: repository.ReferralRepository(conn).person(referral_id))
    assert person is None

    organization_id = referral_service.organization_id
    _, person_reader = await db.run(
        lambda conn: organizations.create_key(conn, organization_id, (organizations.PERSONS,))
    )
    read_person = await referral_service.client.get(
        f"/v1/referrals/{referral_id}/person", headers=referral_service.headers(person_reader)
    )
    assert read_person.status_code in (404, 410)
    view = await cases.view(referral_service, referral_id)
    assert view["erased_at"] == erased.erased_at.isoformat()
    assert view["status"] == "coordinating"
    assert view["services"]["shelter"]["status"] == "accepted"  # assistance goes on
    last = view["history"][-1]
    assert (last["service"], last["status"], last["reason"]) == (None, "erased", "erasure_order")
    trail = await db.run(
        lambda conn: conn.execute(
            sa.select(tables.audit_log).where(tables.audit_log.c.action == "person_erased")
        ).all()
    )
    assert [(row.actor_kind, row.actor_id, row.referral_id) for row in trail] == [
        ("operator", "prosecutor-desk@tests", referral_id)
    ]
    assert trail[0].detail == {"basis": "erasure_order", "reason": "Court order 12/2026"}


async def test_erasing_twice_does_nothing_the_second_time(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _marked(), "twice")
    first = await _erase(referral_service, referral_id)
    second = await _erase(referral_service, referral_id)
    assert (first.before, second.before) == (False, True)
    assert second.erased_at == first.erased_at
    view = await cases.view(referral_service, referral_id)
    assert [entry["status"] for entry in view["history"]].count("erased") == 1


async def test_a_reason_naming_the_person_is_refused_and_nothing_is_erased(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _marked(), "named")
    with pytest.raises(erasure.ReasonNamesThePerson):
        await _erase(referral_service, referral_id, reason=f"Court order about {MARKER.lower()}")
    db = referral_service.service.db
    person = await db.run(lambda conn: repository.ReferralRepository(conn).person(referral_id))
    assert person is not None
    assert (await cases.view(referral_service, referral_id))["erased_at"] is None


async def test_an_unknown_referral_cannot_be_erased(referral_service: ReferralService) -> None:
    with pytest.raises(erasure.UnknownReferral):
        await _erase(referral_service, "00000000-0000-0000-0000-000000000000")

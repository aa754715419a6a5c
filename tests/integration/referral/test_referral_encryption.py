"""Personal data at rest: sealed in every table and on disk; a sealed value opens only in place."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from korpu_runtime import parking
from referral.adapters import sealing, tables
from referral.adapters.repository import ReferralRepository
from support.infra import wait_for
from support.referrals import ReferralService, referral_body

GIVEN, FAMILY = "Zümrüdsealtest", "Qxvsealtest"
PHONE, BORN = "+994551239876", "1987-11-23"
NOTES = "Kept in a flat on Nizamisealtest street, speaks of a debt."
MARKS = (GIVEN, FAMILY, PHONE, BORN, "Nizamisealtest")


def _forms(mark: str) -> set[str]:
    """As text could hold it: plain, JSON-escaped, decomposed."""
    return {mark, json.dumps(mark)[1:-1], unicodedata.normalize("NFD", mark)}


FORMS = {form.casefold() for mark in MARKS for form in _forms(mark)}


def _leaks(text: str) -> list[str]:
    folded = text.casefold()
    return sorted(form for form in FORMS if form in folded)


def _marked() -> dict[str, Any]:
    body = referral_body(notes=NOTES)
    body["person"] = {**body["person"], "given_name": GIVEN, "family_name": FAMILY,
                      "date_of_birth": BORN, "contact_phone": PHONE}  # fmt: skip
    return body


async def _store_the_person_everywhere_it_rests(referral_service: ReferralService) -> str:
    """A referral, a rejected intake entry and a parked dead letter, each naming the person."""
    answer = await referral_service.client.post(
        "/v1/referrals", json=_marked(), headers=referral_service.headers(idempotency="seal-1")
    )
    assert answer.status_code == 202, answer.text
    service = referral_service.service
    broken = {"id": "e-seal", "type": "korpu.intake.submit_referral", "data": _marked()}
    await service.redis.xadd(referral_service.intake, referral_service.signed(json.dumps(broken)))

    async def rejected() -> int:
        count = sa.select(sa.func.count()).select_from(tables.intake_rejections)
        found: int = await service.db.run(lambda conn: conn.execute(count).scalar_one())
        return found

    await wait_for(rejected, message="the broken intake entry was never kept")
    # As the redelivery does when an intake entry failed every delivery.
    await service._park("korpu.intake/1-0", json.dumps(broken).encode())
    referral_id: str = answer.json()["id"]
    return referral_id


def _sqlite_text(database_url: str) -> list[str]:
    """Every text and blob of every table, read with the plain sqlite3 module, and the files."""
    path = Path(sa.make_url(database_url).database or "")
    found = []
    with sqlite3.connect(path) as conn:
        names = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for name in names:
            for row in conn.execute(f'SELECT * FROM "{name}"'):
                found += [_text(value) for value in row if isinstance(value, str | bytes)]
    found += [p.read_bytes().decode("utf-8", "replace") for p in path.parent.glob(path.name + "*")]
    return found


def _postgres_text(database_url: str) -> list[str]:
    """Every text, JSON and bytea column of every table, through a plain psycopg connection."""
    url = sa.make_url(database_url).set(drivername="postgresql")
    found = []
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb', 'bytea')"
        ).fetchall()
        assert ("persons", "given_name") in columns
        for table, column in columns:
            rows = conn.execute(f'SELECT "{column}"::text FROM "{table}"').fetchall()
            found += [value for (value,) in rows if value is not None]
    return found


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


async def test_no_name_phone_birth_date_or_notes_rest_in_clear_anywhere(
    referral_service: ReferralService, database_url: str
) -> None:
    referral_id = await _store_the_person_everywhere_it_rests(referral_service)
    db = referral_service.service.db
    person = await db.run(lambda conn: ReferralRepository(conn).person(referral_id))
    assert person is not None  # read back in clear through the repository
    assert (person["given_name"], person["family_name"], person["contact_phone"]) == (
        GIVEN, FAMILY, PHONE,
    )  # fmt: skip
    assert str(person["date_of_birth"]) == BORN and person["notes"] == NOTES
    parked = tables.metadata.tables["parked_entries"]
    sealed_body = await db.run(lambda conn: conn.execute(sa.select(parked.c.body)).scalar_one())
    assert GIVEN.encode() not in bytes(sealed_body)

    if database_url.startswith("sqlite"):
        stored = _sqlite_text(database_url)
    else:
        stored = _postgres_text(database_url)
    assert any("seal-1" in text for text in stored)  # the scan sees what is in clear
    assert [leaks for text in stored if (leaks := _leaks(text))] == []

    body = await db.run(
        lambda conn: parking.take_back(conn, "korpu.intake/1-0", referral_service.service.sealer)
    )
    assert json.loads(body)["data"]["person"]["given_name"] == GIVEN  # opens for its replay


async def _sealed_row(referral_service: ReferralService, idempotency: str) -> dict[str, Any]:
    body = referral_body()
    body["person"] = {**body["person"], "given_name": f"Aysel-{idempotency}"}
    answer = await referral_service.client.post(
        "/v1/referrals", json=body, headers=referral_service.headers(idempotency=idempotency)
    )
    assert answer.status_code == 202, answer.text
    persons = tables.persons
    query = sa.select(persons).where(persons.c.referral_id == answer.json()["id"])
    row: dict[str, Any] = await referral_service.service.db.run(
        lambda conn: dict(conn.execute(query).one()._mapping)
    )
    return row


async def _set(referral_service: ReferralService, referral_id: str, **values: str) -> None:
    persons = tables.persons
    await referral_service.service.db.run(
        lambda conn: conn.execute(
            persons.update().where(persons.c.referral_id == referral_id).values(**values)
        )
    )


async def _open(referral_service: ReferralService, referral_id: str) -> str:
    with pytest.raises(sealing.CannotOpen) as refused:
        await referral_service.service.db.run(
            lambda conn: ReferralRepository(conn).person(referral_id)
        )
    return str(refused.value)


async def test_a_name_moved_to_another_referral_does_not_open_there(
    referral_service: ReferralService,
) -> None:
    first = await _sealed_row(referral_service, "move-1")
    second = await _sealed_row(referral_service, "move-2")
    await _set(referral_service, second["referral_id"], given_name=first["given_name"])
    error = await _open(referral_service, second["referral_id"])
    assert f"persons/{second['referral_id']}/given_name" in error and "moved" in error
    assert "Aysel" not in error


async def test_a_value_moved_to_another_column_or_altered_does_not_open(
    referral_service: ReferralService,
) -> None:
    row = await _sealed_row(referral_service, "alter-1")
    referral_id = row["referral_id"]
    await _set(referral_service, referral_id, family_name=row["given_name"])
    assert "family_name" in await _open(referral_service, referral_id)

    key_id, _, body = row["notes"].partition(":")
    altered = f"{key_id}:{body[:10]}{'A' if body[10] != 'A' else 'B'}{body[11:]}"
    await _set(referral_service, referral_id, family_name=row["family_name"], notes=altered)
    error = await _open(referral_service, referral_id)
    assert "notes" in error and "altered" in error and "debt" not in error

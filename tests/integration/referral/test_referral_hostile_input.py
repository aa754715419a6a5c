"""Hostile input (issue 4, point 11): names in any script, size limits and a fuzz of intake."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import hostile_bodies
import pytest
import sqlalchemy as sa

from referral.adapters import tables
from referral.adapters.repository import ReferralRepository
from referral.entrypoints import http
from support.referrals import ReferralService, referral_body

COUNTED = {
    "referrals": tables.referrals,
    "persons": tables.persons,
    "tasks": tables.tasks,
    "outbox": tables.outbox,
    "idempotency_keys": tables.idempotency_keys,
}
FUZZ_EXAMPLES = 400


async def _counts(referral_service: ReferralService) -> dict[str, int]:
    def count(conn: sa.Connection) -> dict[str, int]:
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in COUNTED.items()
        }

    counts: dict[str, int] = await referral_service.service.db.run(count)
    return counts


async def _stored_person(referral_service: ReferralService, referral_id: str) -> dict[str, Any]:
    # GET /v1/referrals/{id} never shows the person: read back as the service reads it.
    def person(conn: sa.Connection) -> dict[str, Any]:
        stored = ReferralRepository(conn).person(referral_id)
        assert stored is not None
        return stored

    stored: dict[str, Any] = await referral_service.service.db.run(person)
    return stored


async def _post(referral_service: ReferralService, content: bytes, key: str) -> Any:
    return await referral_service.client.post(
        "/v1/referrals",
        content=content,
        headers={**referral_service.headers(idempotency=key), "Content-Type": "application/json"},
    )


def _is_problem(answer: Any) -> bool:
    if answer.headers.get("content-type") != "application/problem+json":
        return False
    document = answer.json()
    return isinstance(document, dict) and document.get("status") == answer.status_code


NAMES = [
    pytest.param("Gülnarə", "Məmmədova", id="azerbaijani"),
    pytest.param("Elçin", "Şəkili Ağayev", id="azerbaijani-compound"),
    pytest.param("Айгюн", "Алиева", id="cyrillic"),
    pytest.param("عبد الله", "الحسيني", id="arabic"),
    pytest.param(unicodedata.normalize("NFD", "Gülnarə"), "Ağayev", id="nfd-combining"),
    pytest.param("Ayşe\u0301", "Nur 🌙", id="combining-and-emoji"),
    # Beside a letter: a name of emoji alone has nothing to read (test_contract_person_names).
    pytest.param("👩🏽‍⚕️ Aysel", "Əliyeva " + "🇦🇿" * 10, id="emoji-sequences"),
    pytest.param("Ə" * 100, "Ш" * 100, id="hundred-letters-each"),
]


@pytest.mark.parametrize(("given_name", "family_name"), NAMES)
async def test_a_name_in_any_script_is_stored_exactly_as_sent(
    referral_service: ReferralService, given_name: str, family_name: str
) -> None:
    body = referral_body(notes="Qeyd: Гянджа — بطاقة 🌙")
    body["person"] = {**body["person"], "given_name": given_name, "family_name": family_name}
    answer = await _post(referral_service, json.dumps(body, ensure_ascii=False).encode(), "name")
    assert answer.status_code == 202, answer.text
    read = await referral_service.client.get(
        answer.headers["Location"], headers=referral_service.headers()
    )
    assert read.status_code == 200
    stored = await _stored_person(referral_service, answer.json()["id"])
    assert (stored["given_name"], stored["family_name"]) == (given_name, family_name)
    assert stored["notes"] == "Qeyd: Гянджа — بطاقة 🌙"


async def test_a_name_of_101_letters_is_refused_and_nothing_is_written(
    referral_service: ReferralService,
) -> None:
    body = referral_body()
    body["person"] = {**body["person"], "family_name": "Ə" * 101}
    before = await _counts(referral_service)
    answer = await _post(referral_service, json.dumps(body).encode(), "long-name")
    assert answer.status_code == 422 and _is_problem(answer)
    assert await _counts(referral_service) == before


def _padded_to(size: int) -> bytes:
    """The example body, its notes padded so the encoded body is exactly `size` bytes."""
    empty = json.dumps(referral_body(notes="")).encode()
    return json.dumps(referral_body(notes="n" * (size - len(empty)))).encode()


async def test_a_body_at_the_limit_is_read_and_one_byte_more_is_413(
    referral_service: ReferralService,
) -> None:
    # The limit is checked before the schema: at the limit the 4000-character notes
    # are what refuses the body, one byte over it never reaches the schema.
    at_limit, over = _padded_to(http.MAX_BODY_BYTES), _padded_to(http.MAX_BODY_BYTES + 1)
    assert (len(at_limit), len(over)) == (http.MAX_BODY_BYTES, http.MAX_BODY_BYTES + 1)
    before = await _counts(referral_service)
    read = await _post(referral_service, at_limit, "at-limit")
    refused = await _post(referral_service, over, "over-limit")
    assert (read.status_code, refused.status_code) == (422, 413)
    assert _is_problem(read) and _is_problem(refused)
    assert await _counts(referral_service) == before


async def test_notes_of_4000_characters_in_two_byte_letters_are_accepted(
    referral_service: ReferralService,
) -> None:
    answer = await _post(
        referral_service, json.dumps(referral_body(notes="ə" * 4000)).encode(), "notes"
    )
    assert answer.status_code == 202, answer.text
    stored = await _stored_person(referral_service, answer.json()["id"])
    assert stored["notes"] == "ə" * 4000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("languages", ["az"] * 11, id="eleven-languages"),
        pytest.param("languages", ["az"] * 5000, id="five-thousand-languages"),
        pytest.param("contact_phone", "+" + "9" * 32, id="long-phone"),
        pytest.param("given_name", "a" * 60_000, id="name-of-60k"),
    ],
)
async def test_an_oversized_person_field_is_422_and_writes_nothing(
    referral_service: ReferralService, field: str, value: Any
) -> None:
    body = referral_body()
    body["person"] = {**body["person"], field: value}
    before = await _counts(referral_service)
    answer = await _post(referral_service, json.dumps(body).encode(), f"big-{field}")
    assert answer.status_code == 422 and _is_problem(answer), answer.status_code
    assert await _counts(referral_service) == before


@pytest.mark.parametrize(
    "needs",
    [
        pytest.param(["shelter", "employment", "legal_aid", "shelter"], id="repeated"),
        pytest.param(["shelter"] * 2000, id="two-thousand"),
    ],
)
async def test_too_many_needs_are_422_and_write_nothing(
    referral_service: ReferralService, needs: list[str]
) -> None:
    before = await _counts(referral_service)
    answer = await _post(referral_service, json.dumps(referral_body(needs=needs)).encode(), "needs")
    assert answer.status_code == 422 and _is_problem(answer)
    assert await _counts(referral_service) == before


async def _accepted_exactly_once(
    referral_service: ReferralService,
    body: dict[str, Any],
    before: dict[str, int],
    status: str = "",
) -> list[str]:
    """What is wrong after a 202: one referral, its person, one task per need.

    No task for a person drawn again while their first case is open: the new
    referral is linked to that case, closed, never coordinated twice.
    """
    after = await _counts(referral_service)
    grown = {name: after[name] - before[name] for name in ("referrals", "persons", "tasks")}
    tasks = 0 if status == "closed" else len(body["needs"])
    expected = {"referrals": 1, "persons": 1, "tasks": tasks}
    return [] if grown == expected else [f"202 wrote {grown}, expected {expected}"]


async def test_a_fuzz_of_the_intake_finds_no_500_and_no_half_referral(
    referral_service: ReferralService,
) -> None:
    failures: list[str] = []
    for number, body in enumerate(hostile_bodies.draw_bodies(FUZZ_EXAMPLES)):
        content = json.dumps(body, ensure_ascii=False).encode()
        before = await _counts(referral_service)
        try:
            answer = await _post(referral_service, content, f"fuzz-{number}")
        except Exception as error:  # ASGITransport re-raises what a server would answer as 500
            failures.append(f"raised {type(error).__name__}: {error!s:.120} for {content!r:.600}")
            status = 500
        else:
            status = answer.status_code
            if status == 202:
                failures += await _accepted_exactly_once(
                    referral_service, body, before, answer.json()["status"]
                )
                continue
            if status not in (400, 413, 422) or not _is_problem(answer):
                failures.append(f"answered {status} for {content!r:.600}")
        if await _counts(referral_service) != before:
            failures.append(f"{status} wrote rows for {content!r:.600}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("person", "given_name"), "Ay\x00sel", id="nul-in-name"),
        pytest.param(("notes",), "debt\x00", id="nul-in-notes"),
        pytest.param(("agency_reference",), "POL\x00", id="nul-in-reference"),
        pytest.param(("region",), "Ba\x00ku", id="nul-in-region"),
        pytest.param(("person", "contact_phone"), "+994\x00", id="nul-in-phone"),
        pytest.param(("person", "family_name"), "\u202eavodəmməM", id="bidi-override"),
    ],
)
async def test_a_control_character_is_stored_exactly_or_refused_never_a_500(
    referral_service: ReferralService, path: tuple[str, ...], value: str
) -> None:
    body = referral_body()
    body["person"] = dict(body["person"])
    parent = body["person"] if len(path) == 2 else body
    parent[path[-1]] = value
    before = await _counts(referral_service)
    answer = await _post(referral_service, json.dumps(body).encode(), "control")
    if answer.status_code == 202:
        assert (await _accepted_exactly_once(referral_service, body, before)) == []
        stored = await _stored_person(referral_service, answer.json()["id"])
        if path[0] == "person":
            assert stored[path[-1]] == value
    else:
        assert answer.status_code == 422 and _is_problem(answer)
        assert await _counts(referral_service) == before


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("person", "age_estimate"), "30", id="age-as-text"),
        pytest.param(("person", "age_estimate"), 30.5, id="age-as-fraction"),
        pytest.param(("person", "possibly_minor"), 1, id="minor-as-number"),
        pytest.param(("circumstances", "pregnant"), "yes", id="pregnant-as-text"),
        pytest.param(("circumstances", "accompanying_children"), True, id="children-as-bool"),
    ],
)
async def test_a_number_or_yes_no_of_the_wrong_type_is_refused_not_guessed(
    referral_service: ReferralService, path: tuple[str, str], value: Any
) -> None:
    body = referral_body()
    body[path[0]] = {**body.get(path[0], {}), path[1]: value}
    before = await _counts(referral_service)
    answer = await _post(referral_service, json.dumps(body).encode(), "strict")
    assert answer.status_code == 422 and _is_problem(answer)
    assert [error["field"] for error in answer.json()["errors"]] == [".".join(path)]
    assert await _counts(referral_service) == before

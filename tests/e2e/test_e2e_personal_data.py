"""A marked person goes through the whole system and is found only in the referral database."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from korpu import catalog
from korpu_contracts import intake, streams
from korpu_contracts.envelope import Envelope
from korpu_runtime.database import Database
from referral import bootstrap as referral_bootstrap
from referral.adapters import bus_keys, sealing
from support import bus
from support.infra import wait_until
from support.referrals import referral_body
from support.stack import running_stack

pytestmark = pytest.mark.slow

DIRECTORY: dict[str, list[dict[str, Any]]] = {
    "shelters": [{"name": "Baku Assistance Center", "region": "Baku", "serves": ["women"],
                  "beds": 1}],
    "programs": [{"name": "Tailoring", "region": "Baku", "seats": 5, "languages": ["az"],
                  "min_age": 16}],
    "lawyers": [{"name": "R. Quliyev", "regions": ["Baku"], "languages": ["az"],
                 "max_caseload": 5}],
}  # fmt: skip

GIVEN, FAMILY = "Zümrüdmarker", "Qxvmarker"
PHONE, BORN = "+994557130029", "1987-11-23"
NOTES = f"{FAMILY} was kept in a flat on Nizami street with {GIVEN}'s sister."
MARKS = (GIVEN, FAMILY, PHONE, BORN, "Nizami street")


def _forms(mark: str) -> set[str]:
    """The mark as text could meet it: plain, JSON-escaped, decomposed; compared case-folded."""
    forms = {mark, json.dumps(mark)[1:-1], unicodedata.normalize("NFD", mark)}
    return {form.casefold() for form in forms}


FORMS = set().union(*(_forms(mark) for mark in MARKS))


def _leaks(text: str) -> list[str]:
    folded = text.casefold()
    return sorted(form for form in FORMS if form in folded)


def _person(**overrides: Any) -> dict[str, Any]:
    person = {**referral_body()["person"], "given_name": GIVEN, "family_name": FAMILY,
              "date_of_birth": BORN, "contact_phone": PHONE}  # fmt: skip
    return {**person, **overrides}


def _marked(**overrides: Any) -> dict[str, Any]:
    return referral_body(**{"person": _person(), "notes": NOTES, **overrides})


# Each refused for values that sit next to the marked person, or are the mark itself.
INVALID_BODIES: dict[str, dict[str, Any]] = {
    "date of birth": _marked(person=_person(date_of_birth=f"{BORN[:5]}13-45")),
    "date of birth in the future": _marked(person=_person(date_of_birth="2999-01-01")),
    "note too long": _marked(notes=NOTES * 100),
    "name too long": _marked(person=_person(given_name=GIVEN * 20)),
    "nationality": _marked(person=_person(nationality=FAMILY)),
    "phone too long": _marked(person=_person(contact_phone=PHONE * 5)),
    "language": _marked(person=_person(languages=[GIVEN.lower()])),
    "sex": _marked(person=_person(sex=FAMILY)),
    "region": _marked(region=NOTES * 2),
    "need": _marked(needs=[GIVEN]),
    "reference": _marked(agency_reference=NOTES * 2),
    "age": _marked(person=_person(age_estimate=FAMILY)),
    "name as an unknown field": _marked(person={**_person(), FAMILY: GIVEN}),
    "name as a consent key": _marked(consent={GIVEN: "granted"}),
}
# A key the sender chose is input like any value: an agency mapping a form may send one.
KEYS_AS_NAMES = frozenset({"name as an unknown field", "name as a consent key"})


class Run:
    """What one run of the system left behind, and every HTTP answer it gave."""

    def __init__(self, data_dir: Path, redis_url: str) -> None:
        self.data_dir, self.redis_url = data_dir, redis_url
        self.answers: list[tuple[str, httpx.Response]] = []
        self.organization_id = ""  # the organization on the bus

    def keep(self, what: str, answer: httpx.Response) -> httpx.Response:
        self.answers.append((what, answer))
        return answer


def _envelope(organization_id: str, referral: dict[str, Any]) -> str:
    """An intake entry as an agency writes it: the referral sealed to the service's key."""
    keys = referral_bootstrap.Settings().keys_dir
    command = bus.submission(organization_id, str(uuid.uuid4()), referral, keys)
    return Envelope(
        id=str(uuid.uuid4()),
        type=intake.SubmitReferral.TYPE,
        dataschemaversion=intake.SubmitReferral.VERSION,
        source="e2e-agency",
        time="2026-01-01T00:00:00Z",  # type: ignore[arg-type]
        subject=str(uuid.uuid4()),
        correlationid=str(uuid.uuid4()),
        data=command.model_dump(mode="json"),
    ).to_json()


def _submit(run: Run, agency: httpx.Client, body: dict[str, Any], what: str) -> httpx.Response:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    return run.keep(what, agency.post("/v1/referrals", json=body, headers=key))


def _status(agency: httpx.Client, referral_id: str) -> str:
    status: str = agency.get(f"/v1/referrals/{referral_id}").json()["status"]
    return status


def _through_http(run: Run, agency: httpx.Client) -> None:
    placed = _submit(run, agency, _marked(), "accepted")
    assert placed.status_code == 202, placed.text
    # No birth date: with one, the same person again would be linked to the first
    # case as a duplicate and never coordinated, and there would be nothing to withdraw.
    second = _marked(agency_reference="POL-2026-0002",
                     person=_person(date_of_birth=None, age_estimate=30))  # fmt: skip
    withdrawn = _submit(run, agency, second, "to withdraw")
    assert withdrawn.status_code == 202, withdrawn.text
    for what, body in INVALID_BODIES.items():
        answer = _submit(run, agency, body, what)
        assert answer.status_code == 422, (what, answer.text)
    key = {"Idempotency-Key": "marked-key"}
    run.keep("first", agency.post("/v1/referrals", json=_marked(), headers=key))
    reused = run.keep(
        "key reused", agency.post("/v1/referrals", json=_marked(notes=GIVEN), headers=key)
    )
    assert reused.status_code == 422
    huge = run.keep("too large", agency.post(
        "/v1/referrals", json=_marked(notes=NOTES * 20_000), headers={"Idempotency-Key": "big"}
    ))  # fmt: skip
    assert huge.status_code in (413, 422)
    run.keep("no key", agency.post("/v1/referrals", json=_marked()))
    run.keep("bad json", agency.post(
        "/v1/referrals", content=f'{{"notes": "{NOTES}"', headers={"Idempotency-Key": "broken"}
    ))  # fmt: skip
    run.keep("wrong api key", agency.post(
        "/v1/referrals", json=_marked(), headers={"Authorization": f"Bearer {FAMILY}"}
    ))  # fmt: skip
    placed_id, withdrawn_id = placed.json()["id"], withdrawn.json()["id"]
    wait_until(lambda: _status(agency, placed_id) == "coordinated", timeout=15)
    wait_until(lambda: _status(agency, withdrawn_id) == "coordinated", timeout=15)
    run.keep("withdraw", agency.post(f"/v1/referrals/{withdrawn_id}/withdraw"))
    wait_until(lambda: _status(agency, withdrawn_id) == "withdrawn", timeout=15)
    run.keep("view", agency.get(f"/v1/referrals/{placed_id}"))
    run.keep("view withdrawn", agency.get(f"/v1/referrals/{withdrawn_id}"))


def _through_the_intake_stream(run: Run) -> None:
    organization_id, _ = referral_bootstrap.create_organization(
        referral_bootstrap.Settings(), "E2E bus agency"
    )
    entries = [
        _envelope(organization_id, _marked(agency_reference="BUS-1")),
        _envelope(organization_id, INVALID_BODIES["date of birth"]),
        _envelope(organization_id, INVALID_BODIES["note too long"]),
        _envelope(organization_id, INVALID_BODIES["nationality"]),
        _envelope(organization_id, INVALID_BODIES["name as an unknown field"]),
        _envelope(organization_id, INVALID_BODIES["name as a consent key"]),
        _envelope(str(uuid.uuid4()), _marked(agency_reference="BUS-2")),
        json.dumps({"type": intake.SubmitReferral.TYPE, "data": _marked()}),
        # In clear, as version 1 sent it: refused, and its person kept nowhere.
        Envelope.model_validate_json(_envelope(organization_id, _marked()))
        .model_copy(
            update={
                "dataschemaversion": 1,
                "data": {
                    "organization_id": organization_id,
                    "idempotency_key": "plain",
                    "referral": _marked(agency_reference="BUS-3"),
                },
            }
        )
        .to_json(),
        f'{{"given_name": "{GIVEN}", "notes": "{NOTES}"',
    ]
    settings = referral_bootstrap.Settings()
    bus_key = Database.once(
        settings.database_url,
        referral_bootstrap.METADATA,
        lambda conn: bus_keys.create(conn, organization_id),
    )
    client = redis.Redis.from_url(run.redis_url)
    intake_stream = streams.intake(organization_id)
    for raw in entries:
        client.xadd(intake_stream, bus.agency_entry(intake_stream, raw, bus_key))  # type: ignore[arg-type]
    run.organization_id = organization_id
    wait_until(
        lambda: client.xlen(streams.intake_replies(organization_id)) >= len(entries),
        timeout=15,
        message="every intake entry answered",
    )
    wait_until(lambda: client.xlen(intake_stream) == 0, timeout=10, message="intake emptied")


@pytest.fixture(scope="module")
def run(spare_redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The system, fed the marked person every way an agency can; stopped before the scans."""
    data_dir = tmp_path_factory.mktemp("e2e-personal-data")
    result = Run(data_dir, spare_redis_url)
    with running_stack(data_dir, spare_redis_url, DIRECTORY) as (_, agency):
        _through_http(result, agency)
        _through_the_intake_stream(result)
    yield result


def _redis_contents(redis_url: str) -> Iterator[tuple[str, bytes]]:
    """Every value of every key: streams (dead letters too), error hashes, anything else."""
    client = redis.Redis.from_url(redis_url)
    for raw_key in client.scan_iter():
        key = raw_key.decode("utf-8", errors="replace")
        kind = client.type(raw_key).decode()
        yield key, raw_key
        if kind == "stream":
            for entry_id, fields in client.xrange(raw_key):
                for name, value in fields.items():
                    yield f"{key} {entry_id.decode()}", name + b"=" + value
        elif kind == "hash":
            for name, value in client.hgetall(raw_key).items():
                yield key, name + b"=" + value
        elif kind == "string":
            yield key, client.get(raw_key) or b""
        elif kind == "list":
            yield from ((key, item) for item in client.lrange(raw_key, 0, -1))
        elif kind == "set":
            yield from ((key, item) for item in client.smembers(raw_key))
        elif kind == "zset":
            yield from ((key, item) for item in client.zrange(raw_key, 0, -1))


def test_no_stream_entry_or_other_redis_value_carries_the_person(run: Run) -> None:
    contents = list(_redis_contents(run.redis_url))
    keys = {key.split(" ")[0] for key, _ in contents}
    # The scan saw the traffic it should: coordination, intake replies, rejections.
    organization_id = run.organization_id
    replies, status = (
        streams.intake_replies(organization_id),
        streams.referral_status(organization_id),
    )
    assert {streams.SHELTER_UPDATES, replies, status} <= keys
    found = [(key, _leaks(value.decode("utf-8", errors="replace"))) for key, value in contents]
    assert [(key, leak) for key, leak in found if leak] == []


def test_no_log_line_carries_the_person(run: Run) -> None:
    logs = sorted((run.data_dir / "logs").glob("*.log"))
    assert {path.stem.split("-")[0] for path in logs} >= {"referral", "shelter"}
    found = [
        (path.name, number, _leaks(line))
        for path in logs
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
    ]
    assert [leak for leak in found if leak[2]] == []


def test_no_http_answer_carries_the_person(run: Run) -> None:
    refused = [answer for _, answer in run.answers if answer.status_code >= 400]
    assert len(refused) >= len(INVALID_BODIES) + 4
    found = [
        (what, answer.status_code, _leaks(answer.text))
        for what, answer in run.answers
        if what not in KEYS_AS_NAMES
    ]
    assert [leak for leak in found if leak[2]] == []


def test_a_name_sent_as_a_field_name_or_key_is_not_echoed_over_http(run: Run) -> None:
    found = [(what, _leaks(answer.text)) for what, answer in run.answers if what in KEYS_AS_NAMES]
    assert len(found) == len(KEYS_AS_NAMES)
    assert [leak for leak in found if leak[1]] == []


def test_no_database_holds_the_person_in_clear(run: Run) -> None:
    """Providers hold nothing of the person; the referral service holds it sealed."""
    for service in catalog.SERVICES:
        path = run.data_dir / f"{service}.db"
        assert path.exists(), path
        with sqlite3.connect(path) as conn:
            tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master "
                                                     "WHERE type = 'table'")]  # fmt: skip
            assert tables
            found = []
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    text = " ".join(
                        value.decode("utf-8", errors="replace")
                        if isinstance(value, bytes)
                        else str(value)
                        for value in row
                    )
                    if leak := _leaks(text):
                        found.append((service, table, leak))
        assert found == []


def test_the_referral_service_keeps_what_it_was_sent(run: Run) -> None:
    """The one place the person belongs: the scans above are not blind to where it is."""
    database = run.data_dir / "referral.db"
    with sqlite3.connect(database) as conn:
        rejected = list(conn.execute("SELECT entry_id, raw_entry FROM intake_rejections"))
    # Opened with the keys the demo generated into the data directory.
    keyring = referral_bootstrap.keyring(referral_bootstrap.Settings(data_dir=run.data_dir))
    opened = [keyring.open(raw, sealing.rejection_place(entry_id)) for entry_id, raw in rejected]
    assert any(_leaks(raw) for raw in opened)

"""`korpu erase` as an operator runs it on a court decision, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from korpu_contracts import intake
from korpu_runtime.database import Database
from korpu_runtime.unit_of_work import UnitOfWork
from referral import bootstrap
from referral.adapters import organizations, repository, tables
from referral.service_layer import coordinator
from support import cli
from support.referrals import referral_body

pytestmark = pytest.mark.slow
MARKER = "Qaraxanlitestova"


def _korpu(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return cli.korpu(*args, data_dir=data_dir, env={"REFERRAL_DATABASE_URL": database_url})


def _database(database_url: str, data_dir: Path) -> Database:
    """The referral database with the keys `korpu` finds in the same data directory."""
    settings = bootstrap.Settings(database_url=database_url, data_dir=data_dir)
    database = bootstrap.database(settings)
    database.create_schema(tables.metadata)
    return database


def _referral(database_url: str, data_dir: Path) -> str:
    body = referral_body()
    body["person"] = {**body["person"], "family_name": MARKER}
    request = intake.ReferralRequest.model_validate(body)

    def submit(conn: sa.Connection) -> str:
        organization_id, _ = organizations.create(conn, "Police")
        uow = UnitOfWork(conn, tables.outbox, tables.inbox)
        return coordinator.submit(uow, organization_id, "k", "h", request).referral_id

    database = _database(database_url, data_dir)
    try:
        return database.transaction(submit)
    finally:
        database.close()


def _person_and_history(
    database_url: str, data_dir: Path, referral_id: str
) -> tuple[object, list[str]]:
    def read(conn: sa.Connection) -> tuple[object, list[str]]:
        cases = repository.ReferralRepository(conn)
        return cases.person(referral_id), [row.status for row in cases.history(referral_id)]

    database = _database(database_url, data_dir)
    try:
        return database.transaction(read)
    finally:
        database.close()


def test_an_operator_erases_a_person_once_and_is_told_so_the_second_time(
    database_url: str, tmp_path: Path
) -> None:
    referral_id = _referral(database_url, tmp_path)
    reason = ("--reason", "Baku Grave Crimes Court decision 1(101)-77/2026")

    done = _korpu("erase", referral_id, *reason, database_url=database_url, data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Referral {referral_id}: personal data erased at" in done.stdout
    person, history = _person_and_history(database_url, tmp_path, referral_id)
    assert person is None and history.count("erased") == 1
    if database_url.startswith("sqlite"):
        path = Path(sa.make_url(database_url).database or "")
        on_disk = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert MARKER.encode() not in on_disk

    again = _korpu(
        "erase", referral_id, *reason, "--json", database_url=database_url, data_dir=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["erased_before"] is True
    assert _person_and_history(database_url, tmp_path, referral_id)[1].count("erased") == 1


def test_bad_input_and_unknown_referrals_exit_non_zero_with_one_line(
    database_url: str, tmp_path: Path
) -> None:
    referral_id = _referral(database_url, tmp_path)
    cases = [
        (("erase", str(uuid.uuid4()), "--reason", "Court order 1/2026"), 1),
        (("erase", "not-an-id", "--reason", "Court order 1/2026"), 2),
        (("erase", referral_id, "--reason", " "), 2),
        (("erase", referral_id, "--reason", f"Court order on {MARKER}"), 2),
    ]
    for args, code in cases:
        done = _korpu(*args, database_url=database_url, data_dir=tmp_path)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)
        assert "Traceback" not in done.stderr and MARKER not in done.stderr
        assert done.stdout == ""
    person, history = _person_and_history(database_url, tmp_path, referral_id)
    assert person is not None and "erased" not in history

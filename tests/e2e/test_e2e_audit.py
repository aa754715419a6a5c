"""`korpu audit` as an administrator runs it on the server: who touched a case, since when."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from korpu_runtime.database import Database
from referral.adapters import audit, tables
from support import cli

pytestmark = pytest.mark.slow

CASE = str(uuid.uuid4())
OTHER_CASE = str(uuid.uuid4())
POLICE = str(uuid.uuid4())
NGO = str(uuid.uuid4())


def _korpu(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return cli.korpu(*args, data_dir=data_dir, env={"REFERRAL_DATABASE_URL": database_url})


def _write_trail(database_url: str) -> None:
    """Two days of a case: submitted by the police, probed by an NGO, its person read today."""
    now = dt.datetime.now(dt.UTC)
    entries = [
        (now - dt.timedelta(days=2), "key-police", POLICE, CASE, audit.SUBMITTED),
        (now - dt.timedelta(days=2), "key-police", POLICE, OTHER_CASE, audit.SUBMITTED),
        (now - dt.timedelta(hours=3), "key-ngo", NGO, CASE, audit.ACCESS_DENIED),
        (now - dt.timedelta(minutes=5), "key-police", POLICE, CASE, audit.PERSON_VIEWED),
    ]
    rows = [
        {"at": at, "actor_kind": audit.API_KEY, "actor_id": key, "organization_id": org,
         "referral_id": case, "action": action, "detail": {}}
        for at, key, org, case, action in entries
    ]  # fmt: skip
    database = Database(database_url)
    try:
        database.create_schema(tables.metadata)
        database.transaction(lambda conn: conn.execute(tables.audit_log.insert(), rows))
    finally:
        database.close()


def test_an_administrator_reads_who_touched_a_case_oldest_first(
    database_url: str, tmp_path: Path
) -> None:
    _write_trail(database_url)

    everything = _korpu(
        "audit", "--referral", CASE, "--json", database_url=database_url, data_dir=tmp_path
    )
    assert everything.returncode == 0, everything.stderr
    shown = json.loads(everything.stdout)
    assert [(e["actor_id"], e["organization_id"], e["action"]) for e in shown] == [
        ("key-police", POLICE, audit.SUBMITTED),
        ("key-ngo", NGO, audit.ACCESS_DENIED),
        ("key-police", POLICE, audit.PERSON_VIEWED),
    ]
    assert {e["referral_id"] for e in shown} == {CASE}
    assert shown[0]["at"] < shown[1]["at"] < shown[2]["at"]

    today = _korpu(
        "audit", "--referral", CASE, "--since", "1d", "--json",
        database_url=database_url, data_dir=tmp_path,
    )  # fmt: skip
    assert today.returncode == 0, today.stderr
    assert [e["action"] for e in json.loads(today.stdout)] == [
        audit.ACCESS_DENIED,
        audit.PERSON_VIEWED,
    ]

    probes = _korpu(
        "audit", "--organization", NGO, "--action", audit.ACCESS_DENIED,
        database_url=database_url, data_dir=tmp_path,
    )  # fmt: skip
    assert probes.returncode == 0, probes.stderr
    lines = probes.stdout.splitlines()
    assert len(lines) == 2 and "key-ngo" in lines[1] and CASE in lines[1]


def test_the_trail_is_still_whole_after_an_attempt_to_rewrite_it(
    database_url: str, tmp_path: Path
) -> None:
    _write_trail(database_url)
    engine = sa.create_engine(database_url)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(tables.audit_log.delete().where(tables.audit_log.c.organization_id == NGO))
    finally:
        engine.dispose()

    listed = _korpu("audit", "--json", database_url=database_url, data_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--referral", "Aysel"), "--referral must be an id"),
        (("--since", "yesterday"), "cannot read 'yesterday' as a time"),
        (("--limit", "0"), "--limit must be at least 1"),
    ],
)
def test_a_wrong_filter_is_refused_naming_it(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'referral.db'}"
    refused = _korpu("audit", *args, database_url=url, data_dir=tmp_path)
    assert refused.returncode == 2
    assert message in refused.stderr and refused.stdout == ""

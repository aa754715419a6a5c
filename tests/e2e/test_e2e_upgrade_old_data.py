"""A data folder written by build 23a1693, the last before migrations, upgraded in place.

`tests/fixtures/data-23a1693/` was made by that build's `korpu demo` and a few
operator commands (its README says how). Copied, migrated with `korpu migrate`
and served by today's code, every row of every table is still there, every
person opens with the folder's own demo key, and the services go on working on it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from korpu import catalog
from korpu.embedded_redis import free_ports
from korpu.supervisor import Stack
from support import cli
from support.referrals import referral_body

FIXTURE = Path(__file__).parents[1] / "fixtures" / "data-23a1693"
DATABASES = ("referral", "shelter", "employment", "legal_aid")
# Each database's newest revision (services/<name>/src/<name>/adapters/migrations/).
HEADS = {
    "referral": "0004_webhooks",
    "shelter": "0003_tasks",
    "employment": "0003_tasks",
    "legal_aid": "0003_tasks",
}
# Who the old build's demo referred (its `korpu demo` samples), by agency reference.
PEOPLE = {
    "DEMO-001": ("Aysel", "Məmmədova", "2001-04-12"),
    "DEMO-002": ("Elvin", "Quliyev", None),  # born on 1 January, 15 years before the run
    "DEMO-003": ("Sergei", "Ivanov", "1988-09-30"),
    "DEMO-005": ("Demo", "Man 5", "1990-01-01"),
    "DEMO-006": ("Demo", "Man 6", "1990-01-01"),
    "DEMO-007": ("Demo", "Man 7", "1990-01-01"),
    "DEMO-008": ("AYSEL", "MEMMEDOVA", "2001-04-12"),
}
ERASED = "DEMO-004"  # withdrawn, then erased by `korpu erase`
WAITING = "DEMO-007"  # on the shelter's waitlist, first in line


def _rows(folder: Path) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Every row of every table of every database, as SQLite stores it."""
    found: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for name in DATABASES:
        with sqlite3.connect(folder / f"{name}.db") as conn:
            tables = [row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )]  # fmt: skip
            found[name] = {
                table: sorted(conn.execute(f'SELECT * FROM "{table}"'), key=repr)
                for table in tables
            }
    return found


def _json(done: Any) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_data_folder_of_build_23a1693_is_upgraded_in_place_with_every_case_intact(
    tmp_path: Path, redis_db: str
) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    data.chmod(0o700)
    before = _rows(data)
    assert "alembic_version" not in before["referral"]

    checked = cli.korpu("migrate", "--check", data_dir=data)
    assert checked.returncode == 1
    assert (
        f"referral   made before migrations, newest {HEADS['referral']}: run korpu migrate"
        in checked.stdout
    )
    assert _rows(data) == before  # a check changes nothing

    done = cli.korpu("migrate", data_dir=data)
    assert done.returncode == 0, done.stderr
    for name in DATABASES:
        upgraded = f"recognised as 0001, upgraded to {HEADS[name]}"
        assert f"{name:<11}made before migrations: {upgraded}" in done.stdout
    after = _rows(data)
    for name, tables in before.items():
        for table, rows in tables.items():
            # Every row as it was; a revision's new columns come after the old ones.
            kept = [row[: len(old)] for row, old in zip(after[name][table], rows, strict=True)]
            assert kept == rows, f"{name}.{table} changed"
        assert after[name]["alembic_version"] == [(HEADS[name],)]
    assert cli.korpu("migrate", "--check", data_dir=data).returncode == 0
    assert len(before["referral"]["referrals"]) == 8
    assert len(before["referral"]["audit_log"]) > 8
    assert len(before["shelter"]["tasks"]) == 7  # DEMO-008, a duplicate, has none

    # Today's key commands on yesterday's keys: the demo agency gets a new key,
    # the hotline's two keys (one revoked) are as they were.
    organizations = {
        o["name"]: o["id"] for o in _json(cli.korpu("org", "list", "--json", data_dir=data))
    }
    hotline_keys = _json(
        cli.korpu("org", "keys", "list", organizations["Hotline 152"], "--json", data_dir=data)
    )
    assert sorted(bool(k["revoked_at"]) for k in hotline_keys) == [False, True]
    agency_key = _json(
        cli.korpu(
            "org", "keys", "create", organizations["Demo police unit"], "--json", data_dir=data
        )
    )["api_key"]
    shelter_org = ("org", "create", "Baku case workers", "--provider", "shelter", "--json")
    case_worker = _json(cli.korpu(*shelter_org, data_dir=data))["api_key"]

    ports = free_ports(catalog.PROCESSES)
    with Stack(data, redis_url=redis_db, ports=ports) as stack:
        agency = httpx.Client(
            base_url=stack.processes["referral"].url,
            headers={"Authorization": f"Bearer {agency_key}"},
            timeout=10,
        )
        shelter = httpx.Client(
            base_url=stack.processes["shelter"].url,
            headers={"Authorization": f"Bearer {case_worker}"},
            timeout=10,
        )
        with agency, shelter:
            _every_case_reads_as_it_was(agency, shelter, before["referral"])
            first_aysel = next(
                row[0] for row in before["referral"]["referrals"] if row[2] == "DEMO-001"
            )
            _the_services_go_on(agency, first_aysel)

    audit = _json(cli.korpu("audit", "--limit", "1000", "--json", data_dir=data))
    kept = {(e["at"], e["action"], e["referral_id"]) for e in audit}
    assert len(kept) >= len(before["referral"]["audit_log"])
    assert {"referral_submitted", "referral_withdrawn", "person_erased"} <= {
        action for _, action, _ in kept
    }


def _every_case_reads_as_it_was(
    agency: httpx.Client, shelter: httpx.Client, old: dict[str, list[tuple[Any, ...]]]
) -> None:
    statuses = {row[0]: (row[2], row[3]) for row in old["referrals"]}  # id: (reference, status)
    for referral_id, (reference, status) in statuses.items():
        view = agency.get(f"/v1/referrals/{referral_id}")
        assert view.status_code == 200, view.text
        assert (view.json()["agency_reference"], view.json()["status"]) == (reference, status)
        person = agency.get(f"/v1/referrals/{referral_id}/person")
        if reference == ERASED:
            assert person.status_code == 404
            assert view.json()["erased_at"] is not None
            continue
        assert person.status_code == 200, person.text
        given, family, born = PEOPLE[reference]
        body = person.json()["person"]
        assert (body["given_name"], body["family_name"]) == (given, family)
        assert born is None or body["date_of_birth"] == born
        if reference == WAITING:
            answer = view.json()["services"]["shelter"]
            assert answer["status"] == "on-hold"
            assert answer["detail"]["waitlist_position"] == 1
    for task_id, referral_id, service, *_ in old["tasks"]:
        if service != "shelter":
            continue
        task = shelter.get(f"/v1/tasks/{task_id}")
        assert task.status_code == 200, task.text
        waiting = statuses[referral_id][0] == WAITING
        assert (task.json()["status"] == "on-hold") is waiting


def _referred(agency: httpx.Client, body: dict[str, Any], settled: set[str]) -> dict[str, Any]:
    # 255 characters: the column the baseline made for 200 was widened by 0002.
    key = body["agency_reference"].ljust(255, "K")
    made = agency.post("/v1/referrals", json=body, headers={"Idempotency-Key": key})
    assert made.status_code == 202, made.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view: dict[str, Any] = agency.get(f"/v1/referrals/{made.json()['id']}").json()
        if view["status"] in settled:
            return view
        time.sleep(0.2)
    raise AssertionError(f"still {view['status']} on an upgraded folder")


def _the_services_go_on(agency: httpx.Client, first_aysel: str) -> None:
    """Aysel sent again is found by the old build's duplicate fingerprint; someone new
    is coordinated with today's rules on yesterday's directory."""
    again = _referred(agency, referral_body(), {"closed"})
    assert [f["related_referral_id"] for f in again["flags"]] == [first_aysel]
    body = referral_body(agency_reference="NEW-1")
    body["person"] = {**body["person"], "given_name": "Leyla", "date_of_birth": "1995-03-03"}
    assert _referred(agency, body, {"coordinated"})["status"] == "coordinated"


def test_an_unknown_folder_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    with sqlite3.connect(data / "shelter.db") as conn:
        conn.execute("CREATE TABLE beds (id INTEGER PRIMARY KEY)")
    done = cli.korpu("migrate", "--service", "shelter", data_dir=data)
    assert done.returncode == 1
    assert "korpu migrate: shelter:" in done.stderr
    assert "missing: facilities" in done.stderr
    with sqlite3.connect(data / "shelter.db") as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert names == {"beds"}


def test_korpu_up_upgrades_an_old_data_folder_before_starting_the_services(
    tmp_path: Path, redis_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    ports = free_ports(catalog.PROCESSES)
    with Stack(data, redis_url=redis_db, ports=ports):
        said = capsys.readouterr().err
    for name in DATABASES:
        head = HEADS[name]
        upgraded = f"upgraded from 0001 (made before migrations) to {head}"
        assert f"korpu: {name} database {upgraded}" in said
        assert _rows(data)[name]["alembic_version"] == [(head,)]

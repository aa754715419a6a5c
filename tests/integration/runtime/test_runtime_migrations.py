"""Every service's schema is its migrations' work, on SQLite and PostgreSQL, one replica at a time.

A table or column declared in a service's tables without a revision fails
`test_after_upgrade_head_the_schema_is_what_the_tables_declare`: Alembic's
autogenerate comparison finds the difference.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from korpu import catalog
from korpu_runtime import migrations

SERVICES = catalog.SERVICES
# The services build 23a1693 had (its data folder: tests/fixtures): only their baselines
# recognise a database made before migrations. A provider added since has none to adopt
# (docs/adding-a-provider.md).
OLD_BUILD = Path(__file__).parents[2] / "fixtures" / "data-23a1693"
SERVICES_BEFORE_MIGRATIONS = [s for s in SERVICES if (OLD_BUILD / f"{s}.db").exists()]


def _metadata(service: str) -> sa.MetaData:
    found: sa.MetaData = importlib.import_module(f"{service}.adapters.tables").metadata
    return found


def _versions(service: str) -> Path:
    found = migrations.versions_of(_metadata(service))
    assert found is not None
    return found


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_after_upgrade_head_the_schema_is_what_the_tables_declare(
    service: str, database_url: str
) -> None:
    done = migrations.migrate(database_url, _versions(service))
    assert (done.before, done.adopted) == (None, False)
    assert done.after == migrations.status(database_url, _versions(service)).head
    assert migrations.differences(database_url, _metadata(service)) == []


@pytest.mark.parametrize("service", SERVICES)
def test_the_audit_trail_made_by_migrations_refuses_changes(
    service: str, database_url: str
) -> None:
    migrations.migrate(database_url, _versions(service))
    engine = sa.create_engine(database_url)
    subject = "referral_id" if service == "referral" else "task_id"
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"INSERT INTO audit_log (at, actor_kind, actor_id, {subject}, action, detail)"
                    " VALUES (CURRENT_TIMESTAMP, 'system', 'test', 'x', 'read', '{}')"
                )
            )
        for change in ("UPDATE audit_log SET action = 'other'", "DELETE FROM audit_log"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(sa.text(change))
    finally:
        engine.dispose()


@pytest.mark.parametrize("service", SERVICES_BEFORE_MIGRATIONS)
def test_a_database_made_by_build_23a1693_is_stamped_at_the_baseline_and_upgraded(
    service: str, database_url: str, tmp_path: Path
) -> None:
    """The baseline is that build's schema (checked against its create_all when
    written); made, then its history removed, it is what that build left behind."""
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    shutil.copy(next(_versions(service).glob("0001_*.py")), baseline)
    migrations.migrate(database_url, baseline)
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE alembic_version"))
    finally:
        engine.dispose()

    done = migrations.migrate(database_url, _versions(service))
    assert (done.before, done.adopted) == ("0001", True)
    assert done.after == migrations.status(database_url, _versions(service)).head
    assert migrations.differences(database_url, _metadata(service)) == []


@pytest.mark.parametrize("service", SERVICES_BEFORE_MIGRATIONS)
def test_a_database_made_by_a_build_between_23a1693_and_migrations_is_adopted(
    service: str, database_url: str
) -> None:
    """Such a build made today's tables with create_all: stamped at the baseline, its
    revisions after it make only what is missing."""
    engine = sa.create_engine(database_url)
    try:
        _metadata(service).create_all(engine)
    finally:
        engine.dispose()
    done = migrations.migrate(database_url, _versions(service))
    assert (done.before, done.adopted) == ("0001", True)
    assert migrations.differences(database_url, _metadata(service)) == []


def test_a_database_with_tables_it_does_not_know_is_refused_untouched(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE beds (id INTEGER PRIMARY KEY)"))
    finally:
        engine.dispose()
    with pytest.raises(migrations.SchemaError, match="missing: facilities, inbox, outbox"):
        migrations.migrate(database_url, _versions("shelter"))
    assert _tables(database_url) == {"beds"}


FAILING_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("things", sa.Column("size", sa.Integer(), nullable=True))
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    raise RuntimeError("a migration that fails half way")
"""
FIRST_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
RECOGNISED_BY = ("things",)


def upgrade() -> None:
    op.create_table("things", sa.Column("id", sa.Integer(), primary_key=True))
"""


def test_a_migration_that_fails_half_way_leaves_the_schema_as_it_was(
    database_url: str, tmp_path: Path
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "0001_things.py").write_text(FIRST_REVISION)
    assert migrations.migrate(database_url, versions).after == "0001"
    (versions / "0002_fails.py").write_text(FAILING_REVISION)
    migrations._script.cache_clear()  # a new revision while this process runs: tests only

    with pytest.raises(RuntimeError, match="half way"):
        migrations.migrate(database_url, versions)

    assert migrations.status(database_url, versions).revision == "0001"
    assert _tables(database_url) == {"alembic_version", "things"}
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("things")}
    finally:
        engine.dispose()
    assert columns == {"id"}


# Two `korpu migrate` processes told to start at the same instant, as two replicas would.
STARTER = """
import sys, time
from korpu import cli
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
cli.main(["migrate", "--service", "referral"])
"""


def test_two_processes_migrating_one_new_database_at_once_both_succeed(
    database_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "KORPU_DATA_DIR": str(tmp_path), "REFERRAL_DATABASE_URL": database_url}
    start_at = time.time() + 3  # both interpreters have imported everything by then
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(start_at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outcomes]
    said = sorted(out.strip() for out, _ in outcomes)
    # One made the schema; the other waited for its lock and found nothing to do.
    head = migrations.status(database_url, _versions("referral")).head
    assert said == [f"referral   at {head}, nothing to do", f"referral   new -> {head}"]
    assert migrations.differences(database_url, _metadata("referral")) == []

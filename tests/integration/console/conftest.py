"""The console as an operator meets it: its own process on a real port, real Redis, SQLite."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from korpu.embedded_redis import free_ports
from support.console import GONE, ConsoleProcess, running


@pytest.fixture(scope="module")
def console(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleProcess]:
    """`korpu serve console`, reading the run's test Redis, its accounts in a SQLite file.

    The run's data folder (its keys) is the console's: dead letters signed by the test's
    services (`support.bus`) are genuine to it.
    """
    port = free_ports(["console"])["console"]
    database = tmp_path_factory.mktemp("console") / "console.sqlite"
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CONSOLE_HTTP_PORT": str(port),
        "CONSOLE_DATABASE_URL": f"sqlite:///{database}",
        "CONSOLE_SERVICE_URLS": json.dumps({"shelter": GONE}),
        "CONSOLE_SESSION_IDLE_MINUTES": "30",
    }
    with running(env, port, database) as found:
        yield found

"""Fresh databases for each service of each run: SQLite files, or PostgreSQL databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from ordering_scenario import MakeUrl


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def make_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> MakeUrl:
    """`make_database_url(name)` -> the URL of a new, empty database (like `database_url`).

    A run needs four databases (one per service) and the test makes several runs,
    so it needs a factory rather than the one URL `database_url` gives.
    """
    if request.param == "postgres":
        # Looked up lazily so the SQLite run never needs a PostgreSQL server.
        make_postgres: MakeUrl = request.getfixturevalue("make_postgres_database")
        return make_postgres
    made: list[str] = []

    def make_sqlite(name: str) -> str:
        made.append(name)
        return f"sqlite:///{tmp_path / f'{len(made)}-{name}.sqlite'}"

    return make_sqlite

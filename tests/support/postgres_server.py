"""Which PostgreSQL the tests use, and the throwaway databases they create on it."""

from __future__ import annotations

import getpass
import os
import re
import secrets

import psycopg
import sqlalchemy
from psycopg import sql

ENV_VAR = "KORPU_TEST_POSTGRES_URL"
MISSING_MESSAGE = (
    "PostgreSQL is needed for the tests: install it (e.g. `apt-get install postgresql`) "
    "or set KORPU_TEST_POSTGRES_URL"
)
DATABASE_PREFIX = "korpu_test_"
MAX_IDENTIFIER_LENGTH = 63


def existing_admin_url() -> str | None:
    """The configured server, else the first local login that works; None if there is none."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return configured
    return next((url for url in _local_candidates() if answers(url)), None)


def _local_candidates() -> list[str]:
    users = dict.fromkeys(["postgres", getpass.getuser()])
    return [f"postgresql+psycopg://{user}@127.0.0.1:5432/postgres" for user in users]


def answers(url: str) -> bool:
    try:
        with psycopg.connect(conninfo(url), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def conninfo(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (`postgresql+psycopg://` -> `postgresql://`)."""
    parsed = sqlalchemy.make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def database_exists(admin_url: str, name: str) -> bool:
    with psycopg.connect(conninfo(admin_url)) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None


class DatabaseFactory:
    """Creates fresh databases on one server and drops every one of them afterwards."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def __call__(self, name_hint: str) -> str:
        name = database_name(name_hint)
        self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        url = sqlalchemy.make_url(self.admin_url).set(
            drivername="postgresql+psycopg", database=name
        )
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        # FORCE: a test that leaked a connection must not leave its database behind.
        while self.created:
            name = self.created.pop()
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            self._execute(drop.format(sql.Identifier(name)))

    def _execute(self, statement: sql.Composed) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction block.
        with psycopg.connect(conninfo(self.admin_url), autocommit=True) as conn:
            conn.execute(statement)


def database_name(hint: str) -> str:
    """`korpu_test_<hint>_<random>`, a valid unquoted identifier within PostgreSQL's limit."""
    suffix = "_" + secrets.token_hex(4)
    room = MAX_IDENTIFIER_LENGTH - len(DATABASE_PREFIX) - len(suffix)
    cleaned = re.sub(r"[^a-z0-9_]+", "_", hint.lower()).strip("_")[:room]
    return f"{DATABASE_PREFIX}{cleaned or 'db'}{suffix}"

"""Accounts: argon2id hashes, a lock after repeated failures, sessions that end, all audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from korpu.console import accounts, tables
from korpu.console.settings import ConsoleSettings
from korpu_runtime.database import Database

PASSWORD = "correct horse battery"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.create_schema(tables.METADATA)
    yield database
    database.close()


def _settings(**overrides: object) -> ConsoleSettings:
    return ConsoleSettings(**overrides)  # type: ignore[arg-type]


def _sign_in(db: Database, settings: ConsoleSettings, name: str, password: str) -> bool:
    def attempt(conn: sa.Connection) -> bool:
        try:
            accounts.sign_in(conn, settings, name, password)
        except accounts.SignInRefused:
            return False
        return True

    return db.transaction(attempt)


def _actions(db: Database) -> list[tuple[str, str | None, dict[str, object]]]:
    rows = db.transaction(
        lambda conn: conn.execute(
            sa.select(tables.TRAIL.table).order_by(tables.TRAIL.table.c.id)
        ).all()
    )
    return [(row.action, row.target, dict(row.detail)) for row in rows]


def test_a_password_is_kept_as_an_argon2id_hash_only(db: Database) -> None:
    db.transaction(lambda conn: accounts.create(conn, "aysel", accounts.Role.OPERATOR, PASSWORD))
    stored = db.transaction(
        lambda conn: conn.execute(sa.select(tables.users.c.password_hash)).scalar_one()
    )
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_repeated_failures_lock_the_account_even_against_the_right_password(
    db: Database,
) -> None:
    settings = _settings(lockout_failures=3, lockout_minutes=10)
    db.transaction(lambda conn: accounts.create(conn, "rashad", accounts.Role.VIEWER, PASSWORD))
    assert [_sign_in(db, settings, "rashad", "wrong password!") for _ in range(3)] == [False] * 3
    assert not _sign_in(db, settings, "rashad", PASSWORD)
    refusals = [detail["why"] for action, _, detail in _actions(db) if action == "sign_in_refused"]
    assert refusals == ["wrong_password", "wrong_password", "locked_now", "locked"]
    # A new password, set on the command line, lifts the lock.
    db.transaction(lambda conn: accounts.set_password(conn, "rashad", "another long one"))
    assert _sign_in(db, settings, "rashad", "another long one")


def test_a_success_resets_the_count_of_failures(db: Database) -> None:
    settings = _settings(lockout_failures=2)
    db.transaction(lambda conn: accounts.create(conn, "leyla", accounts.Role.VIEWER, PASSWORD))
    assert not _sign_in(db, settings, "leyla", "wrong password!")
    assert _sign_in(db, settings, "leyla", PASSWORD)
    assert not _sign_in(db, settings, "leyla", "wrong password!")
    assert _sign_in(db, settings, "leyla", PASSWORD)


def test_an_unknown_name_and_a_disabled_account_are_refused_alike(db: Database) -> None:
    settings = _settings()
    db.transaction(lambda conn: accounts.create(conn, "elvin", accounts.Role.OPERATOR, PASSWORD))
    db.transaction(lambda conn: accounts.disable(conn, "elvin"))
    assert not _sign_in(db, settings, "elvin", PASSWORD)
    assert not _sign_in(db, settings, "nobody", PASSWORD)
    whys = [detail["why"] for action, _, detail in _actions(db) if action == "sign_in_refused"]
    assert whys == ["disabled", "unknown_name"]


def test_a_session_ends_when_idle_too_long_and_at_sign_out(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(session_idle_minutes=30)
    db.transaction(lambda conn: accounts.create(conn, "nigar", accounts.Role.VIEWER, PASSWORD))
    session, token = db.transaction(
        lambda conn: accounts.sign_in(conn, settings, "nigar", PASSWORD)
    )
    assert session.expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=8)
    assert db.transaction(lambda conn: accounts.session(conn, settings, token)) is not None
    # 29 minutes later the session lives (and is seen again); 31 idle minutes after that, not.
    start = dt.datetime.now(dt.UTC)
    monkeypatch.setattr(accounts, "_now", lambda: start + dt.timedelta(minutes=29))
    assert db.transaction(lambda conn: accounts.session(conn, settings, token)) is not None
    monkeypatch.setattr(accounts, "_now", lambda: start + dt.timedelta(minutes=60))
    assert db.transaction(lambda conn: accounts.session(conn, settings, token)) is None
    monkeypatch.undo()
    session, token = db.transaction(
        lambda conn: accounts.sign_in(conn, settings, "nigar", PASSWORD)
    )
    db.transaction(lambda conn: accounts.sign_out(conn, token, session.user))
    assert db.transaction(lambda conn: accounts.session(conn, settings, token)) is None


def test_a_weak_password_or_an_odd_name_is_refused(db: Database) -> None:
    with pytest.raises(accounts.AccountError, match="12 to 1024"):
        db.transaction(lambda conn: accounts.create(conn, "kamran", accounts.Role.VIEWER, "short"))
    with pytest.raises(accounts.AccountError, match="lower-case"):
        db.transaction(
            lambda conn: accounts.create(conn, "Ka mran", accounts.Role.VIEWER, PASSWORD)
        )


def test_the_audit_trail_cannot_be_rewritten(db: Database) -> None:
    db.transaction(lambda conn: accounts.create(conn, "tural", accounts.Role.VIEWER, PASSWORD))
    with pytest.raises(sa.exc.DatabaseError):
        db.transaction(lambda conn: conn.execute(tables.TRAIL.table.delete()))

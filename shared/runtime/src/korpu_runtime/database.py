"""A service's own database: a synchronous SQLAlchemy engine driven from asyncio.

Rejected: SQLAlchemy's async engine. Over aiosqlite it makes about eight thread
round trips per small transaction (DESIGN.md); here a whole unit of work runs in
one hop to a worker thread, with the sync driver (sqlite3 or psycopg).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")


def _sqlite_engine(url: sa.URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin,
        # so savepoints work (SQLAlchemy's documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that
        # later upgrades can fail with "database is locked" instead of waiting.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """The engine plus the worker threads that run units of work on it."""

    def __init__(self, url: str, *, workers: int | None = None) -> None:
        parsed = sa.make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(parsed)
        else:
            self.engine = sa.create_engine(parsed, pool_size=8, max_overflow=4, pool_pre_ping=True)
        # SQLite has one writer at a time: a second thread would only wait on the lock.
        count = workers or (1 if self.is_sqlite else 4)
        self._executor = ThreadPoolExecutor(max_workers=count, thread_name_prefix="db")

    def create_schema(self, metadata: sa.MetaData) -> None:
        metadata.create_all(self.engine)

    def transaction(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction, synchronously (CLI, tests)."""
        with self.engine.begin() as conn:
            return work(conn)

    async def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction on a worker thread; the caller's log context follows."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._executor, context.run, self.transaction, work)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.SQLAlchemyError:
            return False
        return True

    @classmethod
    def once(cls, url: str, metadata: sa.MetaData, work: Callable[[Connection], T]) -> T:
        """Open, create the schema, run `work` in one transaction, close: for the CLI."""
        database = cls(url)
        try:
            database.create_schema(metadata)
            return database.transaction(work)
        finally:
            database.close()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()

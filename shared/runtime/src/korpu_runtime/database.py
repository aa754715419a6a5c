"""A service's own database: a synchronous SQLAlchemy engine driven from asyncio.

Rejected: SQLAlchemy's async engine. Over aiosqlite it makes about eight thread
round trips per small transaction (docs/faststream-on-redis.md); here a whole unit of work runs in
one hop to a worker thread, with the sync driver (sqlite3 or psycopg).
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from korpu_runtime import migrations

T = TypeVar("T")


def sqlite_engine(url: sa.URL, secure_delete: bool, foreign_keys: bool = True) -> Engine:
    """An engine whose every transaction takes SQLite's write lock first (BEGIN IMMEDIATE).

    `foreign_keys=False` for migrations only: a batch operation copies a table,
    drops it and renames the copy, which the checks would refuse while rows of
    other tables point at it (Alembic's documented advice for SQLite).
    """
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: an error's text never carries a statement's values (a person).
    engine = sa.create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin,
        # so savepoints work (SQLAlchemy's documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if foreign_keys:
            cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if secure_delete:
            # A deleted row's bytes are zeroed, not left in a free block of the file
            # for anyone reading it raw: an erased person must be gone from the disk
            # too. Rejected: VACUUM after each erasure, which rewrites the whole file;
            # and zeroing in every database, which cost the intake a fifth of its
            # rate in `benchmarks/run` where no person is ever stored.
            cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that
        # later upgrades can fail with "database is locked" instead of waiting.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


GROUP_LIMIT = 64
# Any constant will do: it only has to be the same in every replica.
SCHEMA_LOCK_KEY = 0x6B6F7270


def create_schema(conn: Connection, metadata: sa.MetaData) -> None:
    """Create missing tables, one process at a time: for tables without migrations (tests).

    A service's own tables are migrated (`korpu_runtime.migrations`), never made here.
    On PostgreSQL, replicas starting together would each find a table missing and
    race to create it; the loser fails on a duplicate type. A transaction-scoped
    advisory lock makes them take turns. SQLite's write lock already does.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
    metadata.create_all(conn)


@dataclasses.dataclass
class _Queued(Generic[T]):
    work: Callable[[Connection], T]
    context: contextvars.Context
    future: asyncio.Future[T]

    def run_in_savepoint(self, conn: Connection) -> tuple[bool, Any]:
        try:
            with conn.begin_nested():
                return True, self.context.run(self.work, conn)
        except Exception as error:
            return False, error

    def settle(self, ok: bool, value: Any) -> None:
        loop = self.future.get_loop()
        if ok:
            loop.call_soon_threadsafe(_resolve, self.future, value)
        else:
            loop.call_soon_threadsafe(_fail, self.future, value)


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


class Database:
    """The engine plus the worker threads that run units of work on it."""

    def __init__(
        self, url: str, *, workers: int | None = None, secure_delete: bool = False
    ) -> None:
        """`secure_delete`: on SQLite, zero what is deleted (a database holding persons)."""
        parsed = sa.make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = sqlite_engine(parsed, secure_delete)
        else:
            self.engine = sa.create_engine(
                parsed, pool_size=8, max_overflow=4, pool_pre_ping=True, hide_parameters=True
            )
        # SQLite has one writer at a time: a second thread would only wait on the lock.
        count = workers or (1 if self.is_sqlite else 4)
        self._executor = ThreadPoolExecutor(max_workers=count, thread_name_prefix="db")
        self._queued: collections.deque[_Queued[Any]] = collections.deque()

    def create_schema(self, metadata: sa.MetaData) -> migrations.Migrated | None:
        """Bring the schema to what `metadata` declares: by its migrations when it has
        them (`migrations.attach`), else by creating what is missing (None)."""
        from korpu_runtime import migrations  # it imports this module for its engine

        versions = migrations.versions_of(metadata)
        if versions is None:
            self.transaction(lambda conn: create_schema(conn, metadata))
            return None
        return migrations.migrate(self.url, versions)

    def transaction(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction, synchronously (CLI, tests)."""
        with self.engine.begin() as conn:
            return work(conn)

    async def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction on a worker thread; the caller's log context follows."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._executor, context.run, self.transaction, work)

    async def run_grouped(self, work: Callable[[Connection], T]) -> T:
        """Like `run`, but shares one commit with the other grouped work queued meanwhile.

        Under load, many requests each waiting for the one writer become one
        transaction with a savepoint apiece (group commit): one failing request
        rolls back alone. Rejected: a transaction per request, whose commit and
        thread hop cost more than the request's own statements.
        """
        loop = asyncio.get_running_loop()
        queued: _Queued[T] = _Queued(work, contextvars.copy_context(), loop.create_future())
        self._queued.append(queued)
        if len(self._queued) == 1:
            loop.run_in_executor(self._executor, self._run_queued)
        return await queued.future

    def _run_queued(self) -> None:
        # Runs until the queue is empty; a drain scheduled meanwhile finds nothing to do.
        while self._queued:
            group: list[_Queued[Any]] = []
            while self._queued and len(group) < GROUP_LIMIT:
                group.append(self._queued.popleft())
            outcomes: list[tuple[bool, Any]] = []
            try:
                with self.engine.begin() as conn:
                    outcomes = [queued.run_in_savepoint(conn) for queued in group]
            except Exception as error:
                outcomes = [(False, error)] * len(group)
            for queued, (ok, value) in zip(group, outcomes, strict=True):
                queued.settle(ok, value)

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

"""Every service's schema, brought up to date by Alembic migrations, one process at a time.

The machinery is here once: one Alembic environment (`migration_env/env.py`, which
calls `run_environment`), `migrate(url, versions_dir)`, and the autogenerate
comparison the tests use. A service holds only its versions folder, attached to
its table metadata (`attach`), so whatever opens its database (the service at
start, `korpu migrate`, `korpu up`, a CLI command) migrates it the same way.

Replicas starting together: the whole upgrade runs in one transaction that first
takes a lock: `pg_advisory_xact_lock` on PostgreSQL, SQLite's write lock (BEGIN
IMMEDIATE) on SQLite. The second replica waits, then finds the schema at head
and does nothing. Both databases roll DDL back with the transaction, so a
migration that fails leaves the schema as it was.
Rejected: a lock file beside the database (nothing to share on PostgreSQL, and
left behind by a killed process); Alembic's own transaction per migration (a
replica could read the schema half way).

A database made before migrations (build 23a1693 and after it, until this
module) has tables and no `alembic_version`: when it holds every table its
baseline revision names (`RECOGNISED_BY` in the revision without a parent), it
is stamped at that baseline and upgraded from there. Anything else is refused
with the tables it lacks: never guessed at.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from korpu_runtime import database

ENVIRONMENT = Path(__file__).parent / "migration_env"
# Where a metadata keeps its versions folder (`attach`).
_INFO_KEY = "korpu_migrations"
# The name the baseline revision gives the tables a database made before
# migrations must hold to be recognised.
RECOGNISED_BY = "RECOGNISED_BY"
# Any constant will do: it only has to be the same in every replica, and differ
# from `database.SCHEMA_LOCK_KEY` (test tables) only for clarity.
MIGRATION_LOCK_KEY = 0x6B6F7271


class SchemaError(RuntimeError):
    """The database cannot be brought to the current schema; the text says why."""


@dataclasses.dataclass(frozen=True)
class Migrated:
    before: str | None  # the revision found (None: a new database)
    after: str | None
    adopted: bool  # made before migrations, stamped at the baseline first

    @property
    def changed(self) -> bool:
        return self.before != self.after or self.adopted


def attach(metadata: sa.MetaData, versions_dir: Path) -> None:
    """Declare that `metadata`'s schema is made by the revisions in `versions_dir`."""
    metadata.info[_INFO_KEY] = versions_dir


def versions_of(metadata: sa.MetaData) -> Path | None:
    found = metadata.info.get(_INFO_KEY)
    return found if isinstance(found, Path) else None


def migrate(url: str, versions_dir: Path) -> Migrated:
    """Upgrade the database at `url` to the newest revision in `versions_dir`.

    Safe to call from any number of processes at once, and cheap when there is
    nothing to do. Raises `SchemaError` for a database it does not recognise.
    """
    engine = _engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            _lock(conn)
            script = _script(str(versions_dir))
            adopted = _adopt_unversioned(conn, script)
            before = _current(conn)
            if before != script.get_current_head():
                command.upgrade(_config(versions_dir, conn), "head")
                _check_references(conn)
            after = _current(conn)
    finally:
        engine.dispose()
    return Migrated(before, after, adopted)


@dataclasses.dataclass(frozen=True)
class Status:
    revision: str | None  # None: no migration history
    head: str | None
    has_tables: bool  # with no revision: made before migrations (or not ours)

    @property
    def current(self) -> bool:
        return self.revision == self.head


def status(url: str, versions_dir: Path) -> Status:
    """Where the database stands against the newest revision in `versions_dir`; changes nothing."""
    head = _script(str(versions_dir)).get_current_head()
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return Status(None, head, False)  # connecting would make the file
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            current = _current(conn)
            has_tables = bool(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
    return Status(current, head, has_tables)


def differences(url: str, metadata: sa.MetaData) -> list[Any]:
    """What Alembic's autogenerate finds between the database and `metadata` (empty: none)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts=_options(metadata))
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def new_revision(metadata: sa.MetaData, message: str, revision_id: str) -> Path:
    """Write the next revision of `metadata`'s versions folder, autogenerated.

    Compares the metadata with a scratch SQLite database upgraded to the current
    head, so no real database is needed; read and adjust what it wrote (a rename
    is seen as a drop and an add, server defaults and triggers are not seen).
    """
    versions_dir = versions_of(metadata)
    if versions_dir is None:
        raise SchemaError("these tables have no versions folder (migrations.attach)")
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'head.db'}"
        migrate(url, versions_dir)
        engine = _engine(url)
        try:
            with engine.connect() as conn, conn.begin():
                config = _config(versions_dir, conn, metadata)
                _format_with_ruff(config)
                written = command.revision(
                    config, message=message, autogenerate=True, rev_id=revision_id
                )
        finally:
            engine.dispose()
    scripts = written if isinstance(written, list) else [written]
    return Path(str(scripts[0].path)) if scripts and scripts[0] is not None else versions_dir


def _format_with_ruff(config: Config) -> None:
    # In a developer's environment, the revision comes out in the project's style.
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return
    config.set_section_option("post_write_hooks", "hooks", "ruff_format")
    config.set_section_option("post_write_hooks", "ruff_format.type", "exec")
    config.set_section_option("post_write_hooks", "ruff_format.executable", ruff)
    config.set_section_option(
        "post_write_hooks", "ruff_format.options", "format REVISION_SCRIPT_FILENAME"
    )


def run_environment(context: EnvironmentContext) -> None:
    """The body of the one `env.py`: run on the connection `migrate` opened and locked."""
    config = context.config
    connection: Connection = config.attributes["connection"]
    context.configure(connection=connection, **_options(config.attributes.get("metadata")))
    # The connection is already in `migrate`'s transaction: Alembic runs inside it.
    with context.begin_transaction():
        context.run_migrations()


def _options(metadata: sa.MetaData | None) -> dict[str, Any]:
    # Batch mode, so that an autogenerated ALTER works on SQLite (it copies the
    # table); compare_type, so a column's new length is seen as a change.
    return {"target_metadata": metadata, "render_as_batch": True, "compare_type": True}


def _engine(url: str) -> Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return database.sqlite_engine(parsed, secure_delete=True, foreign_keys=False)
    return sa.create_engine(parsed, poolclass=NullPool, hide_parameters=True)


def _lock(conn: Connection) -> None:
    # SQLite: the engine's BEGIN IMMEDIATE already holds the write lock.
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def _check_references(conn: Connection) -> None:
    # SQLite's foreign keys were off while tables were copied (database.sqlite_engine):
    # a row pointing nowhere now fails the migration, rolled back, rather than a
    # write later on.
    if conn.dialect.name == "sqlite" and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
        raise SchemaError("after migrating, some rows point at rows that do not exist")


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


@functools.cache
def _script(versions_dir: str) -> ScriptDirectory:
    # Read once per process: the revisions do not change while it runs.
    return ScriptDirectory.from_config(_base_config(Path(versions_dir)))


def _base_config(versions_dir: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ENVIRONMENT))
    config.set_main_option("version_locations", str(versions_dir))
    # `0003_what_it_does.py`: the order is readable in a listing.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return config


def _config(versions_dir: Path, conn: Connection, metadata: sa.MetaData | None = None) -> Config:
    config = _base_config(versions_dir)
    config.attributes["connection"] = conn
    config.attributes["metadata"] = metadata
    return config


def _adopt_unversioned(conn: Connection, script: ScriptDirectory) -> bool:
    """Stamp a database made before migrations at the baseline; False when there is none."""
    tables = set(sa.inspect(conn).get_table_names())
    if "alembic_version" in tables or not tables:
        return False
    base = script.get_base()
    baseline = script.get_revision(base) if base is not None else None
    recognised = set(getattr(baseline.module, RECOGNISED_BY, ())) if baseline else set()
    missing = sorted(recognised - tables)
    if not recognised or missing:
        raise SchemaError(
            "this database has tables but no migration history, and is not one the "
            f"baseline recognises (missing: {', '.join(missing) or 'a baseline'}); "
            "it was made by a build older than 23a1693 or by something else"
        )
    MigrationContext.configure(conn).stamp(script, str(base))
    return True

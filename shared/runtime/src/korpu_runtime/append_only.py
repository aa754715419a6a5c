"""Tables the database itself keeps append-only: triggers that refuse UPDATE and DELETE.

Created with the table (an `after_create` DDL event), so no code path, CLI or
hand-typed statement through the application's connection can rewrite history.
Rejected: relying on the code never updating (one careless statement would do
it, silently); a PostgreSQL role without UPDATE and DELETE grants (the service
connects as the owner of its tables, which keeps every right, and SQLite has no
grants at all). A database superuser can still drop a trigger: the trail
guards against the application and its operators' mistakes, not against the DBA.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

MESSAGE = "is append-only: entries are never changed or deleted"


def protect(table: sa.Table) -> None:
    """Refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) on `table` once it exists."""

    def created(_table: sa.Table, conn: Connection, **_: Any) -> None:
        create_triggers(conn, table.name)

    sa.event.listen(table, "after_create", created)


def create_triggers(conn: Connection, name: str) -> None:
    """The triggers on the table `name`, now; kept if there (a migration calls this too)."""
    refusal = f"{name} {MESSAGE}"
    statements = {"sqlite": _sqlite(name, refusal), "postgresql": _postgresql(name, refusal)}
    for statement in statements.get(conn.dialect.name, []):
        conn.exec_driver_sql(statement)


def _sqlite(name: str, refusal: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {name}_no_{verb.lower()} BEFORE {verb} ON {name} "
        f"BEGIN SELECT RAISE(ABORT, '{refusal}'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def _postgresql(name: str, refusal: str) -> list[str]:
    function = (
        f"CREATE OR REPLACE FUNCTION {name}_refuse_change() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN "
        f"RAISE USING MESSAGE = '{refusal} (' || TG_OP || ' refused)', "
        f"ERRCODE = 'insufficient_privilege'; END $$"
    )
    return [
        function,
        f"CREATE OR REPLACE TRIGGER {name}_no_change BEFORE UPDATE OR DELETE ON {name} "
        f"FOR EACH ROW EXECUTE FUNCTION {name}_refuse_change()",
        # A row trigger never sees TRUNCATE, which empties the table in one stroke.
        f"CREATE OR REPLACE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_refuse_change()",
    ]

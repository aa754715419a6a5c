"""A directory of caseworkers (`caseworkers`: legal aid's lawyers, the counsellors) in SQL.

`directory_columns` and `task_columns` are its tables' columns; `Caseloads` holds the
directory's statements, built once per table; `CaseworkerEntry` is a seed entry. A
provider adds its own columns to the directory (`children`). The provider's methods
built on them: `caseworker_provider`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import pydantic
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import intake, regions
from korpu_provider import caseworkers
from korpu_provider.tasks import Row

W = TypeVar("W", bound=caseworkers.Caseworker)

# The columns every caseworker has; any other column of the directory (`children`) is
# passed to the provider's entry as it is stored.
_COMMON = frozenset({"id", "name", "regions", "languages", "max_caseload", "caseload"})

Language = Annotated[str, pydantic.Field(min_length=2, max_length=16)]


def directory_columns(*own: sa.Column[Any]) -> list[sa.Column[Any]]:
    """A caseworkers directory's columns (after the kit's id and name), then its own.

    `caseload` counts open cases. New columns at every call: a column belongs to one table.
    """
    return [
        sa.Column("regions", sa.JSON, nullable=False),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("max_caseload", sa.Integer, nullable=False),
        sa.Column("caseload", sa.Integer, nullable=False, default=0),
        *own,
    ]


def task_columns(holds: str, directory: str) -> list[sa.Column[Any]]:
    """The tasks' own columns for caseworkers: coarse attributes only (languages,
    is_child, with the kit's region), enough to decide again for the waitlist, never
    who the person is; the caseworker held (`holds`, an id of `directory`), whether an
    interpreter was needed, and the outcome."""
    return [
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("is_child", sa.Boolean, nullable=False),
        sa.Column(holds, sa.ForeignKey(f"{directory}.id"), nullable=True),
        sa.Column("interpreter_needed", sa.Boolean, nullable=True),
        sa.Column("outcome", sa.String(500), nullable=True),
    ]


class CaseworkerEntry(pydantic.BaseModel):
    """One caseworker as written in a seed file's section.

    Strict, so a misspelt field is an error, never a silently missing one.
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = pydantic.Field(min_length=1, max_length=200)
    # Names or codes the gazetteer knows; stored as codes (korpu_contracts.regions).
    regions: list[intake.Region] = pydantic.Field(min_length=1)
    # At least one: an empty list would quietly send an interpreter with every case.
    languages: list[Language] = pydantic.Field(min_length=1)
    max_caseload: int = pydantic.Field(ge=0, le=1000)


class OverAllocation(RuntimeError):
    """A caseworker at the cap was given a case: a bug, so the whole entry is undone."""


class Caseloads(Generic[W]):
    """One directory of caseworkers: locked reads, caseloads taken and freed, loads by name."""

    def __init__(self, table: sa.Table, entry: Callable[..., W]) -> None:
        self._entry = entry
        self._own = [column.name for column in table.c if column.name not in _COMMON]
        c = table.c
        self._table = table
        # Every entry, in id order, so two replicas never lock in two orders and deadlock.
        # Rejected: locking only the entries of one region, which needs a JSON query per
        # dialect and lets a batch that touches two regions lock in two orders. On SQLite
        # FOR UPDATE is left out; its single writer serialises anyway.
        self._locked = sa.select(table).order_by(c.id).with_for_update()
        self._all = sa.select(table).order_by(c.id)
        self._by_name = sa.select(table).order_by(c.name)
        self._id_by_name = sa.select(c.id).where(c.name == sa.bindparam("b_name"))
        # The cap is checked again in SQL: a second guard should the lock ever be skipped.
        self._take = (
            table.update()
            .where(c.id == sa.bindparam("b_id"), c.caseload < c.max_caseload)
            .values(caseload=c.caseload + 1)
        )
        self._release = (
            table.update()
            .where(c.id == sa.bindparam("b_id"), c.caseload > 0)
            .values(caseload=c.caseload - 1)
        )

    def directory(self, conn: Connection, *, lock: bool) -> dict[str, W]:
        return {row.id: self._of(row) for row in conn.execute(self._locked if lock else self._all)}

    def take(self, conn: Connection, entry_id: str) -> None:
        if conn.execute(self._take, {"b_id": entry_id}).rowcount != 1:
            raise OverAllocation(entry_id)

    def release(self, conn: Connection, entry_id: str) -> None:
        conn.execute(self._release, {"b_id": entry_id})

    def upsert(self, conn: Connection, entry: CaseworkerEntry) -> bool:
        """Add or update by name, keeping the caseload; True when added."""
        values = entry.model_dump(exclude={"name"})
        found = conn.execute(self._id_by_name, {"b_name": entry.name}).scalar_one_or_none()
        if found is not None:
            conn.execute(self._table.update().where(self._table.c.id == found).values(**values))
            return False
        new = {"id": str(uuid.uuid4()), "name": entry.name, "caseload": 0, **values}
        conn.execute(self._table.insert().values(**new))
        return True

    def view(self, conn: Connection) -> list[dict[str, Any]]:
        """The case workers' view of the directory, by name, as loaded, with each caseload."""
        return [
            {**row._asdict(), "free": max(row.max_caseload - row.caseload, 0)}
            for row in conn.execute(self._by_name)
        ]

    def _of(self, row: Row) -> W:
        return self._entry(
            id=row.id,
            name=row.name,
            regions=frozenset(region(value) for value in row.regions),
            languages=fold(row.languages),
            max_caseload=row.max_caseload,
            caseload=row.caseload,
            **{name: row._mapping[name] for name in self._own},
        )


# Languages are compared case-blind. Rejected: exact match, which would turn a
# capital letter into an interpreter sent for nothing.
def fold(values: Sequence[str]) -> frozenset[str]:
    return frozenset(value.casefold() for value in values)


def region(value: str) -> str:
    """A region as its code (korpu_contracts.regions), a name stored before codes included."""
    return regions.code_or_as_sent(value)

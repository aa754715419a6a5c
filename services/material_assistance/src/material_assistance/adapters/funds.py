"""The fund directory in SQL: locked reads, allowances held and given back, loads by name."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from material_assistance.adapters import tables
from material_assistance.domain import model, money

_table = tables.funds
_c = _table.c
# Every fund in one fixed order, so two replicas never lock in two orders and deadlock.
# SQLite ignores FOR UPDATE; its single writer (BEGIN IMMEDIATE) serialises anyway.
_LOCKED = sa.select(_table).order_by(_c.id).with_for_update()
_ALL = sa.select(_table).order_by(_c.id)
_BY_NAME = sa.select(_table).where(_c.name == sa.bindparam("b_name"))
# The budget is checked again in SQL: a second guard should the lock ever be skipped.
_TAKE = (
    _table.update()
    .where(_c.id == sa.bindparam("b_id"), _c.committed + _c.amount_per_person <= _c.budget)
    .values(committed=_c.committed + _c.amount_per_person)
    .returning(_c.amount_per_person)
)
_GIVEN_BACK = sa.bindparam("b_amount", type_=sa.BigInteger)
# What the task holds, never below zero; not the allowance now, which a seed may have changed.
_RELEASE = (
    _table.update()
    .where(_c.id == sa.bindparam("b_id"))
    .values(committed=sa.case((_c.committed > _GIVEN_BACK, _c.committed - _GIVEN_BACK), else_=0))
)
_HOLD = (
    tables.tasks.update()
    .where(tables.tasks.c.task_id == sa.bindparam("b_task_id"))
    .values(amount=sa.bindparam("b_amount"), currency=sa.bindparam("b_currency"))
)


class OverAllocation(RuntimeError):
    """A fund without enough left was asked to pay: a bug, so the whole entry is undone."""


class CurrencyChanged(ValueError):
    """A seed entry changes the currency of a fund whose allowances hold money."""


def directory(conn: Connection, *, lock: bool) -> dict[str, model.Fund]:
    return {row.id: model.Fund(**row._mapping) for row in conn.execute(_LOCKED if lock else _ALL)}


def take(conn: Connection, fund: model.Fund, request: model.AllowanceRequest) -> None:
    """One allowance more committed, and held by the task in its own columns."""
    paid = conn.execute(_TAKE, {"b_id": fund.id}).scalar_one_or_none()
    if paid is None:
        raise OverAllocation(fund.id)
    hold = {"b_task_id": request.task_id, "b_amount": paid, "b_currency": fund.currency}
    conn.execute(_HOLD, hold)


def release(conn: Connection, fund_id: str, amount: int) -> None:
    conn.execute(_RELEASE, {"b_id": fund_id, "b_amount": amount})


def upsert(conn: Connection, values: dict[str, Any]) -> bool:
    """Add the fund, or update the one with its name, keeping what it has committed.

    Another currency for a fund that holds money is refused: its budget and what it
    committed would be counted in two currencies. Rejected: converting, which needs a
    rate nobody gave.
    """
    found = conn.execute(_BY_NAME, {"b_name": values["name"]}).first()
    if found is None:
        conn.execute(_table.insert().values(id=str(uuid.uuid4()), committed=0, **values))
        return True
    if found.currency != values["currency"] and found.committed > 0:
        held = money.Amount(found.committed, found.currency)
        raise CurrencyChanged(
            f"{found.name!r}.currency: the fund holds {held} {held.currency} in allowances,"
            f" so its currency stays {held.currency} ({values['currency']} refused)"
        )
    conn.execute(_table.update().where(_c.id == found.id).values(**values))
    return False


def view(conn: Connection, waiting: Iterable[model.AllowanceRequest]) -> list[dict[str, Any]]:
    """The case workers' view of the funds, by name, money as exact decimal strings."""
    people = list(waiting)
    return [
        {
            "id": fund.id,
            "name": fund.name,
            "region": fund.region,
            "currency": fund.currency,
            "budget": str(fund.money(fund.budget)),
            "committed": str(fund.money(fund.committed)),
            "remaining": str(fund.money(fund.remaining)),
            "amount_per_person": str(fund.allowance),
            "allowances_left": fund.allowances_left,
            # People waiting whom this fund could pay: where more budget would help.
            "waiting": sum(1 for request in people if model.serves(fund, request)),
        }
        for fund in sorted(directory(conn, lock=False).values(), key=lambda f: f.name)
    ]

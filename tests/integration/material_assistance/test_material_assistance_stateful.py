"""Any order of requests, cancellations, completions, budget and allowance changes keeps the
money right: what a fund committed is exactly what its allowances hold, nobody is paid past
a budget, nobody waits while their region's fund can pay, and the line is kept.

Hypothesis drives the real handlers and tables on a SQLite file of its own per example,
and after every step reads the database to check each promise.
"""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import strategies as st
from hypothesis.stateful import rule

from korpu_contracts.vocabulary import TaskStatus
from material_assistance.adapters import funds as fund_table
from material_assistance.adapters import tables
from material_assistance.bootstrap import SERVICE
from material_assistance.domain import model
from support import provider_machine

REGIONS = ["Baku", "Ganja"]
# Small allowances and budgets of a few manats (`change_capacity` draws budgets of 0 to 3),
# so that funds run out, are refilled and cut; the amounts differ, so refunds must be exact.
ALLOWANCES = ["1.00", "0.50", "1.50", "0.75"]
# Money held by a task: committed (accepted, in progress) or paid (completed).
HELD = (TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED)

people = st.fixed_dictionaries(
    {
        "region": st.sampled_from(REGIONS),
        "is_child": st.booleans(),
        "sex": st.sampled_from(["female", "male"]),
        "age_years": st.integers(min_value=14, max_value=40),
        "languages": st.just(["az"]),
    }
)
funds = st.lists(
    st.fixed_dictionaries(
        {
            "region": st.sampled_from(REGIONS),
            "budget": st.integers(min_value=0, max_value=3),
            "amount_per_person": st.sampled_from(ALLOWANCES),
            "currency": st.just("AZN"),
        }
    ),
    min_size=1,
    max_size=3,
)


class MaterialAssistanceMachine(provider_machine.ProviderMachine):
    provider = provider_machine.on_the_kit(SERVICE, tables, unit="Fund", capacity="budget")
    people = people
    entries_drawn = funds

    @rule(data=st.data(), amount=st.sampled_from(ALLOWANCES))
    def change_allowance(self, data: st.DataObject, amount: str) -> None:
        """The allowance changes; what the tasks already hold does not."""
        index = data.draw(st.integers(min_value=0, max_value=len(self.entries) - 1))
        self.entries[index] = {**self.entries[index], "amount_per_person": amount}
        self._reload()

    def check(self, conn: sa.Connection) -> None:
        by_id = fund_table.directory(conn, lock=False)
        rows = list(conn.execute(sa.select(tables.tasks)))
        now = {task.task_id: str(task.status) for task in rows if task.region is not None}
        paid_now = {t for t, s in now.items() if s in HELD and self.before.get(t) not in HELD}
        waiting = [
            SERVICE.provider.request_of(task) for task in rows if task.status == TaskStatus.ON_HOLD
        ]
        for fund in by_id.values():
            holding = [t for t in rows if t.status in HELD and t.fund_id == fund.id]
            assert fund.committed == sum(t.amount for t in holding), "committed is what is held"
            assert all(t.currency == fund.currency for t in holding)
            paid_here = [t for t in holding if t.task_id in paid_now]
            if paid_here:
                assert fund.committed <= fund.budget, "nobody is paid past the budget"
                assert all(t.amount == fund.amount_per_person for t in paid_here)
            for task in paid_here:
                person = SERVICE.provider.request_of(task)
                assert person.region == fund.region, "paid where the referral asks"
                # In order: nobody waiting before, still waiting, whom this fund serves, came first.
                assert not [
                    w
                    for w in waiting
                    if self.before.get(w.task_id) == TaskStatus.ON_HOLD
                    and model.serves(fund, w)
                    and provider_machine.priority(w) < provider_machine.priority(person)
                ]
        for person in waiting:
            able = [f.name for f in by_id.values() if model.serves(f, person) and f.has_room]
            assert not able, "nobody waits while a fund of their region can pay"
        told = self.last_answers(conn)
        every_fund = list(by_id.values())
        for task in rows:
            if task.region is None:
                continue  # a cancellation still waiting for its request
            assert told[task.task_id]["status"] == task.status, "the referrer knows the status"
            if task.status == TaskStatus.ON_HOLD:
                person = SERVICE.provider.request_of(task)
                place = provider_machine.position(person, waiting, every_fund, model.serves)
                assert told[task.task_id]["detail"]["waitlist_position"] == place
        self.before = now


MaterialAssistanceMachine.TestCase.settings = provider_machine.SETTINGS
# Any order of requests, cancellations, completions and budget changes keeps the money right.
TestMaterialAssistanceKeepsItsPromises = MaterialAssistanceMachine.TestCase

"""Any order of requests, cancellations, discharges and bed changes keeps the shelter's promises.

Hypothesis drives the real handlers and repository on a SQLite file of its own
per example, and after every step reads the database to check each promise.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st

from korpu_contracts.vocabulary import TaskStatus
from korpu_provider.tasks import HOLDING
from shelter.adapters import facilities as directory_table
from shelter.adapters import tables
from shelter.bootstrap import SERVICE
from shelter.domain import model
from support import provider_machine

REGIONS = ["Baku", "Ganja"]
SERVES = [
    ["women"],
    ["men"],
    ["families"],
    ["girls", "boys"],
    ["girls"],
    ["women", "girls"],
    ["men", "boys"],
    ["women", "men", "girls", "boys"],
]

people = st.fixed_dictionaries(
    {
        "region": st.sampled_from(REGIONS),
        "is_child": st.booleans(),
        "sex": st.sampled_from(["female", "male", "unknown"]),
        "age_years": st.one_of(st.none(), st.integers(min_value=12, max_value=40)),
        "accompanying_children": st.sampled_from([0, 0, 1]),
    }
)
shelters = st.lists(
    st.fixed_dictionaries(
        {
            "region": st.sampled_from(REGIONS),
            "serves": st.sampled_from(SERVES),
            "beds": st.integers(min_value=0, max_value=2),
        }
    ),
    min_size=1,
    max_size=4,
)


class ShelterMachine(provider_machine.ProviderMachine):
    provider = provider_machine.on_the_kit(SERVICE, tables, unit="Shelter", capacity="beds")
    people = people
    entries_drawn = shelters

    # --- the promises, read from the database after every step ------------------

    def check(self, conn: sa.Connection) -> None:
        facilities = directory_table.directory(conn, lock=False)
        rows = list(conn.execute(sa.select(tables.tasks)))
        now = {row.task_id: (row.status, row.facility_id) for row in rows}
        placed_now = {
            task_id
            for task_id, (status, _) in now.items()
            if status == TaskStatus.ACCEPTED and self.before.get(task_id, ("",))[0] != status
        }
        waiting = [
            SERVICE.provider.request_of(row) for row in rows if row.status == TaskStatus.ON_HOLD
        ]
        for facility in facilities.values():
            holding = [r for r in rows if r.status in HOLDING and r.facility_id == facility.id]
            assert facility.occupied == len(holding), "occupied counts the people placed"
            if facility.occupied > facility.beds:
                # Beds were cut below occupancy: nobody new may be placed there.
                assert not placed_now & {r.task_id for r in holding}
        for row in rows:
            assert row.awaiting_request or row.status != TaskStatus.REQUESTED, "every task decided"
            if row.status not in HOLDING:
                continue
            person, where = SERVICE.provider.request_of(row), facilities[row.facility_id]
            assert where.serves & person.categories, "placed where their category is served"
            if person.is_child:
                assert where.serves <= model.CHILD_CATEGORIES, "a child never among adults"
            if row.task_id in placed_now:
                # Served in order: nobody who was already waiting, is still, and whom
                # this bed could take came first.
                assert not [
                    w
                    for w in waiting
                    if self.before.get(w.task_id, ("",))[0] == TaskStatus.ON_HOLD
                    and model.serves(where, w)
                    and provider_machine.priority(w) < provider_machine.priority(person)
                ]
        for person in waiting:
            free = [f for f in facilities.values() if model.serves(f, person) and f.free_beds]
            assert not free, "nobody waits while a bed that serves them is free"
        self._check_positions(conn, rows, waiting, list(facilities.values()))
        self.before = now

    def _check_positions(
        self,
        conn: sa.Connection,
        rows: list[Any],
        waiting: list[model.BedRequest],
        facilities: list[model.Facility],
    ) -> None:
        def place(person: model.BedRequest) -> int:
            return provider_machine.position(person, waiting, facilities, model.serves)

        told = self.last_answers(conn)
        for row in rows:
            if row.awaiting_request:
                continue
            answer = told[row.task_id]
            assert answer["status"] == row.status, "the referrer was told what the task is"
            if row.status == TaskStatus.ON_HOLD:
                position = place(SERVICE.provider.request_of(row))
                assert answer["detail"]["waitlist_position"] == position
                assert row.announced_position == position
        # Among people wanting the same beds, places run 1..n: children, then longest waiting.
        for categories in {person.categories for person in waiting}:
            group = sorted(
                (p for p in waiting if p.categories == categories), key=provider_machine.priority
            )
            positions = [place(p) for p in group]
            assert positions == sorted(set(positions)), (categories, positions)


ShelterMachine.TestCase.settings = provider_machine.SETTINGS
# Any order of requests, cancellations, discharges and bed changes keeps every promise.
TestShelterKeepsItsPromises = ShelterMachine.TestCase

"""Any order of requests, cancellations, completions and seat changes keeps employment's promises.

Hypothesis drives the real handlers and repository on a SQLite file of its own
per example, and after every step reads the database to check each promise.
"""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import strategies as st

from employment.adapters import programs as directory_table
from employment.adapters import tables
from employment.bootstrap import SERVICE
from employment.domain import model
from korpu_contracts.vocabulary import TaskStatus
from korpu_provider.tasks import HOLDING, Row
from support import provider_machine

REGIONS = ["Baku", "Ganja"]
LANGUAGES = ["az", "ru", "en"]

people = st.fixed_dictionaries(
    {
        "region": st.sampled_from(REGIONS),
        "is_child": st.booleans(),
        "sex": st.sampled_from(["female", "male", "unknown"]),
        "age_years": st.one_of(st.none(), st.integers(min_value=14, max_value=40)),
        "languages": st.lists(st.sampled_from([*LANGUAGES, "vi"]), max_size=2, unique=True),
    }
)
programs = st.lists(
    st.fixed_dictionaries(
        {
            "region": st.sampled_from(REGIONS),
            "seats": st.integers(min_value=0, max_value=2),
            "languages": st.lists(st.sampled_from(LANGUAGES), max_size=2, unique=True),
            "min_age": st.sampled_from([0, 16, 17, 18]),
        }
    ),
    min_size=1,
    max_size=4,
)


class EmploymentMachine(provider_machine.ProviderMachine):
    provider = provider_machine.on_the_kit(SERVICE, tables, unit="Program", capacity="seats")
    people = people
    entries_drawn = programs

    # --- the promises, read from the database after every step ------------------

    def check(self, conn: sa.Connection) -> None:
        by_id = directory_table.directory(conn, lock=False)
        rows = list(conn.execute(sa.select(tables.tasks)))
        now = {task.task_id: str(task.status) for task in rows}
        enrolled_now = {
            task_id
            for task_id, status in now.items()
            if status == TaskStatus.ACCEPTED and self.before.get(task_id) != status
        }
        waiting = [
            SERVICE.provider.request_of(task) for task in rows if task.status == TaskStatus.ON_HOLD
        ]
        for program in by_id.values():
            holding = [t for t in rows if t.status in HOLDING and t.program_id == program.id]
            assert program.enrolled == len(holding), "enrolled counts the people holding a seat"
            if program.enrolled > program.seats:
                # Seats were cut below enrolment: nobody new may be enrolled there.
                assert not enrolled_now & {t.task_id for t in holding}
        for task in rows:
            assert not task.requested or task.status != TaskStatus.REQUESTED, "every task decided"
            if task.status not in HOLDING:
                continue
            assert task.program_id is not None
            person, program = SERVICE.provider.request_of(task), by_id[task.program_id]
            _assert_admitted(program, person)
            if task.task_id in enrolled_now:
                # Served in order: nobody who was already waiting, is still, and whom
                # this seat could take came first.
                assert not [
                    w
                    for w in waiting
                    if self.before.get(w.task_id) == TaskStatus.ON_HOLD
                    and model.admits(program, w)
                    and provider_machine.priority(w) < provider_machine.priority(person)
                ]
        for person in waiting:
            free = [p for p in by_id.values() if model.admits(p, person) and p.free_seats]
            assert not free, "nobody waits while a program that admits them has a free seat"
        self._check_positions(conn, rows, waiting, list(by_id.values()))
        self.before = now

    def _check_positions(
        self,
        conn: sa.Connection,
        rows: list[Row],
        waiting: list[model.SeatRequest],
        every_program: list[model.Program],
    ) -> None:
        told = self.last_answers(conn)
        for task in rows:
            if not task.requested:
                continue
            answer = told[task.task_id]
            assert answer["status"] == task.status, "the referrer was told what the task is"
            if task.status == TaskStatus.ON_HOLD:
                position = provider_machine.position(
                    SERVICE.provider.request_of(task), waiting, every_program, model.admits
                )
                assert answer["detail"]["waitlist_position"] == position
                assert task.announced_position == position

        # Among people the same programs would take, places rise: children, then longest waiting.
        def admitted_by(person: model.SeatRequest) -> frozenset[str]:
            return frozenset(p.id for p in every_program if model.admits(p, person))

        for programs_wanted in {admitted_by(person) for person in waiting}:
            group = sorted(
                (p for p in waiting if admitted_by(p) == programs_wanted),
                key=provider_machine.priority,
            )
            positions = [
                provider_machine.position(p, waiting, every_program, model.admits) for p in group
            ]
            assert positions == sorted(set(positions)), positions

    # --- reading back ----------------------------------------------------------

    def _all_task_ids(self, conn: sa.Connection) -> list[str]:
        return list(conn.execute(sa.select(tables.tasks.c.task_id)).scalars())


def _assert_admitted(program: model.Program, person: model.SeatRequest) -> None:
    """The program's rules, stated here in the field's words rather than taken from the domain."""
    if program.min_age > 0:
        # An adult of no known age (the agency said: not a minor) is at least 18.
        age = model.ADULT_AGE if person.age_years is None and not person.is_child else None
        age = person.age_years if age is None else age
        assert age is not None, "a child of unknown age only where there is no minimum"
        assert age >= program.min_age, "never under the minimum age"
        # A person presumed a child is at most 17, whatever age was written down.
        assert not person.is_child or program.min_age < model.ADULT_AGE
    assert not program.languages or program.languages & person.languages, "a shared language"


EmploymentMachine.TestCase.settings = provider_machine.SETTINGS
# Any order of requests, cancellations, completions and seat changes keeps every promise.
TestEmploymentKeepsItsPromises = EmploymentMachine.TestCase

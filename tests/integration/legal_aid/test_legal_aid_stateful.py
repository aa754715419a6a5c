"""Any order of requests, cancellations, case ends and caseload changes keeps legal aid's promises.

Hypothesis drives the real handlers and repository on a SQLite file of its own
per example, and after every step reads the database to check each promise.
"""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import strategies as st

from korpu_contracts.vocabulary import TaskStatus
from korpu_provider.tasks import HOLDING
from korpu_provider.tasks import Row as TaskRow
from legal_aid.adapters import tables
from legal_aid.bootstrap import SERVICE
from legal_aid.domain import model
from support import provider_machine

# Spelt as agencies and seed files may: a region is one place whatever its case.
REGIONS = ["Baku", "Ganja", "baku"]
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
lawyers = st.lists(
    st.fixed_dictionaries(
        {
            "regions": st.lists(st.sampled_from(REGIONS), min_size=1, max_size=2, unique=True),
            "languages": st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2, unique=True),
            "max_caseload": st.integers(min_value=0, max_value=2),
        }
    ),
    min_size=1,
    max_size=3,
)


class LegalAidMachine(provider_machine.ProviderMachine):
    provider = provider_machine.on_the_kit(SERVICE, tables, unit="Lawyer", capacity="max_caseload")
    people = people
    entries_drawn = lawyers

    # --- the promises, read from the database after every step ------------------

    def check(self, conn: sa.Connection) -> None:
        by_id = SERVICE.provider.directory(conn, lock=False)
        rows = list(conn.execute(sa.select(tables.tasks)))
        now = {row.task_id: row.status for row in rows}
        assigned_now = {
            task_id
            for task_id, status in now.items()
            if status == TaskStatus.ACCEPTED and self.before.get(task_id) != status
        }
        waiting = [
            SERVICE.provider.request_of(row) for row in rows if row.status == TaskStatus.ON_HOLD
        ]
        for lawyer in by_id.values():
            holding = [r for r in rows if r.status in HOLDING and r.lawyer_id == lawyer.id]
            assert lawyer.caseload == len(holding), "the caseload counts the open cases"
            if lawyer.caseload > lawyer.max_caseload:
                # The cap was cut below the caseload: no new case for this lawyer.
                assert not assigned_now & {r.task_id for r in holding}
        for row in rows:
            assert row.region is None or row.status != TaskStatus.REQUESTED, "every task decided"
            if row.status not in HOLDING:
                continue
            person, lawyer = SERVICE.provider.request_of(row), by_id[row.lawyer_id]
            assert person.region in lawyer.regions, "a lawyer only where the person is"
            shared = bool(lawyer.languages & person.languages)
            assert row.interpreter_needed == (not shared), "an interpreter when no shared language"
            if row.task_id in assigned_now:
                # Served in order: nobody who was already waiting, is still, and whom
                # this lawyer could take came first.
                assert not [
                    w
                    for w in waiting
                    if self.before.get(w.task_id) == TaskStatus.ON_HOLD
                    and w.region in lawyer.regions
                    and provider_machine.priority(w) < provider_machine.priority(person)
                ]
        for person in waiting:
            free = [
                lw
                for lw in by_id.values()
                if person.region in lw.regions and lw.caseload < lw.max_caseload
            ]
            assert not free, "nobody waits while a lawyer of their region has room"
        self._check_positions(conn, rows, waiting, list(by_id.values()))
        self.before = now

    def _check_positions(
        self,
        conn: sa.Connection,
        rows: list[TaskRow],
        waiting: list[model.CaseRequest],
        lawyers: list[model.Lawyer],
    ) -> None:
        def place(person: model.CaseRequest) -> int:
            return provider_machine.position(person, waiting, lawyers, model.covers)

        told = self.last_answers(conn)
        for row in rows:
            if row.region is None:
                continue  # a cancellation still waiting for its request: nothing told yet
            answer = told[row.task_id]
            assert answer["status"] == row.status, "the referrer was told what the task is"
            if row.status == TaskStatus.ON_HOLD:
                position = place(SERVICE.provider.request_of(row))
                assert answer["detail"]["waitlist_position"] == position
                assert row.announced_position == position
        # People of one region compete for the same lawyers: their places rise, children
        # first, then longest waiting (others from regions a lawyer shares may come between).
        for region in {person.region for person in waiting}:
            line = sorted((p for p in waiting if p.region == region), key=provider_machine.priority)
            positions = [place(p) for p in line]
            assert positions == sorted(set(positions)), (region, positions)


LegalAidMachine.TestCase.settings = provider_machine.SETTINGS
# Any order of requests, cancellations, case ends and cap changes keeps every promise.
TestLegalAidKeepsItsPromises = LegalAidMachine.TestCase

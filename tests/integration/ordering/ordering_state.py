"""A run's final state: each task as the referral service and its provider see it, each place."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from ordering_scenario import World
from sqlalchemy.engine import Connection

from employment.adapters import repository as employment_repository
from employment.adapters import tables as employment_tables
from employment.domain import waitlist as employment_waitlist
from korpu_contracts.vocabulary import Service, TaskStatus
from legal_aid.adapters import repository as legal_aid_repository
from legal_aid.adapters import tables as legal_aid_tables
from legal_aid.domain import waitlist as legal_aid_waitlist
from referral.adapters.repository import ReferralRepository
from referral.adapters.tables import referrals
from shelter.adapters import repository as shelter_repository
from shelter.adapters import tables as shelter_tables
from shelter.domain import waitlist as shelter_waitlist

# (agency reference, service): the same task in two runs, whose ids differ.
Key = tuple[str, str]


@dataclass(frozen=True)
class Answer:
    status: str
    reason: str | None
    # The place in line while on hold; None otherwise.
    position: int | None


def answer(status: str, reason: str | None, position: Any) -> Answer:
    on_hold = status == TaskStatus.ON_HOLD
    return Answer(status, reason, int(position) if on_hold and position is not None else None)


@dataclass(frozen=True)
class Place:
    """A bed facility, a program or a lawyer: how much of it is used, and by how many tasks."""

    capacity: int
    used: int
    holders: int
    # Someone waiting whom this place would take, while it has room.
    idle_while_waiting: bool


@dataclass(frozen=True)
class Snapshot:
    referrals: dict[str, str]
    # Each task as the referral service records it, and as its provider does.
    coordinator: dict[Key, Answer]
    providers: dict[Key, Answer]
    # Provider tasks that are still only a tombstone: a cancellation whose request never came.
    tombstones: list[Key]
    places: dict[str, Place]


def snapshot(world: World) -> Snapshot:
    labels = world.labels()
    statuses, coordinator = world.nodes["referral"].database.transaction(_referral_side)
    provider_answers: dict[Key, Answer] = {}
    tombstones: list[Key] = []
    places: dict[str, Place] = {}
    for service, read in _PROVIDERS.items():
        rows, service_places = world.nodes[service].database.transaction(read)
        for row, tombstone in rows:
            key = (labels.get(row.referral_id, row.referral_id), str(service))
            if tombstone:
                tombstones.append(key)
            provider_answers[key] = answer(row.status, row.reason, row.announced_position)
        places |= {f"{service}: {name}": place for name, place in service_places.items()}
    return Snapshot(
        referrals={labels[rid]: status for rid, status in statuses.items()},
        coordinator={(labels[rid], service): a for (rid, service), a in coordinator.items()},
        providers=provider_answers,
        tombstones=sorted(tombstones),
        places=places,
    )


def _referral_side(conn: Connection) -> tuple[dict[str, str], dict[Key, Answer]]:
    repository = ReferralRepository(conn)
    statuses: dict[str, str] = {}
    answers: dict[Key, Answer] = {}
    for row in conn.execute(sa.select(referrals.c.id, referrals.c.status)):
        statuses[row.id] = row.status
        for task in repository.tasks(row.id).values():
            reason = None if task.reason is None else str(task.reason)
            position = task.detail.get("waitlist_position")
            answers[(row.id, str(task.service))] = answer(str(task.status), reason, position)
    return statuses, answers


Rows = list[tuple[sa.Row[Any], bool]]


def _count_holders(conn: Connection, column: sa.Column[Any]) -> Counter[str]:
    table = column.table
    query = sa.select(column).where(table.c.status == TaskStatus.ACCEPTED)
    return Counter(value for (value,) in conn.execute(query))


def _shelter(conn: Connection) -> tuple[Rows, dict[str, Place]]:
    tasks = shelter_tables.tasks
    rows = [(row, bool(row.awaiting_request)) for row in conn.execute(sa.select(tasks))]
    repository = shelter_repository.ShelterRepository(conn)
    holders = _count_holders(conn, tasks.c.facility_id)
    waiting = repository.waiting()
    places = {
        f.name: Place(
            f.beds,
            f.occupied,
            holders[f.id],
            shelter_waitlist.next_for_bed(f, waiting) is not None,
        )
        for f in repository.facilities()
    }
    return rows, places


def _employment(conn: Connection) -> tuple[Rows, dict[str, Place]]:
    tasks = employment_tables.tasks
    rows = [(row, not row.requested) for row in conn.execute(sa.select(tasks))]
    repository = employment_repository.Repository(conn)
    holders = _count_holders(conn, tasks.c.program_id)
    waiting = repository.waiting()
    places = {
        p.name: Place(
            p.seats,
            p.enrolled,
            holders[p.id],
            employment_waitlist.next_for_seat(p, waiting) is not None,
        )
        for p in repository.programs()
    }
    return rows, places


def _legal_aid(conn: Connection) -> tuple[Rows, dict[str, Place]]:
    tasks = legal_aid_tables.tasks
    rows = [(row, row.region is None) for row in conn.execute(sa.select(tasks))]
    repository = legal_aid_repository.Repository(conn)
    holders = _count_holders(conn, tasks.c.lawyer_id)
    waiting = repository.waiting()
    places = {
        lawyer.name: Place(
            lawyer.max_caseload,
            lawyer.caseload,
            holders[lawyer.id],
            legal_aid_waitlist.next_for_lawyer(lawyer, waiting) is not None,
        )
        for lawyer in repository.lawyers()
    }
    return rows, places


_PROVIDERS = {
    Service.SHELTER: _shelter,
    Service.EMPLOYMENT: _employment,
    Service.LEGAL_AID: _legal_aid,
}

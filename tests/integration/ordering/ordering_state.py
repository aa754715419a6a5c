"""A run's final state: each task as the referral service and its provider see it, each place."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from ordering_scenario import World
from sqlalchemy.engine import Connection

from employment import bootstrap as employment_bootstrap
from korpu_contracts.vocabulary import Service, TaskStatus
from korpu_provider import waitlist
from korpu_provider.bootstrap import Entrypoints
from korpu_provider.tasks import is_tombstone
from legal_aid import bootstrap as legal_aid_bootstrap
from referral.adapters.repository import ReferralRepository
from referral.adapters.tables import referrals
from shelter import bootstrap as shelter_bootstrap

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


def _provider_side(
    entrypoints: Entrypoints,
) -> Callable[[Connection], tuple[Rows, dict[str, Place]]]:
    """Every task row of a provider (tombstone or not) and each of its places' use."""
    provider, tasks = entrypoints.provider, entrypoints.provider.tasks

    def read(conn: Connection) -> tuple[Rows, dict[str, Place]]:
        rows = [(row, is_tombstone(row)) for row in conn.execute(sa.select(tasks.table))]
        held = tasks.table.c[tasks.holds]
        accepted = sa.select(held).where(tasks.table.c.status == TaskStatus.ACCEPTED)
        holders = Counter(value for (value,) in conn.execute(accepted))
        waiting = [provider.request_of(row) for row in tasks.waiting(conn)]
        places = {
            entry.name: Place(
                *_use(entry),
                holders[entry.id],
                waitlist.next_for(entry, waiting, provider.serves) is not None,
            )
            for entry in provider.directory(conn, lock=False).values()
        }
        return rows, places

    return read


def _use(entry: Any) -> tuple[int, int]:
    """(capacity, used) of a facility, a program or a lawyer."""
    if hasattr(entry, "beds"):
        return entry.beds, entry.occupied
    if hasattr(entry, "seats"):
        return entry.seats, entry.enrolled
    return entry.max_caseload, entry.caseload


_PROVIDERS = {
    Service.SHELTER: _provider_side(shelter_bootstrap.SERVICE),
    Service.EMPLOYMENT: _provider_side(employment_bootstrap.SERVICE),
    Service.LEGAL_AID: _provider_side(legal_aid_bootstrap.SERVICE),
}

"""What every service's database holds after a chaos run, read straight from the tables.

Read with plain SQL rather than the services' repositories: the check must not
share a bug with the code it checks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from korpu import catalog


@dataclass(frozen=True)
class PlaceKind:
    """Where one provider keeps its places and who holds one."""

    table: str
    capacity: str
    used: str
    task_column: str


PLACES = {
    "shelter": PlaceKind("facilities", "beds", "occupied", "facility_id"),
    "employment": PlaceKind("programs", "seats", "enrolled", "program_id"),
    "legal_aid": PlaceKind("lawyers", "max_caseload", "caseload", "lawyer_id"),
    "psychological": PlaceKind("counsellors", "max_caseload", "caseload", "counsellor_id"),
    # Whole allowances: integer division in SQLite and PostgreSQL alike.
    "material_assistance": PlaceKind(
        "funds", "budget / amount_per_person", "committed / amount_per_person", "fund_id"
    ),
}


@dataclass(frozen=True)
class Place:
    name: str
    capacity: int
    used: int  # the provider's own counter
    holders: int  # accepted tasks pointing at this place


@dataclass(frozen=True)
class ProviderLedger:
    service: str
    # referral id -> every status its tasks have here (one, unless something ran twice)
    tasks: dict[str, list[str]]
    places: list[Place]
    unpublished: int

    def statuses(self) -> Counter[str]:
        return Counter(status for found in self.tasks.values() for status in found)


@dataclass(frozen=True)
class ReferralLedger:
    referrals: int
    # (referral id, service) -> how many task rows
    tasks: Counter[tuple[str, str]]
    unpublished: int


def database_url(service: str) -> str:
    """The service's database, from the same environment `korpu up` reads."""
    return catalog.settings(service).database_url


def _engine(service: str) -> sa.Engine:
    return sa.create_engine(database_url(service))


def _unpublished(conn: sa.Connection) -> int:
    found = conn.execute(sa.text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
    return int(found.scalar_one())


def read_referral() -> ReferralLedger:
    engine = _engine("referral")
    try:
        with engine.connect() as conn:
            referrals = int(conn.execute(sa.text("SELECT count(*) FROM referrals")).scalar_one())
            rows = conn.execute(sa.text("SELECT referral_id, service FROM tasks"))
            tasks = Counter((str(referral_id), str(service)) for referral_id, service in rows)
            return ReferralLedger(referrals, tasks, _unpublished(conn))
    finally:
        engine.dispose()


def read_provider(service: str) -> ProviderLedger:
    kind = PLACES[service]
    engine = _engine(service)
    try:
        with engine.connect() as conn:
            tasks: dict[str, list[str]] = {}
            holders: Counter[str] = Counter()
            rows = conn.execute(
                sa.text(f"SELECT referral_id, status, {kind.task_column} FROM tasks")
            )
            for referral_id, status, place in rows:
                tasks.setdefault(str(referral_id), []).append(str(status))
                if status == "accepted" and place is not None:
                    holders[str(place)] += 1
            places = [
                Place(str(name), int(cap), int(used), holders[str(place_id)])
                for place_id, name, cap, used in conn.execute(
                    sa.text(f"SELECT id, name, {kind.capacity}, {kind.used} FROM {kind.table}")
                )
            ]
            return ProviderLedger(service, tasks, places, _unpublished(conn))
    finally:
        engine.dispose()

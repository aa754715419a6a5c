"""What case workers read: the directory with its use, and one task's state."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import TaskStatus
from shelter.adapters.repository import ShelterRepository, bed_request
from shelter.domain import waitlist


def facilities(conn: Connection) -> list[dict[str, Any]]:
    return [
        {
            "id": facility.id,
            "name": facility.name,
            "region": facility.region,
            "serves": sorted(facility.serves),
            "beds": facility.beds,
            "occupied": facility.occupied,
            "free": facility.free_beds,
            "child_unit": facility.child_unit,
            "accepts_pregnant": facility.accepts_pregnant,
            "accessible": facility.accessible,
        }
        for facility in ShelterRepository(conn).facilities()
    ]


def task(conn: Connection, task_id: str) -> dict[str, Any] | None:
    """None for a task never requested (a tombstone alone is not a task yet)."""
    repository = ShelterRepository(conn)
    row = repository.task(task_id)
    if row is None or row.awaiting_request:
        return None
    position = None
    if row.status == TaskStatus.ON_HOLD:
        # Computed now, not stored: it moves whenever someone ahead is placed or leaves.
        position = waitlist.waitlist_position(bed_request(row), repository.waiting())
    facility = None
    if row.facility_id is not None:
        found = next(f for f in repository.facilities() if f.id == row.facility_id)
        facility = {"id": found.id, "name": found.name, "region": found.region}
    return {
        "task_id": row.task_id,
        "referral_id": row.referral_id,
        "status": row.status,
        "reason": row.reason,
        "facility": facility,
        "waitlist_position": position,
    }

"""A provider's room and waitlist by region, for /metrics: counts only, never who.

Waiting is the kit's to count (the tasks on hold, by the region each asked for). Room
is the provider's domain: a bed, a seat, a case or an appointment, in one region or
several. A provider says it with `room(entry)`; the kit adds the entries up by region.
An entry serving several regions (a lawyer) counts in each: the places someone in that
region could be given, not a total to add across regions.

Optional, unlike the `Provider` protocol's methods: a provider without `room` still
runs, and shows its waitlist without its free places (the contract suite asks every
provider for it). Rejected: reading the directory's view, whose rows each provider
spells its own way (`free`, `free_seats`; `region`, `regions`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple, Protocol, runtime_checkable

from sqlalchemy.engine import Connection

from korpu_provider.handlers import AnyProvider
from korpu_runtime import metrics as runtime_metrics


class Room(NamedTuple):
    """The regions an entry serves (their codes) and the places it could give now."""

    regions: frozenset[str]
    free: int


@runtime_checkable
class CountsRoom(Protocol):
    def room(self, entry: Any) -> Room:
        """The entry's room now: where, and how many more people it could take."""


def free_by_region(provider: AnyProvider, conn: Connection) -> Counter[str] | None:
    """Free places by region; None for a provider that does not say its room."""
    if not isinstance(provider, CountsRoom):
        return None
    free: Counter[str] = Counter()
    for entry in provider.directory(conn, lock=False).values():
        room = provider.room(entry)
        for region in room.regions:
            free[region] += max(room.free, 0)
    return free


def reading(provider: AnyProvider) -> runtime_metrics.Reading:
    """The provider's gauges, read in the scrape's transaction."""

    def read(conn: Connection, metrics: runtime_metrics.Metrics) -> None:
        runtime_metrics.counts(metrics.waiting, provider.tasks.waiting_by_region(conn))
        free = free_by_region(provider, conn)
        if free is not None:
            runtime_metrics.counts(metrics.free_places, free)

    return read

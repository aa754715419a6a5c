"""A provider's room and waitlist by region, for /metrics: counts only, never who.

Waiting is the kit's to count (the tasks on hold, by the region each asked for). Room
is the provider's domain: a bed, a seat, a case, an appointment or an allowance, in one
region or several. A provider says it with `free_places(entry)` (`Provider`); the kit
adds the entries up by region. An entry serving several regions (a lawyer) counts in
each: the places someone in that region could be given, not a total to add across
regions. Rejected: reading the directory's view, whose rows each provider spells its
own way (`free`, `free_seats`; `region`, `regions`).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.engine import Connection

from korpu_runtime import metrics as runtime_metrics

if TYPE_CHECKING:
    from korpu_provider.handlers import AnyProvider


class FreePlaces(NamedTuple):
    """The regions an entry serves (their codes) and the places it could give now."""

    regions: frozenset[str]
    free: int


def free_by_region(provider: AnyProvider, conn: Connection) -> Counter[str]:
    """Free places by region, every entry's added up."""
    free: Counter[str] = Counter()
    for entry in provider.directory(conn, lock=False).values():
        places = provider.free_places(entry)
        for region in places.regions:
            free[region] += max(places.free, 0)
    return free


def reading(provider: AnyProvider) -> runtime_metrics.Reading:
    """The provider's gauges, read in the scrape's transaction."""

    def read(conn: Connection, metrics: runtime_metrics.Metrics) -> None:
        runtime_metrics.counts(metrics.waiting, provider.tasks.waiting_by_region(conn))
        runtime_metrics.counts(metrics.free_places, free_by_region(provider, conn))

    return read

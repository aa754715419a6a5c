"""A provider's room and waitlist by region, for /metrics and `GET /v1/capacity`: counts
only, never who.

Waiting is the kit's to count (the tasks on hold, by the region each asked for). Room
is the provider's domain: a bed, a seat, a case, an appointment or an allowance, in one
region or several. A provider says it with `free_places(entry)` (`Provider`): what the
entry has, what is taken and what it could give now; the kit adds the entries up by
region. An entry serving several regions (a lawyer) counts in
each: the places someone in that region could be given, not a total to add across
regions. Rejected: reading the directory's view, whose rows each provider spells its
own way (`free`, `free_seats`; `region`, `regions`).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.engine import Connection

from korpu_contracts import capacity as contract
from korpu_runtime import metrics as runtime_metrics

if TYPE_CHECKING:
    from korpu_provider.handlers import AnyProvider


class FreePlaces(NamedTuple):
    """The regions an entry serves (their codes), the places it could give now, and its
    places in all and in use.

    `free` is the provider's own count, not `capacity - taken`: a capacity cut below
    what is in use leaves none free (not a negative), and a clinic's day booked over
    its cap takes no room from another day.
    """

    regions: frozenset[str]
    free: int
    capacity: int
    taken: int


class Totals(NamedTuple):
    capacity: int
    taken: int
    free: int


def free_by_region(provider: AnyProvider, conn: Connection) -> Counter[str]:
    """Free places by region, every entry's added up."""
    return Counter(
        {region: totals.free for region, totals in totals_by_region(provider, conn).items()}
    )


def totals_by_region(provider: AnyProvider, conn: Connection) -> dict[str, Totals]:
    """Capacity, taken and free places by region, every entry's added up."""
    found: dict[str, Totals] = {}
    for entry in provider.directory(conn, lock=False).values():
        places = provider.free_places(entry)
        for region in places.regions:
            before = found.get(region, Totals(0, 0, 0))
            found[region] = Totals(
                before.capacity + max(places.capacity, 0),
                before.taken + max(places.taken, 0),
                before.free + max(places.free, 0),
            )
    return found


def by_region(provider: AnyProvider, conn: Connection) -> contract.Capacity:
    """What `GET /v1/capacity` answers: every region with an entry or someone waiting.

    A region where people wait for an entry nobody has is shown with no capacity:
    that is the gap the console is for.
    """
    totals = totals_by_region(provider, conn)
    waiting = provider.tasks.waiting_by_region(conn)
    rows = [
        contract.RegionCapacity(
            region=region,
            **totals.get(region, Totals(0, 0, 0))._asdict(),
            waiting=waiting.get(region, 0),
        )
        for region in sorted(set(totals) | set(waiting))
    ]
    return contract.Capacity(service=str(provider.service), unit=provider.place_unit, regions=rows)


def reading(provider: AnyProvider) -> runtime_metrics.Reading:
    """The provider's gauges, read in the scrape's transaction."""

    def read(conn: Connection, metrics: runtime_metrics.Metrics) -> None:
        runtime_metrics.counts(metrics.waiting, provider.tasks.waiting_by_region(conn))
        runtime_metrics.counts(metrics.free_places, free_by_region(provider, conn))

    return read

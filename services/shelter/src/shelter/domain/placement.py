"""Decide a bed request: place, waitlist or reject, against the facilities as they are now."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shelter.domain import model, waitlist


def decide(
    request: model.BedRequest,
    facilities: Iterable[model.Facility],
    waiting: Sequence[model.BedRequest],
) -> model.Decision:
    """Place in a facility that serves the person and has a free bed; else waitlist; else reject.

    `waiting` is the current waitlist, needed for the position when no bed is free.
    """
    facilities = list(facilities)
    suitable = [f for f in facilities if model.serves(f, request)]
    if not suitable:
        return model.Rejected(model.NOT_ELIGIBLE, model.unmet(request, facilities))
    with_bed = [f for f in suitable if f.free_beds > 0]
    if not with_bed:
        return model.Waitlisted(position=waitlist.waitlist_position(request, waiting))
    chosen = min(with_bed, key=lambda f: _preference(request, f))
    return model.Placed(facility_id=chosen.id, in_requested_region=chosen.region == request.region)


def _preference(request: model.BedRequest, facility: model.Facility) -> tuple[bool, int, str, str]:
    # Requested region first; out of region beats waiting, since a bed tonight is the need.
    # Then most free beds, to spread load and keep room in small facilities; name then id
    # only to make the choice reproducible.
    return (facility.region != request.region, -facility.free_beds, facility.name, facility.id)

"""Decide a bed request: place, waitlist or reject, against the facilities as they are now."""

from __future__ import annotations

from collections.abc import Iterable

from korpu_provider.decisions import Decision, Refuse, give_or_wait
from shelter.domain import model


def decide(request: model.BedRequest, facilities: Iterable[model.Facility]) -> Decision:
    """Place in a facility that serves the person and has a free bed; else waitlist; else reject.

    A refusal says what no facility offers (`model.unmet`) in its detail.
    """
    facilities = list(facilities)
    suitable = [f for f in facilities if model.serves(f, request)]
    if not suitable:
        return Refuse(model.NOT_ELIGIBLE, {"unmet": model.unmet(request, facilities)})
    return give_or_wait(suitable, lambda f: _preference(request, f))


def _preference(request: model.BedRequest, facility: model.Facility) -> tuple[bool, int, str, str]:
    # Requested region first; out of region beats waiting, since a bed tonight is the need.
    # Then most free beds, to spread load and keep room in small facilities; name then id
    # only to make the choice reproducible.
    return (facility.region != request.region, -facility.free_beds, facility.name, facility.id)

"""Decide a request for psychological help: a counsellor, the waitlist, or a refusal."""

from __future__ import annotations

from collections.abc import Iterable

from korpu_provider import caseworkers
from korpu_provider.decisions import Decision, Refuse
from psychological.domain import model


def decide(request: model.CaseRequest, counsellors: Iterable[model.Counsellor]) -> Decision:
    """The least loaded counsellor of the region who may take the person, a common
    language first, else one with an interpreter (`caseworkers.least_loaded`); all at
    their cap: the waitlist.

    No counsellor in the region is out of service area, as for legal aid: a
    counsellor in another city is no help to a person housed here.

    A child with counsellors in the region but none for children is not eligible,
    also when counsellors for children work elsewhere. Rejected: out of service
    area in that case, which would send the referrer looking for a counsellor in
    another region for a child housed here, and would make a child's answer depend
    on who is seeded in regions the child never goes to. Not eligible says what is
    true here: no one in this region may counsel a child.
    """
    local = [counsellor for counsellor in counsellors if caseworkers.covers(counsellor, request)]
    if not local:
        return Refuse(model.OUT_OF_SERVICE_AREA)
    allowed = [counsellor for counsellor in local if model.serves(counsellor, request)]
    if not allowed:
        return Refuse(model.NOT_ELIGIBLE)
    return caseworkers.least_loaded(request, allowed)

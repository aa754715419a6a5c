"""Decide a case request: assign a lawyer, waitlist or reject, against caseloads as they are now."""

from __future__ import annotations

from collections.abc import Iterable

from korpu_provider.decisions import Decision, Refuse, give_or_wait
from legal_aid.domain import model


def decide(request: model.CaseRequest, lawyers: Iterable[model.Lawyer]) -> Decision:
    """Assign the least loaded lawyer of the region, a common language first; else waitlist.

    No lawyer in the region at all is out of service area: unlike a bed, legal
    aid is not sent to another region, because the case is heard where the person is.
    Whether an interpreter is needed is the provider's `take` to say (`model.needs_interpreter`).
    """
    local = [lawyer for lawyer in lawyers if model.covers(lawyer, request)]
    if not local:
        return Refuse(model.OUT_OF_SERVICE_AREA)
    return give_or_wait(local, lambda lawyer: _preference(request, lawyer))


def _preference(
    request: model.CaseRequest, lawyer: model.Lawyer
) -> tuple[bool, int, float, str, str]:
    # A lawyer sharing a language first, whatever their load; then the fewest open
    # cases, since each case is the lawyer's time whatever the cap; then the lower
    # share of the cap, to keep part-time lawyers from filling up; name then id only
    # to make the choice reproducible.
    return (
        model.needs_interpreter(lawyer, request),
        lawyer.caseload,
        lawyer.load,
        lawyer.name,
        lawyer.id,
    )

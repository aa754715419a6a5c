"""Decide a case request: assign a lawyer, waitlist or reject, against caseloads as they are now."""

from __future__ import annotations

from collections.abc import Iterable

from korpu_provider import caseworkers
from korpu_provider.decisions import Decision, Refuse
from legal_aid.domain import model


def decide(request: model.CaseRequest, lawyers: Iterable[model.Lawyer]) -> Decision:
    """Assign the least loaded lawyer of the region, a common language first; else waitlist
    (`caseworkers.least_loaded`).

    No lawyer in the region at all is out of service area: unlike a bed, legal
    aid is not sent to another region, because the case is heard where the person is.
    Whether an interpreter is needed is the provider's `take` to say (`model.needs_interpreter`).
    """
    local = [lawyer for lawyer in lawyers if model.covers(lawyer, request)]
    if not local:
        return Refuse(model.OUT_OF_SERVICE_AREA)
    return caseworkers.least_loaded(request, local)

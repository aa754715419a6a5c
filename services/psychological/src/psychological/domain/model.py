"""Psychological help's values: counsellors and their caseloads (the kit's `caseworkers`)."""

from __future__ import annotations

from dataclasses import dataclass

from korpu_provider import caseworkers

# Reason codes as plain strings: the domain knows no contract; the service layer maps them.
OUT_OF_SERVICE_AREA = "out_of_service_area"
NOT_ELIGIBLE = "not_eligible"

CaseRequest = caseworkers.CaseRequest


@dataclass(frozen=True)
class Counsellor(caseworkers.Caseworker):
    """A counsellor giving psychological assistance (CoE art. 12(1)(b)) in some regions,
    up to a caseload cap; `children` when trained and cleared to counsel children."""

    children: bool = False


def serves(counsellor: Counsellor, request: CaseRequest) -> bool:
    """Whether the counsellor may take the person at all, room or not: where the person
    is, and a child only with a counsellor for children."""
    return caseworkers.covers(counsellor, request) and (counsellor.children or not request.is_child)

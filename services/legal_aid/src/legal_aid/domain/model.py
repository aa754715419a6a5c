"""Legal aid values: lawyers and their caseloads, a case request (the kit's `caseworkers`)."""

from __future__ import annotations

from dataclasses import dataclass

from korpu_provider import caseworkers

# Reason codes as plain strings: the domain knows no contract; the service layer maps them.
OUT_OF_SERVICE_AREA = "out_of_service_area"


@dataclass(frozen=True)
class Lawyer(caseworkers.Caseworker):
    """A lawyer giving free legal aid (CoE art. 15) in some regions, up to a caseload cap."""


CaseRequest = caseworkers.CaseRequest
covers = caseworkers.covers
needs_interpreter = caseworkers.needs_interpreter

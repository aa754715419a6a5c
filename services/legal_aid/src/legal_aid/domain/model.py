"""Legal aid values: lawyers and their caseloads, a case request, and the decisions on it."""

from __future__ import annotations

from dataclasses import dataclass

# Reason codes as plain strings: the domain knows no contract; the service layer maps them.
OUT_OF_SERVICE_AREA = "out_of_service_area"


@dataclass(frozen=True)
class Lawyer:
    """A lawyer giving free legal aid (CoE art. 15) in some regions, up to a caseload cap."""

    id: str
    name: str
    regions: frozenset[str]
    languages: frozenset[str]
    max_caseload: int
    caseload: int

    @property
    def has_room(self) -> bool:
        return self.caseload < self.max_caseload

    @property
    def load(self) -> float:
        # A lawyer with a zero cap takes no case; reading that as full keeps the division safe.
        return self.caseload / self.max_caseload if self.max_caseload > 0 else 1.0


@dataclass(frozen=True)
class CaseRequest:
    """What the legal aid service knows of a person: coarse, never identifying.

    `queued_seq` grows with arrival time; lower waited longer.
    """

    task_id: str
    region: str
    languages: frozenset[str]
    is_child: bool
    queued_seq: int


def covers(lawyer: Lawyer, request: CaseRequest) -> bool:
    """Whether the lawyer works where the person is, room or not."""
    return request.region in lawyer.regions


def needs_interpreter(lawyer: Lawyer, request: CaseRequest) -> bool:
    # Translation is part of the minimum assistance (CoE art. 12), so no common
    # language means an interpreter, never a refusal.
    return not lawyer.languages & request.languages

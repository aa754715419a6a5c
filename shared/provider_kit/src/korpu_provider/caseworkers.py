"""People who take cases up to a cap (lawyers, counsellors): who covers a region, who is chosen.

Plain values in the standard library only, like `decisions`, so that a provider's
domain may use them (`lint-imports` checks both). The SQL of their caseloads is
`caseloads`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from korpu_provider.decisions import Give, Wait, give_or_wait


@dataclass(frozen=True)
class Caseworker:
    """Someone who takes cases in some regions, up to a caseload cap."""

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
        # A zero cap takes no case; reading that as full keeps the division safe.
        return self.caseload / self.max_caseload if self.max_caseload > 0 else 1.0


@dataclass(frozen=True)
class CaseRequest:
    """What the provider knows of a person: coarse, never identifying.

    `queued_seq` grows with arrival time; lower waited longer.
    """

    task_id: str
    region: str
    languages: frozenset[str]
    is_child: bool
    queued_seq: int


W = TypeVar("W", bound=Caseworker)


def covers(worker: Caseworker, request: CaseRequest) -> bool:
    """Whether the caseworker works where the person is, room or not."""
    return request.region in worker.regions


def needs_interpreter(worker: Caseworker, request: CaseRequest) -> bool:
    # Translation is part of the minimum assistance (CoE art. 12), so no common
    # language means an interpreter, never a refusal.
    return not worker.languages & request.languages


def least_loaded(request: CaseRequest, eligible: Sequence[W]) -> Give | Wait:
    """The eligible caseworker with room the person is best given to; none with room: wait."""
    return give_or_wait(eligible, lambda worker: _preference(request, worker))


def _preference(request: CaseRequest, worker: Caseworker) -> tuple[bool, int, float, str, str]:
    # One sharing a language first, whatever their load; then the fewest open
    # cases, since each case is the caseworker's time whatever the cap; then the
    # lower share of the cap, to keep part-timers from filling up; name then id
    # only to make the choice reproducible.
    return (
        needs_interpreter(worker, request),
        worker.caseload,
        worker.load,
        worker.name,
        worker.id,
    )

"""Decide a seat request: enrol, waitlist or reject, against the programs as they are now."""

from __future__ import annotations

from collections.abc import Iterable

from employment.domain import model
from korpu_provider.decisions import Decision, Refuse, give_or_wait


def decide(request: model.SeatRequest, programs: Iterable[model.Program]) -> Decision:
    """Enrol in a program that admits the person and has a free seat; else waitlist; else reject."""
    admitting = [p for p in programs if model.admits(p, request)]
    if not admitting:
        return Refuse(model.NOT_ELIGIBLE)
    return give_or_wait(admitting, lambda p: _preference(request, p))


def _preference(request: model.SeatRequest, program: model.Program) -> tuple[bool, int, str, str]:
    # Requested region first, then most free seats to spread load; name then id only to
    # make the choice reproducible.
    return (program.region != request.region, -program.free_seats, program.name, program.id)

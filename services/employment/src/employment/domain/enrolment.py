"""Decide a seat request: enrol, waitlist or reject, against the programs as they are now."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from employment.domain import model, waitlist


def decide(
    request: model.SeatRequest,
    programs: Iterable[model.Program],
    waiting: Sequence[model.SeatRequest],
) -> model.Decision:
    """Enrol in a program that admits the person and has a free seat; else waitlist; else reject.

    `waiting` is the current waitlist, needed for the position when no seat is free.
    """
    admitting = [p for p in programs if model.admits(p, request)]
    if not admitting:
        return model.Rejected(reason=model.NOT_ELIGIBLE)
    with_seat = [p for p in admitting if p.free_seats > 0]
    if not with_seat:
        position = waitlist.waitlist_position(request, waiting, admitting)
        return model.Waitlisted(position=position)
    chosen = min(with_seat, key=lambda p: _preference(request, p))
    return model.Enrolled(program_id=chosen.id, in_requested_region=chosen.region == request.region)


def _preference(request: model.SeatRequest, program: model.Program) -> tuple[bool, int, str, str]:
    # Requested region first, then most free seats to spread load; name then id only to
    # make the choice reproducible.
    return (program.region != request.region, -program.free_seats, program.name, program.id)

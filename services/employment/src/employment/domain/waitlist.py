"""Who waits for a program seat in what order, and who gets a seat that frees up."""

from __future__ import annotations

from collections.abc import Iterable

from employment.domain import model


def priority(request: model.SeatRequest) -> tuple[bool, int, str]:
    """Sort key: children first (CoE art. 10), then the longest waiting; task id breaks ties."""
    return (not request.is_child, request.queued_seq, request.task_id)


def ordered(waiting: Iterable[model.SeatRequest]) -> list[model.SeatRequest]:
    return sorted(waiting, key=priority)


def next_for_seat(
    program: model.Program, waiting: Iterable[model.SeatRequest]
) -> model.SeatRequest | None:
    """The waiting person the program admits who gets its free seat, or None.

    Region is not asked, as in `enrolment.decide`, which enrols out of region
    when the person's own region is full. None when no seat is free.
    """
    if program.free_seats == 0:
        return None
    return next((r for r in ordered(waiting) if model.admits(program, r)), None)


def waitlist_position(
    request: model.SeatRequest,
    waiting: Iterable[model.SeatRequest],
    programs: Iterable[model.Program],
) -> int:
    """1-based place of `request` among the people it competes with.

    A competitor is a waiting person admitted by at least one program that also
    admits the request. The request itself may or may not be in `waiting`; it is
    counted once either way.
    """
    mine = [p for p in programs if model.admits(p, request)]
    ahead = sum(
        1
        for other in waiting
        if other.task_id != request.task_id
        and priority(other) < priority(request)
        and any(model.admits(p, other) for p in mine)
    )
    return ahead + 1

"""Who waits for a shelter bed in what order, and who gets a bed that frees up."""

from __future__ import annotations

from collections.abc import Iterable

from shelter.domain import model


def priority(request: model.BedRequest) -> tuple[bool, int, str]:
    """Sort key: children first, then the longest waiting; task id only to make ties stable.

    Children go first because their best interests come first (CoE art. 10);
    we rejected a separate children's queue because a mixed facility would then
    need a rule to choose between the two queues, which is this rule anyway.
    """
    return (not request.is_child, request.queued_seq, request.task_id)


def ordered(waiting: Iterable[model.BedRequest]) -> list[model.BedRequest]:
    return sorted(waiting, key=priority)


def next_for_bed(
    facility: model.Facility, waiting: Iterable[model.BedRequest]
) -> model.BedRequest | None:
    """The waiting person who gets a free bed in this facility, or None.

    Region is not asked: `placement.decide` already places a person out of region
    when their own is full, so a waiting person takes a bed anywhere.
    None when the facility has no free bed, so a stale call never overfills it.
    """
    if facility.free_beds == 0:
        return None
    return next((r for r in ordered(waiting) if model.serves(facility, r)), None)


def waitlist_position(request: model.BedRequest, waiting: Iterable[model.BedRequest]) -> int:
    """1-based place of `request` among the people it competes with.

    A competitor is a waiting person sharing at least one category with the
    request (a woman and a person of unknown sex compete for women's beds; a
    woman and a girl never do). The request itself may or may not be in
    `waiting`; it is counted once either way.
    """
    mine = request.categories
    ahead = sum(
        1
        for other in waiting
        if other.task_id != request.task_id
        and other.categories & mine
        and priority(other) < priority(request)
    )
    return ahead + 1

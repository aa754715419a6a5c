"""Who waits for a lawyer in what order, and whose case a lawyer with room takes next."""

from __future__ import annotations

from collections.abc import Iterable

from legal_aid.domain import model


def priority(request: model.CaseRequest) -> tuple[bool, int, str]:
    """Sort key: children first (CoE art. 10), then the longest waiting; task id breaks ties.

    A shared language does not move anyone up: we rejected that because people
    speaking a rare language would wait for ever; an interpreter is provided instead.
    """
    return (not request.is_child, request.queued_seq, request.task_id)


def ordered(waiting: Iterable[model.CaseRequest]) -> list[model.CaseRequest]:
    return sorted(waiting, key=priority)


def next_for_lawyer(
    lawyer: model.Lawyer, waiting: Iterable[model.CaseRequest]
) -> model.NextCase | None:
    """The first waiting person in one of the lawyer's regions, or None (also when at the cap)."""
    if not lawyer.has_room:
        return None
    request = next((r for r in ordered(waiting) if model.covers(lawyer, r)), None)
    if request is None:
        return None
    return model.NextCase(request, model.needs_interpreter(lawyer, request))


def waitlist_position(request: model.CaseRequest, waiting: Iterable[model.CaseRequest]) -> int:
    """1-based place of `request` among waiting people of the same region.

    Same region is the competition because lawyers are matched by region only.
    The request itself may or may not be in `waiting`; it is counted once either way.
    """
    ahead = sum(
        1
        for other in waiting
        if other.task_id != request.task_id
        and other.region == request.region
        and priority(other) < priority(request)
    )
    return ahead + 1

"""Who waits in what order, and each waiting person's place in line.

The order: children first (their best interests come first, CoE art. 10), then
the longest waiting; the task id only makes ties stable. Rejected: a separate
children's queue, since a mixed resource would then need a rule to choose
between the queues, which is this rule anyway.

A position counts everyone ahead who competes for the same capacity: a waiting
person whom at least one directory entry serving this person also serves (room
or not; `Provider.serves`). So a girl and a boy waiting for the same children's
beds are 1 and 2, never both 1; a woman and a man who share no shelter are each
first in their own line. Rejected: counting per category or per region, which
told two people waiting for the same bed that each was next.

A freed place goes to the first in that order whom its entry serves. Region is
not asked: a domain that places out of region when the person's own is full
(shelter, employment) would give them that place anyway; one that never does
(legal aid) says so in `serves`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from korpu_provider.decisions import Room


class Waiting(Protocol):
    """What the order needs of a provider's request."""

    @property
    def task_id(self) -> str: ...
    @property
    def is_child(self) -> bool: ...
    @property
    def queued_seq(self) -> int: ...


W = TypeVar("W", bound=Waiting)
D = TypeVar("D")
R = TypeVar("R", bound=Room)


def priority(request: Waiting) -> tuple[bool, int, str]:
    return (not request.is_child, request.queued_seq, request.task_id)


def ordered(waiting: Iterable[W]) -> list[W]:
    return sorted(waiting, key=priority)


def next_for(entry: R, waiting: Iterable[W], serves: Callable[[R, W], bool]) -> W | None:
    """Who gets the entry's freed place: the first in line it serves, or None.

    None too when it has no room, so that a stale call never overfills it.
    """
    if not entry.has_room:
        return None
    return next((request for request in ordered(waiting) if serves(entry, request)), None)


def positions(
    requests: Sequence[W],
    waiting: Sequence[W],
    directory: Iterable[D],
    serves: Callable[[D, W], bool],
) -> list[int]:
    """The 1-based place of each of `requests` among `waiting`, by the module's rule.

    A request may or may not be in `waiting`; it is counted once either way.
    O(directory x people) calls of `serves`, then set intersections.
    """
    entries = list(directory)

    def served_by(request: W) -> frozenset[int]:
        return frozenset(i for i, entry in enumerate(entries) if serves(entry, request))

    theirs = {other.task_id: (priority(other), served_by(other)) for other in waiting}
    places = []
    for request in requests:
        mine, key = served_by(request), priority(request)
        ahead = sum(
            1
            for task_id, (other_key, other_served) in theirs.items()
            if task_id != request.task_id and other_key < key and mine & other_served
        )
        places.append(ahead + 1)
    return places

"""A domain's decision on a request: give an entry, wait in line, or refuse.

Plain values, and the one choice every domain makes (`give_or_wait`), in the
standard library only, so that a provider's domain may use them without
importing a framework (`lint-imports` checks both). A decision to wait carries
no position: the kit counts positions (`waitlist`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeVar

NO_CAPACITY = "no_capacity"


@dataclass(frozen=True)
class Give:
    """The domain chose this directory entry for the person."""

    entry_id: str


@dataclass(frozen=True)
class Wait:
    """Nothing free now: on hold, in the kit's order (`waitlist`)."""

    reason: str = NO_CAPACITY


@dataclass(frozen=True)
class Refuse:
    reason: str
    # Why, when the domain says more than the reason (the shelter's `unmet`).
    detail: dict[str, str | int | bool | None] | None = None


Decision: TypeAlias = Give | Wait | Refuse


class Room(Protocol):
    """What a choice needs of a directory entry: its id, and whether it has room now."""

    @property
    def id(self) -> str: ...
    @property
    def has_room(self) -> bool: ...


E = TypeVar("E", bound=Room)


def give_or_wait(eligible: Sequence[E], preference: Callable[[E], Any]) -> Give | Wait:
    """The entry the domain prefers among the eligible ones with room; none with room: wait.

    `eligible` are the entries that may take the person at all. When there are
    none, the domain refuses before, with its own reason and detail.
    """
    with_room = [entry for entry in eligible if entry.has_room]
    if not with_room:
        return Wait()
    return Give(min(with_room, key=preference).id)

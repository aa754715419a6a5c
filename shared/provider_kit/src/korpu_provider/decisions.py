"""A domain's decision on a request: give an entry, wait in line, or refuse.

Plain values, standard library only, so that a provider's domain may return
them without importing a framework (`lint-imports` checks both). A decision to
wait carries no position: the kit counts positions (`waitlist`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

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

"""Employment values: programs and their seats, a seat request, and the decisions on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

# Reason codes as plain strings: the domain knows no contract; the service layer maps them.
NO_CAPACITY = "no_capacity"
NOT_ELIGIBLE = "not_eligible"

ADULT_AGE = 18


@dataclass(frozen=True)
class Program:
    """A vocational training or job placement program (CoE art. 12(4)).

    An empty `languages` set means the program is taught in whatever language is needed.
    """

    id: str
    name: str
    region: str
    seats: int
    enrolled: int
    languages: frozenset[str]
    min_age: int

    @property
    def free_seats(self) -> int:
        # Seats can be cut below enrolment; that is zero free, not negative.
        return max(0, self.seats - self.enrolled)


@dataclass(frozen=True)
class SeatRequest:
    """What the employment service knows of a person: coarse, never identifying.

    `age_years` is None when unknown. `queued_seq` grows with arrival time; lower waited longer.
    """

    task_id: str
    region: str
    age_years: int | None
    is_child: bool
    languages: frozenset[str]
    queued_seq: int


def known_age(request: SeatRequest) -> int | None:
    """The age we may rely on: a person presumed a child is at most 17, whatever else was said.

    CoE art. 10(3) presumes a child when in doubt; an age that contradicts the
    presumption must not open an adults-only program. With no age at all, an
    adult (the agency said there is no reason to think them a child) is at
    least 18, and a child is of no age we may rely on.
    """
    if request.age_years is None:
        return None if request.is_child else ADULT_AGE
    if request.is_child:
        return min(request.age_years, ADULT_AGE - 1)
    return request.age_years


def admits(program: Program, request: SeatRequest) -> bool:
    """Whether the program may take this person at all, free seat or not."""
    age = known_age(request)
    # Unknown age is only safe where there is no minimum.
    old_enough = program.min_age == 0 if age is None else age >= program.min_age
    speaks = not program.languages or bool(program.languages & request.languages)
    return old_enough and speaks


@dataclass(frozen=True)
class Enrolled:
    program_id: str
    in_requested_region: bool


@dataclass(frozen=True)
class Waitlisted:
    position: int
    reason: str = NO_CAPACITY


@dataclass(frozen=True)
class Rejected:
    reason: str


Decision: TypeAlias = Enrolled | Waitlisted | Rejected

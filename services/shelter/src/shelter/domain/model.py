"""Shelter values: who a facility serves, its beds, a bed request and the decisions on it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

# Reason codes as plain strings: the domain knows no contract; the service layer maps them.
NO_CAPACITY = "no_capacity"
NOT_ELIGIBLE = "not_eligible"

FEMALE = "female"
MALE = "male"


class Category(StrEnum):
    """Target population of a facility (Open Referral capacity entries)."""

    WOMEN = "women"
    MEN = "men"
    GIRLS = "girls"
    BOYS = "boys"
    FAMILIES = "families"


CHILD_CATEGORIES = frozenset({Category.GIRLS, Category.BOYS})
ADULT_CATEGORIES = frozenset({Category.WOMEN, Category.MEN, Category.FAMILIES})


def categories_for(is_child: bool, sex: str, accompanying_children: int) -> frozenset[Category]:
    """The categories a person may be placed in; any one of them is enough.

    A child's categories are child categories and nothing else, even a minor
    parent's: a family shelter is an adult service. Where a child may sleep at
    all is `houses_children`'s to say. An adult with children goes
    to a family shelter only, not to a women's or men's one, because providers
    told us single-adult shelters often cannot take a parent with children.
    When sex is other or unknown we offer both single-sex categories rather than
    refuse: the facility, not the algorithm, knows whether it can take the person.
    """
    if is_child:
        return _by_sex(sex, female=Category.GIRLS, male=Category.BOYS)
    if accompanying_children > 0:
        return frozenset({Category.FAMILIES})
    return _by_sex(sex, female=Category.WOMEN, male=Category.MEN)


def _by_sex(sex: str, *, female: Category, male: Category) -> frozenset[Category]:
    if sex == FEMALE:
        return frozenset({female})
    if sex == MALE:
        return frozenset({male})
    return frozenset({female, male})


@dataclass(frozen=True)
class Facility:
    id: str
    name: str
    region: str
    serves: frozenset[Category]
    beds: int
    occupied: int

    @property
    def free_beds(self) -> int:
        # Capacity can be cut below occupancy (a closed room); that is zero free, not negative.
        return max(0, self.beds - self.occupied)


@dataclass(frozen=True)
class BedRequest:
    """What the shelter service knows of a person asking for a bed: coarse, never identifying.

    `queued_seq` grows with arrival time (a database sequence); lower waited longer.
    """

    task_id: str
    region: str
    is_child: bool
    sex: str
    accompanying_children: int
    queued_seq: int

    @property
    def categories(self) -> frozenset[Category]:
        return categories_for(self.is_child, self.sex, self.accompanying_children)


def serves(facility: Facility, request: BedRequest) -> bool:
    """Whether the facility may take this person at all, free bed or not."""
    if request.is_child:
        # Belt and braces for the one rule that must never break: only child categories count.
        wanted = request.categories & CHILD_CATEGORIES
        return houses_children(facility) and bool(facility.serves & wanted)
    return bool(facility.serves & request.categories)


def houses_children(facility: Facility) -> bool:
    """Whether a child may sleep here: never with unrelated adults (CoE art. 11(2)).

    So no adult category may be served, a family one included: the families are
    not the child's. Rejected: reading "girls" in a women's shelter's list as
    enough, which housed a girl of 15 among adult women. A separate children's
    unit, once the directory can say a facility has one, is the other way in.
    """
    return not facility.serves & ADULT_CATEGORIES


@dataclass(frozen=True)
class Placed:
    facility_id: str
    in_requested_region: bool


@dataclass(frozen=True)
class Waitlisted:
    position: int
    reason: str = NO_CAPACITY


@dataclass(frozen=True)
class Rejected:
    reason: str


Decision: TypeAlias = Placed | Waitlisted | Rejected

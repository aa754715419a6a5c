"""Who a directory entry serves: the categories of people, and the ones a person is in.

One vocabulary for every provider whose entries serve some people only (a shelter's
beds, a clinic's appointments), so that a seed file says "women" or "girls" the same
way everywhere. Plain values in the standard library only, like `decisions`, so that
a provider's domain may use them (`lint-imports` checks both).
"""

from __future__ import annotations

from enum import StrEnum

FEMALE = "female"
MALE = "male"


class Category(StrEnum):
    """Target population of an entry (Open Referral capacity entries)."""

    WOMEN = "women"
    MEN = "men"
    GIRLS = "girls"
    BOYS = "boys"
    # Adults with their children: housing, not a person (the shelter's rule).
    FAMILIES = "families"


CHILDREN = frozenset({Category.GIRLS, Category.BOYS})
# An entry serving any of these serves adults.
ADULTS = frozenset({Category.WOMEN, Category.MEN, Category.FAMILIES})


def of_person(is_child: bool, sex: str) -> frozenset[Category]:
    """The categories a person is in by age and sex alone; any one of them is enough.

    A child is a girl or a boy and nothing else. When sex is other or unknown both
    are offered rather than refused: the entry, not the algorithm, knows whether it
    can take the person.
    """
    female, male = (Category.GIRLS, Category.BOYS) if is_child else (Category.WOMEN, Category.MEN)
    if sex == FEMALE:
        return frozenset({female})
    if sex == MALE:
        return frozenset({male})
    return frozenset({female, male})

"""Shelter values: who a facility serves, its beds, a bed request and the decisions on it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from korpu_provider import categories

# Reason codes as plain strings: the domain knows no contract; the service layer maps them.
NOT_ELIGIBLE = "not_eligible"

# The categories are every provider's vocabulary (korpu_provider.categories); the
# shelter adds its one rule about families (`categories_for`).
Category = categories.Category
CHILD_CATEGORIES = categories.CHILDREN
# Adults are served: a facility serving any houses no child outside a children's unit.
ADULT_CATEGORIES = categories.ADULTS

# Why no facility may take the person at all (`unmet`), told in a refusal's detail.
UNMET_CATEGORY = "served_category"
UNMET_PREGNANCY = "pregnancy"
UNMET_ACCESSIBILITY = "accessibility"


def categories_for(is_child: bool, sex: str, accompanying_children: int) -> frozenset[Category]:
    """The categories a person may be placed in; any one of them is enough.

    A child's categories are child categories and nothing else, even a minor
    parent's. Where a child may sleep at all is `houses_children`'s to say. An
    adult with children goes to a family shelter only, not to a women's or
    men's one, because providers told us single-adult shelters often cannot
    take a parent with children. Otherwise the person's own categories
    (`categories.of_person`: both single-sex ones when sex is other or unknown).
    """
    if not is_child and accompanying_children > 0:
        return frozenset({Category.FAMILIES})
    return categories.of_person(is_child, sex)


@dataclass(frozen=True)
class Facility:
    id: str
    name: str
    # An ISO 3166-2 code (korpu_contracts.regions), as the request's.
    region: str
    serves: frozenset[Category]
    beds: int
    occupied: int
    # A separate children's unit: a child may sleep here though adults are served.
    child_unit: bool = False
    # "Some agencies do not accept pregnant women": true unless the directory says so.
    accepts_pregnant: bool = True
    # Step-free, with a room and bathroom a person with a disability can use.
    accessible: bool = False

    @property
    def free_beds(self) -> int:
        # Capacity can be cut below occupancy (a closed room); that is zero free, not negative.
        return max(0, self.beds - self.occupied)

    @property
    def has_room(self) -> bool:
        return self.free_beds > 0


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
    pregnant: bool = False
    disability: bool = False

    @property
    def categories(self) -> frozenset[Category]:
        return categories_for(self.is_child, self.sex, self.accompanying_children)


def serves(facility: Facility, request: BedRequest) -> bool:
    """Whether the facility may take this person at all, free bed or not."""
    return serves_category(facility, request) and meets_needs(facility, request)


def serves_category(facility: Facility, request: BedRequest) -> bool:
    """Whether the facility serves people like this one: sex, age, with children or not."""
    if request.is_child:
        # Belt and braces for the one rule that must never break: only child categories count.
        wanted = request.categories & CHILD_CATEGORIES
        return houses_children(facility) and bool(facility.serves & wanted)
    return bool(facility.serves & request.categories)


def meets_needs(facility: Facility, request: BedRequest) -> bool:
    """Never a pregnant woman where pregnancy is not accepted; a disability only if accessible."""
    if request.pregnant and not facility.accepts_pregnant:
        return False
    return facility.accessible or not request.disability


def houses_children(facility: Facility) -> bool:
    """Whether a child may sleep here: never with unrelated adults (CoE art. 11(2)).

    Either no adult is served (only girls or boys), or the facility has a
    separate children's unit (`child_unit`). A family shelter serves adults:
    the parents there are not the child's. Rejected: reading "boys" in a men's
    shelter's list as enough, which housed a boy of 15 with three adult men;
    and counting "families" as a children's category, which would house a
    child among other children's parents.
    """
    return facility.child_unit or not facility.serves & ADULT_CATEGORIES


def unmet(request: BedRequest, facilities: Iterable[Facility]) -> str:
    """Why no facility may take the person, for a refusal's detail (`UNMET_*`).

    The category first: a facility of another category is no help whatever
    else it offers. Then the needs no facility of the category meets; both when
    each is met somewhere but never together.
    """
    of_category = [f for f in facilities if serves_category(f, request)]
    if not of_category:
        return UNMET_CATEGORY
    missing = []
    if request.pregnant and not any(f.accepts_pregnant for f in of_category):
        missing.append(UNMET_PREGNANCY)
    if request.disability and not any(f.accessible for f in of_category):
        missing.append(UNMET_ACCESSIBILITY)
    return "_and_".join(missing or [UNMET_PREGNANCY, UNMET_ACCESSIBILITY])


Detail = dict[str, str | int | bool | None]


def placement_detail(facility: Facility, requested_region: str | None) -> Detail:
    """What the referrer is told of a bed: where, and whether outside the region asked for.

    `out_of_region` only when true, so that an answer inside the region reads
    as it always did. The region is the facility's code; the person's other help
    follows it (docs/domain.md).
    """
    detail: Detail = {"facility": facility.name, "region": facility.region}
    if requested_region is not None and facility.region != requested_region:
        detail["out_of_region"] = True
    return detail
